/* labs/12-select-epoll/client.c - the load client: N connections, M round trips each, every reply checked.
 *
 * The notes' client is 200 threads each sending 'hello' forever and printing what comes back.  A
 * load generator written for the lab does the same work with one thread on epoll (common/loop.h):
 * it opens N connections (the silent, slow and resetting ones first, when asked), sends a message
 * on each, reads until it has as many bytes as it sent (TCP keeps no message boundaries), checks
 * every byte against the uppercased message (or the fixed HTTP page), and sends the next one.
 * Each round trip's latency goes into HdrHistogram-style buckets (16 steps per power of two, so
 * p50 and p99 are within about 6%); throughput is round trips over the whole run.
 * Python: Thread(target=client).start() x 200; client.send(b'hello'); client.recv(1024)
 * Usage: build/lab12 client --port=N [--conns=N --rounds=M --http --silent=K --slow=K --rst=K]
 * Watch for: refused counts the connections the server closed before their last reply (select's
 * 1024 wall, EMFILE); unfinished counts the round trips still owed when the time ran out.
 */
#include "lab.h"
#include "lab12.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ==== Latency buckets ==== */

void hist_add(struct hist *h, uint64_t us)
{
    int i;
    if (us < 16) {
        i = (int)us;
    } else {
        int e = 63 - __builtin_clzll(us);          /* us in [2^e, 2^(e+1)) */
        i = (e - 3) * 16 + (int)((us >> (e - 4)) & 15);
    }
    if (i >= 64 * 16)
        i = 64 * 16 - 1;
    h->b[i]++;
    h->n++;
}

/* The value below which pct % of the samples lie (the bucket's upper edge). */
double hist_pct(const struct hist *h, double pct)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)(pct / 100.0 * (double)h->n + 0.999999), seen = 0;
    for (int i = 0; i < 64 * 16; i++) {
        seen += h->b[i];
        if (seen >= want && h->b[i]) {
            if (i < 16)
                return i;
            int e = i / 16 + 3;
            return (double)((1ull << e) + ((uint64_t)(i % 16 + 1) << (e - 4)));
        }
    }
    return 0;
}

/* ==== Connections ==== */

enum kind { K_SILENT, K_SLOW, K_RST, K_NORMAL };

struct cconn {
    int fd;
    enum kind kind;
    int idx, round;
    bool connected, finished;
    uint32_t len, sent, got;
    double t_connect, t_send;
    char *msg;
};

struct client {
    const struct client_cfg *cfg;
    struct client_stats *st;
    struct lab_loop *loop;
    struct sockaddr_in addr;
    struct cconn *c;
    struct cconn **byfd;   /* descriptor → connection */
    int nbyfd;
    int n, next, connecting, live_normal, silent_up;
    struct hist hist;
    char buf[65536];
};

#define RAMP 256   /* connections being opened at once */

static void on_conn(struct lab_loop *l, int fd, void *arg, int mask);
static void open_more(struct client *cl);

static void close_conn(struct client *cl, struct cconn *c)
{
    if (c->fd < 0)
        return;
    lab_loop_del(cl->loop, c->fd, LAB_LOOP_READABLE | LAB_LOOP_WRITABLE);
    cl->byfd[c->fd] = NULL;
    close(c->fd);
    c->fd = -1;
    if (c->kind == K_NORMAL && !c->finished) {
        c->finished = true;
        if (--cl->live_normal == 0)
            lab_loop_stop(cl->loop);
    }
}

/* The message of round r: the notes' "conn-3 say hello 7", or --bytes of them. */
static void make_msg(struct client *cl, struct cconn *c)
{
    if (cl->cfg->http) {
        c->len = (uint32_t)strlen(l12_http_request);
        memcpy(c->msg, l12_http_request, c->len);
    } else if (cl->cfg->bytes > 0) {
        int k = snprintf(c->msg, (size_t)cl->cfg->bytes + 1, "conn-%d say hello %d ", c->idx, c->round);
        k = k > cl->cfg->bytes ? cl->cfg->bytes : k;
        memset(c->msg + k, 'x', (size_t)(cl->cfg->bytes - k));
        c->len = (uint32_t)cl->cfg->bytes;
    } else {
        c->len = (uint32_t)snprintf(c->msg, 64, "conn-%d say hello %d\n", c->idx, c->round);
    }
    c->sent = c->got = 0;
}

