/* labs/12-select-epoll/board.c - every model side by side: the scoreboard, the robustness table, the wall.
 *
 * scoreboard: each model at 10, 100 and 1000 connections, the same total of round trips in each
 * cell, so a class sees the blocking server serialise everyone, the busy loop burn its CPU, threads
 * and fork pay for a thread or a process each, select and poll scan every descriptor on every
 * call, and epoll hold.  Numbers, not verdicts: the machine is shared, and only "every reply was
 * right" is checked.
 * robust: what a server owes its other clients.  A silent client (the CS:APP proxy-lab rule: one
 * client that says nothing must not stop the others) stalls only `blocking`, where that is the
 * lesson; clients that reset mid-request, slowloris clients that trickle a byte at a time, running
 * out of descriptors (EMFILE, survived with the spare-descriptor trick), and 10,000 connections
 * held at once by epoll.
 * wall: select() cannot watch descriptor 1024 (FD_SETSIZE): the select server refuses the
 * connections that get one, where poll takes them all.
 * Usage: build/lab12 scoreboard [--http] | robust --mode=silent|rst|slowloris|emfile|c10k | wall
 */
#include "lab.h"
#include "lab12.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

static const enum model board_models[] = { M_BLOCKING, M_THREADS, M_FORK, M_NONBLOCKING,
                                           M_SELECT, M_POLL, M_EPOLL, M_EPOLL_ET };
#define NMODELS (sizeof board_models / sizeof board_models[0])

static bool run_quiet(struct run_cfg *cfg, struct run_result *r)
{
    cfg->quiet = true;
    if (cfg->client.timeout_ms == 0)
        cfg->client.timeout_ms = lab_bound_ms(10);
    return run_model(cfg, r) == 0;
}

