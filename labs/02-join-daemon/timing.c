/* labs/02-join-daemon/timing.c - the timing transcripts of the notes, measured.
 *
 * Five small programs from the notes (多线程和多进程, 进程线程理解), run one after the other with
 * their elapsed time:
 *   sorry x5 in a loop (sleep 1 each)       -> 5 units: one after the other
 *   sorry x5, one thread each               -> 1 unit: the five sleeps overlap ("并发")
 *   long_time_task in two processes         -> 2 units (both sleep 2 side by side)
 *   long_time_task in two threads           -> 2 units
 *   run(n) in two threads, a countdown      -> "task t1 / task t2" in either order, then
 *                                              2s 2s 1s 1s 0s 0s: pairs of identical text (a
 *                                              barrier after each line keeps the pairs on a
 *                                              loaded machine), so line 3 on is always the same
 * Sleeping needs no CPU, so the threads (and processes) overlap even on one core.
 *
 * Python (多线程和多进程, 进程线程理解) ↔ C:
 *   threading.Thread(target=sorry).start()  ↔ lab_thread_start(LAB_THREAD(sorry, NULL))
 *   the program waits for its threads       ↔ lab_thread_join_nondaemon() (Python's shutdown rule)
 *   Process(target=long_time_task, args=(1,)) ↔ LAB_PROC_INIT(long_time_task_proc, 1)
 *   8 ** 20                                 ↔ a uint64_t product (1152921504606846976 = 2^60 fits)
 *
 * Usage: lab02 timing
 * What to watch for: 5.0 vs 1.0, 2.0, 2.0; the countdown lines come in identical pairs.
 * See also: join.c, threads.c, Lab 6 (CPU-bound work, where threads do not overlap in Python).
 */
#include "lab.h"
#include "lab02.h"

#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define SAY(fmt, ...) lab_say("%s: " fmt, lab_thread_name(lab_current_thread()), __VA_ARGS__)

/* 8 ** 20, computed (not a constant typed in). */
static unsigned long long pow_u64(unsigned long long b, int e)
{
    unsigned long long r = 1;
    while (e-- > 0)
        r *= b;
    return r;
}

/* ==== sorry ==== */

static void *sorry(void *p)
{
    (void)p;
    SAY("%s", "Sorry");
    lab_sleep(1);
    return NULL;
}

static double sorry_serial(void)
{
    lab_say("%s", "-- for i in range(5): sorry()      (依次打印五个sorry，每个间隔1秒)");
    double start = lab_now_ms();
    for (int i = 0; i < 5; i++)
        sorry(NULL);
    return lab_elapsed_units(start);
}

static double sorry_threads(void)
{
    lab_say("%s", "-- for i in range(5): threading.Thread(target=sorry).start()      (五个Sorry同时打印出来)");
    double start = lab_now_ms();
    for (int i = 0; i < 5; i++)
        lab_thread_start_or_die(LAB_THREAD(sorry, NULL));
    lab_thread_join_nondaemon();   /* the program does not end before its non-daemon threads */
    return lab_elapsed_units(start);
}

/* ==== long_time_task: two processes, two threads ==== */

static int long_time_task_proc(struct lab_proc *self)
{
    lab_say("child %d: 子进程: %d - 任务%d", (int)getpid(), (int)getpid(), (int)(long)self->arg);
    lab_sleep(2);
    lab_say("child %d: 结果: %llu", (int)getpid(), pow_u64(8, 20));
    return 0;
}

static double two_procs(void)
{
    lab_say("%s", "-- p1 = Process(target=long_time_task, args=(1,)); p2 = ...(2,); start both, join both");
    lab_say("main %d: 当前母进程: %d", (int)getpid(), (int)getpid());
    double start = lab_now_ms();
    struct lab_proc p1 = LAB_PROC_INIT(long_time_task_proc, 1), p2 = LAB_PROC_INIT(long_time_task_proc, 2);
    lab_say("main %d: 等待所有子进程完成。", (int)getpid());
    lab_proc_start_or_die(&p1);
    lab_proc_start_or_die(&p2);
    lab_proc_join(&p1);
    lab_proc_join(&p2);
    double units = lab_elapsed_units(start);
    lab_say("main %d: 总共用时%.1f秒", (int)getpid(), units);
    return units;
}

static void *long_time_task_thread(void *p)
{
    SAY("当前子线程: %s 任务%d", lab_thread_name(lab_current_thread()), (int)(long)p);
    lab_sleep(2);
    SAY("结果: %llu", pow_u64(8, 20));
    return NULL;
}