static void send_some(struct client *cl, struct cconn *c)
{
    while (c->sent < c->len) {
        ssize_t w = send(c->fd, c->msg + c->sent, c->len - c->sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) {
                lab_loop_add(cl->loop, c->fd, LAB_LOOP_WRITABLE, on_conn, cl);
                return;
            }
            cl->st->refused++;
            cl->st->unfinished += cl->cfg->rounds - c->round;
            close_conn(cl, c);
            return;
        }
        c->sent += (uint32_t)w;
    }
    lab_loop_del(cl->loop, c->fd, LAB_LOOP_WRITABLE);
}

static void start_round(struct client *cl, struct cconn *c)
{
    make_msg(cl, c);
    c->t_send = lab_now_ms();
    send_some(cl, c);
}

/* The connection is up: what it does depends on its kind. */
static void connected(struct client *cl, struct cconn *c)
{
    c->connected = true;
    cl->connecting--;
    c->t_connect = lab_now_ms();
    lab_loop_del(cl->loop, c->fd, LAB_LOOP_WRITABLE);
    lab_loop_add(cl->loop, c->fd, LAB_LOOP_READABLE, on_conn, cl);
    switch (c->kind) {
    case K_SILENT:
        cl->silent_up++;
        break;
    case K_SLOW:
        break;
    case K_RST: {   /* half a message, then a reset: the server sees ECONNRESET mid-request */
        const char *half = cl->cfg->http ? "GET / HT" : "conn-rst say hel";
        (void)!send(c->fd, half, strlen(half), MSG_NOSIGNAL);
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close_conn(cl, c);
        break;
    }
    case K_NORMAL:
        start_round(cl, c);
        break;
    }
}

static void got_bytes(struct client *cl, struct cconn *c, const char *p, size_t n)
{
    if (c->kind != K_NORMAL)
        return;   /* the slow ones' echoes: not checked */
    const char *want = cl->cfg->http ? l12_http_ok : c->msg;
    size_t wantlen = cl->cfg->http ? l12_http_ok_len : c->len;
    for (size_t i = 0; i < n; i++) {
        char w = cl->cfg->http ? want[c->got] : (char)toupper((unsigned char)want[c->got]);
        if (c->got >= wantlen || p[i] != w) {
            cl->st->bad++;
            cl->st->unfinished += cl->cfg->rounds - c->round - 1;
            close_conn(cl, c);
            return;
        }
        if (++c->got == wantlen) {
            double now = lab_now_ms();
            hist_add(&cl->hist, (uint64_t)((now - c->t_send) * 1000.0));
            if (c->round == 0 && now - c->t_connect > cl->st->first_reply_max_ms)
                cl->st->first_reply_max_ms = now - c->t_connect;
            cl->st->ok++;
            if (++c->round == cl->cfg->rounds) {
                cl->st->conns_done++;
                close_conn(cl, c);
                return;
            }
            if (i + 1 < n) {   /* more bytes than were asked for */
                cl->st->bad++;
                close_conn(cl, c);
                return;
            }
            start_round(cl, c);
        }
    }
}

static void on_conn(struct lab_loop *l, int fd, void *arg, int mask)
{
    (void)l;
    struct client *cl = arg;
    struct cconn *c = fd < cl->nbyfd ? cl->byfd[fd] : NULL;
    if (c == NULL)
        return;
    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            cl->connecting--;
            cl->st->refused++;
            if (c->kind == K_NORMAL)
                cl->st->unfinished += cl->cfg->rounds;
            close_conn(cl, c);
            open_more(cl);
            return;
        }
        connected(cl, c);
        open_more(cl);
        return;
    }
    if (mask & LAB_LOOP_WRITABLE)
        send_some(cl, c);
    if (c->fd >= 0 && (mask & LAB_LOOP_READABLE)) {
        ssize_t r = recv(fd, cl->buf, sizeof cl->buf, 0);
        if (r > 0) {
            got_bytes(cl, c, cl->buf, (size_t)r);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (c->kind == K_NORMAL) {   /* closed by the server before the last reply */
                cl->st->refused++;
                cl->st->unfinished += cl->cfg->rounds - c->round;
            }
            close_conn(cl, c);
        }
    }
}

/* Open connections in order (silent ones first, and the rest only once they are all up, so a
 * blocking server surely accepts a silent one first), at most RAMP of them connecting at once. */
