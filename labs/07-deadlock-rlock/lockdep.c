/* labs/07-deadlock-rlock/lockdep.c - a lock-order checker for the tracked locks
 *
 * After the Linux kernel's lock validator (Documentation/locking/lockdep-design.rst): whenever a
 * thread that holds H asks for L, record the dependency H -> L.  If L -> ... -> H was recorded
 * before (by any thread, at any time), the two orders can deadlock against each other: warn now,
 * even though this run may be lucky and never hang.  The scenario `lockdep --mode=lucky` is such a
 * run (this file ends with that scenario, run_lockdep); in `deadlock` the warning comes just
 * before the hang, because the check runs *before* blocking.  Like the kernel, it checks blocking
 * acquisitions only (a trylock or a timed lock cannot wait forever: tlock.c calls it from tl_lock
 * alone) and turns itself off after the first warning.  It cannot see anything that is not a tracked lock: the waiter's semaphore of
 * `philosophers --mode=waiter` makes a cycle harmless, and lockdep still reports it.
 *
 * Locking: everything here is guarded by tl_meta (tlock.c); the _locked functions are called with
 * it held, and the warning is printed by the caller once it is released.
 * See also: tlock.c (tl_lock calls the check), tlock_internal.h, abba.c (the deadlock it warns of).
 */
#include "tlock_internal.h"

#include <stdio.h>
#include <string.h>

/* One dependency "held -> taken", as first seen. */
struct tl_edge {
    bool on;
    char thread[48];   /* who took it first */
};

static struct tl_edge deps[TL_MAX_LOCKS][TL_MAX_LOCKS];           /* guarded by tl_meta */
static bool lockdep_on = true;                                    /* guarded by tl_meta */
static int lockdep_reports;                                       /* guarded by tl_meta */
static char lockdep_seen[64] = "-", lockdep_inverted[64] = "-";   /* guarded by tl_meta */

static void lockdep_reset_locked(void)
{
    memset(deps, 0, sizeof deps);
    lockdep_on = true;
    lockdep_reports = 0;
    snprintf(lockdep_seen, sizeof lockdep_seen, "-");
    snprintf(lockdep_inverted, sizeof lockdep_inverted, "-");
}

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
        for (int y = 0; y < tl_nlocks; y++)
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

/* Caller holds tl_meta.  The warning, in the kernel's words, for t asking for l while holding h,
 * when l -> ... -> h (path[0..n-1]) was recorded before. */
static void warn(const struct tl_thread *t, const struct tlock *l, const struct tlock *h, const int *path, int n,
                 struct tl_lines *out)
{
    size_t off = 0;
    lockdep_seen[0] = '\0';
    for (int k = 0; k < n; k++)
        off += (size_t)snprintf(lockdep_seen + off, sizeof lockdep_seen - off, "%s%s", k ? "->" : "",
                                tl_locks[path[k]]->name);
    snprintf(lockdep_inverted, sizeof lockdep_inverted, "%s->%s", h->name, l->name);
    tl_lines_add(out, "lockdep: ======================================================");
    tl_lines_add(out, "lockdep: WARNING: possible circular locking dependency detected");
    tl_lines_add(out, "lockdep: %s is trying to acquire %s", t->name, l->name);
    tl_lines_add(out, "lockdep:   while holding %s   (new order %s)", h->name, lockdep_inverted);
    tl_lines_add(out, "lockdep: but the opposite order %s was recorded before:", lockdep_seen);
    for (int k = 0; k + 1 < n; k++)
        tl_lines_add(out, "lockdep:   %s asked for %s while holding %s", deps[path[k]][path[k + 1]].thread,
                     tl_locks[path[k + 1]]->name, tl_locks[path[k]]->name);
    if (n == 2) {
        /* The kernel draws this with CPU0 / CPU1: two threads running the two orders. */
        const char *other = deps[path[0]][path[1]].thread;
        bool same = strcmp(other, t->name) == 0;
        tl_lines_add(out, "lockdep: possible unsafe locking scenario (two threads, the two orders):");
        tl_lines_add(out, "lockdep:        %-22s %s", same ? "thread X" : other, same ? "thread Y" : t->name);
        tl_lines_add(out, "lockdep:        lock(%s);", l->name);
        tl_lines_add(out, "lockdep:        %-22s lock(%s);", "", h->name);
        tl_lines_add(out, "lockdep:        %-22s lock(%s);", "", l->name);
        tl_lines_add(out, "lockdep:        lock(%s);", h->name);
        tl_lines_add(out, "lockdep:   *** DEADLOCK ***");
    }
}

