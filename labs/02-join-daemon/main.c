/* labs/02-join-daemon/main.c - Lab 2: join and daemon, for processes and for threads.
 *
 * join() makes the caller wait for a child; where you put it decides whether three children run
 * one after another (join inside the loop: 1+2+3 = 6 seconds) or together (join after the loop:
 * max = 3 seconds).  "daemon" means three different things: Python's daemon *process* (SIGTERMed
 * when the main code ends), a Unix daemon (double fork, setsid, no terminal, a pidfile), and a
 * daemon *thread* (abandoned when the last non-daemon thread is done).  This file holds the
 * scenario table, the option table and main(); util.c the tools the scenarios share.
 *
 * Python (course notes) ↔ C:
 *   p.start(); p.join()          ↔ fork() (lab_proc_start) ; waitpid() (lab_proc_join)
 *   p.daemon = True              ↔ lab_proc_set_daemon(&p, true) before start (EINVAL after)
 *   t.join(), t.daemon = True    ↔ lab_thread_join(), lab_thread_set_daemon() (the registry)
 *   end of the main code         ↔ lab_thread_exit_main(): join non-daemon threads, then exit()
 *
 * Usage: lab02 [SCENARIO] [--children=3] [--loops=10]   (no scenario: the guided demo, ~4 s)
 * What to watch for: the elapsed times of serial vs concurrent; which "is over" lines never come.
 * See also: join.c, daemon_proc.c, unix_daemon.c, threads.c, timing.c, util.c, README.md.
 */
#include "lab.h"
#include "lab02.h"

/* Guided-demo order: the serial (slow) join before the concurrent one; Python's daemon process
 * before the Unix daemon; thread join before daemon threads; the timing transcripts last. */
static const struct lab_scenario scenarios[] = {
    { .name = "join", .summary = "p.start(); p.join(): the parent waits, 'zhao is over' comes before '主进程'",
      .run = run_join },
    { .name = "serial", .summary = "join inside the loop: the children run one after another (1+2+3 = 6 units)",
      .opts = "children", .run = run_serial },
    { .name = "concurrent", .summary = "join after the loop: the children run together (max = 3 units)",
      .opts = "children", .run = run_concurrent },
    { .name = "daemon_proc",
      .summary = "Python's daemon process: SIGTERMed when the main code ends, a non-daemon child outlives it",
      .run = run_daemon_proc },
    { .name = "unix_daemon",
      .summary = "a real Unix daemon: fork, setsid, fork, chdir /, umask, closed fds, pidfile; then stopped",
      .modes = "double,single",   /* enum l02_unix_daemon_mode (lab02.h), in this order */
      .run = run_unix_daemon },
    { .name = "thread_join", .summary = "t.join(): 'T1 start / T1 finished / all done'",
      .opts = "loops", .run = run_thread_join },
    { .name = "daemon_thread",
      .summary = "daemon threads are cut off at exit ('zhao is over' never comes; 132/456/主/end123/end465)",
      .run = run_daemon_thread },
    { .name = "timing", .summary = "sorry x5 serial vs threads, two processes, two threads, the run(n) countdown",
      .run = run_timing },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "children", .help = "children started in the loop (child i sleeps i units)",
      .def = 3, .min = 1, .max = 8 },
    { .name = "loops", .help = "seconds T1 sleeps, one at a time", .def = 10, .min = 1, .max = 60 },
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
