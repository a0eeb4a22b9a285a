/* money.c - 100 threads do tmp = money; sleep(0.1); money = tmp - 1 (线程互斥锁, the notes' threads chapter).
 *
 * Without a lock every thread reads money = 100 before any of them writes it back, so all 100
 * write 99: money ends at 99, not 0.  The sleep sits inside the read-modify-write window, and a
 * barrier after it makes sure every read comes before every write, so this happens on every run,
 * on one CPU as on many.  With the lock the window is a critical section: the threads pass it one
 * at a time, money ends at 0, and the run takes at least 100 sleeps (concurrency turned into
 * serial execution: 将并发变成串行，牺牲效率但是保证数据安全).
 *
 * Python ↔ C: mutex = Lock() ↔ pthread_mutex_t; mutex.acquire()/release() ↔ lock/unlock;
 * time.sleep(0.1) ↔ lab_sleep(0.1).  The unlocked money is read and written with relaxed atomic
 * loads and stores: defined behaviour in C, and still the lost updates of the notes.
 * Usage: lab03 money [--mode=nolock|lock] [--threads=N]   (N = 100; LAB_SECOND_MS scales the sleep)
 * What to watch for: nolock final=99 with every read seeing 100; lock final=0 and
 * elapsed_units >= threads * 0.1.
 * See also: counter.c (the same lost update without a sleep).
 */
#include "lab.h"
#include "lab03.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define MONEY_INITIAL 100

static atomic_int money;                    /* nolock: relaxed loads and stores only */
static int money_locked;                    /* lock: guarded by money_mutex */
static pthread_mutex_t money_mutex;
static pthread_barrier_t money_start;       /* every thread is running before any touches money */
static pthread_barrier_t money_all_read;    /* nolock: every thread has read before any writes */
static atomic_int money_saw_initial;        /* how many threads read MONEY_INITIAL */
static bool money_use_lock;

/* The task of the notes, one per thread. */
static void *task(void *arg)
{
    (void)arg;
    Pthread_barrier_wait(&money_start);                /* all of them want money at the same moment */
    if (money_use_lock) {
        lab_trace_begin("lock", "wait money_mutex");
        /* SOLUTION BEGIN(money-lock): mutex.acquire(): take money_mutex before reading money */
        Pthread_mutex_lock(&money_mutex);              /* mutex.acquire() */
        /* SOLUTION END */
        lab_trace_end();
        lab_trace_begin("lock", "hold money_mutex");
        int tmp = money_locked;                        /* tmp = money */
        lab_trace_instant("money", "read %d", tmp);
        if (tmp == MONEY_INITIAL)
            atomic_fetch_add(&money_saw_initial, 1);
        lab_sleep(0.1);                                /* time.sleep(0.1) */
        money_locked = tmp - 1;                        /* money = tmp - 1 */
        lab_trace_instant("money", "write %d", tmp - 1);
        lab_trace_end();
        /* SOLUTION BEGIN(money-lock): mutex.release(): give money_mutex back after writing money */
        Pthread_mutex_unlock(&money_mutex);            /* mutex.release() */
        /* SOLUTION END */
    } else {
        int tmp = atomic_load_explicit(&money, memory_order_relaxed);
        lab_trace_instant("money", "read %d", tmp);
        if (tmp == MONEY_INITIAL)
            atomic_fetch_add(&money_saw_initial, 1);
        lab_sleep(0.1);
        Pthread_barrier_wait(&money_all_read);         /* forcing: nobody writes before all have read */
        atomic_store_explicit(&money, tmp - 1, memory_order_relaxed);
        lab_trace_instant("money", "write %d", tmp - 1);
    }
    return NULL;
}

int run_money(int mode)
{
    const int n = (int)lab_opt("threads");
    money_use_lock = mode == MONEY_LOCK;
    atomic_store(&money, MONEY_INITIAL);
    money_locked = MONEY_INITIAL;
    atomic_store(&money_saw_initial, 0);
    /* ERRORCHECK: a relock or an unlock by a non-owner fails loudly instead of hanging. */
    lab_mutex_init(&money_mutex, LAB_MUTEX_ERRORCHECK);
    Pthread_barrier_init(&money_start, NULL, (unsigned)n);
    if (!money_use_lock)
        Pthread_barrier_init(&money_all_read, NULL, (unsigned)n);

    printf("money = %d; %d threads each do: %stmp = money; sleep(0.1); money = tmp - 1%s\n", MONEY_INITIAL, n,
           money_use_lock ? "lock; " : "", money_use_lock ? "; unlock" : "");
    struct lab_thread **t = xcalloc((size_t)n, sizeof *t);
    double t0 = lab_now_ms();
    for (int i = 0; i < n; i++) {
        t[i] = lab_thread_new(task, NULL, "task");
        lab_thread_set_stack_size(t[i], LAB03_STACK_BYTES);
        lab_thread_start_or_die(t[i]);
    }
    for (int i = 0; i < n; i++)
        lab_thread_join(t[i]);
    double units = lab_elapsed_units(t0);
    printf("%s .. %s joined\n", lab_thread_name(t[0]), lab_thread_name(t[n - 1]));
    free(t);

    int final = money_use_lock ? money_locked : atomic_load(&money);
    int expected = MONEY_INITIAL - n;
    int saw = atomic_load(&money_saw_initial);
    printf("%d of %d threads read money = %d%s\n", saw, n, MONEY_INITIAL,
           money_use_lock ? " (only the first: each later one read its predecessor's write)"
                          : " (all of them, before anyone wrote: each wrote 99)");
    printf("print(money) -> %d (expected %d), %.1f units for %d sleeps of 0.1%s\n", final, expected, units, n,
           money_use_lock ? ": serial" : ": all at once");
    lab_result("threads=%d initial=%d expected=%d final=%d lost=%d saw_initial=%d elapsed_units=%.1f",
               n, MONEY_INITIAL, expected, final, final - expected, saw, units);
    if (!money_use_lock)
        Pthread_barrier_destroy(&money_all_read);
    Pthread_barrier_destroy(&money_start);
    Pthread_mutex_destroy(&money_mutex);
    if (money_use_lock)
        return final == expected ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return LAB_EXIT_OK;         /* nolock: the lost updates are the lesson */
}
