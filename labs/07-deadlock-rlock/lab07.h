/* labs/07-deadlock-rlock/lab07.h - what the files of lab 7 share.
 *
 * The files: main.c (the scenario table), abba.c (the notes' mutexA/mutexB threads: deadlock,
 * rlock, ordered, backoff, watchdog_restart), mutexes.c (timeout, self_deadlock,
 * forgot_unlock), philosophers.c, util.c (small helpers), and the tracked locks: tlock.c (the
 * books and the wait-for report), lockdep.c (the lock-order checker, and the lockdep scenario),
 * schedule.c (the forced schedules); tlock_internal.h is what those three share and nobody else needs.
 *
 * Tracked locks: a struct tlock is a pthread mutex plus what the lab wants to show about it: its
 * name, its owner, its recursion count.  Every thread that uses tracked locks has a record
 * (what it holds, what it is blocked on), so that a watchdog can print the wait-for graph and find
 * the cycle, and so that a lockdep-style checker can record "lock X was held while lock Y was
 * taken" and warn about an order inversion the first time it appears.  The record lives in one
 * table guarded by one internal lock (tl_meta), which is always the innermost lock: it is taken
 * while the caller holds tracked locks, never the other way round, and never held while blocking.
 */
#ifndef LAB07_H
#define LAB07_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "lab.h"
#include "watchdog.h"

/* ==== Tracked locks (tlock.c) ==== */

#define TL_MAX_LOCKS 16
#define TL_MAX_THREADS 40
#define TL_MAX_HELD 8

enum tl_kind { TL_PLAIN, TL_RECURSIVE };

/* What a thread is doing, as the wait-for report shows it. */
enum tl_state {
    TL_RUNNING,     /* doing work (or about to block) */
    TL_BLOCKED,     /* blocked in tl_lock / tl_timedlock on `waiting`, or on a semaphore */
    TL_BACKOFF,     /* released everything, pausing before a retry */
    TL_PAUSED,      /* parked at a rendezvous of the forced schedule, holding what it holds */
    TL_GATED,       /* not let in yet by the forced schedule */
    TL_DONE         /* finished its work */
};

struct tl_thread;

struct tlock {
    pthread_mutex_t m;          /* the real lock */
    const char *name;           /* "mutexA" */
    int id;                     /* index in the lock table: lockdep's lock class */
    enum tl_kind kind;
    struct tl_thread *owner;    /* guarded by tl_meta */
    int count;                  /* guarded by tl_meta: recursion depth, 0 when free */
    int count_max;              /* guarded by tl_meta: the deepest it went */
};

/* A new scenario: forget every thread record, every lock and the lockdep graph. */
void tl_reset(void);
void tl_init(struct tlock *l, const char *name, enum tl_kind kind);
void tl_destroy(struct tlock *l);

/* The calling thread takes part as worker number `index` (1, 2, ...; the forced schedules use it).
 * Its name is its lab_thread name.  Threads that never call it are registered on first use. */
void tl_register(int index);

/* Blocking lock (lockdep checks the order first); trylock (0 or EBUSY); a timed lock on
 * CLOCK_MONOTONIC (0 or ETIMEDOUT); unlock (0, or EPERM when the caller is not the owner: the
 * recursive pthread mutex itself answers, as Python's RLock raises RuntimeError). */
void tl_lock(struct tlock *l);
int tl_trylock(struct tlock *l);
int tl_timedlock(struct tlock *l, double ms);
int tl_unlock(struct tlock *l);
/* The owner's name ("-" when free) and the recursion count, as Python's RLock repr shows them. */
void tl_describe(struct tlock *l, char *buf, size_t len);
int tl_count_max(struct tlock *l);

/* The caller's state in the report (BACKOFF while pausing, DONE at the end, ...).  `what` names
 * what a TL_BLOCKED thread waits for when it is not a tracked lock ("the waiter semaphore"). */
void tl_set_state(enum tl_state s, const char *what);

