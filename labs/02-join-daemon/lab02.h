/* labs/02-join-daemon/lab02.h - what the files of lab 2 share: the scenarios and a small event log.
 *
 * The scenarios live in join.c (join, serial, concurrent), daemon_proc.c (Python's daemon
 * process), unix_daemon.c (a Unix daemon), threads.c (thread join, daemon threads) and timing.c
 * (the timing transcripts); main.c holds the table; util.c the tools below.
 *
 * Several scenarios must check, inside the program, in which order things happened in *other*
 * processes (did the daemon reach its last line? did "is over" come before "主进程"?).  The
 * event log below lives in memory shared with the children (lab_shared_alloc, made before fork()),
 * so every child writes into the same memory the lab reads afterwards.  Each entry is claimed with
 * one atomic fetch-and-add, which is safe across processes (lock-free atomics work on shared
 * memory) and needs no lock that a killed process could leave held.
 */
#ifndef LAB02_H
#define LAB02_H

#include <stdatomic.h>
#include <stddef.h>

/* ==== Scenarios ==== */
/* join.c: */
int run_join(int mode);
int run_serial(int mode);
int run_concurrent(int mode);
/* daemon_proc.c: */
int run_daemon_proc(int mode);
/* unix_daemon.c.  Its modes, in the order of its .modes string in main.c ("double,single"): */
enum l02_unix_daemon_mode {
    L02_DAEMON_DOUBLE,   /* fork, setsid, fork: the SysV double fork (the default) */
    L02_DAEMON_SINGLE,   /* what daemon(3) does: fork, setsid; the daemon leads its session */
};
int run_unix_daemon(int mode);
/* threads.c: */
int run_thread_join(int mode);
int run_daemon_thread(int mode);
/* timing.c: */
int run_timing(int mode);

/* ==== Tools (util.c) ==== */
#define L02_EV_MAX 64

struct l02_ev_log {
    atomic_int n;              /* entries claimed so far */
    int ev[L02_EV_MAX];        /* event codes, in the order they were claimed */
};

/* Append an event code (thread- and process-safe); ignores events past L02_EV_MAX. */
void l02_ev_add(struct l02_ev_log *log, int code);
/* Index of the first occurrence of code, or -1. */
int l02_ev_index(const struct l02_ev_log *log, int code);
/* Number of events recorded. */
int l02_ev_count(const struct l02_ev_log *log);
/* Wait until *flag becomes nonzero, at most ms milliseconds: true if it did. */
int l02_wait_flag(atomic_int *flag, double ms);
/* round(units, 1 decimal) for the RESULT lines' elapsed times. */
double l02_round1(double units);
/* An error number as a RESULT value: its name ("EINVAL"), or "0" for success. */
const char *l02_err_value(int err);

#endif
