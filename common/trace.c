/* common/trace.c - Chrome trace-event JSON, recorded per thread, written at the end; see trace.h.
 *
 * Each thread owns a buffer (a list of chunks of events) and is the only one to append to it; the
 * count of a chunk is published with a release store, so the writer (at exit, in a signal handler,
 * in the watchdog's thread) reads every finished event and never a half-written one.  Buffers are
 * pushed on one list (a compare-and-swap) and never freed: the writer may run at any moment.
 * A forked child inherits the list; its events carry its own pid, and it writes only those.
 */
#include "trace.h"
#include "prog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_EVENTS 1024
#define NAME_LEN 48
#define SIM_TRACKS 32
#define SIM_TID_BASE 900000000 /* fake thread ids of the simulated-time tracks */
#define TRACKS 1024
#define TRACK_TID_BASE 800000000 /* fake thread ids of the named tracks (lab_trace_track) */

struct ev {
    uint64_t ts;      /* CLOCK_MONOTONIC, ns */
    uint64_t dur;     /* 'X': ns */
    uint64_t id;      /* flows */
    long long value;  /* 'C' */
    const char *cat;  /* a string literal, or NULL */
    int tid;          /* 0: the buffer's thread; else a simulated track */
    char ph;          /* B E i C X, 'b'/'a' for the slice around a flow's tail/head, 'S'/'F' bare */
    char name[NAME_LEN];
};

struct chunk {
    struct ev ev[CHUNK_EVENTS];
    _Atomic size_t n;
    struct chunk *_Atomic next;
};

struct tbuf {
    pid_t pid, tid;
    char name[64];
    int track;                         /* lab_trace_use_track: 0, or a named track's number */
    struct chunk *first, *last;
    struct tbuf *next;
};

static atomic_bool on;
static char path[4096], dir[4096], base[4096];
static pid_t owner;
static pid_t cur_pid;                  /* getpid(), kept by the atfork handler */
static _Atomic pid_t written_by;       /* the process that wrote already, or is writing */
static _Atomic pid_t write_done;       /* the process whose file is complete and in its place */
static _Atomic pid_t writer_tid;       /* the thread writing it */
static _Atomic(struct tbuf *) head;
static __thread struct tbuf *mine;
static char proc_name[64];
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char track[NAME_LEN];
    uint64_t base_ns;
    pid_t pid;
} sims[SIM_TRACKS];                    /* guarded by sim_lock (read without it by the writer) */
static struct {
    char name[NAME_LEN];
    pid_t pid;
} tracks[TRACKS];                      /* named tracks, number k + 1: guarded by sim_lock too */
static _Atomic int ntracks;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void after_fork_child(void) { cur_pid = getpid(); }
static void at_exit_write(void) { lab_trace_write(); }

bool lab_trace_on(void) { return atomic_load_explicit(&on, memory_order_relaxed); }

int lab_trace_open(const char *p)
{
    size_t len = strlen(p);
    if (len == 0 || len + 32 >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    memcpy(path, p, len + 1);
    const char *slash = strrchr(path, '/');
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) + 1, path);
        snprintf(base, sizeof base, "%s", slash + 1);
    } else {
        snprintf(dir, sizeof dir, "./");
        snprintf(base, sizeof base, "%s", path);
    }
    owner = cur_pid = getpid();
    pthread_atfork(NULL, NULL, after_fork_child);
    atexit(at_exit_write);
    atomic_store(&on, true);
    return 0;
}

/* The calling thread's buffer (a new one in a new thread, or in a forked child); NULL when out of
 * memory (the event is dropped). */
static struct tbuf *my_buf(void)
{
    if (mine && mine->pid == cur_pid)
        return mine;
    struct tbuf *b = calloc(1, sizeof *b);
    struct chunk *c = calloc(1, sizeof *c);
    if (b == NULL || c == NULL) {
        free(b);
        free(c);
        return NULL;
    }
    b->pid = cur_pid;
    b->tid = (pid_t)syscall(SYS_gettid);
    if (b->tid == b->pid)
        snprintf(b->name, sizeof b->name, "MainThread");
    else
        snprintf(b->name, sizeof b->name, "thread %d", (int)b->tid);
    b->first = b->last = c;
    struct tbuf *old = atomic_load(&head);
    do
        b->next = old;
    while (!atomic_compare_exchange_weak(&head, &old, b));
    mine = b;
    return b;
}

