/* labs/10-pools/tasks.c - the notes' task functions, in one table that both pools use.
 *
 * A process pool cannot send a C function to a worker the way Python pickles a reference to a
 * module-level function; but a forked worker runs the same program image, so the parent sends the
 * task's *index* in this table and the worker calls l10_tasks[index] (after an exec the addresses
 * would differ under ASLR; an index stays valid).
 * Python <-> C: def task(n): print(n, os.getpid()); time.sleep(2); return n**n  <->  t_power;
 *   8**20 and 19**19 need more than 64 bits for the second: unsigned __int128 and a decimal
 *   printer (Python's ints have no limit).
 * Every line a task prints is written with one write(2) (l10_say), never through stdio: a worker
 * process forked while another thread of the parent held stdout's lock would otherwise block on
 * that lock forever.
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <semaphore.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void l10_say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    for (char *p = buf; n > 0;) {
        ssize_t w = write(STDOUT_FILENO, p, (size_t)n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (int)w;
    }
}

const char *l10_errname(int err)
{
    return err == ESHUTDOWN ? "ESHUTDOWN" : lab_errno_name(err);
}

char *l10_u128_str(l10_u128 v, char *buf)
{
    char tmp[48];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int j = 0; j < i; j++)
        buf[j] = tmp[i - 1 - j];
    buf[i] = '\0';
    return buf;
}

l10_u128 l10_pow_nn(unsigned n)
{
    l10_u128 r = 1;
    for (unsigned i = 0; i < n; i++)
        r *= n;
    return r;       /* 0**0 == 1, as in Python */
}

/* ==== What the forced tasks wait on ====
 * One block in a shared mapping, made before a pool's workers fork (a worker process inherits it,
 * a worker thread shares it anyway), so that a worker and the caller both see it:
 *   - the hold (T_HELD): a semaphore; each l10_hold_release lets one held task end;
 *   - the gate (T_POWER_HELD, T_LONG, T_FOO): closed until l10_gate_open, then open for good;
 *   - the meeting point (l10_meet; T_POWER_HELD, T_LOCKSTEP): each task waits there until
 *     `parties` tasks have come, for `rounds` rounds (then it lets every task by at once).
 * Every wait is bounded (lab_bound_ms): a caller that never lets go cannot hang a worker.
 * The block is made once, by the first l10_hold_init, and lives as long as the process: a task
 * whose caller stopped waiting for it too early (the handout's result() before the student writes
 * it returns at once) may still come to it, and must find it there.  l10_hold_init starts a part
 * (the gate closed, no meeting); l10_forced_end ends it (the gate open for good, the meetings
 * over, a task still waiting let go), so a later part that does not use the block passes. */
struct l10_forced {
    sem_t hold;
    pthread_mutex_t m;               /* process-shared, as is c */
    pthread_cond_t c;                /* the gate opened, or a meeting is complete */
    bool open;                       /* guarded by m: the gate */
    int parties, rounds;             /* guarded by m: the meeting point; rounds < 0: no end */
    int arrived, generation;         /* guarded by m: tasks waiting now, meetings complete */
};
static struct l10_forced *forced;

void l10_hold_init(void)
{
    if (forced == NULL) {
        struct l10_forced *f = lab_shared_alloc(sizeof *f);
        if (sem_init(&f->hold, 1, 0) == -1)
            die("sem_init:");
        lab_mutex_init(&f->m, LAB_MUTEX_PSHARED);
        lab_cond_init(&f->c, LAB_COND_PSHARED);
        forced = f;
    }
    /* A new part: the gate closed, no meeting.  The hold's count is left alone: each part
     * releases as many held tasks as it started. */
    Pthread_mutex_lock(&forced->m);
    forced->open = false;
    forced->parties = forced->rounds = forced->arrived = 0;
    Pthread_mutex_unlock(&forced->m);
}

void l10_hold_release(void)
{
    if (sem_post(&forced->hold) == -1)
        die("sem_post:");
}

void l10_forced_end(void)
{
    if (forced == NULL)
        return;
    Pthread_mutex_lock(&forced->m);
    forced->open = true;
    forced->rounds = 0;
    forced->arrived = 0;
    forced->generation++;           /* a task still at the meeting point goes on */
    Pthread_cond_broadcast(&forced->c);
    Pthread_mutex_unlock(&forced->m);
}

void l10_gate_open(void)
{
    Pthread_mutex_lock(&forced->m);
    forced->open = true;
    Pthread_cond_broadcast(&forced->c);
    Pthread_mutex_unlock(&forced->m);
}

