/* labs/09-event-traffic-light/timer.c - threading.Timer: run a function once, after a delay,
 * unless cancelled first.
 *
 * A Timer is a thread that waits on an Event with a timeout.  If the wait times out and nobody
 * cancelled it, the thread calls the function; cancel() only sets the Event.  This is CPython's
 * own code (threading.Timer.run):
 *     self.finished.wait(self.interval)
 *     if not self.finished.is_set(): self.function(*self.args)
 *     self.finished.set()
 * Here it is in C on the Event of event.c, whose wait runs on CLOCK_MONOTONIC.  cancel() works only
 * while the timer is still waiting.  A cancel() that comes after the deadline is too late (a
 * machine that stalls the caller long enough would show that).  So the demo takes the Event's lock
 * before start() and keeps it until cancel() is done: the timer thread cannot finish its wait in
 * between, and "cancelled, never fires" holds on every run.
 * Python ↔ C: t = Timer(1, hello); t.start() ↔ struct l09_timer + timer_start; t.cancel() ↔
 *   l09_event_set(&t->finished); t.join() ↔ lab_thread_join.
 * --trace: the timer thread's wait on `finished` is a slice; "the timer fires" is one more; the
 *   cancelled timer's wait returns at once (cancel() came first), and it says "cancelled".
 * Usage: build/lab09 timer
 * Watch for: "hello, world" at least 1 unit after start(); nothing from the cancelled timer, even
 *   after waiting longer than its interval.
 * See also: main.c (the scenario table), event.c, the notes' Timer example.
 */
#include "lab.h"
#include "lab09.h"

#include <stdio.h>

struct l09_timer {
    struct l09_event finished;
    double interval;                 /* notes-seconds */
    void (*fn)(void);
    struct lab_thread *thread;
    double start_ms, fired_ms;       /* fired_ms is 0 until fn ran */
};

static void *timer_run(void *arg)
{
    struct l09_timer *t = arg;
    l09_event_wait(&t->finished, t->interval);
    if (!l09_event_is_set(&t->finished)) {
        t->fired_ms = lab_now_ms();
        lab_trace_begin("timer", "the timer fires: function()");
        t->fn();
        lab_trace_end();
    } else {
        lab_trace_instant("timer", "cancelled: the function never runs");
    }
    l09_event_set(&t->finished);
    return NULL;
}

/* name: the Event's name in a --trace file ("t.finished"). */
static void timer_init(struct l09_timer *t, double interval, void (*fn)(void), const char *name)
{
    l09_event_init(&t->finished);
    t->finished.name = name;
    t->interval = interval;
    t->fn = fn;
    t->fired_ms = 0;
    /* A Timer is a Thread subclass: its default name is "Thread-N", without a target. */
    t->thread = lab_thread_new(timer_run, t, NULL);
}

static void timer_start(struct l09_timer *t)
{
    t->start_ms = lab_now_ms();
    lab_thread_start_or_die(t->thread);
}

static void hello(void)
{
    printf("%s: hello, world\n", lab_thread_name(lab_current_thread()));
}

static void hello_cancelled(void)
{
    printf("%s: hello from the cancelled timer (this must not happen)\n", lab_thread_name(lab_current_thread()));
}

int run_timer(int mode)
{
    (void)mode;   /* no modes */
    /* t = Timer(1, hello); t.start()  # after 1 seconds, "hello, world" will be printed */
    struct l09_timer t;
    timer_init(&t, 1, hello, "t.finished");
    timer_start(&t);
    printf("MainThread: t = Timer(1, hello); t.start()  -> start() returned at once\n");
    lab_thread_join(t.thread);
    bool fired = t.fired_ms > 0;
    double elapsed = fired ? lab_ms_units(t.fired_ms - t.start_ms) : 0;
    printf("MainThread: the timer fired %.2f units after start()\n", elapsed);
    l09_event_destroy(&t.finished);

    /* t2 = Timer(1, hello); t2.start(); t2.cancel() */
    struct l09_timer t2;
    timer_init(&t2, 1, hello_cancelled, "t2.finished");
    Pthread_mutex_lock(&t2.finished.mu);          /* hold the timer's lock across start + cancel */
    timer_start(&t2);
    lab_trace_instant("timer", "t2.cancel()");
    l09_event_set_locked(&t2.finished);           /* t2.cancel(), before the timer can look */
    Pthread_mutex_unlock(&t2.finished.mu);
    lab_thread_join(t2.thread);
    lab_sleep(t2.interval + 0.5);                 /* longer than its interval: still nothing */
    bool cancelled_fired = t2.fired_ms > 0;
    printf("MainThread: t2 = Timer(1, ...); t2.start(); t2.cancel() -> %s\n",
           cancelled_fired ? "it fired anyway" : "it never fired");
    l09_event_destroy(&t2.finished);

    lab_result("interval=1 fired=%d elapsed_units=%.2f cancelled_fired=%d", fired, elapsed, cancelled_fired);
    return fired && elapsed >= 1.0 && !cancelled_fired ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
