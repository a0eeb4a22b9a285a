/* labs/05-producer-consumer/cv_if_bug.c - `if` instead of `while` around a condition wait, forced.
 *
 * The textbook buffer with a consumer's bug: with `if` and a single condition variable shared by
 * both sides, a consumer that was woken for an item finds that another consumer already ate it, and
 * takes from an empty buffer anyway (a stale slot: a duplicate; the count goes to -1 and the next
 * item is lost).  The interleaving is forced with flags, so it happens on every run and on one CPU
 * as well as sixteen; --mode=while runs the same schedule with the fix and nothing breaks.
 *
 * Python ↔ C:
 *   threading.Condition().wait() in `if`   ↔ if (count == 0) pthread_cond_timedwait(...)   (the bug)
 *   queue.Queue's own `while not self._qsize(): self.not_empty.wait()`  ↔ mode while (the fix)
 *
 * Usage: lab05 cv_if_bug [--mode=if|while]
 * What to watch for: "takes from an EMPTY buffer" in mode if, "checks again: still empty" in
 * mode while.
 * See also: threads.c (the buffer done right), ledger.c, README.md.
 */
#include "lab.h"
#include "lab05.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
    struct l05_item slot[1];           /* guarded by m: capacity 1, as in the textbook */
    int fill, use, count;             /* guarded by m */
    int next_seq;                     /* guarded by m: FIFO check for the one producer */
    long fifo_violations;             /* guarded by m */
    int waiting;                      /* guarded by m: consumers inside the wait */
    int c1_wakes, c1_done, c2_done;   /* guarded by m: the script's progress */
    int empty_takes, rewaits;         /* guarded by m */
    bool c2_go;                       /* guarded by m */
    bool stuck;                       /* guarded by m */
    double stall_ms;
    struct l05_ledger *l;
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
static int cvb_get(struct cvb *b, bool is_c1, struct l05_item *out)
{
    Pthread_mutex_lock(&b->m);
    if (b->use_if) {
        if (b->count == 0) {                         /* BUG: looked at once, never again */
            lab_say("%s: buffer empty, waits", l05_me());
            b->waiting++;
            lab_trace_begin("cv", "wait: buffer empty");
            int rc = cvb_wait(b, b->cv_get);
            lab_trace_end();
            b->waiting--;
            b->c1_wakes += is_c1;
            if (rc != 0)
                goto stuck;
            lab_say("%s: woken up - goes on without looking again (if)", l05_me());
        }
    } else {
        /* SOLUTION BEGIN(cv-while): wait on b->cv_get while the buffer is empty, looking again after every wake-up */
        while (b->count == 0) {                      /* FIX: look again after every wake-up */
            if (is_c1 && b->c1_wakes > 0) {
                b->rewaits++;
                lab_say("%s: woken up, checks again: still empty (C2 was faster), waits again", l05_me());
            } else {
                lab_say("%s: buffer empty, waits", l05_me());
            }
            b->waiting++;
            lab_trace_begin("cv", "wait: buffer empty");
            int rc = cvb_wait(b, b->cv_get);
            lab_trace_end();
            b->waiting--;
            b->c1_wakes += is_c1;
            if (rc != 0)
                goto stuck;
        }
        /* SOLUTION END */
    }
    if (b->count <= 0) {
        b->empty_takes++;
        lab_say("%s: takes from an EMPTY buffer (count=%d): slot[%d] still holds item %d.%d, already eaten",
                l05_me(), b->count, b->use, b->slot[b->use].producer, b->slot[b->use].seq);
    }
    *out = b->slot[b->use];
    b->use = (b->use + 1) % 1;
    b->count--;
    if (out->seq != b->next_seq)
        b->fifo_violations++;
    b->next_seq = out->seq + 1;
    if (b->cv_put == b->cv_get && b->waiting > 0)
        lab_say("%s: got item %d.%d, count now %d; signals the one shared condition variable (meant for "
                "a producer): the sleeper there is C1, so C1 wakes up", l05_me(), out->producer, out->seq, b->count);
    else
        lab_say("%s: got item %d.%d, count now %d", l05_me(), out->producer, out->seq, b->count);
    Pthread_cond_signal(b->cv_put);
    Pthread_mutex_unlock(&b->m);
    lab_trace_flow_in("queue", L05_FLOW(*out), "get %d.%d", out->producer, out->seq);
    return 0;
stuck:
    Pthread_mutex_unlock(&b->m);
    return -1;
}

