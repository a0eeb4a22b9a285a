/* labs/10-pools/ppool.c - the process pool: multiprocessing.Pool and ProcessPoolExecutor in C.
 *
 * Pool(5) forks five worker processes at once (the notes say a Pool "creates a new process when a
 * request comes and the pool is not full": it does not, it pre-creates them).  Tasks go to the
 * workers through one process queue in shared memory (common/pqueue.h, lab 4's Queue), results
 * come back through another.  A task is {id, index into the task table, arguments}: a function
 * pointer means the same in a forked worker (same program image), but the index is what Python's
 * pickle does too (a reference by name).
 * In the parent, one thread (Python's _handle_results) reads the results: it completes the task's
 * future, runs apply_async's callback (so callbacks run in the parent, never in a worker), and
 * watches the workers: one that exits after maxtasksperchild tasks, or that dies (abort(), kill),
 * is reaped and replaced by a new process; a task it was running fails with L10_EWORKER ("worker
 * died") on its future.  Nothing waits without a bound, so a crash never hangs the pool.
 * Python <-> C: Pool(5) <-> l10_ppool_new(5, 0); apply_async(f, args, callback=cb) <->
 *   l10_ppool_apply_async(p, T_F, &a, cb, arg); apply <-> l10_ppool_apply; map/starmap <->
 *   l10_ppool_map; map_async <-> l10_ppool_map_async; close/join/terminate <-> the same names;
 *   AsyncResult.get(timeout) <-> l10_future_result(f, &v, ms) (ETIMEDOUT: multiprocessing.TimeoutError).
 * Differences from Python, on purpose:
 *   - a worker that dies mid-task: multiprocessing.Pool replaces it but the task's result never
 *     comes (get() without a timeout hangs forever); ProcessPoolExecutor breaks the whole pool
 *     (BrokenProcessPool).  Here the task's future fails and the pool goes on;
 *   - terminate(): Python leaves the pending results unready forever; here they are cancelled
 *     (L10_ETERMINATED), so a get() cannot hang.
 * --trace: each worker is a process track "ForkPoolWorker-N" (Python's name); each task a slice
 *   "task #N: name" on the worker that ran it, with an arrow from apply_async and one from its end
 *   to the first get() of its result (future.c), both bound to the task's slice.  The queues'
 *   own arrows (common/pqueue) run between tracks "_inqueue" and "_outqueue" (q_get, below).  The
 *   result thread marks a worker that died (its own events die with it: a killed process writes
 *   nothing) and the one that replaces it, and draws the failed task's arrow to its get() itself.
 * Watch for: the same pids in every task line; a new pid after maxtasksperchild tasks.
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define QUEUE_ITEMS 4096
#define MAX_PIDS 1024

struct task_msg {
    long id;                         /* 0: the sentinel, "exit" (close) */
    int fn;
    struct l10_args a;
    unsigned long long trace;        /* --trace: the task number (l10_future_trace) */
};

struct result_msg {
    long id;
    pid_t pid;
    int err;
    struct l10_value v;
};

enum slot_state { SLOT_RUNNING, SLOT_SENTINEL, SLOT_RETIRED };

/* One per worker place, in shared memory: the parent reads what the worker is doing. */
struct slot {
    _Atomic pid_t pid;
    _Atomic long current;            /* the task id it runs now, 0 when none */
    _Atomic int state;
};

struct pending {
    struct l10_future *f;            /* the pool's reference */
    l10_result_cb cb;
    void *cb_arg;
};

struct l10_ppool {
    pthread_mutex_t m;
    pthread_cond_t c;                /* a worker exited, or a task completed */
    enum l10_pool_state state;       /* guarded by m */
    int n, maxtasks;
    struct lab_pqueue *tasks, *results;
    struct slot *slots;              /* shared, n entries */
    struct lab_proc **procs;         /* guarded by m: procs[i] runs in slot i (NULL when none) */
    struct lab_proc **all;           /* every lab_proc made, freed at the end */
    size_t nall, capall;             /* guarded by m */
    struct pending *table;           /* guarded by m: id -> pending, ids 1..next_id-1 */
    size_t cap;
    long next_id;
    long outstanding;                /* guarded by m: submitted, not completed */
    int live;                        /* guarded by m: workers not reaped */
    int crashes, replaced;           /* guarded by m */
    pid_t pids[MAX_PIDS];            /* guarded by m: every worker pid, in start order */
    size_t npids;
    bool stop;                       /* guarded by m: the result thread may end */
    struct lab_thread *handler;
    pid_t parent;
};

