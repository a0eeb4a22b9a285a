/* labs/09-event-traffic-light/condition.c - threading.Condition in C, and the wait/notify rules.
 *
 * A condition variable lets a thread sleep until another thread says "something changed".  The
 * notes: 条件（Condition类）使得线程等待，只有满足某条件时，才释放n个线程, and, in the Java words of
 * their chapter on threads, wait() / notify() / notifyAll().  Two scenarios:
 *   condition    Python's Condition on pthreads.  notify(2) wakes exactly 2 of 5 waiters and
 *                notify_all() the other 3; wait_for(predicate) sleeps until the predicate holds.
 *                pthread_cond_signal wakes "at least one" (spurious wake-ups are allowed), so an
 *                exact notify(n) needs a queue of waiters, as CPython has: each waiter has its own
 *                condition variable, and notify(n) signals the first n of the queue;
 *   wait_notify  the rule "wait in a while loop, not an if": two consumers wait for an item,
 *                one item comes with notifyAll (broadcast).  --mode=if: both wake, and the second
 *                takes an item that is not there (items = -1).  --mode=while: the second looks
 *                again, sleeps again, and a later notify (signal) wakes just it.
 * Python ↔ C: cond = Condition(lock) ↔ struct l09_cond over a pthread_mutex_t; with cond: ↔
 *   pthread_mutex_lock; cond.wait() / notify(n) / notify_all() / wait_for(pred, timeout) ↔
 *   l09_cond_wait / l09_cond_notify / l09_cond_notify_all / l09_cond_wait_for;
 *   Java wait() / notify() / notifyAll() ↔ pthread_cond_wait / _signal / _broadcast.
 * --trace: every wait is a slice "wait: ..." on its thread, and each notify draws an arrow to the
 *   waiter it wakes (condition: exactly the ones notify(n) took from the queue; wait_notify: every
 *   thread then inside m.wait(), for notifyAll and for notify alike).
 * Usage: build/lab09 condition [--waiters=5] | wait_notify [--mode=if|while]
 * Watch for: after notify(2), exactly 2 "notified" lines and 3 still waiting; "took an item that
 *   is not there" with if; "nothing for me, back to sleep" with while.
 * See also: main.c (the scenario table), event.c (an Event is a Condition plus a flag),
 *   labs/05-producer-consumer.
 */
#include "lab.h"
#include "lab09.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== The Condition ==== */

/* A waiter's place in the queue; it lives on the waiting thread's stack. */
struct l09_waiter {
    pthread_cond_t cv;          /* only this waiter sleeps on it */
    bool notified;              /* guarded by the condition's lock */
    unsigned long long flow;    /* --trace: the id of the arrow from the notify that wakes it */
    struct l09_waiter *next;
};

struct l09_cond {
    pthread_mutex_t *lock;      /* the Condition's lock: held by every caller of wait and notify */
    struct l09_waiter *head, *tail;   /* FIFO of waiters; guarded by *lock */
    int waiting;                /* waiters in the queue (not yet notified); guarded by *lock */
};

static void cond_init(struct l09_cond *c, pthread_mutex_t *lock)
{
    memset(c, 0, sizeof *c);
    c->lock = lock;
}

/* Caller must hold c->lock. */
static void cond_unlink(struct l09_cond *c, struct l09_waiter *w)
{
    struct l09_waiter *prev = NULL;
    for (struct l09_waiter *p = c->head; p; prev = p, p = p->next)
        if (p == w) {
            if (prev)
                prev->next = p->next;
            else
                c->head = p->next;
            if (c->tail == p)
                c->tail = prev;
            return;
        }
}

/* cond.wait(timeout): release the lock, sleep until notified (true) or timed out (false), take
 * the lock again.  timeout_units < 0: no timeout.  Caller must hold c->lock. */
static bool cond_wait(struct l09_cond *c, double timeout_units)
{
    struct l09_waiter w = { .notified = false, .next = NULL };
    lab_cond_init(&w.cv, 0);         /* CLOCK_MONOTONIC, for the timeout */
    lab_trace_begin("cond", "wait: cond.wait()");
    if (lab_trace_on())
        w.flow = l09_flow_id();
    struct timespec deadline;
    if (timeout_units >= 0)
        deadline = lab_deadline_ms(lab_units_ms(timeout_units));

    if (c->tail)
        c->tail->next = &w;
    else
        c->head = &w;
    c->tail = &w;
    c->waiting++;
    int rc = 0;
    while (!w.notified && rc == 0)   /* a loop: wake-ups without a notify are possible */
        rc = timeout_units >= 0 ? pthread_cond_timedwait(&w.cv, c->lock, &deadline) : pthread_cond_wait(&w.cv, c->lock);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_wait");
    if (!w.notified) {
        cond_unlink(c, &w);          /* timed out: leave the queue, so notify(n) skips us */
        c->waiting--;
    } else {
        lab_trace_flow_in("cond", w.flow, "notified");
    }
    lab_trace_end();
    Pthread_cond_destroy(&w.cv);
    return w.notified;
}

