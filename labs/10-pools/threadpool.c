/* labs/10-pools/threadpool.c - scenarios `threadpool`, `futures`, `sync_async`: ThreadPoolExecutor.
 *
 * threadpool: the notes' example.  ThreadPoolExecutor(5), 20 tasks task(n) (print n and the pid,
 *   sleep 2, return n**n), shutdown(), then every result in submission order.  Five threads serve
 *   all twenty tasks (4 waves of 2 "seconds"), one pid; submit after shutdown is refused.
 * futures: the rest of the API, each part forced: result(timeout) on a running task (TimeoutError),
 *   add_done_callback on a pending future (runs in the worker) and on a done one (runs at once in
 *   the caller), a task's error carried to result(), map() in input order, as_completed() in
 *   completion order (the tasks finish in an order the main thread dictates), wait(FIRST_COMPLETED)
 *   and wait(ALL_COMPLETED).
 * sync_async: the notes' 同步/异步: submit then result() at once, task by task (tasks x 2), or submit
 *   all, then collect (ceil(tasks / workers) x 2).
 * Python <-> C: pool.submit(task, i) <-> l10_tpool_submit(p, task, &a); res.result() <->
 *   l10_future_result(f, &v, -1); pool.shutdown() <-> l10_tpool_shutdown(p, true).
 * Usage: lab10 threadpool [--workers=5] [--tasks=20] | lab10 futures [--timeout=5] |
 *        lab10 sync_async --mode=sync|async [--workers=5] [--tasks=20]
 * Watch for: at most 5 thread names in the "n pid thread" lines; the 20 ">>>" lines in order even
 *   though the tasks finish in any order; "callback in ThreadPoolExecutor-..." vs "in MainThread".
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==== threadpool ==== */

static pthread_mutex_t seen_m = PTHREAD_MUTEX_INITIALIZER;
static pid_t seen_tid[64], seen_pid[64];
static int nseen_tid, nseen_pid;

static void seen_add(pid_t *set, int *n, pid_t v)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == v)
            return;
    if (*n < 64)
        set[(*n)++] = v;
}

/* The notes' task, and a note of which thread and process ran it.  Forced: the first wave meets
 * (l10_meet_init(workers, 1)), so every worker takes one of the first tasks, however late one of
 * them gets the CPU (the others, busy at the meeting, cannot take its task). */
static int counted_power(const struct l10_args *in, struct l10_value *out)
{
    int rc = l10_meet();
    if (rc) {
        snprintf(out->s, sizeof out->s, "the first wave never met (%s)", lab_errno_name(rc));
        return rc;
    }
    Pthread_mutex_lock(&seen_m);
    seen_add(seen_tid, &nseen_tid, gettid());
    seen_add(seen_pid, &nseen_pid, getpid());
    Pthread_mutex_unlock(&seen_m);
    return l10_tasks[T_POWER](in, out);
}

