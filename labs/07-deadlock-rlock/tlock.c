/* labs/07-deadlock-rlock/tlock.c - tracked locks: owner, count, the books, the wait-for report
 *
 * A pthread mutex knows its owner but will not tell (POSIX has no "who holds this?" call), so the
 * lab keeps its own books next to each lock, the way CPython's RLock keeps rlock_owner and
 * rlock_count next to its plain lock.  With those books a watchdog can say *why* the program stopped:
 * "Thread-1 holds mutexB and waits for mutexA, which Thread-2 holds, who waits for mutexB": the
 * cycle of the fourth Coffman condition, printed by tl_report.
 *
 * Python ↔ C: mutexA.acquire() ↔ tl_lock(&mutexA); acquire(False) ↔ tl_trylock (EBUSY);
 * acquire(timeout=t) ↔ tl_timedlock (pthread_mutex_clocklock, ETIMEDOUT); RLock's repr
 * <locked RLock owner=... count=...> ↔ tl_describe.
 *
 * Locking: everything marked "guarded by tl_meta" is read and written with tl_meta held.  tl_meta
 * is the innermost lock of the lab: taken while tracked locks are held, never held while blocking
 * on a tracked lock, never held while printing.
 * See also: lockdep.c (the order checker tl_lock consults), schedule.c (the forced schedules),
 * tlock_internal.h, common/watchdog.h.
 */
#include "tlock_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t tl_meta = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tl_changed;                   /* any state changed; CLOCK_MONOTONIC */
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;

struct tl_thread tl_threads[TL_MAX_THREADS];        /* guarded by tl_meta */
int tl_nthreads;                                    /* guarded by tl_meta */
struct tlock *tl_locks[TL_MAX_LOCKS];               /* guarded by tl_meta */
int tl_nlocks;                                      /* guarded by tl_meta */
static int generation = 1;                          /* guarded by tl_meta: bumped by tl_reset */

static tl_reset_fn reset_hooks[4];   /* set before main (constructors), read-only afterwards */
static int nreset_hooks;
static tl_block_fn block_check;

static __thread struct tl_thread *self;
static __thread int self_gen;

/* ==== The books ==== */

