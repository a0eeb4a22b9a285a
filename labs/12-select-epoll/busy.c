/* labs/12-select-epoll/busy.c - the notes' non-blocking server: a busy loop over every socket.
 *
 * server.setblocking(False); then forever: try accept (BlockingIOError: nobody), try recv on every
 * connection (BlockingIOError: nothing yet), close the ones that ended after the scan (the notes'
 * del_List).  Nothing ever waits (同步非阻塞), so the loop spins: the CPU time it burns is measured
 * with getrusage and set beside the wall time (非阻塞IO模型会长时间占用CPU并且不干活).
 * The notes' bug, mode `notes`: on Linux an accepted socket does NOT inherit O_NONBLOCK from the
 * listener (Python's conn.getblocking() is True), so conn.recv on one idle client blocks the whole
 * loop: one silent client is connected first, and nobody is served until it leaves.  Mode `fixed`
 * accepts with accept4(..., SOCK_NONBLOCK).
 * Usage: build/lab12 nonblocking [--mode=notes|fixed] [--conns=N --rounds=M]
 * --trace FILE: one slice "busy loop" for the whole run (no wait in it, ever), accepts, reads and
 * closes inside it; in mode notes, the stretch where recv blocked on the silent client is empty.
 * Watch for: spins far above events, cpu_ms close to wall_ms.
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nbconn {
    int fd;
    long num;               /* accepted as the num-th (--trace) */
    char *pend;             /* what a full socket buffer did not take yet */
    size_t pendlen, pendoff;
    struct session s;
};

/* Try to send what is pending: false when the connection must go. */
static bool flush(struct nbconn *c)
{
    while (c->pendoff < c->pendlen) {
        ssize_t w = send(c->fd, c->pend + c->pendoff, c->pendlen - c->pendoff, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR;
        c->pendoff += (size_t)w;
    }
    free(c->pend);
    c->pend = NULL;
    c->pendlen = c->pendoff = 0;
    return true;
}

int serve_nonblocking(struct server *srv)
{
    size_t n = 0, cap = 64;
    struct nbconn **conns = xmalloc(cap * sizeof *conns);
    char *in = xmalloc(L12_READ), *out = xmalloc(L12_OUTCAP);
    long events = 0;
    lab_trace_begin("wait", "busy loop: it never waits");   /* --trace: no idle gap on its track */
    for (;;) {
        srv->spins++;
        if (net_stop_requested() || ((srv->spins & 63) == 0 && net_fd_readable(srv->donefd)))
            break;
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | (srv->notes_bug ? 0 : SOCK_NONBLOCK));
        if (fd >= 0) {
            events++;
            srv->accepted++;
            net_trace_accept(srv->accepted, fd);
            if (n == cap) {
                cap *= 2;
                struct nbconn **bigger = realloc(conns, cap * sizeof *bigger);
                if (bigger == NULL)
                    die("realloc:");
                conns = bigger;
            }
            struct nbconn *c = xcalloc(1, sizeof *c);
            c->fd = fd;
            c->num = srv->accepted;
            session_init(&c->s, srv->http);
            conns[n++] = c;
            if ((long)n > srv->peak_active)
                srv->peak_active = (long)n;
        } else if (errno == EMFILE || errno == ENFILE) {
            srv->emfile += net_emfile_shed(srv->lfd);
        }
        size_t dead = 0;
        for (size_t i = 0; i < n; i++) {
            struct nbconn *c = conns[i];
            bool gone = false;
            if (c->pend != NULL) {
                gone = !flush(c);
            } else {
                ssize_t r = recv(c->fd, in, L12_READ, 0);   /* notes: a blocking socket waits here */
                if (r > 0) {
                    events++;
                    bool drawn = net_trace_request(c->num, c->fd, &c->s, in, (size_t)r);
                    size_t o = session_feed(&c->s, in, (size_t)r, out);
                    ssize_t w = o ? send(c->fd, out, o, MSG_NOSIGNAL) : 0;
                    if (drawn)
                        lab_trace_end();
                    if (w < 0 && errno != EAGAIN) {
                        gone = true;
                    } else if ((size_t)(w < 0 ? 0 : w) < o) {
                        size_t done = (size_t)(w < 0 ? 0 : w);
                        c->pendlen = o - done;
                        c->pend = xmalloc(c->pendlen);
                        memcpy(c->pend, out + done, c->pendlen);
                    }
                    gone = gone || (c->s.close_after && c->pend == NULL);
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    gone = true;
                }
            }
            if (gone) {   /* del_List: removed after the scan, not while walking the list */
                srv->requests += c->s.requests;
                net_trace_close(c->num, c->fd);
                close(c->fd);
                free(c->pend);
                free(c);
                conns[i] = NULL;
                dead++;
            }
        }
        if (dead) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (conns[i] != NULL)
                    conns[k++] = conns[i];
            n = k;
        }
    }
    lab_trace_end();
    for (size_t i = 0; i < n; i++) {
        srv->requests += conns[i]->s.requests;
        net_trace_close(conns[i]->num, conns[i]->fd);
        close(conns[i]->fd);
        free(conns[i]->pend);
        free(conns[i]);
    }
    free(conns);
    free(in);
    free(out);
    srv->waits = events;   /* the events the spins were for */
    return 0;
}
