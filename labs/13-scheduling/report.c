/* labs/13-scheduling/report.c - what a run of the simulator shows: the Gantt chart, one PROC line
 * a job, the RESULT line; the questions of --predict; the table of --compare.
 *
 * Definitions (as the textbooks): turnaround = finish - arrival; waiting = the ticks spent READY
 * (for a job without IO: turnaround - burst); response = first run - arrival.
 */
#include "lab.h"
#include "lab13.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_MAX_TICKS 80    /* wider charts would not fit a projector */
#define CHART_MAX_JOBS 26
#define GANTT_MAX_SLICES 40

/* The GANTT line: "GANTT FCFS P1[0-7) P2[7-11) ..." (MLFQ adds the level: P1@L0[0-1)). */
static void gantt_line(const struct workload *w, const struct sim_config *cfg, const struct sim_result *r)
{
    char label[16], line[4096];
    size_t cpu = 0;
    for (size_t i = 0; i < r->nslices; i++)
        cpu += !r->slices[i].io;
    l13_algo_label(cfg, label, sizeof label);
    if (cpu > GANTT_MAX_SLICES) {
        lab_say("GANTT %s (%zu stretches on the CPU: too many to list)", label, cpu);
        return;
    }
    int n = snprintf(line, sizeof line, "GANTT %s", label);
    long last = 0;
    for (size_t i = 0; i < r->nslices && n < (int)sizeof line - 64; i++) {
        const struct slice *s = &r->slices[i];
        if (s->io)
            continue;
        if (s->start > last)
            n += snprintf(line + n, sizeof line - (size_t)n, " idle[%ld-%ld)", last, s->start);
        if (cfg->algo == ALGO_MLFQ)
            n += snprintf(line + n, sizeof line - (size_t)n, " %s@L%d[%ld-%ld)", w->jobs[s->job].name, s->level,
                          s->start, s->end);
        else
            n += snprintf(line + n, sizeof line - (size_t)n, " %s[%ld-%ld)", w->jobs[s->job].name, s->start, s->end);
        last = s->end;
    }
    lab_say("%s", line);
}

/* The chart: one row a job, one column a tick: '#' on the CPU, '.' ready, '~' waiting for IO. */
static void chart(const struct workload *w, const struct sim_result *r)
{
    if (r->makespan > CHART_MAX_TICKS || w->n > CHART_MAX_JOBS)
        return;
    size_t width = (size_t)r->makespan;
    char ruler[CHART_MAX_TICKS + 1];
    for (size_t c = 0; c < width; c++)
        ruler[c] = c % 5 == 0 ? '|' : ' ';
    ruler[width] = '\0';
    lab_say("  %-6s %s  (# runs, . ready, ~ IO; a column is a tick, | every 5)", "tick", ruler);
    for (size_t i = 0; i < w->n; i++) {
        const struct job *j = &w->jobs[i];
        char row[CHART_MAX_TICKS + 1];
        for (size_t c = 0; c < width; c++)
            row[c] = (long)c >= j->arrival && (long)c < j->finish ? '.' : ' ';
        row[width] = '\0';
        for (size_t k = 0; k < r->nslices; k++)
            if (r->slices[k].job == i)
                for (long c = r->slices[k].start; c < r->slices[k].end && c < (long)width; c++)
                    row[c] = r->slices[k].io ? '~' : '#';
        size_t end = width;
        while (end > 0 && row[end - 1] == ' ')
            end--;
        row[end] = '\0';
        lab_say("  %-6s %s", j->name, row);
    }
}

struct totals { long waiting, turnaround, response; double n; };

static struct totals totals_of(const struct workload *w)
{
    struct totals t = { .n = (double)w->n };
    for (size_t i = 0; i < w->n; i++) {
        const struct job *j = &w->jobs[i];
        t.turnaround += j->finish - j->arrival;
        t.waiting += j->waiting;
        t.response += j->first_run - j->arrival;
    }
    return t;
}

void l13_report(const struct workload *w, const struct sim_config *cfg, const struct sim_result *r)
{
    char label[16];
    l13_algo_label(cfg, label, sizeof label);
    for (size_t i = 0; i < r->nslices; i++)   /* --trace: the CPU's Gantt chart on a track of its own */
        if (!r->slices[i].io)
            lab_trace_sim(label, (double)r->slices[i].start, (double)(r->slices[i].end - r->slices[i].start), "%s",
                          w->jobs[r->slices[i].job].name);
    gantt_line(w, cfg, r);
    chart(w, r);
    if (w->n <= CHART_MAX_JOBS)
        for (size_t i = 0; i < w->n; i++) {
            const struct job *j = &w->jobs[i];
            lab_say("PROC %s finish=%ld turnaround=%ld waiting=%ld response=%ld", j->name, j->finish,
                    j->finish - j->arrival, j->waiting, j->first_run - j->arrival);
        }
    struct totals t = totals_of(w);
    lab_result("algo=%s workload=%s jobs=%zu makespan=%ld cpu_busy=%ld total_waiting=%ld total_turnaround=%ld "
               "avg_waiting=%.2f avg_turnaround=%.2f avg_response=%.2f",
               label, w->name, w->n, r->makespan, r->cpu_busy, t.waiting, t.turnaround, t.waiting / t.n,
               t.turnaround / t.n, t.response / t.n);
}

