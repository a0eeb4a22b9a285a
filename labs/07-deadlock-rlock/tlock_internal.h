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

/* The layers above the books plug in here (tlock.c never names them: lockdep.c and schedule.c
 * use the books, not the other way round).  Each installs itself once, at program start (a
 * constructor in its file):
 *   - on_reset: called by tl_reset under tl_meta (schedule.c closes its gate again, lockdep.c
 *     forgets its order graph and switches the checker on);
 *   - on_block: lockdep.c's check, called by tl_lock under tl_meta before thread t blocks on l,
 *     holding what it holds; it records the new orders and adds its warning to out. */
typedef void (*tl_reset_fn)(void);
typedef void (*tl_block_fn)(struct tl_thread *t, struct tlock *l, struct tl_lines *out);
void tl_install_reset(tl_reset_fn on_reset);
void tl_install_block_check(tl_block_fn on_block);

#endif
