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
 * --trace FILE: each send of the first connections is a slice with an arrow per message, which
 * ends in the server's read of it when the server is in the same trace.
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

/* CPU time (user + system) between two getrusage() readings, in ms: the client's own, and the
 * scenarios' (scenario.c) for the server's share. */
double l12_cpu_ms_between(const struct rusage *a, const struct rusage *b)
{
    return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec + b->ru_stime.tv_sec - a->ru_stime.tv_sec) * 1e3
           + (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec + b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e3;
}

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

struct client;

/* One connection.  A round sends a batch of `--pipeline` messages at once (1: the notes' one at a
 * time) and reads until every byte of their replies is back; each message's latency ends when its
 * last byte arrives.  msg, want and ends are allocated once, at the start: none per request. */
struct cconn {
    struct client *cl;
    int fd;
    enum kind kind;
    int idx;
    int round;                  /* replies received whole */
    int batch, done_in_batch;   /* messages in this batch, and answered of them */
    bool connected, finished;
    uint32_t len, sent;         /* the batch's bytes to send, sent */
    uint32_t wantlen, got;      /* the bytes its replies must be, received */
    double t_connect, t_send;
    char *msg, *want;           /* echo: owned; http: the client's shared copies */
    uint32_t *ends;             /* echo: where each message's reply ends in `want` */
};

/* One event loop on one thread, over connections [0, n) of its own. */
struct client {
    const struct client_cfg *cfg;
    struct client_stats st;
    struct lab_loop *loop;
    struct sockaddr_in addr;
    struct cconn *c;
    int n, next, connecting, live_normal, silent_up, pipeline;
    const char *http_msg, *http_want;   /* --pipeline requests and responses back to back */
    struct hist hist;
    char buf[65536];
};

#define RAMP 256   /* connections being opened at once, per loop */

static void on_conn(struct lab_loop *l, int fd, void *arg, int mask);
static void open_more(struct client *cl);

static void finish(struct client *cl, struct cconn *c)
{
    if (c->kind == K_NORMAL && !c->finished) {
        c->finished = true;
        if (--cl->live_normal == 0)
            lab_loop_stop(cl->loop);
    }
}

static void close_conn(struct client *cl, struct cconn *c)
{
    if (c->fd < 0)
        return;
    lab_loop_del(cl->loop, c->fd, LAB_LOOP_READABLE | LAB_LOOP_WRITABLE);
    close(c->fd);
    c->fd = -1;
    finish(cl, c);
}

/* The connection ends early: the round trips it still owes are unfinished. */
static void give_up(struct client *cl, struct cconn *c, int counted)
{
    if (c->kind == K_NORMAL && !c->finished && cl->cfg->rounds - c->round - counted > 0)
        cl->st.unfinished += cl->cfg->rounds - c->round - counted;
    close_conn(cl, c);
}

/* The next batch: the notes' "conn-3 say hello 7" (or --bytes of them) for the messages of rounds
 * round .. round+k-1, back to back, and the uppercase replies they must get. */
static void make_batch(struct client *cl, struct cconn *c)
{
    const struct client_cfg *cfg = cl->cfg;
    int k = cfg->rounds - c->round < cl->pipeline ? cfg->rounds - c->round : cl->pipeline;
    c->batch = k;
    c->done_in_batch = 0;
    c->sent = c->got = 0;
    if (cfg->http) {
        c->len = (uint32_t)(k * (int)strlen(l12_http_request));
        c->wantlen = (uint32_t)((size_t)k * l12_http_ok_len);
        return;
    }
    uint32_t off = 0;
    for (int i = 0; i < k; i++) {
        int r = c->round + i;
        if (cfg->bytes > 0) {
            int w = snprintf(c->msg + off, (size_t)cfg->bytes + 1, "conn-%d say hello %d ", c->idx, r);
            w = w > cfg->bytes ? cfg->bytes : w;
            memset(c->msg + off + w, 'x', (size_t)(cfg->bytes - w));
            off += (uint32_t)cfg->bytes;
        } else {
            off += (uint32_t)snprintf(c->msg + off, 64, "conn-%d say hello %d\n", c->idx, r);
        }
        c->ends[i] = off;
    }
    for (uint32_t i = 0; i < off; i++)
        c->want[i] = (char)toupper((unsigned char)c->msg[i]);
    c->len = c->wantlen = off;
}

