/* labs/08-semaphore/lab08.h - what the files of lab 8 share. */
#ifndef LAB08_H
#define LAB08_H

/* How long any rendezvous of this lab may wait for its peers before it gives up (real ms, not
 * scaled: a safety bound that only a broken run, or a thread starved that long, reaches). */
#define L08_BOUND_MS 20000.0

/* proc_semaphore.c: a named POSIX semaphore (sem_open) shared by processes. */
int l08_proc_semaphore(int mode_index);

#endif
