/* labs/02-join-daemon/daemon_proc.c - Python's daemon *process*: killed when the main code ends.
 *
 * In multiprocessing, p.daemon = True means: when the main program's code is finished, the
 * interpreter's exit handler terminate()s (SIGTERM) every daemon child that is still running and
 * only then join()s the other children.  So a daemon lives as long as the main *code*, not as
 * long as the main *process*: a non-daemon sibling may keep the process alive for a long while
 * after the daemon is gone ("守护进程会等待主程序的代码结束之后再结束(不是等待整个主进程结束）").
 *
 * To watch that from outside, the scenario forks its own "main program" (one more process) and
 * lets it end the way a program ends, with exit(): common/proc.c's exit hook does what Python's
 * does.  The lab (the grandparent) reads the outcome from shared memory.
 *
 * Python (the notes' 守护进程, in the process chapter and the summary notes) ↔ C:
 *   p.daemon = True (before start)    ↔ lab_proc_set_daemon(&p, true) → 0
 *   p.daemon = True after p.start()   ↔ EINVAL   (Python: AssertionError: process has already started)
 *   p.start() twice                   ↔ EINVAL   (Python: AssertionError: cannot start a process twice)
 *   end of main code → terminate()    ↔ exit() → lab_proc_shutdown(): SIGTERM + waitpid the daemons,
 *                                       then waitpid the others
 *
 * Usage: lab02 daemon_proc
 * What to watch for: "zhangsan总管正常死亡" never appears; the non-daemon child's "finished" line
 * comes 3 units later, after the daemon was already terminated by signal 15.
 * See also: unix_daemon.c (a daemon in the Unix sense), README.md (PR_SET_PDEATHSIG).
 */
#include "lab.h"
#include "lab02.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

/* What the main program and its children report to the lab. */
struct dp_shared {
    atomic_int daemon_first;        /* the daemon printed its first line */
    atomic_int daemon_final;        /* ... and its last one (must never happen) */
    atomic_int nondaemon_finished;  /* the non-daemon child printed its last line */
    atomic_int main_ended;          /* the main program's exit hook has begun */
    atomic_int recorded;            /* the main program's exit hook filled in what follows */
    atomic_int never;               /* a gate nobody opens: see zhangsan() */
    int daemon_exitcode;            /* Python's exitcode: -15 = killed by SIGTERM */
    int nondaemon_exitcode;
    int set_after_start;            /* errno of lab_proc_set_daemon after start */
    int start_twice;                /* errno of a second lab_proc_start */
};

static struct dp_shared *dp;
static int zhangsan(struct lab_proc *self);
static int worker(struct lab_proc *self);
/* The main program's two children (static: the exit hook reads them). */
static struct lab_proc dp_daemon = LAB_PROC_INIT(zhangsan, "zhangsan");
static struct lab_proc dp_worker = LAB_PROC_INIT(worker, "lisi");

/* The notes' task(name): alive, sleep 2, "dies normally" - if it gets that far. */
static int zhangsan(struct lab_proc *self)
{
    const char *name = self->arg;
    lab_say("child %d (daemon): %s总管正常活着", (int)getpid(), name);
    atomic_store(&dp->daemon_first, 1);
    lab_sleep(2);
    /* Python: the daemon is killed when the main code ends, which (in the notes) is long before
     * its 2 seconds are up.  Here the main code ends right after our first line, but on a slow
     * machine (Valgrind, a loaded CI box) ending can take longer than 2 units of a fast pace.  So
     * the daemon also waits at a gate nobody opens: only a broken exit rule (no SIGTERM) lets it
     * through, after 20 units and 10 s of slack (lab_bound_ms: a bare 20 units is 20 ms at the
     * fastest pace, shorter than a busy machine may keep the main program off the CPU), and then
     * the line below shows the bug on every run. */
    l02_wait_flag(&dp->never, lab_bound_ms(20));
    atomic_store(&dp->daemon_final, 1);
    lab_say("child %d (daemon): %s总管正常死亡", (int)getpid(), name);
    return 0;
}

/* An ordinary child that runs longer than the daemon would have. */
static int worker(struct lab_proc *self)
{
    const char *name = self->arg;
    lab_say("child %d (non-daemon): %s starts a 3-unit job", (int)getpid(), name);
    /* In Python the main code ends microseconds after this start, long before the 3 units are up;
     * a loaded machine can stall the main program for more than that at a fast pace, so the job
     * starts once the main code has ended: "main code ended" comes before "finished" on any run. */
    l02_wait_flag(&dp->main_ended, lab_bound_ms(20));
    lab_sleep(3);
    atomic_store(&dp->nondaemon_finished, 1);
    lab_say("child %d (non-daemon): %s finished", (int)getpid(), name);
    return 0;
}

