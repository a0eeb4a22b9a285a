/* labs/12-select-epoll/uring.c - io_uring: the kernel does the reads and writes; we reap completions.
 *
 * The notes' last model, 异步IO: the program asks for an operation and is told when it is DONE, not
 * when it could be tried (select, poll and epoll say "ready"; the recv and send are still ours).
 * Python's asyncio is readiness-based (epoll plus coroutines); true asynchronous IO on Linux is
 * io_uring: two rings shared with the kernel, a submission queue (SQEs: "recv into this buffer")
 * and a completion queue (CQEs: "that recv got 64 bytes").  One io_uring_enter() call submits a batch
 * and waits for completions: the system calls per message go down with the load.
 * Here by raw system calls (no liburing): io_uring_setup, mmap of the rings, io_uring_enter.  Each
 * connection has exactly one operation in flight (a RECV into its own buffer, or a SEND of its
 * reply), so a buffer is never reused while the kernel owns it.  The listening socket and the stop
 * descriptors are watched with IORING_OP_POLL_ADD (then accept4 until EAGAIN, as the epoll server).
 * Python: loop.sock_recv(conn, 1024) looks the same, but waits for readiness underneath.
 * Usage: build/lab12 io_uring [--conns=N --rounds=M --http --serve]
 * --trace FILE: each io_uring_enter that waits is a slice "wait: io_uring_enter"; each completed
 * RECV's handling a slice (the bytes were read by the kernel already), accepts and closes instants.
 * Watch for: `skipped` where the kernel or a sandbox refuses io_uring_setup (EPERM, ENOSYS: containers
 * and some distributions switch it off); waits (io_uring_enter calls) far below the round trips.
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SQ_ENTRIES 1024u
#define CQ_ENTRIES 32768u   /* more than the operations ever in flight (one per connection) */

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned min_complete, unsigned flags)
{
    return (int)syscall(__NR_io_uring_enter, fd, submit, min_complete, flags, NULL, 0);
}

static int sys_register(int fd, unsigned op, void *arg, unsigned nargs)
{
    return (int)syscall(__NR_io_uring_register, fd, op, arg, nargs);
}

/* ==== The rings ==== */

struct ring {
    int fd;
    void *sq_map, *cq_map;
    size_t sq_len, cq_len;
    struct io_uring_sqe *sqes;
    size_t sqes_len;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned sq_entries, to_submit;
};

static void ring_free(struct ring *r)
{
    if (r->sqes != NULL && r->sqes != MAP_FAILED)
        munmap(r->sqes, r->sqes_len);
    if (r->cq_map != NULL && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
        munmap(r->cq_map, r->cq_len);
    if (r->sq_map != NULL && r->sq_map != MAP_FAILED)
        munmap(r->sq_map, r->sq_len);
    if (r->fd >= 0)
        close(r->fd);   /* cancels what is still in flight */
    r->fd = -1;
}

static int ring_init(struct ring *r, unsigned sq, unsigned cq)
{
    memset(r, 0, sizeof *r);
    struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE, .cq_entries = cq };
    r->fd = sys_setup(sq, &p);
    if (r->fd < 0)
        return -1;
    r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if ((p.features & IORING_FEAT_SINGLE_MMAP) && r->cq_len > r->sq_len)
        r->sq_len = r->cq_len;
    r->sq_map = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED)
        goto fail;
    r->cq_map = (p.features & IORING_FEAT_SINGLE_MMAP) ? r->sq_map
              : mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
    if (r->cq_map == MAP_FAILED)
        goto fail;
    r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED)
        goto fail;
    char *sqb = r->sq_map, *cqb = r->cq_map;
    r->sq_head = (unsigned *)(sqb + p.sq_off.head);
    r->sq_tail = (unsigned *)(sqb + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sqb + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sqb + p.sq_off.array);
    r->cq_head = (unsigned *)(cqb + p.cq_off.head);
    r->cq_tail = (unsigned *)(cqb + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cqb + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cqb + p.cq_off.cqes);
    r->sq_entries = p.sq_entries;
    for (unsigned i = 0; i < p.sq_entries; i++)
        r->sq_array[i] = i;   /* slot i of the ring is SQE i */
    return 0;
fail: {
    int err = errno;
    ring_free(r);
    errno = err;
    return -1;
}
}

/* The next free submission entry, zeroed; when the ring is full, what is queued is submitted first. */
static struct io_uring_sqe *ring_sqe(struct ring *r)
{
    unsigned tail = *r->sq_tail;
    if (tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >= r->sq_entries) {
        while (sys_enter(r->fd, r->to_submit, 0, 0) < 0 && errno == EINTR) {
        }
        r->to_submit = 0;
    }
    struct io_uring_sqe *e = &r->sqes[tail & *r->sq_mask];
    memset(e, 0, sizeof *e);
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    r->to_submit++;
    return e;
}