struct worker_arg {
    struct l10_ppool *p;
    int slot;
};

/* --trace: common/pqueue draws each put and get as an arrow in a slice of its own, 1 us long.
 * On a worker's track that slice would still be open when the task's slice begins right after
 * the get (the ends of overlapping slices are paired wrong), and so on the result thread's track
 * before a callback.  So the pool's two queues are tracks of their own in each process, named as
 * Python's Pool names them: "_inqueue" (the tasks) and "_outqueue" (the results).  The queue's
 * arrows run between those tracks; the task and callback slices, with lab 10's own arrows bound
 * to them, stay alone on the worker's and the result thread's tracks.  No wait is added. */
static int q_get(const char *track, struct lab_pqueue *q, void *buf, size_t cap, size_t *len, double ms)
{
    lab_trace_use_track(lab_trace_track(track));
    int rc = lab_pq_get(q, buf, cap, len, ms);
    lab_trace_use_track(0);
    return rc;
}

static int q_put(const char *track, struct lab_pqueue *q, const void *msg, size_t len)
{
    lab_trace_use_track(lab_trace_track(track));
    int rc = lab_pq_put(q, msg, len, -1);
    lab_trace_use_track(0);
    return rc;
}

/* ==== The worker process ==== */

/* --trace: a task is running in this worker (its slice is open).  terminate() (SIGTERM) ends the
 * worker in the middle of a task: the signal handler of common/cleanup.c runs end_cut_task before
 * it writes the worker's events, so the slice ends where the worker was stopped. */
static volatile sig_atomic_t in_task;

static void end_cut_task(void *arg)
{
    (void)arg;
    if (!in_task)
        return;
    in_task = 0;
    lab_trace_instant("pool", "terminated in the middle of the task");
    lab_trace_end();
}

static int worker_main(struct lab_proc *self)
{
    struct worker_arg *wa = self->arg;
    struct l10_ppool *p = wa->p;
    struct slot *s = &p->slots[wa->slot];
    int done = 0;
    if (lab_trace_on()) {                        /* Python names a pool's workers so */
        char name[48];
        snprintf(name, sizeof name, "ForkPoolWorker-%d", self->number);
        lab_trace_process_name(name);
        lab_cleanup_add(end_cut_task, NULL);     /* this process's only: it ends with the worker */
    }
    for (;;) {
        struct task_msg t;
        size_t len;
        int rc = q_get("_inqueue", p->tasks, &t, sizeof t, &len, 100);
        if (rc == ETIMEDOUT || rc == EAGAIN) {
            if (getppid() != p->parent)          /* the parent is gone: do not linger */
                return 1;
            continue;
        }
        if (rc != 0)
            return 1;
        if (t.id == 0) {                         /* sentinel: the pool is closed, queue drained */
            atomic_store(&s->state, SLOT_SENTINEL);
            return 0;
        }
        atomic_store(&s->current, t.id);
        struct result_msg r = { .id = t.id, .pid = getpid(), .v.pid = (int)getpid() };
        lab_trace_begin("pool", "task #%llu: %s", t.trace, l10_task_names[t.fn]);
        lab_trace_flow_head("submit", L10_FLOW_SUBMIT(t.trace));   /* apply_async's arrow */
        in_task = 1;
        r.err = l10_tasks[t.fn](&t.a, &r.v);
        in_task = 0;
        l10_trace_task_end(t.trace);             /* --trace: the arrow to get(), the slice's end */
        q_put("_outqueue", p->results, &r, sizeof r);
        atomic_store(&s->current, 0);
        if (p->maxtasks > 0 && ++done >= p->maxtasks) {   /* maxtasksperchild: make room */
            atomic_store(&s->state, SLOT_RETIRED);
            return 0;
        }
    }
}

/* Fork a worker into slot i. Caller must hold p->m (or be the only thread). */
static void start_worker(struct l10_ppool *p, int i)
{
    struct lab_proc *w = xcalloc(1, sizeof *w);
    struct worker_arg *wa = xcalloc(1, sizeof *wa);
    *wa = (struct worker_arg){ .p = p, .slot = i };
    *w = (struct lab_proc)LAB_PROC_INIT(worker_main, wa);
    lab_proc_set_daemon(w, true);                /* Python's pool workers are daemons */
    atomic_store(&p->slots[i].state, SLOT_RUNNING);
    atomic_store(&p->slots[i].current, 0);
    lab_proc_start_or_die(w);
    atomic_store(&p->slots[i].pid, w->pid);
    p->procs[i] = w;
    if (p->nall == p->capall) {
        p->capall = p->capall ? 2 * p->capall : 16;
        struct lab_proc **a = xcalloc(p->capall, sizeof *a);
        if (p->nall)
            memcpy(a, p->all, p->nall * sizeof *a);
        free(p->all);
        p->all = a;
    }
    p->all[p->nall++] = w;
    if (p->npids < MAX_PIDS)
        p->pids[p->npids++] = w->pid;
    p->live++;
}

