/* labs/05-producer-consumer/threads.c - a bounded buffer between threads (scenario `threads`).
 *
 * `threads` is queue.Queue(maxsize) rebuilt by hand: a ring of `capacity` slots, one mutex, and two
 * condition variables, not_full (producers sleep there while the ring is full) and not_empty
 * (consumers sleep there while it is empty).  Every wait sits in a `while` loop, because a woken
 * thread only learns "something changed", not "the buffer is now as you want it" (Mesa semantics:
 * between the signal and the moment the woken thread holds the mutex again, others may run;
 * cv_if_bug.c forces what goes wrong without that loop).  The main thread joins the producers, then
 * puts one stop message per consumer, and checks at the end that exactly that many were put, that
 * each consumer got one, and that nothing is left in the buffer.  The bench (bench.c) measures
 * the same buffer with plain pthreads (l05_bench_buffer, at the end of this file).
 *
 * Python (the notes' thread queue case, 案例11) ↔ C:
 *   q = queue.Queue(3)         ↔ struct bb: ring + pthread_mutex_t + not_full/not_empty condvars
 *   q.put(x) / q.get()         ↔ bb_put() / bb_get(): lock; while (...) wait; copy; signal; unlock
 *   threading.Condition.wait   ↔ pthread_cond_timedwait on CLOCK_MONOTONIC (bounded: no hang)
 *
 * Usage: lab05 threads [--producers=2] [--consumers=2] [--items=5] [--capacity=3]
 * What to watch for: "after waiting: buffer was full" lines (producers outrun the slow consumers).
 * See also: procs.c (the same between processes), cv_if_bug.c, bench.c, ledger.c, README.md.
 */
#include "lab.h"
#include "lab05.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==== The bounded buffer ==== */

struct bb {
    pthread_mutex_t m;
    pthread_cond_t not_full;      /* producers wait here while count == cap */
    pthread_cond_t not_empty;     /* consumers wait here while count == 0 */
    struct l05_item *slot;        /* guarded by m: the ring */
    int cap, fill, use, count;    /* guarded by m */
    int max_count;                /* guarded by m: the fullest it was */
    int *next_seq;                /* guarded by m: per producer, the seq the ring should hand out next */
    long fifo_violations;         /* guarded by m */
    long waits_full, waits_empty; /* guarded by m */
    bool stuck;                   /* guarded by m: a wait ran past the bound, everyone gives up */
    double stall_ms;              /* bound on one wait */
    bool say;                     /* print each put and get, inside the critical section, so a
                                   * get's line never comes before its put's */
};

static void bb_init(struct bb *b, int cap, int producers, double stall_ms)
{
    memset(b, 0, sizeof *b);
    lab_mutex_init(&b->m, 0);
    lab_cond_init(&b->not_full, 0);      /* CLOCK_MONOTONIC: the timed waits ignore clock jumps */
    lab_cond_init(&b->not_empty, 0);
    b->slot = xcalloc((size_t)cap, sizeof *b->slot);
    b->next_seq = xcalloc((size_t)producers, sizeof *b->next_seq);
    b->cap = cap;
    b->stall_ms = stall_ms;
}

static void bb_destroy(struct bb *b)
{
    Pthread_cond_destroy(&b->not_full);
    Pthread_cond_destroy(&b->not_empty);
    Pthread_mutex_destroy(&b->m);
    free(b->slot);
    free(b->next_seq);
}

/* Wait on c, in slices.  glibc before 2.41 can lose a pthread_cond_signal when several threads
 * wait on one condition variable (sourceware bug 25847): the waiter sleeps on although its
 * condition holds.  So a wait lasts at most BB_SLICE_MS and the caller's `while` loop looks again
 * (a lost signal then costs one slice; pthread allows spurious wake-ups anyway, which is one more
 * reason for the `while`).  Only when one get/put has waited stall_ms in all (since `since`) is the
 * buffer declared stuck and every waiter woken so that all threads leave.
 * Caller must hold b->m.  Returns 0, or -1 when stuck. */
#define BB_SLICE_MS 50.0

static int bb_wait(struct bb *b, pthread_cond_t *c, double since)
{
    double left = since + b->stall_ms - lab_now_ms();
    if (left <= 0 && !b->stuck) {
        b->stuck = true;
        Pthread_cond_broadcast(&b->not_full);
        Pthread_cond_broadcast(&b->not_empty);
    }
    if (b->stuck)
        return -1;
    struct timespec deadline = lab_deadline_ms(left < BB_SLICE_MS ? left : BB_SLICE_MS);
    int rc = pthread_cond_timedwait(c, &b->m, &deadline);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait");
    return b->stuck ? -1 : 0;
}