void l13_predict(const struct workload *w, const struct sim_config *cfg)
{
    char label[16];
    l13_algo_label(cfg, label, sizeof label);
    lab_say("Predict %s on workload %s (one CPU; a tick is one unit of time):", label, w->name);
    if (w->n <= CHART_MAX_JOBS)
        for (size_t i = 0; i < w->n; i++) {
            const struct job *j = &w->jobs[i];
            char phases[256] = "";
            size_t n = 0;
            for (int k = 0; k < j->nphases && n < sizeof phases - 32; k++)
                n += (size_t)snprintf(phases + n, sizeof phases - n, "%s%s %ld", k ? ", " : "", k % 2 ? "IO" : "CPU",
                                      j->phases[k]);
            lab_say("  %-6s arrives at %ld: %s", j->name, j->arrival, phases);
        }
    lab_say("  1. Draw the Gantt chart: who has the CPU at each tick?");
    lab_say("  2. For each job: finish, turnaround (finish - arrival), waiting (ticks ready but not running),");
    lab_say("     response (first run - arrival).  3. The averages of the three.");
    lab_say("Check your answers with --solve (same options).");
    lab_result("algo=%s workload=%s jobs=%zu predict=1", label, w->name, w->n);
}

void l13_compare(struct workload *w, const struct sim_config *base)
{
    double wait[ALGO_COUNT], turn[ALGO_COUNT];
    long longest_wait[ALGO_COUNT];
    size_t longest = 0;
    for (size_t i = 1; i < w->n; i++)
        if (w->jobs[i].cpu_total > w->jobs[longest].cpu_total)
            longest = i;
    lab_say("%-9s %15s %12s %13s %18s", "algorithm", "avg turnaround", "avg waiting", "avg response",
            "the longest waits");
    for (int a = 0; a < ALGO_COUNT; a++) {
        struct sim_config cfg = *base;
        cfg.algo = (enum algo)a;
        struct sim_result r;
        l13_simulate(w, &cfg, NULL, NULL, &r);
        struct totals t = totals_of(w);
        char label[16];
        wait[a] = t.waiting / t.n;
        turn[a] = t.turnaround / t.n;
        longest_wait[a] = w->jobs[longest].waiting;
        lab_say("%-9s %15.2f %12.2f %13.2f %18ld", l13_algo_label(&cfg, label, sizeof label), turn[a], wait[a],
                t.response / t.n, longest_wait[a]);
        l13_result_free(&r);
    }
    int best = 0;
    for (int a = 1; a < ALGO_COUNT; a++)
        if (wait[a] < wait[best])
            best = a;
    struct sim_config b = *base;
    b.algo = (enum algo)best;
    char label[16];
    lab_say("Shortest average wait: %s.  The longest job (%s) waits %ld under FCFS and %ld under SJF:",
            l13_algo_label(&b, label, sizeof label), w->jobs[longest].name, longest_wait[ALGO_FCFS],
            longest_wait[ALGO_SJF]);
    if (longest_wait[ALGO_FCFS] < longest_wait[ALGO_SJF])
        lab_say("  FCFS favours the long job (对长作业有利), SJF the short ones (对短作业有利), as the notes say.");
    else
        lab_say("  here the long job does not come first, so FCFS does not favour it: order decides.");
    lab_result("algo=compare workload=%s jobs=%zu fcfs_waiting=%.2f sjf_waiting=%.2f srtf_waiting=%.2f "
               "rr_waiting=%.2f mlfq_waiting=%.2f lottery_waiting=%.2f longest=%s longest_fcfs_waiting=%ld "
               "longest_sjf_waiting=%ld",
               w->name, w->n, wait[ALGO_FCFS], wait[ALGO_SJF], wait[ALGO_SRTF], wait[ALGO_RR], wait[ALGO_MLFQ],
               wait[ALGO_LOTTERY], w->jobs[longest].name, longest_wait[ALGO_FCFS], longest_wait[ALGO_SJF]);
}
