/* threads.c - the notes' small thread-lock examples: lockflag, lockapi, jobs, shared_list.
 *
 * lockflag (the notes' threading chapter): five subclassed threads each do mutexFlag =
 *   mutex.acquire(), print the flag, num += 1, sleep(1), print "set num to", release.  Both
 *   prints are inside the lock, so each thread's pair of lines is never split by another thread's.
 * lockapi (the notes' summary of Lock): what acquire/release mean in C.  Python's Lock is a token
 *   (锁其实不是锁住谁,而是一个令牌): acquire(False) on a held lock returns False, a second acquire
 *   in the same thread hangs forever, and any thread may release it.  A pthread mutex is *owned*:
 *   with PTHREAD_MUTEX_ERRORCHECK the relock fails with EDEADLK and an unlock by another thread
 *   with EPERM.  The exact Python semantics need a binary semaphore (sem_t at 1).
 * jobs (the notes' threading chapter): job1 adds 1 and job2 adds 10 to A, ten times each, under
 *   one lock: the output is two whole blocks of ten lines, and A = 110.  Which job goes first is
 *   not fixed.
 * shared_list (the notes' summary, the outline's "线程不安全变量,list"): ten threads append to one
 *   array.  CPython's list.append is atomic under the GIL; a C array append (read len, store
 *   item, len+1) is not.  nolock forces the race (every thread reads len before anyone appends):
 *   9 items lost.
 *
 * Usage: lab03 lockflag | lockapi | jobs | shared_list [--mode=nolock|lock]
 * What to watch for: adjacent pairs (lockflag), EDEADLK/EPERM vs the semaphore (lockapi), two
 * blocks (jobs), len=1 vs len=10 (shared_list).
 * See also: money.c, counter.c.
 */
#include "lab.h"
#include "lab03.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* ==== lockflag ==== */

#define LOCKFLAG_THREADS 5

static pthread_mutex_t lockflag_mutex;
static int lockflag_num;                                 /* guarded by lockflag_mutex */
static int lockflag_log[2 * LOCKFLAG_THREADS];           /* guarded: thread number of each line */
static int lockflag_logged;                              /* guarded */
static int lockflag_set_ok;                              /* guarded: i-th "set num" showed i */

/* MyThread.run() of the notes (a subclass: the thread is named Thread-N, no target). */
static void *lockflag_thread(void *arg)
{
    (void)arg;
    struct lab_thread *me = lab_current_thread();
    bool flag = pthread_mutex_lock(&lockflag_mutex) == 0;   /* mutexFlag = mutex.acquire() */
    printf("线程%s的锁状态为%s\n", lab_thread_name(me), flag ? "True" : "False");
    if (flag) {
        lockflag_log[lockflag_logged++] = lab_thread_number(me);
        lockflag_num += 1;
        lab_sleep(1);                                       /* time.sleep(1), holding the lock */
        printf("%s set num to %d\n", lab_thread_name(me), lockflag_num);
        lockflag_log[lockflag_logged++] = lab_thread_number(me);
        if (lockflag_num == lockflag_logged / 2)
            lockflag_set_ok++;
        Pthread_mutex_unlock(&lockflag_mutex);              /* mutex.release() */
    }
    return NULL;
}

