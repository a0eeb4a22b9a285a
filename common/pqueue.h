/* common/pqueue.h - a process queue: multiprocessing.Queue (and JoinableQueue) in shared memory.
 *
 * A bounded queue of variable-length messages that works between any processes of the lab:
 * create it before fork() and every child (and grandchild) shares it, parent<->child as well as
 * child<->child.  It lives in one MAP_SHARED|MAP_ANONYMOUS mapping: a header with a
 * process-shared, robust mutex and process-shared condition variables on CLOCK_MONOTONIC, then a
 * ring of bytes holding the messages (an 8-byte length, the payload, padding to 8 bytes).
 *
 *     struct lab_pqueue *q = lab_pq_create(5, 0);     // Queue(5), 64 KiB of ring
 *     lab_pq_put_str(q, "111", -1);                   // q.put('111')        (blocks when full)
 *     lab_pq_get_str(q, buf, sizeof buf, 3000);       // q.get(timeout=3)    (ETIMEDOUT = Empty)
 *     lab_pq_get_str(q, buf, sizeof buf, 0);          // q.get_nowait()      (EAGAIN = Empty)
 *     lab_pq_destroy(q);                              // after the children are reaped
 *
 * Python's Queue is a pipe + a feeder thread + locks, so full()/empty()/qsize() are approximate
 * (empty() is True right after a put).  Here every call takes the mutex and reads the
 * exact state: qsize() is the number of messages in the queue at that instant.
 * A put waits for two things: fewer than maxsize messages, and room in the ring for the message.
 * full() answers the first (Python's qsize() >= maxsize); a message that could never fit in the
 * ring is refused at once with EMSGSIZE.
 * Fast path: an uncontended put/get is a lock, a memcpy and an unlock, no system call; the
 * condition variables are signalled only when someone is waiting.
 * Robustness: if a process dies holding the mutex (killed by a signal), the next locker gets
 * EOWNERDEAD, marks the mutex consistent and goes on (the indices are updated after the copy, so
 * the queue itself is intact).
 */
#ifndef COMMON_PQUEUE_H
#define COMMON_PQUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct lab_pqueue;

/* maxsize: max number of items (>= 1); bytes: ring capacity for the payloads (0 = 64 KiB).
 * NULL and errno on failure (EINVAL for maxsize 0, ENOMEM, mmap's errno). */
struct lab_pqueue *lab_pq_create(size_t maxsize, size_t bytes);
/* munmap; call once in the creator after the children are reaped (NULL is ignored). */
void lab_pq_destroy(struct lab_pqueue *q);

/* timeout_ms < 0: block forever; 0: don't block (put_nowait/get_nowait); > 0: bound.
 * Returns 0, EAGAIN ("Full"/"Empty" without blocking: timeout 0), ETIMEDOUT (timed out),
 * EMSGSIZE (message bigger than the queue can ever hold). */
int lab_pq_put(struct lab_pqueue *q, const void *msg, size_t len, double timeout_ms);
/* Copies at most cap bytes into buf, *len = the message's length (EMSGSIZE if cap is too small:
 * the message stays in the queue and *len says how big a buffer it needs). */
int lab_pq_get(struct lab_pqueue *q, void *buf, size_t cap, size_t *len, double timeout_ms);
/* String convenience: put strlen+1 bytes; get into a char buffer, NUL-terminated on success
 * (EMSGSIZE, message left queued, when the string and its NUL do not fit in cap). */
int lab_pq_put_str(struct lab_pqueue *q, const char *s, double timeout_ms);
int lab_pq_get_str(struct lab_pqueue *q, char *buf, size_t cap, double timeout_ms);

size_t lab_pq_qsize(struct lab_pqueue *q);   /* exact, unlike Python's */
bool lab_pq_empty(struct lab_pqueue *q);
bool lab_pq_full(struct lab_pqueue *q);      /* qsize() >= maxsize */
size_t lab_pq_maxsize(const struct lab_pqueue *q);
/* The biggest message a put can ever accept (ring bytes minus the 8-byte length header). */
size_t lab_pq_max_message(const struct lab_pqueue *q);

/* JoinableQueue: every put adds an unfinished task; task_done removes one (EINVAL, Python's
 * "task_done() called too many times", when none is left); join waits until none are left
 * (timeout_ms as above) and returns 0, or ETIMEDOUT when tasks remain at the deadline (also for
 * timeout 0, a poll). */
int lab_pq_task_done(struct lab_pqueue *q);
int lab_pq_join(struct lab_pqueue *q, double timeout_ms);

#endif
