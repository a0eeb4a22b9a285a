/* common/loop.h - one event loop, several ways to wait (the shape of Redis's ae).
 *
 * A server registers what it wants to hear about, and the loop calls it back:
 *
 *     struct lab_loop *l = lab_loop_new("epoll", 1024);        // or "select", "poll", NULL: the best
 *     lab_loop_add(l, listen_fd, LAB_LOOP_READABLE, on_accept, srv);
 *     lab_loop_timer_add(l, 1000, on_tick, srv);                // in 1000 ms; the callback says when next
 *     lab_loop_run(l);                                          // until a callback calls lab_loop_stop(l)
 *     lab_loop_free(l);
 *
 * The backend is chosen at run time, so one program can compare them (lab 12), and it is only the
 * way the loop waits: select(2) (a bitmap of FD_SETSIZE = 1024 descriptors: a descriptor at or
 * above it is refused with ERANGE, never written past the bitmap), poll(2) (an array, no limit, but
 * the kernel reads it whole on every call), epoll(7) (the interest list lives in the kernel; a call
 * returns only the ready descriptors).  Level-triggered everywhere: a descriptor that stays readable
 * is reported again on the next turn.  lab_loop_set_edge() asks epoll for edge-triggered reports
 * (EPOLLET: once per change; the callback must read until EAGAIN).
 *
 * Timers are kept in a heap ordered by deadline, ties in the order they were added (FIFO), on the
 * monotonic clock.  A timer callback returns the milliseconds until it runs again, or
 * LAB_LOOP_NOMORE to end.  Library style: calls return 0 or -1 with errno set; nothing dies.
 * One loop belongs to one thread.
 */
#ifndef COMMON_LOOP_H
#define COMMON_LOOP_H

#include <stdbool.h>

enum { LAB_LOOP_NONE = 0, LAB_LOOP_READABLE = 1, LAB_LOOP_WRITABLE = 2 };
#define LAB_LOOP_NOMORE (-1.0)

struct lab_loop;
/* fd is ready for what `mask` says (LAB_LOOP_READABLE, LAB_LOOP_WRITABLE, or both). */
typedef void lab_loop_file_fn(struct lab_loop *l, int fd, void *arg, int mask);
/* Timer `id` is due: return the ms until it runs again, or LAB_LOOP_NOMORE. */
typedef double lab_loop_timer_fn(struct lab_loop *l, long long id, void *arg);

/* A loop for descriptors 0..setsize-1 with the named backend ("select", "poll", "epoll"; NULL or
 * "best": epoll where there is one).  NULL with errno: EINVAL for an unknown name, ERANGE for a
 * select loop larger than FD_SETSIZE, or the backend's own error. */
struct lab_loop *lab_loop_new(const char *backend, int setsize);
void lab_loop_free(struct lab_loop *l);
/* "select", "poll" or "epoll": print it first, so a test can check which one ran. */
const char *lab_loop_backend(const struct lab_loop *l);
/* The backends this build has, "select,poll,epoll". */
const char *lab_loop_backends(void);
int lab_loop_setsize(const struct lab_loop *l);
/* Edge-triggered reports (epoll only: ENOTSUP for the others).  Set it before adding descriptors. */
int lab_loop_set_edge(struct lab_loop *l, bool on);

/* Watch fd for mask (added to what it watches already).  One callback per descriptor: a second add
 * replaces it.  -1 with ERANGE when fd >= setsize. */
int lab_loop_add(struct lab_loop *l, int fd, int mask, lab_loop_file_fn *fn, void *arg);
/* Stop watching fd for mask (LAB_LOOP_READABLE | LAB_LOOP_WRITABLE: forget it). */
void lab_loop_del(struct lab_loop *l, int fd, int mask);
/* What fd is watched for now. */
int lab_loop_mask(const struct lab_loop *l, int fd);

/* Call fn in `ms` milliseconds; returns the timer's id (> 0), or -1 (ENOMEM). */
long long lab_loop_timer_add(struct lab_loop *l, double ms, lab_loop_timer_fn *fn, void *arg);
/* Cancel a timer that has not run: 0, or -1 with ENOENT. */
int lab_loop_timer_del(struct lab_loop *l, long long id);
/* How many descriptors and timers are registered (a hub's "anything left to wait for?"). */
int lab_loop_nfiles(const struct lab_loop *l);
int lab_loop_ntimers(const struct lab_loop *l);

/* One turn: wait for IO at most until the next timer (or max_ms when >= 0 and sooner; -1: no
 * limit), run the ready callbacks, then the due timers.  Returns how many callbacks ran, or -1
 * on an error of the backend's wait (EINTR is not an error: 0). */
int lab_loop_run_once(struct lab_loop *l, double max_ms);
/* Turn until lab_loop_stop() is called, or nothing is registered any more. */
void lab_loop_run(struct lab_loop *l);
void lab_loop_stop(struct lab_loop *l);

#endif
