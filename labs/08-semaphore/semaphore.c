/* labs/08-semaphore/semaphore.c - threading.Semaphore in C: N permits, BoundedSemaphore, and
 * why a semaphore is not a mutex.
 *
 * A semaphore is a counter of permits: acquire (sem_wait) takes one or blocks while there is none,
 * release (sem_post) gives one back.  The notes' picture: a mutex is one toilet, a semaphore is a
 * room with several (如果把互斥锁比喻成一个厕所 那么信号量相当于多个厕所).  The scenarios:
 *   semaphore           20 paratroopers (伞兵), 5 permits.  --mode=nosem: no semaphore, all 20
 *                       are inside at once; --mode=sem: never more than 5, and exactly 5 is reached;
 *   bounded             one release too many: Semaphore counts it (now 2 threads fit in a
 *                       "Semaphore(1)"), BoundedSemaphore refuses it (ValueError in Python);
 *   proc_semaphore      processes need a semaphore they all see (proc_semaphore.c);
 *   mutex_vs_semaphore  a semaphore has no owner: another thread may release it (like Python's
 *                       Lock); an error-checking mutex refuses an unlock by a non-owner (EPERM).
 * Python ↔ C: sm = Semaphore(5) ↔ sem_init(&sm, 0, 5); sm.acquire() ↔ sem_wait; sm.release() ↔
 *   sem_post; BoundedSemaphore(1) ↔ struct l08_bsem (sem_t + max + a release lock).
 * Usage: build/lab08 semaphore [--mode=nosem|sem] [--permits=5] [--threads=20] | bounded |
 *        proc_semaphore [--mode=private|named] [--procs=6] | mutex_vs_semaphore
 * Watch for: inside=N on each 正在忙 line never above the permits with the semaphore; the value 2
 *   of a Semaphore(1) after the extra release; "Operation not permitted" from the mutex.
 * See also: main.c (the scenario table), proc_semaphore.c (the process version),
 *   labs/07-deadlock-rlock (lock ownership).
 */
#include "lab.h"
#include "lab08.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The value of a semaphore now (0 when threads wait on it: Linux never reports a negative count). */
static int sem_value(sem_t *s)
{
    int v;
    if (sem_getvalue(s, &v) == -1)
        die("sem_getvalue:");
    return v;
}

/* ==== semaphore: Semaphore(5) and 20 threads (the notes' semaphore example) ==== */

/* The room the paratroopers enter.  The counters measure what the semaphore lets happen. */
struct room {
    pthread_mutex_t mu;
    pthread_cond_t first_wave;   /* the first `wave` entrants wait here for each other */
    int inside;                  /* threads between acquire and release; guarded by mu */
    int peak;                    /* the most ever inside at once; guarded by mu */
    int entered;                 /* how many have entered so far; guarded by mu */
    int wave;                    /* size of the forced first wave */
    int wave_in;                 /* first-wave threads inside; guarded by mu */
    int completed;               /* guarded by mu */
    bool timed_out;              /* a rendezvous gave up (only in a broken run); guarded by mu */
    int wave_sem_value;          /* the semaphore's value once the first wave met (-1: not seen) */
    bool use_sem;
    int permits;
    sem_t sm;                    /* sm = Semaphore(permits) */
    struct lab_timeline *tl;     /* who waited and who held a permit, drawn after the run */
};

/* The timeline's states: a thread waits for a permit, then is inside (holds one). */
enum { TL_WAITS, TL_INSIDE };
static const struct lab_tl_state tl_states[] = {
    [TL_WAITS] = { '.', LAB_RED, "waits for a permit" },
    [TL_INSIDE] = { '#', LAB_GREEN, "inside the room" },
    { 0 },
};

static struct room room;

/* Force the peak: the first `wave` threads to get in wait for each other before they start their
 * work, so that the room really holds `wave` threads at one moment on every run, on one CPU or
 * sixteen.  With the semaphore wave = permits: those threads hold every permit, so nobody else can
 * get in while they wait (no deadlock), and the peak is exactly the permits.  Without it wave =
 * threads: everybody gets in, which only works because nothing stops them.  Bounded. */
