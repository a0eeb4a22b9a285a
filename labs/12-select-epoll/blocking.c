/* labs/12-select-epoll/blocking.c - blocking IO: one client at a time, a thread each, a process each.
 *
 * blocking: accept, then recv/send on that one connection until it closes, then accept the next.
 * Every call waits (同步阻塞), so a second client waits in the listen backlog until the first
 * leaves, and one silent client stalls everyone: the lesson, not a bug.
 * threads: the notes' server, t = Thread(target=talk, args=(conn,)); t.start() per accepted
 * connection ↔ lab_thread_new + lab_thread_start: each thread blocks on its own socket, the kernel
 * switches between them.  Memory (a stack each) and switches grow with the connections.
 * fork: a process per connection (the notes' Process version): each child serves one socket and
 * _exits; the parent closes its copy of the socket and reaps the children, or they stay zombies.
 * The poll() before each accept and recv only lets Ctrl-C (and "the clients are done") end the
 * wait; the call after it is the blocking one.
 * Usage: build/lab12 blocking | threads | fork [--conns=N --rounds=M --http --silent=K ...]
 * --trace FILE: the waits in accept and recv are slices ("wait: accept", "wait: recv conn N"), each
 * read's handling too, on the track of whoever serves the connection: the main thread (blocking),
 * the connection's thread (threads: "Thread-N (talk)"), the connection's process (fork: "conn N").
 * Watch for: peak_active=1 for blocking; a thread or a child per connection in the others.
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The buffers of one blocking session (a thread's own, or the one of the single-threaded model). */
struct bconn {
    int fd;
    long num;               /* accepted as the num-th (--trace) */
    bool done;              /* guarded by the registry lock (threads) */
    struct lab_thread *t;
    struct session s;
    char in[L12_READ];
    char out[L12_OUTCAP];
};

/* Serve one connection with blocking calls until it closes; the requests answered. */
static long serve_one(struct bconn *c, bool http, const struct server *srv)
{
    session_init(&c->s, http);
    for (;;) {
        bool waiting = net_traced(c->num) && c->s.requests < L12_TRACE_READS;   /* --trace */
        if (waiting)
            lab_trace_begin("wait", "wait: recv conn %ld", c->num);
        if (srv != NULL && net_wait_readable(srv, c->fd) <= 0) {
            if (waiting)
                lab_trace_end();
            break;   /* a signal, or the clients are done */
        }
        ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
        if (waiting)
            lab_trace_end();
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* closed, or reset (ECONNRESET) */
        bool drawn = net_trace_request(c->num, c->fd, &c->s, c->in, (size_t)n);
        size_t o = session_feed(&c->s, c->in, (size_t)n, c->out);
        int wr = o > 0 ? net_write_all(c->fd, c->out, o) : 0;
        if (drawn)
            lab_trace_end();
        if (wr != 0)
            break;   /* EPIPE: the client left */
        if (c->s.close_after)
            break;
    }
    return c->s.requests;
}

/* Accept one connection after the listener is readable: the fd, or -1 (stop, or nothing). */
static int accept_one(struct server *srv, bool *stop)
{
    bool waiting = l12_trace.detail && srv->accepted < L12_TRACE_CONNS;   /* --trace */
    if (waiting)
        lab_trace_begin("wait", "wait: accept");
    int r = net_wait_readable(srv, srv->lfd);
    if (r <= 0) {
        if (waiting)
            lab_trace_end();
        *stop = true;
        return -1;
    }
    int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);   /* a blocking socket: no SOCK_NONBLOCK */
    if (waiting)
        lab_trace_end();
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            srv->emfile += net_emfile_shed(srv->lfd);
        return -1;
    }
    srv->accepted++;
    net_trace_accept(srv->accepted, fd);
    return fd;
}

int serve_blocking(struct server *srv)
{
    struct bconn *c = xmalloc(sizeof *c);
    bool stop = false;
    while (!stop) {
        c->fd = accept_one(srv, &stop);
        if (c->fd < 0)
            continue;
        c->num = srv->accepted;
        srv->active = 1;
        srv->peak_active = 1;
        if (!srv->quiet && srv->accepted <= 3)
            printf("blocking: serving connection %ld alone; the others wait in the backlog\n", srv->accepted);
        srv->requests += serve_one(c, srv->http, srv);
        net_trace_close(c->num, c->fd);
        close(c->fd);
        srv->active = 0;
    }
    free(c);
    return 0;
}

/* ==== A thread per connection ==== */

struct registry {
    pthread_mutex_t lock;
    struct bconn **w;       /* guarded by lock */
    size_t n, cap;
    long alive, peak;       /* guarded by lock */
    long requests;          /* guarded by lock */
    bool http;
};

struct worker_arg {
    struct registry *reg;
    struct bconn *c;
};

static void *talk(void *arg)
{
    struct worker_arg *a = arg;
    long req = serve_one(a->c, a->reg->http, NULL);   /* recv blocks this thread only */
    Pthread_mutex_lock(&a->reg->lock);
    a->c->done = true;
    net_trace_close(a->c->num, a->c->fd);
    close(a->c->fd);
    a->c->fd = -1;
    a->reg->alive--;
    a->reg->requests += req;
    Pthread_mutex_unlock(&a->reg->lock);
    free(a);
    return NULL;
}

