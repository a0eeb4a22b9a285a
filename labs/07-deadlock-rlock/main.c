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
 * Files: abba.c (deadlock, rlock, ordered, backoff, watchdog_restart), lockdep.c (the order checker
 *        and the lockdep scenario), mutexes.c (timeout, self_deadlock, forgot_unlock),
 *        philosophers.c; tlock.c, schedule.c (tracked locks, the forced schedules); util.c.
 * See also: README.md, lab07.h, common/watchdog.h.
 */
#include "lab07.h"

/* The options: every scenario lists the ones it takes (.opts below). */
static struct lab_opt opts[] = {
    { .name = "threads", .help = "threads of the notes' MyThread", .def = 10, .min = 2, .max = 32 },
    { .name = "hold", .help = "tenths of a notes-second func2 holds its first lock (the notes: time.sleep(2) = 20)",
      .def = 5, .min = 0, .max = 100 },
    { .name = "watchdog-ms",
      .help = "ms without progress before the watchdog fires (0: auto: 3 notes-seconds + hold, >= 300; >= 2000 in a cure)", .def = 0,
      .min = 0, .max = 600000 },
    { .name = "meals", .help = "meals each philosopher eats", .def = 3, .min = 1, .max = 100 },
    { .name = "generation", .help = "restart generation (set by the watchdog when it re-executes the program)",
      .def = 0, .min = 0, .max = 1 },
    { 0 }
};

/* The guided demo's expected exit statuses: the deadlocks end with the watchdog. */
static int deadlock_status(int mode)
{
    (void)mode;
    return LAB_EXIT_WATCHDOG;
}

static int philosophers_status(int mode)
{
    return mode == PHIL_DEADLOCK ? LAB_EXIT_WATCHDOG : LAB_EXIT_OK;
}

/* In the guided demo's order: the deadlock, then the cures.  The .modes strings are in the order
 * of the mode enums in lab07.h. */
static const struct lab_scenario scenarios[] = {
    { .name = "deadlock",
      .summary = "the notes' mutexA/mutexB program, 10 threads: deadlocks every run; the watchdog reports, exit 3",
      .opts = "threads,hold,watchdog-ms", .run = run_deadlock, .demo_status = deadlock_status },
    { .name = "rlock", .summary = "cure: mutexA = mutexB = RLock() - one re-entrant lock, owner and count shown",
      .opts = "threads,hold,watchdog-ms", .run = run_rlock },
    { .name = "ordered",
      .summary = "cure: take the locks in address order (the notes' 'id ascending') - no circular wait",
      .opts = "threads,hold,watchdog-ms", .run = run_ordered },
    { .name = "backoff", .summary = "cure: trylock the second lock; on failure release everything, pause, retry",
      .opts = "threads,hold,watchdog-ms", .run = run_backoff },
    { .name = "timeout", .summary = "acquire(timeout): a timed lock gives up (ETIMEDOUT), releases, retries",
      .run = run_timeout },
    { .name = "watchdog_restart",
      .summary = "the notes' 'restart itself': the watchdog re-executes the program in ordered mode",
      .opts = "threads,hold,watchdog-ms,generation", .run = run_watchdog_restart, .demo_in_child = true },
    { .name = "lockdep", .summary = "a lock-order checker reports the A/B inversion even in a lucky run that did not hang",
      .modes = "lucky,ordered", .run = run_lockdep },
    { .name = "self_deadlock", .summary = "locking a mutex twice: plain hangs, errorcheck says EDEADLK, recursive counts",
      .modes = "plain,errorcheck,recursive", .run = run_self_deadlock },
    { .name = "forgot_unlock",
      .summary = "a thread returns holding the lock: a timed lock detects it; a robust mutex recovers",
      .modes = "plain,robust", .run = run_forgot_unlock },
    { .name = "philosophers",
      .summary = "five dining philosophers: the deadlock, then ordered forks and a waiter letting four sit",
      .modes = "deadlock,ordered,waiter", .opts = "meals,watchdog-ms", .run = run_philosophers,
      .demo_status = philosophers_status },
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
