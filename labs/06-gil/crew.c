/* crew.c - lab 6: what the scenarios share: a start gate, interpreter threads, the crew.
 *
 * A crew is n interpreter threads under one GIL (minigil.c), each running its own bytecode
 * program (interp.c), held at a gate until every one of them exists, so that a run measures the
 * work and not thread creation.  The scenarios (gil.c, work.c) fill in each thread's program and
 * read the GIL's counters after the run.
 *
 * Python original ↔ C:  threading.Thread(target=job).start() for each job, then join() each ↔
 * crew_run(); taskset -c N ↔ l06_pin_self(N) (sched_setaffinity).
 *
 * Usage: crew_init(&c, n, GIL_PY3, 5000, 100, timeline, parties); code_cpu_job(&c.w[i].code, ...);
 *        crew_worker(&c, i, "cpu-1", -1, TL_EVENTS); double ms = crew_run(&c); crew_sum(&c, &instr);
 *        crew_destroy(&c).
 * What to watch for: every wait here is bounded (the gate gives up after 30 s and lets the
 * threads go), so a lost wake-up cannot hang the lab.
 * See also: gil.c, work.c (the scenarios), minigil.c (the lock), interp.c (the bytecode).
 */
#include "lab06.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

/* The gate never holds a thread longer than this: a thread that was never let go goes anyway. */
#define GATE_BOUND_MS 30000.0

bool l06_timeline_on(void) { return lab_opt("timeline"); }

/* ==== the start gate ==== */

void l06_gate_init(struct gate *g)
{
    lab_mutex_init(&g->mu, 0);
    lab_cond_init(&g->cond, 0);
    g->open = false;
}

void l06_gate_destroy(struct gate *g)
{
    Pthread_mutex_destroy(&g->mu);
    Pthread_cond_destroy(&g->cond);
}

void l06_gate_wait(struct gate *g)
{
    if (g == NULL)
        return;
    double give_up = lab_now_ms() + GATE_BOUND_MS;       /* never hang: go anyway */
    Pthread_mutex_lock(&g->mu);
    while (!g->open && lab_now_ms() < give_up)
        gil_wait_slice(&g->cond, &g->mu);                /* bounded: see gil_wait_slice */
    Pthread_mutex_unlock(&g->mu);
}

void l06_gate_open(struct gate *g)
{
    Pthread_mutex_lock(&g->mu);
    g->open = true;
    Pthread_cond_broadcast(&g->cond);
    Pthread_mutex_unlock(&g->mu);
}

/* ==== CPUs ==== */

int l06_allowed_cpus(int *cpus, int max)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n;
}

int l06_pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;   /* 0 = this thread */
}

/* ==== interpreter threads ==== */

void *l06_worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->cpu >= 0)
        (void)l06_pin_self(w->cpu);          /* best effort: the report says how many CPUs were used */
    l06_gate_wait(w->gate);
    w->result = interp_run(&w->code, &w->gt, w->sh, &w->ninstr);
    return NULL;
}

/* Start n workers (stack_size 0: the default); returns how many could not be created. */
static size_t workers_start(struct worker *w, size_t n, size_t stack_size)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        w[i].th = lab_thread_new(l06_worker_main, &w[i], "worker");
        lab_thread_set_name(w[i].th, w[i].gt.name);
        if (stack_size)
            lab_thread_set_stack_size(w[i].th, stack_size);
        int rc = lab_thread_start(w[i].th);
        w[i].started = rc == 0;
        if (rc != 0)
            failed++;
    }
    return failed;
}

static void workers_join(struct worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].started)
            lab_thread_join(w[i].th);
}

/* ==== the crew ==== */

void crew_init(struct crew *c, size_t n, enum gil_mode m, long interval_us, long check_interval,
               bool timeline, int parties)
{
    gil_init(&c->g, m, interval_us, check_interval, timeline);
    l06_gate_init(&c->gate);
    c->has_sh = parties > 0;
    if (c->has_sh)
        interp_shared_init(&c->sh, parties);
    c->w = xcalloc(n, sizeof *c->w);
    c->n = n;
}

void crew_worker(struct crew *c, size_t i, const char *name, int cpu, size_t tl_events)
{
    gil_thread_init(&c->w[i].gt, &c->g, name, tl_events);
    c->w[i].sh = c->has_sh ? &c->sh : NULL;
    c->w[i].gate = &c->gate;
    c->w[i].cpu = cpu;
}

double crew_run(struct crew *c)
{
    if (workers_start(c->w, c->n, WORKER_STACK) != 0)
        die("could not start %zu threads", c->n);
    double t0 = lab_now_ms();
    c->g.t0_ns = lab_now_ns();
    l06_gate_open(&c->gate);
    workers_join(c->w, c->n);
    return lab_elapsed_ms(t0);
}

u128 crew_sum(const struct crew *c, unsigned long *instr)
{
    u128 sum = 0;
    unsigned long total = 0;
    for (size_t i = 0; i < c->n; i++) {
        sum += c->w[i].result;
        total += c->w[i].ninstr;
    }
    if (instr)
        *instr = total;
    return sum;
}

unsigned long crew_handoffs(const struct crew *c)
{
    return c->g.switch_number > 0 ? c->g.switch_number - 1 : 0;
}

void crew_timeline(const struct crew *c, size_t max_rows)
{
    const struct gil_thread **rows = xcalloc(c->n, sizeof *rows);
    for (size_t i = 0; i < c->n; i++)
        rows[i] = &c->w[i].gt;
    gil_timeline_draw(rows, c->n, max_rows);
    free(rows);
}

void crew_destroy(struct crew *c)
{
    for (size_t i = 0; i < c->n; i++)
        gil_thread_destroy(&c->w[i].gt);
    free(c->w);
    if (c->has_sh)
        interp_shared_destroy(&c->sh);
    l06_gate_destroy(&c->gate);
    gil_destroy(&c->g);
}
