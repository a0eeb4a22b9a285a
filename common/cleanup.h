/* common/cleanup.h - nothing left behind, also after Ctrl-C (the lab contract: no leftovers).
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

#include <signal.h>
#include <stddef.h>

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

/* The hook the signal handler runs first, before the removals (the children may still be using the
 * objects): proc.c installs one that terminates and reaps every child it started.  One hook. */
void lab_cleanup_set_signal_hook(void (*hook)(void));

/* Hold back SIGINT, SIGTERM and SIGHUP (saving the old mask in *old) across a step that the handler
 * must never see half done, such as a fork and the recording of the child's pid; then restore. */
void lab_stop_signals_block(sigset_t *old);
void lab_stop_signals_restore(const sigset_t *old);

/* A private directory "$TMPDIR/<prefix>XXXXXX" (/tmp when TMPDIR is unset) made with mkdtemp and
 * registered for removal; its path is written to `path`.  Returns the cleanup id: register the
 * files made in it after it, so that they are removed first.  A TMPDIR too long for `path` is a
 * usage error (exit 2); a failing mkdtemp dies. */
int lab_private_dir(char *path, size_t len, const char *prefix);

/* Ready-made removals for a path kept by the caller (the string must outlive the registration). */
void lab_cleanup_unlink(void *path);
void lab_cleanup_rmdir(void *path);

#endif
