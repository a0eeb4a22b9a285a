/* labs/10-pools/future.c - the future: concurrent.futures.Future and multiprocessing's AsyncResult.
 *
 * A future is a box filled once.  The submitter gets it at once (asynchronous submission) and
 * later asks for result(), which blocks until a worker has filled it - or, with a timeout, gives
 * up with ETIMEDOUT (Python's TimeoutError) and leaves the task running.
 * Python <-> C: fut.result(timeout=1) <-> l10_future_result(f, &v, 1000);
 *   fut.add_done_callback(cb) <-> l10_future_add_done_callback(f, cb, arg);
 *   as_completed(fs) <-> l10_as_completed; wait(fs, return_when=FIRST_COMPLETED) <-> l10_wait.
 * Python's callback rule (checked in CPython 3.11, concurrent/futures/_base.py): a callback added
 * to a pending future runs in the thread that completes it (the worker); added to a future that
 * is already done, it runs at once, in the caller.  Both are kept here.
 * Lifetime: a reference count (under the future's mutex).  The caller and the pool each hold one; the pool drops its own only
 * after the callbacks ran, so a caller that frees its future right after result() returned never
 * pulls it from under a callback that is still running.
 * --trace: a result() that has to wait is a slice "wait: result() #N"; the first result() that gets
 *   the value holds the head of the arrow from the task's end (the pools draw its tail): in its
 *   wait slice, or in a slice "result() #N" of its own when it did not wait; the callbacks are
 *   slices "callback #N" on the thread that runs them (the worker, or the caller).  Every arrow
 *   ends in a slice that lab 10 opens and closes itself, so recording adds no wait of its own.
 * Watch for: set() wakes the waiters before running the callbacks (as Python does), so result()
 * may return while a callback is still running in the worker.
 */
#include "lab.h"
#include "lab10.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cb_node {
    l10_done_fn fn;
    void *arg;
    struct cb_node *next;
};

struct l10_future {
    pthread_mutex_t m;
    pthread_cond_t c;
    enum l10_state state;            /* guarded by m */
    int err;                         /* guarded by m */
    struct l10_value v;              /* guarded by m; written once, before FINISHED */
    struct cb_node *cbs, **cbs_tail; /* guarded by m: callbacks not run yet, in order */
    int refs;                        /* guarded by refs_lock (below) */
    long id;
    unsigned long long trace;        /* --trace: the task number, 0 without a trace */
    bool trace_got;                  /* guarded by m: a result() drew the arrow's head already */
};

static atomic_ullong trace_seq;

unsigned long long l10_future_trace(const struct l10_future *f) { return f->trace; }

void l10_trace_task_end(unsigned long long n)
{
    lab_trace_flow_tail("result", L10_FLOW_RESULT(n));   /* leaves the task's slice, still open */
    lab_trace_end();
}

