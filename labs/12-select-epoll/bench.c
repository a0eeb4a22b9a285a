/* labs/12-select-epoll/bench.c - the lab's epoll server against nginx (wrk, HTTP) and libuv (echo).
 *
 * Report only (`build/lab12 --bench`, `make bench`), one run, side by side:
 *   - HTTP, a fixed small page, wrk -t2 at 100 and 1000 connections for 5 s: the lab's epoll server
 *     (one thread, edge-triggered) against nginx with one worker serving the same body (its own
 *     config in a private temp dir, run as the current user on a loopback port, stopped after);
 *     they take turns, three runs each, the medians count;
 *   - echo of 64 bytes at 1000 connections with the lab's client: the lab's server against a libuv
 *     echo server written for the bench (build/l12_uv_echo, built only when libuv is installed),
 *     and the lab's io_uring server where the kernel allows it;
 *     The client runs two event loops (two threads) so that it is not the one that limits the
 *     round trips; the servers take turns, three runs each, the median counts; the servers' own CPU
 *     time per round trip (from /proc) is printed beside, as it does not depend on the client;
 *     then once more with 8 messages in flight per connection (--pipeline=8);
 *   - 10,000 idle connections held: the peak RSS of each server.
 * A missing tool is one line naming the Debian package to install.
 */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Start argv with stdout to a pipe; wait for "LISTENING port=N" (or just start it when want_port
 * is false).  Returns the pid, the port in *port. */
static pid_t start(char *const argv[], int *port, bool want_port)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    *port = 0;
    if (want_port) {
        FILE *f = fdopen(p[0], "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "LISTENING port=%d", port) == 1)
                break;
        if (f)
            fclose(f);
    } else {
        close(p[0]);
    }
    return pid;
}

static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    lab_waitpid_ms(pid, NULL, 10000);
    kill(pid, SIGKILL);
    lab_waitpid_ms(pid, NULL, 1000);
}

static bool have(const char *cmd)
{
    char buf[256];
    snprintf(buf, sizeof buf, "command -v %s >/dev/null 2>&1", cmd);
    return system(buf) == 0;
}

/* wrk -t2 -cN -d5s: requests/s and p99 in ms. */
static bool wrk(int port, int conns, double *rps, double *p99)
{
    char cmd[256], line[256];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d5s --latency http://127.0.0.1:%d/ 2>&1", conns, port);
    FILE *f = popen(cmd, "r");
    *rps = *p99 = 0;
    while (f && fgets(line, sizeof line, f)) {
        double v;
        char unit[8];
        if (sscanf(line, "Requests/sec: %lf", &v) == 1)
            *rps = v;
        if (sscanf(line, " 99%% %lf%7s", &v, unit) == 2)
            *p99 = strcmp(unit, "us") == 0 ? v / 1000 : strcmp(unit, "s") == 0 ? v * 1000 : v;
    }
    if (f)
        pclose(f);
    return *rps > 0;
}

static int free_port(void)
{
    int fd = net_listen(0, false);
    int port = net_port(fd);
    close(fd);
    return port;
}

static pid_t start_nginx(char *dir, size_t len, int *port, int *cleanup)
{
    *cleanup = lab_private_dir(dir, len, "lab12-nginx-");
    *port = free_port();
    char conf[512];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    FILE *f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
               "events { worker_connections 4096; }\n"
               "http { access_log off; client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
               "  uwsgi_temp_path %s; scgi_temp_path %s; keepalive_requests 1000000;\n"
               "  server { listen 127.0.0.1:%d; location / { default_type text/plain; return 200 \"Hello, World!\"; } } }\n",
            dir, dir, dir, dir, dir, dir, dir, *port);
    fclose(f);
    char *argv[] = { "nginx", "-c", conf, "-p", dir, "-e", "/dev/null", NULL };
    int dummy;
    pid_t pid = start(argv, &dummy, false);
    lab_sleep_ms(300);
    return pid;
}