int run_threadpool(int mode)
{
    (void)mode;
    int workers = (int)lab_opt("workers"), tasks = (int)lab_opt("tasks");
    nseen_tid = nseen_pid = 0;
    lab_say("pool = ThreadPoolExecutor(%d): %d threads made now, reused for every task", workers,
            workers);
    l10_hold_init();
    l10_meet_init(workers < tasks ? workers : tasks, 1);
    struct l10_tpool *p = l10_tpool_new(workers);
    struct l10_future **fs = xcalloc((size_t)tasks, sizeof *fs);
    double t0 = lab_now_ms();
    for (int i = 0; i < tasks; i++)
        fs[i] = l10_tpool_submit(p, counted_power, &(struct l10_args){ .a = i });
    lab_say("%d tasks submitted (asynchronous: submit returned at once, %.2f units)", tasks,
            lab_elapsed_units(t0));
    l10_tpool_shutdown(p, true);          /* waits for every task */
    double units = lab_elapsed_units(t0);
    int in_order = 1;
    for (int i = 0; i < tasks; i++) {
        struct l10_value v;
        char num[48];
        int err = l10_future_result(fs[i], &v, 0);
        if (err || v.n != l10_pow_nn((unsigned)i))
            in_order = 0;
        lab_say(">>> %s", l10_u128_str(v.n, num));
        l10_future_free(fs[i]);
    }
    errno = 0;
    struct l10_future *late = l10_tpool_submit(p, counted_power, &(struct l10_args){ .a = 1 });
    int late_err = late ? 0 : errno;
    if (late_err == ESHUTDOWN)
        lab_say("pool.submit after shutdown: RuntimeError: cannot schedule new futures after shutdown");
    l10_future_free(late);
    l10_tpool_free(p);
    l10_forced_end();
    free(fs);
    lab_say("%d threads served %d tasks in one process; %.1f units (%d waves of 2)", nseen_tid, tasks,
            units, (tasks + workers - 1) / workers);
    lab_result("workers=%d tasks=%d distinct_pids=%d distinct_tids=%d results_in_order=%d "
               "submit_after_shutdown=%s elapsed_units=%.1f",
               workers, tasks, nseen_pid, nseen_tid, in_order, l10_errname(late_err), units);
    bool ok = in_order && nseen_pid == 1 && nseen_tid <= workers && late_err == ESHUTDOWN;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== futures ==== */

/* Gate tasks finish in the order the main thread dictates: task with rank r waits until turn == r;
 * a done-callback moves the turn on, after the future is complete. */
static pthread_mutex_t gate_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_c;
static int turn;

static void gate_init(void)
{
    lab_cond_init(&gate_c, 0);
    turn = -1;
}

static void gate_set(int t)
{
    Pthread_mutex_lock(&gate_m);
    turn = t;
    Pthread_cond_broadcast(&gate_c);
    Pthread_mutex_unlock(&gate_m);
}

static int gate_task(const struct l10_args *in, struct l10_value *out)
{
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1));
    int rc = 0;
    Pthread_mutex_lock(&gate_m);
    while (turn != in->a && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate_c, &gate_m, &dl);
    Pthread_mutex_unlock(&gate_m);
    out->n = (l10_u128)in->b;
    return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

/* Wait (bounded) until the turn is t: the done-callbacks that move it on run in the workers after
 * their futures are complete, so the caller may see every future done before the last callback ran. */
static void gate_wait(int t)
{
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1));
    int rc = 0;
    Pthread_mutex_lock(&gate_m);
    while (turn != t && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate_c, &gate_m, &dl);
    Pthread_mutex_unlock(&gate_m);
}

static void gate_next(struct l10_future *f, void *arg)
{
    (void)f;
    (void)arg;
    Pthread_mutex_lock(&gate_m);
    turn++;
    Pthread_cond_broadcast(&gate_c);
    Pthread_mutex_unlock(&gate_m);
}

/* A callback that notes the thread it ran in. */
static pthread_mutex_t cb_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_c;
static char cb_thread[2][64];      /* guarded by cb_m */
static void note_thread(struct l10_future *f, void *arg)
{
    struct l10_value v;
    char num[48];
    l10_future_result(f, &v, 0);
    const char *name = lab_thread_name(lab_current_thread());
    Pthread_mutex_lock(&cb_m);
    snprintf(cb_thread[(long)arg], sizeof cb_thread[0], "%s", name);
    Pthread_cond_broadcast(&cb_c);
    Pthread_mutex_unlock(&cb_m);
    lab_say("callback>> %s  (ran in %s)", l10_u128_str(v.n, num), name);
}

static const char *where(const char *name)
{
    return strcmp(name, "MainThread") == 0 ? "caller" : strncmp(name, "ThreadPool", 10) == 0 ? "worker" : "other";
}

