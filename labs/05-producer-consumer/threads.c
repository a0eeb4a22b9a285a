/* labs/05-producer-consumer/threads.c - a bounded buffer between threads, and the classic bug.
 *
 * `threads` is queue.Queue(maxsize) rebuilt by hand: a ring of `capacity` slots, one mutex, and two
 * condition variables, not_full (producers sleep there while the ring is full) and not_empty
 * (consumers sleep there while it is empty).  Every wait sits in a `while` loop, because a woken
 * thread only learns "something changed", not "the buffer is now as you want it" (Mesa semantics:
 * between the signal and the moment the woken thread holds the mutex again, others may run).
 * `cv_if_bug` shows what goes wrong without that loop: with `if` and a single condition variable
 * shared by both sides, a consumer that was woken for an item finds another consumer already ate
 * it, and takes from an empty buffer anyway (a stale slot: a duplicate; the count goes to -1 and the
 * next item is lost).  The interleaving is forced with flags, so it happens on every run and on
 * one CPU as well as sixteen; --mode=while runs the same schedule with the fix and nothing breaks.
 * The bench compares the buffer's throughput (1:1 and 2:2 threads) with a pipe and the process queue.
 *
 * Python (S3 案例11) ↔ C:
 *   q = queue.Queue(3)         ↔ struct bb: ring + pthread_mutex_t + not_full/not_empty condvars
 *   q.put(x) / q.get()         ↔ bb_put() / bb_get(): lock; while (...) wait; copy; signal; unlock
 *   threading.Condition.wait   ↔ pthread_cond_timedwait on CLOCK_MONOTONIC (bounded: no hang)
 *
 * Usage: lab05 threads [--producers=2] [--consumers=2] [--items=5] [--capacity=3]
 *        lab05 cv_if_bug [--mode=if|while]        lab05 --bench
 * What to watch for: "waits: buffer full" lines (producers outrun the slow consumers); in cv_if_bug
 * the line "takes from an EMPTY buffer" in mode if and "checks again, still empty" in mode while.
 * See also: procs.c (the same between processes), ledger.c, README.md.
 */
#include "lab.h"
#include "pc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An item in a buffer; producer < 0 is the stop message (None in the notes). */
struct pc_item {
    int producer, seq;
    uint64_t value;
};

/* ==== The bounded buffer ==== */

struct bb {
    pthread_mutex_t m;
    pthread_cond_t not_full;      /* producers wait here while count == cap */
    pthread_cond_t not_empty;     /* consumers wait here while count == 0 */
    struct pc_item *slot;         /* guarded by m: the ring */
    int cap, fill, use, count;    /* guarded by m */
    int max_count;                /* guarded by m: the fullest it was */
    int *next_seq;                /* guarded by m: per producer, the seq the ring should hand out next */
    long fifo_violations;         /* guarded by m */
    long waits_full, waits_empty; /* guarded by m */
    bool stuck;                   /* guarded by m: a wait ran past the bound, everyone gives up */
    double stall_ms;              /* bound on one wait */
};

/* Condition variables on CLOCK_MONOTONIC, so the timed waits ignore wall-clock jumps. */
static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    PT_CHECK(pthread_condattr_init(&a));
    PT_CHECK(pthread_condattr_setclock(&a, CLOCK_MONOTONIC));
    Pthread_cond_init(c, &a);
    PT_CHECK(pthread_condattr_destroy(&a));
}

static void bb_init(struct bb *b, int cap, int producers, double stall_ms)
{
    memset(b, 0, sizeof *b);
    Pthread_mutex_init(&b->m, NULL);
    cond_init_monotonic(&b->not_full);
    cond_init_monotonic(&b->not_empty);
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
static int bb_put(struct bb *b, struct pc_item item, int *fill_after, bool *waited)
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
    Pthread_cond_signal(&b->not_empty);          /* one item: one consumer may go on */
    Pthread_mutex_unlock(&b->m);
    return 0;
}

