/* labs/10-pools/tpool.c - the thread pool: ThreadPoolExecutor(max_workers) in C.
 *
 * N worker threads are made once, when the pool is made, and then take tasks from one queue until
 * the pool shuts down: no thread is created or destroyed per task (the notes: 这五个线程不会出现重复
 * 创建和销毁的过程).  submit() puts a task in the queue and returns a future at once.
 * Python <-> C: ThreadPoolExecutor(5) <-> l10_tpool_new(5); pool.submit(task, i) <->
 *   l10_tpool_submit(p, task, &args); pool.map <-> l10_tpool_map; pool.shutdown(wait=True) <->
 *   l10_tpool_shutdown(p, true); RuntimeError('cannot schedule new futures after shutdown') <->
 *   NULL with errno ESHUTDOWN.
 * Differences: Python (3.8+) starts workers lazily, one per submit until max_workers, and reuses
 * idle ones; here all N start at once (the notes' description: 池子里面固定有5个线程).
 *
 * The design, for speed (the bench compares it with GLib's GThreadPool):
 *   - the queue is a ring of 16-byte items {function, argument} in one array, grown by doubling
 *     when full (unbounded, as Python's queue), so a run of tasks sits in a few cache lines;
 *   - one mutex guards the ring; a worker that finishes a task takes the next one in the same
 *     critical section where it accounts for the finished one: one lock round trip per task;
 *   - no system call per task while the workers are busy: submit signals the condition variable
 *     only when a worker sleeps that nobody has woken yet (idle > wakes), so a burst of submits
 *     to busy workers is a lock, a store and an unlock each; GThreadPool's queue wakes a waiter
 *     whenever one waits;
 *   - batching (l10_tpool_set_batch, off by default): a worker may take up to k queued tasks at
 *     once when no other worker is idle.  Off for the lessons, where tasks sleep 2 "seconds" and
 *     batching would hold tasks back from a free worker; the bench shows both.
 * --trace: each submitted task is a slice "task #N" on the worker thread that ran it, with an arrow
 *   from its submit() (a slice "submit #N") into it and one from its end to the result() that got
 *   its value (future.c); both are bound to the task's slice, which adds no time to the task.
 * Watch for: the same thread ids in every task's line; submit after shutdown refused.
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct item {
    void (*run)(void *);
    void *arg;
};

/* A submitted task with a future: the item's argument. */
struct sjob {
    l10_fn fn;
    struct l10_args a;
    struct l10_future *f;
};

#define MAX_BATCH 64

struct l10_tpool {
    pthread_mutex_t m;
    pthread_cond_t work;             /* a task was queued, or shutdown */
    pthread_cond_t idle_cv;          /* the queue ran empty with no task running */
    struct item *ring;               /* guarded by m */
    size_t cap, head, count;         /* guarded by m: cap is a power of two */
    int idle, wakes;                 /* guarded by m: workers asleep, signals not yet consumed */
    int active;                      /* guarded by m: tasks taken and not finished */
    int idle_waiters;                /* guarded by m */
    bool shutdown;                   /* guarded by m */
    int batch;                       /* set before the first submit */
    int n;
    struct lab_thread **threads;
};

static struct lab_program_count pool_counter;   /* ThreadPoolExecutor-N: Python's, one per program */

/* Take up to k items into out[]. Caller must hold p->m. */
static int take(struct l10_tpool *p, struct item *out, int k)
{
    int got = 0;
    while (got < k && p->count > 0) {
        out[got++] = p->ring[p->head];
        p->head = (p->head + 1) & (p->cap - 1);
        p->count--;
    }
    return got;
}

static void *worker(void *arg)
{
    struct l10_tpool *p = arg;
    struct item batch[MAX_BATCH];
    int done = 0;
    Pthread_mutex_lock(&p->m);
    for (;;) {
        p->active -= done;                               /* the tasks of the last round ran */
        if (p->active == 0 && p->count == 0 && p->idle_waiters > 0)
            Pthread_cond_broadcast(&p->idle_cv);
        while (p->count == 0 && !p->shutdown) {
            p->idle++;
            Pthread_cond_wait(&p->work, &p->m);
            p->idle--;
            if (p->wakes > 0)
                p->wakes--;
        }
        if (p->count == 0)                                /* shutdown and nothing left */
            break;
        int k = 1;
        if (p->batch > 1 && p->idle == 0) {               /* nobody else free: take a share */
            k = (int)(p->count / (size_t)p->n);
            k = k < 1 ? 1 : k > p->batch ? p->batch : k;
        }
        done = take(p, batch, k);
        p->active += done;
        Pthread_mutex_unlock(&p->m);
        for (int i = 0; i < done; i++)
            batch[i].run(batch[i].arg);
        Pthread_mutex_lock(&p->m);
    }
    Pthread_mutex_unlock(&p->m);
    return NULL;
}

struct l10_tpool *l10_tpool_new(int max_workers)
{
    struct l10_tpool *p = xcalloc(1, sizeof *p);
    lab_mutex_init(&p->m, 0);
    lab_cond_init(&p->work, 0);
    lab_cond_init(&p->idle_cv, 0);
    p->cap = 1024;
    p->ring = xmalloc(p->cap * sizeof *p->ring);
    p->n = max_workers;
    p->batch = 1;
    p->threads = xcalloc((size_t)max_workers, sizeof *p->threads);
    int id = lab_thread_program_count(&pool_counter);
    for (int i = 0; i < max_workers; i++) {
        char name[48];
        snprintf(name, sizeof name, "ThreadPoolExecutor-%d_%d", id, i);   /* Python's names */
        p->threads[i] = lab_thread_new(worker, p, "worker");
        lab_thread_set_name(p->threads[i], name);
        lab_thread_start_or_die(p->threads[i]);
    }
    return p;
}

