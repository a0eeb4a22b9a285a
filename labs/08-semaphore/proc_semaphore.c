/* labs/08-semaphore/proc_semaphore.c - a semaphore shared by processes: sem_open.
 *
 * Six processes want a resource that only two may use at a time.  A semaphore in a process's own
 * memory cannot do it: fork copies it, so each child gets a private Semaphore(2) and takes a
 * permit from its own copy (--mode=private: all six are inside at once).  A named POSIX semaphore
 * lives in the kernel (/dev/shm/sem.NAME): every process that opens the name gets the same counter
 * (--mode=named: never more than two).  The peak is measured in a MAP_SHARED page that all the
 * children update, and forced: the first entrants wait for each other, so "2" and "6" are reached
 * on every run.  With the named semaphore, the last of those first two to come in also checks that
 * the kernel's counter shows both permits taken, and the parent that both are back at the end.
 * Python ↔ C: multiprocessing.Semaphore(2) ↔ sem_open("/lab08_<pid>_sem", O_CREAT|O_EXCL, 0600, 2);
 *   a threading.Semaphore inherited by a forked child ↔ sem_init(&s, 0, 2) in ordinary memory;
 *   acquire(timeout=...) ↔ sem_clockwait(CLOCK_MONOTONIC) (sem_timedwait only takes CLOCK_REALTIME).
 * Usage: build/lab08 proc_semaphore [--mode=private|named] [--procs=6]
 * Watch for: inside=N on the children's lines; the semaphore's name, and nothing left in /dev/shm
 *   afterwards (also after Ctrl-C: the name is unlinked by the cleanup handler).
 * See also: main.c (the scenario table), semaphore.c (threads), labs/04-ipc-queue (the other IPC
 *   kinds).
 */
#include "lab.h"
#include "lab08.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROC_PERMITS 2

/* One page shared by the parent and every child (lab_shared_alloc: an anonymous MAP_SHARED
 * mapping, inherited by fork).  Its mutex and condition variable are process-shared. */
struct shared_room {
    pthread_mutex_t mu;
    pthread_cond_t first_wave;
    int procs;                                               /* set before fork */
    int inside, peak, entered, wave, wave_in, completed;   /* guarded by mu */
    bool timed_out;                                          /* guarded by mu */
    int wave_sem_value;   /* named: the counter once the first wave met (-1: not seen); guarded by mu */
};

static struct shared_room *shr;
static char sem_name[64];         /* "/lab08_<pid>_sem" */
static sem_t private_sem;         /* --mode=private: each child has its own copy after fork */
static bool named_mode;

static void unlink_sem(void *name) { sem_unlink((const char *)name); }   /* async-signal-safe */

/* What one child does: acquire, be inside for one notes-second, release. */
static int worker(struct lab_proc *self)
{
    (void)self;
    int pid = (int)getpid();
    sem_t *s = &private_sem;
    if (named_mode) {
        /* A named semaphore is found by its name, as an unrelated process would find it. */
        s = sem_open(sem_name, 0);
        if (s == SEM_FAILED) {
            lab_say("child %d: sem_open(%s): %s", pid, sem_name, strerror(errno));
            return LAB_EXIT_BROKEN;
        }
    }
    /* sm.acquire(), bounded: a broken run gives up instead of hanging.  A child may have to wait
     * for every other child's notes-second inside, so the bound grows with LAB_SECOND_MS. */
    struct timespec deadline = lab_deadline_ms(l08_bound_ms(shr->procs));
    int rc;
    while ((rc = sem_clockwait(s, CLOCK_MONOTONIC, &deadline)) == -1 && errno == EINTR)
        ;
    if (rc == -1) {
        lab_say("child %d: sem_clockwait: %s", pid, strerror(errno));
        return LAB_EXIT_BROKEN;
    }

    /* Inside: count, and let the first wave wait for each other (see semaphore.c, room_enter). */
    Pthread_mutex_lock(&shr->mu);
    int n = ++shr->inside;
    if (n > shr->peak)
        shr->peak = n;
    if (shr->entered++ < shr->wave) {
        /* The last of the wave to arrive: all of them are inside and none has left, so with the
         * named semaphore they hold every permit between them, and the kernel's counter says 0. */
        if (++shr->wave_in == shr->wave && named_mode) {
            int v;
            if (sem_getvalue(s, &v) == -1)
                die("sem_getvalue:");
            shr->wave_sem_value = v;
        }
        Pthread_cond_broadcast(&shr->first_wave);
        struct timespec d = lab_deadline_ms(l08_bound_ms(0));
        int w = 0;
        while (shr->wave_in < shr->wave && w == 0)
            w = pthread_cond_timedwait(&shr->first_wave, &shr->mu, &d);
        if (shr->wave_in < shr->wave)
            shr->timed_out = true;
    }
    Pthread_mutex_unlock(&shr->mu);

    lab_say("child %d: got a permit, using the resource (inside=%d)", pid, n);
    lab_sleep(1);

    Pthread_mutex_lock(&shr->mu);
    shr->inside--;
    shr->completed++;
    Pthread_mutex_unlock(&shr->mu);
    Sem_post(s);                                      /* sm.release() */
    if (named_mode && sem_close(s) == -1)
        die("sem_close:");
    return LAB_EXIT_OK;
}