int run_lockflag(int mode)
{
    (void)mode;                     /* no modes */
    lab_mutex_init(&lockflag_mutex, LAB_MUTEX_ERRORCHECK);   /* misuse fails, never hangs */
    lockflag_num = lockflag_logged = lockflag_set_ok = 0;
    struct lab_thread *t[LOCKFLAG_THREADS];
    for (int i = 0; i < LOCKFLAG_THREADS; i++) {
        t[i] = lab_thread_new(lockflag_thread, NULL, NULL);
        lab_thread_start_or_die(t[i]);
    }
    for (int i = 0; i < LOCKFLAG_THREADS; i++)
        lab_thread_join(t[i]);
    /* Each thread's two lines must be next to each other: log[2k] == log[2k+1]. */
    int adjacent = lockflag_logged == 2 * LOCKFLAG_THREADS;
    char order[128] = "";
    size_t len = 0;
    for (int k = 0; k < lockflag_logged / 2; k++) {
        if (lockflag_log[2 * k] != lockflag_log[2 * k + 1])
            adjacent = 0;
        len += (size_t)snprintf(order + len, sizeof order - len, "%sThread-%d", k ? "," : "", lockflag_log[2 * k]);
    }
    printf("num = %d; each thread's two lines were printed inside the lock, so they stay together\n", lockflag_num);
    lab_result("threads=%d final=%d pairs_adjacent=%d set_in_order=%d order=%s", LOCKFLAG_THREADS,
               lockflag_num, adjacent, lockflag_set_ok == LOCKFLAG_THREADS, order);
    Pthread_mutex_destroy(&lockflag_mutex);
    return lockflag_num == LOCKFLAG_THREADS && adjacent && lockflag_set_ok == LOCKFLAG_THREADS ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== lockapi ==== */

static pthread_mutex_t api_mutex;
static sem_t api_sem;
static int api_try_rc, api_unlock_rc;

/* Another thread tries the held mutex, then tries to release it (Python: allowed). */
static void *api_other(void *arg)
{
    (void)arg;
    api_try_rc = pthread_mutex_trylock(&api_mutex);     /* lock.acquire(False) */
    api_unlock_rc = pthread_mutex_unlock(&api_mutex);   /* lock.release() from a non-owner */
    return NULL;
}

/* Another thread releases the binary semaphore that the main thread took. */
static void *api_sem_releaser(void *arg)
{
    (void)arg;
    Sem_post(&api_sem);
    return NULL;
}

int run_lockapi(int mode)
{
    (void)mode;                     /* no modes */
    lab_mutex_init(&api_mutex, LAB_MUTEX_ERRORCHECK);   /* relock: EDEADLK, foreign unlock: EPERM */
    int rc = pthread_mutex_lock(&api_mutex);
    printf("MainThread: lock.acquire() -> %s (pthread_mutex_lock returned %d)\n", rc == 0 ? "True" : "False", rc);
    int acquired = rc == 0;

    struct lab_thread *t = lab_thread_new(api_other, NULL, "other");
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    printf("%s: lock.acquire(False) on the held lock -> %s (trylock: %s)\n", lab_thread_name(t),
           api_try_rc == 0 ? "True" : "False", lab_errno_name(api_try_rc));
    printf("%s: lock.release() by a thread that does not hold it -> %s (Python allows it; a pthread mutex is owned)\n",
           lab_thread_name(t), lab_errno_name(api_unlock_rc));

    int relock = pthread_mutex_lock(&api_mutex);        /* Python: this thread now hangs forever */
    printf("MainThread: acquire() again while holding it -> %s (Python: hangs forever; ERRORCHECK reports it)\n",
           lab_errno_name(relock));
    Pthread_mutex_unlock(&api_mutex);
    Pthread_mutex_destroy(&api_mutex);

    /* Python's Lock exactly: a binary semaphore has no owner. */
    SYS_CHECK(sem_init(&api_sem, 0, 1));
    Sem_wait(&api_sem);
    t = lab_thread_new(api_sem_releaser, NULL, "releaser");
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    int sem_free = sem_trywait(&api_sem) == 0;          /* free again: the other thread released it */
    printf("binary semaphore: MainThread sem_wait, %s sem_post -> released: %s (this is Python's Lock)\n",
           lab_thread_name(t), sem_free ? "yes" : "no");
    SYS_CHECK(sem_destroy(&api_sem));

    lab_result("acquire=%d try_held=%d relock=%s foreign_unlock=%s sem_foreign_release=%d", acquired,
               api_try_rc == 0, lab_errno_name(relock), lab_errno_name(api_unlock_rc), sem_free);
    return acquired && api_try_rc == EBUSY && relock == EDEADLK && api_unlock_rc == EPERM && sem_free ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== jobs ==== */

static pthread_mutex_t jobs_lock;
static int jobs_A;                          /* guarded by jobs_lock */
static int jobs_log[20];                    /* guarded: 1 or 2, which job printed each line */
static int jobs_logged;                     /* guarded */
static pthread_barrier_t jobs_start;        /* both jobs want the lock at the same moment */

static void job(int which, int step)
{
    Pthread_barrier_wait(&jobs_start);
    Pthread_mutex_lock(&jobs_lock);         /* lock.acquire() */
    for (int i = 0; i < 10; i++) {
        jobs_A += step;
        printf("job%d %d\n", which, jobs_A);
        jobs_log[jobs_logged++] = which;
    }
    Pthread_mutex_unlock(&jobs_lock);       /* lock.release() */
}

static void *job1(void *arg) { (void)arg; job(1, 1); return NULL; }
static void *job2(void *arg) { (void)arg; job(2, 10); return NULL; }

int run_jobs(int mode)
{
    (void)mode;                     /* no modes */
    lab_mutex_init(&jobs_lock, LAB_MUTEX_ERRORCHECK);
    jobs_A = jobs_logged = 0;
    Pthread_barrier_init(&jobs_start, NULL, 2);
    struct lab_thread *t1 = LAB_THREAD(job1, NULL), *t2 = LAB_THREAD(job2, NULL);
    lab_thread_start_or_die(t1);
    lab_thread_start_or_die(t2);
    lab_thread_join(t1);
    lab_thread_join(t2);
    int blocks = jobs_logged > 0;
    for (int i = 1; i < jobs_logged; i++)
        if (jobs_log[i] != jobs_log[i - 1])
            blocks++;
    printf("A = %d: the lock made each job's ten lines one block\n", jobs_A);
    lab_result("final=%d blocks=%d first=job%d", jobs_A, blocks, jobs_log[0]);
    Pthread_mutex_destroy(&jobs_lock);
    Pthread_barrier_destroy(&jobs_start);
    return jobs_A == 110 && blocks == 2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== shared_list ==== */

#define LIST_THREADS 10

/* nolock: a fixed array (reserved, so the race loses items instead of corrupting the heap
 * through two concurrent reallocs); relaxed atomics keep each access defined. */
static atomic_int race_items[LIST_THREADS];
static atomic_size_t race_len;
static pthread_barrier_t race_all_read;
static pthread_barrier_t list_start;        /* all ten threads are running before any appends */
/* lock: a growing array, the C version of list.append. */
static pthread_mutex_t list_lock;
static int *list_items;                     /* guarded by list_lock */
static size_t list_len, list_cap;           /* guarded by list_lock */

static void *list_append_nolock(void *arg)
{
    int me = lab_thread_number(lab_current_thread());
    (void)arg;
    Pthread_barrier_wait(&list_start);
    size_t n = atomic_load_explicit(&race_len, memory_order_relaxed);   /* read len */
    Pthread_barrier_wait(&race_all_read);                                /* forcing: all have read len */
    atomic_store_explicit(&race_items[n], me, memory_order_relaxed);     /* items[len] = x */
    atomic_store_explicit(&race_len, n + 1, memory_order_relaxed);       /* len = len + 1 */
    return NULL;
}

static void *list_append_lock(void *arg)
{
    int me = lab_thread_number(lab_current_thread());
    (void)arg;
    Pthread_barrier_wait(&list_start);      /* all ten want the lock at the same moment */
    Pthread_mutex_lock(&list_lock);
    if (list_len == list_cap) {             /* grow: realloc may move the array */
        list_cap = list_cap ? 2 * list_cap : 1;
        int *p = realloc(list_items, list_cap * sizeof *p);
        if (p == NULL)
            die("realloc:");
        list_items = p;
    }
    list_items[list_len++] = me;
    Pthread_mutex_unlock(&list_lock);
    return NULL;
}

int run_shared_list(int mode)
{
    bool locked = mode == SHARED_LIST_LOCK;
    struct lab_thread *t[LIST_THREADS];
    atomic_store(&race_len, 0);
    list_items = NULL;
    list_len = list_cap = 0;
    lab_mutex_init(&list_lock, LAB_MUTEX_ERRORCHECK);
    Pthread_barrier_init(&race_all_read, NULL, LIST_THREADS);
    Pthread_barrier_init(&list_start, NULL, LIST_THREADS);
    printf("%d threads each append their number to one shared array%s\n", LIST_THREADS,
           locked ? " under a mutex" : ": n = len; items[n] = x; len = n + 1, no lock");
    for (int i = 0; i < LIST_THREADS; i++) {
        t[i] = lab_thread_new(locked ? list_append_lock : list_append_nolock, NULL, "append");
        lab_thread_start_or_die(t[i]);
    }
    for (int i = 0; i < LIST_THREADS; i++)
        lab_thread_join(t[i]);
    size_t len = locked ? list_len : atomic_load(&race_len);
    char items[256] = "";
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        k += (size_t)snprintf(items + k, sizeof items - k, "%s%d", i ? "," : "",
                              locked ? list_items[i] : atomic_load(&race_items[i]));
    printf("len(list) = %zu, items: [%s]%s\n", len, items,
           locked ? "" : " (every thread read len = 0 and wrote slot 0)");
    printf("the notes' Python always gets %d: under the GIL list.append is one atomic step\n", LIST_THREADS);
    printf("%s\n", len == LIST_THREADS ? "this C array gets it too, under its mutex"
                                        : "this C append is three steps, and nothing kept the threads apart");
    lab_result("threads=%d len=%zu lost=%zu", LIST_THREADS, len, LIST_THREADS - len);
    free(list_items);
    list_items = NULL;
    Pthread_barrier_destroy(&race_all_read);
    Pthread_barrier_destroy(&list_start);
    Pthread_mutex_destroy(&list_lock);
    if (locked)
        return len == LIST_THREADS ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return LAB_EXIT_OK;                     /* nolock: the lost items are the lesson */
}
