/* lab06.h - what the files of lab 6 share: interpreter threads, a start gate, the scenarios. */
#ifndef LAB06_LAB06_H
#define LAB06_LAB06_H

#include "interp.h"
#include "minigil.h"

#include "lab.h"

#include <stdbool.h>
#include <stddef.h>

/* Threads wait here until every one is created, then start together (bounded wait). */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool open;
};
void gate_init(struct gate *g);
void gate_destroy(struct gate *g);
void gate_wait(struct gate *g);
void gate_open(struct gate *g);

/* One interpreter thread: its program, its GIL state, its result. */
struct worker {
    struct lab_thread *th;  /* from the thread registry (workers_start) */
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
 * per thread (P18). */
#define WORKER_STACK (128 * 1024)
/* Start n workers (stack_size 0: the default); returns how many could not be created. */
size_t workers_start(struct worker *w, size_t n, size_t stack_size);
void workers_join(struct worker *w, size_t n);
void *worker_main(void *arg);

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
int allowed_cpus(int *cpus, int max);
/* Pin the calling thread to one CPU: 0, or an errno value. */
int pin_self(int cpu);

/* Timeline on: --timeline, or the guided demo's gil py2/py3. */
bool timeline_on(void);

/* Scenarios in work.c. */
int run_cpu(int mode_index);
int run_bound(int mode_index);
int run_affinity(int mode_index);
int bench(void);

#endif
