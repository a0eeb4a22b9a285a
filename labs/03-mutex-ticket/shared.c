/* shared.c - Value/Array in shared memory under a process lock, and the robust mutex.
 *
 * shared_value (the notes' multiprocessing chapter): mp.Value('i', 0) and mp.Array('i', [1, 2, 3]) are memory that
 *   every process sees.  In C that is a MAP_SHARED mapping made before fork: the children
 *   inherit it, so `sh->value += num` in one child is seen by the other (ordinary fork-copied
 *   globals are not, lab 1 money).  The process lock is a pthread mutex with
 *   PTHREAD_PROCESS_SHARED in the same mapping.  job(v, 1) and job(v, 3) each hold the lock for
 *   ten steps, so the values go 1..10 then 13..40 (or 3..30 then 31..40 when p2 wins the lock:
 *   "p1执行完才执行p2" is not guaranteed).
 * robust: the notes' code forgot `import time`, so p1 dies with a NameError while holding the
 *   lock.  multiprocessing.Lock is a semaphore nobody owns: nobody can tell that its holder died,
 *   and p2 (then the main process in join) waits forever.  A plain pthread mutex does the same
 *   (here p2's wait is bounded by pthread_mutex_clocklock, so the demo ends).  A robust mutex
 *   (PTHREAD_MUTEX_ROBUST) is released by the kernel when its owner dies: the next lock returns
 *   EOWNERDEAD, the new owner repairs the data, calls pthread_mutex_consistent() and goes on.
 *
 * Usage: lab03 shared_value | lab03 robust [--mode=plain|robust]
 * What to watch for: final=40 and one of the two sequences; EOWNERDEAD and final=30 (robust).
 * See also: tickets.c (the same process-shared mutex), ../01-processes (isolation).
 */
#include "lab.h"
#include "lab03.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ==== Shared memory with a process-shared mutex ==== */

struct shared {
    pthread_mutex_t lock;   /* l = mp.Lock() */
    int value;              /* v = mp.Value('i', 0), guarded by lock */
    double dvalue;          /* value = mp.Value('d', 1) */
    int array[3];           /* array = mp.Array('i', [1, 2, 3]) */
    int seq[20];            /* every value printed, in order (guarded by lock) */
    int nseq;               /* guarded by lock */
    int dead_owner_seen;    /* robust: p2 got EOWNERDEAD */
};

/* An anonymous MAP_SHARED mapping (zero-filled): shared with the children forked after it, gone
 * with the last process that maps it (nothing to unlink).  The lock in it is process-shared and
 * ERRORCHECK; robust too when asked. */
static struct shared *shared_map(bool robust)
{
    struct shared *sh = lab_shared_alloc(sizeof *sh);
    lab_mutex_init(&sh->lock, LAB_MUTEX_PSHARED | LAB_MUTEX_ERRORCHECK | (robust ? LAB_MUTEX_ROBUST : 0));
    return sh;
}

static void shared_unmap(struct shared *sh)
{
    pthread_mutex_destroy(&sh->lock);   /* may be EBUSY after a dead owner: nothing to do then */
    lab_shared_free(sh, sizeof *sh);
}

/* ==== shared_value ==== */

static struct shared *sv;

/* job(v, num, l) of the notes: l.acquire(); 10 x (sleep(0.1); v.value += num; print); l.release() */
static int sv_job(struct lab_proc *self)
{
    int num = (int)(intptr_t)self->arg;
    Pthread_mutex_lock(&sv->lock);
    for (int i = 0; i < 10; i++) {
        lab_sleep(0.1);
        sv->value += num;
        sv->seq[sv->nseq++] = sv->value;
        lab_say("%s (pid %d, num=%d): v.value = %d", self->name, (int)getpid(), num, sv->value);
    }
    Pthread_mutex_unlock(&sv->lock);
    return LAB_EXIT_OK;
}

/* The two legal orders: p1 (num 1) first or p2 (num 3) first. */
static const char *sv_order(void)
{
    int p1[20], p2[20], v = 0;
    for (int i = 0; i < 20; i++)
        p1[i] = v += (i < 10 ? 1 : 3);
    v = 0;
    for (int i = 0; i < 20; i++)
        p2[i] = v += (i < 10 ? 3 : 1);
    if (sv->nseq == 20 && memcmp(sv->seq, p1, sizeof p1) == 0)
        return "p1first";
    if (sv->nseq == 20 && memcmp(sv->seq, p2, sizeof p2) == 0)
        return "p2first";
    return "interleaved";
}

