/* labs/11-coroutines/lab11.h - what the files of lab 11 share: coroutines (coro.c), the hub
 * (hub.c), the scenarios.
 *
 * Two floors, as in gevent: coro.c is greenlet (a coroutine is a stack and a saved context; you
 * switch to it by name, and when its function returns, control goes to its parent), hub.c is
 * gevent (one coroutine-free scheduler, the hub, runs the ready ones and waits on the shared event
 * loop of common/loop for timers and sockets, so that sleeping and reading switch by themselves).
 * Everything runs in ONE OS thread: the lab prints threads=1 from /proc/self/status.
 */
#ifndef LAB11_H
#define LAB11_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ==== Coroutines: greenlet (coro.c) ==== */

enum co_state { CO_NEW, CO_RUNNING, CO_SUSPENDED, CO_DEAD };

struct co;
typedef void co_fn(void *arg);

/* Default stack: 64 KiB (printf needs a few KiB), plus one guard page below it. */
#define CO_STACK_DEFAULT (64 * 1024)

/* A new coroutine `name` that will run fn(arg) on its own mmap'd stack of stack_size bytes (0: the
 * default) with a PROT_NONE guard page below it.  Its parent is the coroutine creating it. */
struct co *co_new(const char *name, co_fn *fn, void *arg, size_t stack_size);
/* Switch to c (starting it if new): greenlet's c.switch().  Returns when someone switches back. */
void co_switch(struct co *c);
/* Free a coroutine that is not running (dead or suspended: its stack is unmapped). */
void co_free(struct co *c);
/* The running coroutine (the thread's main coroutine outside any other). */
struct co *co_current(void);
struct co *co_main(void);
const char *co_name(const struct co *c);
enum co_state co_state(const struct co *c);
bool co_dead(const struct co *c);
/* Called on the dying coroutine's stack when its function has returned, before control goes to
 * its parent (the hub wakes its joiners there). */
void co_set_exit_hook(void (*hook)(struct co *c));
void *co_user(const struct co *c);
void co_set_user(struct co *c, void *user);
/* gevent makes the hub the parent of every spawned greenlet: a coroutine that ends goes back there. */
void co_set_parent(struct co *c, struct co *parent);
/* Catch a stack overflow (a fault in a coroutine's guard page): a SIGSEGV handler on an
 * alternate stack prints the coroutine's name and exits 1.  Idempotent; co_new calls it. */
void co_install_overflow_handler(void);
/* How many coroutines are allocated (stacks mapped) now: 0 after a clean run. */
long co_live_stacks(void);
/* "asm" or "ucontext": the switch this build uses. */
const char *co_switch_name(void);

/* ==== The hub: gevent (hub.c) ==== */

/* Start the hub of this thread on the shared event loop ("epoll" by default). */
void hub_init(const char *backend);
/* Free the loop and every coroutine left (suspended ones too: greenlet's GC). */
void hub_fini(void);
const char *hub_backend(void);
/* gevent.spawn(fn, arg): a new coroutine, put on the ready queue (it runs when the caller waits). */
struct co *co_spawn(const char *name, co_fn *fn, void *arg);
/* g.join(): wait until c has ended (from main: run the hub until then).  Returns 0, or -1 when
 * nothing can run any more: the hub has printed "no runnable coroutine" (gevent's LoopExit). */
int co_join(struct co *c);
/* gevent.joinall([...]). */
int co_joinall(struct co **cs, int n);
/* gevent.wait(): run until every spawned coroutine has ended. */
int hub_wait_all(void);
/* The patched time.sleep: a timer on the loop, then switch to the hub.  In main, runs the hub. */
void co_sleep(double units);
/* Block the coroutine until fd is ready for mask (LAB_LOOP_READABLE / WRITABLE). */
void co_wait_fd(int fd, int mask);
/* The patched socket calls: try, and on EAGAIN wait for the fd in the hub. */
int co_accept(int lfd);
ssize_t co_recv(int fd, void *buf, size_t len);
ssize_t co_send_all(int fd, const void *buf, size_t len);
/* gevent.event.Event: wait blocks the coroutine until set. */
struct co_event {
    bool set;
    struct co *waiters[16];
    int nwaiters;
};
void co_event_wait(struct co_event *e);
void co_event_set(struct co_event *e);
/* Coroutines spawned and not ended. */
int hub_live(void);

/* ==== Shared helpers (greenlet.c) ==== */

/* Threads: from /proc/self/status. */
int l11_threads(void);

/* ==== Scenarios ==== */
int run_greenlet(int mode);       /* greenlet.c */
int run_overflow(int mode);       /* greenlet.c */
int run_gevent_info(int mode);    /* gevent.c */
int run_gevent(int mode);         /* gevent.c */
int run_stall(int mode);          /* gevent.c */
int run_server(int mode);         /* server.c */
int run_asyncio(int mode);        /* asyncio.c */
int l11_bench(void);              /* bench.c */

/* The modes, in the order of their .modes lists in main.c. */
enum patch_mode { PATCH_UNPATCHED, PATCH_PATCHED };
enum stall_mode { STALL_FORGOT, STALL_SET };

#endif