int run_futures(int mode)
{
    (void)mode;
    double timeout = (double)lab_opt("timeout") / 10.0;
    struct l10_tpool *p = l10_tpool_new(4);
    struct l10_value v;
    char num[48];
    gate_init();
    lab_cond_init(&cb_c, 0);
    int bad = 0;

    /* 1. result(timeout) on a task that runs 1 unit.  A timeout shorter than the task is forced:
     * the task is held after its sleep until result(timeout) has given up, so the TimeoutError
     * comes on every run, even when this thread gets the CPU only after the task's unit. */
    bool forced = timeout < 1.0;
    if (forced)
        l10_hold_init();
    struct l10_future *f = l10_tpool_submit(p, l10_tasks[forced ? T_HELD : T_SLEEP], &(struct l10_args){ .a = 100 });
    int r1 = l10_future_result(f, &v, lab_units_ms(timeout));
    lab_say("f.result(timeout=%.1f) on a 1-second task: %s", timeout,
            r1 == ETIMEDOUT ? "TimeoutError (the task goes on)" : "done in time");
    if (forced)
        l10_hold_release();
    int r2 = l10_future_result(f, &v, lab_bound_ms(1));
    if (forced)
        l10_forced_end();
    lab_say("f.result(): %s", l10_u128_str(v.n, num));
    int result_after = r2 == 0 ? (int)v.n : -1;
    bad |= result_after != 100;
    l10_future_free(f);

    /* 2. add_done_callback on a pending future, then on a done one. */
    gate_set(-1);
    f = l10_tpool_submit(p, gate_task, &(struct l10_args){ .a = 0, .b = 7 });
    bool at_once = l10_future_add_done_callback(f, note_thread, (void *)0);   /* pending: worker */
    gate_set(0);
    l10_future_result(f, &v, lab_bound_ms(1));
    bool at_once2 = l10_future_add_done_callback(f, note_thread, (void *)1);  /* done: caller */
    /* the first callback may still be running after result() returned: wait for its note */
    Pthread_mutex_lock(&cb_m);
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1));
    while (!cb_thread[0][0] && pthread_cond_timedwait(&cb_c, &cb_m, &dl) == 0)
        ;
    const char *cb_pending = where(cb_thread[0]), *cb_done = where(cb_thread[1]);
    Pthread_mutex_unlock(&cb_m);
    l10_future_free(f);
    bad |= at_once || !at_once2;

    /* 3. a task's error is carried to result(). */
    f = l10_tpool_submit(p, l10_tasks[T_RAISE], &(struct l10_args){ .a = 1 });
    int r3 = l10_future_result(f, &v, lab_bound_ms(1));
    lab_say("f.result() of a task that raised: %s (%s)", v.s, l10_errname(r3));
    bool name_error = r3 == ENOENT && strncmp(v.s, "NameError", 9) == 0;
    l10_future_free(f);

    /* 4. map: results in input order, whatever order the tasks end in. */
    struct l10_args margs[4] = { { .a = 60 }, { .a = 20 }, { .a = 40 }, { .a = 0 } };
    struct l10_value mout[4];
    l10_tpool_map(p, l10_tasks[T_SLEEP], margs, 4, mout);
    char mapped[64];
    snprintf(mapped, sizeof mapped, "[%d,%d,%d,%d]", (int)mout[0].n, (int)mout[1].n, (int)mout[2].n,
             (int)mout[3].n);
    lab_say("list(pool.map(sleeper, [60, 20, 40, 0])) = %s  (input order)", mapped);

    /* 5. as_completed: ranks 3,1,2,0 -> the futures complete as indices 3,1,2,0. */
    static const int rank[4] = { 3, 1, 2, 0 };
    struct l10_future *fs[4];
    gate_set(-1);
    for (int i = 0; i < 4; i++)
        fs[i] = l10_tpool_submit(p, gate_task, &(struct l10_args){ .a = rank[i], .b = i });
    struct l10_ac *ac = l10_as_completed_begin(fs, 4, lab_bound_ms(1));
    for (int i = 0; i < 4; i++)
        l10_future_add_done_callback(fs[i], gate_next, NULL);   /* after as_completed's own */
    gate_set(0);
    char order[32] = "";
    size_t idx;
    for (int k = 0; l10_as_completed_next(ac, &idx) == 0; k++)
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s%zu", k ? "," : "", idx);
    l10_as_completed_end(ac);
    gate_wait(4);   /* the last callback has moved the turn on: it cannot touch part 6's gate */
    lab_say("as_completed(fs): futures %s  (completion order, not submission order)", order);
    for (int i = 0; i < 4; i++)
        l10_future_free(fs[i]);

    /* 6. wait(FIRST_COMPLETED) then wait(ALL_COMPLETED): the second task is held until after. */
    gate_set(-1);
    fs[0] = l10_tpool_submit(p, gate_task, &(struct l10_args){ .a = -1, .b = 1 });   /* free */
    fs[1] = l10_tpool_submit(p, gate_task, &(struct l10_args){ .a = 5, .b = 2 });    /* held */
    size_t first = l10_wait(fs, 2, L10_FIRST_COMPLETED, lab_bound_ms(1));
    gate_set(5);
    size_t all = l10_wait(fs, 2, L10_ALL_COMPLETED, lab_bound_ms(1));
    lab_say("wait(fs, FIRST_COMPLETED): %zu done; wait(fs, ALL_COMPLETED): %zu done", first, all);
    for (int i = 0; i < 2; i++)
        l10_future_free(fs[i]);

    l10_tpool_shutdown(p, true);
    l10_tpool_free(p);
    bad |= !name_error || strcmp(mapped, "[60,20,40,0]") != 0 || strcmp(order, "3,1,2,0") != 0 ||
           first != 1 || all != 2 || strcmp(cb_pending, "worker") || strcmp(cb_done, "caller");
    lab_result("timeout=%s result_after=%d cb_pending_in=%s cb_done_in=%s error=%s map=%s "
               "as_completed=%s wait_first=%zu wait_all=%zu",
               l10_errname(r1), result_after, cb_pending, cb_done,
               name_error ? "NameError" : l10_errname(r3), mapped, order, first, all);
    return bad ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}

