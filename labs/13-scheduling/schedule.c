/* labs/13-scheduling/schedule.c - scenario `schedule`: FCFS, SJF, SRTF, RR, MLFQ and a lottery on
 * one workload, each as a Gantt chart with its waiting and turnaround times.
 *
 * The notes (the chapter on multiprogramming and scheduling): 先来先服务 favours long jobs,
 * 短作业优先 favours short ones, 时间片轮转 + 多级反馈队列 share the CPU in slices, lower levels
 * getting longer slices.  Here each algorithm runs on the same jobs in the simulator of sim.c.
 * Usage: lab13 schedule [--algo=all|fcfs|sjf|srtf|rr|mlfq|lottery] [--jobs=7,4,1,4 |
 *        --workload=FILE|W1|W3 | --random=N --seed=S --maxlen=L] [--quantum=2] [--levels=3
 *        --quanta=1,2,4 --boost=0] [--predict | --solve] [--compare]
 * Watch for: the GANTT line and chart of each algorithm, its PROC lines, its RESULT line.
 */
#include "lab.h"
#include "lab13.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const algo_names[ALGO_COUNT] = { "fcfs", "sjf", "srtf", "rr", "mlfq", "lottery" };

/* --algo: an algorithm, or -1 for all of them. */
static int parse_algo(const char *text)
{
    if (strcasecmp(text, "all") == 0)
        return -1;
    for (int a = 0; a < ALGO_COUNT; a++)
        if (strcasecmp(text, algo_names[a]) == 0)
            return a;
    lab_usage_error("unknown --algo '%s' (all, fcfs, sjf, srtf, rr, mlfq, lottery)", text);
}

/* --levels and --quanta: the MLFQ's queues and their slices. */
static void parse_mlfq(struct sim_config *cfg)
{
    cfg->levels = (int)lab_opt("levels");
    const char *q = lab_opt_text("quanta");
    if (!lab_opt_given("quanta")) {
        for (int l = 0; l < cfg->levels; l++)   /* 1, 2, 4, ...: lower levels, longer slices */
            cfg->quanta[l] = 1L << l;
        return;
    }
    int n = 0;
    for (const char *p = q;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1000000 || (*end != ',' && *end != '\0'))
            lab_usage_error("bad --quanta '%s': expected slices like 1,2,4 (each at least 1)", q);
        if (n == L13_MAX_LEVELS)
            lab_usage_error("bad --quanta '%s': at most %d levels", q, L13_MAX_LEVELS);
        cfg->quanta[n++] = v;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    if (lab_opt_given("levels") && n != cfg->levels)
        lab_usage_error("--quanta gives %d slices for --levels=%d", n, cfg->levels);
    cfg->levels = n;
}

/* The simulator's settings from the options (the algorithm is set by the caller). */
static void config_from_options(struct sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->quantum = lab_opt("quantum");
    cfg->boost = lab_opt("boost");
    cfg->seed = (unsigned long long)lab_opt("seed");
    parse_mlfq(cfg);
}

void check_schedule(void)
{
    if (lab_opt("predict") && lab_opt("solve"))
        lab_usage_error("--predict hides the answers and --solve shows them: give one");
    (void)parse_algo(lab_opt_text("algo"));
    struct sim_config cfg;
    config_from_options(&cfg);
    struct workload w;
    l13_workload_from_options(&w);   /* a malformed workload is a usage error here */
    l13_workload_free(&w);
}

int run_schedule(int mode)
{
    (void)mode;
    int algo = parse_algo(lab_opt_text("algo"));
    struct sim_config cfg;
    config_from_options(&cfg);
    struct workload w;
    l13_workload_from_options(&w);

    if (lab_opt("compare")) {
        lab_say("Every algorithm on workload %s (%zu jobs):", w.name, w.n);
        l13_compare(&w, &cfg);
        l13_workload_free(&w);
        return LAB_EXIT_OK;
    }
    long illegal = 0;
    for (int a = 0; a < ALGO_COUNT; a++) {
        if (algo >= 0 && a != algo)
            continue;
        cfg.algo = (enum algo)a;
        char label[16];
        l13_algo_label(&cfg, label, sizeof label);
        if (lab_opt("predict")) {
            l13_predict(&w, &cfg);
            continue;
        }
        lab_say("%s%s on workload %s%s", lab_color(LAB_BOLD), label, w.name, lab_color(LAB_RESET));
        struct sim_result r;
        l13_simulate(&w, &cfg, NULL, NULL, &r);
        l13_report(&w, &cfg, &r);
        illegal += r.illegal;
        l13_result_free(&r);
    }
    if (algo < 0 && !lab_opt("predict")) {
        lab_say("%sThe averages side by side%s", lab_color(LAB_BOLD), lab_color(LAB_RESET));
        l13_compare(&w, &cfg);
    }
    l13_workload_free(&w);
    return illegal ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}
