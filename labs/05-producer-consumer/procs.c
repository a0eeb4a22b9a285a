/* labs/05-producer-consumer/procs.c - producer and consumer *processes* around one process queue.
 *
 * The notes' three multiprocessing programs, made to run and checked:
 *   sentinel   (the multiprocessing queue chapter) 10 producers each put their name, 2 consumers print names until they get None;
 *              the main process puts one None per consumer after joining the producers, so each
 *              None is behind every item in the single FIFO queue ("肯定在所有生产者生产的数据末尾");
 *   kitchen    (the producer-consumer chapter) 大厨 makes 包子 and 张桑 makes 养生汤, 李四 and 王五 eat; random 1-3 s pauses;
 *   joinable   (the same chapter) JoinableQueue: consumers call task_done() after each item, main calls q.join()
 *              and then ends, and the daemon consumers (still waiting in get()) are terminated;
 *   sentinel_variants (the notes' cases 案例21/22): one None for three consumers leaves two waiting forever (a
 *              watchdog finds them and stops them), one per consumer works, and the "improved"
 *              sentinel is a single None that every consumer puts back before it leaves.
 * C has no None: the stop message is a message whose kind is PC_STOP, which no item can be.
 * At the end the main process counts the stop messages put and received and what is left in the
 * queue, and checks them against what the way of stopping promises.
 * A killed or stuck child cannot hang the lab: every wait of the main process is bounded.
 *
 * Python ↔ C:
 *   q = Queue() / JoinableQueue()     ↔ lab_pq_create(capacity, 0) (shared memory, before fork)
 *   q.put(data); q.get()              ↔ lab_pq_put(q, &msg, len, -1); lab_pq_get(...)
 *   if food is None: break            ↔ if (msg.kind == PC_STOP) return 0
 *   q.task_done(); q.join()           ↔ lab_pq_task_done(q); lab_pq_join(q, bound)
 *   c1.daemon = True                  ↔ lab_proc_set_daemon(&c, true); ended by lab_proc_shutdown()
 *
 * Usage: lab05 sentinel [--producers=10 --consumers=2 --items=1 --capacity=1024]
 *        lab05 kitchen|joinable [--items=5]     lab05 sentinel_variants --mode=one|per_consumer|propagate
 * What to watch for: every "吃了X" comes after its "生产了X"; "q.join() returned" after the last
 * "吃了"; the consumers' exit codes (-15: terminated as daemons); in mode one the WATCHDOG line.
 * See also: common/pqueue.h, threads.c (the same with threads), ledger.c, bench.c, README.md.
 */
#include "lab.h"
#include "lab05.h"
#include "pqueue.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The little work a consumer does per item outside the kitchen, in notes-seconds. */
#define ITEM_WORK_UNITS 0.1
#include <unistd.h>

/* ==== Messages and roles ==== */

enum { PC_ITEM = 1, PC_STOP = 2 };

/* What goes through the queue: a fixed header and the text, sent only up to its NUL. */
struct l05_msg {
    int32_t kind;        /* PC_ITEM, or PC_STOP: the None of the notes */
    int32_t producer, seq, pad;
    uint64_t value;      /* the payload the checksum adds up */
    char text[112];
};

static size_t msg_len(const struct l05_msg *m)
{
    return offsetof(struct l05_msg, text) + strlen(m->text) + 1;
}

/* The queue's blocking calls are safe against a pthread_cond_signal lost to glibc bug 25847
 * (common/pqueue.c waits in slices), so the correct programs here can never hang on it. */

/* How the consumers learn that production is over: the three modes of sentinel_variants (so a
 * mode index is a stop kind; sentinel and kitchen use one per consumer), and the JoinableQueue. */
enum l05_stop {
    STOP_ONE = VARIANTS_ONE,
    STOP_PER_CONSUMER = VARIANTS_PER_CONSUMER,
    STOP_PROPAGATE = VARIANTS_PROPAGATE,
    STOP_JOINABLE
};

struct l05_run {
    int np, nc, items, cap;
    const char *const *pnames, *const *foods, *const *cnames;   /* kitchen names, or NULL */
    bool slow;                     /* kitchen: random 1-3 unit pauses, as time.sleep(random.randint(1,3)) */
    enum l05_stop stop;
    struct lab_pqueue *q;
    struct l05_ledger *l;
    struct lab_proc *prod, *cons;
};

