/* labs/11-coroutines/server.c - scenario `server`: the notes' gevent TCP server, one OS thread.
 *
 * The server spawns one coroutine per accepted connection; each reads up to 1024 bytes and sends
 * them back upper-cased, until the client closes (recv returns 0).  With the sockets non-blocking,
 * co_accept/co_recv/co_send_all try the call and, on EAGAIN, wait for the descriptor in the hub
 * (EPOLLIN or EPOLLOUT on the shared loop), so 200 connections are served by 200 coroutines in ONE
 * thread: the server reads Threads: from /proc/self/status while they are all connected.
 * The client is the notes' one: 200 threads, each sending "Thread-N (client) say hello n" and
 * checking the reply, in a child process (its threads are not the server's).  It sends --msgs
 * messages per thread (the notes' loop never ends) and checks every reply byte for byte.
 *   Python                                   C
 *   server.listen(5)                         listen(fd, SOMAXCONN): 200 clients connect at once
 *   conn, addr = server.accept()             co_accept(lfd): EAGAIN -> wait in the hub
 *   spawn(comunication, conn)                co_spawn("conn-N", communication, fd)
 *   conn.send(data.upper())                  co_send_all(fd, ..., MSG_NOSIGNAL): all bytes, no SIGPIPE
 * Usage: lab11 server [--clients=200] [--msgs=5]     (first line: LISTENING port=N)
 * --trace FILE: each connection's coroutine has its track ("coroutine conn-7"): its accept is an
 * instant on the server coroutine's track, each echo and its close instants on its own.
 * Watch for: ok equal to msgs, server_threads=1.  TCP has no message boundaries: the client reads
 * exactly as many bytes as it sent.
 */
#include "lab.h"
#include "lab11.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct shared {                 /* filled in by the client process */
    atomic_int ok, bad, connected;
    char first_sent[96], first_reply[96];
};

struct server {
    int lfd, port, clients, accepted, peak_threads, conns_spawned;
    int exit_fd;                /* readable (EOF) when the client process has ended */
    bool client_gone;
};

static struct server srv;

/* ==== The server: coroutines in one thread ==== */

static void communication(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[1024];
    for (;;) {
        ssize_t n = co_recv(fd, buf, sizeof buf);      /* data = conn.recv(1024) */
        if (n <= 0)                                    /* 0: the client closed; -1: ECONNRESET */
            break;
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        lab_trace_instant("conn", "echo %zd bytes (fd %d)", n, fd);
        if (co_send_all(fd, buf, (size_t)n) < 0)       /* conn.send(data.upper()) */
            break;
    }
    lab_trace_instant("conn", "close (fd %d)", fd);
    close(fd);
}

static void acceptor(void *arg)
{
    (void)arg;
    while (srv.accepted < srv.clients && !srv.client_gone) {
        int fd = co_accept(srv.lfd);                   /* conn, addr = server.accept() */
        if (fd < 0)
            break;                                     /* the listener was shut down */
        srv.accepted++;
        char name[32];
        snprintf(name, sizeof name, "conn-%d", srv.accepted);
        lab_trace_instant("conn", "accept %s (fd %d)", name, fd);
        co_spawn(name, communication, (void *)(intptr_t)fd);
        srv.conns_spawned++;
        int t = l11_threads();
        if (t > srv.peak_threads)
            srv.peak_threads = t;
    }
}

/* Waits for the client process to end; if it ends before connecting them all, stop accepting. */
static void client_watch(void *arg)
{
    (void)arg;
    char c;
    for (;;) {
        ssize_t n = read(srv.exit_fd, &c, 1);          /* a pipe: read(2), not recv(2) */
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;                                     /* EOF: the client process has ended */
        if (n < 0 && errno == EAGAIN)
            co_wait_fd(srv.exit_fd, LAB_LOOP_READABLE);
    }
    srv.client_gone = true;
    if (srv.accepted < srv.clients)
        shutdown(srv.lfd, SHUT_RD);                    /* accept now fails: the acceptor ends */
}

/* ==== The client: the notes' threads, in a child process ==== */

struct client_arg {
    int port, msgs;
    struct shared *sh;
};

static bool recv_exactly(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            return false;           /* closed, or SO_RCVTIMEO ran out */
        got += (size_t)n;
    }
    return true;
}