/* The wait-for report: one line per worker (holds / waits for / held by), then the cycle if there
 * is one.  Returns the number of threads in a cycle (0: none) and writes the cycle of locks
 * ("mutexA->mutexB->mutexA") into cycle.  blocked: how many workers are blocked. */
int tl_report(char *cycle, size_t len, int *blocked);

/* ==== Forced schedules (schedule.c) ==== */

/* A worker calls tl_gate_wait() first: only workers with index <= the gate go on (the gate starts
 * at 1).  tl_gate_open(n) lets workers 1..n in.  tl_wait_quiet(ms) waits until
 * every other registered worker is blocked, backing off, paused, gated or done: "everyone else is
 * stuck or finished", the moment the notes' time.sleep(2) hopes for.  tl_rendezvous(n, ms): wait
 * until n workers are all at the rendezvous or otherwise not running, then everyone there goes on
 * (a one-shot latch).  All waits are bounded by ms; they return false when it ran out. */
void tl_gate_wait(void);
void tl_gate_open(int upto);
bool tl_wait_quiet(double ms);
bool tl_rendezvous(int n, double ms);
/* For a watchdog report: wait until workers 1..n are all blocked on a tracked lock another thread
 * holds (the forced deadlock has formed), bounded by ms; false when it ran out.  The caller is not
 * registered (the monitor thread may call it).  waited_ms: 0 when it held at once. */
bool tl_wait_blocked(int n, double ms, double *waited_ms);

/* ==== Lockdep (lockdep.c) ==== */

/* On by default after tl_reset.  reports: how many warnings (at most 1 per run: like the
 * kernel, it turns itself off after the first).  The orders it saw: "mutexA->mutexB" (first seen)
 * and the inverted one being attempted. */
int tl_lockdep_reports(void);
void tl_lockdep_orders(char *seen, char *inverted, size_t len);

/* ==== Shared helpers (util.c) ==== */

/* --watchdog-ms, or the automatic value when it is 0: 3 notes-seconds plus the hold, at least 300 ms. */
double lab07_watchdog_ms(bool expect_deadlock);
/* --hold in notes-seconds (the option is in tenths). */
double lab07_hold_units(void);
/* A watchdog report's wait for a forced deadlock to form (tl_wait_blocked): when it had to wait,
 * say so, and how long; when it ran out, say that too. */
void lab07_say_settled(bool formed, double waited_ms, int n, const char *who);
/* The calling thread's name. */
const char *lab07_me(void);
/* Scenarios the guided demo runs in a child: end (SIGTERM) when the parent process ends. */
void lab07_end_with_parent(void);

/* ==== Scenarios ==== */

/* The modes of the scenarios that have some: each enum is in the order of that scenario's .modes
 * string in main.c (run() gets the index), so keep the two in step. */
enum lockdep_mode { LOCKDEP_LUCKY, LOCKDEP_ORDERED };                           /* "lucky,ordered" */
enum self_deadlock_mode { SELF_PLAIN, SELF_ERRORCHECK, SELF_RECURSIVE };        /* "plain,errorcheck,recursive" */
enum forgot_unlock_mode { FORGOT_PLAIN, FORGOT_ROBUST };                        /* "plain,robust" */
enum philosophers_mode { PHIL_DEADLOCK, PHIL_ORDERED, PHIL_WAITER };            /* "deadlock,ordered,waiter" */

/* abba.c */
int run_deadlock(int mode);
int run_rlock(int mode);
int run_ordered(int mode);
int run_backoff(int mode);
int run_watchdog_restart(int mode);
/* lockdep.c */
int run_lockdep(int mode);   /* enum lockdep_mode */
/* mutexes.c */
int run_timeout(int mode);
int run_self_deadlock(int mode);   /* enum self_deadlock_mode */
int run_forgot_unlock(int mode);   /* enum forgot_unlock_mode */
/* philosophers.c */
int run_philosophers(int mode);   /* enum philosophers_mode */

#endif