/* item = q.get(): sleep while empty.  Checks, under the lock, that each producer's items leave the
 * ring in the order they were made.  0, or -1 when stuck. */
static int bb_get(struct bb *b, struct pc_item *item, int *fill_after, bool *waited)
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
    Pthread_cond_signal(&b->not_full);           /* one slot free: one producer may go on */
    Pthread_mutex_unlock(&b->m);
    return 0;
}

/* ==== Scenario: threads ==== */

struct worker {
    struct bb *b;
    struct pc_ledger *l;       /* NULL in the bench */
    int id, items;
    bool verbose;              /* print a line per item, and pace the threads so waits show */
    long got;                  /* consumers: items taken */
    bool failed;               /* stuck */
};

static const char *me(void)
{
    return lab_thread_name(lab_current_thread());
}

static void *producer_thread(void *arg)
{
    struct worker *w = arg;
    for (int s = 0; s < w->items; s++) {
        struct pc_item it = { w->id, s, pc_value(w->id, s) };
        if (w->verbose)
            lab_sleep(0.1 * (double)lab_randint(0, 1));     /* producers are quick ... */
        if (w->l)
            pc_ledger_produced(w->l, it.producer, it.seq, it.value);
        int fill;
        bool waited;
        if (bb_put(w->b, it, &fill, &waited) != 0) {
            w->failed = true;
            return NULL;
        }
        if (w->verbose)
            lab_say("%s: put item %d.%d (buffer %d/%d)%s", me(), w->id, s, fill, w->b->cap,
                    waited ? " after waiting: buffer was full" : "");
    }
    return NULL;
}

static void *consumer_thread(void *arg)
{
    struct worker *w = arg;
    struct pc_fifo fifo;
    pc_fifo_init(&fifo);
    for (;;) {
        struct pc_item it;
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
                lab_say("%s: got the stop message, leaves after %ld items", me(), w->got);
            return NULL;
        }
        w->got++;
        if (w->l) {
            pc_fifo_see(&fifo, w->l, it.producer, it.seq);
            pc_ledger_consumed(w->l, it.producer, it.seq, it.value);
        }
        if (w->verbose) {
            lab_say("%s: got item %d.%d (buffer %d/%d)%s", me(), it.producer, it.seq, fill, w->b->cap,
                    waited ? " after waiting: buffer was empty" : "");
            lab_sleep(0.1 * (double)lab_randint(1, 3));     /* ... consumers are slow */
        }
    }
}

int run_threads(int mode_index)
{
    (void)mode_index;
    int np = pc_opt("producers", 2), nc = pc_opt("consumers", 2);
    int items = pc_opt("items", 5), cap = pc_opt("capacity", 3);
    long total = (long)np * items;
    bool verbose = total <= 40;
    double budget = pc_budget_ms((double)total * 0.5);

    printf("main: %d producer threads x %d items -> buffer of %d slots -> %d consumer threads\n", np, items, cap, nc);
    struct bb b;
    bb_init(&b, cap, np, budget);
    struct pc_ledger *l = pc_ledger_new(np, items);
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
    for (int i = 0; i < nc && !stuck; i++) {
        int fill;
        bool waited;
        if (bb_put(&b, (struct pc_item){ -1, 0, 0 }, &fill, &waited) != 0)
            stuck = true;
        else
            stops_put++;
    }
    printf("main: producers joined, %d stop messages put (one per consumer)\n", stops_put);
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
    stuck |= b.stuck;
    Pthread_mutex_unlock(&b.m);
    printf("main: producers waited %ld times for room, consumers %ld times for an item; fullest %d/%d\n",
           wf, we, maxc, cap);
    if (stuck)
        lab_say("WATCHDOG: a wait lasted more than %.0f ms: the buffer is stuck", budget);

    struct pc_check c;
    pc_ledger_check(l, &c);
    char f[256];
    pc_check_fields(&c, f, sizeof f);
    bool ok = pc_check_ok(&c) && maxc <= cap && alive == 0 && l->stops == nc;
    lab_result("producers=%d consumers=%d items=%d capacity=%d %s capacity_ok=%d stop_msgs=%ld consumers_alive_after=%d",
               np, nc, items, cap, f, maxc <= cap, l->stops, alive);
    pc_ledger_free(l);
    bb_destroy(&b);
    free(pw);
    free(cw);
    free(pt);
    free(ct);
    return stuck ? 3 : ok ? 0 : 1;
}

