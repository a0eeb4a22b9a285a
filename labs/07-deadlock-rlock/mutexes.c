/* labs/07-deadlock-rlock/mutexes.c - timeouts, locking twice, forgetting to unlock
 *
 * Three ways one lock can stop a program, and what the pthread API offers against each:
 *   timeout        lock.acquire(timeout=0.2) returns False after 0.2 s; acquire(False) at once.
 *                  In C: pthread_mutex_clocklock(CLOCK_MONOTONIC) -> ETIMEDOUT, trylock -> EBUSY.
 *                  Then the A/B pair with a timed second acquisition: whoever times out gives back
 *                  what it holds and retries, so both threads finish (no hold-and-wait).
 *   self_deadlock  lock.acquire() twice in one thread: a plain Lock hangs forever (here a timed
 *                  lock shows it: ETIMEDOUT), an error-checking mutex answers EDEADLK at once, a
 *                  recursive one (RLock) counts to 2 and needs two releases.
 *   forgot_unlock  the notes' "如果上锁以后不解开，就会死锁": a thread returns holding the lock and
 *                  nobody can ever release it; the next acquirer would hang.  A timed lock detects
 *                  it; a robust mutex (PTHREAD_MUTEX_ROBUST) tells the next owner EOWNERDEAD and
 *                  lets it repair the state (pthread_mutex_consistent).
 * Python ↔ C: Lock ↔ a NORMAL mutex, RLock ↔ RECURSIVE; Python has no EDEADLK (its Lock has no
 * owner) and no robust lock (the notes' multiprocessing.Lock whose holder died hangs the next one).
 * Watch: the waited time (at least the timeout), and which error each mutex type answers.
 * See also: abba.c (the two-lock deadlock), README.md.
 */
#include "lab07.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

/* A timed lock: 0 or an error, and how long it waited (notes-seconds). */
static int clocklock_units(pthread_mutex_t *m, double units, double *waited)
{
    double t0 = lab_now_ms();
    struct timespec deadline = lab_deadline_ms(lab_units_ms(units));
    int rc = lab_mutex_clocklock(m, &deadline);
    *waited = lab_elapsed_units(t0);
    return rc;
}

/* ==== timeout ==== */

struct holder {
    pthread_mutex_t *m;
    sem_t held, release;
};

/* Takes the lock and keeps it until main says so. */
static void *holder_main(void *p)
{
    struct holder *h = p;
    Pthread_mutex_lock(h->m);
    lab_say("%s: holds the lock", lab07_me());
    Sem_post(&h->held);
    Sem_wait(&h->release);
    Pthread_mutex_unlock(h->m);
    return NULL;
}

/* The two-lock part: each thread holds its first lock, then asks for the other's with a timeout. */
struct tpair {
    struct tlock a, b;
    pthread_barrier_t both_hold;
    pthread_mutex_t count_lock;
    int timeouts, completed;     /* guarded by count_lock */
    struct lab_watchdog *wd;
};

static struct tpair TP;

struct tp_arg {
    struct tlock *first, *second;
};

static void *tp_thread(void *p)
{
    struct tp_arg *a = p;
    double timeout = 0.2;
    for (int attempt = 0;; attempt++) {
        tl_lock(a->first);
        printf("%s 抢到%s\n", lab07_me(), a->first->name);
        if (attempt == 0)
            Pthread_barrier_wait(&TP.both_hold);   /* both hold their first lock: the deadlock shape */
        int rc = tl_timedlock(a->second, lab_units_ms(timeout));
        if (rc == 0) {
            printf("%s 抢到%s\n", lab07_me(), a->second->name);
            tl_unlock(a->second);
            tl_unlock(a->first);
            break;
        }
        double pause = (double)lab_randint(1, 10) / 20.0;
        printf("%s: %s.acquire(timeout=%.1f) -> False (%s): 放开%s, 退避 %.2f s 后重试\n", lab07_me(), a->second->name,
               timeout, lab_errno_name(rc), a->first->name, pause);
        tl_unlock(a->first);
        Pthread_mutex_lock(&TP.count_lock);
        TP.timeouts++;
        Pthread_mutex_unlock(&TP.count_lock);
        tl_set_state(TL_BACKOFF, NULL);
        lab_sleep(pause);
        tl_set_state(TL_RUNNING, NULL);
    }
    Pthread_mutex_lock(&TP.count_lock);
    TP.completed++;
    Pthread_mutex_unlock(&TP.count_lock);
    lab_watchdog_kick(TP.wd);
    tl_set_state(TL_DONE, NULL);
    return NULL;
}