static void shared_room_init(int wave)
{
    shr = lab_shared_alloc(sizeof *shr);   /* zero-filled */
    shr->wave = wave;
    shr->wave_sem_value = -1;
    lab_mutex_init(&shr->mu, LAB_MUTEX_PSHARED);
    lab_cond_init(&shr->first_wave, LAB_COND_PSHARED);
}

static void shared_room_free(void)
{
    Pthread_cond_destroy(&shr->first_wave);
    Pthread_mutex_destroy(&shr->mu);
    lab_shared_free(shr, sizeof *shr);
    shr = NULL;
}

int run_proc_semaphore(int mode)
{
    int procs = (int)lab_opt("procs");
    named_mode = mode == PROC_SEMAPHORE_NAMED;
    int limit = PROC_PERMITS < procs ? PROC_PERMITS : procs;
    /* Named: the first `limit` entrants hold every permit while they wait for each other.
     * Private: each child's own copy admits it, so all of them can meet inside. */
    shared_room_init(named_mode ? limit : procs);
    shr->procs = procs;

    int cleanup_id = -1;
    sem_t *named = NULL;              /* the parent's handle, kept to read the counter at the end */
    if (named_mode) {
        snprintf(sem_name, sizeof sem_name, "/lab08_%d_sem", (int)getpid());
        named = sem_open(sem_name, O_CREAT | O_EXCL, 0600, PROC_PERMITS);
        if (named == SEM_FAILED)
            die("sem_open(%s):", sem_name);
        cleanup_id = lab_cleanup_add(unlink_sem, sem_name);   /* removed at exit and on Ctrl-C; */
                                                               /* the children open it by name */
        lab_say("main %d: sem_open(\"%s\", O_CREAT, 0600, %d): a semaphore in the kernel, /dev/shm/sem.%s",
                (int)getpid(), sem_name, PROC_PERMITS, sem_name + 1);
    } else {
        if (sem_init(&private_sem, 0, PROC_PERMITS) == -1)
            die("sem_init:");
        lab_say("main %d: sem_init(&s, 0, %d) in the parent's memory: fork gives each child its own copy",
                (int)getpid(), PROC_PERMITS);
    }

    struct lab_proc *ps = xcalloc((size_t)procs, sizeof *ps);
    for (int i = 0; i < procs; i++) {
        ps[i] = (struct lab_proc)LAB_PROC_INIT(worker, NULL);
        lab_proc_start_or_die(&ps[i]);
    }
    int failed = 0;
    for (int i = 0; i < procs; i++)
        if (lab_proc_join(&ps[i]) != 0)
            failed++;
    free(ps);

    int peak = shr->peak, completed = shr->completed, wave_value = shr->wave_sem_value;
    bool timed_out = shr->timed_out;
    shared_room_free();
    int final_value = PROC_PERMITS;
    if (named_mode) {
        if (sem_getvalue(named, &final_value) == -1)           /* every permit given back? */
            die("sem_getvalue:");
        if (sem_close(named) == -1)
            die("sem_close:");
        lab_cleanup_run(cleanup_id);                           /* sem_unlink */
        lab_say("main %d: sem_unlink(\"%s\"): the name is gone", (int)getpid(), sem_name);
    } else if (sem_destroy(&private_sem) == -1) {
        die("sem_destroy:");
    }

    int status;
    if (timed_out || failed) {
        lab_say("main %d: %d children failed%s", (int)getpid(), failed, timed_out ? ", a rendezvous timed out" : "");
        status = LAB_EXIT_BROKEN;
    } else if (named_mode) {
        lab_say("main %d: at most %d processes were inside at once (%d permits)", (int)getpid(), peak, PROC_PERMITS);
        status = (peak == limit && completed == procs) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
        /* Shown only when the counter was not the one they all shared. */
        if (wave_value != PROC_PERMITS - limit) {
            lab_say("main %d: %d processes were inside holding a permit each, yet the semaphore had %d left: "
                    "they did not share one counter", (int)getpid(), limit, wave_value);
            status = LAB_EXIT_BROKEN;
        }
        if (final_value != PROC_PERMITS) {
            lab_say("main %d: the semaphore ends with %d permits, not %d", (int)getpid(), final_value, PROC_PERMITS);
            status = LAB_EXIT_BROKEN;
        }
    } else {
        lab_say("main %d: %d processes were inside at once: %d private copies of a Semaphore(%d) limit nobody",
                (int)getpid(), peak, procs, PROC_PERMITS);
        status = completed == procs ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    }
    lab_result("permits=%d procs=%d max_concurrent=%d completed=%d",
               PROC_PERMITS, procs, peak, completed);
    return status;
}
