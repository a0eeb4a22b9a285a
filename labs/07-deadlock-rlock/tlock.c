/* labs/07-deadlock-rlock/tlock.c - tracked locks: owner, count, wait-for graph, lockdep.
 *
 * A pthread mutex knows its owner but will not tell (POSIX has no "who holds this?" call), so the
 * lab keeps its own books next to each lock, the way CPython's RLock keeps rlock_owner and
 * rlock_count next to its plain lock.  With those books a watchdog can say *why* the program stopped:
 * "Thread-1 holds mutexB and waits for mutexA, which Thread-2 holds, who waits for mutexB": the
 * cycle of the fourth Coffman condition, printed.
 *
 * Lockdep (after the Linux kernel's lock validator, Documentation/locking/lockdep-design.rst):
 * whenever a thread that holds H asks for L, record the dependency H -> L.  If L -> ... -> H was
 * recorded before (by any thread, at any time), the two orders can deadlock against each other:
 * warn now, even though this run may be lucky and never hang.  Like the kernel, it checks blocking
 * acquisitions only (a trylock or a timed lock cannot wait forever) and turns itself off after the
 * first warning.
 *
 * Locking: everything marked "guarded by tl_meta" is read and written with tl_meta held.  tl_meta
 * is the innermost lock of the lab: taken while tracked locks are held, never held while blocking
 * on a tracked lock, never held while printing.
 * See also: main.c (the scenarios), common/watchdog.h.
 */
#include "lab07.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_thread {
    char name[48];
    int index;                       /* worker number of the forced schedule; 0: none */
    enum tl_state state;
    struct tlock *waiting;           /* the tracked lock it is blocked on, or NULL */
    const char *waiting_what;        /* or what else it is blocked on */
    struct tlock *held[TL_MAX_HELD]; /* in the order taken */
    int nheld;
};

/* One dependency "held -> taken", as first seen. */
struct tl_edge {
    bool on;
    char thread[48];
};

static pthread_mutex_t tl_meta = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tl_changed;                   /* any state changed; CLOCK_MONOTONIC */
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;

static struct tl_thread threads[TL_MAX_THREADS];    /* guarded by tl_meta */
static int nthreads;                                /* guarded by tl_meta */
static struct tlock *locks[TL_MAX_LOCKS];           /* guarded by tl_meta */
static int nlocks;                                  /* guarded by tl_meta */
static int generation = 1;                          /* guarded by tl_meta: bumped by tl_reset */
static int gate = 1;                                /* guarded by tl_meta */
static bool rv_open;                                /* guarded by tl_meta */

static struct tl_edge deps[TL_MAX_LOCKS][TL_MAX_LOCKS];   /* guarded by tl_meta */
static bool lockdep_on = true;                            /* guarded by tl_meta */
static int lockdep_reports;                               /* guarded by tl_meta */
static char lockdep_seen[64] = "-", lockdep_inverted[64] = "-";   /* guarded by tl_meta */

static __thread struct tl_thread *self;
static __thread int self_gen;

/* Lines produced under tl_meta, printed after it is released. */
struct tl_lines {
    char text[24][160];
    int n;
};

