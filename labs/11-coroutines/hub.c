/* labs/11-coroutines/hub.c - a gevent-style hub: a ready queue, timers and sockets on one event loop.
 *
 * greenlet only switches where you tell it to.  gevent adds a hub: a scheduler that runs in the
 * main coroutine and owns the shared event loop (common/loop: epoll, poll or select, and a timer
 * heap whose ties run in the order they were added).  A coroutine that would block - sleep, wait
 * for a socket, join another, wait for an event - registers what it waits for and switches to the
 * hub; the hub runs the next ready coroutine, and when none is ready it waits in the loop until a
 * timer is due or a descriptor is ready, which puts its coroutine back on the ready queue.
 *   Python (gevent)                    C (this file)
 *   gevent.spawn(f) / g.join()         co_spawn("f", f, arg) / co_join(g)
 *   gevent.joinall([g1, g2])           co_joinall(gs, 2)
 *   time.sleep after patch_all()       co_sleep(units): a timer, then switch to the hub
 *   socket.recv after patch_all()      co_recv: try; on EAGAIN wait for EPOLLIN in the hub
 *   gevent.event.Event                 struct co_event, co_event_wait/co_event_set
 *   LoopExit "would block forever"     "no runnable coroutine: N stalled: ..."  (exit 1)
 * The main program is the hub's coroutine: when main waits (join, sleep), the hub runs until what
 * main waits for has happened.  One OS thread all along.
 * --trace FILE: the hub's waits in the loop are slices on MainThread ("hub: wait (epoll)"), each
 * wake-up an instant ("wake a (sleep)") on the track of whoever woke it; coro.c draws the switches.
 * Watch for: nothing ready and nothing to wait for means nobody can ever wake the others: the hub
 * names them instead of sleeping forever (libtask's "no runnable tasks").
 */
#include "lab.h"
#include "lab11.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct task {
    struct co *co;              /* NULL for main */
    bool woken;                 /* what it waited for has happened */
    bool queued;                /* on the ready queue */
    const char *why;            /* what it waits for ("sleep", "event", "join a", ...), NULL: ready */
    char why_buf[48];
    struct task *next;          /* ready queue */
    struct task *joiners;       /* tasks waiting for this one to end */
    struct task *join_next;
    struct task *all_next;      /* every spawned task, in spawn order */
};

static struct {
    struct lab_loop *loop;
    struct task main;           /* the main coroutine, where the hub runs */
    struct task *head, *tail;   /* the ready queue: FIFO */
    struct task *all;
    int live;                   /* spawned and not ended */
} hub;

static struct task *self(void)
{
    struct co *c = co_current();
    return c == co_main() ? &hub.main : co_user(c);
}

/* Make t runnable: a coroutine goes on the ready queue; main just notes it. */
static void wake(struct task *t)
{
    if (lab_trace_on() && t->why)   /* a spawned one is ready without waiting: no wake-up */
        lab_trace_instant("hub", "wake %s (%s)", t == &hub.main ? "main" : co_name(t->co), t->why);
    t->woken = true;
    t->why = NULL;
    if (t == &hub.main || t->queued)
        return;
    t->queued = true;
    t->next = NULL;
    if (hub.tail)
        hub.tail->next = t;
    else
        hub.head = t;
    hub.tail = t;
}

static void on_exit_hook(struct co *c)
{
    struct task *t = co_user(c);
    if (t == NULL)
        return;
    hub.live--;
    for (struct task *j = t->joiners; j; j = j->join_next)
        wake(j);
    t->joiners = NULL;
}

void hub_init(const char *backend)
{
    memset(&hub, 0, sizeof hub);
    hub.loop = lab_loop_new(backend, 1024);
    if (hub.loop == NULL)
        die("lab_loop_new(%s):", backend ? backend : "best");
    co_set_exit_hook(on_exit_hook);
}

void hub_fini(void)
{
    while (hub.all) {
        struct task *t = hub.all;
        hub.all = t->all_next;
        co_free(t->co);            /* suspended ones too: their stacks are simply unmapped */
        free(t);
    }
    lab_loop_free(hub.loop);
    hub.loop = NULL;
    co_set_exit_hook(NULL);
}

const char *hub_backend(void) { return lab_loop_backend(hub.loop); }
int hub_live(void) { return hub.live; }

/* Nothing is ready and the loop has nothing to wait for: name who is stuck, and why. */
static void report_stall(void)
{
    char names[400] = "";
    size_t len = 0;
    int n = 0;
    for (struct task *t = hub.all; t; t = t->all_next)
        if (!co_dead(t->co)) {
            n++;
            len += (size_t)snprintf(names + len, len < sizeof names ? sizeof names - len : 0, "%s%s (%s)",
                                    len ? ", " : "", co_name(t->co), t->why ? t->why : "?");
            if (len >= sizeof names)
                len = sizeof names - 1;
        }
    lab_say("no runnable coroutine: %d stalled: %s", n, names);
    if (hub.main.why)
        lab_say("  and main waits in %s: nothing can ever wake any of them (gevent: LoopExit)", hub.main.why);
}

