/* labs/10-pools/notes.c - scenarios `pool_blocking`, `pool_async`, `long_task`, `foobar`: the notes'
 * own multiprocessing.Pool programs, line for line.
 *
 * pool_blocking: Pool(5), pool.apply(task, args=(name,)) for 7 tasks (听音乐 ... 散步): apply blocks,
 *   so the transcript alternates 开始任务 / 完成任务 strictly in list order, then "over".  (The notes'
 *   comment on that line says 非阻塞, non-blocking: it is the blocking one.)
 * pool_async: the same 7 tasks with apply_async(..., callback=callback_func): 5 start at once, 2
 *   later; the callback appends each result to a list in the parent, so the list is in completion
 *   order; "over" last.
 * long_task: Pool(4), 5 x long_time_task (sleep 2): two waves, about 4 seconds; 等待所有子进程完成。
 *   is printed at once (apply_async does not wait); 结果: 1152921504606846976 (8**20) five times.
 *   Forced: each task is held at a gate between its sleep and its 结果 line until the wait line
 *   is out, so that line comes first however late the main thread gets the CPU.
 * foobar: Pool(5), 10 x apply_async(Foo, callback=Bar): "end" first, then 10 "-->exec done:" lines in
 *   completion order, printed by the parent; about 4 seconds (2 waves of 5).  Forced: the Foo
 *   tasks are held at a gate after their sleep until "end" is said.
 * Python <-> C: Pool(5) <-> l10_ppool_new(5, 0); pool.apply(task, args=(x,)) <-> l10_ppool_apply;
 *   pool.close(); pool.join() <-> l10_ppool_close(p); l10_ppool_join(p).
 * Usage: lab10 pool_blocking | pool_async | long_task | foobar
 * Watch for: where "over", 等待所有子进程完成。 and "end" land; the seconds each run takes.
 */
#include "lab.h"
#include "lab10.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const names[7] = { "听音乐", "打篮球", "洗衣服", "打游戏", "吃饭", "睡觉", "散步" };

static struct l10_args named(int i)
{
    struct l10_args a = { .a = i };
    snprintf(a.s, sizeof a.s, "%s", names[i]);
    return a;
}

/* ==== pool_blocking ==== */

int run_pool_blocking(int mode)
{
    (void)mode;
    struct l10_ppool *p = l10_ppool_new(5, 0);
    int ok = 1;
    for (int i = 0; i < 7; i++) {
        struct l10_value v;
        struct l10_args a = named(i);
        /* apply: blocks until this task is done, so the next one starts only then */
        ok &= l10_ppool_apply(p, T_NAMED_PRINT, &a, &v) == 0 && v.n == (l10_u128)i && v.pid != getpid();
    }
    l10_ppool_close(p);
    l10_ppool_join(p);
    l10_ppool_free(p);
    lab_say("over");
    lab_result("tasks=7 workers=5 transcript_ok=%d", ok);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== pool_async ==== */

static pthread_mutex_t box_m = PTHREAD_MUTEX_INITIALIZER;
static struct l10_value container[10];   /* guarded by box_m */
static int ncontainer;                   /* guarded by box_m */
static bool end_said;                    /* guarded by box_m (foobar) */
static int end_first;                    /* guarded by box_m (foobar) */

/* def callback_func(n): containner.append(n) - in the parent's result thread */
static void callback_func(const struct l10_value *v, void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&box_m);
    if (ncontainer < 10)
        container[ncontainer++] = *v;
    Pthread_mutex_unlock(&box_m);
}