void l10_trace_arrow(const char *cat, bool head, unsigned long long id, const char *fmt, ...)
{
    if (!lab_trace_on())
        return;
    char name[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    lab_trace_begin(cat, "%s", name);
    if (head)
        lab_trace_flow_head(cat, id);
    else
        lab_trace_flow_tail(cat, id);
    lab_trace_end();
}

/* Caller holds f->m.  in_slice: the caller's wait or callback slice is open; else the head gets
 * a slice of its own (a result() that did not have to wait). */
static void trace_got(struct l10_future *f, const char *what, bool in_slice)
{
    if (f->trace && !f->trace_got) {
        if (in_slice)
            lab_trace_flow_head("result", L10_FLOW_RESULT(f->trace));
        else
            l10_trace_arrow("result", true, L10_FLOW_RESULT(f->trace), "%s #%llu", what, f->trace);
        f->trace_got = true;
    }
}

void l10_future_trace_got(struct l10_future *f)
{
    Pthread_mutex_lock(&f->m);
    trace_got(f, "callback", true);
    Pthread_mutex_unlock(&f->m);
}

struct l10_future *l10_future_new(void)
{
    struct l10_future *f = xcalloc(1, sizeof *f);
    lab_mutex_init(&f->m, 0);
    lab_cond_init(&f->c, 0);
    f->state = FUT_PENDING;
    f->cbs_tail = &f->cbs;
    f->refs = 1;
    if (lab_trace_on())
        f->trace = atomic_fetch_add(&trace_seq, 1) + 1;
    return f;
}

/* The reference counts of every future, under one lock that is never destroyed.  With the count
 * under the future's own mutex, the last owner destroyed that mutex right after another thread's
 * unlock of it had written to it inside glibc: ordered (that thread let go of the count first),
 * but Helgrind places an unlock's release before the unlock's own writes and reported a race on
 * some runs.  A lock that outlives every future orders the last use of f->m before the destroy,
 * and every tool sees it. */
static pthread_mutex_t refs_lock = PTHREAD_MUTEX_INITIALIZER;

void l10_future_ref(struct l10_future *f)
{
    Pthread_mutex_lock(&refs_lock);
    f->refs++;
    Pthread_mutex_unlock(&refs_lock);
}

void l10_future_free(struct l10_future *f)
{
    if (!f)
        return;
    Pthread_mutex_lock(&refs_lock);
    bool last = --f->refs == 0;
    Pthread_mutex_unlock(&refs_lock);
    if (!last)
        return;
    for (struct cb_node *n = f->cbs, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    pthread_mutex_destroy(&f->m);
    pthread_cond_destroy(&f->c);
    free(f);
}

long l10_future_id(const struct l10_future *f) { return f->id; }
void l10_future_set_id(struct l10_future *f, long id) { f->id = id; }

void l10_future_set_running(struct l10_future *f)
{
    Pthread_mutex_lock(&f->m);
    if (f->state == FUT_PENDING)
        f->state = FUT_RUNNING;
    Pthread_mutex_unlock(&f->m);
}

bool l10_future_set(struct l10_future *f, const struct l10_value *v, int err)
{
    Pthread_mutex_lock(&f->m);
    if (f->state == FUT_FINISHED || f->state == FUT_CANCELLED) {
        Pthread_mutex_unlock(&f->m);
        return false;
    }
    if (v)
        f->v = *v;
    f->err = err;
    f->state = err == L10_ETERMINATED ? FUT_CANCELLED : FUT_FINISHED;
    struct cb_node *cbs = f->cbs;    /* take the list: new callbacks now run at once */
    f->cbs = NULL;
    f->cbs_tail = &f->cbs;
    Pthread_cond_broadcast(&f->c);   /* wake result() first, then the callbacks (Python's order) */
    Pthread_mutex_unlock(&f->m);
    for (struct cb_node *n = cbs, *next; n; n = next) {
        next = n->next;
        lab_trace_begin("pool", "callback #%llu", f->trace);
        n->fn(f, n->arg);            /* in the completing thread, no lock held */
        lab_trace_end();
        free(n);
    }
    return true;
}

static bool is_done(const struct l10_future *f)
{
    return f->state == FUT_FINISHED || f->state == FUT_CANCELLED;
}

bool l10_future_done(struct l10_future *f)
{
    Pthread_mutex_lock(&f->m);
    bool d = is_done(f);
    Pthread_mutex_unlock(&f->m);
    return d;
}

enum l10_state l10_future_state(struct l10_future *f)
{
    Pthread_mutex_lock(&f->m);
    enum l10_state s = f->state;
    Pthread_mutex_unlock(&f->m);
    return s;
}

int l10_future_result(struct l10_future *f, struct l10_value *out, double timeout_ms)
{
    Pthread_mutex_lock(&f->m);
    bool waited = !is_done(f);
    if (waited)
        lab_trace_begin("pool", "wait: %s #%llu", timeout_ms < 0 ? "result()" : "result(timeout)", f->trace);
    /* The wait: a while, for a wake-up may come before f is done (spurious, or another change). */
    /* SOLUTION BEGIN(future-wait): while f is not done, sleep on f->c (timeout_ms >= 0: until a deadline) */
    struct timespec dl = lab_deadline_ms(timeout_ms < 0 ? 0 : timeout_ms);
    int rc = 0;
    while (!is_done(f) && rc != ETIMEDOUT) {
        if (timeout_ms < 0)
            Pthread_cond_wait(&f->c, &f->m);
        else if ((rc = pthread_cond_timedwait(&f->c, &f->m, &dl)) != 0 && rc != ETIMEDOUT)
            die_en(rc, "pthread_cond_timedwait(future)");
    }
    /* SOLUTION END */
    if (!is_done(f)) {                 /* timed out: Python's TimeoutError; the task goes on */
        Pthread_mutex_unlock(&f->m);
        if (waited)
            lab_trace_end();
        return ETIMEDOUT;
    }
    trace_got(f, "result()", waited);   /* --trace: the head of the arrow from the task's end */
    if (out)
        *out = f->v;
    int err = f->err;
    Pthread_mutex_unlock(&f->m);
    if (waited)
        lab_trace_end();
    return err;
}

bool l10_future_add_done_callback(struct l10_future *f, l10_done_fn fn, void *arg)
{
    Pthread_mutex_lock(&f->m);
    if (!is_done(f)) {                      /* pending: the completing thread will run it */
        struct cb_node *n = xmalloc(sizeof *n);
        *n = (struct cb_node){ .fn = fn, .arg = arg };
        *f->cbs_tail = n;
        f->cbs_tail = &n->next;
        Pthread_mutex_unlock(&f->m);
        return false;
    }
    Pthread_mutex_unlock(&f->m);
    lab_trace_begin("pool", "callback #%llu", f->trace);
    fn(f, arg);                             /* already done: at once, in the caller */
    lab_trace_end();
    return true;
}

/* ==== as_completed and wait: one small queue of indices, filled by done-callbacks ==== */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    size_t *order;        /* guarded by m */
    size_t n, done;       /* guarded by m */
    int refs;             /* guarded by refs_lock: the caller and each callback not yet run */
};

struct waiter_ref {
    struct waiter *w;
    size_t index;
};

static void waiter_put(struct waiter *w)
{
    Pthread_mutex_lock(&refs_lock);   /* as for a future: the lock outlives the waiter */
    bool last = --w->refs == 0;
    Pthread_mutex_unlock(&refs_lock);
    if (!last)
        return;
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->c);
    free(w->order);
    free(w);
}

