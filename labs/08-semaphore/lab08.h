/* labs/08-semaphore/lab08.h - what the files of lab 8 share: the safety bound, the modes, and one
 * run function per scenario (the table that lists them is in main.c). */
#ifndef LAB08_H
#define LAB08_H

#include "lab.h"

/* How long a wait of this lab may take before it gives up (real ms): lab_bound_ms(units) for a
 * wait that the lesson expects to end within `units` notes-seconds, plus 10 s more, so that a
 * rendezvous keeps the 20 s this lab always gave it (20 threads meeting on one loaded CPU, or
 * under Valgrind).  Only a broken run, or a thread starved that long, reaches it. */
#define L08_EXTRA_SLACK_MS 10000.0
static inline double l08_bound_ms(double units) { return lab_bound_ms(units) + L08_EXTRA_SLACK_MS; }

/* semaphore.c: Semaphore(5) and 20 threads.  The modes, in the order of its .modes in main.c. */
enum l08_semaphore_mode { SEMAPHORE_NOSEM, SEMAPHORE_SEM };
int run_semaphore(int mode);

/* semaphore.c: Semaphore vs BoundedSemaphore (no modes). */
int run_bounded(int mode);

/* proc_semaphore.c: a named POSIX semaphore (sem_open) shared by processes.  The modes, in the
 * order of its .modes in main.c. */
enum l08_proc_semaphore_mode { PROC_SEMAPHORE_PRIVATE, PROC_SEMAPHORE_NAMED };
int run_proc_semaphore(int mode);

/* semaphore.c: who may release a semaphore, and a mutex (no modes). */
int run_mutex_vs_semaphore(int mode);

#endif
