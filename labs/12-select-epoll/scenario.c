/* labs/12-select-epoll/scenario.c - one server model against the lab's client: the scenarios' harness.
 *
 * Each server scenario listens on 127.0.0.1 (port 0: a free one), prints LISTENING port=N, starts
 * the load client in a child process (so the server's CPU time is its own), serves until the client
 * reports back through a pipe (or SIGINT/SIGTERM arrives), closes every connection, ends every
 * thread and child it made, and prints one RESULT line: the client's view (ok, bad, refused,
 * unfinished, round trips per second, p50/p99) beside the server's (peak_active, cpu_ms).
 * With --serve there is no client: the server waits for curl, wrk or `build/lab12 client --port`.
 * Usage: build/lab12 MODEL [--conns=N --rounds=M --http --serve --port=P --silent=K --rst=K ...]
 * --trace FILE: each run is a slice "serve: MODEL" on the server's track; the client child's sends
 * are arrows into the server's reads (net.c, client.c).
 * Watch for: cpu_ms against wall_ms (the busy loop), peak_active (1 for blocking).
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const l12_model_names[M_COUNT] = {
    [M_BLOCKING] = "blocking", [M_THREADS] = "threads", [M_FORK] = "fork",
    [M_NONBLOCKING] = "nonblocking", [M_SELECT] = "select", [M_POLL] = "poll",
    [M_EPOLL] = "epoll", [M_EPOLL_ET] = "epoll-et", [M_URING] = "io_uring",
};

void client_cfg_from_options(struct client_cfg *c)
{
    *c = (struct client_cfg){
        .port = (int)lab_opt("port"), .conns = (int)lab_opt("conns"), .rounds = (int)lab_opt("rounds"),
        .http = lab_opt("http") != 0, .bytes = (int)lab_opt("bytes"), .silent = (int)lab_opt("silent"),
        .slow = (int)lab_opt("slow"), .rst = (int)lab_opt("rst"),
        .loops = (int)lab_opt("loops"), .pipeline = (int)lab_opt("pipeline"), .timeout_ms = lab_bound_ms(10),
    };
}

/* A busy or privileged --port is bad input: found before anything is printed. */
void check_server(void)
{
    if (lab_opt("port") != 0) {
        int fd = net_listen((int)lab_opt("port"), false);
        if (fd < 0)
            lab_usage_error("--port=%lld: cannot listen on 127.0.0.1: %s", lab_opt("port"), strerror(errno));
        close(fd);
    }
    check_client();
}

static int (*const serve_fn[M_COUNT])(struct server *) = {
    [M_BLOCKING] = serve_blocking, [M_THREADS] = serve_threads, [M_FORK] = serve_fork,
    [M_NONBLOCKING] = serve_nonblocking, [M_SELECT] = serve_loop, [M_POLL] = serve_loop,
    [M_EPOLL] = serve_loop, [M_EPOLL_ET] = serve_loop, [M_URING] = serve_uring,
};

/* The client child: run the load, send the numbers back, leave. */
static void client_child(const struct client_cfg *cfg, int lfd, int wfd)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(lfd);
    if (l12_trace.detail)
        lab_trace_process_name("client");
    struct client_stats st;
    client_run(cfg, &st);
    (void)!write(wfd, &st, sizeof st);
    if (l12_trace.detail)
        lab_trace_write();   /* _exit runs no atexit handler: the --trace fragment now */
    _exit(0);
}

