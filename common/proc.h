/* common/proc.h - multiprocessing.Process on top of fork/waitpid.
 *
 *     struct lab_proc p = LAB_PROC_INIT(task, "zhao");
 *     lab_proc_start(&p);                 // fork: the child runs task(&p) and _exits with its return
 *     lab_proc_join(&p);                  // waitpid
 *     lab_proc_exitcode(&p);              // 0..255, or -signal when killed (Python's convention)
 *
 * start() flushes stdout before fork (otherwise buffered text is printed twice); the
 * child leaves with _exit, never exit, so the parent's atexit handlers do not run in it.
 * is_alive() polls with WNOHANG and keeps the status it collects, as CPython's poll() does
 * (kill(pid, 0) is no liveness test: it succeeds on a zombie).
 * Daemon children follow Python, not Unix: the daemon flag must be set before start
 * (EINVAL after: "process has already started"); when the main code ends (lab_main returns, or
 * exit() is called in the main process) every live daemon child is sent SIGTERM and reaped, then
 * every other child is waited for.  On SIGINT/SIGTERM every child is terminated and reaped.
 * Children are named "Process-N"; the child's random stream is 1000 + N.
 */
#ifndef COMMON_PROC_H
#define COMMON_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct lab_proc;
typedef int (*lab_proc_fn)(struct lab_proc *self);

struct lab_proc {
    lab_proc_fn run;        /* the target (or the subclass's run): its return is the exit status */
    void *arg;              /* for run() */
    bool daemon;            /* set with lab_proc_set_daemon before start */
    /* filled in by the module: */
    pid_t pid;              /* 0 before start; also Python's ident */
    int number;             /* N of "Process-N" */
    char name[32];
    bool started, reaped;
    int status;             /* raw waitpid status once reaped */
    struct lab_proc *next;  /* the list of started children */
};

#define LAB_PROC_INIT(fn, a) { .run = (fn), .arg = (void *)(a) }

int lab_proc_set_daemon(struct lab_proc *p, bool daemon);   /* 0, or EINVAL after start */
/* Fork and run.  0, or EINVAL (started twice) or fork's errno. */
int lab_proc_start(struct lab_proc *p);
void lab_proc_start_or_die(struct lab_proc *p);
/* Wait for the child; returns its exitcode. */
int lab_proc_join(struct lab_proc *p);
/* Wait at most ms milliseconds; true if it ended (and is reaped). */
bool lab_proc_join_ms(struct lab_proc *p, double ms);
/* Send SIGTERM (Python's terminate(); the child is not reaped here). */
int lab_proc_terminate(struct lab_proc *p);
/* Send SIGKILL. */
int lab_proc_kill(struct lab_proc *p);
/* Not reaped and still running (reaps it, keeping the status, if it has ended). */
bool lab_proc_is_alive(struct lab_proc *p);
/* Python's exitcode: exit status, -signal if killed; LAB_PROC_NO_EXITCODE while it runs. */
#define LAB_PROC_NO_EXITCODE (-1000)
int lab_proc_exitcode(const struct lab_proc *p);

/* The Python exit rule, run automatically when the main process exits; callable early too:
 * terminate and reap the daemon children, then wait for the others. */
void lab_proc_shutdown(void);
/* In a child: forget the parent's list of children (it is not ours to wait for). */
void lab_proc_after_fork(void);

/* Wait for any process of ours (pid or -1) with a bound: returns the pid, 0 on timeout.  For
 * scenarios that fork by hand. */
pid_t lab_waitpid_ms(pid_t pid, int *status, double ms);
/* What the kernel says of any process (not only ours), from /proc/PID/stat: its state letter ('R'
 * running or runnable, 'S' asleep, 'D' in uninterruptible sleep, 'Z' zombie, 'T' stopped...) and
 * its parent.  0, or -1 when the process is gone.  state or ppid may be NULL. */
int lab_proc_stat(pid_t pid, char *state, pid_t *ppid);
/* The CPU time a process has used so far (user + system, in milliseconds, at the kernel's tick
 * resolution), or -1 when it is gone. */
double lab_proc_cpu_ms(pid_t pid);
/* The state letter alone, '?' when the process is gone. */
char lab_proc_state(pid_t pid);
/* The peak resident memory of a process (VmHWM in /proc/PID/status; pid 0: this process), in KiB,
 * or -1 when it cannot be read. */
long lab_proc_peak_rss_kib(pid_t pid);
/* Exit status → Python's exitcode convention. */
int lab_status_to_exitcode(int status);

#endif