/* A slot for one event, filled in by the caller and published by publish(). */
static struct ev *slot(struct tbuf **bp)
{
    struct tbuf *b = my_buf();
    if (b == NULL)
        return NULL;
    struct chunk *c = b->last;
    size_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    if (n == CHUNK_EVENTS) {
        struct chunk *nc = calloc(1, sizeof *nc);
        if (nc == NULL)
            return NULL;
        atomic_store_explicit(&c->next, nc, memory_order_release);
        b->last = c = nc;
        n = 0;
    }
    *bp = b;
    struct ev *e = &c->ev[n];
    memset(e, 0, sizeof *e);
    if (b->track)
        e->tid = TRACK_TID_BASE + b->track - 1;
    return e;
}

static void publish(struct tbuf *b)
{
    struct chunk *c = b->last;
    atomic_store_explicit(&c->n, atomic_load_explicit(&c->n, memory_order_relaxed) + 1, memory_order_release);
}

__attribute__((format(printf, 4, 0))) static void record(char ph, const char *cat, uint64_t id, const char *fmt,
                                                        va_list ap)
{
    struct tbuf *b;
    struct ev *e = slot(&b);
    if (e == NULL)
        return;
    e->ts = now_ns();
    e->ph = ph;
    e->cat = cat;
    e->id = id;
    if (fmt)
        vsnprintf(e->name, sizeof e->name, fmt, ap);
    publish(b);
}

void lab_trace_begin(const char *cat, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    va_list ap;
    va_start(ap, fmt);
    record('B', cat, 0, fmt, ap);
    va_end(ap);
}

void lab_trace_end(void)
{
    if (!lab_trace_on())
        return;
    struct tbuf *b;
    struct ev *e = slot(&b);
    if (e == NULL)
        return;
    e->ts = now_ns();
    e->ph = 'E';
    publish(b);
}

void lab_trace_instant(const char *cat, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    va_list ap;
    va_start(ap, fmt);
    record('i', cat, 0, fmt, ap);
    va_end(ap);
}

void lab_trace_flow_out(const char *cat, uint64_t id, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    va_list ap;
    va_start(ap, fmt);
    record('b', cat, id, fmt, ap);
    va_end(ap);
}

void lab_trace_flow_in(const char *cat, uint64_t id, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    va_list ap;
    va_start(ap, fmt);
    record('a', cat, id, fmt, ap);
    va_end(ap);
}

static void bare_flow(char ph, const char *cat, uint64_t id)
{
    struct tbuf *b;
    struct ev *e = slot(&b);
    if (e == NULL)
        return;
    e->ts = now_ns();
    e->ph = ph;
    e->cat = cat;
    e->id = id;
    publish(b);
}

void lab_trace_flow_tail(const char *cat, uint64_t id)
{
    if (lab_trace_on())
        bare_flow('S', cat, id);
}

void lab_trace_flow_head(const char *cat, uint64_t id)
{
    if (lab_trace_on())
        bare_flow('F', cat, id);
}

void lab_trace_counter(const char *name, long long value)
{
    if (!lab_trace_on())
        return;
    struct tbuf *b;
    struct ev *e = slot(&b);
    if (e == NULL)
        return;
    e->ts = now_ns();
    e->ph = 'C';
    e->value = value;
    snprintf(e->name, sizeof e->name, "%s", name);
    publish(b);
}

void lab_trace_sim(const char *track, double start_ticks, double len_ticks, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    uint64_t now = now_ns();
    int k;
    pthread_mutex_lock(&sim_lock);
    for (k = 0; k < SIM_TRACKS && sims[k].track[0]; k++)
        if (strncmp(sims[k].track, track, NAME_LEN - 1) == 0 && sims[k].pid == cur_pid)
            break;
    if (k < SIM_TRACKS && sims[k].track[0] == '\0') {
        sims[k].base_ns = now;
        sims[k].pid = cur_pid;
        snprintf(sims[k].track, sizeof sims[k].track, "%s", track);
    }
    uint64_t base_ns = k < SIM_TRACKS ? sims[k].base_ns : 0;
    pthread_mutex_unlock(&sim_lock);
    if (k == SIM_TRACKS)
        return;
    struct tbuf *b;
    struct ev *e = slot(&b);
    if (e == NULL)
        return;
    e->ph = 'X';
    e->tid = SIM_TID_BASE + k;
    e->ts = base_ns + (uint64_t)(start_ticks * 1e6);
    e->dur = (uint64_t)(len_ticks * 1e6);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
    publish(b);
}

