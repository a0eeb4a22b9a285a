/* labs/12-select-epoll/bench.c - the lab's epoll server against nginx (wrk, HTTP) and libuv (echo).
 *
 * Report only (`build/lab12 --bench`, `make bench`), one run, side by side:
 *   - HTTP, a fixed small page, wrk -t2 at 100 and 1000 connections for 5 s: the lab's epoll server
 *     (one thread, edge-triggered) against nginx with one worker serving the same body (its own
 *     config in a private temp dir, run as the current user on a loopback port, stopped after);
 *   - echo of 64 bytes at 1000 connections with the lab's client: the lab's server against a libuv
 *     echo server written for the bench (build/l12_uv_echo, built only when libuv is installed);
 *   - 10,000 idle connections held: the peak RSS of the lab's server.
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

static long rss_kb(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
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
        for (int i = 0; i < 2; i++) {
            double lr, lp, nr = 0, np = 0;
            wrk(lport, sizes[i], &lr, &lp);
            printf("RESULT l12.bench server=lab_epoll conns=%d req_per_s=%.0f p99_ms=%.2f\n", sizes[i], lr, lp);
            if (ng > 0 && wrk(nport, sizes[i], &nr, &np)) {
                printf("RESULT l12.bench server=nginx conns=%d req_per_s=%.0f p99_ms=%.2f\n", sizes[i], nr, np);
                printf("RESULT l12.bench_ratio conns=%d lab_over_nginx=%.2f\n", sizes[i], lr / nr);
            }
        }
        stop(lab);
        if (ng > 0) {
            stop(ng);
            rm_dir_files(dir);
            lab_cleanup_run(cid);
        }
    }
    /* echo, 64 bytes, 1000 connections, the lab's client */
    char uv[4096];
    snprintf(uv, sizeof uv, "%s", self);
    char *slash = strrchr(uv, '/');
    if (slash)
        snprintf(slash + 1, sizeof uv - (size_t)(slash + 1 - uv), "l12_uv_echo");
    struct client_cfg cc = { .conns = 1000, .rounds = 100, .bytes = 64, .timeout_ms = 60000, .quiet = true };
    struct client_stats st;
    char *largv[] = { (char *)self, "epoll", "--mode=et", "--serve", NULL };
    pid_t lab = start(largv, &cc.port, true);
    client_run(&cc, &st);
    double lab_rt = st.elapsed_ms > 0 ? (double)st.ok * 1000 / st.elapsed_ms : 0;
    printf("RESULT l12.bench server=lab_epoll conns=1000 rt_per_s=%.0f\n", lab_rt);
    /* 10,000 idle connections: the server's peak RSS */
    struct client_cfg idle = { .conns = 1, .rounds = 1, .silent = 10000, .timeout_ms = 60000, .quiet = true,
                               .port = cc.port };
    client_run(&idle, &st);
    printf("RESULT l12.bench server=lab_epoll conns=10000 rss_mb=%.1f\n", (double)rss_kb(lab) / 1024);
    stop(lab);
    if (access(uv, X_OK) == 0) {
        char *uargv[] = { uv, NULL };
        pid_t u = start(uargv, &cc.port, true);
        client_run(&cc, &st);
        double uv_rt = st.elapsed_ms > 0 ? (double)st.ok * 1000 / st.elapsed_ms : 0;
        printf("RESULT l12.bench server=libuv conns=1000 rt_per_s=%.0f lab_over_libuv=%.2f\n", uv_rt,
               uv_rt > 0 ? lab_rt / uv_rt : 0);
        client_run(&idle, &st);
        printf("RESULT l12.bench server=libuv conns=10000 rss_mb=%.1f\n", (double)rss_kb(u) / 1024);
        stop(u);
    } else {
        printf("bench: the libuv echo server is not built: apt-get install libuv1-dev, then make\n");
    }
    return LAB_EXIT_OK;
}
