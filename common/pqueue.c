/* common/pqueue.c - the process queue in shared memory; see pqueue.h.
 *
 * Layout of the one mapping (created before fork, so every process of the lab sees it):
 *
 *     [ struct lab_pqueue: mutex, 3 condvars, sizes, counters ][ ring: cap bytes ]
 *
 * A message in the ring is a record: an 8-byte length, then the payload, padded to a multiple
 * of 8.  cap is a multiple of 8 and every record is too, so a record's length header never
 * straddles the end of the ring; only the payload may wrap, and is then copied in two pieces.
 * head is where the oldest record starts, tail where the next one goes, used the bytes in use.
 */
#include "pqueue.h"
#include "clock.h"
#include "die.h"
#include "sync.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define PQ_HDR        8u                  /* the length word in front of each payload */
#define PQ_ALIGN(n)   (((n) + 7u) & ~(size_t)7u)
#define PQ_DEFAULT_BYTES (64u * 1024u)

struct lab_pqueue {
    pthread_mutex_t lock;           /* process-shared, robust */
    pthread_cond_t not_empty;       /* a getter waits here; signalled by put */
    pthread_cond_t not_full;        /* a putter waits here; signalled by get */
    pthread_cond_t all_done;        /* join waits here; broadcast when unfinished drops to 0 */
    size_t maxsize;                 /* items; fixed at create */
    size_t cap;                     /* ring bytes, a multiple of 8; fixed at create */
    size_t map_len;                 /* for munmap */
    /* guarded by lock: */
    size_t count;                   /* messages in the queue (qsize) */
    size_t used;                    /* ring bytes in use */
    size_t head, tail;              /* ring offsets, multiples of 8 */
    size_t unfinished;              /* JoinableQueue: puts not yet matched by task_done */
    unsigned get_waiters, put_waiters, join_waiters;   /* who sleeps on which condvar */
    uint64_t puts, gets;            /* numbers of the messages, for the --trace arrows (FIFO: the */
                                    /* k-th get takes the k-th put) */
    _Alignas(64) unsigned char ring[];
};

/* The id of the --trace arrow from the k-th put to the k-th get (trace.h): the queue's address is
 * the same in every process that shares it (mapped before fork). */
static uint64_t pq_flow_id(const struct lab_pqueue *q, uint64_t k) { return ((uint64_t)(uintptr_t)q << 16) ^ k; }

/* ==== Locking ==== */

/* Take the mutex.  A robust mutex whose owner died returns EOWNERDEAD: the indices are only
 * updated after a record is completely copied, so the queue is consistent; say so and go on. */
static void pq_lock(struct lab_pqueue *q)
{
    int rc = pthread_mutex_lock(&q->lock);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&q->lock);
    if (rc != 0)
        die_en(rc, "lab_pqueue: pthread_mutex_lock");
}

static void pq_unlock(struct lab_pqueue *q) { Pthread_mutex_unlock(&q->lock); }

/* Sleep on cond (caller holds q->lock), counting itself in *waiters so that the other side only
 * pays for a signal when someone sleeps.  deadline NULL: no bound.  Returns 0 (woken, or a slice
 * ended: the caller re-checks its condition in a loop, as after any spurious wake-up) or
 * ETIMEDOUT (the deadline has passed).
 *
 * The wait is cut into slices of PQ_SLICE_MS: glibc before 2.41 can lose a pthread_cond_signal
 * when several threads wait on one condition variable (sourceware bug 25847, in Debian 12's
 * glibc 2.36), and a waiter that slept on with a message in the queue would hang forever.  With
 * slices a lost signal costs at most one slice; every caller loops on its condition anyway. */
#define PQ_SLICE_MS 50.0

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int pq_wait(struct lab_pqueue *q, pthread_cond_t *cond, unsigned *waiters,
                   const struct timespec *deadline)
{
    struct timespec slice = lab_deadline_ms(PQ_SLICE_MS);
    bool last = deadline && !ts_before(&slice, deadline);
    (*waiters)++;
    int rc = pthread_cond_timedwait(cond, &q->lock, last ? deadline : &slice);
    (*waiters)--;
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&q->lock);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "lab_pqueue: pthread_cond_timedwait");
    if (rc == ETIMEDOUT && !last)
        rc = 0;   /* only a slice ended: look again */
    return rc;
}

/* ==== Create / destroy ==== */

