/* labs/09-event-traffic-light/event.c - threading.Event in C, one red light and 20 cars, and what
 * wait() must return for a set() that is cleared again at once.
 *
 * An Event is a flag with a waiting room: wait() blocks while the flag is False, set() makes it
 * True and wakes every waiter, clear() makes it False again, is_set() reads it.  C has no Event:
 * it is a mutex, a condition variable and the flag.  The subtle part is wait(): Python's returns
 * True for a set() that a clear() undid before the waiter ran (a "pulse"), because it returns the
 * result of Condition.wait and does not look at the flag again.  The naive C loop
 * `while (!flag) pthread_cond_wait(...)` looks again, finds False and goes back to sleep: the
 * pulse is lost.  A generation counter (set() increments it) tells the waiter that a set()
 * happened while it slept.
 *   event            红灯亮, 20 cars wait, 3 seconds later 绿灯亮 and every car goes; none before;
 *   event_semantics  set/clear/is_set/wait(timeout); --mode=naive loses the pulse, --mode=gen not.
 * Python ↔ C: event = Event() ↔ l09_event_init; event.set()/clear()/is_set()/wait(t) ↔
 *   l09_event_set/clear/is_set/wait(e, t); Condition(Lock()) inside it ↔ pthread_mutex_t +
 *   pthread_cond_t on CLOCK_MONOTONIC (lab_cond_init).
 * --trace: each wait() is a slice "wait: NAME.wait()" on its thread, from the call to the return;
 *   set() is an instant with an arrow to every thread then inside wait(), whose head is where that
 *   thread woke; the flag is a counter track "NAME.is_set()" (1 set, 0 clear).
 * Usage: build/lab09 event [--cars=20] | event_semantics [--mode=naive|gen]
 * Watch for: every 车加油门走了 after 绿灯亮; pulse_woke=0 with the naive loop, 1 with the counter.
 * See also: main.c (the scenario table), traffic.c (the lighter/car loop), timer.c (a Timer built
 *   on this Event).
 */
#include "lab.h"
#include "lab09.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== --trace: the arrows from set() to the waiters it wakes ==== */

static atomic_ullong flow_seq;

unsigned long long l09_flow_id(void) { return (9ull << 48) | (atomic_fetch_add(&flow_seq, 1) + 1); }

static const char *ev_name(const struct l09_event *e) { return e->name ? e->name : "event"; }

/* The flag, on a counter track of its own.  Caller holds e->mu. */
static void trace_flag(const struct l09_event *e)
{
    char n[48];
    snprintf(n, sizeof n, "%s.is_set()", ev_name(e));
    lab_trace_counter(n, e->flag);
}

/* A thread enters wait(): listed, with the id of the arrow that will wake it.  Caller holds e->mu. */
static void trace_enter(struct l09_event *e, struct l09_trace_waiter *w)
{
    if (!lab_trace_on())
        return;
    *w = (struct l09_trace_waiter){ .flow = l09_flow_id(), .next = e->tw };
    e->tw = w;
}

/* It woke: the head of the arrow of the set() that woke it, if one did; a new id for the next
 * sleep (the naive wait() sleeps again after a pulse).  Caller holds e->mu. */
static bool trace_woken(struct l09_event *e, struct l09_trace_waiter *w)
{
    if (!lab_trace_on() || !w->sent)
        return false;
    lab_trace_flow_in("event", w->flow, "woken by %s.set()", ev_name(e));
    w->flow = l09_flow_id();
    w->sent = false;
    return true;
}

