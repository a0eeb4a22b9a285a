/* labs/04-ipc-queue/lab04.h - what the files of lab 4 share. */
#ifndef LAB04_H
#define LAB04_H

#include <stddef.h>

/* The notes' payloads: the list of the Pipe example (sent as its repr, a literal string) and the
 * 燕子李三 of the Queue example. */
#define L04_PAYLOAD "[42, None, 'hello']"
#define L04_YANZI   "燕子李三"

/* Scenarios (the table is in main.c).  mode: the index into the scenario's .modes (0 if none). */
int run_queue_api(int mode);       /* queue.c */
int run_parent_child(int mode);    /* queue.c */
int run_child_child(int mode);     /* queue.c */
int run_limits(int mode);          /* limits.c */
int run_kinds(int mode);           /* kinds.c */
int run_thread_queues(int mode);   /* tqueue.c */
int l04_bench(void);               /* bench.c: `build/lab04 --bench` */

/* pipe.c.  Its modes, in the order of its .modes string "noclose,close" in main.c: the reader
 * keeps (the bug) or closes (the fix) the copy of the write end it inherited. */
enum pipe_mode { PIPE_NOCLOSE, PIPE_CLOSE };
int run_pipe(int mode);

/* manager.c.  Its modes, in the order of its .modes string "nolock,lock" in main.c: the 10
 * workers' d['count'] += 1 through the proxy without or with a process lock around GET+SET. */
enum manager_mode { MANAGER_NOLOCK, MANAGER_LOCK };
int run_manager(int mode);

/* subprocess.c: another program on pipes.  pipe_deadlock's modes, in the order of its .modes
 * string "deadlock,poll" in main.c: write all then read (stuck) vs poll both pipes (communicate). */
int run_subprocess(int mode);
enum pipe_deadlock_mode { PIPE_DEADLOCK_DEADLOCK, PIPE_DEADLOCK_POLL };
int run_pipe_deadlock(int mode);

/* kinds.c: the FIFO's reader in an unrelated process (the program run again by exec:
 * `lab04 --fifo-peer PATH SECONDS`, SECONDS its real-time bound). */
#define L04_FIFO_PEER_FLAG "--fifo-peer"
int l04_fifo_peer(const char *path, const char *seconds);

/* util.c: Python's name for a failed queue call (EAGAIN/ETIMEDOUT -> "FULL"/"EMPTY"), else the
 * errno name of lab_errno_name ("EMSGSIZE", 0 -> "OK"). */
const char *l04_pyname(int err, int is_put);
/* Notes-seconds to one decimal, as the RESULT lines print waited times. */
double l04_round1(double units);

#endif
