/* labs/07-deadlock-rlock/tlock_internal.h - inside the tracked locks: what tlock.c, lockdep.c and
 * schedule.c share, and no scenario file needs.
 *
 * The books: one record per thread (what it holds, what it waits for, its state in the report) and
 * the table of locks, all guarded by tl_meta, the innermost lock of the lab.  Every function here
 * whose name ends in _locked must be called with tl_meta held (tl_meta_lock / tl_meta_unlock).
 * Lines to print are collected in a struct tl_lines under tl_meta and printed after it is released,
 * so that nobody waits for the terminal while holding the books.
 */
#ifndef LAB07_TLOCK_INTERNAL_H
#define LAB07_TLOCK_INTERNAL_H

#include "lab07.h"

#include <time.h>

struct tl_thread {
    char name[48];
    int index;                       /* worker number of the forced schedule; 0: none */
    enum tl_state state;
    struct tlock *waiting;           /* the tracked lock it is blocked on, or NULL */
    const char *waiting_what;        /* or what else it is blocked on */
    struct tlock *held[TL_MAX_HELD]; /* in the order taken */
    int nheld;
};

/* Guarded by tl_meta (tlock.c): every thread record of this run, every lock by its id. */
extern struct tl_thread tl_threads[TL_MAX_THREADS];
extern int tl_nthreads;
extern struct tlock *tl_locks[TL_MAX_LOCKS];
extern int tl_nlocks;

void tl_meta_lock(void);
void tl_meta_unlock(void);
/* Something in the books changed: wake every tl_meta_wait_locked. */
void tl_changed_locked(void);
/* Wait for a change until the deadline (CLOCK_MONOTONIC); false when it has passed. */
bool tl_meta_wait_locked(const struct timespec *deadline);
/* The caller's record, made on first use after tl_reset (index: its worker number, or 0). */
struct tl_thread *tl_me_locked(int index);

/* Lines produced under tl_meta, printed after it is released. */
struct tl_lines {
    char text[24][160];
    int n;
};
void tl_lines_add(struct tl_lines *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tl_lines_print(const struct tl_lines *o);

/* lockdep.c: forget the order graph and switch the checker on (tl_reset); check that thread t,
 * holding what it holds, may block on l, record the new orders, and add the warning to out. */
void tl_lockdep_reset_locked(void);
void tl_lockdep_check_locked(struct tl_thread *t, struct tlock *l, struct tl_lines *out);

/* schedule.c: close the gate and the rendezvous again (tl_reset). */
void tl_schedule_reset_locked(void);

#endif
