/* labs/04-ipc-queue/tqueue.c - thread queues: queue.Queue, LifoQueue, PriorityQueue.
 *
 * The notes' thread-queue section ("线程q") says these queues "都实现了锁的原理" and can be used between threads
 * directly.  One bounded container does all three: a mutex, two condition variables (not_empty,
 * not_full) on CLOCK_MONOTONIC, and a policy for which item leaves first: FIFO (a ring), LIFO (a
 * stack) or priority (a binary min-heap on the tuple (priority, text), compared like Python's
 * tuples: on a tie the text decides, so (1, 'a') leaves before (1, 'b')).
 * The notes' snippet stops at the first q.get(timeout=3), which raises queue.Empty uncaught, so
 * its LifoQueue and PriorityQueue parts never run: here every part runs.
 * Python <-> C: queue.Queue(3) <-> tq_new(TQ_FIFO, 3); q.get_nowait() <-> tq_get(q, &it, 0);
 *   PriorityQueue.put((0, '333')) <-> tq_put(q, (struct tq_item){0, "333"}, -1).
 * Usage: build/lab04 thread_queues
 * Watch for: 1, then 2, then Empty after 3 units; 2 from the LIFO; (0, '333') from the heap.
 * See also: common/pqueue.c (the same idea between processes), lab 5.
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== The container ==== */

enum tq_kind { TQ_FIFO, TQ_LIFO, TQ_PRIO };

struct tq_item {
    long prio;          /* the number (FIFO/LIFO) or the tuple's first element (priority) */
    char text[16];      /* the tuple's second element ("" for plain numbers) */
};

struct tqueue {
    enum tq_kind kind;
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    size_t maxsize;
    size_t n, head;             /* guarded by lock; head is used by the FIFO ring only */
    struct tq_item *items;      /* guarded by lock */
    bool say;                   /* print each put and get inside the lock: a get's line never
                                 * comes before its put's */
};

static struct tqueue *tq_new(enum tq_kind kind, size_t maxsize)
{
    struct tqueue *q = xcalloc(1, sizeof *q);
    q->kind = kind;
    q->maxsize = maxsize;
    q->items = xcalloc(maxsize, sizeof *q->items);
    lab_mutex_init(&q->lock, 0);
    lab_cond_init(&q->not_empty, 0);      /* on CLOCK_MONOTONIC, as lab_deadline_ms() is */
    lab_cond_init(&q->not_full, 0);
    return q;
}