/* The producer's put; signal=false leaves the signal for later (step 2 of the script). */
static int cvb_put(struct cvb *b, int seq, bool signal)
{
    struct l05_item it = { 0, seq, l05_value(0, seq) };
    l05_ledger_produced(b->l, 0, seq, it.value);
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
    lab_say("%s: put item 0.%d, count now %d%s", l05_me(), seq, b->count,
            signal ? ", signals" : ", unlocks before it signals");
    if (signal)
        Pthread_cond_signal(b->cv_get);
    lab_trace_flow_out("queue", L05_FLOW(it), "put %d.%d", it.producer, it.seq);
    Pthread_mutex_unlock(&b->m);
    return 0;
stuck:
    Pthread_mutex_unlock(&b->m);
    return -1;
}

/* What each consumer does with what it took (got == 0: it took it), then its done flag. */
static void cvb_consume(struct cvb *b, int got, const struct l05_item *it, int *done)
{
    if (got == 0) {
        struct l05_fifo fifo;
        l05_fifo_init(&fifo);
        l05_fifo_see(&fifo, b->l, it->producer, it->seq);
        l05_ledger_consumed(b->l, it->producer, it->seq, it->value);
    }
    Pthread_mutex_lock(&b->m);
    *done = 1;                                       /* guarded by b->m */
    Pthread_mutex_unlock(&b->m);
}

static void *cvb_c1(void *arg)
{
    struct cvb *b = arg;
    struct l05_item it;
    cvb_consume(b, cvb_get(b, true, &it), &it, &b->c1_done);
    return NULL;
}

static void *cvb_c2(void *arg)
{
    struct cvb *b = arg;
    struct l05_item it;
    int got = cvb_until(b, c2_may_go) ? cvb_get(b, false, &it) : -1;
    cvb_consume(b, got, &it, &b->c2_done);
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
        lab_say("%s: signals not_empty now: C1 wakes up, but the item it was woken for is gone", l05_me());
        Pthread_cond_signal(b->cv_get);
        Pthread_mutex_unlock(&b->m);
    }
    if (!cvb_until(b, c1_acted))                     /* step 4 */
        return NULL;
    cvb_put(b, 1, true);                             /* step 5 */
    return NULL;
}

int run_cv_if_bug(int mode)   /* enum l05_cv_mode (lab05.h) */
{
    struct cvb b;
    memset(&b, 0, sizeof b);
    b.use_if = mode == CV_IF;
    lab_mutex_init(&b.m, 0);
    lab_cond_init(&b.cv_a, 0);           /* CLOCK_MONOTONIC: the timed waits ignore clock jumps */
    lab_cond_init(&b.cv_b, 0);
    b.cv_get = &b.cv_a;
    b.cv_put = b.use_if ? &b.cv_a : &b.cv_b;
    b.stall_ms = lab_bound_ms(10);
    b.l = l05_ledger_new(1, 2);
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
    struct l05_check c;
    l05_ledger_check(b.l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    if (b.stuck)
        lab_say("WATCHDOG: a step of the script waited more than %.0f ms: stuck", b.stall_ms);
    else if (b.empty_takes)
        printf("main: C1 took from an empty buffer: item 0 was eaten twice, item 1 never (count ended at %d)\n", b.count);
    else
        printf("main: C1 looked again and waited again: every item eaten once (count ended at %d)\n", b.count);
    lab_result("capacity=1 %s empty_takes=%d rewaits=%d count_after=%d consumers_alive_after=%d",
               f, b.empty_takes, b.rewaits, b.count, alive);
    l05_ledger_free(b.l);
    Pthread_cond_destroy(&b.cv_a);
    Pthread_cond_destroy(&b.cv_b);
    Pthread_mutex_destroy(&b.m);
    if (b.stuck)
        return LAB_EXIT_WATCHDOG;
    if (b.use_if)   /* the lesson: the forced bug happened */
        return b.empty_takes == 1 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return l05_check_ok(&c) && b.empty_takes == 0 && alive == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