struct lab_pqueue *lab_pq_create(size_t maxsize, size_t bytes)
{
    if (maxsize == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (bytes == 0)
        bytes = PQ_DEFAULT_BYTES;
    if (bytes > SIZE_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    size_t cap = PQ_ALIGN(bytes);
    size_t len = sizeof(struct lab_pqueue) + cap;
    struct lab_pqueue *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        return NULL;        /* errno from mmap */
    /* The mapping is zero-filled: only the synchronisation objects need initialising. */
    q->maxsize = maxsize;
    q->cap = cap;
    q->map_len = len;

    lab_mutex_init(&q->lock, LAB_MUTEX_PSHARED | LAB_MUTEX_ROBUST);
    /* Timeouts on the monotonic clock: setting the wall clock does not stretch get(timeout=3). */
    lab_cond_init(&q->not_empty, LAB_COND_PSHARED);
    lab_cond_init(&q->not_full, LAB_COND_PSHARED);
    lab_cond_init(&q->all_done, LAB_COND_PSHARED);
    return q;
}

void lab_pq_destroy(struct lab_pqueue *q)
{
    if (q == NULL)
        return;
    /* No pthread_*_destroy: other processes may still have the mapping (a daemon child that was
     * just killed); the objects vanish with the last mapping. */
    munmap(q, q->map_len);
}

/* ==== The ring ==== */

/* Copy n bytes into the ring at offset off, wrapping at cap.  Caller holds q->lock. */
static void ring_write(struct lab_pqueue *q, size_t off, const void *src, size_t n)
{
    size_t first = q->cap - off < n ? q->cap - off : n;
    memcpy(q->ring + off, src, first);
    if (n > first)
        memcpy(q->ring, (const unsigned char *)src + first, n - first);
}

/* Copy n bytes out of the ring from offset off, wrapping at cap.  Caller holds q->lock. */
static void ring_read(const struct lab_pqueue *q, size_t off, void *dst, size_t n)
{
    size_t first = q->cap - off < n ? q->cap - off : n;
    memcpy(dst, q->ring + off, first);
    if (n > first)
        memcpy((unsigned char *)dst + first, q->ring, n - first);
}

/* Absolute deadline for a positive timeout, NULL for "block forever". */
static const struct timespec *pq_deadline(double timeout_ms, struct timespec *ts)
{
    if (timeout_ms < 0)
        return NULL;
    *ts = lab_deadline_ms(timeout_ms);
    return ts;
}

/* ==== put / get ==== */

int lab_pq_put(struct lab_pqueue *q, const void *msg, size_t len, double timeout_ms)
{
    if (len > q->cap - PQ_HDR)          /* could never fit, however long we wait */
        return EMSGSIZE;
    size_t need = PQ_HDR + PQ_ALIGN(len);
    struct timespec ts;
    const struct timespec *deadline = NULL;
    bool deadline_set = false;

    pq_lock(q);
    while (q->count >= q->maxsize || q->cap - q->used < need) {
        if (timeout_ms == 0) {                       /* put_nowait: queue.Full */
            pq_unlock(q);
            return EAGAIN;
        }
        if (!deadline_set) {                         /* computed once: spurious wake-ups don't extend it */
            deadline = pq_deadline(timeout_ms, &ts);
            deadline_set = true;
        }
        if (pq_wait(q, &q->not_full, &q->put_waiters, deadline) == ETIMEDOUT
            && (q->count >= q->maxsize || q->cap - q->used < need)) {
            pq_unlock(q);
            return ETIMEDOUT;
        }
    }
    uint64_t hdr = len;
    memcpy(q->ring + q->tail, &hdr, PQ_HDR);         /* never wraps: tail and cap are multiples of 8 */
    ring_write(q, (q->tail + PQ_HDR) % q->cap, msg, len);
    q->tail = (q->tail + need) % q->cap;
    q->used += need;
    q->count++;
    q->unfinished++;
    uint64_t k = q->puts++;
    if (q->get_waiters)                              /* one new message: one getter */
        Pthread_cond_signal(&q->not_empty);
    lab_trace_flow_out("queue", pq_flow_id(q, k), "put #%llu", (unsigned long long)k);   /* before any get */
    pq_unlock(q);
    return 0;
}

/* get, and for get_str (as_str) room for a terminating NUL unless the message ends in one. */
static int pq_get(struct lab_pqueue *q, void *buf, size_t cap, size_t *len, double timeout_ms, bool as_str)
{
    struct timespec ts;
    const struct timespec *deadline = NULL;
    bool deadline_set = false;

    pq_lock(q);
    while (q->count == 0) {
        if (timeout_ms == 0) {                       /* get_nowait: queue.Empty */
            pq_unlock(q);
            return EAGAIN;
        }
        if (!deadline_set) {
            deadline = pq_deadline(timeout_ms, &ts);
            deadline_set = true;
        }
        if (pq_wait(q, &q->not_empty, &q->get_waiters, deadline) == ETIMEDOUT && q->count == 0) {
            pq_unlock(q);
            return ETIMEDOUT;
        }
    }
    uint64_t hdr;
    memcpy(&hdr, q->ring + q->head, PQ_HDR);
    size_t n = (size_t)hdr;
    if (len)
        *len = n;
    size_t room = n;
    if (as_str && (n == 0 || q->ring[(q->head + PQ_HDR + n - 1) % q->cap] != '\0'))
        room = n + 1;                                /* get_str adds the NUL itself */
    if (room > cap) {
        /* Leave it for a caller with a big enough buffer, and wake another getter for it. */
        if (q->get_waiters)
            Pthread_cond_signal(&q->not_empty);
        pq_unlock(q);
        return EMSGSIZE;
    }
    ring_read(q, (q->head + PQ_HDR) % q->cap, buf, n);
    size_t rec = PQ_HDR + PQ_ALIGN(n);
    q->head = (q->head + rec) % q->cap;
    q->used -= rec;
    q->count--;
    uint64_t k = q->gets++;
    /* Room freed: a putter may fit now.  Putters wait for different amounts of room, so when
     * several sleep, wake them all: a signal could pick one whose message still does not fit
     * and leave asleep one whose message does. */
    if (q->put_waiters == 1)
        Pthread_cond_signal(&q->not_full);
    else if (q->put_waiters > 1)
        Pthread_cond_broadcast(&q->not_full);
    if (q->get_waiters && q->count > 0)              /* more left and another getter sleeps */
        Pthread_cond_signal(&q->not_empty);
    pq_unlock(q);
    lab_trace_flow_in("queue", pq_flow_id(q, k), "get #%llu", (unsigned long long)k);
    return 0;
}

int lab_pq_get(struct lab_pqueue *q, void *buf, size_t cap, size_t *len, double timeout_ms)
{
    return pq_get(q, buf, cap, len, timeout_ms, false);
}

int lab_pq_put_str(struct lab_pqueue *q, const char *s, double timeout_ms)
{
    return lab_pq_put(q, s, strlen(s) + 1, timeout_ms);
}

int lab_pq_get_str(struct lab_pqueue *q, char *buf, size_t cap, double timeout_ms)
{
    size_t n = 0;
    int rc = pq_get(q, buf, cap, &n, timeout_ms, true);
    if (rc == 0 && (n == 0 || buf[n - 1] != '\0'))
        buf[n] = '\0';          /* pq_get made sure there is room for it */
    return rc;
}

/* ==== Exact state ==== */

size_t lab_pq_qsize(struct lab_pqueue *q)
{
    pq_lock(q);
    size_t n = q->count;
    pq_unlock(q);
    return n;
}

bool lab_pq_empty(struct lab_pqueue *q) { return lab_pq_qsize(q) == 0; }
bool lab_pq_full(struct lab_pqueue *q) { return lab_pq_qsize(q) >= q->maxsize; }
size_t lab_pq_maxsize(const struct lab_pqueue *q) { return q->maxsize; }
size_t lab_pq_max_message(const struct lab_pqueue *q) { return q->cap - PQ_HDR; }

/* ==== JoinableQueue ==== */

int lab_pq_task_done(struct lab_pqueue *q)
{
    pq_lock(q);
    if (q->unfinished == 0) {                        /* ValueError: task_done() called too many times */
        pq_unlock(q);
        return EINVAL;
    }
    if (--q->unfinished == 0 && q->join_waiters)
        Pthread_cond_broadcast(&q->all_done);        /* every joiner goes on */
    pq_unlock(q);
    return 0;
}

int lab_pq_join(struct lab_pqueue *q, double timeout_ms)
{
    struct timespec ts;
    const struct timespec *deadline = NULL;
    bool deadline_set = false;
    int rc = 0;

    pq_lock(q);
    while (q->unfinished > 0) {
        if (timeout_ms == 0) {
            rc = ETIMEDOUT;
            break;
        }
        if (!deadline_set) {
            deadline = pq_deadline(timeout_ms, &ts);
            deadline_set = true;
        }
        if (pq_wait(q, &q->all_done, &q->join_waiters, deadline) == ETIMEDOUT && q->unfinished > 0) {
            rc = ETIMEDOUT;
            break;
        }
    }
    pq_unlock(q);
    return rc;
}