/* ==== The parent's result thread ==== */

/* Complete task id with (v, err): callback first, then the future (Python's AsyncResult._set).
 * Caller must hold p->m; it is released around the callbacks. */
static void complete(struct l10_ppool *p, long id, const struct l10_value *v, int err)
{
    if (id <= 0 || id >= p->next_id || !p->table[id].f)
        return;
    struct pending pe = p->table[id];
    p->table[id].f = NULL;
    p->outstanding--;
    Pthread_mutex_unlock(&p->m);
    if (pe.cb && err == 0) {
        lab_trace_begin("pool", "callback #%llu", l10_future_trace(pe.f));
        l10_future_trace_got(pe.f);              /* the callback takes the value first */
        pe.cb(v, pe.cb_arg);                     /* in the parent, in this thread */
        lab_trace_end();
    }
    l10_future_set(pe.f, v, err);                /* add_done_callback's callbacks run here too */
    l10_future_free(pe.f);
    Pthread_mutex_lock(&p->m);
    Pthread_cond_broadcast(&p->c);
}

static const char *signame(int sig)
{
    return sig == SIGABRT ? "SIGABRT" : sig == SIGKILL ? "SIGKILL" : sig == SIGTERM ? "SIGTERM" :
           sig == SIGSEGV ? "SIGSEGV" : "a signal";
}

/* Reap the workers that ended; replace them unless the pool is terminated. Caller holds p->m. */
static void check_workers(struct l10_ppool *p)
{
    for (int i = 0; i < p->n; i++) {
        struct lab_proc *w = p->procs[i];
        if (!w || lab_proc_is_alive(w))
            continue;
        p->procs[i] = NULL;
        p->live--;
        Pthread_cond_broadcast(&p->c);           /* join() waits for live == 0 */
        int code = lab_proc_exitcode(w);
        int st = atomic_load(&p->slots[i].state);
        long cur = atomic_load(&p->slots[i].current);
        /* Its slot says why it ended, whatever its exit status (under Valgrind a worker that
         * ends normally may still exit with Valgrind's error status). */
        if (st == SLOT_SENTINEL)
            continue;                            /* closed: it took a sentinel and left */
        if (st != SLOT_RETIRED && p->state != POOL_TERMINATE) {
            p->crashes++;
            lab_trace_instant("pool", "worker %d %s %d", (int)w->pid, code < 0 ? "died of signal" : "exited with",
                              code < 0 ? -code : code);
            if (cur > 0) {
                struct l10_value v = { 0 };
                if (cur < p->next_id && p->table[cur].f) {   /* its arrow, drawn here: it died */
                    unsigned long long n = l10_future_trace(p->table[cur].f);
                    l10_trace_arrow("result", false, L10_FLOW_RESULT(n), "task #%llu failed: its worker died", n);
                }
                if (code < 0)
                    snprintf(v.s, sizeof v.s, "worker %d died of %s (signal %d) running this task",
                             (int)w->pid, signame(-code), -code);
                else
                    snprintf(v.s, sizeof v.s, "worker %d exited with %d running this task", (int)w->pid,
                             code);
                complete(p, cur, &v, L10_EWORKER);
            }
        }
        if (p->state != POOL_TERMINATE) {
            start_worker(p, i);                  /* a new process takes the place */
            p->replaced++;
            lab_trace_instant("pool", "worker %d replaced by a new one, pid %d", (int)w->pid,
                              (int)p->procs[i]->pid);
        }
    }
}

static void *handle_results(void *arg)
{
    struct l10_ppool *p = arg;
    struct result_msg r;
    double last_check = lab_now_ms();
    double nap = 20;                 /* ms between checks of the workers; short while closing */
    for (;;) {
        size_t len;
        int rc = q_get("_outqueue", p->results, &r, sizeof r, &len, nap);
        Pthread_mutex_lock(&p->m);
        if (rc == 0)
            complete(p, r.id, &r.v, r.err);
        if (rc != 0 || lab_now_ms() - last_check > nap) {
            check_workers(p);
            last_check = lab_now_ms();
        }
        nap = p->state == POOL_RUN ? 20 : 1;
        bool end = p->stop && rc != 0 && p->live == 0;
        Pthread_mutex_unlock(&p->m);
        if (end)
            return NULL;
    }
}