void lab_trace_thread_name(const char *name)
{
    if (!lab_trace_on())
        return;
    struct tbuf *b = my_buf();
    if (b)
        snprintf(b->name, sizeof b->name, "%s", name);
}

int lab_trace_track(const char *name)
{
    if (!lab_trace_on())
        return 0;
    int k, n;
    pthread_mutex_lock(&sim_lock);
    n = atomic_load(&ntracks);
    for (k = 0; k < n; k++)
        if (tracks[k].pid == cur_pid && strncmp(tracks[k].name, name, NAME_LEN - 1) == 0)
            break;
    if (k == n && n < TRACKS) {
        snprintf(tracks[k].name, sizeof tracks[k].name, "%s", name);
        tracks[k].pid = cur_pid;
        atomic_store(&ntracks, n + 1);   /* published after the name: the writer reads without the lock */
    }
    pthread_mutex_unlock(&sim_lock);
    return k < TRACKS ? k + 1 : 0;
}

void lab_trace_use_track(int track)
{
    if (!lab_trace_on())
        return;
    struct tbuf *b = my_buf();
    if (b)
        b->track = track > 0 && track <= TRACKS ? track : 0;
}

void lab_trace_process_name(const char *name) { snprintf(proc_name, sizeof proc_name, "%s", name); }

/* ---- the writer: no malloc, no stdio, no lock (it may run in a signal handler) ---- */

static char obuf[1 << 16];
static size_t olen;
static int ofd = -1;

