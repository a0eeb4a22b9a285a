/* labs/02-join-daemon/threads.c - Thread.join() and daemon threads (Python's exit rule in C).
 *
 * `thread_join`: T1 prints "T1 start", sleeps 10 x 1 unit, prints "T1 finished"; the main thread
 * blocks in t.join() (pthread_join), so "all done" comes last.
 * `daemon_thread`: in C, returning from main() kills every thread and pthread_exit() in main waits
 * for every thread; Python does neither: at the end of the main code it joins the *non-daemon*
 * threads and then ends the process, wherever the daemon threads are.  The thread
 * registry has the daemon flag and lab_thread_exit_main() does exactly that.  Each example runs
 * in its own child process, whose exit is real: the daemon thread is cut off mid-sleep.
 *
 * Python (the notes' join() of threads and 守护线程) ↔ C:
 *   Thread(target=thread_job, name='T1')  ↔ LAB_THREAD(thread_job, ...) + lab_thread_set_name
 *   t.join()                              ↔ lab_thread_join (pthread_join)
 *   t.daemon = True (before start)        ↔ lab_thread_set_daemon(t, true)
 *     after start: RuntimeError           ↔ EINVAL ("cannot set daemon status of active thread")
 *   t.start() twice: RuntimeError         ↔ EINVAL ("threads can only be started once")
 *   end of the main code                  ↔ lab_thread_exit_main(0)
 *
 * Usage: lab02 thread_join [--loops=10] | lab02 daemon_thread
 * What to watch for: "zhao is over" never appears; end123 does (its daemon thread is still alive
 * because the main thread waits 3 units for the non-daemon end465).  The notes' expected output
 * says "end456", but their code prints "end465".
 * See also: join.c (the same for processes), common/thread.h.
 */
#include "lab.h"
#include "lab02.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* A thread's line: "Thread-1 (task): 132" (one write, so a daemon thread cut off at exit loses
 * at most a whole line, never half of one). */
#define SAY(fmt, ...) lab_say("%s: " fmt, lab_thread_name(lab_current_thread()), __VA_ARGS__)

/* ==== thread_join ==== */

enum { TJ_START = 1, TJ_FINISHED, TJ_ALL_DONE };

struct tj_arg {
    struct l02_ev_log *log;
    int loops;
};

static void *thread_job(void *p)
{
    struct tj_arg *a = p;
    l02_ev_add(a->log, TJ_START);
    SAY("%s", "T1 start");
    for (int i = 0; i < a->loops; i++)
        lab_sleep(1);
    l02_ev_add(a->log, TJ_FINISHED);
    SAY("%s", "T1 finished");
    return NULL;
}