int run_scoreboard(int mode)
{
    (void)mode;
    int sizes[3] = { 10, 100, 1000 };
    long total = 2000;   /* round trips per cell */
    if (lab_in_demo() && !RUNNING_ON_VALGRIND) {   /* a few seconds: 1000 forks alone take seconds */
        sizes[2] = 300;
        printf("scoreboard: in the guided demo 10, 100 and 300 connections (build/lab12 scoreboard: 1000)\n");
    }
    if (RUNNING_ON_VALGRIND) {   /* every instruction emulated: the same table, smaller */
        sizes[1] = 20, sizes[2] = 50, total = 200;
        printf("scoreboard: under Valgrind: 10, 20 and 50 connections, 200 round trips a cell\n");
    }
    bool http = lab_opt("http") != 0;
    printf("scoreboard: %ld %s round trips per cell; round trips/s (p99 ms, server CPU ms)\n", total,
           http ? "HTTP" : "echo");
    printf("%-12s %24d %24d %24d\n", "model", sizes[0], sizes[1], sizes[2]);
    long bad_cells = 0;
    for (size_t m = 0; m < NMODELS; m++) {
        char row[3][32];
        for (int k = 0; k < 3; k++) {
            struct run_cfg cfg = { .model = board_models[m],
                                   .client = { .conns = sizes[k], .rounds = (int)(total / sizes[k]), .http = http } };
            struct run_result r;
            bool ok = run_quiet(&cfg, &r) && r.cl.ok == (long)cfg.client.conns * cfg.client.rounds && r.cl.bad == 0;
            bad_cells += !ok;
            double rps = r.cl.elapsed_ms > 0 ? (double)r.cl.ok * 1000.0 / r.cl.elapsed_ms : 0;
            snprintf(row[k], sizeof row[k], "%7.0f (%5.1f, %4.0f)%s", rps, r.cl.p99_us / 1000.0, r.cpu_ms,
                     ok ? "" : "!");
            lab_say("RESULT l12.scoreboard model=%s conns=%d ok=%ld rt_per_s=%.0f p99_us=%.0f cpu_ms=%.0f",
                    l12_model_names[board_models[m]], sizes[k], r.cl.ok, rps, r.cl.p99_us, r.cpu_ms);
        }
        printf("%-12s %24s %24s %24s\n", l12_model_names[board_models[m]], row[0], row[1], row[2]);
    }
    printf("scoreboard: blocking serialises everyone; nonblocking pays in CPU; threads and fork in stacks and\n");
    printf("scoreboard: switches; select and poll rescan every descriptor each call; epoll returns the ready ones\n");
    lab_result("models=%zu sizes=%d,%d,%d cells_bad=%ld", NMODELS, sizes[0], sizes[1], sizes[2], bad_cells);
    return bad_cells == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* 10,000 connections held by epoll at once: 9,900 silent ones, then 100 that do round trips. */
static int robust_c10k(void)
{
    long want = RUNNING_ON_VALGRIND ? 1000 : 10000;
    long lim = net_raise_nofile();
    if (lim < want + 100) {
        printf("c10k: skipped: RLIMIT_NOFILE allows %ld descriptors, %ld are needed (raise the hard limit: "
               "ulimit -Hn)\n", lim, want + 100);
        lab_result("skipped=1 nofile=%ld", lim);
        return LAB_EXIT_OK;
    }
    struct run_cfg cfg = { .model = M_EPOLL_ET,
                           .client = { .conns = 100, .rounds = 5, .silent = (int)want - 100 } };
    struct run_result r;
    bool ran = run_quiet(&cfg, &r);
    bool ok = ran && r.cl.ok == 500 && r.cl.bad == 0 && r.srv.peak_active >= want;
    printf("c10k: epoll held %ld connections at once; the 100 busy ones got %ld of 500 replies right\n",
           r.srv.peak_active, r.cl.ok);
    printf("c10k: peak RSS of this process %.1f MB\n", (double)lab_proc_peak_rss_kib(0) / 1024.0);
    lab_result("model=epoll-et held=%ld ok=%ld bad=%ld rss_mb=%.1f", r.srv.peak_active, r.cl.ok, r.cl.bad,
               (double)lab_proc_peak_rss_kib(0) / 1024.0);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_robust(int mode)
{
    if (mode == ROBUST_C10K)
        return robust_c10k();
    if (mode == ROBUST_EMFILE && RUNNING_ON_VALGRIND) {   /* Valgrind keeps descriptors of its own */
        printf("robust: emfile skipped under Valgrind (it manages the descriptor limit itself)\n");
        lab_result("skipped=1");
        return LAB_EXIT_OK;
    }
    static const char *const what[] = {
        [ROBUST_SILENT] = "a silent client connected first", [ROBUST_RST] = "5 clients reset mid-request",
        [ROBUST_SLOWLORIS] = "5 slowloris clients (HTTP, a byte every 10 ms)",
        [ROBUST_EMFILE] = "10 idle and 100 talking clients, 32 descriptors for the server",
    };
    printf("robust: %s; 10 other clients x 5 round trips on every model\n", what[mode]);
    int good = 0, ran = 0;
    for (size_t m = 0; m < NMODELS; m++) {
        enum model md = board_models[m];
        struct run_cfg cfg = { .model = md, .client = { .conns = 10, .rounds = 5 } };
        bool stall = false;
        switch (mode) {
        case ROBUST_SILENT:
            cfg.client.silent = 1;
            stall = md == M_BLOCKING;
            break;
        case ROBUST_RST:
            cfg.client.rst = 5;
            break;
        case ROBUST_SLOWLORIS:
            if (md == M_BLOCKING) {
                printf("%-12s skipped: a slow client stalls it as the silent one does\n", l12_model_names[md]);
                continue;
            }
            cfg.client.slow = 5;
            cfg.client.http = true;
            break;
        case ROBUST_EMFILE:
            if (md == M_BLOCKING || md == M_FORK) {
                printf("%-12s skipped: it holds one descriptor per connection at most for a moment\n",
                       l12_model_names[md]);
                continue;
            }
            cfg.client.conns = 100;
            cfg.client.rounds = 2;
            cfg.client.silent = 10;   /* they hold 10 of the 32 from the start */
            cfg.client.hold = true;   /* and the served ones theirs to the end: the burst finds EMFILE
                                         on every machine, also when the server serves faster than
                                         it accepts (a thread per connection under ThreadSanitizer) */
            cfg.nofile = 32;
            break;
        }
        if (stall)
            cfg.client.timeout_ms = lab_units_ms(5);
        struct run_result r;
        bool done = run_quiet(&cfg, &r);
        long total = (long)cfg.client.conns * cfg.client.rounds;
        bool as_lesson;
        if (stall)
            as_lesson = done && r.cl.ok == 0 && r.cl.bad == 0;
        else if (mode == ROBUST_EMFILE)
            as_lesson = done && r.cl.bad == 0 && r.cl.ok + r.cl.unfinished == total && r.cl.ok > 0 && r.srv.emfile > 0;
        else
            as_lesson = done && r.cl.ok == total && r.cl.bad == 0;
        ran++;
        good += as_lesson;
        printf("%-12s %4ld/%ld replies right, %ld refused, emfile %ld: %s\n", l12_model_names[md], r.cl.ok, total,
               r.cl.refused, r.srv.emfile,
               !as_lesson ? "NOT as the lesson says" : stall ? "stalled: the lesson of blocking IO" : "the others were served");
        lab_say("RESULT l12.robust mode=%s model=%s ok=%ld total=%ld refused=%ld emfile=%ld stalled=%d",
                lab_mode_name(), l12_model_names[md], r.cl.ok, total, r.cl.refused, r.srv.emfile, stall);
    }
    lab_result("models=%d as_lesson=%d", ran, good);
    return good == ran ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_wall(int mode)
{
    (void)mode;
    long lim = net_raise_nofile();
    if (lim < 1200) {
        printf("wall: skipped: RLIMIT_NOFILE allows %ld descriptors, 1200 are needed\n", lim);
        lab_result("skipped=1");
        return LAB_EXIT_OK;
    }
    long refused[2], served[2];
    enum model ms[2] = { M_SELECT, M_POLL };
    for (int i = 0; i < 2; i++) {
        /* 1100 held open (silent), then 10 that talk: with select those get descriptors past 1023 */
        struct run_cfg cfg = { .model = ms[i], .client = { .conns = 10, .rounds = 1, .silent = 1100 } };
        struct run_result r;
        run_quiet(&cfg, &r);
        refused[i] = r.srv.refused;
        served[i] = r.cl.ok;
        printf("%-6s 1110 connections held: %4ld refused (descriptor >= 1024); the last 10 got %ld replies\n",
               l12_model_names[ms[i]], r.srv.refused, r.cl.ok);
    }
    printf("wall: FD_SET(1024, &set) writes past a 1024-bit fd_set (glibc's _FORTIFY_SOURCE aborts): refuse instead\n");
    lab_result("fd_setsize=1024 select_refused=%ld poll_refused=%ld", refused[0], refused[1]);
    return refused[0] > 0 && refused[1] == 0 && served[1] == 10 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