static void tq_free(struct tqueue *q)
{
    Pthread_mutex_destroy(&q->lock);
    Pthread_cond_destroy(&q->not_empty);
    Pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

/* Python's tuple order: priority first, then the text. */
static int tq_less(const struct tq_item *a, const struct tq_item *b)
{
    return a->prio != b->prio ? a->prio < b->prio : strcmp(a->text, b->text) < 0;
}

static void tq_swap(struct tq_item *a, struct tq_item *b) { struct tq_item t = *a; *a = *b; *b = t; }

/* Caller holds q->lock and has checked that there is room. */
static void tq_insert(struct tqueue *q, const struct tq_item *it)
{
    switch (q->kind) {
    case TQ_FIFO: q->items[(q->head + q->n) % q->maxsize] = *it; break;
    case TQ_LIFO: q->items[q->n] = *it; break;
    case TQ_PRIO: {
        size_t i = q->n;                              /* sift up */
        q->items[i] = *it;
        while (i > 0 && tq_less(&q->items[i], &q->items[(i - 1) / 2])) {
            tq_swap(&q->items[i], &q->items[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
        break;
    }
    }
    q->n++;
}

/* Caller holds q->lock and has checked that q->n > 0. */
static void tq_remove(struct tqueue *q, struct tq_item *out)
{
    switch (q->kind) {
    case TQ_FIFO:
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->maxsize;
        q->n--;
        break;
    case TQ_LIFO:
        *out = q->items[--q->n];
        break;
    case TQ_PRIO: {
        *out = q->items[0];
        q->items[0] = q->items[--q->n];
        size_t i = 0;                                 /* sift down */
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < q->n && tq_less(&q->items[l], &q->items[m]))
                m = l;
            if (r < q->n && tq_less(&q->items[r], &q->items[m]))
                m = r;
            if (m == i)
                break;
            tq_swap(&q->items[i], &q->items[m]);
            i = m;
        }
        break;
    }
    }
}

/* Wait on cond until ready() or the timeout (ms < 0: forever, 0: not at all).  Caller holds the lock.
 * Returns 0, EAGAIN (timeout 0) or ETIMEDOUT. */
static int tq_wait(struct tqueue *q, pthread_cond_t *cond, bool (*ready)(const struct tqueue *), double ms)
{
    struct timespec dl = lab_deadline_ms(ms > 0 ? ms : 0);
    while (!ready(q)) {
        if (ms == 0)
            return EAGAIN;
        int rc = ms < 0 ? pthread_cond_wait(cond, &q->lock) : pthread_cond_timedwait(cond, &q->lock, &dl);
        if (rc == ETIMEDOUT && !ready(q))
            return ETIMEDOUT;
        if (rc != 0 && rc != ETIMEDOUT)
            die_en(rc, "pthread_cond_wait");
    }
    return 0;
}

static bool has_room(const struct tqueue *q) { return q->n < q->maxsize; }
static bool has_item(const struct tqueue *q) { return q->n > 0; }

static int tq_put(struct tqueue *q, struct tq_item it, double ms)
{
    Pthread_mutex_lock(&q->lock);
    int rc = tq_wait(q, &q->not_full, has_room, ms);
    if (rc == 0) {
        tq_insert(q, &it);
        if (q->say)
            printf("%s: q.put(%ld)\n", lab_thread_name(lab_current_thread()), it.prio);
        Pthread_cond_signal(&q->not_empty);
    }
    Pthread_mutex_unlock(&q->lock);
    return rc;
}

static int tq_get(struct tqueue *q, struct tq_item *out, double ms)
{
    Pthread_mutex_lock(&q->lock);
    int rc = tq_wait(q, &q->not_empty, has_item, ms);
    if (rc == 0) {
        tq_remove(q, out);
        if (q->say)
            printf("%s: q.get() -> %ld\n", lab_thread_name(lab_current_thread()), out->prio);
        Pthread_cond_signal(&q->not_full);
    }
    Pthread_mutex_unlock(&q->lock);
    return rc;
}

static struct tq_item num(long v) { struct tq_item it = { v, "" }; return it; }
static struct tq_item tup(long p, const char *s)
{
    struct tq_item it = { p, "" };
    snprintf(it.text, sizeof it.text, "%s", s);
    return it;
}

/* "(0, '333')" as Python prints it, or "(0,'333')" (no space) for the RESULT line. */
static void tup_str(const struct tq_item *it, char *buf, size_t cap, bool space)
{
    snprintf(buf, cap, "(%ld,%s'%s')", it->prio, space ? " " : "", it->text);
}

/* ==== Threads sharing one queue ==== */

#define TQ_PRODUCERS 2
#define TQ_EACH 5

static struct tqueue *shared_q;

static void *tq_producer(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (long i = 0; i < TQ_EACH; i++) {   /* item = producer*100 + sequence: order is checkable */
        if (tq_put(shared_q, num(id * 100 + i), lab_bound_ms(0)) != 0)   /* blocks while 3 are waiting */
            return (void *)1;   /* its "q.put" line is printed inside tq_put */
    }
    return NULL;
}

static void *tq_consumer(void *arg)
{
    long *last = arg;                      /* last sequence seen per producer, -1 at first */
    long bad = 0;
    for (int i = 0; i < TQ_PRODUCERS * TQ_EACH; i++) {
        struct tq_item it;
        if (tq_get(shared_q, &it, lab_bound_ms(0)) != 0)
            return (void *)(intptr_t)(TQ_PRODUCERS * TQ_EACH - i);
        long p = it.prio / 100, s = it.prio % 100;
        if (p < 1 || p > TQ_PRODUCERS || s <= last[p])
            bad++;
        else
            last[p] = s;   /* its "q.get()" line was printed inside tq_get */
    }
    return (void *)(intptr_t)bad;
}

/* ==== The scenario ==== */

int run_thread_queues(int mode)
{
    (void)mode;
    struct tq_item it = { 0, "" };
    char s1[32], s2[32];

    /* 1. FIFO */
    struct tqueue *q = tq_new(TQ_FIFO, 3);
    tq_put(q, num(1), -1);
    tq_put(q, num(2), -1);
    int rc = tq_get(q, &it, -1);
    long fifo_first = rc == 0 ? it.prio : -1;
    printf("q = queue.Queue(3); q.put(1); q.put(2); print(q.get()) -> %ld\n", fifo_first);
    rc = tq_get(q, &it, 0);
    long fifo_nowait = rc == 0 ? it.prio : -1;
    printf("q.get_nowait() -> %ld (the notes drop this value)\n", fifo_nowait);
    double t0 = lab_now_ms();
    int fifo_timeout = tq_get(q, &it, lab_units_ms(3.0));
    double waited = l04_round1(lab_elapsed_units(t0));
    printf("q.get(timeout=3) -> %s after %.1f units (uncaught in the notes: the rest never ran)\n",
           l04_pyname(fifo_timeout, 0), waited);
    tq_free(q);

    /* 2. LIFO */
    q = tq_new(TQ_LIFO, 3);
    tq_put(q, num(1), -1);
    tq_put(q, num(2), -1);
    long lifo_first = tq_get(q, &it, -1) == 0 ? it.prio : -1;
    printf("q = queue.LifoQueue(3); q.put(1); q.put(2); print(q.get()) -> %ld\n", lifo_first);
    tq_free(q);

    /* 3. Priority: smaller number first; ties compare the text. */
    q = tq_new(TQ_PRIO, 3);
    tq_put(q, tup(10, "111"), -1);
    tq_put(q, tup(100, "222"), -1);
    tq_put(q, tup(0, "333"), -1);
    struct tq_item prio = { -1, "" }, tie = { -1, "" };
    tq_get(q, &prio, -1);
    tup_str(&prio, s1, sizeof s1, true);
    printf("q = queue.PriorityQueue(3); put (10,'111') (100,'222') (0,'333'); print(q.get()) -> %s\n", s1);
    tq_free(q);
    q = tq_new(TQ_PRIO, 3);
    tq_put(q, tup(1, "b"), -1);
    tq_put(q, tup(1, "a"), -1);
    tq_get(q, &tie, -1);
    tup_str(&tie, s2, sizeof s2, true);
    printf("a tie: put (1,'b') then (1,'a'); get -> %s (tuples compare the text next)\n", s2);
    tq_free(q);

    /* 4. What the queues are for: threads handing items over, Queue(3) blocking the producers. */
    shared_q = tq_new(TQ_FIFO, 3);
    shared_q->say = true;
    long last[TQ_PRODUCERS + 1];
    for (int i = 0; i <= TQ_PRODUCERS; i++)
        last[i] = -1;
    struct lab_thread *cons = LAB_THREAD(tq_consumer, last);
    struct lab_thread *prods[TQ_PRODUCERS];
    lab_thread_start_or_die(cons);
    for (long i = 0; i < TQ_PRODUCERS; i++) {
        prods[i] = LAB_THREAD(tq_producer, (void *)(intptr_t)(i + 1));
        lab_thread_start_or_die(prods[i]);
    }
    bool producers_ok = true;
    for (int i = 0; i < TQ_PRODUCERS; i++)
        producers_ok = lab_thread_join(prods[i]) == NULL && producers_ok;
    long cons_bad = (long)(intptr_t)lab_thread_join(cons);
    tq_free(shared_q);
    int received = 0;
    for (int i = 1; i <= TQ_PRODUCERS; i++)
        received += (int)(last[i] + 1);
    bool order = cons_bad == 0;
    printf("%d producer threads x %d items through Queue(3): received %d, each producer's order kept: %s\n",
           TQ_PRODUCERS, TQ_EACH, received, order ? "yes" : "no");

    tup_str(&prio, s1, sizeof s1, false);
    tup_str(&tie, s2, sizeof s2, false);
    bool ok = fifo_first == 1 && fifo_nowait == 2 && fifo_timeout == ETIMEDOUT && waited >= 3.0 && lifo_first == 2
        && prio.prio == 0 && strcmp(prio.text, "333") == 0 && tie.prio == 1 && strcmp(tie.text, "a") == 0
        && producers_ok && order && received == TQ_PRODUCERS * TQ_EACH;
    lab_result("fifo_first=%ld fifo_nowait=%ld fifo_timeout=%s fifo_waited_units=%.1f "
               "lifo_first=%ld prio_first=%s tie_first=%s threads_received=%d per_producer_order=%d",
               fifo_first, fifo_nowait, l04_pyname(fifo_timeout, 0), waited, lifo_first, s1, s2, received, order);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
