/* common/cleanup.h - nothing left behind, also after Ctrl-C (LABS.md, Hygiene).
 *
 * A lab that creates a named kernel object (/dev/shm, /dev/mqueue, System V IPC, a FIFO, a temp
 * file or directory) registers how to remove it right after creating it:
 *
 *     int id = lab_cleanup_add(remove_my_shm, name);    // run on SIGINT/SIGTERM/SIGHUP and at exit
 *     ... use it ...
 *     lab_cleanup_run(id);                               // remove it now (and forget it)
 *
 * On SIGINT/SIGTERM/SIGHUP the handler runs the pending removals of this process (only the process
 * that registered them: a forked child's copy of the list is ignored), terminates and reaps every
 * child started with lab_proc, and then dies of the same signal, so the shell sees the right status.
 * The removal functions run in a signal handler: keep them to async-signal-safe calls (unlink,
 * shm_unlink, mq_unlink, sem_unlink, shmctl, msgctl, semctl, rmdir, close, kill, waitpid).
 */
#ifndef COMMON_CLEANUP_H
#define COMMON_CLEANUP_H

typedef void (*lab_cleanup_fn)(void *arg);

/* Register; returns an id for lab_cleanup_run/lab_cleanup_forget.  At most 64 pending. */
int lab_cleanup_add(lab_cleanup_fn fn, void *arg);
/* Run one now (if still pending) and forget it. */
void lab_cleanup_run(int id);
/* Forget one without running it. */
void lab_cleanup_forget(int id);
/* Run every pending one of this process (also done at exit). */
void lab_cleanup_all(void);
/* Install the SIGINT/SIGTERM/SIGHUP handlers (lab_main does). */
void lab_cleanup_install(void);

/* Ready-made removals for a path kept by the caller (the string must outlive the registration). */
void lab_cleanup_unlink(void *path);
void lab_cleanup_rmdir(void *path);

#endif