static void tp_report(struct lab_watchdog *wd, void *arg, double silent_ms)
{
    (void)wd;
    (void)arg;
    lab_say("WATCHDOG: no progress for %.0f ms", silent_ms);
    char cycle[128];
    int blocked;
    int n = tl_report(cycle, sizeof cycle, &blocked);
    Pthread_mutex_lock(&TP.count_lock);
    lab_result("completed=%d timeouts=%d deadlocked=%d cycle=%s", TP.completed, TP.timeouts, n > 0, cycle);
    Pthread_mutex_unlock(&TP.count_lock);
}

int run_timeout(int mode)
{
    (void)mode;   /* no modes */
    /* Part 1: the API.  Another thread holds the lock. */
    pthread_mutex_t m;
    lab_mutex_init(&m, 0);
    struct holder h = { .m = &m };
    SYS_CHECK(sem_init(&h.held, 0, 0));
    SYS_CHECK(sem_init(&h.release, 0, 0));
    struct lab_thread *ht = LAB_THREAD(holder_main, &h);
    lab_thread_start_or_die(ht);
    Sem_wait(&h.held);
    int try_rc = pthread_mutex_trylock(&m);
    lab_say("MainThread: lock.acquire(False) -> %s (trylock: %s)", try_rc == 0 ? "True" : "False",
            lab_errno_name(try_rc));
    double waited;
    int rc = clocklock_units(&m, 0.2, &waited);
    lab_say("MainThread: lock.acquire(timeout=0.2) -> %s after %.2f s (pthread_mutex_clocklock: %s)",
            rc == 0 ? "True" : "False", waited, lab_errno_name(rc));
    if (try_rc == 0)
        Pthread_mutex_unlock(&m);
    if (rc == 0)
        Pthread_mutex_unlock(&m);
    Sem_post(&h.release);
    lab_thread_join(ht);
    SYS_CHECK(sem_destroy(&h.held));
    SYS_CHECK(sem_destroy(&h.release));
    Pthread_mutex_destroy(&m);

    /* Part 2: the deadlock shape, cured by giving up after a timeout. */
    lab_say("-- two threads, each holding one lock and asking for the other's with acquire(timeout=0.2) --");
    memset(&TP, 0, sizeof TP);
    tl_reset();
    tl_init(&TP.a, "mutexA", TL_PLAIN);
    tl_init(&TP.b, "mutexB", TL_PLAIN);
    Pthread_barrier_init(&TP.both_hold, NULL, 2);
    lab_mutex_init(&TP.count_lock, 0);
    TP.wd = lab_watchdog_start(lab07_watchdog_ms(false), tp_report, NULL);
    struct tp_arg a1 = { &TP.a, &TP.b }, a2 = { &TP.b, &TP.a };
    struct lab_thread *t1 = lab_thread_new(tp_thread, &a1, NULL), *t2 = lab_thread_new(tp_thread, &a2, NULL);
    lab_thread_start_or_die(t1);
    lab_thread_start_or_die(t2);
    lab_thread_join(t1);
    lab_thread_join(t2);
    lab_watchdog_stop(TP.wd);
    int completed = TP.completed, timeouts = TP.timeouts;
    Pthread_barrier_destroy(&TP.both_hold);
    Pthread_mutex_destroy(&TP.count_lock);
    tl_destroy(&TP.a);
    tl_destroy(&TP.b);

    bool ok = try_rc == EBUSY && rc == ETIMEDOUT && waited >= 0.2 && completed == 2 && timeouts >= 1;
    lab_result("acquired=%d err=%s waited_units=%.1f trylock=%s completed=%d timeouts=%d deadlock=0 "
               "breaks=hold_and_wait",
               rc == 0, lab_errno_name(rc), waited, lab_errno_name(try_rc), completed, timeouts);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== self_deadlock ==== */

struct poke {
    pthread_mutex_t *m;
    int rc;
};

static void *unlock_from_other(void *p)
{
    struct poke *k = p;
    k->rc = pthread_mutex_unlock(k->m);
    return NULL;
}

int run_self_deadlock(int mode)
{
    pthread_mutex_t m;
    if (mode == SELF_PLAIN) {
        lab_mutex_init(&m, 0);
        Pthread_mutex_lock(&m);
        lab_say("MainThread: lock.acquire() -> True");
        lab_say("MainThread: lock.acquire() again: a plain Lock waits for itself, forever; "
                "here with a timeout of 0.2 s to show it");
        double waited;
        int rc = clocklock_units(&m, 0.2, &waited);
        lab_say("MainThread: second acquire -> %s after %.2f s: the thread would have hung here",
                lab_errno_name(rc), waited);
        Pthread_mutex_unlock(&m);
        Pthread_mutex_destroy(&m);
        lab_result("second_lock=%s count_max=1 extra_unlock=- hung=%d", lab_errno_name(rc),
                   rc == ETIMEDOUT);
        return rc == ETIMEDOUT && waited >= 0.2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    }
    if (mode == SELF_ERRORCHECK) {
        lab_mutex_init(&m, LAB_MUTEX_ERRORCHECK);
        Pthread_mutex_lock(&m);
        lab_say("MainThread: lock() -> OK (PTHREAD_MUTEX_ERRORCHECK)");
        int rc = pthread_mutex_lock(&m);
        lab_say("MainThread: lock() again -> %s: the mutex knows its owner and refuses instead of hanging",
                lab_errno_name(rc));
        struct poke k = { &m, 0 };
        struct lab_thread *t = LAB_THREAD(unlock_from_other, &k);
        lab_thread_start_or_die(t);
        lab_thread_join(t);
        lab_say("%s: unlock() of MainThread's mutex -> %s (Python's plain Lock would allow it)", lab_thread_name(t),
                lab_errno_name(k.rc));
        Pthread_mutex_unlock(&m);
        int extra = pthread_mutex_unlock(&m);
        lab_say("MainThread: unlock() once more -> %s", lab_errno_name(extra));
        Pthread_mutex_destroy(&m);
        lab_result("second_lock=%s count_max=1 extra_unlock=%s nonowner_unlock=%s hung=0",
                   lab_errno_name(rc), lab_errno_name(extra), lab_errno_name(k.rc));
        return rc == EDEADLK && extra == EPERM && k.rc == EPERM ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    }
    /* SELF_RECURSIVE: the count is kept on the side (POSIX has no call to read it), as CPython does. */
    lab_mutex_init(&m, LAB_MUTEX_RECURSIVE);
    int count = 0, count_max = 0;
    Pthread_mutex_lock(&m);
    count++;
    lab_say("MainThread: acquire() -> OK   <locked RLock owner=MainThread count=%d>", count);
    int rc = pthread_mutex_lock(&m);
    if (rc == 0)
        count++;
    count_max = count;
    lab_say("MainThread: acquire() again -> %s   <locked RLock owner=MainThread count=%d>", lab_errno_name(rc), count);
    Pthread_mutex_unlock(&m);
    count--;
    lab_say("MainThread: release()   <locked RLock owner=MainThread count=%d>: still held", count);
    Pthread_mutex_unlock(&m);
    count--;
    lab_say("MainThread: release()   <unlocked RLock owner=- count=%d>", count);
    int extra = pthread_mutex_unlock(&m);
    lab_say("MainThread: release() once more -> %s (Python: RuntimeError: cannot release un-acquired lock)",
            lab_errno_name(extra));
    Pthread_mutex_destroy(&m);
    lab_result("second_lock=%s count_max=%d extra_unlock=%s hung=0", lab_errno_name(rc),
               count_max, lab_errno_name(extra));
    return rc == 0 && count_max == 2 && extra == EPERM ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== forgot_unlock ==== */

struct forgetful {
    pthread_mutex_t *m;
    char name[64];
};

/* if mutexFlag: num += 1; print(...) -- and no mutex.release(): the thread returns holding it. */
static void *forgetful_main(void *p)
{
    struct forgetful *f = p;
    Pthread_mutex_lock(f->m);
    snprintf(f->name, sizeof f->name, "%s", lab07_me());
    lab_say("%s: 抢到锁, and returns without release()", f->name);
    return NULL;
}

int run_forgot_unlock(int mode)
{
    bool robust = mode == FORGOT_ROBUST;
    pthread_mutex_t m;
    lab_mutex_init(&m, LAB_MUTEX_ERRORCHECK | (robust ? LAB_MUTEX_ROBUST : 0));
    struct forgetful f = { .m = &m };
    struct lab_thread *t = LAB_THREAD(forgetful_main, &f);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    bool alive = lab_thread_is_alive(t);
    lab_say("%s has ended (is_alive() = %s); the next acquire() would wait forever, so it waits at most 0.5 s",
            f.name, alive ? "True" : "False");
    double waited;
    int rc = clocklock_units(&m, 0.5, &waited);
    int recovered = 0, other_unlock = 0;
    bool detected = false;
    if (rc == ETIMEDOUT) {
        detected = true;
        lab_say("DETECTED: acquire(timeout=0.5) -> %s after %.2f s: the lock is still held by %s, which has ended; "
                "nobody can ever release it", lab_errno_name(rc), waited, f.name);
        other_unlock = pthread_mutex_unlock(&m);
        lab_say("MainThread: unlock() of it -> %s (an error-checking mutex only lets its owner unlock)",
                lab_errno_name(other_unlock));
    } else if (rc == EOWNERDEAD) {
        detected = true;
        lab_say("DETECTED: lock() -> EOWNERDEAD at once: the owner died holding it; MainThread owns it now and "
                "must repair the data it guards");
        PT_CHECK(pthread_mutex_consistent(&m));
        lab_say("MainThread: pthread_mutex_consistent(); unlock()");
        Pthread_mutex_unlock(&m);
        int again = pthread_mutex_trylock(&m);
        lab_say("MainThread: lock() again -> %s: the lock is usable again", lab_errno_name(again));
        if (again == 0) {
            recovered = 1;
            Pthread_mutex_unlock(&m);
        }
    } else if (rc == 0) {
        Pthread_mutex_unlock(&m);
    }
    if (!(robust && rc == EOWNERDEAD) && rc != 0 && rc != ETIMEDOUT)
        lab_say("unexpected: %s", lab_errno_name(rc));
    /* A plain mutex still held by a dead thread cannot be destroyed cleanly (EBUSY): leave it. */
    if (recovered)
        Pthread_mutex_destroy(&m);
    lab_result("detected=%d holder_alive=%d err=%s unlock_by_other=%s recovered=%d",
               detected, alive, lab_errno_name(rc), robust ? "-" : lab_errno_name(other_unlock), recovered);
    if (robust)
        return detected && recovered && rc == EOWNERDEAD ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return detected && rc == ETIMEDOUT && other_unlock == EPERM ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