/* ==== Scenario: cv_if_bug ==== */

/* The textbook buffer, written the two ways: mode "if" (one condition variable for both sides,
 * `if` around the wait) and mode "while" (two condition variables, `while`).  The scenario forces
 * one schedule (every step waits for the previous one with flags), which is legal for any
 * pthread implementation:
 *   1. C1 finds the buffer empty and waits.
 *   2. P puts item 0 and unlocks; before P signals, C2 comes in and takes item 0.
 *   3. C1 wakes up although the buffer is empty again: mode if, because C2's signal (meant for a
 *      producer) lands on the one shared condition variable where C1 sleeps; mode while, because
 *      P's late signal on not_empty arrives.
 *   4. mode if: C1 does not look again and takes from the empty buffer (the stale slot: item 0
 *      a second time; count becomes -1).  mode while: C1 checks again, still empty, waits.
 *   5. P puts item 1: mode while: C1 gets it.  mode if: count goes from -1 to 0, so the buffer
 *      believes it is empty and item 1 is never eaten.
 */
struct cvb {
    pthread_mutex_t m;
    pthread_cond_t cv_a, cv_b;
    pthread_cond_t *cv_get, *cv_put;  /* mode if: both &cv_a; mode while: &cv_a, &cv_b */
    bool use_if;
    struct pc_item slot[1];           /* guarded by m: capacity 1, as in the textbook */
    int fill, use, count;             /* guarded by m */
    int next_seq;                     /* guarded by m: FIFO check for the one producer */
    long fifo_violations;             /* guarded by m */
    int waiting;                      /* guarded by m: consumers inside the wait */
    int c1_wakes, c1_done, c2_done;   /* guarded by m: the script's progress */
    int empty_takes, rewaits;         /* guarded by m */
    bool c2_go;                       /* guarded by m */
    bool stuck;                       /* guarded by m */
    double stall_ms;
    struct pc_ledger *l;
};

/* Wait on c, bounded.  Caller must hold b->m.  Returns 0, or -1 when stuck. */
static int cvb_wait(struct cvb *b, pthread_cond_t *c)
{
    struct timespec deadline = lab_deadline_ms(b->stall_ms);
    int rc = pthread_cond_timedwait(c, &b->m, &deadline);
    if (rc == ETIMEDOUT) {
        b->stuck = true;
        Pthread_cond_broadcast(&b->cv_a);
        Pthread_cond_broadcast(&b->cv_b);
    } else if (rc != 0) {
        die_en(rc, "pthread_cond_timedwait");
    }
    return b->stuck ? -1 : 0;
}

/* Poll until pred(b) holds (under the mutex), at most stall_ms.  The script's step barrier. */
static bool cvb_until(struct cvb *b, bool (*pred)(struct cvb *))
{
    double end = lab_now_ms() + b->stall_ms;
    for (;;) {
        Pthread_mutex_lock(&b->m);
        bool ok = pred(b), stuck = b->stuck;
        Pthread_mutex_unlock(&b->m);
        if (ok)
            return true;
        if (stuck || lab_now_ms() >= end) {
            Pthread_mutex_lock(&b->m);
            b->stuck = true;
            Pthread_cond_broadcast(&b->cv_a);
            Pthread_cond_broadcast(&b->cv_b);
            Pthread_mutex_unlock(&b->m);
            return false;
        }
        lab_sleep_ms(0.2);
    }
}

