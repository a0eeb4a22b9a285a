/* lab06.h - what the files of lab 6 share: the modes, a start gate, interpreter threads (crew.c),
 * the scenarios (gil.c, work.c). */
#ifndef LAB06_LAB06_H
#define LAB06_LAB06_H

#include "interp.h"
#include "minigil.h"

#include "lab.h"
#include "timing.h"

#include <stdbool.h>
#include <stddef.h>

/* The modes of the scenarios, in the order of their .modes string in main.c: run(mode) gets the
 * index, which is the enum value.
 *   gil        "none,py2,py3"   enum gil_mode (minigil.h): GIL_NONE, GIL_PY2, GIL_PY3 */
enum convoy_mode { CONVOY_PY2, CONVOY_PY3 };            /* convoy     "py2,py3" */
enum money_mode { MONEY_NOLOCK, MONEY_LOCK };           /* gil_money  "nolock,lock" */
enum affinity_mode { AFFINITY_PINNED, AFFINITY_FREE };  /* affinity   "pinned,free" */
enum refcount_mode { REFCOUNT_NONE, REFCOUNT_GIL };     /* refcount   "none,gil" */

/* Threads wait here until every one is created, then start together (bounded wait). */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool open;
};
void l06_gate_init(struct gate *g);
void l06_gate_destroy(struct gate *g);
void l06_gate_wait(struct gate *g);
void l06_gate_open(struct gate *g);

/* One interpreter thread: its program, its GIL state, its result. */
struct worker {
    struct lab_thread *th;  /* from the thread registry (crew_run) */
    pthread_t pt;           /* or a bare pthread (the IO horde of `bound`) */
    struct gil_thread gt;
    struct code code;
    struct interp_shared *sh;
    struct gate *gate;
    int cpu;                /* >= 0: pin the thread to this CPU first */
    bool started;
    u128 result;
    unsigned long ninstr;
};
/* Interpreter threads need little stack; a small one also spares Valgrind from marking 8 MiB
 * per thread. */
#define WORKER_STACK (128 * 1024)
/* A worker's thread: pin it (w->cpu >= 0), wait at the gate, run its program. */
void *l06_worker_main(void *arg);

/* A crew: n interpreter threads under one GIL, held at a gate until every one has started, so
 * that the run measures the work and not thread creation.  The scenario fills in each worker's
 * program (w[i].code) and calls crew_worker for its name, CPU and timeline buffer. */
struct crew {
    struct gil g;
    struct gate gate;
    struct interp_shared sh;    /* globals and barrier of the programs, when parties > 0 */
    bool has_sh;
    struct worker *w;
    size_t n;
};
void crew_init(struct crew *c, size_t n, enum gil_mode m, long interval_us, long check_interval,
               bool timeline, int parties);
void crew_worker(struct crew *c, size_t i, const char *name, int cpu, size_t tl_events);
/* Start every worker, open the gate, join them all; the elapsed ms from the gate. */
double crew_run(struct crew *c);
/* The sum of the workers' results; *instr gets the bytecodes they executed (may be NULL). */
u128 crew_sum(const struct crew *c, unsigned long *instr);
/* Hand-offs of the GIL between threads. */
unsigned long crew_handoffs(const struct crew *c);
void crew_timeline(const struct crew *c, size_t max_rows);
void crew_destroy(struct crew *c);

/* Timeline buffer per thread (events). */
#define TL_EVENTS 16384

/* The CPUs this process may run on (sched_getaffinity), lowest first; returns how many. */
int l06_allowed_cpus(int *cpus, int max);
/* Pin the calling thread to one CPU: 0, or an errno value. */
int l06_pin_self(int cpu);

/* --timeline given (the guided demo also draws gil py2/py3). */
bool l06_timeline_on(void);

/* refcount.c: why the GIL exists (a shared reference count). */
int run_refcount(int mode);
/* hybrid.c: processes, threads, or threads inside processes, on a mixed workload. */
int run_hybrid(int mode);
/* Scenarios in gil.c. */
int run_gil(int mode);
int run_convoy(int mode);
int run_gil_money(int mode);
/* The timing lessons (cpu, bound, hybrid, affinity): the default work follows the pace
 * (timing.h), and a speed-up shows the effect from this ratio on (the README's thresholds). */
#define L06_N_PER_SECOND 25e6       /* cpu, bound: n = 2500000 at the default pace (100 ms) */
#define L06_N_MAX 100000000UL       /* the --n option's maximum */
#define L06_SHOWN_RATIO 1.3         /* cpu, bound: two workers on two cores give up to 2 */
/* The loop length of a timed job: --n when given, else per_second x the pace in seconds
 * (L06_N_PER_SECOND for cpu and bound), at most L06_N_MAX. */
unsigned long l06_cpu_n_per(double per_second);
/* v as "%.*f" prints it with `decimals` places, read back: a sentence chosen by a measured number
 * is chosen by the number the reader sees (affinity's 1.10 is "about 1"; hybrid's fastest). */
double l06_as_printed(double v, int decimals);
/* Scenarios in work.c, and the benchmark table of `lab06 --bench`. */
int run_cpu(int mode);
int run_bound(int mode);
int run_affinity(int mode);
int l06_bench(void);

#endif