/* q.put(item): sleep while full.  *fill_after = the count after the put.  0, or -1 when stuck. */
static int bb_put(struct bb *b, struct l05_item item, int *fill_after, bool *waited)
{
    *waited = false;
    double since = lab_now_ms();
    Pthread_mutex_lock(&b->m);
    while (b->count == b->cap) {                 /* while, not if: re-check after every wake-up */
        b->waits_full += !*waited;
        *waited = true;
        if (bb_wait(b, &b->not_full, since) != 0)
            break;
    }
    if (b->stuck) {
        Pthread_mutex_unlock(&b->m);
        return -1;
    }
    b->slot[b->fill] = item;
    b->fill = (b->fill + 1) % b->cap;
    b->count++;
    if (b->count > b->max_count)
        b->max_count = b->count;
    *fill_after = b->count;
    if (b->say && item.producer >= 0)
        lab_say("%s: put item %d.%d (buffer %d/%d)%s", l05_me(), item.producer, item.seq, b->count, b->cap,
                *waited ? " after waiting: buffer was full" : "");
    Pthread_cond_signal(&b->not_empty);          /* one item: one consumer may go on */
    lab_trace_flow_out("queue", L05_FLOW(item), "put %d.%d", item.producer, item.seq);
    Pthread_mutex_unlock(&b->m);
    return 0;
}

/* item = q.get(): sleep while empty.  Checks, under the lock, that each producer's items leave the
 * ring in the order they were made.  0, or -1 when stuck. */
static int bb_get(struct bb *b, struct l05_item *item, int *fill_after, bool *waited)
{
    *waited = false;
    double since = lab_now_ms();
    Pthread_mutex_lock(&b->m);
    while (b->count == 0) {
        b->waits_empty += !*waited;
        *waited = true;
        if (bb_wait(b, &b->not_empty, since) != 0)
            break;
    }
    if (b->stuck) {
        Pthread_mutex_unlock(&b->m);
        return -1;
    }
    *item = b->slot[b->use];
    b->use = (b->use + 1) % b->cap;
    b->count--;
    if (item->producer >= 0) {
        if (item->seq != b->next_seq[item->producer])
            b->fifo_violations++;
        b->next_seq[item->producer] = item->seq + 1;
    }
    *fill_after = b->count;
    if (b->say && item->producer >= 0)
        lab_say("%s: got item %d.%d (buffer %d/%d)%s", l05_me(), item->producer, item->seq, b->count, b->cap,
                *waited ? " after waiting: buffer was empty" : "");
    Pthread_cond_signal(&b->not_full);           /* one slot free: one producer may go on */
    Pthread_mutex_unlock(&b->m);
    lab_trace_flow_in("queue", L05_FLOW(*item), "get %d.%d", item->producer, item->seq);
    return 0;
}

/* ==== Scenario: threads ==== */

struct worker {
    struct bb *b;
    struct l05_ledger *l;       /* NULL in the bench */
    int id, items;
    bool verbose;              /* print a line per item, and pace the threads so waits show */
    long got;                  /* consumers: items taken */
    bool failed;               /* stuck */
};

static void *producer_thread(void *arg)
{
    struct worker *w = arg;
    for (int s = 0; s < w->items; s++) {
        struct l05_item it = { w->id, s, l05_value(w->id, s) };
        if (w->verbose)
            lab_sleep(0.1 * (double)lab_randint(0, 1));     /* producers are quick ... */
        if (w->l)
            l05_ledger_produced(w->l, it.producer, it.seq, it.value);
        int fill;
        bool waited;
        if (bb_put(w->b, it, &fill, &waited) != 0) {   /* its line is printed inside */
            w->failed = true;
            return NULL;
        }
    }
    return NULL;
}

static void *consumer_thread(void *arg)
{
    struct worker *w = arg;
    struct l05_fifo fifo;
    l05_fifo_init(&fifo);
    for (;;) {
        struct l05_item it;
        int fill;
        bool waited;
        if (bb_get(w->b, &it, &fill, &waited) != 0) {
            w->failed = true;
            return NULL;
        }
        if (it.producer < 0) {
            if (w->l)
                __atomic_fetch_add(&w->l->stops, 1, __ATOMIC_SEQ_CST);
            if (w->verbose)
                lab_say("%s: got the stop message, leaves after %ld items", l05_me(), w->got);
            return NULL;
        }
        w->got++;
        if (w->l) {
            l05_fifo_see(&fifo, w->l, it.producer, it.seq);
            l05_ledger_consumed(w->l, it.producer, it.seq, it.value);
        }
        if (w->verbose) {   /* the "got item" line was printed inside bb_get */
            lab_sleep(0.1 * (double)lab_randint(1, 3));     /* ... consumers are slow */
        }
    }
}