/* ==== The API ==== */

struct l10_ppool *l10_ppool_new(int processes, int maxtasks)
{
    struct l10_ppool *p = xcalloc(1, sizeof *p);
    lab_mutex_init(&p->m, 0);
    lab_cond_init(&p->c, 0);
    p->n = processes;
    p->maxtasks = maxtasks;
    p->parent = getpid();
    p->tasks = lab_pq_create(QUEUE_ITEMS, QUEUE_ITEMS * (sizeof(struct task_msg) + 16));
    p->results = lab_pq_create(QUEUE_ITEMS, QUEUE_ITEMS * (sizeof(struct result_msg) + 16));
    if (!p->tasks || !p->results)
        die("lab_pq_create:");
    p->slots = lab_shared_alloc((size_t)processes * sizeof *p->slots);
    p->procs = xcalloc((size_t)processes, sizeof *p->procs);
    p->cap = 256;
    p->table = xcalloc(p->cap, sizeof *p->table);
    p->next_id = 1;
    Pthread_mutex_lock(&p->m);
    for (int i = 0; i < processes; i++)
        start_worker(p, i);
    Pthread_mutex_unlock(&p->m);
    p->handler = lab_thread_new(handle_results, p, "_handle_results");
    lab_thread_start_or_die(p->handler);
    return p;
}

struct l10_future *l10_ppool_apply_async(struct l10_ppool *p, int task, const struct l10_args *a,
                                         l10_result_cb cb, void *cb_arg)
{
    Pthread_mutex_lock(&p->m);
    if (p->state != POOL_RUN) {
        Pthread_mutex_unlock(&p->m);
        errno = EINVAL;                          /* ValueError: Pool not running */
        return NULL;
    }
    if ((size_t)p->next_id == p->cap) {
        struct pending *t = xcalloc(2 * p->cap, sizeof *t);
        memcpy(t, p->table, p->cap * sizeof *t);
        free(p->table);
        p->table = t;
        p->cap *= 2;
    }
    long id = p->next_id++;
    struct l10_future *f = l10_future_new();
    l10_future_ref(f);                           /* the caller's and the pool's */
    l10_future_set_id(f, id);
    p->table[id] = (struct pending){ .f = f, .cb = cb, .cb_arg = cb_arg };
    p->outstanding++;
    Pthread_mutex_unlock(&p->m);
    struct task_msg t = { .id = id, .fn = task, .a = *a, .trace = l10_future_trace(f) };
    l10_trace_arrow("submit", false, L10_FLOW_SUBMIT(t.trace), "apply_async #%llu", t.trace);   /* before any get */
    /* The queue is bounded: this blocks while QUEUE_ITEMS tasks wait (the result thread keeps
     * draining the results, so the workers keep taking tasks). */
    q_put("_inqueue", p->tasks, &t, sizeof t);
    return f;
}

int l10_ppool_apply(struct l10_ppool *p, int task, const struct l10_args *a, struct l10_value *out)
{
    struct l10_future *f = l10_ppool_apply_async(p, task, a, NULL, NULL);
    if (!f)
        return EINVAL;
    int err = l10_future_result(f, out, -1);     /* never forever: crashes and terminate complete it */
    l10_future_free(f);
    return err;
}

struct l10_future **l10_ppool_map_async(struct l10_ppool *p, int task, const struct l10_args *args,
                                        size_t n)
{
    struct l10_future **fs = xcalloc(n ? n : 1, sizeof *fs);
    for (size_t i = 0; i < n; i++)
        if (!(fs[i] = l10_ppool_apply_async(p, task, &args[i], NULL, NULL))) {
            for (size_t k = 0; k < i; k++)
                l10_future_free(fs[k]);
            free(fs);
            return NULL;
        }
    return fs;
}

int l10_ppool_map(struct l10_ppool *p, int task, const struct l10_args *args, size_t n,
                  struct l10_value *out)
{
    struct l10_future **fs = l10_ppool_map_async(p, task, args, n);
    if (!fs)
        return EINVAL;
    int first = 0;
    for (size_t i = 0; i < n; i++) {             /* input order */
        int err = l10_future_result(fs[i], &out[i], -1);
        if (err && !first)
            first = err;
        l10_future_free(fs[i]);
    }
    free(fs);
    return first;
}