/* cond.notify(n): wake the first n waiters, exactly.  Caller must hold c->lock. */
static int cond_notify(struct l09_cond *c, int n)
{
    int woken = 0;
    while (woken < n && c->head) {
        struct l09_waiter *w = c->head;
        c->head = w->next;
        if (c->head == NULL)
            c->tail = NULL;
        w->notified = true;
        lab_trace_flow_out("cond", w->flow, "notify wakes a waiter");
        c->waiting--;                /* counted out now, not when it runs: "waiting" is exact */
        /* Only this waiter sleeps on w->cv, so broadcast = signal here; broadcast also steers
         * clear of glibc bug 25847 (a pthread_cond_signal that wakes nobody). */
        Pthread_cond_broadcast(&w->cv);
        woken++;
    }
    return woken;
}

static int cond_notify_all(struct l09_cond *c) { return cond_notify(c, INT_MAX); }

/* cond.wait_for(predicate, timeout): wait until predicate() is true; returns its last value.
 * *checks counts the calls of the predicate.  Caller must hold c->lock. */
static bool cond_wait_for(struct l09_cond *c, bool (*pred)(void *), void *arg, double timeout_units, int *checks)
{
    double end = lab_now_ms() + lab_units_ms(timeout_units);
    lab_trace_begin("cond", "wait: cond.wait_for(predicate)");
    bool result = pred(arg);
    (*checks)++;
    while (!result) {
        double left = -1;
        if (timeout_units >= 0) {
            left = lab_ms_units(end - lab_now_ms());
            if (left <= 0)
                break;
        }
        cond_wait(c, left);
        result = pred(arg);
        (*checks)++;
        lab_trace_instant("cond", "predicate() -> %s", result ? "True" : "False");
    }
    lab_trace_end();
    return result;
}

/* ==== condition: notify(2), notify_all(), wait_for (the notes' Condition) ==== */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* Condition(Lock()) */
static struct l09_cond cond;
static int notified;          /* waiters that returned from wait(); guarded by lock */
static int items;             /* for wait_for; guarded by lock */
static int seen_items, checks;
static bool consumer_done;    /* the wait_for consumer went on; guarded by lock */

static void *waiter(void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&lock);                 /* with cond: */
    cond_wait(&cond, -1);                      /*     cond.wait() */
    notified++;
    printf("%s: notified\n", lab_thread_name(lab_current_thread()));
    Pthread_mutex_unlock(&lock);
    return NULL;
}

static bool enough_items(void *arg) { (void)arg; return items >= 3; }
static bool too_many_items(void *arg) { (void)arg; return items >= 100; }

static void *consumer(void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&lock);
    cond_wait_for(&cond, enough_items, NULL, -1, &checks);   /* cond.wait_for(lambda: items >= 3) */
    seen_items = items;
    consumer_done = true;
    printf("%s: wait_for(lambda: items >= 3) passed with items=%d after %d checks of the predicate\n",
           lab_thread_name(lab_current_thread()), items, checks);
    Pthread_mutex_unlock(&lock);
    return NULL;
}

/* Predicates on the shared counters, read under the lock (for l09_until). */
static int want;
static bool waiting_is(void *arg) { (void)arg; Pthread_mutex_lock(&lock); bool b = cond.waiting == want; Pthread_mutex_unlock(&lock); return b; }
static bool notified_is(void *arg) { (void)arg; Pthread_mutex_lock(&lock); bool b = notified >= want; Pthread_mutex_unlock(&lock); return b; }
/* The wait_for consumer is back in wait(), or it went on already (too early: wait_for did not look
 * at its predicate again, and wait_for_value says so; no point waiting for it). */
static bool consumer_waiting(void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&lock);
    bool b = cond.waiting == 1 || consumer_done;
    Pthread_mutex_unlock(&lock);
    return b;
}