static bool c1_waiting(struct cvb *b) { return b->waiting >= 1; }
static bool c2_finished(struct cvb *b) { return b->c2_done; }
static bool c1_acted(struct cvb *b) { return b->c1_done || (b->c1_wakes >= 1 && b->waiting >= 1); }
static bool c2_may_go(struct cvb *b) { return b->c2_go; }

/* The consumer's get(), the two ways.  is_c1 only feeds the script's flags. */
static int cvb_get(struct cvb *b, bool is_c1, struct pc_item *out)
{
    Pthread_mutex_lock(&b->m);
    if (b->use_if) {
        if (b->count == 0) {                         /* BUG: looked at once, never again */
            lab_say("%s: buffer empty, waits", me());
            b->waiting++;
            int rc = cvb_wait(b, b->cv_get);
            b->waiting--;
            b->c1_wakes += is_c1;
            if (rc != 0)
                goto stuck;
            lab_say("%s: woken up - goes on without looking again (if)", me());
        }
    } else {
        while (b->count == 0) {                      /* FIX: look again after every wake-up */
            if (is_c1 && b->c1_wakes > 0) {
                b->rewaits++;
                lab_say("%s: woken up, checks again: still empty (C2 was faster), waits again", me());
            } else {
                lab_say("%s: buffer empty, waits", me());
            }
            b->waiting++;
            int rc = cvb_wait(b, b->cv_get);
            b->waiting--;
            b->c1_wakes += is_c1;
            if (rc != 0)
                goto stuck;
        }
    }
    if (b->count <= 0) {
        b->empty_takes++;
        lab_say("%s: takes from an EMPTY buffer (count=%d): slot[%d] still holds item %d.%d, already eaten",
                me(), b->count, b->use, b->slot[b->use].producer, b->slot[b->use].seq);
    }
    *out = b->slot[b->use];
    b->use = (b->use + 1) % 1;
    b->count--;
    if (out->seq != b->next_seq)
        b->fifo_violations++;
    b->next_seq = out->seq + 1;
    if (b->cv_put == b->cv_get && b->waiting > 0)
        lab_say("%s: got item %d.%d, count now %d; signals the one shared condition variable (meant for "
                "a producer): the sleeper there is C1, so C1 wakes up", me(), out->producer, out->seq, b->count);
    else
        lab_say("%s: got item %d.%d, count now %d", me(), out->producer, out->seq, b->count);
    Pthread_cond_signal(b->cv_put);
    Pthread_mutex_unlock(&b->m);
    return 0;
stuck:
    Pthread_mutex_unlock(&b->m);
    return -1;
}

/* The producer's put; signal=false leaves the signal for later (step 2 of the script). */
static int cvb_put(struct cvb *b, int seq, bool signal)
{
    struct pc_item it = { 0, seq, pc_value(0, seq) };
    pc_ledger_produced(b->l, 0, seq, it.value);
    Pthread_mutex_lock(&b->m);
    if (b->use_if) {
        if (b->count == 1)
            if (cvb_wait(b, b->cv_put) != 0)
                goto stuck;
    } else {
        while (b->count == 1)
            if (cvb_wait(b, b->cv_put) != 0)
                goto stuck;
    }
    b->slot[b->fill] = it;
    b->fill = (b->fill + 1) % 1;
    b->count++;
    lab_say("%s: put item 0.%d, count now %d%s", me(), seq, b->count,
            signal ? ", signals" : ", unlocks before it signals");
    if (signal)
        Pthread_cond_signal(b->cv_get);
    Pthread_mutex_unlock(&b->m);
    return 0;
stuck:
    Pthread_mutex_unlock(&b->m);
    return -1;
}