/* The hub: run ready coroutines, else wait in the loop, until done(arg).  -1 when stalled. */
static int run_until(bool (*done)(void *), void *arg)
{
    while (!done(arg)) {
        if (hub.head) {
            struct task *t = hub.head;
            hub.head = t->next;
            if (hub.head == NULL)
                hub.tail = NULL;
            t->queued = false;
            co_switch(t->co);            /* back here when it blocks or ends */
        } else if (lab_loop_nfiles(hub.loop) > 0 || lab_loop_ntimers(hub.loop) > 0) {
            lab_trace_begin("hub", "hub: wait (%s)", lab_loop_backend(hub.loop));
            if (lab_loop_run_once(hub.loop, -1) < 0)
                die("lab_loop_run_once:");
            lab_trace_end();
        } else {
            report_stall();
            return -1;
        }
    }
    return 0;
}

static bool flag_set(void *arg) { return *(bool *)arg; }
static bool all_ended(void *arg) { (void)arg; return hub.live == 0; }

/* Wait until woken: a coroutine switches to the hub, main runs the hub meanwhile. */
static int block(struct task *t, const char *why)
{
    t->woken = false;
    t->why = why;
    if (t == &hub.main)
        return run_until(flag_set, &hub.main.woken);
    co_switch(co_main());
    return 0;
}

struct co *co_spawn(const char *name, co_fn *fn, void *arg)
{
    struct co *c = co_new(name, fn, arg, 0);
    co_set_parent(c, co_main());         /* gevent: the hub is every greenlet's parent */
    struct task *t = xcalloc(1, sizeof *t);
    t->co = c;
    co_set_user(c, t);
    struct task **end = &hub.all;       /* in spawn order, for the stall report */
    while (*end)
        end = &(*end)->all_next;
    *end = t;
    hub.live++;
    wake(t);                             /* ready; it runs when the spawner waits */
    return c;
}

int co_join(struct co *c)
{
    struct task *me = self(), *t = co_user(c);
    if (co_dead(c))
        return 0;
    me->join_next = t->joiners;
    t->joiners = me;
    snprintf(me->why_buf, sizeof me->why_buf, "join %s", co_name(c));
    return block(me, me->why_buf);
}

int co_joinall(struct co **cs, int n)
{
    for (int i = 0; i < n; i++)
        if (co_join(cs[i]) != 0)
            return -1;
    return 0;
}

int hub_wait_all(void)
{
    return run_until(all_ended, NULL);
}

static double on_timer(struct lab_loop *l, long long id, void *arg)
{
    (void)l, (void)id;
    wake(arg);
    return LAB_LOOP_NOMORE;
}

void co_sleep(double units)
{
    struct task *me = self();
    if (lab_loop_timer_add(hub.loop, lab_units_ms(units), on_timer, me) < 0)
        die("lab_loop_timer_add:");
    block(me, "sleep");
}

static void on_fd(struct lab_loop *l, int fd, void *arg, int mask)
{
    lab_loop_del(l, fd, mask);
    wake(arg);
}

void co_wait_fd(int fd, int mask)
{
    struct task *me = self();
    if (lab_loop_add(hub.loop, fd, mask, on_fd, me) == -1)
        die("lab_loop_add(fd %d):", fd);
    block(me, mask & LAB_LOOP_READABLE ? "recv" : "send");
}

int co_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            co_wait_fd(lfd, LAB_LOOP_READABLE);
        else if (errno != EINTR && errno != ECONNABORTED)
            return -1;
    }
}

ssize_t co_recv(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            co_wait_fd(fd, LAB_LOOP_READABLE);
        else if (errno != EINTR)
            return -1;
    }
}

ssize_t co_send_all(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        /* MSG_NOSIGNAL: a peer that has gone is EPIPE here, not a SIGPIPE that kills the server */
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n >= 0)
            done += (size_t)n;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            co_wait_fd(fd, LAB_LOOP_WRITABLE);
        else if (errno != EINTR)
            return -1;
    }
    return (ssize_t)done;
}

void co_event_wait(struct co_event *e)
{
    if (e->set)
        return;
    struct task *me = self();
    if (e->nwaiters == (int)(sizeof e->waiters / sizeof e->waiters[0]))
        die("co_event_wait: too many waiters");
    e->waiters[e->nwaiters++] = me == &hub.main ? NULL : co_current();
    block(me, "event wait");
}

void co_event_set(struct co_event *e)
{
    e->set = true;
    for (int i = 0; i < e->nwaiters; i++)
        wake(e->waiters[i] ? co_user(e->waiters[i]) : &hub.main);
    e->nwaiters = 0;
}