int run_model(const struct run_cfg *cfg, struct run_result *r)
{
    memset(r, 0, sizeof *r);
    struct server *srv = &r->srv;
    srv->model = cfg->model;
    srv->http = cfg->client.http;
    srv->quiet = cfg->quiet;
    srv->notes_bug = cfg->notes_bug;
    srv->donefd = -1;
    l12_trace = (struct l12_trace){ .detail = lab_trace_on() && !cfg->quiet, .arrows = !cfg->serve };
    srv->sigfd = net_stop_signals_catch();
    srv->lfd = net_listen(cfg->client.port, true);
    if (srv->lfd < 0) {
        warn_msg("listen on 127.0.0.1:%d:", cfg->client.port);
        net_stop_signals_restore();
        return -1;
    }
    int port = net_port(srv->lfd);
    if (!cfg->quiet)
        printf("LISTENING port=%d\n", port);
    fflush(stdout);
    struct rlimit saved;
    getrlimit(RLIMIT_NOFILE, &saved);
    net_raise_nofile();
    if (!cfg->serve) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            die("pipe2:");
        struct client_cfg cc = cfg->client;
        cc.port = port;
        cc.quiet = true;
        sigset_t old;
        lab_stop_signals_block(&old);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            close(srv->sigfd);
            client_child(&cc, srv->lfd, p[1]);
        }
        lab_stop_signals_restore(&old);
        if (pid < 0)
            die("fork:");
        close(p[1]);
        srv->client_pid = pid;
        srv->donefd = p[0];
    }
    if (cfg->nofile > 0) {   /* the EMFILE lesson: few descriptors for the server */
        struct rlimit lim = saved;
        lim.rlim_cur = (rlim_t)cfg->nofile;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    net_spare_open();
    struct rusage s0, s1, c0, c1;
    getrusage(RUSAGE_SELF, &s0);
    getrusage(RUSAGE_CHILDREN, &c0);
    double t0 = lab_now_ms();
    if (cfg->serve)
        lab_trace_begin("serve", "serve: %s, until a signal", l12_model_names[cfg->model]);
    else
        lab_trace_begin("serve", "serve: %s, %d connections x %d", l12_model_names[cfg->model], cfg->client.conns,
                        cfg->client.rounds);
    int rc = serve_fn[cfg->model](srv);
    lab_trace_end();
    r->wall_ms = lab_elapsed_ms(t0);
    srv->stopped_by_signal = net_stop_requested();
    net_spare_close();
    setrlimit(RLIMIT_NOFILE, &saved);
    if (srv->client_pid > 0) {
        struct pollfd pf = { .fd = srv->donefd, .events = POLLIN };
        if (srv->stopped_by_signal || rc != 0 || poll(&pf, 1, (int)lab_bound_ms(1)) != 1)
            kill(srv->client_pid, SIGTERM);
        else if (read(srv->donefd, &r->cl, sizeof r->cl) != (ssize_t)sizeof r->cl)
            r->client_status = -1;
        if (!srv->client_reaped) {
            int st;
            while (waitpid(srv->client_pid, &st, 0) < 0 && errno == EINTR) {
            }
            srv->client_status = st;
        }
        if (r->client_status == 0)
            r->client_status = srv->client_status;
        close(srv->donefd);
    }
    getrusage(RUSAGE_SELF, &s1);
    getrusage(RUSAGE_CHILDREN, &c1);
    r->cpu_ms = l12_cpu_ms_between(&s0, &s1) + l12_cpu_ms_between(&c0, &c1) - r->cl.cpu_ms;
    if (r->cpu_ms < 0)
        r->cpu_ms = 0;
    close(srv->lfd);
    net_stop_signals_restore();
    l12_trace = (struct l12_trace){ 0 };
    return rc;
}

/* ==== The server scenarios ==== */

static long expected(const struct client_cfg *c) { return (long)c->conns * c->rounds; }

/* The RESULT line every server scenario prints. */
static void print_result(const struct run_cfg *cfg, const struct run_result *r, const char *extra)
{
    const struct client_stats *cl = &r->cl;
    double rps = cl->elapsed_ms > 0 ? (double)cl->ok * 1000.0 / cl->elapsed_ms : 0;
    if (cfg->serve) {
        lab_result("served=%ld requests=%ld peak_active=%ld emfile=%ld signal=%d%s%s", r->srv.accepted,
                   r->srv.requests, r->srv.peak_active, r->srv.emfile, r->srv.stopped_by_signal,
                   extra[0] ? " " : "", extra);
        return;
    }
    lab_result("clients=%d msgs=%ld ok=%ld bad=%ld refused=%ld unfinished=%ld peak_active=%ld emfile=%ld "
               "rt_per_s=%.0f p50_us=%.0f p99_us=%.0f cpu_ms=%.0f wall_ms=%.0f%s%s",
               cfg->client.conns, expected(&cfg->client), cl->ok, cl->bad, cl->refused, cl->unfinished,
               r->srv.peak_active, r->srv.emfile, rps, cl->p50_us, cl->p99_us, r->cpu_ms, r->wall_ms,
               extra[0] ? " " : "", extra);
}

