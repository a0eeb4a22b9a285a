/* labs/10-pools/main.c - lab 10: thread pools and process pools.
 *
 * The notes' chapter on pools (池): making a thread or a process costs something, so a program that
 * has many tasks makes a few workers once and hands them the tasks (线程池与进程池).  This lab builds
 * ThreadPoolExecutor (tpool.c), ProcessPoolExecutor and multiprocessing.Pool (ppool.c) on one
 * future type (future.c), and runs the notes' examples on them: the 20 n**n tasks, the callbacks,
 * Pool(5) over seven named tasks, Pool(4) x 5 long_time_task, Foo/Bar, synchronous vs asynchronous
 * submission; then what a pool saves (why_pools) and a bench against GLib's GThreadPool.
 * Python <-> C: ThreadPoolExecutor(5) <-> l10_tpool_new(5); Pool(5) <-> l10_ppool_new(5, 0);
 *   submit/apply_async <-> a struct l10_future; result()/get(timeout) <-> l10_future_result.
 * Usage: build/lab10 (guided demo) | build/lab10 --list | build/lab10 SCENARIO [--mode=M]
 *        [--workers=N] [--tasks=N] ... | build/lab10 --bench
 * Watch for: the same thread ids / pids serving every task; results in submission order from
 *   result()/map, in completion order from callbacks and as_completed.
 * See also: future.c, tpool.c, ppool.c, tasks.c, threadpool.c, procpool.c, notes.c, why.c, bench.c.
 */
#include "lab.h"
#include "lab10.h"

#include <string.h>

static const struct lab_scenario scenarios[] = {
    { .name = "threadpool", .summary = "ThreadPoolExecutor(5), 20 tasks n**n: 5 threads, one pid, results in order",
      .opts = "workers,tasks", .run = run_threadpool },
    { .name = "futures", .summary = "result(timeout), add_done_callback's two threads, errors, map, as_completed, wait",
      .opts = "timeout", .run = run_futures },
    { .name = "sync_async", .summary = "submit+result one by one (tasks x 2 s) vs submit all, then collect",
      .modes = "sync,async", .opts = "workers,tasks", .run = run_sync_async },
    { .name = "procpool", .summary = "ProcessPoolExecutor(5) + add_done_callback: 5 pids, 20 callbacks in the parent",
      .opts = "workers,tasks", .run = run_procpool, .check = check_procs },
    { .name = "pool", .summary = "Pool(3): map, apply(_async), map_async, imap(_unordered), starmap, close/join/terminate",
      .run = run_pool },
    { .name = "maxtasks", .summary = "Pool(2, maxtasksperchild=2): a worker leaves after 2 tasks, a new pid replaces it",
      .opts = "maxtasks", .run = run_maxtasks },
    { .name = "crash", .summary = "a task aborts, or its worker is killed: the future says so, a new worker replaces it",
      .modes = "abort,kill", .run = run_crash },
    { .name = "pool_blocking", .summary = "Pool(5).apply over 7 named tasks: 开始/完成 alternate in list order, then over",
      .run = run_pool_blocking },
    { .name = "pool_async", .summary = "Pool(5).apply_async + callback over the 7 tasks: results in completion order",
      .run = run_pool_async },
    { .name = "long_task", .summary = "Pool(4) x 5 long_time_task: two waves, about 4 s; the wait line comes at once",
      .run = run_long_task },
    { .name = "foobar", .summary = "Pool(5), 10 x apply_async(Foo, callback=Bar): end first, Bar runs in the parent",
      .run = run_foobar },
    { .name = "why_pools", .summary = "a thread or a process per task vs a pool: the cost per task, measured",
      .opts = "count", .run = run_why_pools },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "workers", .help = "workers in the pool (process pools: at most 64)", .def = 5, .min = 1, .max = 256 },
    { .name = "tasks", .help = "tasks n = 0..N-1 (n**n is exact up to 19**19)", .def = 20, .min = 1, .max = 20 },
    { .name = "maxtasks", .help = "maxtasks: maxtasksperchild", .def = 2, .min = 1, .max = 8 },
    { .name = "count", .help = "why_pools: tasks, default 50 x LAB_SECOND_MS (a tenth of them for processes)", .def = 2000, .min = 10,
      .max = 1000000 },
    { .name = "timeout", .help = "futures: result(timeout=T/10 s) on a 1 s task", .def = 5, .min = 0, .max = 100 },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 10,
        .title = "thread and process pools",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l10_bench,
    };
    return lab_main(&prog, argc, argv);
}
