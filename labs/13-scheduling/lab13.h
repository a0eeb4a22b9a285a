/* labs/13-scheduling/lab13.h - what the files of lab 13 share: jobs, workloads, the simulator.
 *
 * Time is discrete: ticks 0, 1, 2, ...  A job arrives at a tick, then alternates CPU bursts and IO
 * waits ("A 0 2 3 1": arrives at 0, computes 2 ticks, waits 3 for IO, computes 1 more).  One CPU,
 * as many IO devices as jobs.  The simulator (sim.c) applies the same tick rules to every
 * algorithm; only the choice of the next job and when to take the CPU away differ.
 */
#ifndef LAB13_H
#define LAB13_H

#include <stdbool.h>
#include <stddef.h>

/* ==== Jobs and workloads (workload.c) ==== */

enum job_state { ST_NEW, ST_READY, ST_RUNNING, ST_BLOCKED, ST_EXIT };

struct job {
    char name[16];
    long arrival;
    int nphases;          /* cpu, io, cpu, io, ..., cpu: always odd */
    long *phases;
    long cpu_total;       /* the sum of the CPU bursts */
    /* filled in by the simulator: */
    enum job_state state;
    int phase;            /* index into phases */
    long left;            /* ticks left in the current phase */
    long first_run;       /* -1 until dispatched */
    long finish;
    long waiting;         /* ticks spent READY */
    int level;            /* MLFQ */
    long used;            /* ticks of the current quantum used */
    long io_done;         /* when BLOCKED: the tick its IO ends */
    long tickets;         /* lottery */
};

struct workload {
    char name[32];        /* "W1", "jobs", "random", or the file's base name */
    size_t n;
    struct job *jobs;
    bool has_io;
};

/* The notes' workloads, built in: "W1", "W3", "states". */
void l13_workload_builtin(struct workload *w, const char *name);
/* --jobs 7,4,1,4: all arrive at 0, named J0, J1, ...  Usage error (exit 2) when malformed. */
void l13_workload_jobs(struct workload *w, const char *list);
/* --workload FILE: one job a line, "name arrival burst [io burst ...]", '#' comments. */
void l13_workload_file(struct workload *w, const char *path);
/* --random N --seed S --maxlen L: N jobs arriving at 0, bursts 1..L, from their own stream. */
void l13_workload_random(struct workload *w, size_t n, unsigned long long seed, long maxlen);
/* The workload the scenario's options ask for (W1 when none). */
void l13_workload_from_options(struct workload *w);
void l13_workload_free(struct workload *w);
/* Set every job back to NEW, so the same workload can be run by another algorithm. */
void l13_workload_reset(struct workload *w);

/* ==== The simulator (sim.c) ==== */

enum algo { ALGO_FCFS, ALGO_SJF, ALGO_SRTF, ALGO_RR, ALGO_MLFQ, ALGO_LOTTERY, ALGO_COUNT };

#define L13_MAX_LEVELS 8

struct sim_config {
    enum algo algo;
    long quantum;                   /* RR and lottery */
    int levels;                     /* MLFQ */
    long quanta[L13_MAX_LEVELS];    /* MLFQ: the slice of each level, top first */
    long boost;                     /* MLFQ: every `boost` ticks all jobs go back to the top; 0 never */
    unsigned long long seed;        /* lottery */
    bool uniprog;                   /* one job in the machine at a time: the next is admitted when it ends */
};

/* One stretch of the CPU given to one job (at one MLFQ level), for the Gantt chart; or one IO wait. */
struct slice {
    size_t job;
    int level;
    long start, end;
    bool io;        /* not on the CPU: the job waits for IO (for the chart only) */
};

/* Called for every state change: tick, job, from, to (the states scenario prints them). */
typedef void (*sim_trace_fn)(long t, const struct job *j, enum job_state from, enum job_state to, void *arg);

struct sim_result {
    struct slice *slices;
    size_t nslices;
    long makespan;                  /* the tick the last job ended */
    long cpu_busy;                  /* ticks the CPU ran a job */
    long illegal;                   /* transitions not in the diagram (none, by construction) */
};

/* Run the workload under cfg; the jobs' statistics are filled in.  trace may be NULL. */
void l13_simulate(struct workload *w, const struct sim_config *cfg, sim_trace_fn trace, void *arg,
                  struct sim_result *r);
void l13_result_free(struct sim_result *r);
/* "FCFS", "SJF", "SRTF", "RR2", "MLFQ", "LOTTERY" */
const char *l13_algo_label(const struct sim_config *cfg, char *buf, size_t len);
const char *l13_state_name(enum job_state s);

/* ==== Output (report.c) ==== */

/* The GANTT line, the chart, the PROC lines and the RESULT line of one run. */
void l13_report(const struct workload *w, const struct sim_config *cfg, const struct sim_result *r);
/* The workload and the questions, answers hidden (--predict). */
void l13_predict(const struct workload *w, const struct sim_config *cfg);
/* The averages of every algorithm on one workload, one table. */
void l13_compare(struct workload *w, const struct sim_config *base);

/* ==== Scenarios ==== */
int run_multiprog(int mode);    /* multiprog.c */
int run_states(int mode);       /* states.c */
int run_schedule(int mode);     /* schedule.c */
void check_schedule(void);      /* schedule.c: its options, before anything is printed */
int run_linux(int mode);        /* linux.c */

/* The modes of states, in the order of its .modes list. */
enum states_mode { STATES_RR, STATES_UNIPROG };

#endif