void l10_ppool_close(struct l10_ppool *p)
{
    Pthread_mutex_lock(&p->m);
    bool was_running = p->state == POOL_RUN;
    if (was_running)
        p->state = POOL_CLOSE;
    Pthread_mutex_unlock(&p->m);
    if (!was_running)
        return;
    struct task_msg t = { .id = 0 };
    for (int i = 0; i < p->n; i++)               /* one sentinel per worker, after every task */
        q_put("_inqueue", p->tasks, &t, sizeof t);
}

void l10_ppool_terminate(struct l10_ppool *p)
{
    Pthread_mutex_lock(&p->m);
    p->state = POOL_TERMINATE;
    for (int i = 0; i < p->n; i++)
        if (p->procs[i])
            lab_proc_terminate(p->procs[i]);
    Pthread_mutex_unlock(&p->m);
}

/* Wait for the workers to exit and the result thread to drain and end. */
int l10_ppool_join(struct l10_ppool *p)
{
    Pthread_mutex_lock(&p->m);
    if (p->state == POOL_RUN) {
        Pthread_mutex_unlock(&p->m);
        return EINVAL;                           /* ValueError: Pool is still running */
    }
    struct timespec dl = lab_deadline_ms(lab_bound_ms(1000));
    while (p->live > 0)
        if (pthread_cond_timedwait(&p->c, &p->m, &dl) == ETIMEDOUT)
            break;
    p->stop = true;
    Pthread_mutex_unlock(&p->m);
    if (p->handler) {
        lab_thread_join(p->handler);
        p->handler = NULL;
    }
    /* Whatever is still pending will never run: cancelled, so no get() waits for it. */
    Pthread_mutex_lock(&p->m);
    struct l10_value v = { 0 };
    snprintf(v.s, sizeof v.s, "the pool was terminated before this task ran");
    for (long id = 1; id < p->next_id; id++) {
        if (p->table[id].f) {                    /* --trace: the arrow to its get(), from here */
            unsigned long long n = l10_future_trace(p->table[id].f);
            l10_trace_arrow("result", false, L10_FLOW_RESULT(n), "task #%llu cancelled: never ran", n);
        }
        complete(p, id, &v, L10_ETERMINATED);
    }
    Pthread_mutex_unlock(&p->m);
    return 0;
}

size_t l10_ppool_pids(struct l10_ppool *p, pid_t *out, size_t max)
{
    size_t k = 0;
    Pthread_mutex_lock(&p->m);
    for (int i = 0; i < p->n && k < max; i++)
        if (p->procs[i])
            out[k++] = p->procs[i]->pid;
    Pthread_mutex_unlock(&p->m);
    return k;
}

size_t l10_ppool_all_pids(struct l10_ppool *p, pid_t *out, size_t max)
{
    Pthread_mutex_lock(&p->m);
    size_t k = p->npids < max ? p->npids : max;
    memcpy(out, p->pids, k * sizeof *out);
    Pthread_mutex_unlock(&p->m);
    return k;
}

int l10_ppool_crashes(struct l10_ppool *p)
{
    Pthread_mutex_lock(&p->m);
    int c = p->crashes;
    Pthread_mutex_unlock(&p->m);
    return c;
}

int l10_ppool_replaced(struct l10_ppool *p)
{
    Pthread_mutex_lock(&p->m);
    int c = p->replaced;
    Pthread_mutex_unlock(&p->m);
    return c;
}

pid_t l10_ppool_worker_of(struct l10_ppool *p, long id)
{
    for (int i = 0; i < p->n; i++)
        if (atomic_load(&p->slots[i].current) == id)
            return atomic_load(&p->slots[i].pid);
    return 0;
}

void l10_ppool_free(struct l10_ppool *p)
{
    if (!p)
        return;
    if (p->handler) {                            /* not joined: end it the hard way */
        l10_ppool_terminate(p);
        l10_ppool_join(p);
    }
    for (size_t i = 0; i < p->nall; i++) {
        if (!p->all[i]->reaped) {
            lab_proc_kill(p->all[i]);
            lab_proc_join(p->all[i]);
        }
        free(p->all[i]->arg);
        free(p->all[i]);
    }
    free(p->all);
    free(p->procs);
    free(p->table);
    lab_shared_free(p->slots, (size_t)p->n * sizeof *p->slots);
    lab_pq_destroy(p->tasks);
    lab_pq_destroy(p->results);
    pthread_mutex_destroy(&p->m);
    pthread_cond_destroy(&p->c);
    free(p);
}