void l10_tpool_set_batch(struct l10_tpool *p, int k)
{
    Pthread_mutex_lock(&p->m);
    p->batch = k < 1 ? 1 : k > MAX_BATCH ? MAX_BATCH : k;
    Pthread_mutex_unlock(&p->m);
}

int l10_tpool_workers(const struct l10_tpool *p) { return p->n; }

/* Double the ring, keeping the order. Caller must hold p->m. */
static void grow(struct l10_tpool *p)
{
    struct item *r = xmalloc(2 * p->cap * sizeof *r);
    for (size_t i = 0; i < p->count; i++)
        r[i] = p->ring[(p->head + i) & (p->cap - 1)];
    free(p->ring);
    p->ring = r;
    p->head = 0;
    p->cap *= 2;
}

int l10_tpool_execute(struct l10_tpool *p, void (*fn)(void *), void *arg)
{
    Pthread_mutex_lock(&p->m);
    if (p->shutdown) {
        Pthread_mutex_unlock(&p->m);
        return ESHUTDOWN;
    }
    if (p->count == p->cap)
        grow(p);
    p->ring[(p->head + p->count) & (p->cap - 1)] = (struct item){ .run = fn, .arg = arg };
    p->count++;
    if (p->idle > p->wakes) {                /* a sleeper nobody has woken yet: wake one */
        p->wakes++;
        Pthread_cond_signal(&p->work);       /* under the lock, as Helgrind asks */
    }
    Pthread_mutex_unlock(&p->m);
    return 0;
}

static void run_sjob(void *arg)
{
    struct sjob *j = arg;
    struct l10_value v;
    memset(&v, 0, sizeof v);
    unsigned long long n = l10_future_trace(j->f);
    lab_trace_begin("pool", "task #%llu", n);
    lab_trace_flow_head("submit", L10_FLOW_SUBMIT(n));   /* the arrow from submit() enters here */
    l10_future_set_running(j->f);
    v.pid = (int)getpid();
    int err = j->fn(&j->a, &v);              /* a task's error is carried to result() */
    l10_trace_task_end(n);                   /* --trace: the arrow to result(), the slice's end */
    l10_future_set(j->f, &v, err);           /* runs the callbacks here, in the worker */
    l10_future_free(j->f);                   /* the pool's reference */
    free(j);
}

struct l10_future *l10_tpool_submit(struct l10_tpool *p, l10_fn fn, const struct l10_args *a)
{
    struct sjob *j = xmalloc(sizeof *j);
    j->fn = fn;
    j->a = *a;
    struct l10_future *f = j->f = l10_future_new();
    l10_future_ref(f);                       /* one for the caller, one for the pool */
    l10_trace_arrow("submit", false, L10_FLOW_SUBMIT(l10_future_trace(f)), "submit #%llu", l10_future_trace(f));
    if (l10_tpool_execute(p, run_sjob, j) != 0) {
        lab_trace_instant("pool", "submit refused: the pool is shut down");
        l10_future_free(f);
        l10_future_free(f);
        free(j);
        errno = ESHUTDOWN;                   /* RuntimeError: cannot schedule new futures after shutdown */
        return NULL;
    }
    return f;                                /* not j->f: a worker may have run and freed j already */
}

bool l10_tpool_wait_idle(struct l10_tpool *p, double timeout_ms)
{
    struct timespec dl = lab_deadline_ms(timeout_ms);
    bool ok = true;
    Pthread_mutex_lock(&p->m);
    p->idle_waiters++;
    while (p->count > 0 || p->active > 0) {
        if (pthread_cond_timedwait(&p->idle_cv, &p->m, &dl) == ETIMEDOUT) {
            ok = p->count == 0 && p->active == 0;
            break;
        }
    }
    p->idle_waiters--;
    Pthread_mutex_unlock(&p->m);
    return ok;
}

int l10_tpool_map(struct l10_tpool *p, l10_fn fn, const struct l10_args *args, size_t n,
                  struct l10_value *out)
{
    struct l10_future **fs = xcalloc(n ? n : 1, sizeof *fs);
    int first = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fs[i] = l10_tpool_submit(p, fn, &args[i])) && !first)
            first = ESHUTDOWN;
    for (size_t i = 0; i < n; i++) {         /* collect in input order */
        if (!fs[i])
            continue;
        int err = l10_future_result(fs[i], &out[i], lab_bound_ms(1000));
        if (err && !first)
            first = err;
        l10_future_free(fs[i]);
    }
    free(fs);
    return first;
}

void l10_tpool_shutdown(struct l10_tpool *p, bool wait)
{
    Pthread_mutex_lock(&p->m);
    p->shutdown = true;
    Pthread_cond_broadcast(&p->work);
    Pthread_mutex_unlock(&p->m);
    if (wait) {
        /* The workers leave once the queue is empty: joining them waits for every task. */
        /* SOLUTION BEGIN(tpool-join): shutdown(wait=True): join every worker thread of p->threads */
        for (int i = 0; i < p->n; i++)
            lab_thread_join(p->threads[i]);
        /* SOLUTION END */
    }
}

void l10_tpool_free(struct l10_tpool *p)
{
    if (!p)
        return;
    l10_tpool_shutdown(p, true);
    for (int i = 0; i < p->n; i++)           /* joined by shutdown: at once; never freed under a worker */
        lab_thread_join(p->threads[i]);
    free(p->threads);     /* the lab_thread entries live on in the registry, as Python's objects */
    free(p->ring);
    pthread_mutex_destroy(&p->m);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle_cv);
    free(p);
}