int run_condition(int mode)
{
    (void)mode;   /* no modes */
    int n = (int)lab_opt("waiters");
    cond_init(&cond, &lock);
    notified = 0;
    items = 0;
    checks = 0;
    consumer_done = false;
    bool ok = true;

    struct lab_thread **ts = xcalloc((size_t)n, sizeof *ts);
    for (int i = 0; i < n; i++) {
        ts[i] = LAB_THREAD(waiter, NULL);
        lab_thread_start_or_die(ts[i]);
    }
    want = n;
    ok &= l09_until(waiting_is, NULL, L09_BOUND_MS);
    printf("MainThread: %d threads wait in cond.wait()\n", n);

    Pthread_mutex_lock(&lock);
    lab_trace_instant("cond", "cond.notify(2)");
    cond_notify(&cond, 2);                     /* with cond: cond.notify(2) */
    Pthread_mutex_unlock(&lock);
    want = 2;
    ok &= l09_until(notified_is, NULL, L09_BOUND_MS);
    Pthread_mutex_lock(&lock);
    int after2 = notified, still = cond.waiting;
    Pthread_mutex_unlock(&lock);
    printf("MainThread: notify(2) -> %d notified, %d still waiting\n", after2, still);

    Pthread_mutex_lock(&lock);
    lab_trace_instant("cond", "cond.notify_all()");
    cond_notify_all(&cond);                    /* with cond: cond.notify_all() */
    Pthread_mutex_unlock(&lock);
    want = n;
    ok &= l09_until(notified_is, NULL, L09_BOUND_MS);
    for (int i = 0; i < n; i++)
        lab_thread_join(ts[i]);
    free(ts);
    int after_all = notified;
    printf("MainThread: notify_all() -> %d notified in all\n", after_all);

    /* wait_for: the consumer sleeps until items >= 3; we add one item at a time, each time after
     * it went back to sleep, and notify_all() each time. */
    struct lab_thread *c = LAB_THREAD(consumer, NULL);
    lab_thread_start_or_die(c);
    for (int i = 0; i < 3; i++) {
        ok &= l09_until(consumer_waiting, NULL, L09_BOUND_MS);
        Pthread_mutex_lock(&lock);
        items++;
        printf("MainThread: items=%d, notify_all()\n", items);
        cond_notify_all(&cond);
        Pthread_mutex_unlock(&lock);
    }
    lab_thread_join(c);

    /* wait_for with a timeout, for a predicate that stays false. */
    int tchecks = 0;
    double t0 = lab_now_ms();
    Pthread_mutex_lock(&lock);
    bool timeout_result = cond_wait_for(&cond, too_many_items, NULL, 1, &tchecks);
    Pthread_mutex_unlock(&lock);
    printf("MainThread: wait_for(lambda: items >= 100, timeout=1) -> %s after %.1f units\n",
           timeout_result ? "True" : "False", lab_elapsed_units(t0));

    lab_result("waiters=%d after_notify2=%d still_waiting=%d after_notify_all=%d wait_for_value=%d "
               "predicate_checks=%d wait_for_timeout=%d",
               n, after2, still, after_all, seen_items, checks, timeout_result);
    ok &= after2 == 2 && still == n - 2 && after_all == n && seen_items == 3 && checks == 4 && !timeout_result;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== wait_notify: wait() in a while loop, notifyAll vs notify (the notes' Java words) ==== */

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;                  /* on CLOCK_MONOTONIC, made in run_wait_notify */
static bool use_while;
static int buffer_items, min_items, wn_waiting, woke, consumed, took_from_empty;   /* guarded by m */
static unsigned long notify_gen;   /* MainThread's notify()/notifyAll() count; guarded by m */
/* --trace: the arrow ids of the consumers inside m.wait() (0: that place is free); guarded by m.
 * A notify draws an arrow to each of them (what it may wake), the consumer its head if it woke. */
static unsigned long long wn_flow[2];

/* notifyAll() or notify(): the arrows' tails.  Caller holds m. */
static void trace_notify(const char *what)
{
    if (!lab_trace_on())
        return;
    lab_trace_instant("cond", "%s", what);
    for (int i = 0; i < 2; i++)
        if (wn_flow[i])
            lab_trace_flow_out("cond", wn_flow[i], "%s may wake it", what);
}

/* One wait on cv, bounded.  True if a notify came while we waited: counted with notify_gen, not
 * with the return code, so that a slice that timed out just as the broadcast was sent still
 * counts as woken by it (it would have been).  Caller must hold m. */
static bool wait_until(const struct timespec *deadline)
{
    unsigned long g = notify_gen;
    int place = -1;
    lab_trace_begin("cond", "wait: m.wait()");
    if (lab_trace_on())
        place = wn_flow[0] == 0 ? 0 : 1;
    if (place >= 0)
        wn_flow[place] = l09_flow_id();
    wn_waiting++;
    int rc = pthread_cond_timedwait(&cv, &m, deadline);
    wn_waiting--;
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait");
    if (notify_gen != g)
        woke++;
    if (place >= 0) {
        if (notify_gen != g)
            lab_trace_flow_in("cond", wn_flow[place], "woken by the notify");
        wn_flow[place] = 0;
    }
    lab_trace_end();
    return notify_gen != g;
}

/* Java's consumer: synchronized (m) { if/while (items == 0) m.wait(); items--; } */
static void *take_one(void *arg)
{
    (void)arg;
    const char *me = lab_thread_name(lab_current_thread());
    Pthread_mutex_lock(&m);
    if (use_while) {
        while (buffer_items == 0) {            /* look again after every wake-up */
            /* Short slices: a timeout is just one more look at the predicate, so the loop stays
             * correct, and a lost pthread_cond_signal (glibc bug 25847) cannot hang the demo. */
            struct timespec slice = lab_deadline_ms(20);
            if (wait_until(&slice) && buffer_items == 0) {
                lab_trace_instant("cond", "nothing for me: back to sleep");
                printf("%s: woke up, nothing for me, back to sleep\n", me);
            }
        }
    } else if (buffer_items == 0) {            /* BUG: look only once */
        struct timespec bound = lab_deadline_ms(L09_BOUND_MS);
        wait_until(&bound);
    }
    if (buffer_items == 0)
        took_from_empty++;
    buffer_items--;
    lab_trace_instant("cond", "took an item: items=%d", buffer_items);
    if (buffer_items < min_items)
        min_items = buffer_items;
    consumed++;
    printf("%s: took an item, items=%d%s\n", me, buffer_items, buffer_items < 0 ? ": it took an item that is not there" : "");
    Pthread_mutex_unlock(&m);
    return NULL;
}

/* MainThread waits for a state {waiting, woke, consumed} (-1 = any).  With `while`, a consumer that
 * took from an empty buffer ends every wait: the fix failed, and the run does (took_from_empty). */
static bool wn_state(void *arg)
{
    int *want_state = arg;
    Pthread_mutex_lock(&m);
    bool b = (want_state[0] < 0 || wn_waiting == want_state[0]) && (want_state[1] < 0 || woke >= want_state[1])
             && (want_state[2] < 0 || consumed >= want_state[2]);
    b = b || (use_while && took_from_empty > 0);
    Pthread_mutex_unlock(&m);
    return b;
}

int run_wait_notify(int mode)
{
    use_while = mode == WAIT_NOTIFY_WHILE;
    buffer_items = min_items = wn_waiting = woke = consumed = took_from_empty = 0;
    notify_gen = 0;
    wn_flow[0] = wn_flow[1] = 0;
    lab_cond_init(&cv, 0);
    bool ok = true;
    printf("MainThread: two consumers: %s (items == 0) wait();\n", use_while ? "while" : "if");

    struct lab_thread *c1 = LAB_THREAD(take_one, NULL), *c2 = LAB_THREAD(take_one, NULL);
    lab_thread_start_or_die(c1);
    lab_thread_start_or_die(c2);
    int both_wait[3] = { 2, -1, -1 };
    ok &= l09_until(wn_state, both_wait, L09_BOUND_MS);

    /* One item, and notifyAll(): both consumers wake up (broadcast unblocks every waiter). */
    Pthread_mutex_lock(&m);
    buffer_items = 1;
    notify_gen++;
    trace_notify("notifyAll()");
    printf("MainThread: put 1 item, notifyAll() (pthread_cond_broadcast)\n");
    Pthread_cond_broadcast(&cv);
    Pthread_mutex_unlock(&m);
    /* if: both take; while: one takes, the other is back in wait(). */
    int after_all[3] = { use_while ? 1 : 0, 2, use_while ? 1 : 2 };
    ok &= l09_until(wn_state, after_all, L09_BOUND_MS);
    Pthread_mutex_lock(&m);
    int broadcast_woke = woke, consumed_then = consumed;
    Pthread_mutex_unlock(&m);

    int signal_woke = 0;
    if (use_while) {
        /* One more item, and notify(): wakes one waiter, the one still waiting. */
        Pthread_mutex_lock(&m);
        buffer_items++;
        notify_gen++;
        trace_notify("notify()");
        printf("MainThread: put 1 more item, notify() (pthread_cond_signal)\n");
        Pthread_cond_signal(&cv);
        Pthread_mutex_unlock(&m);
        int after_one[3] = { 0, -1, 2 };
        ok &= l09_until(wn_state, after_one, L09_BOUND_MS);
        Pthread_mutex_lock(&m);
        signal_woke = consumed - consumed_then;
        Pthread_mutex_unlock(&m);
    } else {
        printf("MainThread: nobody is left waiting: the if let the second consumer through on an empty buffer\n");
    }
    lab_thread_join(c1);
    lab_thread_join(c2);
    Pthread_cond_destroy(&cv);

    lab_result("consumers=2 broadcast_woke=%d took_from_empty=%d min_items=%d signal_woke=%d",
               broadcast_woke, took_from_empty, min_items, signal_woke);
    if (use_while)
        return ok && broadcast_woke == 2 && took_from_empty == 0 && min_items == 0 && signal_woke == 1 ? LAB_EXIT_OK
                                                                                                     : LAB_EXIT_BROKEN;
    return ok && broadcast_woke == 2 && took_from_empty == 1 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;   /* the bug showed */
}
