/* labs/04-ipc-queue/lab04.h - what the files of lab 4 share. */
#ifndef LAB04_H
#define LAB04_H

#include <stddef.h>

/* The notes' payloads: S4's list (sent as its repr, a literal string) and S2's 燕子李三. */
#define L04_PAYLOAD "[42, None, 'hello']"
#define L04_YANZI   "燕子李三"

/* Scenarios (one file each, see main.c for the table). */
int l04_queue_api(int mode_index);      /* queue.c */
int l04_parent_child(int mode_index);   /* queue.c */
int l04_child_child(int mode_index);    /* queue.c */
int l04_limits(int mode_index);         /* queue.c */
int l04_pipe(int mode_index);           /* pipe.c */
int l04_kinds(int mode_index);          /* kinds.c */
int l04_thread_queues(int mode_index);  /* tqueue.c */
int l04_bench(void);                      /* bench.c */

/* kinds.c: the FIFO's reader in an unrelated process (the program run again by exec). */
#define L04_FIFO_PEER_FLAG "--fifo-peer"
int l04_fifo_peer(const char *path);

/* util: errno name for RESULT lines ("EAGAIN", "EMSGSIZE", ...), "OK" for 0. */
const char *l04_errname(int err);
/* Python's name for a failed queue call: EAGAIN/ETIMEDOUT -> "FULL"/"EMPTY". */
const char *l04_pyname(int err, int is_put);

#endif