/* Runs inside exit() of the main program.  It does what Python's multiprocessing exit handler
 * does (lab_proc_shutdown: terminate + join the daemons, then join the rest; proc.c's own hook
 * would do the same a moment later) and records the outcome for the lab. */
static void dp_exit_hook(void)
{
    lab_say("main program %d: main code ended -> exit(): SIGTERM to the daemon %d, then wait for %d",
            (int)getpid(), (int)dp_daemon.pid, (int)dp_worker.pid);
    atomic_store(&dp->main_ended, 1);
    lab_proc_shutdown();
    dp->daemon_exitcode = lab_proc_exitcode(&dp_daemon);
    dp->nondaemon_exitcode = lab_proc_exitcode(&dp_worker);
    atomic_store(&dp->recorded, 1);
    lab_say("main program %d: daemon exitcode %d, non-daemon exitcode %d; the process ends now",
            (int)getpid(), dp->daemon_exitcode, dp->nondaemon_exitcode);
}

/* The scenario's own "main program" (what the notes' `if __name__ == '__main__':` block does).
 * It never returns: it ends with exit(), so the exit hooks run as at the end of a real program. */
static int main_program(struct lab_proc *self)
{
    (void)self;
    /* Registered after proc.c's hook, so it runs before it (atexit runs in reverse order). */
    atexit(dp_exit_hook);

    lab_proc_set_daemon(&dp_daemon, true);   /* p.daemon = True: before start(), or it is refused */
    lab_proc_start_or_die(&dp_daemon);
    lab_proc_start_or_die(&dp_worker);

    dp->set_after_start = lab_proc_set_daemon(&dp_worker, true);
    lab_say("main program %d: q.daemon = True after q.start() -> %s: process has already started",
            (int)getpid(), dp->set_after_start == EINVAL ? "EINVAL" : "accepted?!");
    dp->start_twice = lab_proc_start(&dp_worker);
    lab_say("main program %d: q.start() again -> %s: cannot start a process twice",
            (int)getpid(), dp->start_twice == EINVAL ? "EINVAL" : "accepted?!");

    /* Python prints 主进程 right away, and the daemon's first line shows up in some runs only
     * (2 runs of 5 when we ran the notes' code).  Waiting for it here makes every run show a daemon that was
     * alive and then cut off; delete this wait to see the race. */
    l02_wait_flag(&dp->daemon_first, lab_bound_ms(0));
    lab_say("main program %d: 主进程", (int)getpid());
    exit(0);   /* the end of the main code: the exit hooks apply the daemon rule */
}

int run_daemon_proc(int mode)
{
    (void)mode;   /* no modes */
    dp = lab_shared_alloc(sizeof *dp);
    lab_say("p.daemon = True; p.start()   (zhangsan: alive, sleep 2, dies normally)");
    lab_say("q.start()                     (a non-daemon child with a 3-unit job)");
    lab_say("print('主进程')  and the main code ends");

    struct lab_proc prog = LAB_PROC_INIT(main_program, NULL);
    double start = lab_now_ms();
    lab_proc_start_or_die(&prog);
    /* Bounded: the main program needs about 3 units. */
    if (!lab_proc_join_ms(&prog, lab_bound_ms(30))) {
        lab_say("the main program did not end in time; killing it");
        lab_proc_kill(&prog);
        lab_proc_join(&prog);
    }
    double elapsed = lab_elapsed_units(start);
    int prog_code = lab_proc_exitcode(&prog);

    int final_line = atomic_load(&dp->daemon_final);
    int term_signal = dp->daemon_exitcode < 0 ? -dp->daemon_exitcode : 0;
    int finished = atomic_load(&dp->nondaemon_finished) && dp->nondaemon_exitcode == 0;
    lab_say("the daemon was killed by signal %d (%s) before its 2-unit sleep ended; the main program "
            "lived %.1f units, waiting for the non-daemon child", term_signal,
            term_signal ? strsignal(term_signal) : "not killed", elapsed);
    lab_result("daemon_first_line=%d daemon_final_line=%d daemon_term_signal=%d nondaemon_finished=%d "
               "set_after_start=%s start_twice=%s",
               atomic_load(&dp->daemon_first), final_line, term_signal, finished,
               l02_err_value(dp->set_after_start), l02_err_value(dp->start_twice));
    int ok = prog_code == 0 && atomic_load(&dp->recorded) && final_line == 0 && term_signal == SIGTERM
             && finished && dp->set_after_start == EINVAL && dp->start_twice == EINVAL;
    lab_shared_free(dp, sizeof *dp);
    dp = NULL;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
