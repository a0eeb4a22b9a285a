/* labs/02-join-daemon/main.c - Lab 2: join and daemon, for processes and for threads.
 *
 * join() makes the caller wait for a child; where you put it decides whether three children run
 * one after another (join inside the loop: 1+2+3 = 6 seconds) or together (join after the loop:
 * max = 3 seconds).  "daemon" means three different things: Python's daemon *process* (SIGTERMed
 * when the main code ends), a Unix daemon (double fork, setsid, no terminal, a pidfile), and a
 * daemon *thread* (abandoned when the last non-daemon thread is done).  This file holds the
 * scenario table and the helpers the other files share.
 *
 * Python (course notes S0/S1/S2/S4) ↔ C:
 *   p.start(); p.join()          ↔ fork() (lab_proc_start) ; waitpid() (lab_proc_join)
 *   p.daemon = True              ↔ lab_proc_set_daemon(&p, true) before start (EINVAL after)
 *   t.join(), t.daemon = True    ↔ lab_thread_join(), lab_thread_set_daemon() (the registry)
 *   end of the main code         ↔ lab_thread_exit_main(): join non-daemon threads, then exit()
 *
 * Usage: lab02 [SCENARIO] [--children=3] [--loops=10]   (no scenario: the guided demo, ~4 s)
 * What to watch for: the elapsed times of serial vs concurrent; which "is over" lines never come.
 * See also: join.c, daemon_proc.c, unix_daemon.c, threads.c, timing.c, README.md.
 */
#include "lab.h"
#include "lab02.h"

#include <math.h>

/* ==== Shared helpers ==== */

void ev_add(struct ev_log *log, int code)
{
    int i = atomic_fetch_add(&log->n, 1);
    if (i < EV_MAX)
        log->ev[i] = code;
}

int ev_count(const struct ev_log *log)
{
    int n = atomic_load(&((struct ev_log *)log)->n);
    return n < EV_MAX ? n : EV_MAX;
}

int ev_index(const struct ev_log *log, int code)
{
    int n = ev_count(log);
    for (int i = 0; i < n; i++)
        if (log->ev[i] == code)
            return i;
    return -1;
}

int wait_flag(atomic_int *flag, double ms)
{
    double end = lab_now_ms() + ms;
    while (!atomic_load(flag)) {
        if (lab_now_ms() >= end)
            return 0;
        lab_sleep_ms(0.2);
    }
    return 1;
}

double round1(double units) { return round(units * 10.0) / 10.0; }

/* ==== The lab ==== */

/* Guided-demo order: the serial (slow) join before the concurrent one; Python's daemon process
 * before the Unix daemon; thread join before daemon threads; the timing transcripts last. */
static const struct lab_scenario scenarios[] = {
    { "join", "p.start(); p.join(): the parent waits, 'zhao is over' comes before '主进程'", NULL, NULL, run_join, NULL, false },
    { "serial", "join inside the loop: the children run one after another (1+2+3 = 6 units)", NULL, "children", run_serial, NULL, false },
    { "concurrent", "join after the loop: the children run together (max = 3 units)", NULL, "children", run_concurrent, NULL, false },
    { "daemon_proc", "Python's daemon process: SIGTERMed when the main code ends, a non-daemon child outlives it", NULL, NULL, run_daemon_proc, NULL, false },
    { "unix_daemon", "a real Unix daemon: fork, setsid, fork, chdir /, umask, closed fds, pidfile; then stopped", "double,single", NULL, run_unix_daemon, NULL, false },
    { "thread_join", "t.join(): 'T1 start / T1 finished / all done'", NULL, "loops", run_thread_join, NULL, false },
    { "daemon_thread", "daemon threads are cut off at exit ('zhao is over' never comes; 132/456/主/end123/end465)", NULL, NULL, run_daemon_thread, NULL, false },
    { "timing", "sorry x5 serial vs threads, two processes, two threads, the run(n) countdown", NULL, NULL, run_timing, NULL, false },
    { 0 }
};

static struct lab_opt opts[] = {
    { "children", "children started in the loop (child i sleeps i units)", 3, 1, 8, 0, false },
    { "loops", "seconds T1 sleeps, one at a time", 10, 1, 60, 0, false },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 2,
        .title = "join and daemon",
        .scenarios = scenarios,
        .opts = opts,
    };
    return lab_main(&prog, argc, argv);
}