static double two_threads(void)
{
    lab_say("%s", "-- the same with threading.Thread(target=long_time_task, args=(i,)) for i in 1, 2");
    double start = lab_now_ms();
    SAY("这是主线程：%s", lab_thread_name(lab_current_thread()));
    struct lab_thread *t[2];
    for (long i = 1; i <= 2; i++)
        t[i - 1] = lab_thread_new(long_time_task_thread, (void *)i, "long_time_task");
    for (int i = 0; i < 2; i++)
        lab_thread_start_or_die(t[i]);
    for (int i = 0; i < 2; i++)
        lab_thread_join(t[i]);
    double units = lab_elapsed_units(start);
    SAY("总共用时%.1f秒", units);
    return units;
}

/* ==== run(n): the countdown ==== */

/* Every countdown line goes through here, so the lab can check the text afterwards: the line is
 * recorded and printed under one lock, so the record's order is the output's order. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static char run_lines[8][16];   /* guarded by run_lock */
static int run_count;           /* guarded by run_lock */

static void run_say(const char *text)
{
    Pthread_mutex_lock(&run_lock);
    if (run_count < 8)
        snprintf(run_lines[run_count++], sizeof run_lines[0], "%s", text);
    SAY("%s", text);
    Pthread_mutex_unlock(&run_lock);
}

/* In Python the two threads start microseconds apart, so each prints its line of a second before
 * the other prints its next one.  At a fast pace a loaded machine can delay one thread by more
 * than a unit, so the two meet at a barrier after each line: each one's next sleep starts only
 * when both have printed, and the pairs 2s 2s 1s 1s 0s 0s hold on any machine.  The sleeps still
 * overlap (4 units in all, not 8). */
static pthread_barrier_t run_step;

static void *run(void *p)
{
    char task_line[16];
    snprintf(task_line, sizeof task_line, "task %s", (const char *)p);
    run_say(task_line);
    Pthread_barrier_wait(&run_step);
    lab_sleep(1);
    run_say("2s");
    Pthread_barrier_wait(&run_step);
    lab_sleep(1);
    run_say("1s");
    Pthread_barrier_wait(&run_step);
    lab_sleep(1);
    run_say("0s");
    lab_sleep(1);
    return NULL;
}

static double run_n(int *text_ok)
{
    lab_say("%s", "-- t1 = Thread(target=run, args=('t1',)); t2 = ...('t2',); t1.start(); t2.start()");
    run_count = 0;
    Pthread_barrier_init(&run_step, NULL, 2);
    double start = lab_now_ms();
    struct lab_thread *t1 = LAB_THREAD(run, "t1"), *t2 = LAB_THREAD(run, "t2");
    lab_thread_start_or_die(t1);
    lab_thread_start_or_die(t2);
    lab_thread_join(t1);
    lab_thread_join(t2);
    double units = lab_elapsed_units(start);
    Pthread_barrier_destroy(&run_step);
    /* Lines 1-2: "task t1" and "task t2" in either order; lines 3-8 exactly as in the notes. */
    static const char *const want[] = { "2s", "2s", "1s", "1s", "0s", "0s" };
    int ok = run_count == 8
             && ((strcmp(run_lines[0], "task t1") == 0 && strcmp(run_lines[1], "task t2") == 0)
                 || (strcmp(run_lines[0], "task t2") == 0 && strcmp(run_lines[1], "task t1") == 0));
    for (int i = 0; i < 6 && ok; i++)
        ok = strcmp(run_lines[2 + i], want[i]) == 0;
    *text_ok = ok;
    lab_say("the countdown from line 3 on: %s", ok ? "2s 2s 1s 1s 0s 0s, as in the notes" : "different?!");
    return units;
}

int run_timing(int mode)
{
    (void)mode;   /* no modes */
    double serial = sorry_serial();
    lab_say("   %.1f units", serial);
    double threads = sorry_threads();
    lab_say("   %.1f units", threads);
    double procs = two_procs();
    double thr2 = two_threads();
    int text_ok;
    double countdown = run_n(&text_ok);
    lab_result("sorry_serial_units=%.1f sorry_threads_units=%.1f two_procs_units=%.1f "
               "two_threads_units=%.1f run_n_units=%.1f run_n_text_ok=%d",
               l02_round1(serial), l02_round1(threads), l02_round1(procs), l02_round1(thr2), l02_round1(countdown), text_ok);
    /* The sleeps bound every time from below, so those cannot fail; the countdown's text is
     * forced by the barrier in run(), so a different text is a broken promise. */
    return text_ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
