/* labs/12-select-epoll/net.c - sockets on loopback, the spare descriptor, and a clean stop.
 *
 * What every server of the lab needs before it can serve: a listening socket bound to 127.0.0.1
 * (port 0: the kernel picks a free one, so two runs never collide), a way out of EMFILE that does
 * not spin, and SIGINT/SIGTERM turned into a readable descriptor, so that a server waiting in
 * accept, recv, select or epoll_wait sees the signal the same way it sees a client.
 * Python: socket.socket(); server.bind(('127.0.0.1', 8080)); server.listen(5)  ↔  socket, bind,
 * listen(SOMAXCONN) (the notes' backlog of 5 turns away a burst of 200 clients).
 * Python ignores SIGPIPE at start-up and raises BrokenPipeError; C dies of SIGPIPE on the first
 * write to a closed peer, unless it says MSG_NOSIGNAL (as here) or ignores the signal.
 * --trace FILE: the helpers at the end draw what every model does with a connection (lab12.h).
 */
#include "lab.h"
#include "lab12.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int net_listen(int port, bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int net_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    return ntohs(a.sin_port);
}

int net_set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

long net_raise_nofile(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 1024;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
        (void)getrlimit(RLIMIT_NOFILE, &r);
    }
    return r.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)r.rlim_cur;
}

/* ==== EMFILE: the spare descriptor ==== */

static int spare = -1;

void net_spare_open(void)
{
    if (spare < 0)
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void net_spare_close(void)
{
    if (spare >= 0)
        close(spare);
    spare = -1;
}

/* accept() said EMFILE: the connection stays in the backlog and the listener stays readable, so a
 * level-triggered loop would call accept again at once, forever (100% CPU, nothing served).  Free
 * one descriptor, take the connection, close it (the client sees EOF), keep the spare again. */
int net_emfile_shed(int lfd)
{
    if (spare < 0)
        return 0;
    close(spare);
    spare = -1;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    net_spare_open();
    return fd >= 0;
}

int net_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ==== SIGINT/SIGTERM as a descriptor (the self-pipe trick) ==== */

static int self_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_requested;
static struct sigaction old_int, old_term, old_pipe;

static void on_stop_signal(int sig)
{
    (void)sig;
    int err = errno;
    stop_requested = 1;
    if (self_pipe[1] >= 0)
        (void)!write(self_pipe[1], "x", 1);
    errno = err;
}

int net_stop_signals_catch(void)
{
    if (self_pipe[0] < 0 && pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        die("pipe2:");
    stop_requested = 0;
    char drain[16];
    while (read(self_pipe[0], drain, sizeof drain) > 0) {
    }
    struct sigaction sa = { .sa_handler = on_stop_signal };   /* no SA_RESTART: blocking calls return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);   /* a write to a closed peer: EPIPE, not death */
    return self_pipe[0];
}

void net_stop_signals_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
}

bool net_stop_requested(void) { return stop_requested != 0; }

bool net_fd_readable(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

int net_wait_readable(const struct server *srv, int fd)
{
    struct pollfd p[3] = { { .fd = fd, .events = POLLIN }, { .fd = srv->sigfd, .events = POLLIN },
                           { .fd = srv->donefd, .events = POLLIN } };
    for (;;) {
        int n = poll(p, 3, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (p[1].revents || p[2].revents)
            return 0;
        return 1;
    }
}

/* ==== --trace: the connections in Perfetto ==== */

struct l12_trace l12_trace;

bool net_traced(long num) { return l12_trace.detail && num >= 1 && num <= L12_TRACE_CONNS; }

void net_trace_accept(long num, int fd)
{
    if (net_traced(num))
        lab_trace_instant("conn", "accept conn %ld (fd %d)", num, fd);
}

void net_trace_close(long num, int fd)
{
    if (net_traced(num))
        lab_trace_instant("conn", "close conn %ld (fd %d)", num, fd);
}

uint64_t net_trace_flow_id(int k, int r)
{
    if (k < 1 || k > L12_TRACE_CONNS || r < 0 || r >= L12_TRACE_READS)
        return 0;
    return 12ull << 40 | (uint64_t)k << 16 | (uint64_t)r;
}

/* A decimal number at p (at most 9 digits) within end: its value and the end of it, or NULL. */
static const char *number(const char *p, const char *end, int *v)
{
    const char *q = p;
    *v = 0;
    while (q < end && q - p < 9 && *q >= '0' && *q <= '9')
        *v = *v * 10 + (*q++ - '0');
    return q > p ? q : NULL;
}

/* The client's "conn-K say hello R" at the start of the data: its arrow's id, or 0. */
static uint64_t message_flow(const char *data, size_t n)
{
    static const char conn[] = "conn-", say[] = " say hello ";
    const char *p = data, *end = data + n;
    int k, r;
    if (n < sizeof conn - 1 || memcmp(p, conn, sizeof conn - 1) != 0)
        return 0;
    if ((p = number(p + sizeof conn - 1, end, &k)) == NULL || (size_t)(end - p) < sizeof say - 1 ||
        memcmp(p, say, sizeof say - 1) != 0 || number(p + sizeof say - 1, end, &r) == NULL)
        return 0;
    return net_trace_flow_id(k, r);
}

bool net_trace_request(long num, int fd, const struct session *s, const char *data, size_t n)
{
    if (!net_traced(num) || s->requests >= L12_TRACE_READS)
        return false;
    lab_trace_begin("conn", "conn %ld (fd %d): read %zu bytes", num, fd, n);
    uint64_t id = l12_trace.arrows && !s->http ? message_flow(data, n) : 0;
    if (id)
        lab_trace_flow_head("request", id);
    return true;
}

bool net_trace_wait(long *drawn, const char *name)
{
    if (!l12_trace.detail || *drawn > L12_TRACE_WAITS)
        return false;
    if (++*drawn > L12_TRACE_WAITS) {
        lab_trace_instant("wait", "%d waits drawn: the later ones are not", L12_TRACE_WAITS);
        return false;
    }
    lab_trace_begin("wait", "wait: %s", name);
    return true;
}
