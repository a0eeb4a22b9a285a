/* labs/07-deadlock-rlock/main.c - lab 7: deadlock, and its cures
 *
 * The course notes' mutexA/mutexB program (10 threads; func1 takes A then B, func2 takes B, sleeps
 * 2 s, then A) hangs forever in Python.  Here it deadlocks on every run (a forced schedule, not
 * luck), and a watchdog - the notes' own cure, a heartbeat that stops being reset - notices, prints
 * the wait-for report with the cycle, and exits 3.  Then one scenario per cure, each breaking one of
 * the four necessary (Coffman) conditions: RLock (one resource instead of two), ordered locking (no
 * circular wait), back-off and timeouts (no hold-and-wait), the watchdog that restarts the program
 * in ordered mode; the two classic self-inflicted hangs (locking twice, forgetting to unlock); a
 * lockdep-style checker that reports the inversion even in a run that happened not to hang; and
 * the dining philosophers.
 *
 * Python ↔ C: threading.Lock() ↔ pthread_mutex_t; RLock() ↔ PTHREAD_MUTEX_RECURSIVE (+ owner and
 * count kept on the side, as CPython does); lock.acquire(timeout=t) ↔ pthread_mutex_clocklock on
 * CLOCK_MONOTONIC; acquire(False) ↔ pthread_mutex_trylock.
 *
 * Usage: lab07 [SCENARIO [--mode=M] [--threads=10] [--hold=5] [--watchdog-ms=0] [--meals=3]]
 * Watch: the 4 lines before the hang (the notes' exact output), the wait-for report and its cycle,
 *        which Coffman condition each cure breaks.
 * See also: README.md, tlock.c (tracked locks, lockdep), common/watchdog.h.
 */
#include "lab07.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static struct lab_opt opts[] = {
    { "threads", "threads of the notes' MyThread", 10, 2, 32, 0, false },
    { "hold", "tenths of a notes-second func2 holds its first lock (the notes: time.sleep(2) = 20)", 5, 0, 100,
      0, false },
    { "watchdog-ms", "ms without progress before the watchdog fires (0: auto, 3 notes-seconds + hold, >= 300)",
      0, 0, 600000, 0, false },
    { "meals", "meals each philosopher eats", 3, 1, 100, 0, false },
    { "generation", "restart generation (set by the watchdog when it re-executes the program)", 0, 0, 1, 0,
      false },
    { 0 }
};

double lab07_hold_units(void) { return (double)lab_opt("hold") / 10.0; }

double lab07_watchdog_ms(void)
{
    /* Any positive value is taken as given: a watchdog set tighter than the program's slowest
     * healthy step fires on a healthy program, which is a lesson of its own. */
    long long v = lab_opt("watchdog-ms");
    if (v > 0)
        return (double)v;
    double ms = (3.0 + lab07_hold_units()) * (double)lab_second_ms();
    return ms < 300 ? 300 : ms;
}

const char *lab07_errname(int e)
{
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EDEADLK: return "EDEADLK";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EOWNERDEAD: return "EOWNERDEAD";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    }
    return "E?";
}

const char *lab07_me(void) { return lab_thread_name(lab_current_thread()); }

void lab07_end_with_parent(void)
{
    /* The guided demo forks these scenarios outside the lab_proc list, so its Ctrl-C handler
     * does not stop them: `kill -INT <demo>` would leave this process running on its own.  Ask
     * the kernel for SIGTERM (handled: cleanup, then exit) when the parent goes.  It survives the
     * watchdog's execv, so a restarted generation 1 goes with its parent too. */
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        return;
    if (getppid() != parent)   /* the parent went before prctl: nobody will send it */
        raise(SIGTERM);
}

static int deadlock_status(int mode)
{
    (void)mode;
    return LAB_EXIT_WATCHDOG;
}

/* The modes of philosophers, in the order of its .modes list. */
enum { PHIL_MODE_DEADLOCK, PHIL_MODE_ORDERED, PHIL_MODE_WAITER };

static int philosophers_status(int mode)
{
    return mode == PHIL_MODE_DEADLOCK ? LAB_EXIT_WATCHDOG : LAB_EXIT_OK;
}

static const struct lab_scenario scenarios[] = {
    { "deadlock", "the notes' mutexA/mutexB program, 10 threads: deadlocks every run; the watchdog reports, exit 3",
      NULL, "threads,hold,watchdog-ms", run_deadlock, deadlock_status, false },
    { "rlock", "cure: mutexA = mutexB = RLock() - one re-entrant lock, owner and count shown", NULL,
      "threads,hold,watchdog-ms", run_rlock, NULL, false },
    { "ordered", "cure: take the locks in address order (the notes' 'id ascending') - no circular wait", NULL,
      "threads,hold,watchdog-ms", run_ordered, NULL, false },
    { "backoff", "cure: trylock the second lock; on failure release everything, pause, retry", NULL,
      "threads,hold,watchdog-ms", run_backoff, NULL, false },
    { "timeout", "acquire(timeout): a timed lock gives up (ETIMEDOUT), releases, retries", NULL, NULL, run_timeout,
      NULL, false },
    { "watchdog_restart", "the notes' 'restart itself': the watchdog re-executes the program in ordered mode",
      NULL, "threads,hold,watchdog-ms,generation", run_watchdog_restart, NULL, true },
    { "lockdep", "a lock-order checker reports the A/B inversion even in a lucky run that did not hang",
      "lucky,ordered", NULL, run_lockdep, NULL, false },
    { "self_deadlock", "locking a mutex twice: plain hangs, errorcheck says EDEADLK, recursive counts",
      "plain,errorcheck,recursive", NULL, run_self_deadlock, NULL, false },
    { "forgot_unlock", "a thread returns holding the lock: a timed lock detects it; a robust mutex recovers",
      "plain,robust", NULL, run_forgot_unlock, NULL, false },
    { "philosophers", "five dining philosophers: the deadlock, then ordered forks and a waiter letting four sit",
      "deadlock,ordered,waiter", "meals,watchdog-ms", run_philosophers, philosophers_status, false },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 7,
        .title = "deadlock, RLock, ordered locking, timeouts, lock-order checking",
        .scenarios = scenarios,
        .opts = opts,
    };
    return lab_main(&prog, argc, argv);
}
