/* labs/01-processes/threads.c - the thread side of lab 1: creation, shared memory, introspection,
 * the same API as Process, results through a queue, and what a thread costs next to a process.
 *
 * thread_create  Thread(target=task, args=('zhao',)) and a MyThread "subclass" whose run() prints
 *                five lines: the notes call it 五个线程同时打印, but it is ONE thread (one tid);
 * thread_share   money=100; a thread sets 666; the main thread then reads 666: threads share the
 *                process's memory (compare `isolation`, where a child process gets a copy);
 * threads        ten producer threads: enumerate(), active_count(), current_thread(), ident and
 *                native_id, names "Thread-N (producer)"; ten tids, one pid;
 * same_api       job(1, 2) from a thread and from a process with the same start/join shape;
 * thread_results four threads square their lists and put them in a queue: Python's Thread throws
 *                the target's return value away (因为thread是没有返回值的), so the notes use a Queue;
 * cost           fork()+waitpid vs pthread_create()+join, per creation (report only).
 * Python ↔ C: threading.Thread ↔ lab_thread_new/LAB_THREAD (common/thread.h, a registry that gives
 *   C threads Python's names and introspection); t.start()/t.join() ↔ lab_thread_start/join;
 *   threading.enumerate()/active_count()/current_thread() ↔ lab_enumerate/lab_active_count/
 *   lab_current_thread; t.ident ↔ pthread_self(); t.native_id ↔ gettid().
 * Usage: build/lab01 thread_create | thread_share | threads [--threads=10] | same_api |
 *        thread_results | cost [--count=50]
 * Watch for: one tid for MyThread's five lines; 11 threads alive, one pid, eleven tids; the
 *   main thread's native_id equals the pid.
 * See also: processes.c (the process side), ../02-join-daemon (join, daemon threads).
 */
#include "lab.h"
#include "lab01.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *me_name(void) { return lab_thread_name(lab_current_thread()); }

/* ==== thread_create (开启线程的两种方式) ==== */

/* def task(name): print("%s is  running " % name) */
static void *task(void *arg)
{
    lab_say("%s: %s is running", me_name(), (const char *)arg);
    return NULL;
}

/* class MyThread(threading.Thread): the thread object is opaque, so the "subclass" holds it and
 * run() gets the subclass object as its argument. */
struct my_thread {
    struct lab_thread *base;
    int lines;
    pid_t tids[5];
    pid_t pids[5];
};

/* def run(self): for i in range(5): print(f"I am {self.name} {i}") */
static void *my_thread_run(void *arg)
{
    struct my_thread *self = arg;
    for (int i = 0; i < 5; i++) {
        lab_say("I am %s %d", lab_thread_name(self->base), i);
        self->tids[i] = gettid();
        self->pids[i] = getpid();
        self->lines++;
    }
    return NULL;
}