/* ==== Is it there? ==== */

bool uring_available(char *why, size_t len)
{
    struct ring r;
    if (ring_init(&r, 4, 8) != 0) {
        int err = errno;
        snprintf(why, len, "io_uring_setup: %s (%s): the kernel or a sandbox refuses io_uring", lab_errno_name(err),
                 strerror(err));
        return false;
    }
    size_t plen = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
    struct io_uring_probe *probe = xcalloc(1, plen);
    bool ok = sys_register(r.fd, IORING_REGISTER_PROBE, probe, 256) == 0;
    static const int need[] = { IORING_OP_POLL_ADD, IORING_OP_RECV, IORING_OP_SEND };
    for (size_t i = 0; ok && i < sizeof need / sizeof need[0]; i++)
        ok = need[i] <= probe->last_op && (probe->ops[need[i]].flags & IO_URING_OP_SUPPORTED);
    if (!ok)
        snprintf(why, len, "this kernel's io_uring has no POLL_ADD, RECV or SEND (Linux 5.6 or later has them)");
    free(probe);
    ring_free(&r);
    return ok;
}

/* ==== The server ==== */

enum { OP_LISTEN = 1, OP_STOP, OP_RECV, OP_SEND };

/* One connection: one buffer for its bytes in (RECV) and then its reply out (SEND). */
struct uconn {
    int fd;
    long num;                   /* accepted as the num-th (--trace) */
    uint32_t outlen, outoff;
    char *big;                  /* a reply longer than buf (HTTP, many pipelined requests) */
    struct session s;
    char buf[L12_READ];
};

struct userver {
    struct server *srv;
    struct ring ring;
    struct uconn **byfd;
    int setsize;
    long inflight;              /* RECVs and SENDs the kernel still owns (their buffers with them) */
    long waits_drawn;           /* --trace */
    bool stop;
    char out[L12_OUTCAP];       /* session_feed's scratch: the replies to one read */
};

/* user_data: the descriptor and the operation */
static uint64_t tag(int fd, int op) { return (uint64_t)(uint32_t)fd << 8 | (uint64_t)op; }

static void submit_poll(struct userver *u, int fd, int op)
{
    struct io_uring_sqe *e = ring_sqe(&u->ring);
    e->opcode = IORING_OP_POLL_ADD;
    e->fd = fd;
    e->poll32_events = POLLIN;
    e->user_data = tag(fd, op);
}

static void submit_recv(struct userver *u, struct uconn *c)
{
    struct io_uring_sqe *e = ring_sqe(&u->ring);
    e->opcode = IORING_OP_RECV;
    e->fd = c->fd;
    e->addr = (uint64_t)(uintptr_t)c->buf;
    e->len = sizeof c->buf;
    e->user_data = tag(c->fd, OP_RECV);
    u->inflight++;
}

static void submit_send(struct userver *u, struct uconn *c)
{
    struct io_uring_sqe *e = ring_sqe(&u->ring);
    e->opcode = IORING_OP_SEND;
    e->fd = c->fd;
    e->addr = (uint64_t)(uintptr_t)((c->big ? c->big : c->buf) + c->outoff);
    e->len = c->outlen - c->outoff;
    e->msg_flags = MSG_NOSIGNAL;
    e->user_data = tag(c->fd, OP_SEND);
    u->inflight++;
}

static void close_conn(struct userver *u, struct uconn *c)
{
    u->byfd[c->fd] = NULL;
    net_trace_close(c->num, c->fd);
    close(c->fd);
    u->srv->requests += c->s.requests;
    u->srv->active--;
    free(c->big);
    free(c);
}

/* The listener is readable: accept until EAGAIN (accepted sockets stay blocking: io_uring waits
 * for them itself), give each a RECV, watch the listener again. */
static void on_listen(struct userver *u)
{
    struct server *srv = u->srv;
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if ((errno == EMFILE || errno == ENFILE) && net_emfile_shed(srv->lfd)) {
                srv->emfile++;
                continue;
            }
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;   /* EAGAIN: the backlog is empty */
        }
        srv->accepted++;
        net_trace_accept(srv->accepted, fd);
        struct uconn *c = fd < u->setsize ? calloc(1, sizeof *c) : NULL;   /* calloc: see README (Valgrind) */
        if (c == NULL) {
            net_trace_close(srv->accepted, fd);
            close(fd);
            srv->refused++;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->num = srv->accepted;
        session_init(&c->s, srv->http);
        u->byfd[fd] = c;
        if (++srv->active > srv->peak_active)
            srv->peak_active = srv->active;
        submit_recv(u, c);
    }
    submit_poll(u, srv->lfd, OP_LISTEN);
}

