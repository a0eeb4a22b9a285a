/* interp.h - a tiny bytecode interpreter whose threads must hold the GIL to run (lab 6).
 *
 * Values are unsigned __int128: Python ints do not overflow, and the notes' benchmark result
 * 499999666667166666000000 does not fit in 64 bits.
 */
#ifndef LAB06_INTERP_H
#define LAB06_INTERP_H

#include "minigil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef unsigned __int128 u128;

enum op {
    OP_LOAD_CONST, OP_LOAD_FAST, OP_STORE_FAST, OP_LOAD_GLOBAL, OP_STORE_GLOBAL,
    OP_BINARY_ADD, OP_BINARY_SUB, OP_BINARY_POW,
    OP_FOR_RANGE,       /* a: iterator slot (stop in a+1); b: target when exhausted */
    OP_JUMP_BACKWARD,   /* a: target; the eval breaker is checked here (py3) */
    OP_SLEEP,           /* a: const index, milli-units: time.sleep(c/1000) releases the GIL */
    OP_BARRIER,         /* wait for every thread here (GIL released): forces a race */
    OP_LOCK_ACQUIRE,    /* mutex.acquire(): releases the GIL while it blocks */
    OP_LOCK_RELEASE,
    OP_LOCK_CONTEND,    /* the first holder of the user lock waits (GIL released) until another
                         * thread is blocked on it: forces a blocked acquire */
    OP_RETURN_VALUE,
    OP_COUNT
};

struct instr { unsigned char op; int a, b; };

#define CODE_MAX 48
struct code {
    const char *name;
    struct instr ins[CODE_MAX];
    int n;
    u128 consts[8];
    int nconsts;
};

/* State the threads share (Python globals, the user's Lock, the forcing barrier). */
struct interp_shared {
    u128 globals[2];
    pthread_mutex_t user_lock;
    unsigned long blocked_acquires;     /* acquires that had to wait (GIL released meanwhile) */
    double lock_hold_units;             /* notes-seconds a party holds user_lock (bounds the wait) */
    bool contended;                     /* guarded by user_lock: a holder has waited at LOCK_CONTEND */
    /* A barrier with a bounded wait (pthread_barrier_wait cannot time out).  Its mutex and
     * condition also carry lock_waiters, for LOCK_CONTEND. */
    pthread_mutex_t bar_mu;
    pthread_cond_t bar_cond;
    int bar_count, bar_parties;
    bool bar_broken;
    int lock_waiters;                   /* guarded by bar_mu: acquires that found user_lock taken */
};

void interp_shared_init(struct interp_shared *sh, int parties);
void interp_shared_destroy(struct interp_shared *sh);

/* res = 0; for i in range(lo, hi): res += i + i**2 + i**3; return res */
void code_cpu_job(struct code *c, unsigned long lo, unsigned long hi);
/* for k in range(rounds): time.sleep(units); res += (the cpu loop over range(chunk)) */
void code_io_job(struct code *c, unsigned long rounds, double units, unsigned long chunk);
/* the money task: [mutex.acquire()] tmp = money; [forcing] time.sleep(units); money = tmp - 1 [release].
 * forced: without the user lock a barrier (everyone has read money: the race), with it
 * LOCK_CONTEND (someone is blocked on the lock: a blocked acquire). */
void code_money(struct code *c, bool user_lock, bool forced, double units);

/* Run code in the calling thread under t's GIL; counts executed bytecodes into *ninstr. */
u128 interp_run(const struct code *c, struct gil_thread *t, struct interp_shared *sh, unsigned long *ninstr);

/* The closed form of sum(i + i**2 + i**3 for i in range(n)): the expected result, exactly. */
u128 l06_cpu_expected(unsigned long n);

/* Decimal text of a 128-bit number (printf has no conversion for it).  buf: at least 40 bytes. */
const char *l06_u128_str(u128 v, char *buf);

#endif