int run_pool_async(int mode)
{
    (void)mode;
    ncontainer = 0;
    struct l10_ppool *p = l10_ppool_new(5, 0);
    for (int i = 0; i < 7; i++) {
        struct l10_args a = named(i);
        struct l10_future *f = l10_ppool_apply_async(p, T_NAMED, &a, callback_func, NULL);
        l10_future_free(f);       /* the notes keep no handle: the callback is the only way back */
    }
    l10_ppool_close(p);
    l10_ppool_join(p);
    l10_ppool_free(p);
    char order[32] = "";
    int seen = 0;
    Pthread_mutex_lock(&box_m);
    int n = ncontainer;
    for (int i = 0; i < n; i++) {
        lab_say("%s", container[i].s);
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s%d", i ? "," : "",
                 (int)container[i].n);
        seen |= 1 << (int)container[i].n;
    }
    Pthread_mutex_unlock(&box_m);
    lab_say("over");
    lab_result("tasks=7 workers=5 results=%d all_tasks=%d completion_order=%s over_last=1", n,
               seen == 0x7f, order);
    return n == 7 && seen == 0x7f ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== long_task ==== */

int run_long_task(int mode)
{
    (void)mode;
    lab_say("CPU内核数:%ld", sysconf(_SC_NPROCESSORS_ONLN));
    lab_say("当前母进程: %d", (int)getpid());
    double t0 = lab_now_ms();
    l10_hold_init();          /* the 结果 lines' gate: made before the workers fork */
    struct l10_ppool *p = l10_ppool_new(4, 0);
    struct l10_future *fs[5];
    for (int i = 0; i < 5; i++)
        fs[i] = l10_ppool_apply_async(p, T_LONG, &(struct l10_args){ .a = i }, NULL, NULL);
    lab_say("等待所有子进程完成。");
    int done_before = 0;
    for (int i = 0; i < 5; i++)
        done_before += l10_future_done(fs[i]);
    l10_gate_open();          /* forced: no 结果 line and no result before this point */
    l10_ppool_close(p);
    l10_ppool_join(p);
    double units = lab_elapsed_units(t0);
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        struct l10_value v;
        ok += l10_future_result(fs[i], &v, 0) == 0 && v.n == (l10_u128)1 << 60;
        l10_future_free(fs[i]);
    }
    l10_ppool_free(p);
    l10_forced_end();
    lab_say("总共用时%.2f秒", units);
    lab_result("workers=4 tasks=5 results_ok=%d done_when_waiting_line=%d waves=2 elapsed_units=%.1f", ok,
               done_before, units);
    return ok == 5 && done_before == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== foobar ==== */

/* def Bar(arg): print('-->exec done:', arg) - run by the parent */
static void bar(const struct l10_value *v, void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&box_m);                   /* the line and the note agree on the order */
    lab_say("-->exec done: %d", (int)v->n);
    if (ncontainer < 10)
        container[ncontainer++] = *v;
    if (ncontainer == 1)
        end_first = end_said;
    Pthread_mutex_unlock(&box_m);
}

int run_foobar(int mode)
{
    (void)mode;
    Pthread_mutex_lock(&box_m);
    ncontainer = 0;
    end_said = false;
    Pthread_mutex_unlock(&box_m);
    double t0 = lab_now_ms();
    l10_hold_init();          /* the Foo tasks' gate: before the workers fork, they inherit it */
    struct l10_ppool *p = l10_ppool_new(5, 0);
    for (int i = 0; i < 10; i++)
        l10_future_free(l10_ppool_apply_async(p, T_FOO, &(struct l10_args){ .a = i }, bar, NULL));
    Pthread_mutex_lock(&box_m);
    lab_say("end");
    end_said = true;
    Pthread_mutex_unlock(&box_m);
    l10_gate_open();          /* forced: no Foo returns, so no Bar runs, before "end" */
    l10_ppool_close(p);
    l10_ppool_join(p);
    l10_ppool_free(p);
    l10_forced_end();
    double units = lab_elapsed_units(t0);
    int seen = 0;
    Pthread_mutex_lock(&box_m);
    int n = ncontainer, first = end_first;
    for (int i = 0; i < n; i++)
        seen |= 1 << ((int)container[i].n - 100);
    Pthread_mutex_unlock(&box_m);
    lab_result("workers=5 end_first=%d callbacks=%d values=%s elapsed_units=%.1f", first, n,
               seen == 0x3ff ? "100..109" : "wrong", units);
    return first && n == 10 && seen == 0x3ff ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