static void out_flush(void)
{
    size_t off = 0;
    while (off < olen) {
        ssize_t w = write(ofd, obuf + off, olen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    olen = 0;
}

static void out_ch(char c)
{
    if (olen == sizeof obuf)
        out_flush();
    obuf[olen++] = c;
}

static void out_str(const char *s)
{
    while (*s)
        out_ch(*s++);
}

static void out_json(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    out_ch('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out_ch('\\');
            out_ch((char)c);
        } else if (c < 0x20) {
            out_str("\\u00");
            out_ch(hex[c >> 4]);
            out_ch(hex[c & 15]);
        } else {
            out_ch((char)c);
        }
    }
    out_ch('"');
}

static void out_u64(uint64_t v)
{
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        out_ch(d[--n]);
}

static void out_ll(long long v)
{
    if (v < 0) {
        out_ch('-');
        out_u64((uint64_t)0 - (uint64_t)v);
    } else {
        out_u64((uint64_t)v);
    }
}

/* Nanoseconds as the format's microseconds, three decimals. */
static void out_us(uint64_t ns)
{
    out_u64(ns / 1000);
    out_ch('.');
    out_ch((char)('0' + ns % 1000 / 100));
    out_ch((char)('0' + ns % 100 / 10));
    out_ch((char)('0' + ns % 10));
}

/* ,\n{"ph":"X","pid":P,"tid":T,"ts":...  (the caller adds the rest and the closing brace) */
static void out_head(char ph, pid_t pid, long tid, uint64_t ts)
{
    out_str(",\n{\"ph\":\"");
    out_ch(ph);
    out_str("\",\"pid\":");
    out_ll(pid);
    out_str(",\"tid\":");
    out_ll(tid);
    out_str(",\"ts\":");
    out_us(ts);
}

static void out_meta(const char *what, pid_t pid, long tid, const char *name)
{
    out_str(",\n{\"ph\":\"M\",\"pid\":");
    out_ll(pid);
    out_str(",\"tid\":");
    out_ll(tid);
    out_str(",\"name\":\"");
    out_str(what);
    out_str("\",\"args\":{\"name\":");
    out_json(name);
    out_str("}}");
}

static void out_cat_name(const struct ev *e)
{
    if (e->cat) {
        out_str(",\"cat\":");
        out_json(e->cat);
    }
    out_str(",\"name\":");
    out_json(e->name);
}

/* The time of the next event after c->ev[i] on the same track of the buffer (within this chunk
 * and the next one), or 0 when there is none: only an arrow's slice needs it. */
static uint64_t next_on_track(const struct chunk *c, size_t i, size_t n)
{
    const struct ev *e = &c->ev[i];
    if (e->ph != 'a' && e->ph != 'b')
        return 0;
    for (size_t j = i + 1; j < n; j++)
        if (c->ev[j].tid == e->tid)
            return c->ev[j].ts;
    const struct chunk *d = atomic_load_explicit(&c->next, memory_order_acquire);
    if (d) {
        size_t m = atomic_load_explicit(&d->n, memory_order_acquire);
        for (size_t j = 0; j < m; j++)
            if (d->ev[j].tid == e->tid)
                return d->ev[j].ts;
    }
    return 0;
}

/* The end of the slice around an arrow's tail or head ('b'/'a'): 1 us, but never past the next
 * event of its track (end_before: that event's time, or 0 when none follows), so that a slice the
 * thread opens right after a put or a get does not overlap it (Perfetto would pair the ends
 * wrongly). */
static uint64_t arrow_end(uint64_t ts, uint64_t end_before)
{
    uint64_t end = ts + 1000;
    if (end_before > ts && end_before <= end)
        end = end_before - 1 > ts ? end_before - 1 : ts + 1;
    return end;
}

static void out_event(const struct tbuf *b, const struct ev *e, uint64_t end_before)
{
    long tid = e->tid ? e->tid : b->tid;
    switch (e->ph) {
    case 'E':
        out_head('E', b->pid, tid, e->ts);
        out_ch('}');
        break;
    case 'i':
        out_head('i', b->pid, tid, e->ts);
        out_cat_name(e);
        out_str(",\"s\":\"t\"}");
        break;
    case 'C':
        out_head('C', b->pid, tid, e->ts);
        out_str(",\"name\":");
        out_json(e->name);
        out_str(",\"args\":{\"value\":");
        out_ll(e->value);
        out_str("}}");
        break;
    case 'X':
        out_head('X', b->pid, tid, e->ts);
        out_str(",\"dur\":");
        out_us(e->dur);
        out_cat_name(e);
        out_ch('}');
        break;
    case 'b': /* the tail of an arrow: a 1 us slice holding a flow start */
    case 'a': /* its head: a 1 us slice holding the flow's end (bound to the enclosing slice) */
        out_head('B', b->pid, tid, e->ts);
        out_cat_name(e);
        out_ch('}');
        if (e->id == 0) {
            out_head('E', b->pid, tid, arrow_end(e->ts, end_before));
            out_ch('}');
            break;
        }
        out_head(e->ph == 'b' ? 's' : 'f', b->pid, tid, e->ts);
        out_str(",\"id\":");
        out_u64(e->id);
        out_str(",\"cat\":");
        out_json(e->cat ? e->cat : "flow");
        out_str(",\"name\":");
        out_json(e->cat ? e->cat : "flow");
        if (e->ph == 'a')
            out_str(",\"bp\":\"e\"");
        out_ch('}');
        out_head('E', b->pid, tid, arrow_end(e->ts, end_before));
        out_ch('}');
        break;
    case 'S': /* a bare tail or head: bound to the slice open on the track */
    case 'F':
        out_head(e->ph == 'S' ? 's' : 'f', b->pid, tid, e->ts);
        out_str(",\"id\":");
        out_u64(e->id);
        out_str(",\"cat\":");
        out_json(e->cat ? e->cat : "flow");
        out_str(",\"name\":");
        out_json(e->cat ? e->cat : "flow");
        out_str(e->ph == 'F' ? ",\"bp\":\"e\"}" : "}");
        break;
    default: /* 'B' */
        out_head('B', b->pid, tid, e->ts);
        out_cat_name(e);
        out_ch('}');
        break;
    }
}

/* Every event of this process: the names of its tracks, then each thread's events in order. */
static void out_process(pid_t me)
{
    char pname[160];
    if (proc_name[0])
        snprintf(pname, sizeof pname, "%s %.63s (pid %d)", lab_prog_name(), proc_name, (int)me);
    else if (me == owner)
        snprintf(pname, sizeof pname, "%s MainProcess (pid %d)", lab_prog_name(), (int)me);
    else if (lab_scenario_name())
        snprintf(pname, sizeof pname, "%s %.40s%s%.40s (pid %d)", lab_prog_name(), lab_scenario_name(),
                 lab_mode_name() ? " --mode=" : "", lab_mode_name() ? lab_mode_name() : "", (int)me);
    else
        snprintf(pname, sizeof pname, "%s child (pid %d)", lab_prog_name(), (int)me);
    out_meta("process_name", me, me, pname);
    for (int k = 0; k < SIM_TRACKS && sims[k].track[0]; k++)
        if (sims[k].pid == me) {
            char tname[128];
            snprintf(tname, sizeof tname, "%.47s (simulated: 1 tick = 1 ms)", sims[k].track);
            out_meta("thread_name", me, SIM_TID_BASE + k, tname);
        }
    for (int k = 0, n = atomic_load(&ntracks); k < n; k++)
        if (tracks[k].pid == me)
            out_meta("thread_name", me, TRACK_TID_BASE + k, tracks[k].name);
    for (struct tbuf *b = atomic_load(&head); b; b = b->next) {
        if (b->pid != me)
            continue;
        out_meta("thread_name", me, b->tid, b->name);
        for (struct chunk *c = b->first; c; c = atomic_load_explicit(&c->next, memory_order_acquire)) {
            size_t n = atomic_load_explicit(&c->n, memory_order_acquire);
            for (size_t i = 0; i < n; i++)
                out_event(b, &c->ev[i], next_on_track(c, i, n));
        }
    }
}

/* Append the children's fragments (DIR/BASE.part.PID, complete files only) and remove them. */
static void merge_fragments(void)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    char prefix[4200];
    int plen = snprintf(prefix, sizeof prefix, "%s.part.", base);
    char dents[4096];
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, dents, sizeof dents);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            unsigned short reclen;
            memcpy(&reclen, dents + off + 16, sizeof reclen);
            const char *name = dents + off + 19;
            off += reclen;
            size_t nl = strlen(name);
            if (strncmp(name, prefix, (size_t)plen) != 0 || (nl > 4 && strcmp(name + nl - 4, ".tmp") == 0))
                continue;
            int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            out_flush();
            ssize_t r;
            while ((r = read(fd, obuf, sizeof obuf)) > 0 || (r < 0 && errno == EINTR))
                if (r > 0) {
                    olen = (size_t)r;
                    out_flush();
                }
            close(fd);
            unlinkat(dfd, name, 0);
        }
    }
    close(dfd);
}

