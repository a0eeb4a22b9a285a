/* labs/02-join-daemon/join.c - Process.join(): where you put it decides serial or concurrent.
 *
 * `join` runs the notes' zhao example: the child prints "zhao is running", sleeps 3, prints
 * "zhao is over"; the parent blocks in join() (waitpid) and only then prints "主进程".
 * `serial` puts p.join() inside the start loop, so child 2 is not even forked before child 1 has
 * ended: 1+2+3 = 6 units.  `concurrent` starts all three, then joins them: max(1,2,3) = 3 units.
 *
 * Python (the notes' 进程对象的join方法) ↔ C:
 *   p = Process(target=task, args=('子进程%s' % i, i))  ↔ LAB_PROC_INIT(task, &args[i])
 *   p.start(); p.join()                                 ↔ lab_proc_start(); lab_proc_join() (waitpid)
 *   print('主', time.time() - start_time)              ↔ lab_elapsed_units(start)
 * The notes' loop is range(3), i = 0, 1, 2, which would sleep 0+1+2 = 3 s; the comments "耗时6秒多"
 * and "耗时3秒多一点" only fit i = 1, 2, 3, so that is what this lab runs.
 *
 * Usage: lab02 join | lab02 serial [--children=3] | lab02 concurrent [--children=3]
 * What to watch for: serial prints running/over pairs and 6.0; concurrent prints three "running"
 * lines at once and 3.0.  Lines from children carry "child PID:", the parent's "main PID:".
 * See also: threads.c (the same for threads), README.md.
 */
#include "lab.h"
#include "lab02.h"

#include <stdio.h>
#include <unistd.h>

/* Event codes: child i (1-based) running = 10*i, over = 10*i + 1; the parent's line = 1. */
#define EV_MAIN 1
#define EV_RUNNING(i) (10 * (i))
#define EV_OVER(i) (10 * (i) + 1)

/* What one child needs: its name, how long to sleep, and the shared record. */
struct task_arg {
    char name[32];
    int index;             /* 1-based */
    int sleep_units;
    struct join_shared *sh;
};

/* Shared with the children (MAP_SHARED). */
struct join_shared {
    struct l02_ev_log log;
    atomic_int running;    /* children between "running" and "over" right now */
    atomic_int max_running;
    atomic_int started;    /* children that reached task(); concurrent: none sleeps before all have */
    atomic_int marked;     /* children that said "running"; concurrent: none sleeps before all have */
    int gate;              /* concurrent: n (wait for all to start); serial and join: 0 (no wait) */
};

/* serial and concurrent draw who ran when (in shared memory: the children mark it themselves). */
static struct lab_timeline *timeline;
static const struct lab_tl_state tl_states[] = { { '#', LAB_GREEN, "running (sleeps its n units)" }, { 0 } };

/* The notes' task(name, n): print, sleep n, print. */
static int task(struct lab_proc *self)
{
    struct task_arg *a = self->arg;
    struct join_shared *sh = a->sh;
    /* Concurrent: Python's p.start() returns at once, so the three sleeps overlap.  A fork on a
     * loaded machine may take longer than child 1's whole sleep at a fast pace; so each child
     * waits (bounded) until all have started: the overlap the lesson shows is certain. */
    atomic_fetch_add(&sh->started, 1);
    double deadline = lab_now_ms() + lab_bound_ms(0);
    while (atomic_load(&sh->started) < sh->gate && lab_now_ms() < deadline)
        lab_sleep_ms(0.2);
    if (timeline)
        lab_timeline_mark(timeline, (size_t)a->index - 1, 0);
    int now = atomic_fetch_add(&sh->running, 1) + 1;
    int seen = atomic_load(&sh->max_running);
    while (now > seen && !atomic_compare_exchange_weak(&sh->max_running, &seen, now))
        ;
    l02_ev_add(&sh->log, EV_RUNNING(a->index));
    lab_say("child %d: %s is running", (int)getpid(), a->name);
    /* ... and none starts its sleep before all are running: else child 1's short sleep could end
     * before a child kept off the CPU has said "running", and the peak would be 2, not 3. */
    atomic_fetch_add(&sh->marked, 1);
    deadline = lab_now_ms() + lab_bound_ms(0);
    while (atomic_load(&sh->marked) < sh->gate && lab_now_ms() < deadline)
        lab_sleep_ms(0.2);
    lab_sleep(a->sleep_units);
    atomic_fetch_sub(&sh->running, 1);
    if (timeline)
        lab_timeline_mark(timeline, (size_t)a->index - 1, LAB_TL_OFF);
    l02_ev_add(&sh->log, EV_OVER(a->index));
    lab_say("child %d: %s is over", (int)getpid(), a->name);
    return 0;
}

/* ==== join: the parent waits ==== */

