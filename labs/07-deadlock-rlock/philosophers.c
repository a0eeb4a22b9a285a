/* labs/07-deadlock-rlock/philosophers.c - five dining philosophers: the deadlock and two cures
 *
 * Five philosophers sit round a table with one fork between each pair; to eat, philosopher i
 * needs fork i (left) and fork i+1 (right).  If everyone picks up the left fork at the same time,
 * everyone waits for the right one, held by the neighbour: a cycle of five, and nobody eats.  The
 * deadlock mode forces exactly that (everyone holds the left fork before anyone reaches for the
 * right), and the watchdog reports the cycle fork0->fork1->...->fork0 and exits 3.
 * Cures, under the same forced start:
 *   ordered  pick up the lower-numbered fork first (philosopher 4 takes fork0 before fork4): the
 *            circular wait cannot close (the notes' "按照对象id升序");
 *   waiter   a waiter (a semaphore of 4) lets at most four sit at once: with five forks among four
 *            diners, one of them always gets both.
 * Python ↔ C: threading.Lock() per fork ↔ tracked pthread mutexes; threading.Semaphore(4) ↔ sem_t.
 * Watch: in deadlock mode five "picks up" lines and then silence; in the cures every philosopher
 * eats --meals times.
 * See also: abba.c (the two-lock version), README.md.
 */
#include "lab07.h"

#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NPHIL 5

struct table {
    enum philosophers_mode mode;
    int meals;
    struct tlock fork[NPHIL];
    char fork_name[NPHIL][16];
    sem_t waiter;                  /* waiter mode: 4 seats */
    pthread_mutex_t count_lock;
    int eaten[NPHIL];              /* guarded by count_lock */
    int seated, max_seated;        /* guarded by count_lock */
    struct lab_watchdog *wd;
};

static struct table T;

static int fed_count(void)
{
    Pthread_mutex_lock(&T.count_lock);
    int fed = 0;
    for (int i = 0; i < NPHIL; i++)
        fed += T.eaten[i] > 0;
    Pthread_mutex_unlock(&T.count_lock);
    return fed;
}

static void seat(int delta)
{
    Pthread_mutex_lock(&T.count_lock);
    T.seated += delta;
    if (T.seated > T.max_seated)
        T.max_seated = T.seated;
    Pthread_mutex_unlock(&T.count_lock);
}

static void *philosopher(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct tlock *left = &T.fork[i], *right = &T.fork[(i + 1) % NPHIL];
    struct tlock *first = left, *second = right;
    if (T.mode == PHIL_ORDERED && (i + 1) % NPHIL < i) {
        first = right;   /* the lower-numbered fork first */
        second = left;
    }
    tl_register(i + 1);
    for (int meal = 0; meal < T.meals; meal++) {
        if (meal > 0)
            lab_sleep(0.1);   /* think */
        if (T.mode == PHIL_WAITER) {
            tl_set_state(TL_BLOCKED, "the waiter (semaphore of 4 seats)");
            Sem_wait(&T.waiter);
            tl_set_state(TL_RUNNING, NULL);
            seat(+1);
        }
        tl_lock(first);
        printf("%s picks up %s\n", lab07_me(), first->name);
        if (meal == 0) {
            /* forced: everyone holds (or waits for) a first fork; settling takes no notes-time */
            tl_rendezvous(NPHIL, lab_bound_ms(0));
            lab_watchdog_kick(T.wd);
        }
        tl_lock(second);   /* deadlock mode: the cycle closes here */
        printf("%s picks up %s and eats (meal %d)\n", lab07_me(), second->name, meal + 1);
        lab_sleep(0.1);
        Pthread_mutex_lock(&T.count_lock);
        T.eaten[i]++;
        Pthread_mutex_unlock(&T.count_lock);
        lab_watchdog_kick(T.wd);
        tl_unlock(second);
        tl_unlock(first);
        if (T.mode == PHIL_WAITER) {
            seat(-1);
            Sem_post(&T.waiter);
        }
    }
    tl_set_state(TL_DONE, NULL);
    return NULL;
}