/* Where the reply of message i of the batch ends. */
static uint32_t end_of(const struct client *cl, const struct cconn *c, int i)
{
    return cl->cfg->http ? (uint32_t)((size_t)(i + 1) * l12_http_ok_len) : c->ends[i];
}

static void send_some(struct client *cl, struct cconn *c)
{
    while (c->sent < c->len) {
        ssize_t w = send(c->fd, c->msg + c->sent, c->len - c->sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                lab_loop_add(cl->loop, c->fd, LAB_LOOP_WRITABLE, on_conn, c);
                return;
            }
            cl->st.refused++;
            give_up(cl, c, 0);
            return;
        }
        c->sent += (uint32_t)w;
    }
    if (lab_loop_mask(cl->loop, c->fd) & LAB_LOOP_WRITABLE)   /* no epoll_ctl per request */
        lab_loop_del(cl->loop, c->fd, LAB_LOOP_WRITABLE);
}

static void start_round(struct client *cl, struct cconn *c)
{
    make_batch(cl, c);
    c->t_send = lab_now_ms();
    /* --trace: a slice for the send, the tail of an arrow for each message (into the server's read) */
    bool drawn = l12_trace.detail && !cl->cfg->http && net_trace_flow_id(c->idx, c->round) != 0;
    if (drawn) {
        lab_trace_begin("request", "conn-%d: send %d", c->idx, c->round);
        for (int i = 0; i < c->batch; i++)
            if (net_trace_flow_id(c->idx, c->round + i))
                lab_trace_flow_tail("request", net_trace_flow_id(c->idx, c->round + i));
    }
    send_some(cl, c);
    if (drawn)
        lab_trace_end();
}