static void open_more(struct client *cl)
{
    while (cl->next < cl->n && cl->connecting < RAMP) {
        struct cconn *c = &cl->c[cl->next];
        if (c->kind != K_SILENT && cl->silent_up < cl->cfg->silent)
            return;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || fd >= cl->nbyfd) {
            if (fd >= 0)
                close(fd);
            warn_msg("client: socket:");
            cl->next = cl->n;   /* no more descriptors: the rest never start */
            for (int i = 0; i < cl->n; i++)
                if (cl->c[i].fd < 0 && !cl->c[i].connected && cl->c[i].kind == K_NORMAL && !cl->c[i].finished) {
                    cl->c[i].finished = true;
                    cl->st->refused++;
                    cl->st->unfinished += cl->cfg->rounds;
                    if (--cl->live_normal == 0)
                        lab_loop_stop(cl->loop);
                }
            return;
        }
        cl->next++;
        c->fd = fd;
        cl->byfd[fd] = c;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cl->connecting++;
        if (connect(fd, (struct sockaddr *)&cl->addr, sizeof cl->addr) == 0) {
            connected(cl, c);
            continue;
        }
        if (errno != EINPROGRESS) {
            cl->connecting--;
            cl->st->refused++;
            if (c->kind == K_NORMAL)
                cl->st->unfinished += cl->cfg->rounds;
            close_conn(cl, c);
            continue;
        }
        lab_loop_add(cl->loop, fd, LAB_LOOP_WRITABLE, on_conn, cl);
    }
}

/* Slowloris: one more byte on every slow connection, every 10 ms, never the end of a request. */
static double slow_tick(struct lab_loop *l, long long id, void *arg)
{
    (void)l, (void)id;
    struct client *cl = arg;
    for (int i = 0; i < cl->n; i++) {
        struct cconn *c = &cl->c[i];
        if (c->kind == K_SLOW && c->fd >= 0 && c->connected) {
            const char *hdr = "GET / HTTP/1.1\r\nX-Slow: ";
            size_t hl = strlen(hdr);
            char b = cl->cfg->http ? (c->sent < hl ? hdr[c->sent] : 'a') : 's';
            if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1)
                c->sent++;
        }
    }
    return 10;
}

static double time_up(struct lab_loop *l, long long id, void *arg)
{
    (void)id;
    struct client *cl = arg;
    cl->st->timed_out = true;
    lab_loop_stop(l);
    return LAB_LOOP_NOMORE;
}

int client_run(const struct client_cfg *cfg, struct client_stats *st)
{
    memset(st, 0, sizeof *st);
    struct client *cl = xcalloc(1, sizeof *cl);
    cl->cfg = cfg;
    cl->st = st;
    cl->n = cfg->silent + cfg->slow + cfg->rst + cfg->conns;
    long nofile = net_raise_nofile();
    cl->nbyfd = (int)(nofile < 1L << 20 ? nofile : 1L << 20);
    cl->loop = lab_loop_new("epoll", cl->nbyfd);
    if (cl->loop == NULL)
        die("client: lab_loop_new:");
    cl->byfd = xcalloc((size_t)cl->nbyfd, sizeof *cl->byfd);
    cl->c = xcalloc((size_t)cl->n, sizeof *cl->c);
    size_t msgcap = (size_t)(cfg->bytes > 64 ? cfg->bytes + 1 : 65);
    for (int i = 0; i < cl->n; i++) {
        struct cconn *c = &cl->c[i];
        c->fd = -1;
        c->kind = i < cfg->silent ? K_SILENT : i < cfg->silent + cfg->slow ? K_SLOW
                : i < cfg->silent + cfg->slow + cfg->rst ? K_RST : K_NORMAL;
        c->idx = i - cfg->silent - cfg->slow - cfg->rst + 1;
        if (c->kind == K_NORMAL)
            c->msg = xmalloc(msgcap);
    }
    cl->live_normal = cfg->conns;
    cl->addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = lab_now_ms();
    lab_loop_timer_add(cl->loop, cfg->timeout_ms, time_up, cl);
    if (cfg->slow > 0)
        lab_loop_timer_add(cl->loop, 10, slow_tick, cl);
    open_more(cl);
    if (cl->live_normal > 0)
        lab_loop_run(cl->loop);
    if (cfg->linger_ms > 0 && !st->timed_out)
        lab_sleep_ms(cfg->linger_ms);
    st->elapsed_ms = lab_elapsed_ms(t0);
    for (int i = 0; i < cl->n; i++) {
        struct cconn *c = &cl->c[i];
        if (c->kind == K_NORMAL && !c->finished)
            st->unfinished += cfg->rounds - c->round;
        close_conn(cl, c);
        free(c->msg);
    }
    getrusage(RUSAGE_SELF, &ru1);
    st->cpu_ms = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3
                 + (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3;
    st->p50_us = hist_pct(&cl->hist, 50);
    st->p99_us = hist_pct(&cl->hist, 99);
    st->max_us = hist_pct(&cl->hist, 100);
    lab_loop_free(cl->loop);
    free(cl->byfd);
    free(cl->c);
    free(cl);
    return 0;
}
