/* labs/01-processes/main.c - lab 1: processes (creation, identity, isolation, zombie, orphan)
 * and the basics of threads.
 *
 * The course notes start a child with multiprocessing.Process and a thread with threading.Thread
 * and say they "look the same".  This lab shows what is underneath on Linux: fork() and waitpid()
 * for a process (common/proc.h gives them Python's names), pthread_create() for a thread
 * (common/thread.h adds Python's names and introspection), and where the two differ: a child has
 * its own copy of memory, a thread shares it; a dead child stays a zombie until waited for; an
 * orphan is adopted; spawn re-runs the program's top level, fork does not.
 * Python ↔ C: `if __name__ == '__main__':` ↔ the argv[1] check below, made BEFORE lab_main().
 * Usage: build/lab01 (guided demo) | build/lab01 --list | build/lab01 SCENARIO [OPTIONS]
 * Watch for: each scenario's human lines, then its RESULT line.
 * See also: processes.c, spawn.c, lifecycle.c, threads.c, bench.c, README.md.
 */
#include "lab.h"
#include "lab01.h"

#include <string.h>

static const struct lab_scenario scenarios[] = {
    { .name = "start", .summary = "start() is asynchronous: the parent prints before the child's task ends",
      .run = run_start },
    { .name = "terminate", .summary = "terminate(), pid == ident, is_alive() before/after join, exitcode -15",
      .run = run_terminate },
    { .name = "subclass", .summary = "a Process subclass: run() overridden, and called in the child only",
      .run = run_subclass },
    { .name = "spawn_vs_fork", .summary = "fork does not re-run main's top level, spawn (re-exec) does; the guard",
      .run = run_spawn_vs_fork },
    { .name = "join_all", .summary = "start ten children, join them all, then print: the parent's line is last",
      .run = run_join_all, .opts = "children" },
    { .name = "pids", .summary = "getpid/getppid in parent and child, checked against /proc/PID/stat",
      .run = run_pids },
    { .name = "zombie", .summary = "a child that exited stays Z until waited for; SIGCHLD=SIG_IGN auto-reaps",
      .run = run_zombie },
    { .name = "orphan", .summary = "the parent dies first: the orphan is adopted by a subreaper (its ppid changes)",
      .run = run_orphan },
    { .name = "thread_create", .summary = "Thread(target=...) and a MyThread subclass: five lines, one thread",
      .run = run_thread_create },
    { .name = "isolation", .summary = "money=100 stays 100 in the parent after a child sets 666 (same address)",
      .run = run_isolation },
    { .name = "thread_share", .summary = "money becomes 666 for everyone after a thread sets it",
      .run = run_thread_share },
    { .name = "threads", .summary = "enumerate, active_count, current_thread, ident/native_id: many tids, one pid",
      .run = run_threads, .opts = "threads" },
    { .name = "same_api", .summary = "job(1,2) -> 3 from a thread and from a process, same start/join",
      .run = run_same_api },
    { .name = "thread_results", .summary = "four threads return squared lists through a queue",
      .run = run_thread_results },
    { .name = "start_join", .summary = "f('bob'): start() returns at once (异步非阻塞), join() waits for f (同步阻塞)",
      .run = run_start_join },
    { .name = "low_thread", .summary = "_thread.start_new_thread: the program's end kills the threads; allocate_lock waits",
      .modes = "exit,lock", .run = run_low_thread },
    { .name = "old_names", .summary = "setName/getName, setDaemon, currentThread, activeCount, isAlive: today's names",
      .run = run_old_names },
    { .name = "daemon_env", .summary = "a daemon thread dies with a script, lives on at an interactive prompt",
      .modes = "script,interactive", .run = run_daemon_env },
    { .name = "cost", .summary = "what creating a process costs next to a thread (report only)",
      .run = run_cost, .opts = "count" },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "children", .help = "children started by join_all", .def = 10, .min = 1, .max = 100 },
    { .name = "threads", .help = "producer threads started by threads", .def = 10, .min = 1, .max = 20 },
    { .name = "count", .help = "creations timed by cost", .def = 50, .min = 1, .max = 10000 },
    { 0 }
};

int main(int argc, char **argv)
{
    /* ==== The "module top level": runs on every start of the program ==== */
    l01_toplevel();

    /* ==== if __name__ == '__main__': a spawned child takes the other branch ==== */
    if (argc > 1 && strcmp(argv[1], L01_SPAWN_MARKER) == 0)
        return l01_spawned_child_main(argc, argv);

    static const struct lab_program prog = {
        .number = 1,
        .title = "processes",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l01_bench,
    };
    return lab_main(&prog, argc, argv);
}
