/* common/die.h - report a failed call and stop (TLPI's errExit/errExitEN split).
 *
 * Calls that set errno fail with die("what:"): a message ending in ':' gets
 * strerror(errno) appended.  pthread calls *return* their error number, so
 * they use die_en(rc, "what"), which appends strerror(rc).  Both flush stdout
 * first so the error line lands after what the program already printed, and
 * both exit with status 1 (in a forked child: _exit, so the parent's atexit
 * handlers and stdio buffers are not run twice).
 *
 * The Capitalised wrappers below (OSTEP's names) always run the call, even
 * with -DNDEBUG, and name the caller's file and line:
 *     labs/03-mutex-ticket/money.c:41: pthread_mutex_unlock(&m): Operation not permitted
 */
#ifndef COMMON_DIE_H
#define COMMON_DIE_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void die_en(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* Print "labNN: message" on stderr (same ':' rule as die) and go on. */
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that cannot fail silently. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

/* Run a pthread-style call (returns 0 or an error number); die with file:line on error. */
#define PT_CHECK(call)                                                          \
    do {                                                                        \
        int rc_ = (call);                                                       \
        if (rc_ != 0)                                                           \
            die_en(rc_, "%s:%d: %s", __FILE__, __LINE__, #call);                \
    } while (0)

/* Run an errno-style call (returns -1 on error); die with file:line on error. */
#define SYS_CHECK(call)                                                         \
    do {                                                                        \
        if ((call) == -1)                                                       \
            die("%s:%d: %s:", __FILE__, __LINE__, #call);                       \
    } while (0)

#define Pthread_create(t, a, f, x)   PT_CHECK(pthread_create((t), (a), (f), (x)))
#define Pthread_join(t, r)           PT_CHECK(pthread_join((t), (r)))
#define Pthread_mutex_init(m, a)     PT_CHECK(pthread_mutex_init((m), (a)))
#define Pthread_mutex_destroy(m)     PT_CHECK(pthread_mutex_destroy(m))
#define Pthread_mutex_lock(m)        PT_CHECK(pthread_mutex_lock(m))
#define Pthread_mutex_unlock(m)      PT_CHECK(pthread_mutex_unlock(m))
#define Pthread_cond_init(c, a)      PT_CHECK(pthread_cond_init((c), (a)))
#define Pthread_cond_destroy(c)      PT_CHECK(pthread_cond_destroy(c))
#define Pthread_cond_wait(c, m)      PT_CHECK(pthread_cond_wait((c), (m)))
#define Pthread_cond_signal(c)       PT_CHECK(pthread_cond_signal(c))
#define Pthread_cond_broadcast(c)    PT_CHECK(pthread_cond_broadcast(c))
#define Pthread_barrier_init(b, a, n) PT_CHECK(pthread_barrier_init((b), (a), (n)))
#define Pthread_barrier_destroy(b)   PT_CHECK(pthread_barrier_destroy(b))
/* pthread_barrier_wait returns PTHREAD_BARRIER_SERIAL_THREAD to one waiter. */
#define Pthread_barrier_wait(b)                                                 \
    do {                                                                        \
        int rcb_ = pthread_barrier_wait(b);                                     \
        if (rcb_ != 0 && rcb_ != PTHREAD_BARRIER_SERIAL_THREAD)                 \
            die_en(rcb_, "%s:%d: pthread_barrier_wait(%s)", __FILE__, __LINE__, #b); \
    } while (0)
/* Semaphores set errno; sem_wait is restarted after a signal handler. */
#define Sem_post(s)                  SYS_CHECK(sem_post(s))
#define Sem_wait(s)                                                             \
    do {                                                                        \
        while (sem_wait(s) == -1)                                               \
            if (errno != EINTR)                                                 \
                die("%s:%d: sem_wait(%s):", __FILE__, __LINE__, #s);            \
    } while (0)

#endif