static void lockdep_check_locked(struct tl_thread *t, struct tlock *l, struct tl_lines *out)
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
            warn(t, l, h, path, n, out);
        }
        if (!deps[h->id][l->id].on) {
            deps[h->id][l->id].on = true;
            snprintf(deps[h->id][l->id].thread, sizeof deps[h->id][l->id].thread, "%s", t->name);
        }
    }
}

/* Plugged into the books at program start (tlock_internal.h): checked before every blocking lock. */
__attribute__((constructor)) static void lockdep_install(void)
{
    tl_install_reset(lockdep_reset_locked);
    tl_install_block_check(lockdep_check_locked);
}

int tl_lockdep_reports(void)
{
    tl_meta_lock();
    int n = lockdep_reports;
    tl_meta_unlock();
    return n;
}

void tl_lockdep_orders(char *seen, char *inverted, size_t len)
{
    tl_meta_lock();
    snprintf(seen, len, "%s", lockdep_seen);
    snprintf(inverted, len, "%s", lockdep_inverted);
    tl_meta_unlock();
}

/* ==== The scenario: the lucky run ====
 *
 * Two threads, one after the other, so this run cannot deadlock: the first takes mutexA then
 * mutexB (func1's order); the second takes them in func2's order (lucky) or in the same order
 * (ordered).  Only the public tracked-lock API is used here, as any scenario would. */

struct ld_arg {
    struct tlock *first, *second;
};

static void *ld_thread(void *p)
{
    struct ld_arg *a = p;
    tl_lock(a->first);
    printf("%s 抢到%s\n", lab07_me(), a->first->name);
    tl_lock(a->second);
    printf("%s 抢到%s\n", lab07_me(), a->second->name);
    tl_unlock(a->second);
    tl_unlock(a->first);
    return NULL;
}

int run_lockdep(int mode)
{
    bool lucky = mode == LOCKDEP_LUCKY;
    struct tlock a, b;
    tl_reset();
    tl_init(&a, "mutexA", TL_PLAIN);
    tl_init(&b, "mutexB", TL_PLAIN);
    struct ld_arg one = { &a, &b };
    struct ld_arg two = lucky ? (struct ld_arg){ &b, &a } : (struct ld_arg){ &a, &b };
    lab_say("first thread: mutexA then mutexB (func1); second thread: %s (%s); the second starts only after the first "
            "has finished, so this run cannot deadlock", lucky ? "mutexB then mutexA" : "mutexA then mutexB",
            lucky ? "func2's order" : "the same order");
    struct lab_thread *t1 = LAB_THREAD(ld_thread, &one);
    lab_thread_start_or_die(t1);
    lab_thread_join(t1);
    struct lab_thread *t2 = LAB_THREAD(ld_thread, &two);
    lab_thread_start_or_die(t2);
    lab_thread_join(t2);
    int reports = tl_lockdep_reports();
    char seen[64], inverted[64];
    tl_lockdep_orders(seen, inverted, sizeof seen);
    if (reports)
        lab_say("both threads finished (no deadlock this time), but the order graph has a cycle: a different timing "
                "would hang");
    else
        lab_say("both threads finished and the order graph has no cycle: no timing can make these two deadlock");
    lab_result("deadlocked=0 reports=%d seen=%s inverted=%s", reports, seen, inverted);
    tl_destroy(&a);
    tl_destroy(&b);
    return reports == (lucky ? 1 : 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