void l10_meet_init(int parties, int rounds)
{
    Pthread_mutex_lock(&forced->m);
    forced->parties = parties;
    forced->rounds = rounds;
    forced->arrived = 0;
    Pthread_mutex_unlock(&forced->m);
}

/* Wait on forced->c (the caller holds forced->m) until the deadline: false when it has passed. */
static bool forced_wait(const struct timespec *dl)
{
    int rc = pthread_cond_timedwait(&forced->c, &forced->m, dl);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait(forced)");
    return rc == 0;
}

int l10_meet(void)
{
    if (!forced)
        return 0;                                    /* nothing made: nothing to wait for */
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1));
    int rc = 0;
    Pthread_mutex_lock(&forced->m);
    if (forced->rounds != 0 && forced->parties > 1) {
        int gen = forced->generation;
        if (++forced->arrived == forced->parties) {  /* the last one: the meeting is complete */
            forced->arrived = 0;
            forced->generation++;
            if (forced->rounds > 0)
                forced->rounds--;
            Pthread_cond_broadcast(&forced->c);
        } else {
            while (forced->generation == gen && forced_wait(&dl))
                ;
            if (forced->generation == gen) {         /* gave up: it no longer waits */
                forced->arrived--;
                rc = ETIMEDOUT;
            }
        }
    }
    Pthread_mutex_unlock(&forced->m);
    return rc;
}

/* Wait (bounded) until the gate is open: 0, or ETIMEDOUT. */
static int gate_wait(void)
{
    if (!forced)
        return 0;                                    /* nothing made: nothing to wait for */
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1));
    Pthread_mutex_lock(&forced->m);
    while (!forced->open && forced_wait(&dl))
        ;
    int rc = forced->open ? 0 : ETIMEDOUT;
    Pthread_mutex_unlock(&forced->m);
    return rc;
}

/* A forced wait that timed out (a caller that never let go: a bug), said in the task's error. */
static int forced_failed(int rc, const char *what, struct l10_value *out)
{
    if (rc)
        snprintf(out->s, sizeof out->s, "forced wait timed out: %s (%s)", what, lab_errno_name(rc));
    return rc;
}

/* Who runs this task: "Thread ThreadPoolExecutor-0_3" in a thread pool, "" in a process. */
static const char *who(void)
{
    return lab_is_main_process() ? lab_thread_name(lab_current_thread()) : "worker";
}

/* def task(n): print(n, os.getpid()); time.sleep(2); return n**n */
static int t_power(const struct l10_args *in, struct l10_value *out)
{
    l10_say("%ld %d %s", in->a, (int)getpid(), who());
    lab_sleep(2);
    out->n = l10_pow_nn((unsigned)in->a);
    return 0;
}

/* def job(x): return x*x */
static int t_square(const struct l10_args *in, struct l10_value *out)
{
    out->n = (l10_u128)(in->a * in->a);
    return 0;
}

/* The random*2 sleep of task(name): from its own stream, so every run matches (LAB_SEED). */
static double named_sleep(long index)
{
    struct lab_rng r;
    lab_rng_init(&r, 500 + (uint64_t)index);
    return lab_rng_unit(&r) * 2;
}

/* def task(name): print('开始任务:', name); time.sleep(random.random()*2); return '完成任务:...' */
static int t_named(const struct l10_args *in, struct l10_value *out)
{
    l10_say("开始任务: %s", in->s);
    double t0 = lab_now_ms();
    lab_sleep(named_sleep(in->a));
    snprintf(out->s, sizeof out->s, "完成任务:%s,用时：%.2f,进程ID：%d", in->s, lab_elapsed_units(t0),
             (int)getpid());
    out->n = (l10_u128)in->a;
    return 0;
}

/* The blocking example's task prints its 完成任务 line itself (and returns None). */
static int t_named_print(const struct l10_args *in, struct l10_value *out)
{
    l10_say("开始任务: %s", in->s);
    double t0 = lab_now_ms();
    lab_sleep(named_sleep(in->a));
    l10_say("完成任务:%s,用时：%.2f,进程ID：%d", in->s, lab_elapsed_units(t0), (int)getpid());
    out->n = (l10_u128)in->a;
    return 0;
}

/* def long_time_task(i): print('子进程: {} - 任务{}'); time.sleep(2); print("结果: {}".format(8 ** 20))
 * Forced: held at the gate between its sleep and its 结果 line until the caller has said
 * 等待所有子进程完成。 (l10_gate_open), so that line comes first on every run. */
static int t_long(const struct l10_args *in, struct l10_value *out)
{
    l10_say("子进程: %d - 任务%ld", (int)getpid(), in->a);
    lab_sleep(2);
    int rc = gate_wait();
    char num[48];
    l10_u128 v = 1;
    for (int i = 0; i < 20; i++)
        v *= 8;
    l10_say("结果: %s", l10_u128_str(v, num));
    out->n = v;
    return forced_failed(rc, "the gate never opened", out);
}