int run_shared_value(int mode)
{
    (void)mode;                         /* no modes */
    sv = shared_map(false);
    sv->dvalue = 1;
    sv->array[0] = 1, sv->array[1] = 2, sv->array[2] = 3;
    printf("shared memory (mmap MAP_SHARED before fork): Value('d', 1) = %.1f, Array('i', [1, 2, 3]) = [%d, %d, %d], v = Value('i', 0)\n",
           sv->dvalue, sv->array[0], sv->array[1], sv->array[2]);
    struct lab_proc p1 = LAB_PROC_INIT(sv_job, (intptr_t)1), p2 = LAB_PROC_INIT(sv_job, (intptr_t)3);
    lab_proc_start_or_die(&p1);
    lab_proc_start_or_die(&p2);
    int e1 = lab_proc_join(&p1), e2 = lab_proc_join(&p2);
    const char *order = sv_order();
    printf("main: v.value = %d after both joined (%s: the lock kept each job's ten steps together)\n", sv->value, order);
    lab_result("final=%d order=%s array=%d,%d,%d exitcodes=%d,%d", sv->value, order, sv->array[0],
               sv->array[1], sv->array[2], e1, e2);
    int ok = sv->value == 40 && strcmp(order, "interleaved") != 0 && e1 == 0 && e2 == 0;
    shared_unmap(sv);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== robust ==== */

static struct shared *rb;

/* p1: takes the lock, then dies of the notes' NameError before releasing it. */
static int rb_p1(struct lab_proc *self)
{
    Pthread_mutex_lock(&rb->lock);
    lab_say("%s (pid %d): l.acquire() ok, then time.sleep(0.1) -> NameError: name 'time' is not defined; dies holding the lock",
            self->name, (int)getpid());
    return 1;   /* exitcode 1, as Python after an uncaught NameError: _exit(1) without unlocking */
}

/* p2: wants the same lock, and waits for it 1 unit at most, in both modes: a plain mutex whose
 * owner died is never released (Python's hang forever), a robust one returns EOWNERDEAD at once. */
static int rb_p2(struct lab_proc *self)
{
    struct timespec deadline = lab_deadline_ms(lab_units_ms(1.0));
    int rc = lab_mutex_clocklock(&rb->lock, &deadline);
    if (rc == ETIMEDOUT) {
        lab_say("%s (pid %d): still waiting for the lock after 1 s: its owner is dead and nobody will release it (Python hangs here forever; we stop waiting)",
                self->name, (int)getpid());
        return LAB_EXIT_WATCHDOG;
    }
    if (rc == EOWNERDEAD) {
        rb->dead_owner_seen = 1;
        lab_say("%s (pid %d): pthread_mutex_lock -> EOWNERDEAD: the owner died holding it; I own it now, repair the data, mark it consistent",
                self->name, (int)getpid());
        rb->value = 0;                                  /* repair: p1 added nothing, start from 0 */
        PT_CHECK(pthread_mutex_consistent(&rb->lock));
    } else if (rc != 0) {
        die_en(rc, "pthread_mutex_clocklock");
    }
    for (int i = 0; i < 10; i++) {
        lab_sleep(0.1);
        rb->value += 3;
    }
    lab_say("%s (pid %d): ten steps of v.value += 3 -> %d", self->name, (int)getpid(), rb->value);
    Pthread_mutex_unlock(&rb->lock);
    return LAB_EXIT_OK;
}

int run_robust(int mode)
{
    bool robust = mode == ROBUST_ROBUST;
    rb = shared_map(robust);
    printf("%s mutex in shared memory; p1 is started and dies holding it, then p2 asks for it\n",
           robust ? "a robust (PTHREAD_MUTEX_ROBUST) process-shared" : "a plain process-shared");
    struct lab_proc p1 = LAB_PROC_INIT(rb_p1, NULL), p2 = LAB_PROC_INIT(rb_p2, NULL);
    lab_proc_start_or_die(&p1);
    int e1 = lab_proc_join(&p1);                        /* p1 is gone before p2 starts */
    lab_proc_start_or_die(&p2);
    int e2 = lab_proc_join(&p2);
    int timed_out = e2 == LAB_EXIT_WATCHDOG;
    printf("main: p1 exitcode %d, p2 exitcode %d, v.value = %d%s\n", e1, e2, rb->value,
           timed_out ? " (p2 gave up: without the bound this would never end)" : "");
    lab_result("owner_died_detected=%d timed_out=%d final=%d", rb->dead_owner_seen, timed_out,
               rb->value);
    int ok = robust ? rb->dead_owner_seen && e2 == 0 && rb->value == 30 : timed_out && !rb->dead_owner_seen;
    shared_unmap(rb);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