static void rm_dir_files(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/* 2>/dev/null", dir);
    (void)!system(cmd);
}

/* The server's CPU time so far (user + system), in microseconds. */
static double cpu_us(pid_t pid)
{
    double ms = lab_proc_cpu_ms(pid);
    return ms < 0 ? 0 : ms * 1e3;
}

#define ECHO_RUNS 3

/* One echo server of the comparison and its runs. */
struct echo_side {
    const char *name;
    char **argv;
    pid_t pid;
    int port;
    double rps[ECHO_RUNS], p99[ECHO_RUNS], cpu_us[ECHO_RUNS];
};

static double median3(const double v[3])
{
    double a = v[0], b = v[1], c = v[2];
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

/* 1000 connections x 200 round trips of 64 bytes, the client on two loops (threads), one at a
 * time per connection: round trips per second, and the server's CPU per round trip. */
static void echo_run(struct echo_side *e, int run)
{
    struct client_cfg cc = { .port = e->port, .conns = 1000, .rounds = 200, .bytes = 64, .loops = 2,
                             .timeout_ms = 60000, .quiet = true };
    struct client_stats st;
    double c0 = cpu_us(e->pid);
    client_run(&cc, &st);
    double c1 = cpu_us(e->pid);
    e->rps[run] = st.elapsed_ms > 0 && st.bad == 0 ? (double)st.ok * 1000 / st.elapsed_ms : 0;
    e->p99[run] = st.p99_us;
    e->cpu_us[run] = st.ok > 0 ? (c1 - c0) / (double)st.ok : 0;
}

int l12_bench(void)
{
    const char *self = lab_self_path();
    bool have_wrk = have("wrk"), have_nginx = have("nginx");
    if (!have_wrk)
        printf("bench: wrk is missing: apt-get install wrk\n");
    if (!have_nginx)
        printf("bench: nginx is missing: apt-get install nginx-light\n");
    if (have_wrk) {
        char *argv[] = { (char *)self, "epoll", "--mode=et", "--http", "--serve", NULL };
        int lport, nport = 0, cid = -1;
        pid_t lab = start(argv, &lport, true);
        char dir[256];
        pid_t ng = have_nginx ? start_nginx(dir, sizeof dir, &nport, &cid) : -1;
        int sizes[2] = { 100, 1000 };
        for (int i = 0; i < 2; i++) {   /* the two servers take turns, three runs each: medians */
            double lr[3], lp[3], nr[3] = { 0 }, np[3] = { 0 };
            bool nginx_ok = ng > 0;
            for (int run = 0; run < 3; run++) {
                wrk(lport, sizes[i], &lr[run], &lp[run]);
                if (nginx_ok)
                    nginx_ok = wrk(nport, sizes[i], &nr[run], &np[run]);
            }
            printf("RESULT l12.bench server=lab_epoll conns=%d req_per_s=%.0f p99_ms=%.2f\n", sizes[i], median3(lr),
                   median3(lp));
            if (nginx_ok) {
                printf("RESULT l12.bench server=nginx conns=%d req_per_s=%.0f p99_ms=%.2f\n", sizes[i], median3(nr),
                       median3(np));
                printf("RESULT l12.bench_ratio conns=%d lab_over_nginx=%.2f\n", sizes[i], median3(lr) / median3(nr));
            }
        }
        stop(lab);
        if (ng > 0) {
            stop(ng);
            rm_dir_files(dir);
            lab_cleanup_run(cid);
        }
    }
    /* echo, 64 bytes, 1000 connections, the lab's client with two loops; the two servers take
     * turns, three runs each, and the median counts (the machine is shared: one run may be unlucky) */
    char uv[4096];
    snprintf(uv, sizeof uv, "%s", self);
    char *slash = strrchr(uv, '/');
    if (slash)
        snprintf(slash + 1, sizeof uv - (size_t)(slash + 1 - uv), "l12_uv_echo");
    bool have_uv = access(uv, X_OK) == 0;
    if (!have_uv)
        printf("bench: the libuv echo server is not built: apt-get install libuv1-dev, then make\n");
    char *largv[] = { (char *)self, "epoll", "--mode=et", "--serve", NULL };
    char *uargv[] = { uv, NULL };
    char *iargv[] = { (char *)self, "io_uring", "--serve", NULL };
    char why[160];
    bool have_uring = uring_available(why, sizeof why);
    if (!have_uring)
        printf("bench: io_uring skipped: %s\n", why);
    /* the lab's epoll server, libuv (when built), the lab's io_uring server (where the kernel lets it) */
    struct echo_side sides[3] = { { .name = "lab_epoll", .argv = largv } };
    int nsides = 1;
    if (have_uv)
        sides[nsides++] = (struct echo_side){ .name = "libuv", .argv = uargv };
    if (have_uring)
        sides[nsides++] = (struct echo_side){ .name = "lab_uring", .argv = iargv };
    for (int i = 0; i < nsides; i++)
        sides[i].pid = start(sides[i].argv, &sides[i].port, true);
    for (int run = 0; run < ECHO_RUNS; run++)
        for (int i = 0; i < nsides; i++)
            echo_run(&sides[i], run);
    for (int i = 0; i < nsides; i++) {
        struct echo_side *e = &sides[i];
        printf("RESULT l12.bench server=%s conns=1000 rt_per_s=%.0f p99_us=%.0f cpu_us_per_rt=%.2f\n", e->name,
               median3(e->rps), median3(e->p99), median3(e->cpu_us));
    }
    if (have_uv)   /* sides[1] is libuv */
        printf("RESULT l12.bench_ratio conns=1000 lab_over_libuv=%.2f cpu_libuv_over_lab=%.2f\n",
               median3(sides[0].rps) / median3(sides[1].rps), median3(sides[1].cpu_us) / median3(sides[0].cpu_us));
    /* the same with 8 messages in flight per connection: fewer system calls per message on both
     * sides, so what is left is the servers' own work per read */
    for (int i = 0; i < nsides; i++) {
        struct echo_side *e = &sides[i];
        struct client_cfg cc = { .port = e->port, .conns = 1000, .rounds = 400, .bytes = 64, .loops = 2,
                                 .pipeline = 8, .timeout_ms = 60000, .quiet = true };
        struct client_stats st;
        double c0 = cpu_us(e->pid);
        client_run(&cc, &st);
        double c1 = cpu_us(e->pid);
        e->rps[0] = st.elapsed_ms > 0 && st.bad == 0 ? (double)st.ok * 1000 / st.elapsed_ms : 0;
        e->cpu_us[0] = st.ok > 0 ? (c1 - c0) / (double)st.ok : 0;
        printf("RESULT l12.bench server=%s conns=1000 pipeline=8 rt_per_s=%.0f cpu_us_per_rt=%.2f\n", e->name,
               e->rps[0], e->cpu_us[0]);
        stop(e->pid);
    }
    /* 10,000 idle connections held by a fresh server: its peak RSS */
    for (int i = 0; i < nsides; i++) {
        struct echo_side *e = &sides[i];
        e->pid = start(e->argv, &e->port, true);
        struct client_stats st;
        struct client_cfg idle = { .conns = 1, .rounds = 1, .silent = 10000, .timeout_ms = 60000, .quiet = true,
                                   .port = e->port };
        client_run(&idle, &st);
        printf("RESULT l12.bench server=%s conns=10000 rss_mb=%.1f\n", e->name, (double)lab_proc_peak_rss_kib(e->pid) / 1024);
        stop(e->pid);
    }
    return LAB_EXIT_OK;
}