/* def Foo(i): time.sleep(2); return i+100
 * Forced: held at the gate after its sleep until the caller has said "end" (l10_gate_open), so
 * no callback Bar can come before "end" on any run. */
static int t_foo(const struct l10_args *in, struct l10_value *out)
{
    lab_sleep(2);
    out->n = (l10_u128)(in->a + 100);
    return forced_failed(gate_wait(), "the gate never opened", out);
}

/* starmap's task(a, b): a*b */
static int t_mul(const struct l10_args *in, struct l10_value *out)
{
    out->n = (l10_u128)(in->a * in->b);
    return 0;
}

/* Sleep a/100 units (a controlled order of completion), return a. */
static int t_sleep(const struct l10_args *in, struct l10_value *out)
{
    lab_sleep((double)in->a / 100.0);
    out->n = (l10_u128)in->a;
    return 0;
}

/* Sleep a/100 units like the sleeper, then wait (bounded) until the caller releases the hold:
 * a task that is still running when its caller's result(timeout) gives up, on every run. */
static int t_held(const struct l10_args *in, struct l10_value *out)
{
    t_sleep(in, out);
    struct timespec dl = lab_deadline_realtime_ms(lab_bound_ms(1));
    while (sem_timedwait(&forced->hold, &dl) == -1)
        if (errno != EINTR)   /* nobody released it: a caller that waited for this task to end */
            return forced_failed(EDEADLK, "the hold was never released", out);
    return 0;
}

/* The notes' task (procpool), forced twice: the first wave meets (l10_meet_init(workers, 1)), so
 * every worker of the pool takes one of the first tasks however late it gets the CPU; and it is
 * held at the gate after its sleep until the caller has attached every done-callback, so each
 * callback runs in the result thread on every run (on a future already done it would run at
 * once in the caller). */
static int t_power_held(const struct l10_args *in, struct l10_value *out)
{
    int rc = l10_meet();
    t_power(in, out);
    int rc2 = gate_wait();
    return rc ? forced_failed(rc, "the first wave never met", out) :
              forced_failed(rc2, "the gate never opened", out);
}

/* maxtasks' sleeper, in lockstep: each task meets one task of the other worker (l10_meet_init(2,
 * -1)) before its sleep, so the two workers alive take the tasks in turns, and each serves its
 * maxtasksperchild tasks however late one of them gets the CPU. */
static int t_lockstep(const struct l10_args *in, struct l10_value *out)
{
    int rc = l10_meet();
    t_sleep(in, out);
    return forced_failed(rc, "the other worker never came", out);
}

/* The notes' task without `import os`: Python raises NameError in the worker, and result()
 * raises it again in the caller. */
static int t_raise(const struct l10_args *in, struct l10_value *out)
{
    (void)in;
    snprintf(out->s, sizeof out->s, "NameError: name 'os' is not defined");
    return ENOENT;
}

/* A task that crashes its worker: abort() raises SIGABRT, the worker process dies. */
static int t_abort(const struct l10_args *in, struct l10_value *out)
{
    (void)out;
    l10_say("task %ld: abort() in worker %d", in->a, (int)getpid());
    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });   /* no core file left behind */
    abort();
}

static int t_nop(const struct l10_args *in, struct l10_value *out)
{
    out->n = (l10_u128)in->a;
    return 0;
}

const l10_fn l10_tasks[T_COUNT] = {
    [T_POWER] = t_power, [T_SQUARE] = t_square, [T_NAMED] = t_named,
    [T_NAMED_PRINT] = t_named_print, [T_LONG] = t_long, [T_FOO] = t_foo, [T_MUL] = t_mul,
    [T_SLEEP] = t_sleep, [T_RAISE] = t_raise, [T_ABORT] = t_abort, [T_NOP] = t_nop,
    [T_HELD] = t_held, [T_POWER_HELD] = t_power_held, [T_LOCKSTEP] = t_lockstep,
};

const char *const l10_task_names[T_COUNT] = {
    [T_POWER] = "task", [T_SQUARE] = "job", [T_NAMED] = "task", [T_NAMED_PRINT] = "task",
    [T_LONG] = "long_time_task", [T_FOO] = "Foo", [T_MUL] = "mul", [T_SLEEP] = "sleeper",
    [T_RAISE] = "task", [T_ABORT] = "crash", [T_NOP] = "nop", [T_HELD] = "sleeper",
    [T_POWER_HELD] = "task", [T_LOCKSTEP] = "sleeper",
};
