/* common/sync.h - locks and condition variables set up once, the same way in every lab.
 *
 *     pthread_mutex_t m;
 *     lab_mutex_init(&m, LAB_MUTEX_ERRORCHECK);                      // misuse reported, not UB
 *     lab_mutex_init(&shared->m, LAB_MUTEX_PSHARED | LAB_MUTEX_ROBUST); // in lab_shared_alloc memory
 *     pthread_cond_t c;
 *     lab_cond_init(&c, 0);              // always on CLOCK_MONOTONIC: pass lab_deadline_ms() to
 *                                        // pthread_cond_timedwait; wall-clock jumps do not matter
 *
 * The mutex types (Python's names in brackets):
 *   0                      PTHREAD_MUTEX_NORMAL: relocking it deadlocks, unlocking it from another
 *                          thread is undefined (threading.Lock, which a teaching lab shows once)
 *   LAB_MUTEX_ERRORCHECK   relock → EDEADLK, unlock by a non-owner → EPERM
 *   LAB_MUTEX_RECURSIVE    the owner may lock it again and must unlock as often (threading.RLock)
 * and the attributes, combinable with any type:
 *   LAB_MUTEX_PSHARED      usable by every process that maps it (multiprocessing.Lock)
 *   LAB_MUTEX_ROBUST       when the owner dies, the next locker gets EOWNERDEAD
 *
 * Never copy an initialised mutex or condition variable (POSIX leaves the copy's use undefined):
 * initialise it where it will live, as these functions do through the pointer.
 */
#ifndef COMMON_SYNC_H
#define COMMON_SYNC_H

#include <pthread.h>
#include <time.h>

enum {
    LAB_MUTEX_ERRORCHECK = 1 << 0,
    LAB_MUTEX_RECURSIVE = 1 << 1,
    LAB_MUTEX_PSHARED = 1 << 2,
    LAB_MUTEX_ROBUST = 1 << 3,
};
enum {
    LAB_COND_PSHARED = 1 << 0,
};

/* Initialise *m with the flags above; dies on an error (or on ERRORCHECK|RECURSIVE together). */
void lab_mutex_init(pthread_mutex_t *m, unsigned flags);
/* pthread_mutex_clocklock(m, CLOCK_MONOTONIC, deadline) (deadline from lab_deadline_ms): 0,
 * ETIMEDOUT, EOWNERDEAD (a robust mutex whose owner died: taken) or another error number.
 * ThreadSanitizer and Helgrind do not follow pthread_mutex_clocklock; this tries the lock first
 * (they follow a trylock) and tells them of a clocklock that took it, so the unlock that follows is
 * not reported as the unlock of an unlocked mutex. */
int lab_mutex_clocklock(pthread_mutex_t *m, const struct timespec *deadline);
/* Initialise *c on CLOCK_MONOTONIC (LAB_COND_PSHARED: shared between processes); dies on error. */
void lab_cond_init(pthread_cond_t *c, unsigned flags);

/* The symbolic name of an error number: "EDEADLK", "ETIMEDOUT"...; 0 is "OK"; an unknown one "E?". */
const char *lab_errno_name(int err);

#endif