static void lines_add(struct tl_lines *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lines_add(struct tl_lines *o, const char *fmt, ...)
{
    if (o->n >= (int)(sizeof o->text / sizeof o->text[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->text[o->n++], sizeof o->text[0], fmt, ap);
    va_end(ap);
}

static void lines_print(const struct tl_lines *o)
{
    for (int i = 0; i < o->n; i++)
        lab_say("%s", o->text[i]);
}

static void init_once(void)
{
    pthread_condattr_t ca;
    PT_CHECK(pthread_condattr_init(&ca));
    PT_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    Pthread_cond_init(&tl_changed, &ca);
    PT_CHECK(pthread_condattr_destroy(&ca));
}

static void meta_lock(void)
{
    PT_CHECK(pthread_once(&tl_once, init_once));
    Pthread_mutex_lock(&tl_meta);
}

static void meta_unlock(void) { Pthread_mutex_unlock(&tl_meta); }

/* Caller holds tl_meta.  Wake everyone who waits for a state change. */
static void changed(void) { Pthread_cond_broadcast(&tl_changed); }

/* Caller holds tl_meta.  The caller's record, made on first use in this generation. */
static struct tl_thread *me_locked(int index)
{
    if (self && self_gen == generation)
        return self;
    if (nthreads >= TL_MAX_THREADS) {
        fprintf(stderr, "bug: more than %d threads use tracked locks\n", TL_MAX_THREADS);
        abort();
    }
    struct tl_thread *t = &threads[nthreads++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", lab07_me());
    t->index = index;
    t->state = TL_RUNNING;
    self = t;
    self_gen = generation;
    changed();
    return t;
}

void tl_reset(void)
{
    meta_lock();
    generation++;
    nthreads = 0;
    nlocks = 0;
    gate = 1;
    rv_open = false;
    memset(deps, 0, sizeof deps);
    lockdep_on = true;
    lockdep_reports = 0;
    snprintf(lockdep_seen, sizeof lockdep_seen, "-");
    snprintf(lockdep_inverted, sizeof lockdep_inverted, "-");
    meta_unlock();
}

void tl_init(struct tlock *l, const char *name, enum tl_kind kind)
{
    pthread_mutexattr_t ma;
    PT_CHECK(pthread_mutexattr_init(&ma));
    PT_CHECK(pthread_mutexattr_settype(&ma, kind == TL_RECURSIVE ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL));
    Pthread_mutex_init(&l->m, &ma);
    PT_CHECK(pthread_mutexattr_destroy(&ma));
    l->name = name;
    l->kind = kind;
    l->owner = NULL;
    l->count = 0;
    l->count_max = 0;
    meta_lock();
    if (nlocks >= TL_MAX_LOCKS) {
        fprintf(stderr, "bug: more than %d tracked locks\n", TL_MAX_LOCKS);
        abort();
    }
    l->id = nlocks;
    locks[nlocks++] = l;
    meta_unlock();
}

void tl_destroy(struct tlock *l) { Pthread_mutex_destroy(&l->m); }

void tl_register(int index)
{
    meta_lock();
    struct tl_thread *t = me_locked(index);
    t->index = index;
    meta_unlock();
}

/* ==== Lockdep ==== */

/* Caller holds tl_meta.  Is there a recorded path from -> ... -> to?  Fills path[] (lock ids, from
 * first, to last) and returns its length in locks, or 0. */
static int dep_path(int from, int to, int path[TL_MAX_LOCKS])
{
    int prev[TL_MAX_LOCKS], queue[TL_MAX_LOCKS], head = 0, tail = 0;
    for (int i = 0; i < TL_MAX_LOCKS; i++)
        prev[i] = -2;
    prev[from] = -1;
    queue[tail++] = from;
    while (head < tail) {
        int x = queue[head++];
        if (x == to)
            break;
        for (int y = 0; y < nlocks; y++)
            if (deps[x][y].on && prev[y] == -2) {
                prev[y] = x;
                queue[tail++] = y;
            }
    }
    if (prev[to] == -2)
        return 0;
    int rev[TL_MAX_LOCKS], n = 0;
    for (int x = to; x != -1; x = prev[x])
        rev[n++] = x;
    for (int i = 0; i < n; i++)
        path[i] = rev[n - 1 - i];
    return n;
}

/* Caller holds tl_meta.  Thread t, holding what it holds, is about to block on l. */
static void lockdep_check(struct tl_thread *t, struct tlock *l, struct tl_lines *out)
{
    for (int i = 0; i < t->nheld && lockdep_on; i++) {
        struct tlock *h = t->held[i];
        if (h == l)
            continue;   /* recursion on an RLock: not a new dependency */
        int path[TL_MAX_LOCKS];
        int n = dep_path(l->id, h->id, path);
        if (n > 0) {
            /* l -> ... -> h was seen; now h -> l: a cycle in the lock order graph. */
            lockdep_reports++;
            lockdep_on = false;
            size_t off = 0;
            lockdep_seen[0] = '\0';
            for (int k = 0; k < n; k++)
                off += (size_t)snprintf(lockdep_seen + off, sizeof lockdep_seen - off, "%s%s", k ? "->" : "",
                                        locks[path[k]]->name);
            snprintf(lockdep_inverted, sizeof lockdep_inverted, "%s->%s", h->name, l->name);
            lines_add(out, "lockdep: ======================================================");
            lines_add(out, "lockdep: WARNING: possible circular locking dependency detected");
            lines_add(out, "lockdep: %s is trying to acquire %s", t->name, l->name);
            lines_add(out, "lockdep:   while holding %s   (new order %s)", h->name, lockdep_inverted);
            lines_add(out, "lockdep: but the opposite order %s was recorded before:", lockdep_seen);
            for (int k = 0; k + 1 < n; k++)
                lines_add(out, "lockdep:   %s asked for %s while holding %s", deps[path[k]][path[k + 1]].thread,
                          locks[path[k + 1]]->name, locks[path[k]]->name);
            if (n == 2) {
                /* The kernel draws this with CPU0 / CPU1: two threads running the two orders. */
                const char *other = deps[path[0]][path[1]].thread;
                bool same = strcmp(other, t->name) == 0;
                lines_add(out, "lockdep: possible unsafe locking scenario (two threads, the two orders):");
                lines_add(out, "lockdep:        %-22s %s", same ? "thread X" : other, same ? "thread Y" : t->name);
                lines_add(out, "lockdep:        lock(%s);", l->name);
                lines_add(out, "lockdep:        %-22s lock(%s);", "", h->name);
                lines_add(out, "lockdep:        %-22s lock(%s);", "", l->name);
                lines_add(out, "lockdep:        lock(%s);", h->name);
                lines_add(out, "lockdep:   *** DEADLOCK ***");
            }
        }
        if (!deps[h->id][l->id].on) {
            deps[h->id][l->id].on = true;
            snprintf(deps[h->id][l->id].thread, sizeof deps[h->id][l->id].thread, "%s", t->name);
        }
    }
}

int tl_lockdep_reports(void)
{
    meta_lock();
    int n = lockdep_reports;
    meta_unlock();
    return n;
}

void tl_lockdep_orders(char *seen, char *inverted, size_t len)
{
    meta_lock();
    snprintf(seen, len, "%s", lockdep_seen);
    snprintf(inverted, len, "%s", lockdep_inverted);
    meta_unlock();
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
    changed();
}

void tl_lock(struct tlock *l)
{
    struct tl_lines out = { .n = 0 };
    meta_lock();
    struct tl_thread *t = me_locked(0);
    if (l->owner != t)
        lockdep_check(t, l, &out);
    t->waiting = l;
    t->state = TL_BLOCKED;
    changed();
    meta_unlock();
    lines_print(&out);

    Pthread_mutex_lock(&l->m);   /* the real wait: forever, if the owner waits for us */

    meta_lock();
    took(t, l);
    meta_unlock();
}

int tl_trylock(struct tlock *l)
{
    meta_lock();
    struct tl_thread *t = me_locked(0);
    meta_unlock();
    int rc = pthread_mutex_trylock(&l->m);
    if (rc == EBUSY)
        return EBUSY;
    if (rc != 0)
        die_en(rc, "pthread_mutex_trylock(%s)", l->name);
    meta_lock();
    took(t, l);
    meta_unlock();
    return 0;
}

int tl_timedlock(struct tlock *l, double ms)
{
    meta_lock();
    struct tl_thread *t = me_locked(0);
    t->waiting = l;
    t->state = TL_BLOCKED;
    changed();
    meta_unlock();
    /* CLOCK_MONOTONIC deadline: pthread_mutex_timedlock would take CLOCK_REALTIME (PARITY P15). */
    struct timespec deadline = lab_deadline_ms(ms);
    int rc = pthread_mutex_clocklock(&l->m, CLOCK_MONOTONIC, &deadline);
    meta_lock();
    if (rc == 0) {
        took(t, l);
    } else {
        t->waiting = NULL;
        t->state = TL_RUNNING;
        changed();
    }
    meta_unlock();
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_mutex_clocklock(%s)", l->name);
    return rc;
}

int tl_unlock(struct tlock *l)
{
    meta_lock();
    struct tl_thread *t = me_locked(0);
    if (l->owner != t) {
        /* CPython's RLock.release() checks rlock_owner the same way before touching the lock:
         * "cannot release un-acquired lock".  (A recursive pthread mutex would also answer EPERM,
         * see self_deadlock; checking here keeps the real mutex, and Helgrind, out of it.) */
        meta_unlock();
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
    changed();
    meta_unlock();
    Pthread_mutex_unlock(&l->m);
    return 0;
}

void tl_describe(struct tlock *l, char *buf, size_t len)
{
    meta_lock();
    if (l->owner)
        snprintf(buf, len, "<locked %s owner=%s count=%d>", l->kind == TL_RECURSIVE ? "RLock" : "Lock",
                 l->owner->name, l->count);
    else
        snprintf(buf, len, "<unlocked %s owner=- count=0>", l->kind == TL_RECURSIVE ? "RLock" : "Lock");
    meta_unlock();
}

int tl_count_max(struct tlock *l)
{
    meta_lock();
    int n = l->count_max;
    meta_unlock();
    return n;
}

void tl_set_state(enum tl_state s, const char *what)
{
    meta_lock();
    struct tl_thread *t = me_locked(0);
    t->state = s;
    t->waiting_what = what;
    changed();
    meta_unlock();
}

/* ==== Forced schedules ==== */

/* Caller holds tl_meta.  Wait for a change until the deadline; false when it has passed. */
static bool wait_change(const struct timespec *deadline)
{
    int rc = pthread_cond_timedwait(&tl_changed, &tl_meta, deadline);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait");
    return rc == 0;
}

void tl_gate_wait(void)
{
    struct timespec deadline = lab_deadline_ms(60000);   /* a bound, never reached in practice */
    meta_lock();
    struct tl_thread *t = me_locked(0);
    if (t->index > gate) {
        t->state = TL_GATED;
        changed();
        while (t->index > gate && wait_change(&deadline))
            ;
        t->state = TL_RUNNING;
        changed();
    }
    meta_unlock();
}

void tl_gate_open(int upto)
{
    meta_lock();
    gate = upto;
    /* Mark them running now, so that nobody mistakes a thread that has not woken up yet for a
     * stuck one. */
    for (int i = 0; i < nthreads; i++)
        if (threads[i].state == TL_GATED && threads[i].index <= upto)
            threads[i].state = TL_RUNNING;
    changed();
    meta_unlock();
}

/* Caller holds tl_meta.  Is t really stuck (or finished), as opposed to running?  A thread marked
 * BLOCKED on a lock that nobody holds is only passing through tl_lock: it will get the lock. */
static bool stuck(const struct tl_thread *t)
{
    switch (t->state) {
    case TL_RUNNING:
    case TL_GATED:
        return false;
    case TL_BLOCKED:
        return t->waiting == NULL || (t->waiting->owner != NULL && t->waiting->owner != t);
    case TL_BACKOFF:
    case TL_PAUSED:
    case TL_DONE:
        return true;
    }
    return false;
}

/* Caller holds tl_meta.  Is every worker 1..gate other than me registered and stuck? */
static bool quiet_locked(const struct tl_thread *me)
{
    for (int idx = 1; idx <= gate; idx++) {
        if (me && idx == me->index)
            continue;
        const struct tl_thread *found = NULL;
        for (int i = 0; i < nthreads; i++)
            if (threads[i].index == idx)
                found = &threads[i];
        if (found == NULL || !stuck(found))
            return false;
    }
    return true;
}

bool tl_wait_quiet(double ms)
{
    struct timespec deadline = lab_deadline_ms(ms);
    meta_lock();
    struct tl_thread *t = me_locked(0);
    bool ok;
    while (!(ok = quiet_locked(t)) && wait_change(&deadline))
        ;
    if (!ok)
        ok = quiet_locked(t);
    meta_unlock();
    return ok;
}

bool tl_rendezvous(int n, double ms)
{
    struct timespec deadline = lab_deadline_ms(ms);
    meta_lock();
    struct tl_thread *t = me_locked(0);
    enum tl_state before = t->state;
    t->state = TL_PAUSED;
    changed();
    for (;;) {
        if (rv_open)
            break;
        int nstuck = 0;
        for (int i = 0; i < nthreads; i++)
            if (stuck(&threads[i]))
                nstuck++;
        if (nstuck >= n) {
            rv_open = true;   /* one-shot: everyone parked here goes on */
            changed();
            break;
        }
        if (!wait_change(&deadline)) {
            rv_open = true;   /* out of time: give up forcing, let everyone go */
            changed();
            t->state = before;
            meta_unlock();
            return false;
        }
    }
    t->state = before;
    changed();
    meta_unlock();
    return true;
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
    meta_lock();
    /* One line per thread, in worker order (registration order for the others). */
    int order[TL_MAX_THREADS], n = 0;
    for (int i = 0; i < nthreads; i++)
        order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            int a = threads[order[j - 1]].index, b = threads[order[j]].index;
            if ((a == 0 ? 1000 : a) <= (b == 0 ? 1000 : b))
                break;
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    lines_add(&out, "wait-for report (who holds what, who waits for what):");
    int shown = 0;
    for (int k = 0; k < n; k++) {
        const struct tl_thread *t = &threads[order[k]];
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
            lines_add(&out, "  %-16s %-8s holds %-14s waits for %s", t->name, state_name(t->state), held, waits);
    }
    if (shown > 12)
        lines_add(&out, "  ... and %d more", shown - 12);

    /* Find a cycle: from each blocked thread follow "waits for lock -> its owner -> ...". */
    for (int k = 0; k < n && in_cycle == 0; k++) {
        const struct tl_thread *path[TL_MAX_THREADS];
        int depth = 0;
        const struct tl_thread *t = &threads[order[k]];
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
                lines_add(&out, "cycle: %s", cycle);
                for (int i = 0; i < m; i++) {
                    const struct tl_thread *c = path[seen_at + (start + i) % m];
                    lines_add(&out, "  %s waits for %s, held by %s", c->name, c->waiting->name, c->waiting->owner->name);
                }
                in_cycle = m;
                break;
            }
            path[depth++] = t;
            t = t->waiting->owner;
        }
    }
    if (in_cycle == 0)
        lines_add(&out, "no cycle among the tracked locks (a lost wake-up, a forgotten unlock, a livelock?)");
    meta_unlock();
    lines_print(&out);
    if (blocked)
        *blocked = nblocked;
    return in_cycle;
}