void tl_lines_add(struct tl_lines *o, const char *fmt, ...)
{
    if (o->n >= (int)(sizeof o->text / sizeof o->text[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->text[o->n++], sizeof o->text[0], fmt, ap);
    va_end(ap);
}

void tl_lines_print(const struct tl_lines *o)
{
    for (int i = 0; i < o->n; i++)
        lab_say("%s", o->text[i]);
}

static void init_once(void) { lab_cond_init(&tl_changed, 0); }

void tl_meta_lock(void)
{
    PT_CHECK(pthread_once(&tl_once, init_once));
    Pthread_mutex_lock(&tl_meta);
}

void tl_meta_unlock(void) { Pthread_mutex_unlock(&tl_meta); }

void tl_changed_locked(void) { Pthread_cond_broadcast(&tl_changed); }

bool tl_meta_wait_locked(const struct timespec *deadline)
{
    int rc = pthread_cond_timedwait(&tl_changed, &tl_meta, deadline);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait");
    return rc == 0;
}

/* A record per thread and generation: tl_reset bumps the generation, so a thread's record of the
 * last scenario (self) is not mistaken for one of this scenario. */
struct tl_thread *tl_me_locked(int index)
{
    if (self && self_gen == generation)
        return self;
    if (tl_nthreads >= TL_MAX_THREADS) {
        fprintf(stderr, "bug: more than %d threads use tracked locks\n", TL_MAX_THREADS);
        abort();
    }
    struct tl_thread *t = &tl_threads[tl_nthreads++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", lab07_me());
    t->index = index;
    t->state = TL_RUNNING;
    self = t;
    self_gen = generation;
    tl_changed_locked();
    return t;
}

void tl_install_reset(tl_reset_fn on_reset)
{
    if (nreset_hooks == (int)(sizeof reset_hooks / sizeof reset_hooks[0])) {
        fprintf(stderr, "bug: more than %d tracked-lock reset hooks\n", nreset_hooks);
        abort();
    }
    reset_hooks[nreset_hooks++] = on_reset;
}

void tl_install_block_check(tl_block_fn on_block) { block_check = on_block; }

void tl_reset(void)
{
    tl_meta_lock();
    generation++;
    tl_nthreads = 0;
    tl_nlocks = 0;
    for (int i = 0; i < nreset_hooks; i++)
        reset_hooks[i]();
    tl_meta_unlock();
}

void tl_init(struct tlock *l, const char *name, enum tl_kind kind)
{
    lab_mutex_init(&l->m, kind == TL_RECURSIVE ? LAB_MUTEX_RECURSIVE : 0);
    l->name = name;
    l->kind = kind;
    l->owner = NULL;
    l->count = 0;
    l->count_max = 0;
    tl_meta_lock();
    if (tl_nlocks >= TL_MAX_LOCKS) {
        fprintf(stderr, "bug: more than %d tracked locks\n", TL_MAX_LOCKS);
        abort();
    }
    l->id = tl_nlocks;
    tl_locks[tl_nlocks++] = l;
    tl_meta_unlock();
}

void tl_destroy(struct tlock *l) { Pthread_mutex_destroy(&l->m); }

void tl_register(int index)
{
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(index);
    t->index = index;
    tl_meta_unlock();
}

/* ==== Acquire and release ==== */

/* Caller holds tl_meta: t now owns l (once more). */
static void took(struct tl_thread *t, struct tlock *l)
{
    t->waiting = NULL;
    t->waiting_what = NULL;
    t->state = TL_RUNNING;
    if (l->count == 0) {
        l->owner = t;
        if (t->nheld < TL_MAX_HELD)
            t->held[t->nheld++] = l;
    }
    l->count++;
    if (l->count > l->count_max)
        l->count_max = l->count;
    tl_changed_locked();
}

void tl_lock(struct tlock *l)
{
    struct tl_lines out = { .n = 0 };
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    if (l->owner != t && block_check)
        block_check(t, l, &out);   /* lockdep.c */
    t->waiting = l;
    t->state = TL_BLOCKED;
    tl_changed_locked();
    tl_meta_unlock();
    tl_lines_print(&out);

    lab_trace_begin("lock", "wait %s", l->name);   /* --trace: the deadlock's two waits stay open */
    Pthread_mutex_lock(&l->m);   /* the real wait: forever, if the owner waits for us */
    lab_trace_end();
    lab_trace_begin("lock", "hold %s", l->name);

    tl_meta_lock();
    took(t, l);
    tl_meta_unlock();
}

int tl_trylock(struct tlock *l)
{
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    tl_meta_unlock();
    int rc = pthread_mutex_trylock(&l->m);
    if (rc == EBUSY)
        return EBUSY;
    if (rc != 0)
        die_en(rc, "pthread_mutex_trylock(%s)", l->name);
    lab_trace_begin("lock", "hold %s", l->name);
    tl_meta_lock();
    took(t, l);
    tl_meta_unlock();
    return 0;
}

int tl_timedlock(struct tlock *l, double ms)
{
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    t->waiting = l;
    t->state = TL_BLOCKED;
    tl_changed_locked();
    tl_meta_unlock();
    /* CLOCK_MONOTONIC deadline: pthread_mutex_timedlock would take CLOCK_REALTIME. */
    struct timespec deadline = lab_deadline_ms(ms);
    lab_trace_begin("lock", "wait %s", l->name);
    int rc = lab_mutex_clocklock(&l->m, &deadline);
    lab_trace_end();
    if (rc == 0)
        lab_trace_begin("lock", "hold %s", l->name);
    tl_meta_lock();
    if (rc == 0) {
        took(t, l);
    } else {
        t->waiting = NULL;
        t->state = TL_RUNNING;
        tl_changed_locked();
    }
    tl_meta_unlock();
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_mutex_clocklock(%s)", l->name);
    return rc;
}

int tl_unlock(struct tlock *l)
{
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    if (l->owner != t) {
        /* CPython's RLock.release() checks rlock_owner the same way before touching the lock:
         * "cannot release un-acquired lock".  (A recursive pthread mutex would also answer EPERM,
         * see self_deadlock; checking here keeps the real mutex, and Helgrind, out of it.) */
        tl_meta_unlock();
        return EPERM;
    }
    l->count--;
    if (l->count == 0) {
        l->owner = NULL;
        for (int i = 0; i < t->nheld; i++)
            if (t->held[i] == l) {
                memmove(&t->held[i], &t->held[i + 1], (size_t)(t->nheld - i - 1) * sizeof t->held[0]);
                t->nheld--;
                break;
            }
    }
    tl_changed_locked();
    tl_meta_unlock();
    lab_trace_end();   /* the hold (before the next owner's begins) */
    Pthread_mutex_unlock(&l->m);
    return 0;
}

void tl_describe(struct tlock *l, char *buf, size_t len)
{
    tl_meta_lock();
    if (l->owner)
        snprintf(buf, len, "<locked %s owner=%s count=%d>", l->kind == TL_RECURSIVE ? "RLock" : "Lock",
                 l->owner->name, l->count);
    else
        snprintf(buf, len, "<unlocked %s owner=- count=0>", l->kind == TL_RECURSIVE ? "RLock" : "Lock");
    tl_meta_unlock();
}

int tl_count_max(struct tlock *l)
{
    tl_meta_lock();
    int n = l->count_max;
    tl_meta_unlock();
    return n;
}

void tl_set_state(enum tl_state s, const char *what)
{
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    t->state = s;
    t->waiting_what = what;
    tl_changed_locked();
    tl_meta_unlock();
}

/* ==== The wait-for report ==== */

static const char *state_name(enum tl_state s)
{
    switch (s) {
    case TL_RUNNING: return "running";
    case TL_BLOCKED: return "BLOCKED";
    case TL_BACKOFF: return "backoff";
    case TL_PAUSED: return "paused";
    case TL_GATED: return "gated";
    case TL_DONE: return "done";
    }
    return "?";
}

int tl_report(char *cycle, size_t len, int *blocked)
{
    struct tl_lines out = { .n = 0 };
    int in_cycle = 0, nblocked = 0;
    snprintf(cycle, len, "-");
    tl_meta_lock();
    /* One line per thread, in worker order (registration order for the others). */
    int order[TL_MAX_THREADS], n = 0;
    for (int i = 0; i < tl_nthreads; i++)
        order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            int a = tl_threads[order[j - 1]].index, b = tl_threads[order[j]].index;
            if ((a == 0 ? 1000 : a) <= (b == 0 ? 1000 : b))
                break;
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    tl_lines_add(&out, "wait-for report (who holds what, who waits for what):");
    int shown = 0;
    for (int k = 0; k < n; k++) {
        const struct tl_thread *t = &tl_threads[order[k]];
        char held[96] = "";
        size_t off = 0;
        for (int i = 0; i < t->nheld; i++)
            off += (size_t)snprintf(held + off, sizeof held - off, "%s%s", i ? "," : "", t->held[i]->name);
        if (t->nheld == 0)
            snprintf(held, sizeof held, "-");
        char waits[96] = "-";
        if (t->waiting)
            snprintf(waits, sizeof waits, "%s (held by %s)", t->waiting->name,
                     t->waiting->owner ? t->waiting->owner->name : "nobody");
        else if (t->state == TL_BLOCKED && t->waiting_what)
            snprintf(waits, sizeof waits, "%s", t->waiting_what);
        if (t->state == TL_BLOCKED)
            nblocked++;
        /* Long lists: show the first 12 threads, they tell the story. */
        if (shown++ < 12)
            tl_lines_add(&out, "  %-16s %-8s holds %-14s waits for %s", t->name, state_name(t->state), held, waits);
    }
    if (shown > 12)
        tl_lines_add(&out, "  ... and %d more", shown - 12);

    /* Find a cycle: from each blocked thread follow "waits for lock -> its owner -> ...". */
    for (int k = 0; k < n && in_cycle == 0; k++) {
        const struct tl_thread *path[TL_MAX_THREADS];
        int depth = 0;
        const struct tl_thread *t = &tl_threads[order[k]];
        while (t && t->waiting && depth < TL_MAX_THREADS) {
            int seen_at = -1;
            for (int i = 0; i < depth; i++)
                if (path[i] == t)
                    seen_at = i;
            if (seen_at >= 0) {
                /* path[seen_at..depth-1] is the cycle.  Start it at the lowest lock id. */
                int m = depth - seen_at, start = 0;
                for (int i = 1; i < m; i++)
                    if (path[seen_at + i]->waiting->id < path[seen_at + start]->waiting->id)
                        start = i;
                size_t off = 0;
                for (int i = 0; i <= m; i++) {
                    const struct tl_thread *c = path[seen_at + (start + i) % m];
                    off += (size_t)snprintf(cycle + off, len > off ? len - off : 0, "%s%s", i ? "->" : "",
                                            c->waiting->name);
                }
                tl_lines_add(&out, "cycle: %s", cycle);
                for (int i = 0; i < m; i++) {
                    const struct tl_thread *c = path[seen_at + (start + i) % m];
                    tl_lines_add(&out, "  %s waits for %s, held by %s", c->name, c->waiting->name, c->waiting->owner->name);
                }
                in_cycle = m;
                break;
            }
            path[depth++] = t;
            t = t->waiting->owner;
        }
    }
    if (in_cycle == 0)
        tl_lines_add(&out, "no cycle among the tracked locks (a lost wake-up, a forgotten unlock, a livelock?)");
    tl_meta_unlock();
    tl_lines_print(&out);
    if (blocked)
        *blocked = nblocked;
    return in_cycle;
}