int run_thread_create(int mode)
{
    (void)mode;   /* no modes */
    /* t = Thread(target=task, args=('zhao',)); t.start(); print('主') */
    struct lab_thread *t = LAB_THREAD(task, "zhao");
    lab_thread_start_or_die(t);       /* 创建线程的开销非常小: no copy of the process is made */
    lab_say("%s: 主", me_name());
    lab_thread_join(t);

    /* t = MyThread(); t.start() */
    struct my_thread mt = { 0 };
    mt.base = lab_thread_new(my_thread_run, &mt, NULL);   /* no target: named "Thread-N" */
    lab_thread_start_or_die(mt.base);
    lab_thread_join(mt.base);
    int distinct = 1;
    bool same_pid = true;
    for (int i = 1; i < mt.lines; i++) {
        distinct += mt.tids[i] != mt.tids[0];
        same_pid &= mt.pids[i] == getpid();
    }
    lab_say("%s: %d lines, all from tid %d (%s): one thread printed five lines, not five threads at once",
            me_name(), mt.lines, (int)mt.tids[0], lab_thread_name(mt.base));
    lab_result("lines=%d distinct_threads=%d same_pid=%d", mt.lines, distinct, same_pid);
    return (mt.lines == 5 && distinct == 1 && same_pid) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== thread_share: money=100, a thread sets 666 (同一个进程下的多个线程数据是共享的) ==== */

struct share_seen {
    long addr;      /* &money as the thread saw it */
    int money;      /* money as the thread read it back */
};

static void *share_task(void *arg)
{
    struct share_seen *seen = arg;
    l01_money = 666;                 /* global money; money = 666 */
    seen->money = l01_money;
    seen->addr = (long)&l01_money;
    lab_say("%s: money=%d at address %p", me_name(), seen->money, (void *)&l01_money);
    return NULL;
}

int run_thread_share(int mode)
{
    (void)mode;   /* no modes */
    l01_money = 100;
    struct share_seen seen = { 0, 0 };
    lab_say("%s: money=%d at address %p", me_name(), l01_money, (void *)&l01_money);
    struct lab_thread *t = LAB_THREAD(share_task, &seen);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    lab_say("%s: after join: money=%d  # 666: one process, one memory, every thread sees the change",
            me_name(), l01_money);
    bool same = seen.addr == (long)&l01_money;
    int main_money = l01_money;
    l01_money = 100;                 /* leave the global as the notes start it */
    lab_result("thread_money=%d main_money=%d same_vaddr=%d", seen.money, main_money, same);
    return (seen.money == 666 && main_money == 666 && same) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== threads: enumerate / active_count / current_thread / ident (线程对象的其他方法) ==== */

#define MAX_PRODUCERS 20

struct intro {
    pthread_mutex_t lock;
    const char *pl[MAX_PRODUCERS];   /* the shared list `pl`, guarded by lock */
    int len;                         /* guarded by lock */
    pthread_barrier_t appended;      /* every producer appended and is alive */
    pthread_barrier_t released;      /* the main thread has looked at them */
    pid_t tids[MAX_PRODUCERS], pids[MAX_PRODUCERS];
};

struct producer_arg {
    struct intro *in;
    int i;
    const char *name;
};

/* def producer(q, name): q.append(name); time.sleep(1); m = currentThread(); print(m.ident, os.getpid()) */
static void *producer(void *arg)
{
    struct producer_arg *a = arg;
    struct intro *in = a->in;
    Pthread_mutex_lock(&in->lock);
    in->pl[in->len++] = a->name;
    Pthread_mutex_unlock(&in->lock);
    in->tids[a->i] = gettid();
    in->pids[a->i] = getpid();
    /* The notes sleep 1 s so that the threads are still alive when main calls enumerate();
     * two barriers make that certain instead of likely. */
    Pthread_barrier_wait(&in->appended);
    Pthread_barrier_wait(&in->released);
    struct lab_thread *m = lab_current_thread();
    lab_say("%s: ident=%lu native_id=%d pid=%d", lab_thread_name(m), lab_thread_ident(m),
            (int)lab_thread_native_id(m), (int)getpid());
    return NULL;
}

static int count_distinct(const pid_t *v, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= v[j] == v[i];
        d += !seen;
    }
    return d;
}

int run_threads(int mode)
{
    (void)mode;   /* no modes */
    int n = (int)lab_opt("threads");
    struct intro in = { .len = 0 };
    Pthread_mutex_init(&in.lock, NULL);
    Pthread_barrier_init(&in.appended, NULL, (unsigned)n + 1);
    Pthread_barrier_init(&in.released, NULL, (unsigned)n + 1);
    struct producer_arg args[MAX_PRODUCERS];
    struct lab_thread *ts[MAX_PRODUCERS];
    for (int i = 0; i < n; i++) {     /* t = Thread(target=producer, args=(pl, 'lxc')); t.start() */
        args[i] = (struct producer_arg){ &in, i, "lxc" };
        ts[i] = LAB_THREAD(producer, &args[i]);
        lab_thread_start_or_die(ts[i]);
    }
    Pthread_barrier_wait(&in.appended);

    /* print(enumerate()) */
    struct lab_thread *alive[MAX_PRODUCERS + 8];
    size_t cnt = lab_enumerate(alive, sizeof alive / sizeof alive[0]);
    char first[2][512];              /* a projector: the first two, one a line, then a count */
    size_t foff[2] = { 0, 0 };
    int names_ok = 0;                /* producers named "Thread-N (producer)" */
    for (size_t i = 0; i < cnt && i < sizeof alive / sizeof alive[0]; i++) {
        const char *nm = lab_thread_name(alive[i]);
        int num;
        char tail[32];
        if (sscanf(nm, "Thread-%d %31s", &num, tail) == 2 && strcmp(tail, "(producer)") == 0)
            names_ok++;
        if (i < 2)
            foff[i] = (size_t)snprintf(first[i], sizeof first[i], "<%s(%s, started %lu)>%s",
                                       lab_thread_number(alive[i]) == 0 ? "_MainThread" : "Thread", nm,
                                       lab_thread_ident(alive[i]), i + 1 < cnt ? "," : "]");
    }
    if (cnt > 2 && foff[1] < sizeof first[1])
        snprintf(first[1] + foff[1], sizeof first[1] - foff[1], " … (%zu more)]", cnt - 2);
    lab_say("%s: enumerate() = [%s", me_name(), cnt ? first[0] : "]");
    if (cnt > 1)
        lab_say("%*s%s", (int)strlen(me_name()) + 17, "", first[1]);
    size_t active = lab_active_count();
    lab_say("%s: active_count() = %zu (the main thread counts too)", me_name(), active);

    /* print(pl) */
    char line[4096];
    Pthread_mutex_lock(&in.lock);
    int list_len = in.len;
    size_t off = (size_t)snprintf(line, sizeof line, "[");
    for (int i = 0; i < in.len && off < sizeof line; i++)
        off += (size_t)snprintf(line + off, sizeof line - off, "%s'%s'", i ? ", " : "", in.pl[i]);
    Pthread_mutex_unlock(&in.lock);
    if (off < sizeof line)
        snprintf(line + off, sizeof line - off, "]");
    lab_say("%s: pl = %s", me_name(), line);

    /* current_thread() of the main thread, and every thread seen from /proc/self/task */
    struct lab_thread *m = lab_current_thread();
    bool main_tid_eq_pid = lab_thread_native_id(m) == getpid();
    lab_say("%s: current_thread() = %s, ident=%lu native_id=%d = the pid %d (the first thread's tid is the pid)",
            me_name(), lab_thread_name(m), lab_thread_ident(m), (int)lab_thread_native_id(m), (int)getpid());
    int in_task = 0;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d", (int)in.tids[i]);
        in_task += access(path, F_OK) == 0;
    }
    lab_say("%s: %d of the %d tids are entries of /proc/%d/task: threads are tasks of one process", me_name(),
            in_task, n, (int)getpid());
    Pthread_barrier_wait(&in.released);

    for (int i = 0; i < n; i++)
        lab_thread_join(ts[i]);
    size_t after = lab_active_count();
    int dtids = count_distinct(in.tids, n), dpids = count_distinct(in.pids, n);
    lab_say("%s: %d distinct tids, %d distinct pid(s); after join active_count() = %zu", me_name(), dtids, dpids, after);
    Pthread_barrier_destroy(&in.appended);
    Pthread_barrier_destroy(&in.released);
    Pthread_mutex_destroy(&in.lock);
    lab_result("enumerate=%zu active_count=%zu list_len=%d distinct_pids=%d distinct_tids=%d "
               "tids_in_proc_task=%d names_ok=%d main_tid_eq_pid=%d active_after_join=%zu",
               cnt, active, list_len, dpids, dtids, in_task, names_ok == n, main_tid_eq_pid, after);
    bool ok = cnt == (size_t)n + 1 && active == (size_t)n + 1 && list_len == n && dpids == 1 && dtids == n
              && in_task == n && names_ok == n && main_tid_eq_pid && after == 1;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== same_api: job(1, 2) from a thread and from a process (the notes' "same API" example) ==== */

struct job_arg {
    int a, b;
    struct l01_probe *probe;
};

/* def job(a, b): print(a + b) */
static int job(const char *who, struct job_arg *j)
{
    int r = j->a + j->b;
    lab_say("%s: job(%d, %d) prints %d", who, j->a, j->b, r);
    atomic_fetch_add(&j->probe->lines, 1);
    return r;
}

/* The same job behind the two signatures C needs: void *(*)(void *) and int (*)(struct lab_proc *). */
static void *job_in_thread(void *arg)
{
    return (void *)(intptr_t)job(me_name(), arg);
}

static int job_in_process(struct lab_proc *self)
{
    char who[32];
    snprintf(who, sizeof who, "child %d", (int)getpid());
    return job(who, self->arg);
}

int run_same_api(int mode)
{
    (void)mode;   /* no modes */
    struct job_arg j = { 1, 2, l01_probe_new() };
    struct lab_thread *t1 = LAB_THREAD(job_in_thread, &j);       /* td.Thread(target=job, args=(1, 2)) */
    struct lab_proc p1 = LAB_PROC_INIT(job_in_process, &j);      /* mp.Process(target=job, args=(1, 2)) */
    lab_thread_start_or_die(t1);                                 /* t1.start() */
    lab_proc_start_or_die(&p1);                                  /* p1.start() */
    int tv = (int)(intptr_t)lab_thread_join(t1);                 /* t1.join() */
    int pv = lab_proc_join(&p1);                                 /* p1.join() */
    int lines = atomic_load(&j.probe->lines);
    l01_probe_free(j.probe);
    lab_say("%s: the thread returned %d through join; the process returned %d as its exit status", me_name(), tv, pv);
    lab_result("lines=%d thread_value=%d process_value=%d", lines, tv, pv);
    return (lines == 2 && tv == 3 && pv == 3) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== thread_results: results through a queue (the notes' thread-results example) ==== */

#define NLISTS 4

/* A minimal queue.Queue for four items (lab 4 builds a real one). */
struct result_queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct { int index; int *list; } items[NLISTS];   /* guarded by lock */
    int head, count;                                  /* guarded by lock */
};

static void rq_put(struct result_queue *q, int index, int *list)
{
    Pthread_mutex_lock(&q->lock);
    q->items[(q->head + q->count) % NLISTS].index = index;
    q->items[(q->head + q->count) % NLISTS].list = list;
    q->count++;
    Pthread_cond_signal(&q->nonempty);
    Pthread_mutex_unlock(&q->lock);
}

static int *rq_get(struct result_queue *q, int *index)
{
    Pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        Pthread_cond_wait(&q->nonempty, &q->lock);
    *index = q->items[q->head].index;
    int *list = q->items[q->head].list;
    q->head = (q->head + 1) % NLISTS;
    q->count--;
    Pthread_mutex_unlock(&q->lock);
    return list;
}

struct results_arg {
    int *list;
    int index;
    struct result_queue *q;
};

/* def job(l, q): for i in range(len(l)): l[i] = l[i] ** 2; q.put(l) */
static void *square_job(void *arg)
{
    struct results_arg *a = arg;
    for (int i = 0; i < 3; i++)
        a->list[i] = a->list[i] * a->list[i];
    rq_put(a->q, a->index, a->list);   /* the index goes along: completion order is not list order */
    return a->list;                    /* C could also just return it (pthread_join gets it) */
}

static void format_lists(char *buf, size_t len, int *const lists[NLISTS])
{
    size_t off = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < NLISTS && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s[%d,%d,%d]", i ? "," : "", lists[i][0], lists[i][1],
                                lists[i][2]);
    if (off < len)
        snprintf(buf + off, len - off, "]");
}

int run_thread_results(int mode)
{
    (void)mode;   /* no modes */
    int data[NLISTS][3] = { { 1, 2, 3 }, { 3, 4, 5 }, { 4, 4, 4 }, { 5, 5, 5 } };
    struct result_queue q = { .head = 0 };
    Pthread_mutex_init(&q.lock, NULL);
    Pthread_cond_init(&q.nonempty, NULL);
    struct results_arg args[NLISTS];
    struct lab_thread *ts[NLISTS];
    for (int i = 0; i < NLISTS; i++) {
        args[i] = (struct results_arg){ data[i], i, &q };
        ts[i] = LAB_THREAD(square_job, &args[i]);
        lab_thread_start_or_die(ts[i]);
    }
    int *via_join[NLISTS];
    for (int i = 0; i < NLISTS; i++)
        via_join[i] = lab_thread_join(ts[i]);
    int *res[NLISTS];
    char order[64];
    size_t off = 0;
    for (int k = 0; k < NLISTS; k++) {   /* res.append(q.get()), placed by index */
        int index;
        int *list = rq_get(&q, &index);
        res[index] = list;
        off += (size_t)snprintf(order + off, sizeof order - off, "%s%d", k ? "," : "", index);
    }
    char value[256], joined[256];
    format_lists(value, sizeof value, res);
    format_lists(joined, sizeof joined, via_join);
    lab_say("%s: the queue gave the lists in completion order %s (may differ run to run); placed by index:",
            me_name(), order);
    lab_say("%s: %s", me_name(), value);
    lab_say("%s: the same through pthread_join's return value: %s", me_name(), joined);
    Pthread_cond_destroy(&q.nonempty);
    Pthread_mutex_destroy(&q.lock);
    bool same = strcmp(value, joined) == 0;
    lab_result("value=%s join_value_same=%d", value, same);
    return (strcmp(value, "[[1,4,9],[9,16,25],[16,16,16],[25,25,25]]") == 0 && same) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== cost: fork vs pthread_create (开设线程的开销远远小于进程, report only) ==== */

static void *nothing(void *arg) { return arg; }

int run_cost(int mode)
{
    (void)mode;   /* no modes */
    int n = (int)lab_opt("count");
    /* The raw calls on purpose: this measures the kernel's work, not the helpers'. */
    fflush(stdout);
    fflush(stderr);
    uint64_t t0 = lab_now_ns();
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0)
            die("fork:");
        if (c == 0)
            _exit(0);
        int st;
        if (waitpid(c, &st, 0) != c)
            die("waitpid:");
    }
    uint64_t t_fork = lab_now_ns() - t0;
    t0 = lab_now_ns();
    for (int i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        Pthread_create(&t, NULL, nothing, &n);
        Pthread_join(t, &ret);
        if (ret != &n)
            die("cost: a thread returned the wrong value");
    }
    uint64_t t_thread = lab_now_ns() - t0;
    double fork_us = (double)t_fork / 1e3 / n, thread_us = (double)t_thread / 1e3 / n;
    lab_say("%s: %d x fork()+_exit+waitpid: %.1f us each", me_name(), n, fork_us);
    double ratio = thread_us > 0 ? fork_us / thread_us : 0.0;
    /* The sentence follows the measured ratio, never a fixed factor. */
    if (ratio >= 1.5)
        lab_say("%s: %d x pthread_create()+join:  %.1f us each (%.1fx cheaper: no address space to copy)",
                me_name(), n, thread_us, ratio);
    else
        lab_say("%s: %d x pthread_create()+join:  %.1f us each (%.1fx: not measurably cheaper, a busy machine?)",
                me_name(), n, thread_us, ratio);
    lab_say("%s: 进程是资源单位, 线程是执行单位: a process owns memory and files, a thread only runs in them",
            me_name());
    lab_result("count=%d fork_us=%.1f thread_us=%.1f", n, fork_us, thread_us);
    return LAB_EXIT_OK;
}
