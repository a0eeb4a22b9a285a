/* labs/12-select-epoll/evloop.c - one thread, many sockets: select, poll and epoll on common/loop.h.
 *
 * IO multiplexing (IO多路复用): block in one call that watches every socket, and touch only the
 * ones it says are ready.  The notes' select server: r_list, w_list, x_list =
 * select.select(read_list, [], []); if i is server: accept; else recv and send ↔ lab_loop_add(fd,
 * LAB_LOOP_READABLE, callback) and lab_loop_run().  The backend is a name: select (a bitmap of 1024
 * descriptors, rebuilt and scanned on every call; a descriptor >= 1024 is refused here, never
 * written past the bitmap), poll (an array, no limit, still copied and scanned whole each call),
 * epoll (the kernel keeps the interest list and hands back only the ready ones; level-triggered by
 * default, edge-triggered with lab_loop_set_edge: then every callback must read until EAGAIN).
 * Each connection keeps its own buffers: a reply the socket did not take whole waits in `pend`,
 * and reading stops until it is gone (back-pressure: a client that does not read cannot make the
 * server buffer without bound).  No allocation per request, one send per read's replies.
 * Usage: build/lab12 select | poll | epoll [--mode=lt|et] [--conns=N --rounds=M --http]
 * --trace FILE: each select/poll/epoll_wait is a slice "wait: ..." (idle), each read's handling a
 * slice "conn N (fd F): read K bytes" (busy), accepts and closes instants, on the loop's track.
 * Watch for: refused > 0 for select past 1024 descriptors; waits far below the round trips at load.
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct lconn {
    int fd;
    long num;               /* accepted as the num-th (--trace) */
    uint32_t pendlen, pendoff;
    char *pend;
    struct session s;
};

struct ev {
    struct server *srv;
    struct lab_loop *loop;
    struct lconn **byfd;
    int setsize;
    bool edge, told_wall, stop;
    bool in_wait;           /* --trace: the slice of this turn's wait is open */
    long waits_drawn;
    char in[L12_READ];
    char out[L12_OUTCAP];
};

/* --trace: the first callback of a turn ends the slice of the wait. */
static void wait_over(struct ev *e)
{
    if (e->in_wait) {
        lab_trace_end();
        e->in_wait = false;
    }
}

static void close_conn(struct ev *e, struct lconn *c)
{
    net_trace_close(c->num, c->fd);
    lab_loop_del(e->loop, c->fd, LAB_LOOP_READABLE | LAB_LOOP_WRITABLE);
    e->byfd[c->fd] = NULL;
    close(c->fd);
    e->srv->requests += c->s.requests;
    e->srv->active--;
    free(c->pend);
    free(c);
}

static void on_io(struct lab_loop *l, int fd, void *arg, int mask);

/* Send what waits; true when it is all gone (reading may go on). */
static bool flush(struct ev *e, struct lconn *c, bool *dead)
{
    while (c->pendoff < c->pendlen) {
        ssize_t w = send(c->fd, c->pend + c->pendoff, c->pendlen - c->pendoff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return false;
            close_conn(e, c);
            *dead = true;
            return false;
        }
        c->pendoff += (uint32_t)w;
    }
    free(c->pend);
    c->pend = NULL;
    c->pendlen = c->pendoff = 0;
    lab_loop_del(e->loop, c->fd, LAB_LOOP_WRITABLE);
    if (c->s.close_after) {
        close_conn(e, c);
        *dead = true;
        return false;
    }
    lab_loop_add(e->loop, c->fd, LAB_LOOP_READABLE, on_io, e);
    return true;
}

/* Read (once when level-triggered, until EAGAIN when edge-triggered), answer, send. */
static void readable(struct ev *e, struct lconn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, e->in, L12_READ, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {   /* EOF, or ECONNRESET from a client that reset */
            close_conn(e, c);
            return;
        }
        bool drawn = net_trace_request(c->num, c->fd, &c->s, e->in, (size_t)n);
        size_t o = session_feed(&c->s, e->in, (size_t)n, e->out);
        size_t done = 0;
        bool failed = false;
        while (done < o) {
            ssize_t w = send(c->fd, e->out + done, o - done, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno != EAGAIN) {
                failed = true;
                break;
            }
            if (w < 0)
                break;
            done += (size_t)w;
        }
        if (drawn)
            lab_trace_end();
        if (failed) {
            close_conn(e, c);
            return;
        }
        if (done < o) {   /* the socket is full: keep the rest, stop reading until it is sent */
            c->pendlen = (uint32_t)(o - done);
            c->pendoff = 0;
            c->pend = xmalloc(c->pendlen);
            memcpy(c->pend, e->out + done, c->pendlen);
            lab_loop_del(e->loop, c->fd, LAB_LOOP_READABLE);
            lab_loop_add(e->loop, c->fd, LAB_LOOP_WRITABLE, on_io, e);
            return;
        }
        if (c->s.close_after) {
            close_conn(e, c);
            return;
        }
        if (!e->edge)
            return;   /* level-triggered: whatever is left is reported again next turn */
    }
}