/* A second call while this process writes: from the writing thread itself, nothing; from another
 * thread (cleanup.c's handler, which raises the signal again when it returns), wait until the file
 * is complete and in its place, a bounded wait (10 s). */
static void wait_for_writer(pid_t me)
{
    if (atomic_load(&writer_tid) == (pid_t)syscall(SYS_gettid))
        return;
    struct timespec ms = { 0, 1000000 };
    for (int i = 0; i < 10000 && atomic_load(&write_done) != me; i++)
        nanosleep(&ms, NULL);
}

void lab_trace_write(void)
{
    if (!lab_trace_on())
        return;
    pid_t me = getpid();
    int saved = errno;
    /* Ctrl-C, SIGTERM or SIGHUP arriving from now on waits until the file is renamed into place:
     * cleanup.c's handler would find this write begun, skip it and end the process, leaving
     * FILE.tmp (or FILE.part.PID.tmp) behind and no trace. */
    sigset_t stop, old;
    lab_stop_signals(&stop);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    if (atomic_exchange(&written_by, me) == me) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        wait_for_writer(me);
        errno = saved;
        return;
    }
    atomic_store(&writer_tid, (pid_t)syscall(SYS_gettid));
    char tmp[4200], final_name[4200];
    if (me == owner) {
        snprintf(final_name, sizeof final_name, "%s", path);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
    } else {
        snprintf(final_name, sizeof final_name, "%s.part.%d", path, (int)me);
        snprintf(tmp, sizeof tmp, "%s.part.%d.tmp", path, (int)me);
    }
    ofd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ofd < 0) {
        atomic_store(&write_done, me);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return;
    }
    olen = 0;
    if (me == owner) {
        /* The first event has no comma before it: a harmless metadata event opens the list. */
        out_str("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n{\"ph\":\"M\",\"pid\":");
        out_ll(me);
        out_str(",\"tid\":");
        out_ll(me);
        out_str(",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":0}}");
    }
    out_process(me);
    if (me == owner) {
        merge_fragments();
        out_str("\n]}\n");
    } else {
        out_ch('\n');
    }
    out_flush();
    close(ofd);
    ofd = -1;
    rename(tmp, final_name);
    atomic_store(&write_done, me);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
}