static void room_enter(const char *me, int i)
{
    Pthread_mutex_lock(&room.mu);
    int n = ++room.inside;
    if (n > room.peak)
        room.peak = n;
    /* Marked under the lock, with the count: every '#' of the first wave is drawn before the wave
     * is complete, so before anyone can leave (room_leave marks the end under the same lock).  The
     * timeline's peak row is then forced like the count: a thread slow to run after the rendezvous
     * cannot start its '#' after another one's ended. */
    if (room.tl)
        lab_timeline_mark(room.tl, (size_t)i, TL_INSIDE);
    /* Printed under the room's lock, before the wave waits: the lines come in the order the
     * count changed, so inside=1..5 are shown before the first inside=5 repeats. */
    printf("%s: 伞兵%d号 正在忙 (inside=%d)\n", me, i, n);
    if (room.entered++ < room.wave) {
        /* The last of the wave to arrive: every one of them is inside now, none has left, so with
         * the semaphore they hold `wave` permits between them and the value must show it. */
        if (++room.wave_in == room.wave && room.use_sem)
            room.wave_sem_value = sem_value(&room.sm);
        Pthread_cond_broadcast(&room.first_wave);
        struct timespec deadline = lab_deadline_ms(l08_bound_ms(0));
        int rc = 0;
        while (room.wave_in < room.wave && rc == 0)
            rc = pthread_cond_timedwait(&room.first_wave, &room.mu, &deadline);
        if (room.wave_in < room.wave)
            room.timed_out = true;
    }
    Pthread_mutex_unlock(&room.mu);
}

static void room_leave(int i)
{
    Pthread_mutex_lock(&room.mu);
    /* The end of the '#', marked with the count (and, with the semaphore, before the release, so
     * the thread it lets in is drawn after it: the picture never shows more than the permits). */
    if (room.tl)
        lab_timeline_mark(room.tl, (size_t)i, LAB_TL_OFF);
    room.inside--;
    room.completed++;
    Pthread_mutex_unlock(&room.mu);
}

/* def task(name): sm.acquire(); print("%s 正在忙" % name); time.sleep(random.randint(1,5)); sm.release() */
static void *task(void *arg)
{
    int i = (int)(intptr_t)arg;
    const char *me = lab_thread_name(lab_current_thread());
    if (room.tl) {
        lab_timeline_row(room.tl, (size_t)i, me);
        lab_timeline_mark(room.tl, (size_t)i, TL_WAITS);
    }
    lab_trace_begin("sem", "wait for a permit");
    /* SOLUTION BEGIN(sem): sm.acquire(): when room.use_sem, take a permit of room.sm */
    if (room.use_sem)
        Sem_wait(&room.sm);                      /* sm.acquire() */
    /* SOLUTION END */
    lab_trace_end();
    /* --trace: the "inside" slice opens before room_enter and closes after room_leave (before the
     * permit goes back), so the first wave's slices are all open at the rendezvous, on every run,
     * and no slice is open while its permit is someone else's. */
    lab_trace_begin("sem", "inside: holds a permit");
    room_enter(me, i);                          /* prints "伞兵i号 正在忙 (inside=n)" */
    lab_sleep((double)lab_randint(1, 5));       /* time.sleep(random.randint(1,5)) */
    room_leave(i);                              /* ends the '#' */
    lab_trace_end();
    /* SOLUTION BEGIN(sem): sm.release(): when room.use_sem, give the permit back */
    if (room.use_sem)
        Sem_post(&room.sm);                      /* sm.release() */
    /* SOLUTION END */
    return NULL;
}

