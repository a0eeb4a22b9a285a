/* labs/10-pools/procpool.c - scenarios `procpool`, `pool`, `maxtasks`, `crash`: the process pools.
 *
 * procpool: the notes' ProcessPoolExecutor(5) with pool.submit(task, i).add_done_callback(callback):
 *   5 worker pids serve the 20 tasks; the 20 callbacks run in the parent (its result thread), and
 *   add_done_callback returns nothing (the notes keep its None in t_list).  Both are forced
 *   (T_POWER_HELD): the first 5 tasks meet, so each worker takes one; every task is held after
 *   its sleep until all the callbacks are attached, so none finds its future already done.
 * pool: multiprocessing.Pool(3), the whole API the notes list: map, apply_async(...).get(), a list
 *   of apply_async, apply, map_async (not ready at once), imap, imap_unordered, starmap,
 *   get(timeout), callback in the parent, join before close refused, apply_async after close
 *   refused, close/join, and terminate with tasks still pending (never ready).  The three parts
 *   that a fast task could spoil (ready() at once, get(timeout), terminate) are forced: their
 *   tasks are held (T_HELD) until the caller has asked, however late it gets the CPU.
 * maxtasks: Pool(2, maxtasksperchild=2): each worker leaves after 2 tasks, a new pid takes its place.
 *   Forced (T_LOCKSTEP): each task meets one of the other worker, so the two workers alive take
 *   the tasks in turns, however late one of them gets the CPU.
 * crash: a task calls abort(), or the parent kills the worker running a task: the task's future
 *   reports it, a new worker takes the place, the pool goes on.  Forced: the kill waits until the
 *   pool says which worker runs the task.
 * Python <-> C: see ppool.c.  Usage: lab10 procpool [--workers=5] [--tasks=20] | lab10 pool |
 *   lab10 maxtasks [--maxtasks=2] | lab10 crash --mode=abort|kill
 * Watch for: the pids of the "n pid" lines (never the parent's); "callback>>" lines naming the
 *   parent's pid; the new pid after a crash or after maxtasksperchild.
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void check_procs(void)
{
    if (lab_opt_given("workers") && lab_opt("workers") > 64)
        lab_usage_error("--workers=%lld: a process pool has at most 64 workers", lab_opt("workers"));
}

static int distinct(const int *v, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < i; k++)
            seen |= v[k] == v[i];
        d += !seen;
    }
    return d;
}

/* ==== procpool ==== */

static pthread_mutex_t cb_m = PTHREAD_MUTEX_INITIALIZER;
static int callbacks, callbacks_in_parent, values_ok;    /* guarded by cb_m */

/* def callback(n): print('callback>>', n.result()) */
static void callback(struct l10_future *f, void *arg)
{
    long n = (long)arg;
    struct l10_value v;
    char num[48];
    int err = l10_future_result(f, &v, 0);
    bool parent = lab_is_main_process();
    lab_say("callback>> %s  (pid %d, %s)", err ? v.s : l10_u128_str(v.n, num), (int)getpid(),
            lab_thread_name(lab_current_thread()));
    Pthread_mutex_lock(&cb_m);
    callbacks++;
    callbacks_in_parent += parent;
    values_ok += err == 0 && v.n == l10_pow_nn((unsigned)n);
    Pthread_mutex_unlock(&cb_m);
}