/* ==== The children ==== */

static int producer_main(struct lab_proc *self)
{
    struct l05_run *r = self->arg;
    int p = (int)(self - r->prod);
    for (int s = 0; s < r->items; s++) {
        struct l05_msg m = { PC_ITEM, p, s, 0, l05_value(p, s), "" };
        if (r->pnames)
            snprintf(m.text, sizeof m.text, "%s生产了%s,%d", r->pnames[p], r->foods[p], s);
        else if (r->items == 1)
            snprintf(m.text, sizeof m.text, "producer-%d", p);
        else
            snprintf(m.text, sizeof m.text, "producer-%d#%d", p, s);
        if (r->slow)
            lab_sleep((double)lab_randint(1, 3));
        if (r->pnames)
            lab_say("%s (pid %d): %s", r->pnames[p], (int)getpid(), m.text);   /* print(data) before put */
        else
            lab_say("producer-%d (pid %d): put %s", p, (int)getpid(), m.text);
        l05_ledger_produced(r->l, p, s, m.value);
        int rc = lab_pq_put(r->q, &m, msg_len(&m), -1);
        if (rc != 0) {
            lab_say("producer-%d (pid %d): put failed: %s", p, (int)getpid(), strerror(rc));
            return 1;
        }
    }
    return 0;
}

static int consumer_main(struct lab_proc *self)
{
    struct l05_run *r = self->arg;
    int c = (int)(self - r->cons);
    char who[64];
    if (r->cnames)
        snprintf(who, sizeof who, "%s", r->cnames[c]);
    else
        snprintf(who, sizeof who, "consumer-%d", c);
    struct l05_fifo fifo;
    l05_fifo_init(&fifo);
    long got = 0;
    for (;;) {
        struct l05_msg m;
        size_t len;
        int rc = lab_pq_get(r->q, &m, sizeof m, &len, -1);
        if (rc != 0) {
            lab_say("%s (pid %d): get failed: %s", who, (int)getpid(), strerror(rc));
            return 1;
        }
        if (m.kind == PC_STOP) {
            __atomic_fetch_add(&r->l->stops, 1, __ATOMIC_SEQ_CST);
            if (r->stop == STOP_PROPAGATE) {
                /* 哨兵的改进: pass the one stop message on to the next consumer, then leave */
                rc = lab_pq_put(r->q, &m, len, -1);
                lab_say("%s (pid %d): got the stop message after %ld items, puts it back for the others and leaves",
                        who, (int)getpid(), got);
                return rc == 0 ? 0 : 1;
            }
            lab_say("%s (pid %d): got the stop message (None) after %ld items, leaves", who, (int)getpid(), got);
            return 0;
        }
        if (r->slow)
            lab_sleep((double)lab_randint(1, 3));      /* time.sleep(random.randint(1,3)) */
        else
            lab_sleep(ITEM_WORK_UNITS);                /* a little work, so every consumer gets a turn */
        if (r->cnames)
            lab_say("%s (pid %d): %s吃了%s", who, (int)getpid(), who, m.text);
        else
            lab_say("%s (pid %d): %s", who, (int)getpid(), m.text);
        got++;
        l05_fifo_see(&fifo, r->l, m.producer, m.seq);
        l05_ledger_consumed(r->l, m.producer, m.seq, m.value);
        if (r->stop == STOP_JOINABLE) {
            /* q.task_done(): "I took one out AND finished with it" - after the work, not before.
             * Counted first: once the call returns, join() may return and main read the count. */
            __atomic_fetch_add(&r->l->task_done, 1, __ATOMIC_SEQ_CST);
            if (lab_pq_task_done(r->q) != 0)
                __atomic_fetch_sub(&r->l->task_done, 1, __ATOMIC_SEQ_CST);
        }
    }
}

/* ==== The main process ==== */

static int count_alive(struct lab_proc *v, int n)
{
    int a = 0;
    for (int i = 0; i < n; i++)
        a += lab_proc_is_alive(&v[i]);
    return a;
}