/* The connection is up: what it does depends on its kind. */
static void connected(struct client *cl, struct cconn *c)
{
    c->connected = true;
    cl->connecting--;
    c->t_connect = lab_now_ms();
    lab_loop_del(cl->loop, c->fd, LAB_LOOP_WRITABLE);
    lab_loop_add(cl->loop, c->fd, LAB_LOOP_READABLE, on_conn, c);
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

/* Check the bytes against the replies owed (one memcmp), count every reply completed. */
static void got_bytes(struct client *cl, struct cconn *c, const char *p, size_t n)
{
    if (c->kind != K_NORMAL)
        return;   /* the slow ones' echoes: not checked */
    const char *want = cl->cfg->http ? cl->http_want : c->want;
    size_t m = n < c->wantlen - c->got ? n : c->wantlen - c->got;
    if (m < n || memcmp(p, want + c->got, m) != 0) {   /* a wrong byte, or more than was asked for */
        cl->st.bad++;
        give_up(cl, c, 1);
        return;
    }
    c->got += (uint32_t)m;
    double now = 0;
    while (c->done_in_batch < c->batch && c->got >= end_of(cl, c, c->done_in_batch)) {
        if (now == 0)
            now = lab_now_ms();
        hist_add(&cl->hist, (uint64_t)((now - c->t_send) * 1000.0));
        if (c->round == 0 && now - c->t_connect > cl->st.first_reply_max_ms)
            cl->st.first_reply_max_ms = now - c->t_connect;
        cl->st.ok++;
        c->round++;
        c->done_in_batch++;
    }
    if (c->got < c->wantlen)
        return;
    if (c->round == cl->cfg->rounds) {
        cl->st.conns_done++;
        if (cl->cfg->hold) {   /* open, no longer read: closed with the others at the end */
            lab_loop_del(cl->loop, c->fd, LAB_LOOP_READABLE | LAB_LOOP_WRITABLE);
            finish(cl, c);
        } else {
            close_conn(cl, c);
        }
        return;
    }
    start_round(cl, c);
}

static void on_conn(struct lab_loop *l, int fd, void *arg, int mask)
{
    (void)l;
    struct cconn *c = arg;
    struct client *cl = c->cl;
    if (c->fd != fd)
        return;
    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            cl->connecting--;
            cl->st.refused++;
            give_up(cl, c, 0);
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
            if (c->kind == K_NORMAL)   /* closed by the server before the last reply */
                cl->st.refused++;
            give_up(cl, c, 0);
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
        if (fd < 0 || fd >= lab_loop_setsize(cl->loop)) {
            if (fd >= 0)
                close(fd);
            warn_msg("client: socket:");
            cl->next = cl->n;   /* no more descriptors: the rest never start */
            for (int i = 0; i < cl->n; i++)
                if (cl->c[i].fd < 0 && !cl->c[i].connected && cl->c[i].kind == K_NORMAL && !cl->c[i].finished) {
                    cl->st.refused++;
                    cl->st.unfinished += cl->cfg->rounds;
                    finish(cl, &cl->c[i]);
                }
            return;
        }
        cl->next++;
        c->fd = fd;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        cl->connecting++;
        if (connect(fd, (struct sockaddr *)&cl->addr, sizeof cl->addr) == 0) {
            connected(cl, c);
            continue;
        }
        if (errno != EINPROGRESS) {
            cl->connecting--;
            cl->st.refused++;
            give_up(cl, c, 0);
            continue;
        }
        lab_loop_add(cl->loop, fd, LAB_LOOP_WRITABLE, on_conn, c);
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
    cl->st.timed_out = true;
    lab_loop_stop(l);
    return LAB_LOOP_NOMORE;
}

/* One loop's whole run: open its connections, turn until they are done or the time is up. */
static void *loop_main(void *arg)
{
    struct client *cl = arg;
    lab_loop_timer_add(cl->loop, cl->cfg->timeout_ms, time_up, cl);
    if (cl->cfg->slow > 0)
        lab_loop_timer_add(cl->loop, 10, slow_tick, cl);
    open_more(cl);
    if (cl->live_normal > 0)
        lab_loop_run(cl->loop);
    return NULL;
}

int client_run(const struct client_cfg *cfg, struct client_stats *st)
{
    memset(st, 0, sizeof *st);
    int n = cfg->silent + cfg->slow + cfg->rst + cfg->conns;
    int pipeline = cfg->pipeline > 1 ? cfg->pipeline : 1;
    /* Several loops share out the normal connections; the silent, slow and resetting ones need the
     * order of one loop (the silent first), so they keep the client on one. */
    int nloops = cfg->silent + cfg->slow + cfg->rst > 0 || cfg->loops < 1 ? 1 : cfg->loops;
    if (nloops > cfg->conns)
        nloops = cfg->conns;
    long nofile = net_raise_nofile();
    int setsize = (int)(nofile < 1L << 20 ? nofile : 1L << 20);
    struct cconn *all = xcalloc((size_t)n, sizeof *all);
    char *http_msg = NULL, *http_want = NULL;
    if (cfg->http) {
        size_t rl = strlen(l12_http_request);
        http_msg = xmalloc((size_t)pipeline * rl);
        http_want = xmalloc((size_t)pipeline * l12_http_ok_len);
        for (int i = 0; i < pipeline; i++) {
            memcpy(http_msg + (size_t)i * rl, l12_http_request, rl);
            memcpy(http_want + (size_t)i * l12_http_ok_len, l12_http_ok, l12_http_ok_len);
        }
    }
    size_t unit = (size_t)(cfg->bytes > 64 ? cfg->bytes : 64);
    for (int i = 0; i < n; i++) {
        struct cconn *c = &all[i];
        c->fd = -1;
        c->kind = i < cfg->silent ? K_SILENT : i < cfg->silent + cfg->slow ? K_SLOW
                : i < cfg->silent + cfg->slow + cfg->rst ? K_RST : K_NORMAL;
        c->idx = i - cfg->silent - cfg->slow - cfg->rst + 1;
        if (c->kind == K_NORMAL && cfg->http) {
            c->msg = http_msg;
        } else if (c->kind == K_NORMAL) {
            c->msg = xmalloc((size_t)pipeline * unit + 1);
            c->want = xmalloc((size_t)pipeline * unit);
            c->ends = xmalloc((size_t)pipeline * sizeof *c->ends);
        }
    }
    struct client **cls = xcalloc((size_t)nloops, sizeof *cls);
    for (int k = 0, lo = 0; k < nloops; k++) {
        /* loop 0 also takes the silent, slow and resetting ones (then it is the only one) */
        int hi = cfg->silent + cfg->slow + cfg->rst + (int)((long)cfg->conns * (k + 1) / nloops);
        struct client *cl = cls[k] = xcalloc(1, sizeof *cl);
        cl->cfg = cfg;
        cl->c = all + lo;
        cl->n = hi - lo;
        cl->pipeline = pipeline;
        cl->http_msg = http_msg;
        cl->http_want = http_want;
        cl->live_normal = hi - lo - (k == 0 ? cfg->silent + cfg->slow + cfg->rst : 0);
        cl->addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        cl->loop = lab_loop_new("epoll", setsize);
        if (cl->loop == NULL)
            die("client: lab_loop_new:");
        for (int i = lo; i < hi; i++)
            all[i].cl = cl;
        lo = hi;
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = lab_now_ms();
    struct lab_thread **th = xcalloc((size_t)nloops, sizeof *th);
    for (int k = 1; k < nloops; k++) {
        th[k] = lab_thread_new(loop_main, cls[k], "client_loop");
        lab_thread_start_or_die(th[k]);
    }
    loop_main(cls[0]);
    for (int k = 1; k < nloops; k++)
        lab_thread_join(th[k]);
    if (cfg->linger_ms > 0 && !cls[0]->st.timed_out)
        lab_sleep_ms(cfg->linger_ms);
    st->elapsed_ms = lab_elapsed_ms(t0);
    struct hist *h = xcalloc(1, sizeof *h);
    for (int k = 0; k < nloops; k++) {
        struct client *cl = cls[k];
        for (int i = 0; i < cl->n; i++) {
            struct cconn *c = &cl->c[i];
            if (c->kind == K_NORMAL && !c->finished)
                cl->st.unfinished += cfg->rounds - c->round;
            close_conn(cl, c);
        }
        st->ok += cl->st.ok;
        st->bad += cl->st.bad;
        st->refused += cl->st.refused;
        st->unfinished += cl->st.unfinished;
        st->conns_done += cl->st.conns_done;
        st->timed_out |= cl->st.timed_out;
        if (cl->st.first_reply_max_ms > st->first_reply_max_ms)
            st->first_reply_max_ms = cl->st.first_reply_max_ms;
        h->n += cl->hist.n;
        for (int i = 0; i < 64 * 16; i++)
            h->b[i] += cl->hist.b[i];
        lab_loop_free(cl->loop);
        free(cl);
    }
    getrusage(RUSAGE_SELF, &ru1);
    st->cpu_ms = l12_cpu_ms_between(&ru0, &ru1);
    st->p50_us = hist_pct(h, 50);
    st->p99_us = hist_pct(h, 99);
    st->max_us = hist_pct(h, 100);
    for (int i = 0; i < n; i++)
        if (!cfg->http) {
            free(all[i].msg);
            free(all[i].want);
            free(all[i].ends);
        }
    free(http_msg);
    free(http_want);
    free(h);
    free(th);
    free(cls);
    free(all);
    return 0;
}