int run_semaphore(int mode)
{
    int permits = (int)lab_opt("permits"), threads = (int)lab_opt("threads");
    bool use_sem = mode == SEMAPHORE_SEM;

    memset(&room, 0, sizeof room);
    lab_mutex_init(&room.mu, 0);
    lab_cond_init(&room.first_wave, 0);
    room.use_sem = use_sem;
    room.permits = permits;
    room.wave_sem_value = -1;
    room.wave = use_sem ? (permits < threads ? permits : threads) : threads;
    if (use_sem && sem_init(&room.sm, 0, (unsigned)permits) == -1)   /* sm = Semaphore(5) */
        die("sem_init:");

    if (use_sem)
        printf("MainThread: sm = Semaphore(%d): %d permits (坑位) for %d threads\n", permits, permits, threads);
    else
        printf("MainThread: no semaphore: %d threads, a room meant for %d\n", threads, permits);

    /* The picture: one row per thread (up to 24 rows, so it fits a screen). */
    room.tl = threads <= 24 ? lab_timeline_new((size_t)threads, (size_t)threads * 3) : NULL;
    double t0 = lab_now_ms();
    struct lab_thread **ts = xcalloc((size_t)threads, sizeof *ts);
    for (int i = 0; i < threads; i++) {
        ts[i] = lab_thread_new(task, (void *)(intptr_t)i, "task");   /* Thread(target=task, args=('伞兵%s号' % i,)) */
        lab_thread_start_or_die(ts[i]);
    }
    for (int i = 0; i < threads; i++)
        lab_thread_join(ts[i]);
    free(ts);
    double units = lab_elapsed_units(t0);
    if (room.tl) {   /* the peak row shows the semaphore's limit (or its absence) */
        lab_timeline_draw(room.tl, tl_states, TL_INSIDE);
        lab_timeline_free(room.tl);
        room.tl = NULL;
    }

    int peak = room.peak, completed = room.completed;
    bool timed_out = room.timed_out;
    /* Every acquire was matched by one release: the permits are all back. */
    int final_value = use_sem ? sem_value(&room.sm) : permits;
    if (use_sem && sem_destroy(&room.sm) == -1)
        die("sem_destroy:");
    Pthread_cond_destroy(&room.first_wave);
    Pthread_mutex_destroy(&room.mu);

    int status;
    int want = permits < threads ? permits : threads;
    if (timed_out) {
        printf("MainThread: the first wave never filled up in %.0f ms: something is wrong\n", l08_bound_ms(0));
        status = LAB_EXIT_BROKEN;
    } else if (use_sem) {
        printf("MainThread: at most %d were inside at once (the semaphore allows %d), %d of %d done in %.1f units\n",
               peak, permits, completed, threads, units);
        status = (peak == want && completed == threads) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
        /* Shown only when the semaphore did not count: its permits must be held, then given back. */
        if (room.wave_sem_value != permits - want) {
            printf("MainThread: %d threads were inside holding a permit each, yet the semaphore still had %d: "
                   "it did not count them\n", want, room.wave_sem_value);
            status = LAB_EXIT_BROKEN;
        }
        if (final_value != permits) {
            printf("MainThread: the semaphore ends with %d permits, not %d: acquire and release do not match\n",
                   final_value, permits);
            status = LAB_EXIT_BROKEN;
        }
    } else {
        printf("MainThread: %d were inside at once in a room for %d: nothing limited them\n", peak, permits);
        status = completed == threads ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    }
    lab_result("permits=%d threads=%d max_concurrent=%d completed=%d",
               permits, threads, peak, completed);
    return status;
}

/* ==== bounded: Semaphore vs BoundedSemaphore (not in the notes: Python's threading has both) ==== */

/* BoundedSemaphore(value): a sem_t that refuses to go above its initial value.
 * sem_post only fails at SEM_VALUE_MAX, so the bound is ours to check.  Checking sem_getvalue and
 * then posting is a check-then-act race between two releasers (both read 0 with max 1, both post:
 * value 2), so releases are serialised by release_lock.  Acquirers need not take it: they only make
 * the value smaller, which cannot push a checked release over the bound.  CPython does the same
 * (BoundedSemaphore.release checks _value under the Condition's lock). */
struct l08_bsem {
    sem_t sem;
    int max;
    pthread_mutex_t release_lock;
};

static void bsem_init(struct l08_bsem *b, int value)
{
    if (sem_init(&b->sem, 0, (unsigned)value) == -1)
        die("sem_init:");
    b->max = value;
    lab_mutex_init(&b->release_lock, 0);
}

static void bsem_destroy(struct l08_bsem *b)
{
    Pthread_mutex_destroy(&b->release_lock);
    if (sem_destroy(&b->sem) == -1)
        die("sem_destroy:");
}

/* 0, or EOVERFLOW ("Semaphore released too many times") when the value is already at max. */
static int bsem_release(struct l08_bsem *b)
{
    int v, rc = 0;
    Pthread_mutex_lock(&b->release_lock);
    if (sem_getvalue(&b->sem, &v) == -1)
        die("sem_getvalue:");
    if (v >= b->max)
        rc = EOVERFLOW;
    else
        Sem_post(&b->sem);
    Pthread_mutex_unlock(&b->release_lock);
    return rc;
}

/* How many sem_trywait calls succeed in a row: how many threads the semaphore would let in now.
 * The permits taken are given back afterwards. */
static int admits(sem_t *s)
{
    int n = 0;
    while (n < 10 && sem_trywait(s) == 0)
        n++;
    if (n < 10 && errno != EAGAIN)
        die("sem_trywait:");
    for (int i = 0; i < n; i++)
        Sem_post(s);
    return n;
}