/* Terminate and reap whoever is still running: SIGTERM first (a child dies of it), SIGKILL for one
 * that is still there 5 s later, so this is bounded too. */
static void stop_all(struct lab_proc *v, int n)
{
    for (int i = 0; i < n; i++)
        if (lab_proc_is_alive(&v[i]))
            lab_proc_terminate(&v[i]);
    for (int i = 0; i < n; i++)
        if (v[i].started && !lab_proc_join_ms(&v[i], 5000)) {
            lab_proc_kill(&v[i]);
            lab_proc_join(&v[i]);
        }
}

static int put_stop(struct l05_run *r, double budget)
{
    struct l05_msg m = { PC_STOP, -1, -1, 0, 0, "None" };
    return lab_pq_put(r->q, &m, msg_len(&m), budget);
}

struct l05_outcome {
    int stops_put, exited, stuck, terminated, alive_after;
    int leftover_stops;            /* stop messages left in the queue at the end */
    int left;                      /* messages of any kind left in the queue at the end */
    bool join_after_last_consume;
    int extra_task_done;           /* the errno of one task_done() too many */
    bool watchdog;
};

/* Run one configuration: start everything, stop it the configured way, reap, check. */
static void l05_run(struct l05_run *r, struct l05_outcome *o)
{
    *o = (struct l05_outcome){ 0 };
    /* The notes-seconds a healthy run may need: every item's pause, as if one consumer ate them all
     * (the budget of the watchdogs; at a slow pace a smaller one took a long healthy run for stuck). */
    double unit_work = r->slow ? 3.0 * r->items * (r->np + 1) : ITEM_WORK_UNITS * r->items * r->np;
    double budget = lab_bound_ms(unit_work);
    r->q = lab_pq_create((size_t)r->cap, 0);
    if (r->q == NULL)
        die("lab_pq_create(%d):", r->cap);
    r->l = l05_ledger_new(r->np, r->items);
    r->prod = xcalloc((size_t)r->np, sizeof *r->prod);
    r->cons = xcalloc((size_t)r->nc, sizeof *r->cons);

    for (int i = 0; i < r->np; i++) {
        r->prod[i] = (struct lab_proc)LAB_PROC_INIT(producer_main, r);
        lab_proc_start_or_die(&r->prod[i]);
    }
    for (int i = 0; i < r->nc; i++) {
        r->cons[i] = (struct lab_proc)LAB_PROC_INIT(consumer_main, r);
        if (r->stop == STOP_JOINABLE)
            lab_proc_set_daemon(&r->cons[i], true);     /* c1.daemon = True, before start */
        lab_proc_start_or_die(&r->cons[i]);
    }

    /* p1.join(); p2.join() - bounded: a producer that cannot put any more is a stuck program */
    for (int i = 0; i < r->np; i++)
        if (!lab_proc_join_ms(&r->prod[i], budget))
            o->watchdog = true;
    if (o->watchdog) {
        lab_say("WATCHDOG: a producer did not finish within %.0f ms", budget);
        goto reap;
    }
    printf("main (pid %d): all %d producers joined\n", (int)getpid(), r->np);

    if (r->stop == STOP_JOINABLE) {
        int rc = lab_pq_join(r->q, budget);      /* q.join(): every item put has had its task_done() */
        long consumed = __atomic_load_n(&r->l->consumed, __ATOMIC_SEQ_CST);
        if (rc != 0) {
            o->watchdog = true;
            lab_say("WATCHDOG: q.join() did not return within %.0f ms", budget);
            goto reap;
        }
        o->join_after_last_consume = consumed == r->l->produced;
        printf("main (pid %d): q.join() returned after %ld of %ld items were eaten; the main code ends\n",
               (int)getpid(), consumed, r->l->produced);
        /* Python's exit rule: daemon children are terminated when the main code ends */
        lab_proc_shutdown();
        for (int i = 0; i < r->nc; i++) {
            int code = lab_proc_exitcode(&r->cons[i]);
            o->terminated += code == -SIGTERM;
            printf("main: daemon consumer %s (pid %d) ended with exitcode %d%s\n", r->cnames ? r->cnames[i] : "?",
                   (int)r->cons[i].pid, code, code == -SIGTERM ? " (terminated: SIGTERM)" : "");
        }
        o->extra_task_done = lab_pq_task_done(r->q);
        printf("main: one task_done() too many -> %s (Python: ValueError: task_done() called too many times)\n",
               o->extra_task_done == 0 ? "no error?" : lab_errno_name(o->extra_task_done));
        goto reap;
    }

    int want = r->stop == STOP_PER_CONSUMER ? r->nc : 1;
    printf("main (pid %d): puts %d stop message%s for %d consumer%s%s\n", (int)getpid(), want,
           want == 1 ? "" : "s", r->nc, r->nc == 1 ? "" : "s",
           r->stop == STOP_PROPAGATE ? " (each consumer passes it on)" : "");
    for (int i = 0; i < want; i++)
        if (put_stop(r, budget) == 0)
            o->stops_put++;

    if (r->stop == STOP_ONE) {
        /* Wait until the one stop message has been taken, every item eaten and its taker gone ... */
        double end = lab_now_ms() + budget;
        while (!(r->l->stops >= 1 && r->l->consumed == r->l->produced && count_alive(r->cons, r->nc) <= r->nc - 1)) {
            if (lab_now_ms() >= end) {
                o->watchdog = true;
                break;
            }
            lab_sleep_ms(1);
        }
        /* ... then whoever is left waits in q.get() on an empty queue that nobody will ever fill. */
        if (!o->watchdog && r->nc > 1) {
            lab_sleep(2);
            o->stuck = count_alive(r->cons, r->nc);
            if (o->stuck > 0) {
                o->watchdog = true;
                lab_say("WATCHDOG: %d consumer%s still blocked in q.get() after 2 more units: the queue is empty "
                        "(qsize=%zu), no producer is left, the only stop message is used up - they would wait forever",
                        o->stuck, o->stuck == 1 ? " is" : "s are", lab_pq_qsize(r->q));
                for (int i = 0; i < r->nc; i++)
                    if (lab_proc_is_alive(&r->cons[i]))
                        lab_say("WATCHDOG: stuck: consumer-%d (pid %d), terminating it", i, (int)r->cons[i].pid);
            }
        }
    } else {
        for (int i = 0; i < r->nc; i++)
            if (!lab_proc_join_ms(&r->cons[i], budget))
                o->watchdog = true;
        if (o->watchdog)
            lab_say("WATCHDOG: a consumer did not leave within %.0f ms", budget);
    }

reap:
    for (int i = 0; i < r->nc; i++)
        if (r->cons[i].reaped && lab_proc_exitcode(&r->cons[i]) == 0)
            o->exited++;
    stop_all(r->prod, r->np);
    stop_all(r->cons, r->nc);
    o->alive_after = count_alive(r->cons, r->nc) + count_alive(r->prod, r->np);
    /* What is left in the queue: the propagated stop message, normally. */
    struct l05_msg m;
    size_t len;
    while (lab_pq_get(r->q, &m, sizeof m, &len, 0) == 0) {
        o->left++;
        o->leftover_stops += m.kind == PC_STOP;
    }
}