int run_join(int mode)
{
    (void)mode;   /* no modes */
    struct join_shared *sh = lab_shared_alloc(sizeof *sh);
    struct task_arg arg = { "zhao", 1, 3, sh };
    struct lab_proc p = LAB_PROC_INIT(task, &arg);

    lab_say("p = Process(target=task, args=('zhao',)); p.start(); p.join(); print('主进程')");
    double start = lab_now_ms();
    lab_proc_start_or_die(&p);          /* "only tells the OS to create a process" */
    int code = lab_proc_join(&p);       /* waitpid: the parent sleeps until the child has ended */
    double waited = lab_elapsed_units(start);
    l02_ev_add(&sh->log, EV_MAIN);
    lab_say("main %d: 主进程", (int)getpid());

    /* The promise of join(): the child's two lines, in order, before the parent's. */
    int order_ok = l02_ev_count(&sh->log) == 3 && sh->log.ev[0] == EV_RUNNING(1)
                   && sh->log.ev[1] == EV_OVER(1) && sh->log.ev[2] == EV_MAIN;
    lab_say("the parent waited %.1f units in join() for the child's 3-unit sleep", waited);
    lab_result("order_ok=%d exitcode=%d elapsed_units=%.1f", order_ok, code, l02_round1(waited));
    lab_shared_free(sh, sizeof *sh);
    return order_ok && code == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== serial and concurrent: join inside or after the loop ==== */

/* Start `n` children (child i sleeps i units), joining each one right away (serial) or all of
 * them after the loop (concurrent).  Prints the RESULT line; returns the exit status. */
static int join_loop(bool serial)
{
    int n = (int)lab_opt("children");
    struct join_shared *sh = lab_shared_alloc(sizeof *sh);
    sh->gate = serial ? 0 : n;
    struct task_arg args[8];
    struct lab_proc procs[8];
    int expect = serial ? n * (n + 1) / 2 : n;

    lab_say(serial ? "for i in 1..%d: p.start(); p.join()      # join inside the loop"
                   : "for i in 1..%d: p.start()  then  for p in p_list: p.join()   # join after the loop", n);
    timeline = lab_timeline_new((size_t)n, (size_t)n * 2);
    double start = lab_now_ms();
    for (int i = 1; i <= n; i++) {
        char row[32];
        snprintf(row, sizeof row, "child %d (sleeps %d)", i, i);
        lab_timeline_row(timeline, (size_t)i - 1, row);
        args[i - 1] = (struct task_arg){ .index = i, .sleep_units = i, .sh = sh };
        snprintf(args[i - 1].name, sizeof args[i - 1].name, "子进程%d", i);
        procs[i - 1] = (struct lab_proc)LAB_PROC_INIT(task, &args[i - 1]);
        lab_proc_start_or_die(&procs[i - 1]);
        if (serial)
            lab_proc_join(&procs[i - 1]);   /* the next child is not forked before this one ends */
    }
    int bad_exit = 0;
    for (int i = 0; i < n; i++)
        bad_exit |= lab_proc_join(&procs[i]) != 0;   /* a no-op for already joined children */
    double elapsed = lab_elapsed_units(start);
    lab_say("main %d: 主 %.1f", (int)getpid(), elapsed);

    /* Check what the lesson promises.  Serial: the exact transcript running1, over1, running2, ...
     * Concurrent: each child's own two lines in order (the order between children is the
     * scheduler's business, so it is not checked). */
    int order_ok = l02_ev_count(&sh->log) == 2 * n;
    for (int i = 1; i <= n && order_ok; i++) {
        int r = l02_ev_index(&sh->log, EV_RUNNING(i)), o = l02_ev_index(&sh->log, EV_OVER(i));
        if (serial)
            order_ok = r == 2 * (i - 1) && o == 2 * (i - 1) + 1;
        else
            order_ok = r >= 0 && o > r;
    }
    int max_running = atomic_load(&sh->max_running);
    lab_timeline_draw(timeline, tl_states, 0);   /* serial: a staircase; concurrent: side by side */
    lab_timeline_free(timeline);
    timeline = NULL;
    lab_say("%s: %.1f units (the sleeps add up to %d: %s)", serial ? "serial" : "concurrent", elapsed, expect,
            serial ? "each join() waits before the next start()" : "the children sleep side by side");
    lab_say("at most %d child(ren) ran at the same time", max_running);
    lab_result("elapsed_units=%.1f expected_units=%d children=%d max_running=%d order_ok=%d",
               l02_round1(elapsed), expect, n, max_running, order_ok);
    lab_shared_free(sh, sizeof *sh);
    if (serial && max_running != 1)
        return LAB_EXIT_BROKEN;
    return order_ok && !bad_exit ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_serial(int mode)
{
    (void)mode;   /* no modes */
    return join_loop(true);
}

int run_concurrent(int mode)
{
    (void)mode;   /* no modes */
    return join_loop(false);
}
