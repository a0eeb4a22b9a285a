/* lab03.h - the scenarios of lab 3 (mutual exclusion): one run_<scenario>() each, called from the
 * table in main.c, and the modes of the scenarios that have them.
 *
 * Each mode enum lists its modes in the order of the scenario's .modes string in main.c (run()
 * gets the index into that string): keep the two in the same order.
 */
#ifndef LAB03_H
#define LAB03_H

/* tickets (tickets.c): .modes = "nolock,lock,sem,fcntl,flock" */
enum tickets_mode { TICKETS_NOLOCK, TICKETS_MUTEX, TICKETS_SEM, TICKETS_FCNTL, TICKETS_FLOCK };
int run_tickets(int mode);

/* money (money.c): .modes = "nolock,lock" */
enum money_mode { MONEY_NOLOCK, MONEY_LOCK };
int run_money(int mode);

/* counter (counter.c): .modes = "racy,racy_atomic,mutex,spin,atomic" */
enum counter_mode { COUNTER_RACY, COUNTER_RACY_ATOMIC, COUNTER_MUTEX, COUNTER_SPIN, COUNTER_ATOMIC };
int run_counter(int mode);
int lab03_bench(void);                  /* counter.c: `lab03 --bench` */

/* The notes' small lock examples (threads.c). */
int run_lockflag(int mode);
int run_lockapi(int mode);
int run_jobs(int mode);

/* shared_list (threads.c): .modes = "nolock,lock" */
enum shared_list_mode { SHARED_LIST_NOLOCK, SHARED_LIST_LOCK };
int run_shared_list(int mode);

/* thread_safe (safe_types.c): .modes = "nolock,lock" */
enum thread_safe_mode { THREAD_SAFE_NOLOCK, THREAD_SAFE_LOCK };
int run_thread_safe(int mode);

/* Shared memory between processes (shared.c). */
int run_shared_value(int mode);
/* robust (shared.c): .modes = "plain,robust" */
enum robust_mode { ROBUST_PLAIN, ROBUST_ROBUST };
int run_robust(int mode);

/* Thread stacks for scenarios with many threads (money: 100 by default, up to 1000). */
#define LAB03_STACK_BYTES (256u * 1024u)

#endif
