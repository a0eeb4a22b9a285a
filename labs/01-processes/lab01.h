/* labs/01-processes/lab01.h - what the files of lab 1 share.
 *
 * The scenarios live in processes.c (Process basics and isolation), spawn.c (fork vs spawn, the
 * __main__ guard), lifecycle.c (zombie, orphan) and threads.c (threads); bench.c is `--bench`;
 * main.c holds the table.
 * util.c has the small tools they share: a page of memory shared with forked children (used only
 * to *measure* what the children did, never as the lesson's communication channel), a reader for
 * /proc/PID/stat (what ps shows) and bounded pipe reads, so nothing can hang.
 */
#ifndef LAB01_H
#define LAB01_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ==== Scenarios ==== */
/* oldthread.c: _thread, the old threading names, start vs join, daemons and the environment.
 * The modes, in the order of their .modes strings in main.c: */
enum low_thread_mode { LOW_THREAD_EXIT, LOW_THREAD_LOCK };           /* "exit,lock" */
enum daemon_env_mode { DAEMON_ENV_SCRIPT, DAEMON_ENV_INTERACTIVE };  /* "script,interactive" */
int run_low_thread(int mode);
int run_old_names(int mode);
int run_start_join(int mode);
int run_daemon_env(int mode);

/* The other scenarios of lab 1 have no modes: `mode` is always 0.  processes.c: */
int run_start(int mode);
int run_terminate(int mode);
int run_subclass(int mode);
int run_join_all(int mode);
int run_pids(int mode);
int run_isolation(int mode);
/* spawn.c: */
int run_spawn_vs_fork(int mode);
/* lifecycle.c: */
int run_zombie(int mode);
int run_orphan(int mode);
/* threads.c: */
int run_thread_create(int mode);
int run_thread_share(int mode);
int run_threads(int mode);
int run_same_api(int mode);
int run_thread_results(int mode);
int run_cost(int mode);
/* `lab01 --bench` (bench.c): the cost of creating threads and processes, report only. */
int l01_bench(void);

/* ==== The "module top level" and the guard (spawn.c) ==== */
/* The argument that marks a re-executed (spawned) child: main() checks it before lab_main. */
#define L01_SPAWN_MARKER "--l01-spawned-child"
/* The environment variable naming the fd where every run of main() leaves a marker line. */
#define L01_MARKER_ENV "LAB01_TOPLEVEL_FD"
/* The top-level code of main(): runs on every start of the program, counted. */
void l01_toplevel(void);
/* The body of the guarded branch in a spawned child; returns its exit status. */
int l01_spawned_child_main(int argc, char **argv);

/* ==== Tools (util.c) ==== */
/* Instrumentation shared with forked children: an anonymous MAP_SHARED page, so a child's
 * counts survive its exit.  Lab 3 teaches this memory; here it only measures. */
struct l01_probe {
    atomic_int lines;        /* lines the children printed */
    atomic_int seq;          /* a global line sequence number (who printed when) */
    atomic_int child_pid;    /* getpid() as seen inside the child */
    atomic_int child_ppid;   /* getppid() as seen inside the child */
    atomic_int value;        /* a value the child computed */
    atomic_long addr;        /* an address as seen inside the child */
    atomic_int order[128];   /* per-child sequence numbers */
    double t_end_ms;         /* when the child's task ended (lab_now_ms) */
};
struct l01_probe *l01_probe_new(void);
void l01_probe_free(struct l01_probe *p);

/* Does /proc/PID exist? */
bool l01_proc_exists(pid_t pid);
/* The command name of a process (/proc/PID/comm), "?" if unknown. */
void l01_proc_comm(pid_t pid, char *buf, size_t len);

/* Read exactly len bytes, waiting at most ms milliseconds in all.  0, or -1 (EOF, timeout). */
int l01_read_ms(int fd, void *buf, size_t len, double ms);
/* Write all of buf (EINTR-safe); 0 or -1. */
int l01_write_all(int fd, const void *buf, size_t len);
/* pipe(2) with O_CLOEXEC, dying on error. */
void l01_pipe(int fds[2]);

/* How long any handshake of this lab may take before it gives up (real milliseconds): the safety
 * bound of common/clock.h for a step that takes no notes-seconds of its own. */
#define L01_HANDSHAKE_MS lab_bound_ms(0)

/* The global of the money examples (data isolation between processes, sharing between threads). */
extern int l01_money;

#endif
