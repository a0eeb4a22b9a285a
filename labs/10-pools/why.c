/* labs/10-pools/why.c - scenario `why_pools`: what a pool saves, measured here and now.
 *
 * The notes (池): making a process or a thread costs resources, so a program must not make one per
 * task without limit; a pool makes a few once and reuses them.  One chapter says thread pools are
 * unnecessary because threads are cheap (由于启动线程的开销比较小，所以不需要线程池这种概念); the other
 * builds one (ThreadPoolExecutor).  This scenario measures both sides: the same trivial tasks run
 *   - with a new thread per task (pthread_create + join) and on a thread pool of 2;
 *   - with a new process per task (Process(target).start() + join: fork + waitpid) and on a
 *     process pool of 2 (two process queues, no fork per task).
 * Python <-> C: Thread(target=t).start(); t.join() <-> pthread_create + pthread_join;
 *   Process(...).start(); p.join() <-> lab_proc_start + lab_proc_join.
 * Usage: lab10 why_pools [--count=2000]
 * Watch for: microseconds per task, and the two ratios (a worker per task / a pool).  The count
 * follows the pace (--count, else 50 x LAB_SECOND_MS: 5000 thread tasks and 500 process tasks at
 * the default pace, 100 ms or more for a thread or a process per task), and the verdict of each
 * ratio is chosen by the number (timing.h): a pool at least WHY_SHOWN times cheaper per task shows
 * the lesson.  The test checks that every task ran and that the verdicts follow the ratios.
 */
#define WHY_COUNT_PER_SECOND 5e4
#define WHY_SHOWN 2.0
#include "lab.h"
#include "lab10.h"
#include "timing.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_long ran;

static void *one_task(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return NULL;
}

static void pool_task(void *arg) { one_task(arg); }

static int proc_task(struct lab_proc *self)
{
    (void)self;
    return 0;
}

int run_why_pools(int mode)
{
    (void)mode;
    long n = lab_opt_given("count") ? (long)lab_opt("count") : (long)lab_timing_work(WHY_COUNT_PER_SECOND);
    if (n < 10)
        n = 10;
    long np = n / 10 > 0 ? n / 10 : 1;
    atomic_store(&ran, 0);

    double t0 = lab_now_ms();
    for (long i = 0; i < n; i++) {                 /* a thread per task */
        pthread_t t;
        Pthread_create(&t, NULL, one_task, NULL);
        Pthread_join(t, NULL);
    }
    double per_thread = lab_elapsed_ms(t0) * 1000.0 / (double)n;

    t0 = lab_now_ms();
    struct l10_tpool *tp = l10_tpool_new(2);       /* a thread pool, made once */
    for (long i = 0; i < n; i++)
        l10_tpool_execute(tp, pool_task, NULL);
    l10_tpool_wait_idle(tp, lab_bound_ms(100));
    l10_tpool_free(tp);
    double per_tpool = lab_elapsed_ms(t0) * 1000.0 / (double)n;
    long threads_ran = atomic_load(&ran);

    t0 = lab_now_ms();
    int procs_ok = 0;
    for (long i = 0; i < np; i++) {                /* a process per task */
        struct lab_proc pr = LAB_PROC_INIT(proc_task, NULL);
        lab_proc_start_or_die(&pr);
        procs_ok += lab_proc_join(&pr) == 0;
    }
    double per_proc = lab_elapsed_ms(t0) * 1000.0 / (double)np;

    t0 = lab_now_ms();
    struct l10_ppool *pp = l10_ppool_new(2, 0);    /* a process pool: 2 forks in all */
    /* allocated after the fork, so the workers do not inherit (and never free) them */
    struct l10_args *a = xcalloc((size_t)np, sizeof *a);
    struct l10_value *v = xcalloc((size_t)np, sizeof *v);
    int rc = l10_ppool_map(pp, T_NOP, a, (size_t)np, v);
    l10_ppool_close(pp);
    l10_ppool_join(pp);
    l10_ppool_free(pp);
    double per_ppool = lab_elapsed_ms(t0) * 1000.0 / (double)np;
    free(a);
    free(v);

    lab_say("%ld tasks: a thread per task %8.2f us/task, a pool of 2 threads  %8.2f us/task",
            n, per_thread, per_tpool);
    lab_say("%ld tasks: a process per task %7.2f us/task, a pool of 2 processes %7.2f us/task",
            np, per_proc, per_ppool);
    struct lab_timing th = { .part = "threads", .ratio = per_tpool > 0 ? per_thread / per_tpool : 0,
                             .want = WHY_SHOWN, .cpus = 1 };
    struct lab_timing pr = { .part = "processes", .ratio = per_ppool > 0 ? per_proc / per_ppool : 0,
                             .want = WHY_SHOWN, .cpus = 1 };
    lab_timing_judge(&th, "a pool of threads %.2fx cheaper per task than a thread per task", th.ratio);
    lab_timing_judge(&pr, "a pool of processes %.2fx cheaper per task than a process per task", pr.ratio);
    if (th.shown && pr.shown)
        lab_say("making the worker costs more than the task: a pool pays that once, not per task");
    else
        lab_say("a pool pays the worker's cost once, not per task: this run could not show it for %s",
                th.shown ? "processes" : pr.shown ? "threads" : "either");
    bool ok = threads_ran == 2 * n && procs_ok == np && rc == 0;
    lab_result("tasks=%ld process_tasks=%ld all_ran=%d thread_per_task_us=%.2f thread_pool_us=%.2f "
               "process_per_task_us=%.2f process_pool_us=%.2f thread_ratio=%.2f thread_shown=%d "
               "process_ratio=%.2f process_shown=%d",
               n, np, ok, per_thread, per_tpool, per_proc, per_ppool, th.ratio, th.shown, pr.ratio, pr.shown);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