static void *cvb_c1(void *arg)
{
    struct cvb *b = arg;
    struct pc_fifo fifo;
    pc_fifo_init(&fifo);
    struct pc_item it;
    if (cvb_get(b, true, &it) == 0) {
        pc_fifo_see(&fifo, b->l, it.producer, it.seq);
        pc_ledger_consumed(b->l, it.producer, it.seq, it.value);
    }
    Pthread_mutex_lock(&b->m);
    b->c1_done = 1;
    Pthread_mutex_unlock(&b->m);
    return NULL;
}

static void *cvb_c2(void *arg)
{
    struct cvb *b = arg;
    struct pc_fifo fifo;
    pc_fifo_init(&fifo);
    struct pc_item it;
    if (cvb_until(b, c2_may_go) && cvb_get(b, false, &it) == 0) {
        pc_fifo_see(&fifo, b->l, it.producer, it.seq);
        pc_ledger_consumed(b->l, it.producer, it.seq, it.value);
    }
    Pthread_mutex_lock(&b->m);
    b->c2_done = 1;
    Pthread_mutex_unlock(&b->m);
    return NULL;
}

static void *cvb_p(void *arg)
{
    struct cvb *b = arg;
    if (!cvb_until(b, c1_waiting) || cvb_put(b, 0, false) != 0)
        return NULL;
    Pthread_mutex_lock(&b->m);
    b->c2_go = true;                                 /* step 2: C2 runs in P's window */
    Pthread_mutex_unlock(&b->m);
    if (!cvb_until(b, c2_finished))
        return NULL;
    if (b->cv_get != b->cv_put) {
        /* step 3, mode while: C2's signal went to not_full (nobody there); P's late signal wakes C1.
         * (mode if: C2's signal on the shared variable has already woken C1.) */
        Pthread_mutex_lock(&b->m);
        lab_say("%s: signals not_empty now: C1 wakes up, but the item it was woken for is gone", me());
        Pthread_cond_signal(b->cv_get);
        Pthread_mutex_unlock(&b->m);
    }
    if (!cvb_until(b, c1_acted))                     /* step 4 */
        return NULL;
    cvb_put(b, 1, true);                             /* step 5 */
    return NULL;
}

int run_cv_if_bug(int mode_index)
{
    (void)mode_index;
    const char *mode = lab_mode_name();
    struct cvb b;
    memset(&b, 0, sizeof b);
    b.use_if = strcmp(mode, "if") == 0;
    Pthread_mutex_init(&b.m, NULL);
    cond_init_monotonic(&b.cv_a);
    cond_init_monotonic(&b.cv_b);
    b.cv_get = &b.cv_a;
    b.cv_put = b.use_if ? &b.cv_a : &b.cv_b;
    b.stall_ms = pc_budget_ms(10);
    b.l = pc_ledger_new(1, 2);
    if (b.use_if)
        printf("main: mode if - one condition variable for both sides, `if (count == 0) wait` (the bug)\n");
    else
        printf("main: mode while - not_empty and not_full, `while (count == 0) wait` (the fix)\n");
    printf("main: capacity 1; P makes 2 items; C1 and C2 want one each; the schedule is forced\n");

    struct lab_thread *t[3] = { LAB_THREAD(cvb_c1, &b), LAB_THREAD(cvb_c2, &b), LAB_THREAD(cvb_p, &b) };
    const char *names[3] = { "C1", "C2", "P" };
    for (int i = 0; i < 3; i++) {
        lab_thread_set_name(t[i], names[i]);
        lab_thread_start_or_die(t[i]);
    }
    /* In mode if, C1 is done after its bad take; item 1 then sits in a buffer that says "empty".
     * Every wait is bounded, so the joins are too. */
    for (int i = 0; i < 3; i++)
        lab_thread_join(t[i]);
    int alive = 0;
    for (int i = 0; i < 2; i++)
        alive += lab_thread_is_alive(t[i]);

    b.l->fifo_violations += b.fifo_violations;
    struct pc_check c;
    pc_ledger_check(b.l, &c);
    char f[256];
    pc_check_fields(&c, f, sizeof f);
    if (b.stuck)
        lab_say("WATCHDOG: a step of the script waited more than %.0f ms: stuck", b.stall_ms);
    else if (b.empty_takes)
        printf("main: C1 took from an empty buffer: item 0 was eaten twice, item 1 never (count ended at %d)\n", b.count);
    else
        printf("main: C1 looked again and waited again: every item eaten once (count ended at %d)\n", b.count);
    lab_result("capacity=1 %s empty_takes=%d rewaits=%d count_after=%d consumers_alive_after=%d",
               f, b.empty_takes, b.rewaits, b.count, alive);
    pc_ledger_free(b.l);
    Pthread_cond_destroy(&b.cv_a);
    Pthread_cond_destroy(&b.cv_b);
    Pthread_mutex_destroy(&b.m);
    if (b.stuck)
        return 3;
    if (b.use_if)
        return b.empty_takes == 1 ? 0 : 1;    /* the lesson: the forced bug happened */
    return pc_check_ok(&c) && b.empty_takes == 0 && alive == 0 ? 0 : 1;
}