int run_thread_join(int mode)
{
    (void)mode;   /* no modes */
    struct l02_ev_log log = { 0 };
    struct tj_arg arg = { &log, (int)lab_opt("loops") };
    lab_say("t = threading.Thread(target=thread_job, name='T1'); t.start(); t.join(); print('all done')");
    double start = lab_now_ms();
    struct lab_thread *t = LAB_THREAD(thread_job, &arg);
    lab_thread_set_name(t, "T1");
    lab_thread_start_or_die(t);
    lab_thread_join(t);              /* without it, "all done" would come first */
    double elapsed = lab_elapsed_units(start);
    l02_ev_add(&log, TJ_ALL_DONE);
    SAY("%s", "all done");
    int order_ok = l02_ev_count(&log) == 3 && log.ev[0] == TJ_START && log.ev[1] == TJ_FINISHED
                   && log.ev[2] == TJ_ALL_DONE;
    lab_say("the main thread waited %.1f units in join()", elapsed);
    lab_result("order_ok=%d elapsed_units=%.1f loops=%d", order_ok, l02_round1(elapsed), arg.loops);
    return order_ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== daemon_thread ==== */

enum { DT_ZHAO_RUNNING = 1, DT_ZHAO_OVER, DT_ZHAO_MAIN, DT_132, DT_456, DT_MAIN, DT_END123, DT_END465 };

/* Shared between the two example processes and the lab. */
struct dt_shared {
    struct l02_ev_log zhao, nums;      /* the events of each example */
    atomic_int zhao_running;       /* handshake: the daemon thread has printed its first line */
    atomic_int said456, said_main; /* t2 has printed 456, the main thread 主 (example 2) */
    atomic_int end123_done;        /* the daemon t1 has printed end123 */
    atomic_int never;              /* a gate nobody opens: see zhao_task() */
    int set_after_start, start_twice;
};

static struct dt_shared *dt;

/* The notes' first daemon-thread example: task(name) as a daemon thread. */
static void *zhao_task(void *p)
{
    const char *name = p;
    l02_ev_add(&dt->zhao, DT_ZHAO_RUNNING);
    SAY("%s is running", name);
    atomic_store(&dt->zhao_running, 1);
    lab_sleep(1);
    /* The process ends right after 主, well within this 1 unit in Python; at a fast pace on a slow
     * machine (Valgrind) exit() can take longer than that.  A gate nobody opens keeps the thread
     * here: only a broken exit rule (one that waits for daemon threads) lets it through, after
     * 20 units and 10 s of slack (lab_bound_ms: a bare 20 units is 20 ms at the fastest pace,
     * shorter than a busy machine may keep the main thread from its exit), and then "is over"
     * shows the bug on every run. */
    l02_wait_flag(&dt->never, lab_bound_ms(20));
    l02_ev_add(&dt->zhao, DT_ZHAO_OVER);      /* never reached: the process ends first */
    SAY("%s is over", name);
    return NULL;
}

/* Example 1, the main program: t.daemon = True; t.start(); print('主'); end of main code. */
static int zhao_main(struct lab_proc *self)
{
    (void)self;
    struct lab_thread *t = lab_thread_new(zhao_task, "zhao", "task");   /* Python: "Thread-N (task)" */
    lab_thread_set_daemon(t, true);
    lab_thread_start_or_die(t);
    /* Python's "zhao is running" and "主" come in either order, and the thread always gets to
     * its first line.  A C exit() can be faster than the thread's first printf, so wait for it. */
    l02_wait_flag(&dt->zhao_running, lab_bound_ms(0));
    l02_ev_add(&dt->zhao, DT_ZHAO_MAIN);
    SAY("%s", "主");
    lab_thread_exit_main(0);   /* no non-daemon thread to wait for: exit() now, zhao mid-sleep */
}

/* The notes' second example: task() is a daemon thread that sleeps 1, func() a normal one that sleeps 3. */
static void *task(void *p)
{
    (void)p;
    l02_ev_add(&dt->nums, DT_132);
    SAY("%d", 132);
    /* In Python 456 and 主 follow within microseconds, long before this 1-unit sleep ends; a
     * loaded machine (or Valgrind) can stall the main thread for more than a unit at a fast pace,
     * so t1 starts its sleep only once both are printed: 132/456/主 before end123 on any machine. */
    double gate_ms = lab_bound_ms(20);
    l02_wait_flag(&dt->said456, gate_ms);
    l02_wait_flag(&dt->said_main, gate_ms);
    lab_sleep(1);
    l02_ev_add(&dt->nums, DT_END123);
    SAY("%s", "end123");
    atomic_store(&dt->end123_done, 1);
    return NULL;
}

static void *func(void *p)
{
    (void)p;
    l02_ev_add(&dt->nums, DT_456);
    SAY("%d", 456);
    atomic_store(&dt->said456, 1);
    lab_sleep(3);
    /* t1 (1 unit) is done long before t2 (3 units) in the notes; make that hold on any machine. */
    l02_wait_flag(&dt->end123_done, lab_bound_ms(20));
    l02_ev_add(&dt->nums, DT_END465);
    SAY("%s", "end465");
    return NULL;
}

/* Example 2, the main program. */
static int nums_main(struct lab_proc *self)
{
    (void)self;
    struct lab_thread *t1 = LAB_THREAD(task, NULL), *t2 = LAB_THREAD(func, NULL);
    lab_thread_set_daemon(t1, true);
    lab_thread_start_or_die(t1);
    lab_thread_start_or_die(t2);
    dt->set_after_start = lab_thread_set_daemon(t2, true);   /* too late: it is running */
    dt->start_twice = lab_thread_start(t2);
    l02_ev_add(&dt->nums, DT_MAIN);
    SAY("%s", "主");
    atomic_store(&dt->said_main, 1);
    lab_thread_exit_main(0);   /* joins t2 (3 units); t1 has long finished by then */
}

/* Run one example program in a child process; its exit status (0 expected). */
static int run_example(lab_proc_fn fn)
{
    struct lab_proc p = LAB_PROC_INIT(fn, NULL);
    lab_proc_start_or_die(&p);
    if (!lab_proc_join_ms(&p, lab_bound_ms(30))) {
        lab_proc_kill(&p);
        lab_proc_join(&p);
        return -1;
    }
    return lab_proc_exitcode(&p);
}

int run_daemon_thread(int mode)
{
    (void)mode;   /* no modes */
    dt = lab_shared_alloc(sizeof *dt);

    lab_say("example 1: t = Thread(target=task, args=('zhao',)); t.daemon = True; t.start(); print('主')");
    int code1 = run_example(zhao_main);
    int zhao_over = l02_ev_index(&dt->zhao, DT_ZHAO_OVER) >= 0;
    lab_say("-> 'zhao is over' %s: the main code ended and took its daemon thread with it",
            zhao_over ? "was printed?!" : "never came");

    lab_say("example 2: t1 = Thread(target=task) (daemon, sleeps 1); t2 = Thread(target=func) (sleeps 3); print('主')");
    lab_say("%s", "          (the notes expect end123 / end456; the code prints end465)");
    int code2 = run_example(nums_main);
    const struct l02_ev_log *n = &dt->nums;
    int i132 = l02_ev_index(n, DT_132), i456 = l02_ev_index(n, DT_456), imain = l02_ev_index(n, DT_MAIN);
    int i123 = l02_ev_index(n, DT_END123), i465 = l02_ev_index(n, DT_END465);
    /* 132, 456 and 主 in any order, then end123 (1 unit; t1 sleeps only after the other two are
     * printed), then end465 (3 units, and after end123 by its gate): forced, so it is part of the
     * exit status. */
    int order_ok = l02_ev_count(n) == 5 && i132 >= 0 && i132 < 3 && i456 >= 0 && i456 < 3 && imain >= 0 && imain < 3
                   && i123 == 3 && i465 == 4;
    lab_say("-> the main thread waited for the non-daemon t2, so the daemon t1 lived long enough to print end123");
    lab_say("t2.daemon = True after start -> %s: cannot set daemon status of active thread",
            dt->set_after_start == EINVAL ? "EINVAL" : "accepted?!");
    lab_say("t2.start() again -> %s: threads can only be started once",
            dt->start_twice == EINVAL ? "EINVAL" : "accepted?!");

    lab_result("daemon_over_printed=%d nondaemon_over_printed=%d end123_printed=%d order_ok=%d "
               "set_after_start=%s start_twice=%s",
               zhao_over, i465 >= 0, i123 >= 0, order_ok,
               l02_err_value(dt->set_after_start), l02_err_value(dt->start_twice));
    int ok = code1 == 0 && code2 == 0 && !zhao_over && order_ok
             && dt->set_after_start == EINVAL && dt->start_twice == EINVAL;
    lab_shared_free(dt, sizeof *dt);
    dt = NULL;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