static void ph_report(struct lab_watchdog *wd, void *arg, double silent_ms)
{
    (void)arg;
    /* As in abba.c: a short watchdog can fire while a philosopher is still on its way from the
     * rendezvous to its second fork; the forced deadlock is certain, so wait (bounded) until all
     * five are blocked before reporting.  Only in deadlock mode: in a cure it reports what it sees. */
    double waited = 0;
    bool formed = true;
    if (T.mode == PHIL_DEADLOCK)
        formed = tl_wait_blocked(NPHIL, lab_bound_ms(0), &waited);
    lab_say("WATCHDOG: no progress for %.0f ms: nobody has eaten since", silent_ms);
    lab07_say_settled(formed, waited, NPHIL, "philosophers");
    char cycle[128];
    int blocked;
    int n = tl_report(cycle, sizeof cycle, &blocked);
    if (n > 0)
        lab_say("DEADLOCK detected: %d philosophers in the cycle, each holding one fork and waiting for the next", n);
    else
        lab_say("no cycle in the wait-for graph: %d philosopher%s blocked, the others still run "
                "(the watchdog's %.0f ms is shorter than their work)",
                blocked, blocked == 1 ? "" : "s", lab_watchdog_timeout_ms(wd));
    lab_result("philosophers=%d deadlocked=%d fed=%d blocked=%d cycle=%s lockdep=%d watchdog_ms=%.0f",
               NPHIL, n > 0,
               fed_count(), blocked, cycle, tl_lockdep_reports(), lab_watchdog_timeout_ms(wd));
}

int run_philosophers(int mode)
{
    lab07_end_with_parent();
    memset(&T, 0, sizeof T);
    T.mode = mode;
    T.meals = (int)lab_opt("meals");
    lab_mutex_init(&T.count_lock, 0);
    tl_reset();
    for (int i = 0; i < NPHIL; i++) {
        snprintf(T.fork_name[i], sizeof T.fork_name[i], "fork%d", i);
        tl_init(&T.fork[i], T.fork_name[i], TL_PLAIN);
    }
    SYS_CHECK(sem_init(&T.waiter, 0, NPHIL - 1));
    tl_gate_open(NPHIL);
    if (T.mode == PHIL_DEADLOCK)
        lab_say("everyone picks up the left fork first, and nobody reaches for the right one until all have one");
    else if (T.mode == PHIL_ORDERED)
        lab_say("everyone picks up the lower-numbered fork first: philosopher-4 takes fork0 before fork4");
    else {
        lab_say("a waiter (a semaphore of %d) lets at most %d philosophers sit at once", NPHIL - 1, NPHIL - 1);
        lab_say("(forks are still taken left first: lockdep, which sees lock order only, will warn)");
    }
    T.wd = lab_watchdog_start(lab07_watchdog_ms(T.mode == PHIL_DEADLOCK), ph_report, NULL);

    struct lab_thread *t[NPHIL];
    for (int i = 0; i < NPHIL; i++) {
        char name[32];
        snprintf(name, sizeof name, "philosopher-%d", i);
        t[i] = lab_thread_new(philosopher, (void *)(intptr_t)i, NULL);
        lab_thread_set_name(t[i], name);
        lab_thread_start_or_die(t[i]);
        lab_watchdog_kick(T.wd);   /* starting threads is progress (slow under Valgrind) */
    }
    for (int i = 0; i < NPHIL; i++)
        lab_thread_join(t[i]);
    lab_watchdog_stop(T.wd);

    int meals = 0;
    for (int i = 0; i < NPHIL; i++)
        meals += T.eaten[i];
    int fed = fed_count();
    bool ok = T.mode != PHIL_DEADLOCK && fed == NPHIL && meals == NPHIL * T.meals &&
              (T.mode != PHIL_WAITER || T.max_seated == NPHIL - 1);
    if (T.mode == PHIL_WAITER && tl_lockdep_reports() > 0)
    {
        lab_say("the lockdep warning is a false alarm here: the lock-order cycle is real, but with %d seats",
                NPHIL - 1);
        lab_say("at most %d philosophers hold a fork, one of the %d stays free: the circular wait cannot close",
                NPHIL - 1, NPHIL);
    }
    if (T.mode == PHIL_WAITER)
        lab_result("philosophers=%d deadlocked=0 fed=%d meals=%d max_seated=%d lockdep=%d "
                   "breaks=circular_wait",
                   NPHIL, fed, meals, T.max_seated, tl_lockdep_reports());
    else
        lab_result("philosophers=%d deadlocked=0 fed=%d meals=%d lockdep=%d breaks=circular_wait",
                   NPHIL, fed,
                   meals, tl_lockdep_reports());
    SYS_CHECK(sem_destroy(&T.waiter));
    for (int i = 0; i < NPHIL; i++)
        tl_destroy(&T.fork[i]);
    Pthread_mutex_destroy(&T.count_lock);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
