/* labs/13-scheduling/main.c - lab 13: multiprogramming, process states and scheduling algorithms.
 *
 * The notes' chapter on the operating system: 多道技术 (several programs in memory, the CPU going to
 * whichever can run), the process states (就绪, 运行, 阻塞), the two reasons the OS takes the CPU
 * away (IO, and running too long), and the scheduling algorithms (先来先服务, 短作业优先, 时间片
 * 轮转, 多级反馈队列).  The simulators run on discrete ticks with fixed rules, so a student can
 * predict every line (--predict) and check it (--solve); the real kernel is shown beside them.
 * Usage: build/lab13 (guided demo) | build/lab13 --list | build/lab13 SCENARIO [OPTIONS]
 * See also: multiprog.c, states.c, schedule.c (with sim.c, report.c, workload.c), linux.c, README.md.
 */
#include "lab.h"
#include "lab13.h"

static const struct lab_scenario scenarios[] = {
    { .name = "multiprog", .summary = "laundry 30 s, cooking 30 s, boiling water 40 s: 100 one at a time, 40 overlapped",
      .run = run_multiprog },
    { .name = "states", .summary = "the state diagram traced tick by tick (RR, then one job at a time); /proc beside it",
      .modes = "rr,uniprog", .run = run_states },
    { .name = "schedule", .summary = "FCFS, SJF, SRTF, RR, MLFQ and a lottery: Gantt charts, waiting, turnaround",
      .opts = "algo,jobs,workload,random,seed,maxlen,quantum,levels,quanta,boost,predict,solve,compare",
      .run = run_schedule, .check = check_schedule },
    { .name = "linux", .summary = "the real scheduler: nice 0 vs nice 5 on one CPU (about 3:1), SCHED_FIFO/RR",
      .opts = "duration", .run = run_linux },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "quantum", .help = "RR and lottery time slice, ticks", .def = 2, .min = 1, .max = 1000000 },
    { .name = "levels", .help = "MLFQ levels (slices 1, 2, 4, ... unless --quanta)", .def = 3, .min = 1, .max = 8 },
    { .name = "boost", .help = "MLFQ: every N ticks all jobs back to the top level (0: never)", .def = 0, .min = 0,
      .max = 1000000000 },
    { .name = "random", .help = "a random workload of N jobs (0: none)", .def = 0, .min = 0, .max = 200000 },
    { .name = "seed", .help = "the random workload's and the lottery's stream", .def = 1, .min = 0,
      .max = 1000000000 },
    { .name = "maxlen", .help = "the random workload's longest job, ticks", .def = 10, .min = 1, .max = 1000 },
    { .name = "predict", .help = "show the workload and the questions, hide the answers", .min = 1, .max = 1 },
    { .name = "solve", .help = "show the answers (the default)", .min = 1, .max = 1 },
    { .name = "compare", .help = "every algorithm's averages in one table", .min = 1, .max = 1 },
    { .name = "duration", .help = "units the two processes of linux compete", .def = 5, .min = 1, .max = 100 },
    { 0 }
};

static struct lab_text_opt text_opts[] = {
    { .name = "algo", .help = "all, fcfs, sjf, srtf, rr, mlfq or lottery (any case)", .def = "all" },
    { .name = "jobs", .help = "run times of jobs arriving at 0, named J0, J1...: 7,4,1,4", .def = "" },
    { .name = "workload", .help = "W1, W3, or a file: one job a line, 'name arrival burst [io burst ...]'",
      .def = "" },
    { .name = "quanta", .help = "MLFQ slices, top level first", .def = "1,2,4" },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 13,
        .title = "multiprogramming, process states, scheduling",
        .scenarios = scenarios,
        .opts = opts,
        .text_opts = text_opts,
    };
    return lab_main(&prog, argc, argv);
}