int run_bounded(int mode)
{
    (void)mode;   /* no modes */
    /* s = Semaphore(1); s.acquire(); s.release(); s.release()  # one too many */
    sem_t plain;
    if (sem_init(&plain, 0, 1) == -1)
        die("sem_init:");
    Sem_wait(&plain);
    Sem_post(&plain);
    int rc = sem_post(&plain);                 /* the extra release: sem_post just counts it */
    int plain_value = sem_value(&plain);
    int plain_admits = admits(&plain);
    printf("MainThread: Semaphore(1): acquire, release, release again -> %s, value now %d\n",
           rc == 0 ? "allowed" : strerror(errno), plain_value);
    printf("MainThread: Semaphore(1) now lets %d threads in at once: the extra release made a permit out of nothing\n",
           plain_admits);
    if (sem_destroy(&plain) == -1)
        die("sem_destroy:");

    /* b = BoundedSemaphore(1); b.acquire(); b.release(); b.release()  # ValueError */
    struct l08_bsem b;
    bsem_init(&b, 1);
    Sem_wait(&b.sem);
    int first = bsem_release(&b);
    int extra = bsem_release(&b);
    int bounded_value = sem_value(&b.sem);
    int bounded_admits = admits(&b.sem);
    if (extra == EOVERFLOW)
        printf("MainThread: BoundedSemaphore(1): extra release -> "
               "ValueError: Semaphore released too many times\n"
               "MainThread: the extra release is refused: the value stays %d\n", bounded_value);
    else
        printf("MainThread: BoundedSemaphore(1): the extra release was NOT refused (value %d)\n", bounded_value);
    printf("MainThread: BoundedSemaphore(1) lets %d thread in at once\n", bounded_admits);
    bsem_destroy(&b);

    bool ok = rc == 0 && plain_value == 2 && first == 0 && extra == EOVERFLOW && bounded_value == 1
              && bounded_admits == 1;
    lab_result("plain_over_release=%s plain_value=%d plain_admits=%d bounded_over_release=%s "
               "bounded_value=%d bounded_admits=%d",
               rc == 0 ? "allowed" : "rejected", plain_value, plain_admits,
               extra == EOVERFLOW ? "rejected" : "allowed", bounded_value, bounded_admits);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== mutex_vs_semaphore: who may release? (a Python Lock has no owner, a pthread mutex has) ==== */

static sem_t binary;                 /* Semaphore(1): the C stand-in for Python's Lock */
static pthread_mutex_t owned;        /* PTHREAD_MUTEX_ERRORCHECK: knows its owner */
static int sem_post_rc, unlock_rc;   /* written by the helper thread, read after join */

/* Another thread gives back a permit that MainThread took. */
static void *sem_releaser(void *arg)
{
    (void)arg;
    sem_post_rc = sem_post(&binary) == 0 ? 0 : errno;
    printf("%s: sem_post on the semaphore MainThread acquired -> %s\n",
           lab_thread_name(lab_current_thread()), sem_post_rc == 0 ? "ok (a semaphore has no owner)" : strerror(sem_post_rc));
    return NULL;
}

/* Another thread tries to unlock the mutex that MainThread locked. */
static void *mutex_unlocker(void *arg)
{
    (void)arg;
    unlock_rc = pthread_mutex_unlock(&owned);
    printf("%s: unlock of the mutex MainThread holds -> %s (%s)\n",
           lab_thread_name(lab_current_thread()), unlock_rc == 0 ? "0" : lab_errno_name(unlock_rc),
           unlock_rc == 0 ? "it let us!" : strerror(unlock_rc));
    return NULL;
}

int run_mutex_vs_semaphore(int mode)
{
    (void)mode;   /* no modes */
    /* lock = Lock(); lock.acquire(); Thread(target=lock.release).start()  # allowed in Python */
    if (sem_init(&binary, 0, 1) == -1)
        die("sem_init:");
    Sem_wait(&binary);
    printf("MainThread: acquired the binary semaphore (value %d)\n", sem_value(&binary));
    struct lab_thread *t = LAB_THREAD(sem_releaser, NULL);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    int value = sem_value(&binary);
    bool reacquired = sem_trywait(&binary) == 0;   /* it really is free again */
    printf("MainThread: value is %d again, and MainThread can take it: %s\n", value, reacquired ? "yes" : "no");
    if (sem_destroy(&binary) == -1)
        die("sem_destroy:");

    /* The same with a mutex that checks ownership. */
    lab_mutex_init(&owned, LAB_MUTEX_ERRORCHECK);
    Pthread_mutex_lock(&owned);
    printf("MainThread: locked the error-checking mutex (owner: MainThread)\n");
    t = LAB_THREAD(mutex_unlocker, NULL);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    int owner_rc = pthread_mutex_unlock(&owned);
    printf("MainThread: pthread_mutex_unlock by the owner -> %s\n", owner_rc == 0 ? "ok" : strerror(owner_rc));
    Pthread_mutex_destroy(&owned);

    bool ok = sem_post_rc == 0 && value == 1 && reacquired && unlock_rc == EPERM && owner_rc == 0;
    lab_result("sem_release_by_other=%s sem_value=%d mutex_unlock_by_other=%s mutex_unlock_by_owner=%s",
               sem_post_rc == 0 ? "allowed" : "error", value,
               unlock_rc == 0 ? "allowed" : lab_errno_name(unlock_rc), owner_rc == 0 ? "ok" : "error");
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
