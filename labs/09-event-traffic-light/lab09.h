/* labs/09-event-traffic-light/lab09.h - what the files of lab 9 share: the Event object, the modes,
 * and one run function per scenario (the table that lists them is in main.c). */
#ifndef LAB09_H
#define LAB09_H

#include <pthread.h>
#include <stdbool.h>

/* A safety bound for every "wait until the other thread got there" of this lab: 20 s, plus the
 * car's one-unit look at the light that some of these waits include (so a very slow pace never
 * trips it).  Only a broken run, or a machine that starves a thread for that long, reaches it. */
#define L09_BOUND_MS (10000.0 + lab_bound_ms(1))

/* ==== threading.Event, built on a mutex and a condition variable (event.c) ==== */

/* A thread inside wait(), as --trace sees it: set() draws an arrow to each (its flow id), and the
 * waiter draws the arrow's head when it wakes.  Only listed while a trace is recorded. */
struct l09_trace_waiter {
    unsigned long long flow;     /* the arrow id of its next wake-up */
    bool sent;                   /* set() drew the arrow's tail already */
    struct l09_trace_waiter *next;
};

/* An arrow id of lab 9, unique in the process (lab 9 in the top bits, apart from other labs'). */
unsigned long long l09_flow_id(void);

struct l09_event {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* on CLOCK_MONOTONIC: timeouts ignore changes of the wall clock */
    bool flag;                   /* guarded by mu */
    unsigned long gen;           /* set() count: a waiter that saw it change was set, even if
                                    clear() came right after (the pulse); guarded by mu */
    /* Instruments for the demos (Python has no such counters): */
    int waiting;                 /* threads inside wait(); guarded by mu */
    unsigned long wakeups;       /* returns from pthread_cond_wait inside wait(); guarded by mu */
    unsigned long returned;      /* wait() calls that returned; guarded by mu */
    const char *name;            /* --trace: its slices and its is_set() track ("event") */
    struct l09_trace_waiter *tw; /* --trace: the threads in wait(); guarded by mu */
};

void l09_event_init(struct l09_event *e);
void l09_event_destroy(struct l09_event *e);
void l09_event_set(struct l09_event *e);
/* set() for a caller that already holds e->mu (the timer demo's forced cancel). */
void l09_event_set_locked(struct l09_event *e);
void l09_event_clear(struct l09_event *e);
bool l09_event_is_set(struct l09_event *e);
/* Python's wait(timeout): true once set (also for a set() followed at once by clear()), false
 * when `timeout_units` notes-seconds pass first.  timeout_units < 0: no timeout. */
bool l09_event_wait(struct l09_event *e, double timeout_units);
/* The naive port, for the bad case of event_semantics: `while (!flag) wait;` misses a pulse. */
bool l09_event_wait_naive(struct l09_event *e, double timeout_units);
/* set() immediately followed by clear(), with the event's lock held across both: no waiter can run
 * in between, which is the interleaving that tells the two wait()s apart. */
void l09_event_pulse(struct l09_event *e);
/* Number of threads inside wait() now. */
int l09_event_waiting(struct l09_event *e);
/* How many times set() was called so far (the generation counter): a wait() without a timeout
 * that returned True must have seen it grow, unless the flag was already set. */
unsigned long l09_event_sets(struct l09_event *e);

/* Poll pred(arg) every half millisecond until it is true or bound_ms pass: true if it became true.
 * Giving up is reported on stdout (the run then exits 1). */
bool l09_until(bool (*pred)(void *arg), void *arg, double bound_ms);

/* ==== the scenarios ==== */

/* The modes of event_semantics, in the order of its .modes in main.c. */
enum l09_event_semantics_mode { EVENT_SEMANTICS_NAIVE, EVENT_SEMANTICS_GEN };
/* The modes of wait_notify, in the order of its .modes in main.c. */
enum l09_wait_notify_mode { WAIT_NOTIFY_IF, WAIT_NOTIFY_WHILE };

int run_event(int mode);             /* event.c */
int run_event_semantics(int mode);   /* event.c */
int run_traffic(int mode);           /* traffic.c */
int run_condition(int mode);         /* condition.c */
int run_wait_notify(int mode);       /* condition.c */
int run_timer(int mode);             /* timer.c */
int run_states(int mode);            /* states.c */

#endif