static void waiter_cb(struct l10_future *f, void *arg)
{
    (void)f;
    struct waiter_ref *r = arg;
    struct waiter *w = r->w;
    Pthread_mutex_lock(&w->m);
    w->order[w->done++] = r->index;
    Pthread_cond_broadcast(&w->c);
    Pthread_mutex_unlock(&w->m);
    free(r);
    waiter_put(w);
}

struct l10_ac {
    struct waiter *w;
    size_t n, taken;
    struct timespec dl;
};

/* as_completed(fs): register a callback on each future; next() then yields indices as they
 * complete (Python's generator; the ones already done come first). */
struct l10_ac *l10_as_completed_begin(struct l10_future **fs, size_t n, double timeout_ms)
{
    struct l10_ac *ac = xcalloc(1, sizeof *ac);
    struct waiter *w = ac->w = xcalloc(1, sizeof *w);
    lab_mutex_init(&w->m, 0);
    lab_cond_init(&w->c, 0);
    w->order = xcalloc(n ? n : 1, sizeof *w->order);
    w->n = ac->n = n;
    w->refs = (int)n + 1;
    ac->dl = lab_deadline_ms(timeout_ms < 0 ? lab_bound_ms(1000) : timeout_ms);
    for (size_t i = 0; i < n; i++) {
        struct waiter_ref *r = xmalloc(sizeof *r);
        *r = (struct waiter_ref){ .w = w, .index = i };
        l10_future_add_done_callback(fs[i], waiter_cb, r);
    }
    return ac;
}

/* The index of the next future to complete: 0 and *index set, or ETIMEDOUT, or ENOENT when all
 * were yielded. */
int l10_as_completed_next(struct l10_ac *ac, size_t *index)
{
    struct waiter *w = ac->w;
    if (ac->taken == ac->n)
        return ENOENT;
    int rc = 0;
    Pthread_mutex_lock(&w->m);
    while (w->done <= ac->taken && rc == 0)
        if (pthread_cond_timedwait(&w->c, &w->m, &ac->dl) == ETIMEDOUT && w->done <= ac->taken)
            rc = ETIMEDOUT;
    if (rc == 0)
        *index = w->order[ac->taken++];
    Pthread_mutex_unlock(&w->m);
    return rc;
}

void l10_as_completed_end(struct l10_ac *ac)
{
    waiter_put(ac->w);
    free(ac);
}

size_t l10_as_completed(struct l10_future **fs, size_t n, size_t *order, double timeout_ms)
{
    struct l10_ac *ac = l10_as_completed_begin(fs, n, timeout_ms);
    size_t got = 0, i;
    while (l10_as_completed_next(ac, &i) == 0)
        order[got++] = i;
    l10_as_completed_end(ac);
    return got;
}

size_t l10_wait(struct l10_future **fs, size_t n, enum l10_return_when when, double timeout_ms)
{
    struct l10_ac *ac = l10_as_completed_begin(fs, n, timeout_ms);
    size_t want = when == L10_FIRST_COMPLETED ? 1 : n, got = 0, i;
    while (got < want && l10_as_completed_next(ac, &i) == 0)
        got++;
    l10_as_completed_end(ac);
    /* Python's wait returns the done *set* at that moment: count them again. */
    size_t done = 0;
    for (size_t k = 0; k < n; k++)
        done += l10_future_done(fs[k]);
    return done;
}