int run_threads(int mode)
{
    (void)mode;   /* no modes */
    int np = l05_opt("producers", 2), nc = l05_opt("consumers", 2);
    int items = l05_opt("items", 5), cap = l05_opt("capacity", 3);
    long total = (long)np * items;
    bool verbose = total <= 40;
    double budget = lab_bound_ms((double)total * 0.5);

    printf("main: %d producer threads x %d items -> buffer of %d slots -> %d consumer threads\n", np, items, cap, nc);
    struct bb b;
    bb_init(&b, cap, np, budget);
    b.say = verbose;
    struct l05_ledger *l = l05_ledger_new(np, items);
    struct worker *pw = xcalloc((size_t)np, sizeof *pw), *cw = xcalloc((size_t)nc, sizeof *cw);
    struct lab_thread **pt = xcalloc((size_t)np, sizeof *pt), **ct = xcalloc((size_t)nc, sizeof *ct);
    for (int i = 0; i < nc; i++) {
        char name[32];
        cw[i] = (struct worker){ &b, l, i, 0, verbose, 0, false };
        ct[i] = LAB_THREAD(consumer_thread, &cw[i]);
        snprintf(name, sizeof name, "consumer-%d", i);
        lab_thread_set_name(ct[i], name);
        lab_thread_start_or_die(ct[i]);
    }
    for (int i = 0; i < np; i++) {
        char name[32];
        pw[i] = (struct worker){ &b, l, i, items, verbose, 0, false };
        pt[i] = LAB_THREAD(producer_thread, &pw[i]);
        snprintf(name, sizeof name, "producer-%d", i);
        lab_thread_set_name(pt[i], name);
        lab_thread_start_or_die(pt[i]);
    }
    if (!verbose)
        printf("main: %ld items: one line per item would be too many; the books are kept all the same\n", total);

    /* Python: for p in producers: p.join(); then one stop message per consumer (after every item). */
    bool stuck = false;
    for (int i = 0; i < np; i++) {
        lab_thread_join(pt[i]);          /* bounded: a stuck buffer makes every thread leave */
        stuck |= pw[i].failed;
    }
    int stops_put = 0;
    if (!stuck)   /* before the puts: a consumer's "got the stop message" comes after this line */
        printf("main: producers joined, puts %d stop message%s for %d consumer%s\n", nc, nc == 1 ? "" : "s", nc,
               nc == 1 ? "" : "s");
    for (int i = 0; i < nc && !stuck; i++) {
        int fill;
        bool waited;
        if (bb_put(&b, (struct l05_item){ -1, 0, 0 }, &fill, &waited) != 0)
            stuck = true;
        else
            stops_put++;
    }
    int alive = 0;
    for (int i = 0; i < nc; i++) {
        lab_thread_join(ct[i]);
        stuck |= cw[i].failed;
    }
    for (int i = 0; i < nc; i++)
        alive += lab_thread_is_alive(ct[i]);

    Pthread_mutex_lock(&b.m);
    l->fifo_violations += b.fifo_violations;
    long wf = b.waits_full, we = b.waits_empty;
    int maxc = b.max_count;
    int left = b.count;                  /* every consumer is gone: what nobody will take */
    stuck |= b.stuck;
    Pthread_mutex_unlock(&b.m);
    printf("main: producers waited %ld times for room, consumers %ld times for an item; fullest %d/%d\n",
           wf, we, maxc, cap);
    if (left > 0)
        printf("main: %d message%s left in the buffer after every consumer left\n", left, left == 1 ? "" : "s");
    if (stuck)
        lab_say("WATCHDOG: a wait lasted more than %.0f ms: the buffer is stuck", budget);

    struct l05_check c;
    l05_ledger_check(l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    /* one stop message per consumer: put, received, and none left over */
    bool ok = l05_check_ok(&c) && maxc <= cap && alive == 0 && stops_put == nc && l->stops == nc && left == 0;
    lab_result("producers=%d consumers=%d items=%d capacity=%d %s capacity_ok=%d stop_msgs=%ld stop_msgs_put=%d "
               "left_in_buffer=%d consumers_alive_after=%d",
               np, nc, items, cap, f, maxc <= cap, l->stops, stops_put, left, alive);
    l05_ledger_free(l);
    bb_destroy(&b);
    free(pw);
    free(cw);
    free(pt);
    free(ct);
    return stuck ? LAB_EXIT_WATCHDOG : ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== Bench ==== */

/* Items/s through the bounded buffer with np producers and nc consumers (at most 2 each), plain
 * pthreads and no books: what the buffer costs. */
double l05_bench_buffer(int np, int nc, int per_producer, int cap)
{
    struct bb b;
    bb_init(&b, cap, np, 60000);
    struct worker pw[2], cw[2];
    pthread_t pt[2], ct[2];
    uint64_t t0 = lab_now_ns();
    for (int i = 0; i < nc; i++) {
        cw[i] = (struct worker){ &b, NULL, i, 0, false, 0, false };
        Pthread_create(&ct[i], NULL, consumer_thread, &cw[i]);
    }
    for (int i = 0; i < np; i++) {
        pw[i] = (struct worker){ &b, NULL, i, per_producer, false, 0, false };
        Pthread_create(&pt[i], NULL, producer_thread, &pw[i]);
    }
    for (int i = 0; i < np; i++)
        Pthread_join(pt[i], NULL);
    for (int i = 0; i < nc; i++) {
        int fill;
        bool waited;
        bb_put(&b, (struct l05_item){ -1, 0, 0 }, &fill, &waited);
    }
    for (int i = 0; i < nc; i++)
        Pthread_join(ct[i], NULL);
    double s = (double)(lab_now_ns() - t0) / 1e9;
    bb_destroy(&b);
    return (double)np * per_producer / s;
}