/* It leaves wait(): off the list.  Caller holds e->mu. */
static void trace_leave(struct l09_event *e, struct l09_trace_waiter *w)
{
    for (struct l09_trace_waiter **p = &e->tw; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

/* set(): an instant, and an arrow to every waiter that has none yet.  Caller holds e->mu. */
static void trace_set(struct l09_event *e)
{
    if (!lab_trace_on())
        return;
    lab_trace_instant("event", "%s.set()", ev_name(e));
    for (struct l09_trace_waiter *w = e->tw; w; w = w->next)
        if (!w->sent) {
            lab_trace_flow_out("event", w->flow, "%s.set() wakes a waiter", ev_name(e));
            w->sent = true;
        }
    trace_flag(e);
}

static void trace_clear(const struct l09_event *e)
{
    if (!lab_trace_on())
        return;
    lab_trace_instant("event", "%s.clear()", ev_name(e));
    trace_flag(e);
}

/* ==== The Event ==== */

void l09_event_init(struct l09_event *e)
{
    memset(e, 0, sizeof *e);
    lab_mutex_init(&e->mu, 0);
    lab_cond_init(&e->cv, 0);          /* CLOCK_MONOTONIC: wait(timeout) ignores the wall clock */
}

void l09_event_destroy(struct l09_event *e)
{
    Pthread_cond_destroy(&e->cv);
    Pthread_mutex_destroy(&e->mu);
}

void l09_event_set_locked(struct l09_event *e)
{
    e->flag = true;
    trace_set(e);                     /* --trace: the arrows to the waiters (no-op without) */
    /* SOLUTION BEGIN: count this set() in e->gen, so that a waiter sees it even after a clear() */
    e->gen++;                         /* "a set() happened" survives a clear() */
    /* SOLUTION END */
    Pthread_cond_broadcast(&e->cv);   /* notify_all(): every waiter */
}

void l09_event_set(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    l09_event_set_locked(e);
    Pthread_mutex_unlock(&e->mu);
}

void l09_event_clear(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    e->flag = false;
    trace_clear(e);
    Pthread_mutex_unlock(&e->mu);
}

bool l09_event_is_set(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    bool f = e->flag;
    Pthread_mutex_unlock(&e->mu);
    return f;
}

int l09_event_waiting(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    int n = e->waiting;
    Pthread_mutex_unlock(&e->mu);
    return n;
}

unsigned long l09_event_sets(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    unsigned long g = e->gen;
    Pthread_mutex_unlock(&e->mu);
    return g;
}

void l09_event_pulse(struct l09_event *e)
{
    Pthread_mutex_lock(&e->mu);
    l09_event_set_locked(e);          /* set() */
    e->flag = false;                  /* clear(), before any woken waiter can take the lock */
    trace_clear(e);
    Pthread_mutex_unlock(&e->mu);
}

/* One sleep on the condition variable: false when the deadline passed.  Caller holds e->mu. */
static bool sleep_once(struct l09_event *e, const struct timespec *deadline)
{
    int rc = deadline ? pthread_cond_timedwait(&e->cv, &e->mu, deadline) : pthread_cond_wait(&e->cv, &e->mu);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_(timed)wait");
    e->wakeups++;
    return rc == 0;
}

/* Python: signaled = self._flag; if not signaled: signaled = self._cond.wait(timeout); return signaled */
bool l09_event_wait(struct l09_event *e, double timeout_units)
{
    struct timespec deadline;
    if (timeout_units >= 0)
        deadline = lab_deadline_ms(lab_units_ms(timeout_units));
    struct l09_trace_waiter tw = { 0 };
    lab_trace_begin("event", "wait: %s.wait()", ev_name(e));
    Pthread_mutex_lock(&e->mu);
    trace_enter(e, &tw);
    e->waiting++;
    unsigned long g = e->gen;
    /* The loop is needed anyway: pthread_cond_wait may return without a signal (spurious). */
    while (!e->flag && e->gen == g) {
        bool in_time = sleep_once(e, timeout_units >= 0 ? &deadline : NULL);
        trace_woken(e, &tw);
        if (!in_time)
            break;   /* timed out; the test below still counts a set() that raced with it */
    }
    bool set = e->flag || e->gen != g;
    e->waiting--;
    e->returned++;
    trace_leave(e, &tw);
    Pthread_mutex_unlock(&e->mu);
    lab_trace_end();
    return set;
}

/* The naive port: wait "while the flag is False".  Correct for a flag that stays set; loses a pulse. */
bool l09_event_wait_naive(struct l09_event *e, double timeout_units)
{
    struct timespec deadline;
    if (timeout_units >= 0)
        deadline = lab_deadline_ms(lab_units_ms(timeout_units));
    struct l09_trace_waiter tw = { 0 };
    lab_trace_begin("event", "wait: %s.wait() (naive)", ev_name(e));
    Pthread_mutex_lock(&e->mu);
    trace_enter(e, &tw);
    e->waiting++;
    while (!e->flag) {
        bool in_time = sleep_once(e, timeout_units >= 0 ? &deadline : NULL);
        if (trace_woken(e, &tw) && !e->flag)
            lab_trace_instant("event", "flag is False again: back to sleep (the pulse is lost)");
        if (!in_time)
            break;
    }
    bool set = e->flag;
    e->waiting--;
    e->returned++;
    trace_leave(e, &tw);
    Pthread_mutex_unlock(&e->mu);
    lab_trace_end();
    return set;
}

bool l09_until(bool (*pred)(void *arg), void *arg, double bound_ms)
{
    double end = lab_now_ms() + bound_ms;
    while (!pred(arg)) {
        if (lab_now_ms() >= end) {
            printf("%s: gave up after waiting %.0f ms for another thread: it was starved, or this is a bug\n",
                   lab_thread_name(lab_current_thread()), bound_ms);
            return false;
        }
        lab_sleep_ms(0.5);
    }
    return true;
}

/* ==== event: one red light, 20 cars (the notes' Event example) ==== */

static struct l09_event event;          /* event = Event()  #类似于造了一个红绿灯 */
static atomic_bool green;               /* the light has turned green (set just before event.set()) */
static atomic_int waited, went, went_before_green;
static int ncars;
static bool light_gave_up;

/* Every car is blocked in wait(): or gone already, which only an Event whose wait() does not block
 * lets a car do (went_before_green then says so; no point waiting for it to come back). */
static bool all_cars_waiting(void *arg)
{
    (void)arg;
    return l09_event_waiting(&event) + atomic_load(&went) == ncars;
}

/* def light(): print("红灯亮"); time.sleep(3); print("绿灯亮"); event.set() */
static void *light(void *arg)
{
    (void)arg;
    const char *me = lab_thread_name(lab_current_thread());
    printf("%s: 红灯亮\n", me);
    lab_sleep(3);
    /* Python can count on 3 seconds being enough for 20 cars to reach the light.  We check it
     * (bounded), so that waited=20 holds even on a machine so loaded that a car thread had not
     * started yet. */
    if (!l09_until(all_cars_waiting, NULL, L09_BOUND_MS))
        light_gave_up = true;
    atomic_store(&green, true);
    printf("%s: 绿灯亮\n", me);
    l09_event_set(&event);              /* 告诉等待红灯的人可以走了 */
    return NULL;
}

/* def car(name): print("%s 车正在等红灯" % name); event.wait(); print('%s 车加油门走了' % name) */
static void *car(void *arg)
{
    int name = (int)(intptr_t)arg;
    const char *me = lab_thread_name(lab_current_thread());
    printf("%s: %d 车正在等红灯\n", me, name);
    if (!l09_event_is_set(&event))
        atomic_fetch_add(&waited, 1);
    l09_event_wait(&event, -1);          /* 等待别人给你发消息 */
    if (!atomic_load(&green))
        atomic_fetch_add(&went_before_green, 1);
    printf("%s: %d 车加油门走了\n", me, name);
    atomic_fetch_add(&went, 1);
    return NULL;
}

int run_event(int mode)
{
    (void)mode;   /* no modes */
    ncars = (int)lab_opt("cars");
    l09_event_init(&event);
    atomic_store(&green, false);
    atomic_store(&waited, 0);
    atomic_store(&went, 0);
    atomic_store(&went_before_green, 0);
    light_gave_up = false;

    struct lab_thread *lt = LAB_THREAD(light, NULL);     /* t = Thread(target=light); t.start() */
    lab_thread_start_or_die(lt);
    struct lab_thread **cs = xcalloc((size_t)ncars, sizeof *cs);
    for (int i = 0; i < ncars; i++) {
        cs[i] = lab_thread_new(car, (void *)(intptr_t)i, "car");   /* Thread(target=car, args=('%s' % i,)) */
        lab_thread_start_or_die(cs[i]);
    }
    lab_thread_join(lt);
    for (int i = 0; i < ncars; i++)
        lab_thread_join(cs[i]);
    free(cs);
    l09_event_destroy(&event);

    int w = atomic_load(&waited), g = atomic_load(&went), early = atomic_load(&went_before_green);
    printf("MainThread: %d cars waited at the red light, %d went, %d went before green\n", w, g, early);
    lab_result("cars=%d waited=%d went=%d went_before_green=%d", ncars, w, g, early);
    return (!light_gave_up && w == ncars && g == ncars && early == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== event_semantics: set / clear / is_set / wait(timeout), and the pulse (the notes' Event methods) ==== */

static struct l09_event sem_ev;
static bool naive;
static bool waiter_result;          /* read after the join */
static atomic_bool waiter_back;     /* the waiter's wait() returned (counted by the test itself, so
                                       that even an Event that skips its own counters is seen) */

static bool ev_wait(double timeout) { return naive ? l09_event_wait_naive(&sem_ev, timeout) : l09_event_wait(&sem_ev, timeout); }

/* The waiter of the pulse test: wait() with no timeout. */
static void *pulse_waiter(void *arg)
{
    (void)arg;
    waiter_result = ev_wait(-1);
    atomic_store(&waiter_back, true);
    return NULL;
}

/* The waiter is blocked in wait(), or it has returned already: a wait() that does not block.  The
 * second case ends the wait at once, and the run fails (blocked is false). */
static bool waiter_blocked_or_back(void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&sem_ev.mu);
    bool b = sem_ev.waiting == 1 || sem_ev.returned >= 1 || atomic_load(&waiter_back);
    Pthread_mutex_unlock(&sem_ev.mu);
    return b;
}

/* After the pulse: the waiter either returned from wait(), or woke up, looked at the flag and went
 * back to sleep.  Both are decided inside one critical section of the event, so one look under the
 * lock tells which. */
struct after_pulse {
    unsigned long wakeups0;   /* wakeups counted before the pulse */
    int outcome;              /* 1 returned, 0 slept again */
};

static bool pulse_decided(void *arg)
{
    struct after_pulse *a = arg;
    Pthread_mutex_lock(&sem_ev.mu);
    if (sem_ev.returned >= 1 || atomic_load(&waiter_back))
        a->outcome = 1;
    else if (sem_ev.wakeups > a->wakeups0)
        a->outcome = 0;
    Pthread_mutex_unlock(&sem_ev.mu);
    return a->outcome >= 0;
}

int run_event_semantics(int mode)
{
    naive = mode == EVENT_SEMANTICS_NAIVE;
    l09_event_init(&sem_ev);
    const char *label = naive ? "the naive loop: while (!flag) cond_wait" : "a generation counter: while (!flag && gen == g) cond_wait";
    printf("MainThread: Event() whose wait() is %s\n", label);

    /* 1. wait() on a set event returns True at once. */
    l09_event_set(&sem_ev);
    bool wait_set = ev_wait(1);
    printf("MainThread: set(); is_set() -> %s; wait(1) -> %s\n", l09_event_is_set(&sem_ev) ? "True" : "False",
           wait_set ? "True" : "False");

    /* 2. wait(1) on a clear event returns False after the timeout. */
    l09_event_clear(&sem_ev);
    double t0 = lab_now_ms();
    bool wait_timeout = ev_wait(1);
    double waited_units = lab_elapsed_units(t0);
    printf("MainThread: clear(); is_set() -> %s; wait(1) -> %s after %.1f units\n",
           l09_event_is_set(&sem_ev) ? "True" : "False", wait_timeout ? "True" : "False", waited_units);

    /* 3. The pulse: a waiter blocks; set() and clear() come back to back. */
    Pthread_mutex_lock(&sem_ev.mu);
    sem_ev.returned = 0;
    atomic_store(&waiter_back, false);
    Pthread_mutex_unlock(&sem_ev.mu);
    struct lab_thread *w = LAB_THREAD(pulse_waiter, NULL);
    lab_thread_start_or_die(w);
    bool reached = l09_until(waiter_blocked_or_back, NULL, L09_BOUND_MS);
    struct after_pulse ap = { 0, -1 };
    Pthread_mutex_lock(&sem_ev.mu);
    bool blocked = reached && sem_ev.waiting == 1 && sem_ev.returned == 0 && !atomic_load(&waiter_back);
    ap.wakeups0 = sem_ev.wakeups;
    Pthread_mutex_unlock(&sem_ev.mu);
    l09_event_pulse(&sem_ev);
    bool is_set_after = l09_event_is_set(&sem_ev);
    printf("MainThread: %s; set(); clear()  -> is_set() = %s\n",
           blocked ? "a thread is blocked in wait()" : "(the waiter never blocked!)", is_set_after ? "True" : "False");
    bool decided = l09_until(pulse_decided, &ap, L09_BOUND_MS);
    int pulse_woke = ap.outcome == 1;
    if (pulse_woke)
        printf("%s: wait() returned %s: the pulse woke it, as in Python\n", lab_thread_name(w), "True");
    else
        printf("%s: woke up, found the flag False and went back to sleep: the pulse is lost\n", lab_thread_name(w));
    if (!pulse_woke) {
        /* Let it go with a real set() that stays. */
        printf("MainThread: set() for good, so that the waiter can finish\n");
        l09_event_set(&sem_ev);
    }
    lab_thread_join(w);
    l09_event_destroy(&sem_ev);

    lab_result("wait_set=%d wait_timeout=%d timeout_elapsed_units=%.1f pulse_woke=%d is_set_after_pulse=%d",
               wait_set, wait_timeout, waited_units, pulse_woke, is_set_after);
    /* wait(1) on a clear event returns after its timeout, never sooner (the deadline is on the
     * monotonic clock; the margin only absorbs the rounding of the two clock readings). */
    bool basics = blocked && decided && wait_set && !wait_timeout && waited_units >= 0.99 && !is_set_after;
    if (naive)
        return basics ? LAB_EXIT_OK : LAB_EXIT_BROKEN;   /* the lost pulse is the lesson */
    return basics && pulse_woke && waiter_result ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