static void l05_run_free(struct l05_run *r)
{
    lab_pq_destroy(r->q);   /* every child is reaped by now */
    l05_ledger_free(r->l);
    free(r->prod);
    free(r->cons);
}

/* Every process's exit status was 0 (producers; consumers that left by a stop message). */
static bool producers_ok(struct l05_run *r)
{
    for (int i = 0; i < r->np; i++)
        if (lab_proc_exitcode(&r->prod[i]) != 0)
            return false;
    return true;
}

/* ==== Scenarios ==== */

/* One stop message per consumer (sentinel, kitchen): as many put as there are consumers, each
 * received once, none left in the queue; says so when not. */
static bool stops_balance(const struct l05_run *r, const struct l05_outcome *o)
{
    long got = __atomic_load_n(&r->l->stops, __ATOMIC_SEQ_CST);
    bool ok = o->stops_put == r->nc && got == r->nc && o->left == 0;
    if (!ok)
        printf("main: %d stop messages put and %ld received for %d consumers, %d message%s left in the queue\n",
               o->stops_put, got, r->nc, o->left, o->left == 1 ? "" : "s");
    return ok;
}

int run_sentinel(int mode)
{
    (void)mode;   /* no modes */
    struct l05_run r = { .np = l05_opt("producers", 10), .nc = l05_opt("consumers", 2),
                         .items = l05_opt("items", 1), .cap = l05_opt("capacity", 1024), .stop = STOP_PER_CONSUMER };
    printf("main (pid %d): Queue(); %d producers put their names, %d consumers print them until None\n",
           (int)getpid(), r.np, r.nc);
    struct l05_outcome o;
    l05_run(&r, &o);
    struct l05_check c;
    l05_ledger_check(r.l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    bool ok = l05_check_ok(&c) && producers_ok(&r) && o.exited == r.nc && o.alive_after == 0 && stops_balance(&r, &o);
    lab_result("producers=%d consumers=%d items=%d capacity=%d %s stop_msgs=%d stops_received=%ld left_in_buffer=%d "
               "consumers_exited=%d consumers_alive_after=%d",
               r.np, r.nc, r.items, r.cap, f, o.stops_put, r.l->stops, o.left, o.exited, o.alive_after);
    l05_run_free(&r);
    return o.watchdog ? LAB_EXIT_WATCHDOG : ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static const char *const kitchen_cooks[] = { "大厨", "张桑" };
static const char *const kitchen_foods[] = { "包子", "养生汤" };
static const char *const kitchen_guests[] = { "李四", "王五" };

int run_kitchen(int mode)
{
    (void)mode;   /* no modes */
    struct l05_run r = { .np = 2, .nc = 2, .items = l05_opt("items", 5), .cap = l05_opt("capacity", 1024),
                         .pnames = kitchen_cooks, .foods = kitchen_foods, .cnames = kitchen_guests, .slow = true,
                         .stop = STOP_PER_CONSUMER };
    printf("main (pid %d): 生产者(做包子) + 消息队列(蒸笼) + 消费者(客人): 2 cooks x %d dishes, 2 guests\n",
           (int)getpid(), r.items);
    struct l05_outcome o;
    l05_run(&r, &o);
    struct l05_check c;
    l05_ledger_check(r.l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    bool ok = l05_check_ok(&c) && producers_ok(&r) && o.exited == r.nc && o.alive_after == 0 && stops_balance(&r, &o);
    lab_result("per_producer=%d %s produce_before_consume=%d stop_msgs=%d stops_received=%ld left_in_buffer=%d "
               "consumers_exited=%d consumers_alive_after=%d",
               r.items, f, c.produce_before_consume, o.stops_put, r.l->stops, o.left, o.exited, o.alive_after);
    l05_run_free(&r);
    return o.watchdog ? LAB_EXIT_WATCHDOG : ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_joinable(int mode)
{
    (void)mode;   /* no modes */
    struct l05_run r = { .np = 2, .nc = 2, .items = l05_opt("items", 5), .cap = l05_opt("capacity", 1024),
                         .pnames = kitchen_cooks, .foods = kitchen_foods, .cnames = kitchen_guests, .slow = true,
                         .stop = STOP_JOINABLE };
    printf("main (pid %d): JoinableQueue(); the guests are daemon processes that never see a None\n", (int)getpid());
    struct l05_outcome o;
    l05_run(&r, &o);
    struct l05_check c;
    l05_ledger_check(r.l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    long td = r.l->task_done;
    /* no stop message at all, and nothing left once q.join() has returned */
    bool ok = l05_check_ok(&c) && producers_ok(&r) && td == c.produced && o.join_after_last_consume &&
              o.terminated == r.nc && o.extra_task_done == EINVAL && o.alive_after == 0 && o.left == 0 &&
              o.stops_put == 0 && r.l->stops == 0;
    lab_result("per_producer=%d %s task_done=%ld join_after_last_consume=%d consumers_terminated=%d extra_task_done=%s "
               "left_in_buffer=%d consumers_alive_after=%d",
               r.items, f, td, o.join_after_last_consume, o.terminated,
               o.extra_task_done == 0 ? "0" : lab_errno_name(o.extra_task_done), o.left, o.alive_after);
    l05_run_free(&r);
    return o.watchdog ? LAB_EXIT_WATCHDOG : ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_sentinel_variants(int mode)   /* enum l05_variants_mode (lab05.h) */
{
    enum l05_stop stop = (enum l05_stop)mode;
    struct l05_run r = { .np = l05_opt("producers", 2), .nc = l05_opt("consumers", 3), .items = l05_opt("items", 3),
                         .cap = l05_opt("capacity", 1024), .stop = stop };
    if (stop == STOP_ONE)
        printf("main (pid %d): %d consumers, but only ONE stop message, nobody passes it on (the bad case)\n",
               (int)getpid(), r.nc);
    else if (stop == STOP_PER_CONSUMER)
        printf("main (pid %d): one stop message per consumer: the producer side must know there are %d (案例21)\n",
               (int)getpid(), r.nc);
    else
        printf("main (pid %d): one stop message; each consumer puts it back before leaving (案例22, 哨兵的改进)\n",
               (int)getpid());
    struct l05_outcome o;
    l05_run(&r, &o);
    struct l05_check c;
    l05_ledger_check(r.l, &c);
    char f[256];
    l05_check_fields(&c, f, sizeof f);
    /* What each way promises: stop messages put, received, and left in the queue (and no item left). */
    int want_put = stop == STOP_PER_CONSUMER ? r.nc : 1;
    long want_received = stop == STOP_ONE ? 1 : r.nc;
    int want_left = stop == STOP_PROPAGATE ? 1 : 0;
    bool stops_ok = o.stops_put == want_put && r.l->stops == want_received && o.leftover_stops == want_left &&
                    o.left == want_left;
    bool ok = l05_check_ok(&c) && producers_ok(&r) && o.alive_after == 0 && stops_ok &&
              o.exited + o.stuck == r.nc && (stop == STOP_ONE || o.exited == r.nc);
    if (stop == STOP_PROPAGATE)
        printf("main: the stop message is back in the queue at the end (%d left); main takes it out\n", o.leftover_stops);
    if (!stops_ok)
        printf("main: %d stop messages put (want %d), %ld received (want %ld), %d left in the queue (want %d)\n",
               o.stops_put, want_put, r.l->stops, want_received, o.left, want_left);
    lab_result("producers=%d consumers=%d items=%d %s stop_msgs_put=%d stops_received=%ld consumers_exited=%d "
               "consumers_stuck=%d leftover_stops=%d left_in_buffer=%d consumers_alive_after=%d",
               r.np, r.nc, r.items, f, o.stops_put, r.l->stops, o.exited, o.stuck, o.leftover_stops, o.left,
               o.alive_after);
    l05_run_free(&r);
    if (stop == STOP_ONE && o.stuck > 0 && ok)
        return LAB_EXIT_WATCHDOG;   /* the lesson: the watchdog found the stuck consumers */
    return o.watchdog ? LAB_EXIT_WATCHDOG : ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== Bench: the process queue, one producer process (main) and one consumer process ==== */

static long bench_n;

static int bench_consumer(struct lab_proc *self)
{
    struct lab_pqueue *q = self->arg;
    uint64_t v, sum = 0;
    size_t len;
    for (long i = 0; i < bench_n; i++) {
        if (lab_pq_get(q, &v, sizeof v, &len, -1) != 0)
            return 1;
        sum += v;
    }
    return sum == 0;
}

double l05_bench_pqueue(long n)
{
    struct lab_pqueue *q = lab_pq_create(64, 0);
    if (q == NULL)
        die("lab_pq_create:");
    bench_n = n;
    struct lab_proc c = LAB_PROC_INIT(bench_consumer, q);
    uint64_t t0 = lab_now_ns();
    lab_proc_start_or_die(&c);
    for (long i = 0; i < n; i++) {
        uint64_t v = l05_value(1, (int)i);
        if (lab_pq_put(q, &v, sizeof v, -1) != 0)
            die("lab_pq_put");
    }
    lab_proc_join(&c);
    double s = (double)(lab_now_ns() - t0) / 1e9;
    lab_pq_destroy(q);
    return (double)n / s;
}