static void on_io(struct lab_loop *l, int fd, void *arg, int mask)
{
    (void)l;
    struct ev *e = arg;
    wait_over(e);
    struct lconn *c = e->byfd[fd];
    if (c == NULL)
        return;
    bool dead = false;
    if ((mask & LAB_LOOP_WRITABLE) && c->pend != NULL) {
        if (!flush(e, c, &dead))
            return;
        if (e->edge) {   /* the edge may have come while we were not listening: read now */
            readable(e, c);
            return;
        }
    }
    if ((mask & LAB_LOOP_READABLE) && c->pend == NULL)
        readable(e, c);
}

static void on_accept(struct lab_loop *l, int lfd, void *arg, int mask)
{
    (void)mask;
    struct ev *e = arg;
    wait_over(e);
    struct server *srv = e->srv;
    for (int k = 0; e->edge || k < 64; k++) {   /* edge-triggered: until EAGAIN, or the rest is lost */
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                if (net_emfile_shed(lfd)) {
                    srv->emfile++;
                    continue;
                }
                return;
            }
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;   /* EAGAIN: the backlog is empty */
        }
        srv->accepted++;
        net_trace_accept(srv->accepted, fd);
        if (fd >= e->setsize) {   /* select: FD_SET(1024) would write past the fd_set: refuse */
            if (!e->told_wall && !srv->quiet)
                printf("select: descriptor %d is past FD_SETSIZE=%d: connection refused\n", fd, e->setsize);
            e->told_wall = true;
            srv->refused++;
            net_trace_close(srv->accepted, fd);
            close(fd);
            continue;
        }
        struct lconn *c = malloc(sizeof *c);
        if (c == NULL) {
            net_trace_close(srv->accepted, fd);
            close(fd);
            srv->refused++;
            continue;
        }
        int one = 1;   /* no Nagle: a reply goes out at once, even behind an unacknowledged one */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->num = srv->accepted;
        c->pend = NULL;
        c->pendlen = c->pendoff = 0;
        session_init(&c->s, srv->http);
        e->byfd[fd] = c;
        if (++srv->active > srv->peak_active)
            srv->peak_active = srv->active;
        if (lab_loop_add(l, fd, LAB_LOOP_READABLE, on_io, e) != 0) {
            close_conn(e, c);
            srv->refused++;
        }
    }
}

static void on_stop(struct lab_loop *l, int fd, void *arg, int mask)
{
    (void)l, (void)fd, (void)mask;
    struct ev *e = arg;
    wait_over(e);
    e->stop = true;
}

int serve_loop(struct server *srv)
{
    const char *backend = srv->model == M_SELECT ? "select" : srv->model == M_POLL ? "poll" : "epoll";
    struct ev *e = xcalloc(1, sizeof *e);
    e->srv = srv;
    e->edge = srv->model == M_EPOLL_ET;
    e->setsize = 1024;   /* select's FD_SETSIZE */
    if (srv->model != M_SELECT) {
        struct rlimit rl;   /* as many as the process may open (run_model raised it, or lowered it) */
        getrlimit(RLIMIT_NOFILE, &rl);
        e->setsize = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? 1 << 20 : (int)rl.rlim_cur;
    }
    e->loop = lab_loop_new(backend, e->setsize);
    if (e->loop == NULL) {
        warn_msg("lab_loop_new(%s):", backend);
        free(e);
        return -1;
    }
    if (e->edge)
        lab_loop_set_edge(e->loop, true);
    e->byfd = xcalloc((size_t)e->setsize, sizeof *e->byfd);
    lab_loop_add(e->loop, srv->lfd, LAB_LOOP_READABLE, on_accept, e);
    lab_loop_add(e->loop, srv->sigfd, LAB_LOOP_READABLE, on_stop, e);
    if (srv->donefd >= 0)
        lab_loop_add(e->loop, srv->donefd, LAB_LOOP_READABLE, on_stop, e);
    const char *call = srv->model == M_SELECT ? "select" : srv->model == M_POLL ? "poll" : "epoll_wait";
    while (!e->stop) {
        e->in_wait = net_trace_wait(&e->waits_drawn, call);   /* --trace: idle until a callback */
        int rc = lab_loop_run_once(e->loop, -1);
        wait_over(e);
        if (rc < 0)
            break;
        srv->waits++;   /* one select/poll/epoll_wait call each */
    }
    for (int fd = 0; fd < e->setsize; fd++)
        if (e->byfd[fd] != NULL)
            close_conn(e, e->byfd[fd]);
    lab_loop_free(e->loop);
    free(e->byfd);
    free(e);
    return 0;
}