/* ==== Bench ==== */

/* Items/s through the bounded buffer with np producers and nc consumers. */
static double bench_bb(int np, int nc, int per_producer, int cap)
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
        bb_put(&b, (struct pc_item){ -1, 0, 0 }, &fill, &waited);
    }
    for (int i = 0; i < nc; i++)
        Pthread_join(ct[i], NULL);
    double s = (double)(lab_now_ns() - t0) / 1e9;
    bb_destroy(&b);
    return (double)np * per_producer / s;
}

struct pipe_arg { int fd; long n; };

static void *pipe_reader(void *arg)
{
    struct pipe_arg *a = arg;
    uint64_t v, sum = 0;
    for (long i = 0; i < a->n; i++) {
        ssize_t r = read(a->fd, &v, sizeof v);   /* 8-byte writes are atomic: whole items */
        if (r != (ssize_t)sizeof v)
            die("pipe read:");
        sum += v;
    }
    return (void *)(uintptr_t)(sum != 0);
}

/* Items/s through a pipe, one 8-byte item per write and per read (1 writer, 1 reader thread). */
static double bench_pipe(long n)
{
    int fds[2];
    if (pipe(fds) == -1)
        die("pipe:");
    struct pipe_arg a = { fds[0], n };
    pthread_t rt;
    uint64_t t0 = lab_now_ns();
    Pthread_create(&rt, NULL, pipe_reader, &a);
    for (long i = 0; i < n; i++) {
        uint64_t v = pc_value(0, (int)i);
        if (write(fds[1], &v, sizeof v) != (ssize_t)sizeof v)
            die("pipe write:");
    }
    Pthread_join(rt, NULL);
    double s = (double)(lab_now_ns() - t0) / 1e9;
    close(fds[0]);
    close(fds[1]);
    return (double)n / s;
}

double pc_bench_pqueue(long n);   /* procs.c */

int pc_bench(void)
{
    const int per = 200000;
    printf("lab05 bench: items/s through a bounded buffer (capacity 64), one item per operation\n");
    printf("%-52s %12s\n", "channel", "items/s");
    printf("%-52s %12.0f\n", "bounded buffer, threads 1 producer : 1 consumer", bench_bb(1, 1, 2 * per, 64));
    printf("%-52s %12.0f\n", "bounded buffer, threads 2 producers : 2 consumers", bench_bb(2, 2, per, 64));
    printf("%-52s %12.0f\n", "pipe, threads 1 writer : 1 reader (8-byte items)", bench_pipe(2L * per));
    printf("%-52s %12.0f\n", "process queue (lab_pq), processes 1 : 1", pc_bench_pqueue(2L * per));
    printf("(report only: the numbers depend on the machine, its load and the number of CPUs)\n");
    return 0;
}