static void on_recv(struct userver *u, struct uconn *c, int res)
{
    if (res <= 0) {   /* EOF, or a reset */
        close_conn(u, c);
        return;
    }
    bool drawn = net_trace_request(c->num, c->fd, &c->s, c->buf, (size_t)res);   /* the RECV's bytes */
    size_t o = session_feed(&c->s, c->buf, (size_t)res, u->out);
    if (drawn)
        lab_trace_end();
    if (o == 0) {   /* HTTP: half a request so far */
        if (c->s.close_after)
            close_conn(u, c);
        else
            submit_recv(u, c);
        return;
    }
    if (o <= sizeof c->buf) {
        memcpy(c->buf, u->out, o);
    } else {
        c->big = xmalloc(o);
        memcpy(c->big, u->out, o);
    }
    c->outlen = (uint32_t)o;
    c->outoff = 0;
    submit_send(u, c);
}

static void on_send(struct userver *u, struct uconn *c, int res)
{
    if (res < 0) {   /* EPIPE, ECONNRESET: the peer is gone */
        close_conn(u, c);
        return;
    }
    c->outoff += (uint32_t)res;
    if (c->outoff < c->outlen) {   /* a partial send: the rest */
        submit_send(u, c);
        return;
    }
    free(c->big);
    c->big = NULL;
    if (c->s.close_after)
        close_conn(u, c);
    else
        submit_recv(u, c);
}

int serve_uring(struct server *srv)
{
    struct userver *u = xcalloc(1, sizeof *u);
    u->srv = srv;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    u->setsize = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? 1 << 20 : (int)rl.rlim_cur;
    if (ring_init(&u->ring, SQ_ENTRIES, CQ_ENTRIES) != 0) {
        warn_msg("io_uring_setup:");
        free(u);
        return -1;
    }
    u->byfd = xcalloc((size_t)u->setsize, sizeof *u->byfd);
    submit_poll(u, srv->lfd, OP_LISTEN);
    submit_poll(u, srv->sigfd, OP_STOP);
    if (srv->donefd >= 0)
        submit_poll(u, srv->donefd, OP_STOP);
    struct ring *r = &u->ring;
    while (!u->stop) {
        /* submit what is queued, wait for at least one completion: one system call */
        bool drawn = net_trace_wait(&u->waits_drawn, "io_uring_enter");
        int rc = sys_enter(r->fd, r->to_submit, 1, IORING_ENTER_GETEVENTS);
        if (drawn)
            lab_trace_end();
        if (rc < 0 && errno != EINTR && errno != EBUSY) {
            warn_msg("io_uring_enter:");
            break;
        }
        if (rc > 0)
            r->to_submit -= (unsigned)rc < r->to_submit ? (unsigned)rc : r->to_submit;
        srv->waits++;
        unsigned head = *r->cq_head, tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
            int fd = (int)(cqe->user_data >> 8), op = (int)(cqe->user_data & 0xff), res = cqe->res;
            __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
            if (op == OP_STOP) {
                u->stop = true;
            } else if (op == OP_LISTEN) {
                on_listen(u);
            } else {
                u->inflight--;
                struct uconn *c = fd >= 0 && fd < u->setsize ? u->byfd[fd] : NULL;
                if (c != NULL && !u->stop)
                    op == OP_RECV ? on_recv(u, c, res) : on_send(u, c, res);
            }
        }
    }
    /* Stop: shut every connection down, so that the kernel ends its RECVs and SENDs (EOF, EPIPE),
     * and wait for them: a buffer must not be freed while the kernel may still write into it. */
    for (int fd = 0; fd < u->setsize; fd++)
        if (u->byfd[fd] != NULL)
            shutdown(fd, SHUT_RDWR);
    double deadline = lab_now_ms() + lab_bound_ms(1);
    while (u->inflight > 0 && lab_now_ms() < deadline) {
        if (r->to_submit > 0 && sys_enter(r->fd, r->to_submit, 0, 0) >= 0)
            r->to_submit = 0;
        struct pollfd pf = { .fd = r->fd, .events = POLLIN };
        if (poll(&pf, 1, 100) < 0 && errno != EINTR)
            break;
        unsigned head = *r->cq_head, tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            int op = (int)(r->cqes[head & *r->cq_mask].user_data & 0xff);
            __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
            if (op == OP_RECV || op == OP_SEND)
                u->inflight--;
        }
    }
    bool drained = u->inflight == 0;
    ring_free(&u->ring);   /* cancels the polls still armed (and anything left) */
    for (int fd = 0; fd < u->setsize; fd++)
        if (u->byfd[fd] != NULL) {
            if (drained) {
                close_conn(u, u->byfd[fd]);
            } else {   /* the kernel did not give the buffers back in time: leave them, close only */
                close(fd);
                srv->active--;
            }
        }
    free(u->byfd);
    free(u);
    return 0;
}
