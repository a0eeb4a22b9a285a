/* labs/08-semaphore/proc_semaphore.c - a semaphore shared by processes: sem_open.
 *
 * Six processes want a resource that only two may use at a time.  A semaphore in a process's own
 * memory cannot do it: fork copies it, so each child gets a private Semaphore(2) and takes a
 * permit from its own copy (--mode=private: all six are inside at once).  A named POSIX semaphore
 * lives in the kernel (/dev/shm/sem.NAME): every process that opens the name gets the same counter
 * (--mode=named: never more than two).  The peak is measured in a MAP_SHARED page that all the
 * children update, and forced: the first entrants wait for each other, so "2" and "6" are reached
 * on every run.
 * Python ↔ C: multiprocessing.Semaphore(2) ↔ sem_open("/lab08_<pid>_sem", O_CREAT|O_EXCL, 0600, 2);
 *   a threading.Semaphore inherited by a forked child ↔ sem_init(&s, 0, 2) in ordinary memory;
 *   acquire(timeout=...) ↔ sem_clockwait(CLOCK_MONOTONIC) (sem_timedwait only takes CLOCK_REALTIME).
 * Usage: build/lab08 proc_semaphore [--mode=private|named] [--procs=6]
 * Watch for: inside=N on the children's lines; the semaphore's name, and nothing left in /dev/shm
 *   afterwards (also after Ctrl-C: the name is unlinked by the cleanup handler).
 * See also: semaphore.c (threads), labs/04-ipc-queue (the other IPC kinds).
 */
#include "lab.h"
#include "lab08.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROC_PERMITS 2

/* One page shared by the parent and every child (MAP_SHARED | MAP_ANONYMOUS, inherited by fork).
 * Its mutex and condition variable are PTHREAD_PROCESS_SHARED. */
struct shared_room {
    pthread_mutex_t mu;
    pthread_cond_t first_wave;
    int procs;                                               /* set before fork */
    int inside, peak, entered, wave, wave_in, completed;   /* guarded by mu */
    bool timed_out;                                          /* guarded by mu */
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
            return 1;
        }
    }
    /* sm.acquire(), bounded: a broken run gives up instead of hanging.  A child may have to wait
     * for every other child's notes-second inside, so the bound grows with LAB_SECOND_MS. */
    struct timespec deadline = lab_deadline_ms(L08_BOUND_MS + (double)shr->procs * (double)lab_second_ms());
    int rc;
    while ((rc = sem_clockwait(s, CLOCK_MONOTONIC, &deadline)) == -1 && errno == EINTR)
        ;
    if (rc == -1) {
        lab_say("child %d: sem_clockwait: %s", pid, strerror(errno));
        return 1;
    }

    /* Inside: count, and let the first wave wait for each other (see semaphore.c, room_enter). */
    Pthread_mutex_lock(&shr->mu);
    int n = ++shr->inside;
    if (n > shr->peak)
        shr->peak = n;
    if (shr->entered++ < shr->wave) {
        shr->wave_in++;
        Pthread_cond_broadcast(&shr->first_wave);
        struct timespec d = lab_deadline_ms(L08_BOUND_MS);
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
    return 0;
}

static void shared_room_init(int wave)
{
    shr = mmap(NULL, sizeof *shr, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shr == MAP_FAILED)
        die("mmap:");
    memset(shr, 0, sizeof *shr);
    shr->wave = wave;
    pthread_mutexattr_t ma;
    PT_CHECK(pthread_mutexattr_init(&ma));
    PT_CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
    Pthread_mutex_init(&shr->mu, &ma);
    PT_CHECK(pthread_mutexattr_destroy(&ma));
    pthread_condattr_t ca;
    PT_CHECK(pthread_condattr_init(&ca));
    PT_CHECK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
    PT_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    Pthread_cond_init(&shr->first_wave, &ca);
    PT_CHECK(pthread_condattr_destroy(&ca));
}

static void shared_room_free(void)
{
    Pthread_cond_destroy(&shr->first_wave);
    Pthread_mutex_destroy(&shr->mu);
    if (munmap(shr, sizeof *shr) == -1)
        die("munmap:");
    shr = NULL;
}

int l08_proc_semaphore(int mode_index)
{
    (void)mode_index;
    const char *mode = lab_mode_name();
    int procs = (int)lab_opt("procs");
    named_mode = strcmp(mode, "named") == 0;
    int limit = PROC_PERMITS < procs ? PROC_PERMITS : procs;
    /* Named: the first `limit` entrants hold every permit while they wait for each other.
     * Private: each child's own copy admits it, so all of them can meet inside. */
    shared_room_init(named_mode ? limit : procs);
    shr->procs = procs;

    int cleanup_id = -1;
    if (named_mode) {
        snprintf(sem_name, sizeof sem_name, "/lab08_%d_sem", (int)getpid());
        sem_t *s = sem_open(sem_name, O_CREAT | O_EXCL, 0600, PROC_PERMITS);
        if (s == SEM_FAILED)
            die("sem_open(%s):", sem_name);
        cleanup_id = lab_cleanup_add(unlink_sem, sem_name);   /* removed at exit and on Ctrl-C */
        if (sem_close(s) == -1)                                /* the children open it by name */
            die("sem_close:");
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

    int peak = shr->peak, completed = shr->completed;
    bool timed_out = shr->timed_out;
    shared_room_free();
    if (named_mode) {
        lab_cleanup_run(cleanup_id);                           /* sem_unlink */
        lab_say("main %d: sem_unlink(\"%s\"): the name is gone", (int)getpid(), sem_name);
    } else if (sem_destroy(&private_sem) == -1) {
        die("sem_destroy:");
    }

    int status = 0;
    if (timed_out || failed) {
        lab_say("main %d: %d children failed%s", (int)getpid(), failed, timed_out ? ", a rendezvous timed out" : "");
        status = 1;
    } else if (named_mode) {
        lab_say("main %d: at most %d processes were inside at once (%d permits)", (int)getpid(), peak, PROC_PERMITS);
        status = (peak == limit && completed == procs) ? 0 : 1;
    } else {
        lab_say("main %d: %d processes were inside at once: %d private copies of a Semaphore(%d) limit nobody",
                (int)getpid(), peak, procs, PROC_PERMITS);
        status = completed == procs ? 0 : 1;
    }
    lab_result("permits=%d procs=%d max_concurrent=%d completed=%d",
               PROC_PERMITS, procs, peak, completed);
    return status;
}