/* Join the threads that have ended, and forget them. */
static void join_finished(struct registry *reg, bool all)
{
    size_t k = 0;
    for (size_t i = 0; i < reg->n; i++) {
        struct bconn *c = reg->w[i];
        Pthread_mutex_lock(&reg->lock);
        bool done = c->done;
        Pthread_mutex_unlock(&reg->lock);
        if (done || all) {
            lab_thread_join(c->t);
            free(c);
        } else {
            reg->w[k++] = c;
        }
    }
    reg->n = k;
}

int serve_threads(struct server *srv)
{
    struct registry reg = { .http = srv->http };
    lab_mutex_init(&reg.lock, 0);
    bool stop = false;
    while (!stop) {
        int fd = accept_one(srv, &stop);
        if (fd < 0)
            continue;
        join_finished(&reg, false);
        struct bconn *c = xcalloc(1, sizeof *c);
        c->fd = fd;
        c->num = srv->accepted;
        struct worker_arg *a = xmalloc(sizeof *a);
        *a = (struct worker_arg){ .reg = &reg, .c = c };
        c->t = LAB_THREAD(talk, a);
        lab_thread_set_stack_size(c->t, 256 * 1024);
        sigset_t block, old;   /* SIGINT/SIGTERM stay with the accepting thread */
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        Pthread_mutex_lock(&reg.lock);
        reg.alive++;
        if (reg.alive > reg.peak)
            reg.peak = reg.alive;
        Pthread_mutex_unlock(&reg.lock);
        int rc = lab_thread_start(c->t);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {   /* out of threads: turn this one away */
            close(fd);
            free(a);
            free(c);
            Pthread_mutex_lock(&reg.lock);
            reg.alive--;
            Pthread_mutex_unlock(&reg.lock);
            srv->refused++;
            continue;
        }
        if (reg.n == reg.cap) {
            reg.cap = reg.cap ? 2 * reg.cap : 64;
            struct bconn **bigger = realloc(reg.w, reg.cap * sizeof *bigger);
            if (bigger == NULL)
                die("realloc:");
            reg.w = bigger;
        }
        reg.w[reg.n++] = c;
    }
    /* Stop: wake every thread still in recv (shutdown makes it return 0), then join them all. */
    Pthread_mutex_lock(&reg.lock);
    for (size_t i = 0; i < reg.n; i++)
        if (!reg.w[i]->done)
            shutdown(reg.w[i]->fd, SHUT_RDWR);
    Pthread_mutex_unlock(&reg.lock);
    join_finished(&reg, true);
    free(reg.w);
    srv->peak_active = reg.peak;
    srv->threads_peak = reg.peak;
    srv->requests += reg.requests;
    pthread_mutex_destroy(&reg.lock);
    return 0;
}

/* ==== A process per connection ==== */

static void reap(struct server *srv, pid_t *kids, size_t *n, bool block)
{
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, block && *n > 0 ? 0 : WNOHANG);
        if (pid <= 0)
            return;
        if (pid == srv->client_pid) {   /* the scenario's client, not one of ours */
            srv->client_reaped = true;
            srv->client_status = st;
            continue;
        }
        for (size_t i = 0; i < *n; i++)
            if (kids[i] == pid) {
                kids[i] = kids[--*n];
                break;
            }
        if (WIFEXITED(st))
            srv->requests += WEXITSTATUS(st) ? 1 : 0;   /* a child reports "served something" */
    }
}

/* --trace: a connection's child that the parent stops (the clients are done, or Ctrl-C) first ends
 * its connection as an EOF would (shutdown: its recv returns 0, its send fails), so that its slices
 * end, its close is drawn and its fragment written; then it dies of the signal as it would have. */
static int child_fd = -1;
static volatile sig_atomic_t child_stopped;

static void on_term_in_child(int sig)
{
    (void)sig;
    child_stopped = 1;
    shutdown(child_fd, SHUT_RDWR);
}

int serve_fork(struct server *srv)
{
    size_t n = 0, cap = 64;
    pid_t *kids = xmalloc(cap * sizeof *kids);
    bool stop = false;
    while (!stop) {
        int fd = accept_one(srv, &stop);
        reap(srv, kids, &n, false);   /* the children that ended: no zombies piling up */
        if (fd < 0)
            continue;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            close(srv->lfd);
            free(kids);      /* the parent's list of children is not the child's business */
            struct bconn *c = xmalloc(sizeof *c);
            c->fd = fd;
            c->num = srv->accepted;
            char name[32];
            snprintf(name, sizeof name, "conn %ld", c->num);
            if (net_traced(c->num)) {   /* --trace: this connection's process */
                lab_trace_process_name(name);
                child_fd = fd;
                signal(SIGTERM, on_term_in_child);
            }
            long req = serve_one(c, srv->http, NULL);
            net_trace_close(c->num, fd);
            close(fd);
            if (net_traced(c->num)) {
                lab_trace_write();   /* _exit runs no atexit handler: the --trace fragment now */
                if (child_stopped) {
                    signal(SIGTERM, SIG_DFL);
                    raise(SIGTERM);
                }
            }
            free(c);
            _exit(req > 0);
        }
        close(fd);   /* the child has its own copy: the parent must drop its one */
        if (pid < 0) {
            srv->refused++;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            pid_t *bigger = realloc(kids, cap * sizeof *bigger);
            if (bigger == NULL)
                die("realloc:");
            kids = bigger;
        }
        kids[n++] = pid;
        srv->children++;
        if ((long)n > srv->peak_active)
            srv->peak_active = (long)n;
    }
    for (size_t i = 0; i < n; i++)
        kill(kids[i], SIGTERM);
    while (n > 0)
        reap(srv, kids, &n, true);
    free(kids);
    return 0;
}