/* ==== sync_async ==== */

static int sleep2(const struct l10_args *in, struct l10_value *out)
{
    lab_sleep(2);
    out->n = (l10_u128)in->a;
    return 0;
}

int run_sync_async(int mode)
{
    int workers = (int)lab_opt("workers"), tasks = (int)lab_opt("tasks");
    if (lab_in_demo() && !lab_opt_given("tasks"))
        tasks = workers;             /* the tour stays short: sync 5 x 2 s, async 1 x 2 s */
    struct l10_tpool *p = l10_tpool_new(workers);
    struct l10_future **fs = xcalloc((size_t)tasks, sizeof *fs);
    struct l10_value v;
    double t0 = lab_now_ms();
    int ok = 1;
    if (mode == SA_SYNC) {
        lab_say("同步 (sync): submit, then result() at once - the caller waits for each task");
        for (int i = 0; i < tasks; i++) {
            fs[i] = l10_tpool_submit(p, sleep2, &(struct l10_args){ .a = i });
            ok &= l10_future_result(fs[i], &v, lab_bound_ms(2)) == 0 && v.n == (l10_u128)i;
            l10_future_free(fs[i]);
        }
    } else {
        lab_say("异步 (async): submit all %d, then collect - the caller goes on at once", tasks);
        for (int i = 0; i < tasks; i++)
            fs[i] = l10_tpool_submit(p, sleep2, &(struct l10_args){ .a = i });
        lab_say("all submitted after %.2f units", lab_elapsed_units(t0));
        for (int i = 0; i < tasks; i++) {
            ok &= l10_future_result(fs[i], &v, lab_bound_ms(2 * tasks)) == 0 && v.n == (l10_u128)i;
            l10_future_free(fs[i]);
        }
    }
    double units = lab_elapsed_units(t0);
    int expected = mode == SA_SYNC ? 2 * tasks : 2 * ((tasks + workers - 1) / workers);
    l10_tpool_shutdown(p, true);
    l10_tpool_free(p);
    free(fs);
    lab_say("%d tasks of 2 units on %d workers: %.1f units (expected about %d)", tasks, workers, units,
            expected);
    lab_result("tasks=%d workers=%d units=%.1f expected_units=%d results_ok=%d", tasks, workers, units,
               expected, ok);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
