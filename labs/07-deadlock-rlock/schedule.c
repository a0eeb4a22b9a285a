/* labs/07-deadlock-rlock/schedule.c - forced schedules: the interleaving the notes hope for, made certain
 *
 * In Python, the notes' time.sleep(2) makes the A/B deadlock *likely*: Thread-1 sleeps holding B
 * while Thread-2 takes A.  C threads run in parallel, so a sleep proves nothing; instead the
 * scenarios force the order with three tools over the books of tlock.c:
 *   a gate        workers with an index above it wait (tl_gate_wait) until it is opened far enough
 *                 (tl_gate_open): Thread-2 may start only once Thread-1 holds B;
 *   wait_quiet    wait until every other worker let in is stuck (blocked on a held lock, backing
 *                 off, paused, gated) or done: "everyone else has done what it can";
 *   a rendezvous  a one-shot latch: wait until n workers are there or otherwise stuck, then all go
 *                 on (the philosophers all hold their left fork before anyone reaches right);
 *   wait_blocked  for the watchdog's report: wait until workers 1..n are all blocked on held
 *                 locks, so that a watchdog that fires while a forced deadlock is still forming
 *                 (a thread kept off the CPU between two kicks) reports the deadlock, not a
 *                 thread on its way into it.  It takes no part itself (the monitor is no worker).
 * "Stuck" is read from the books, not guessed from time: a thread marked BLOCKED on a lock nobody
 * holds is only passing through tl_lock, and counts as running.  Every wait is bounded (the caller
 * passes the bound, from lab_bound_ms): if a bug keeps the schedule from settling, the run goes on
 * unforced rather than hanging, and says so.
 *
 * Locking: the gate and the latch are guarded by tl_meta (tlock.c); waits sleep on its condition
 * variable, which every change in the books broadcasts.
 * See also: tlock.c (the books), abba.c (force_schedule), philosophers.c (the rendezvous).
 */
#include "tlock_internal.h"

static int gate = 1;           /* guarded by tl_meta */
static bool rv_open;           /* guarded by tl_meta */

/* tl_reset: close the gate and the rendezvous again (plugged in at program start). */
static void schedule_reset_locked(void)
{
    gate = 1;
    rv_open = false;
}

__attribute__((constructor)) static void schedule_install(void) { tl_install_reset(schedule_reset_locked); }

void tl_gate_wait(void)
{
    /* A bound, never reached in practice: the gate opens after the first worker's two settling
     * waits (each at most lab_bound_ms(0)); this is six of them. */
    struct timespec deadline = lab_deadline_ms(6 * lab_bound_ms(0));
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    if (t->index > gate) {
        t->state = TL_GATED;
        tl_changed_locked();
        while (t->index > gate && tl_meta_wait_locked(&deadline))
            ;
        t->state = TL_RUNNING;
        tl_changed_locked();
    }
    tl_meta_unlock();
}

void tl_gate_open(int upto)
{
    tl_meta_lock();
    gate = upto;
    /* Mark them running now, so that nobody mistakes a thread that has not woken up yet for a
     * stuck one. */
    for (int i = 0; i < tl_nthreads; i++)
        if (tl_threads[i].state == TL_GATED && tl_threads[i].index <= upto)
            tl_threads[i].state = TL_RUNNING;
    tl_changed_locked();
    tl_meta_unlock();
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
        for (int i = 0; i < tl_nthreads; i++)
            if (tl_threads[i].index == idx)
                found = &tl_threads[i];
        if (found == NULL || !stuck(found))
            return false;
    }
    return true;
}

bool tl_wait_quiet(double ms)
{
    struct timespec deadline = lab_deadline_ms(ms);
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    bool ok;
    while (!(ok = quiet_locked(t)) && tl_meta_wait_locked(&deadline))
        ;
    if (!ok)
        ok = quiet_locked(t);
    tl_meta_unlock();
    return ok;
}

/* Caller holds tl_meta.  Are workers 1..n all registered and blocked on a tracked lock that
 * another thread holds?  (Paused, backing off or done do not count: this is "the deadlock has
 * formed", not "everyone has done what it can".) */
static bool all_blocked_locked(int n)
{
    for (int idx = 1; idx <= n; idx++) {
        const struct tl_thread *found = NULL;
        for (int i = 0; i < tl_nthreads; i++)
            if (tl_threads[i].index == idx)
                found = &tl_threads[i];
        if (found == NULL || found->state != TL_BLOCKED || found->waiting == NULL ||
            found->waiting->owner == NULL || found->waiting->owner == found)
            return false;
    }
    return true;
}

bool tl_wait_blocked(int n, double ms, double *waited_ms)
{
    double t0 = lab_now_ms();
    struct timespec deadline = lab_deadline_ms(ms);
    tl_meta_lock();
    bool ok = all_blocked_locked(n), at_once = ok;
    while (!ok && tl_meta_wait_locked(&deadline))
        ok = all_blocked_locked(n);
    if (!ok)
        ok = all_blocked_locked(n);
    tl_meta_unlock();
    if (waited_ms)
        *waited_ms = at_once ? 0 : lab_elapsed_ms(t0);
    return ok;
}

bool tl_rendezvous(int n, double ms)
{
    struct timespec deadline = lab_deadline_ms(ms);
    tl_meta_lock();
    struct tl_thread *t = tl_me_locked(0);
    enum tl_state before = t->state;
    t->state = TL_PAUSED;
    tl_changed_locked();
    for (;;) {
        if (rv_open)
            break;
        int nstuck = 0;
        for (int i = 0; i < tl_nthreads; i++)
            if (stuck(&tl_threads[i]))
                nstuck++;
        if (nstuck >= n) {
            rv_open = true;   /* one-shot: everyone parked here goes on */
            tl_changed_locked();
            break;
        }
        if (!tl_meta_wait_locked(&deadline)) {
            rv_open = true;   /* out of time: give up forcing, let everyone go */
            tl_changed_locked();
            t->state = before;
            tl_meta_unlock();
            return false;
        }
    }
    t->state = before;
    tl_changed_locked();
    tl_meta_unlock();
    return true;
}