static void human_summary(const struct run_cfg *cfg, const struct run_result *r)
{
    const struct client_stats *cl = &r->cl;
    if (cfg->serve) {
        printf("%s: stopped%s after %ld connections\n", l12_model_names[cfg->model],
               r->srv.stopped_by_signal ? " by a signal" : "", r->srv.accepted);
        return;
    }
    printf("%s: %d connections x %d round trips: %ld answered right, %ld wrong, %ld refused, "
           "%ld unfinished\n", l12_model_names[cfg->model], cfg->client.conns, cfg->client.rounds, cl->ok,
           cl->bad, cl->refused, cl->unfinished);
    printf("%s: p50 %.0f us, p99 %.0f us; server CPU %.0f ms in %.0f ms; first reply waited up to %.0f ms\n",
           l12_model_names[cfg->model], cl->p50_us, cl->p99_us, r->cpu_ms, r->wall_ms, cl->first_reply_max_ms);
}

/* Did it behave as the lesson says?  Everything answered right, unless a stall is the lesson. */
static int verdict(const struct run_cfg *cfg, const struct run_result *r, bool stall_expected)
{
    if (cfg->serve)
        return LAB_EXIT_OK;
    if (r->cl.bad != 0)
        return LAB_EXIT_BROKEN;
    if (stall_expected)
        return r->cl.ok < expected(&cfg->client) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    long refused_ok = cfg->nofile > 0 ? r->cl.refused : 0;   /* EMFILE: some are turned away */
    long want = expected(&cfg->client) - refused_ok * cfg->client.rounds;
    return r->cl.ok >= want && r->cl.ok + r->cl.unfinished == expected(&cfg->client) && (refused_ok || !r->cl.refused)
               ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static void cfg_from_options(struct run_cfg *cfg, enum model m)
{
    *cfg = (struct run_cfg){ .model = m, .serve = lab_opt("serve") != 0, .nofile = lab_opt("nofile") };
    client_cfg_from_options(&cfg->client);
}

/* Run one model from the command line: LISTENING, the narration, the RESULT line. */
static int run_cmdline(enum model m, bool stall_expected, const char *lesson)
{
    struct run_cfg cfg;
    cfg_from_options(&cfg, m);
    if (stall_expected)
        cfg.client.timeout_ms = lab_units_ms(5);
    struct run_result r;
    if (run_model(&cfg, &r) != 0)
        return LAB_EXIT_BROKEN;
    human_summary(&cfg, &r);
    if (lesson)
        printf("%s\n", lesson);
    char extra[160] = "";
    if (m == M_THREADS)
        snprintf(extra, sizeof extra, "server_threads=%ld", r.srv.threads_peak + 1);
    else if (m == M_FORK)
        snprintf(extra, sizeof extra, "children=%ld zombies=0", r.srv.children);
    else if (m == M_NONBLOCKING)
        snprintf(extra, sizeof extra, "spins=%ld events=%ld", r.srv.spins, r.srv.waits);
    else if (m >= M_SELECT)
        snprintf(extra, sizeof extra, "server_threads=1 waits=%ld refused_by_server=%ld", r.srv.waits, r.srv.refused);
    print_result(&cfg, &r, extra);
    return verdict(&cfg, &r, stall_expected);
}

int run_blocking(int mode)
{
    (void)mode;
    bool stall = lab_opt("silent") > 0 && !lab_opt("serve");
    return run_cmdline(M_BLOCKING, stall,
                       stall ? "blocking: the silent client was accepted first, and every other one waited "
                               "behind it until the time ran out"
                             : "blocking: one connection at a time (peak_active=1): the others waited in the backlog");
}

int run_threads(int mode)
{
    (void)mode;
    return run_cmdline(M_THREADS, false, "threads: a thread per connection, each blocked in its own recv");
}

int run_fork(int mode)
{
    (void)mode;
    return run_cmdline(M_FORK, false, "fork: a process per connection; every child was reaped (no zombie left)");
}

int run_select(int mode)
{
    (void)mode;
    return run_cmdline(M_SELECT, false, NULL);
}

int run_poll(int mode)
{
    (void)mode;
    return run_cmdline(M_POLL, false, NULL);
}

int run_epoll(int mode)
{
    return run_cmdline(mode == EPOLL_ET ? M_EPOLL_ET : M_EPOLL, false,
                       mode == EPOLL_ET ? "epoll (edge-triggered): each report read until EAGAIN"
                                        : "epoll (level-triggered): one read per report, the rest reported again");
}

int run_io_uring(int mode)
{
    (void)mode;
    char why[160];
    if (!uring_available(why, sizeof why)) {
        printf("io_uring: skipped: %s\n", why);
        lab_result("skipped=1");
        return LAB_EXIT_OK;
    }
    return run_cmdline(M_URING, false, "io_uring: the kernel did the reads and writes; we only collected completions");
}

/* The notes' busy loop: mode notes leaves the accepted sockets blocking (a silent client stalls it
 * all), mode fixed makes them non-blocking.  Both connect one silent client first. */
int run_nonblocking(int mode)
{
    struct run_cfg cfg;
    cfg_from_options(&cfg, M_NONBLOCKING);
    if (cfg.client.silent == 0 && !cfg.serve)
        cfg.client.silent = 1;
    bool notes = mode == 0;
    if (notes)
        cfg.client.timeout_ms = lab_units_ms(5);
    cfg.client.linger_ms = lab_units_ms(1);   /* a quiet notes-second at the end: watch it spin */
    struct run_result r;
    cfg.notes_bug = notes;
    if (run_model(&cfg, &r) != 0)
        return LAB_EXIT_BROKEN;
    human_summary(&cfg, &r);
    if (!cfg.serve) {
        printf("nonblocking: %ld spins of the loop for %ld events; CPU %.0f ms of %.0f ms wall (%.0f%%)\n",
               r.srv.spins, r.srv.waits, r.cpu_ms, r.wall_ms, r.wall_ms > 0 ? 100.0 * r.cpu_ms / r.wall_ms : 0);
        printf(notes ? "nonblocking (notes): the accepted socket was blocking: recv on the silent client "
                       "stopped the whole loop\n"
                     : "nonblocking (fixed): accept4(SOCK_NONBLOCK): the silent client costs a failed recv a spin\n");
    }
    char extra[120];
    snprintf(extra, sizeof extra, "spins=%ld events=%ld", r.srv.spins, r.srv.waits);
    print_result(&cfg, &r, extra);
    return verdict(&cfg, &r, notes && !cfg.serve);
}

/* ==== The client alone ==== */

void check_client(void)
{
    if (lab_opt("http") && lab_opt("bytes"))
        lab_usage_error("--bytes sets the echo message size: it does not go with --http");
    if (lab_opt("loops") > 1 && lab_opt("silent") + lab_opt("slow") + lab_opt("rst") > 0)
        lab_usage_error("--loops shares out the talking connections: it does not go with --silent, --slow or --rst");
}

int run_client(int mode)
{
    (void)mode;
    struct client_cfg c;
    client_cfg_from_options(&c);
    struct client_stats st;
    if (c.port == 0) {   /* no server named: load this program's own epoll server */
        printf("client: no --port: loading this program's epoll server (give --port=N for another one)\n");
        struct run_cfg cfg = { .model = M_EPOLL, .client = c };
        struct run_result r;
        if (run_model(&cfg, &r) != 0)
            return LAB_EXIT_BROKEN;
        st = r.cl;
        c.port = 0;
    } else {
        l12_trace.detail = lab_trace_on();   /* its sends, in its own trace: arrows with no head */
        client_run(&c, &st);
        l12_trace.detail = false;
    }
    double rps = st.elapsed_ms > 0 ? (double)st.ok * 1000.0 / st.elapsed_ms : 0;
    printf("client: %d connections x %d round trips to 127.0.0.1:%d: %ld right, %ld wrong in %.0f ms\n",
           c.conns, c.rounds, c.port, st.ok, st.bad, st.elapsed_ms);
    lab_result("clients=%d msgs=%ld ok=%ld bad=%ld refused=%ld unfinished=%ld rt_per_s=%.0f p50_us=%.0f p99_us=%.0f",
               c.conns, (long)c.conns * c.rounds, st.ok, st.bad, st.refused, st.unfinished, rps, st.p50_us, st.p99_us);
    return st.ok == (long)c.conns * c.rounds && st.bad == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