int run_procpool(int mode)
{
    (void)mode;
    int workers = (int)lab_opt("workers"), tasks = (int)lab_opt("tasks");
    callbacks = callbacks_in_parent = values_ok = 0;
    lab_say("parent %d: pool = ProcessPoolExecutor(%d) forks %d workers now", (int)getpid(), workers,
            workers);
    /* Forced, before the workers fork (they inherit it): the first wave meets, so every worker
     * takes one of the first tasks; and the tasks are held after their sleep until every
     * callback is attached, so no callback runs at once in MainThread (a future already done). */
    l10_hold_init();
    l10_meet_init(workers < tasks ? workers : tasks, 1);
    struct l10_ppool *p = l10_ppool_new(workers, 0);
    struct l10_future **fs = xcalloc((size_t)tasks, sizeof *fs);
    for (int i = 0; i < tasks; i++) {
        fs[i] = l10_ppool_apply_async(p, T_POWER_HELD, &(struct l10_args){ .a = i }, NULL, NULL);
        l10_future_add_done_callback(fs[i], callback, (void *)(long)i);   /* returns void: None */
    }
    l10_gate_open();
    l10_ppool_close(p);              /* shutdown(wait=True) = close + join */
    l10_ppool_join(p);
    int *pids = xcalloc((size_t)tasks, sizeof *pids);
    int ne_parent = 1;
    for (int i = 0; i < tasks; i++) {
        struct l10_value v;
        l10_future_result(fs[i], &v, 0);
        pids[i] = v.pid;
        ne_parent &= v.pid != (int)getpid();
        l10_future_free(fs[i]);
    }
    int nworkers = distinct(pids, tasks);
    l10_ppool_free(p);
    l10_forced_end();
    free(fs);
    free(pids);
    Pthread_mutex_lock(&cb_m);
    int cbs = callbacks, in_parent = callbacks_in_parent, ok = values_ok;
    Pthread_mutex_unlock(&cb_m);
    lab_say("%d worker processes served %d tasks; %d callbacks ran in the parent", nworkers, tasks,
            in_parent);
    lab_result("workers=%d tasks=%d worker_pids=%d worker_pid_ne_parent=%d callbacks=%d "
               "callbacks_in_parent=%d callback_values_ok=%d add_done_callback_returns=void",
               workers, tasks, nworkers, ne_parent, cbs, in_parent, ok == tasks);
    return nworkers <= workers && ne_parent && cbs == tasks && in_parent == tasks && ok == tasks
               ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== pool ==== */

static char *list_str(char *buf, size_t len, const struct l10_value *v, size_t n)
{
    size_t k = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%d", i ? "," : "", (int)v[i].n);
    if (k < len)
        snprintf(buf + k, len - k, "]");
    return buf;
}

static pid_t cb_pid;
static void note_pid(const struct l10_value *v, void *arg)
{
    (void)v;
    (void)arg;
    Pthread_mutex_lock(&cb_m);
    cb_pid = getpid();
    Pthread_mutex_unlock(&cb_m);
}

int run_pool(int mode)
{
    (void)mode;
    struct l10_args a[10];
    struct l10_value v[10], one;
    char map_s[80], list_s[80], imap_s[80], star_s[40], async_s[80];
    for (int i = 0; i < 10; i++)
        a[i] = (struct l10_args){ .a = i };
    l10_hold_init();   /* before the workers are forked: they inherit it (get(timeout) below) */
    struct l10_ppool *p = l10_ppool_new(3, 0);
    lab_say("pool = mp.Pool(processes=3)");

    l10_ppool_map(p, T_SQUARE, a, 10, v);
    lab_say("pool.map(job, range(10)) = %s", list_str(map_s, sizeof map_s, v, 10));

    struct l10_future *f = l10_ppool_apply_async(p, T_SQUARE, &(struct l10_args){ .a = 2 }, note_pid, NULL);
    l10_future_result(f, &one, -1);
    l10_future_free(f);
    int apply_async = (int)one.n;
    lab_say("pool.apply_async(job, (2,)).get() = %d", apply_async);

    struct l10_future **fs = l10_ppool_map_async(p, T_SQUARE, a, 10);
    for (int i = 0; i < 10; i++) {
        l10_future_result(fs[i], &v[i], -1);
        l10_future_free(fs[i]);
    }
    free(fs);
    lab_say("[res.get() for res in multi_res] = %s", list_str(list_s, sizeof list_s, v, 10));

    l10_ppool_apply(p, T_SQUARE, &(struct l10_args){ .a = 5 }, &one);
    int apply = (int)one.n;
    lab_say("pool.apply(job, (5,)) = %d  (blocking: apply_async + get)", apply);

    /* Forced: the sleepers are held until ready() has been asked, so it is False on every run. */
    struct l10_args sl[4] = { { .a = 30 }, { .a = 10 }, { .a = 20 }, { .a = 0 } };
    fs = l10_ppool_map_async(p, T_HELD, sl, 4);
    int ready_now = l10_future_done(fs[0]) && l10_future_done(fs[1]) && l10_future_done(fs[2]) &&
                    l10_future_done(fs[3]);
    for (int i = 0; i < 4; i++)
        l10_hold_release();
    for (int i = 0; i < 4; i++) {                    /* imap: one by one, in input order */
        l10_future_result(fs[i], &v[i], -1);
        l10_future_free(fs[i]);
    }
    free(fs);
    lab_say("r = pool.map_async(sleeper, [30, 10, 20, 0]); r.ready() = %s at once; "
            "list(pool.imap(...)) = %s", ready_now ? "True" : "False", list_str(imap_s, sizeof imap_s, v, 4));

    fs = l10_ppool_map_async(p, T_SLEEP, sl, 4);     /* imap_unordered: as they complete */
    size_t order[4];
    size_t got = l10_as_completed(fs, 4, order, lab_bound_ms(1));
    int seen = 0;
    for (size_t i = 0; i < got; i++) {
        l10_future_result(fs[order[i]], &one, 0);
        seen |= 1 << (one.n == 30 ? 0 : one.n == 10 ? 1 : one.n == 20 ? 2 : one.n == 0 ? 3 : 4);
    }
    for (int i = 0; i < 4; i++)
        l10_future_free(fs[i]);
    free(fs);
    int unordered_ok = got == 4 && seen == 15;
    lab_say("pool.imap_unordered(...): all 4 results, in the order they completed");

    struct l10_args st[3] = { { .a = 1, .b = 2 }, { .a = 3, .b = 4 }, { .a = 5, .b = 6 } };
    l10_ppool_map(p, T_MUL, st, 3, v);
    lab_say("pool.starmap(mul, [(1, 2), (3, 4), (5, 6)]) = %s", list_str(star_s, sizeof star_s, v, 3));

    /* Forced: the sleeper is held after its unit until get(timeout) has given up (the hold was
     * made before the pool's workers were forked), so the TimeoutError comes on every run. */
    f = l10_ppool_apply_async(p, T_HELD, &(struct l10_args){ .a = 100 }, NULL, NULL);
    int tmo = l10_future_result(f, &one, lab_units_ms(0.1));
    lab_say("pool.apply_async(sleeper, (100,)).get(timeout=0.1): %s",
            tmo == ETIMEDOUT ? "multiprocessing.TimeoutError" : "a result");
    l10_hold_release();
    l10_future_result(f, &one, -1);
    l10_future_free(f);

    int jbc = l10_ppool_join(p);
    if (jbc == EINVAL)
        lab_say("pool.join() before close(): ValueError: Pool is still running");
    l10_ppool_close(p);
    errno = 0;
    f = l10_ppool_apply_async(p, T_SQUARE, &(struct l10_args){ .a = 1 }, NULL, NULL);
    int sac = f ? 0 : errno;
    if (sac == EINVAL)
        lab_say("pool.apply_async(...) after close(): ValueError: Pool not running");
    l10_future_free(f);
    l10_ppool_join(p);
    l10_ppool_free(p);
    Pthread_mutex_lock(&cb_m);
    int cb_parent = cb_pid == getpid();
    Pthread_mutex_unlock(&cb_m);

    /* terminate with work pending: 6 tasks of 2 units on 2 workers, terminated at once.  Forced:
     * the tasks are held (never released), so none is ready however late terminate() comes. */
    l10_hold_init();
    p = l10_ppool_new(2, 0);
    struct l10_args six[6];
    for (int i = 0; i < 6; i++)
        six[i] = (struct l10_args){ .a = 200 };
    fs = l10_ppool_map_async(p, T_HELD, six, 6);
    l10_ppool_terminate(p);
    l10_ppool_join(p);
    int ready = 0;
    for (int i = 0; i < 6; i++) {
        ready += l10_future_result(fs[i], &one, 0) == 0;
        l10_future_free(fs[i]);
    }
    free(fs);
    l10_ppool_free(p);
    l10_forced_end();
    lab_say("pool.terminate() with 6 tasks pending: %d of 6 ready (the rest cancelled)", ready);

    snprintf(async_s, sizeof async_s, "%s", list_s);
    lab_result("map=%s apply_async=%d apply_async_list=%s apply=%d map_async_ready_immediately=%d "
               "imap=%s imap_unordered_ok=%d starmap=%s get_timeout=%s join_before_close=%s "
               "submit_after_close=%s callback_in_parent=%d terminate_pending_ready=%d",
               map_s, apply_async, async_s, apply, ready_now, imap_s, unordered_ok, star_s,
               l10_errname(tmo), l10_errname(jbc), l10_errname(sac), cb_parent, ready);
    bool ok = strcmp(map_s, "[0,1,4,9,16,25,36,49,64,81]") == 0 && strcmp(map_s, list_s) == 0 &&
              apply_async == 4 && apply == 25 && strcmp(imap_s, "[30,10,20,0]") == 0 && unordered_ok &&
              strcmp(star_s, "[2,12,30]") == 0 && jbc == EINVAL && sac == EINVAL && cb_parent && ready == 0;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== maxtasks ==== */

int run_maxtasks(int mode)
{
    (void)mode;
    int k = (int)lab_opt("maxtasks"), n = 8;
    lab_say("pool = Pool(2, maxtasksperchild=%d): a worker leaves after %d tasks, a new one replaces it",
            k, k);
    /* Forced, before the workers fork: each task meets one task of the other worker (every
     * meeting, not only the first), so the two take the tasks in turns: each serves its k tasks
     * and leaves, and the next two pids serve the next ones, whenever each gets the CPU. */
    l10_hold_init();
    l10_meet_init(2, -1);
    struct l10_ppool *p = l10_ppool_new(2, k);
    struct l10_args a[8];
    for (int i = 0; i < n; i++)
        a[i] = (struct l10_args){ .a = 5 };
    struct l10_future **fs = l10_ppool_map_async(p, T_LOCKSTEP, a, (size_t)n);
    int pids[8], per_max = 0;
    for (int i = 0; i < n; i++) {
        struct l10_value v;
        l10_future_result(fs[i], &v, -1);
        pids[i] = v.pid;
        lab_say("task %d ran in worker %d", i, v.pid);
        l10_future_free(fs[i]);
    }
    free(fs);
    l10_ppool_close(p);
    l10_ppool_join(p);
    int served = distinct(pids, n);
    for (int i = 0; i < n; i++) {
        int c = 0;
        for (int j = 0; j < n; j++)
            c += pids[j] == pids[i];
        per_max = c > per_max ? c : per_max;
    }
    int replaced = l10_ppool_replaced(p), crashes = l10_ppool_crashes(p);
    l10_ppool_free(p);
    l10_forced_end();
    lab_say("%d pids served %d tasks, at most %d each; %d workers replaced", served, n, per_max, replaced);
    lab_result("workers=2 tasks=%d maxtasks=%d serving_pids=%d max_tasks_per_pid=%d replaced=%d crashes=%d",
               n, k, served, per_max, replaced, crashes);
    return per_max <= k && crashes == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== crash ==== */

int run_crash(int mode)
{
    struct l10_ppool *p = l10_ppool_new(2, 0);
    pid_t before[2];
    l10_ppool_pids(p, before, 2);
    lab_say("pool = Pool(2): workers %d and %d", (int)before[0], (int)before[1]);
    struct l10_future *bad;
    if (mode == CRASH_ABORT) {
        bad = l10_ppool_apply_async(p, T_ABORT, &(struct l10_args){ .a = 1 }, NULL, NULL);
    } else {
        bad = l10_ppool_apply_async(p, T_SLEEP, &(struct l10_args){ .a = 100000 }, NULL, NULL);
        pid_t victim = 0;
        double end = lab_now_ms() + lab_bound_ms(1);
        while (!(victim = l10_ppool_worker_of(p, l10_future_id(bad))) && lab_now_ms() < end)
            lab_sleep_ms(1);
        lab_say("kill -9 %d (the worker running task 1)", (int)victim);
        if (victim)
            kill(victim, SIGKILL);
    }
    struct l10_value v = { 0 };
    int err = l10_future_result(bad, &v, lab_bound_ms(10));
    lab_say("task 1: get() -> %s: %s", l10_errname(err), err ? v.s : "a result");
    int sig = 0;
    const char *s = strstr(v.s, "(signal ");
    if (s)
        sig = atoi(s + 8);
    l10_future_free(bad);

    /* The pool goes on: 4 more tasks, on the surviving worker and the replacement. */
    struct l10_args a[4];
    struct l10_value out[4];
    for (int i = 0; i < 4; i++)
        a[i] = (struct l10_args){ .a = i + 2 };
    int rc = l10_ppool_map(p, T_SQUARE, a, 4, out);
    int still = rc == 0 && out[0].n == 4 && out[3].n == 25;
    pid_t after[2];
    size_t nafter = l10_ppool_pids(p, after, 2);
    int new_pid = nafter == 2 && after[0] != before[0] && after[0] != before[1] ? 1 :
                  nafter == 2 && after[1] != before[0] && after[1] != before[1] ? 1 : 0;
    lab_say("pool.map(job, [2, 3, 4, 5]) = [%d,%d,%d,%d]; workers now %d and %d", (int)out[0].n,
            (int)out[1].n, (int)out[2].n, (int)out[3].n, (int)after[0], (int)after[1]);
    l10_ppool_close(p);
    l10_ppool_join(p);
    int crashes = l10_ppool_crashes(p), replaced = l10_ppool_replaced(p);
    l10_ppool_free(p);
    lab_result("crashed_future=%s signal=%s crashes=%d replaced=%d new_pid=%d workers_after=%zu "
               "pool_still_works=%d",
               l10_errname(err), sig == SIGABRT ? "SIGABRT" : sig == SIGKILL ? "SIGKILL" : "none",
               crashes, replaced, new_pid, nafter, still);
    int want_sig = mode == CRASH_ABORT ? SIGABRT : SIGKILL;
    return err == L10_EWORKER && sig == want_sig && crashes == 1 && replaced == 1 && new_pid && still
               ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
