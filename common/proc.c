/* common/proc.c - multiprocessing.Process semantics over fork/waitpid; see proc.h.
 *
 * The list of started children is touched only by the main thread of the process that started
 * them (as in Python, Process objects belong to their creator), and read by the signal handler
 * of cleanup.c, which only sends signals and reaps.
 */
#include "proc.h"
#include "clock.h"
#include "cleanup.h"
#include "die.h"
#include "rng.h"
#include "thread.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct lab_proc *children;      /* started by this process, newest first */
/* Process-N counts per program of the notes, as Python's counter does in a fresh interpreter. */
static struct lab_program_count proc_count;
static bool hooked;
static pid_t owner;                     /* the process the list belongs to */

static void kill_all_from_signal(void);

/* The fields of /proc/PID/stat after the command name ("PID (comm) S PPID ..."; comm may hold
 * spaces and parentheses, so they start after the LAST ')'), in buf; NULL when the process is gone. */
static const char *stat_fields(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return rp ? rp + 1 : NULL;
}

int lab_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
    char buf[1024];
    const char *f = stat_fields(pid, buf, sizeof buf);
    char st;
    int pp;
    if (f == NULL || sscanf(f, " %c %d", &st, &pp) != 2)
        return -1;
    if (state)
        *state = st;
    if (ppid)
        *ppid = (pid_t)pp;
    return 0;
}

double lab_proc_cpu_ms(pid_t pid)
{
    char buf[1024];
    const char *f = stat_fields(pid, buf, sizeof buf);
    unsigned long ut, st;   /* fields 14 and 15: user and system time, in clock ticks */
    if (f == NULL || sscanf(f, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

char lab_proc_state(pid_t pid)
{
    char st;
    return lab_proc_stat(pid, &st, NULL) == 0 ? st : '?';
}

long lab_proc_peak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/status");
    else
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

int lab_status_to_exitcode(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return LAB_PROC_NO_EXITCODE;
}

int lab_proc_set_daemon(struct lab_proc *p, bool daemon)
{
    if (p->started)
        return EINVAL;
    p->daemon = daemon;
    return 0;
}

static void at_exit_hook(void)
{
    if (getpid() == owner)
        lab_proc_shutdown();
}

void lab_proc_after_fork(void)
{
    children = NULL;
    owner = getpid();
}

int lab_proc_start(struct lab_proc *p)
{
    if (p->started || p->run == NULL)
        return EINVAL;
    if (!hooked) {
        owner = getpid();
        atexit(at_exit_hook);
        lab_cleanup_set_signal_hook(kill_all_from_signal);
        hooked = true;
    }
    if (owner != getpid())
        lab_proc_after_fork();
    p->number = lab_thread_program_count(&proc_count) + 1;
    snprintf(p->name, sizeof p->name, "Process-%d", p->number);
    fflush(stdout);   /* or the child prints our buffered text a second time */
    fflush(stderr);
    /* Hold back Ctrl-C until the child is in our list, so the cleanup handler always knows it. */
    sigset_t old;
    lab_stop_signals_block(&old);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        lab_stop_signals_restore(&old);
        return err;
    }
    if (pid == 0) {
        lab_stop_signals_restore(&old);
        lab_thread_after_fork();
        lab_proc_after_fork();
        lab_rand_reseed(1000u + (unsigned)p->number);
        p->pid = getpid();
        p->started = true;
        lab_trace_process_name(p->name);
        int status = p->run(p);
        fflush(stdout);
        fflush(stderr);
        lab_trace_write();   /* _exit runs no atexit handler: the --trace fragment now */
        _exit(status & 0xff);
    }
    p->pid = pid;
    p->started = true;
    p->reaped = false;
    p->next = children;
    children = p;
    lab_stop_signals_restore(&old);
    return 0;
}

void lab_proc_start_or_die(struct lab_proc *p)
{
    int rc = lab_proc_start(p);
    if (rc != 0)
        die_en(rc, "start process");
}

static void unlink_child(struct lab_proc *p)
{
    for (struct lab_proc **pp = &children; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

/* Record a collected status. */
static void reaped(struct lab_proc *p, int status)
{
    p->status = status;
    p->reaped = true;
    unlink_child(p);
}

int lab_proc_join(struct lab_proc *p)
{
    if (!p->started || p->reaped)
        return lab_proc_exitcode(p);
    int status;
    pid_t r;
    while ((r = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        die("waitpid(%d):", (int)p->pid);
    reaped(p, status);
    return lab_proc_exitcode(p);
}

pid_t lab_waitpid_ms(pid_t pid, int *status, double ms)
{
    double end = lab_now_ms() + ms;
    double nap = 0.2;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r != 0)
            return r;          /* the pid, or -1 with errno */
        if (lab_now_ms() >= end)
            return 0;
        lab_sleep_ms(nap);
        if (nap < 5)
            nap *= 2;
    }
}

bool lab_proc_join_ms(struct lab_proc *p, double ms)
{
    if (!p->started)
        return false;
    if (p->reaped)
        return true;
    int status;
    pid_t r = lab_waitpid_ms(p->pid, &status, ms);
    if (r < 0)
        die("waitpid(%d):", (int)p->pid);
    if (r == 0)
        return false;
    reaped(p, status);
    return true;
}

static int send(struct lab_proc *p, int sig)
{
    if (!p->started || p->reaped)
        return 0;              /* Python: terminate() on an ended process does nothing */
    return kill(p->pid, sig) == 0 ? 0 : errno;
}

int lab_proc_terminate(struct lab_proc *p) { return send(p, SIGTERM); }
int lab_proc_kill(struct lab_proc *p) { return send(p, SIGKILL); }

bool lab_proc_is_alive(struct lab_proc *p)
{
    if (!p->started || p->reaped)
        return false;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        reaped(p, status);
        return false;
    }
    return r == 0;
}

int lab_proc_exitcode(const struct lab_proc *p)
{
    if (!p->reaped)
        return LAB_PROC_NO_EXITCODE;
    return lab_status_to_exitcode(p->status);
}

void lab_proc_shutdown(void)
{
    /* 1. daemon children: terminate, then reap (Python's _exit_function). */
    for (struct lab_proc *p = children, *next; p; p = next) {
        next = p->next;
        if (p->daemon) {
            lab_proc_terminate(p);
            lab_proc_join(p);
        }
    }
    /* 2. everything else: wait. */
    while (children)
        lab_proc_join(children);
}

/* The signal hook of cleanup.c (installed at the first start): async-signal-safe calls only. */
static void kill_all_from_signal(void)
{
    if (getpid() != owner)
        return;
    for (struct lab_proc *p = children; p; p = p->next)
        if (!p->reaped)
            kill(p->pid, SIGTERM);
    for (struct lab_proc *p = children; p; p = p->next)
        if (!p->reaped) {
            int st;
            /* bounded: SIGKILL whoever ignores SIGTERM for 2 seconds */
            for (int i = 0; i < 2000 && waitpid(p->pid, &st, WNOHANG) == 0; i++) {
                struct timespec ms = { 0, 1000000 };
                nanosleep(&ms, NULL);
                if (i == 1999) {
                    kill(p->pid, SIGKILL);
                    waitpid(p->pid, &st, 0);
                }
            }
        }
}