static void *client(void *arg)
{
    struct client_arg *ca = arg;
    const char *me = lab_thread_name(lab_current_thread());
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)ca->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    double bound = lab_bound_ms(0);
    struct timeval tv = { .tv_sec = (time_t)(bound / 1000), .tv_usec = 0 };
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
        atomic_fetch_add(&ca->sh->bad, ca->msgs);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    atomic_fetch_add(&ca->sh->connected, 1);
    for (int n = 1; n <= ca->msgs; n++) {
        char msg[96], want[96], got[96];
        int len = snprintf(msg, sizeof msg, "%s say hello %d", me, n);   /* '%s say hello %s' */
        for (int i = 0; i <= len; i++)
            want[i] = (char)toupper((unsigned char)msg[i]);
        bool ok = send(fd, msg, (size_t)len, MSG_NOSIGNAL) == len && recv_exactly(fd, got, (size_t)len) &&
                  memcmp(got, want, (size_t)len) == 0;
        atomic_fetch_add(ok ? &ca->sh->ok : &ca->sh->bad, 1);
        if (ok && n == 1 && lab_thread_number(lab_current_thread()) == 1) {
            snprintf(ca->sh->first_sent, sizeof ca->sh->first_sent, "%s", msg);
            snprintf(ca->sh->first_reply, sizeof ca->sh->first_reply, "%.*s", len, got);
        }
        if (!ok)
            break;
    }
    close(fd);                      /* the server's recv returns 0: its coroutine ends */
    return NULL;
}

static int client_process(struct lab_proc *self)
{
    struct client_arg *ca = self->arg;
    close(srv.lfd);
    close(srv.exit_fd);
    struct lab_thread *t[1000];
    for (int i = 0; i < srv.clients; i++) {
        t[i] = lab_thread_new(client, ca, "client");
        lab_thread_set_stack_size(t[i], 256 * 1024);
        lab_thread_start_or_die(t[i]);
    }
    for (int i = 0; i < srv.clients; i++)
        lab_thread_join(t[i]);
    return 0;
}

int run_server(int mode)
{
    (void)mode;
    memset(&srv, 0, sizeof srv);
    srv.clients = (int)lab_opt("clients");
    int msgs = (int)lab_opt("msgs");
    srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    if (srv.lfd < 0 || setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(srv.lfd, (struct sockaddr *)&a, sizeof a) == -1 || listen(srv.lfd, SOMAXCONN) == -1 ||
        getsockname(srv.lfd, (struct sockaddr *)&a, &alen) == -1)
        die("listening socket:");
    srv.port = ntohs(a.sin_port);
    lab_say("LISTENING port=%d", srv.port);

    struct shared *sh = lab_shared_alloc(sizeof *sh);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) == -1)
        die("pipe2:");
    struct client_arg ca = { .port = srv.port, .msgs = msgs, .sh = sh };
    srv.exit_fd = pfd[0];
    struct lab_proc p = LAB_PROC_INIT(client_process, &ca);
    lab_proc_start_or_die(&p);      /* the child holds pfd[1] until it ends */
    close(pfd[1]);
    lab_say("server: one thread, one coroutine per connection; client: %s with %d threads x %d messages",
            p.name, srv.clients, msgs);

    hub_init(NULL);
    if (fcntl(srv.exit_fd, F_SETFL, O_NONBLOCK) == -1)
        die("fcntl:");
    co_spawn("server", acceptor, NULL);
    co_spawn("client-watch", client_watch, NULL);
    int rc = hub_wait_all();        /* until every connection and the client have ended */
    const char *backend = hub_backend();
    int threads_now = l11_threads();
    if (threads_now > srv.peak_threads)
        srv.peak_threads = threads_now;
    hub_fini();
    close(srv.lfd);
    close(srv.exit_fd);
    bool joined = lab_proc_join_ms(&p, lab_bound_ms(1));
    int code = joined ? lab_proc_exitcode(&p) : -1;

    int ok = atomic_load(&sh->ok), bad = atomic_load(&sh->bad);
    if (sh->first_sent[0])
        lab_say("client Thread-1 sent \"%s\", got \"%s\"", sh->first_sent, sh->first_reply);
    lab_say("%d connections, %d coroutines, %d server thread(s) (%s); %d of %d replies right",
            srv.accepted, srv.conns_spawned, srv.peak_threads, backend, ok, srv.clients * msgs);
    lab_result("clients=%d msgs=%d ok=%d bad=%d connected=%d server_threads=%d client_exit=%d", srv.clients,
               srv.clients * msgs, ok, bad, atomic_load(&sh->connected), srv.peak_threads, code);
    lab_shared_free(sh, sizeof *sh);
    bool good = rc == 0 && code == 0 && ok == srv.clients * msgs && bad == 0 && srv.peak_threads == 1;
    return good ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
