/* labs/02-join-daemon/lab02.h - what the files of lab 2 share: the scenarios and a small event log.
 *
 * Several scenarios must check, inside the program, in which order things happened in *other*
 * processes (did the daemon reach its last line? did "is over" come before "主进程"?).  The
 * event log below lives in a MAP_SHARED anonymous mapping made before fork(), so every child
 * writes into the same memory the lab reads afterwards.  Each entry is claimed with one atomic
 * fetch-and-add, which is safe across processes (lock-free atomics work on shared memory) and
 * needs no lock that a killed process could leave held.
 */
#ifndef LAB02_H
#define LAB02_H

#include <stdatomic.h>
#include <stddef.h>

#define EV_MAX 64

struct ev_log {
    atomic_int n;          /* entries claimed so far */
    int ev[EV_MAX];        /* event codes, in the order they were claimed */
};

/* Shared memory that children inherit: lab_shared_alloc/lab_shared_free of common/shm.h. */

/* Append an event code (thread- and process-safe); ignores events past EV_MAX. */
void ev_add(struct ev_log *log, int code);
/* Index of the first occurrence of code, or -1. */
int ev_index(const struct ev_log *log, int code);
/* Number of events recorded. */
int ev_count(const struct ev_log *log);
/* Wait until *flag becomes nonzero, at most ms milliseconds: true if it did. */
int wait_flag(atomic_int *flag, double ms);
/* round(units, 1 decimal) for the RESULT lines (PARITY 0.2.2). */
double round1(double units);

/* The scenarios (one file each group). */
int run_join(int mode_index);
int run_serial(int mode_index);
int run_concurrent(int mode_index);
int run_daemon_proc(int mode_index);
int run_unix_daemon(int mode_index);
int run_thread_join(int mode_index);
int run_daemon_thread(int mode_index);
int run_timing(int mode_index);

#endif
