/* gil.c - lab 6: a global interpreter lock built in C, switched on and off.
 *
 * C has no GIL: pthreads of one process execute in parallel on every core (PARITY P1).  CPython
 * has one: "a mutex that prevents multiple native threads from executing Python bytecodes at
 * once" (the notes quote the glossary).  This lab runs a tiny bytecode interpreter (interp.c)
 * in several threads and makes them hold a GIL built like CPython's (minigil.c): none (C and
 * Jython: true parallelism), Python 2 (drop and re-take every 100 ticks) or Python 3 (the
 * waiter asks for the GIL after 5 ms; the holder drops it and lets the other thread take it).
 * It shows what the GIL guarantees (one thread in the interpreter: max_inside=1), what it costs
 * (CPU-bound threads do not run in parallel), what it does not cost (IO waits still overlap) and
 * what it does not give (your data still needs its own lock: gil_money).
 *
 * Python original ↔ C:  threading.Thread(target=job) ↔ a thread running interp_run(job);
 * sys.setswitchinterval / sys.setcheckinterval ↔ --interval-us / --check-interval;
 * multiprocessing.Process ↔ fork (each process has its own GIL); time.sleep ↔ OP_SLEEP.
 *
 * Usage: lab06 [gil|cpu|bound|convoy|gil_money|affinity] [--mode=M] [--timeline] [--n=100000] ...
 *        lab06 --bench (make bench: the speedup table, n = 1000000)
 * What to watch for: checksum equal in every mode; max_inside=1 with a GIL; the timeline rows
 * taking turns under py3 and one thread hogging the GIL under py2.
 * See also: minigil.c, interp.c, work.c (cpu, bound, affinity, bench), README.md.
 */
#include "lab06.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The IO-bound thread of `gil`: 6 rounds of sleep(0.02) then a short loop over range(20000). */
#define IO_ROUNDS 6
#define IO_UNITS 0.02
#define IO_CHUNK 20000UL

static struct lab_opt opts[] = {
    { "threads", "CPU-bound threads (gil, convoy)", 2, 1, 16, 0, false },
    { "io", "IO-bound threads next to them (gil)", 1, 0, 16, 0, false },
    { "work", "range(work) summed by each CPU-bound thread (gil, convoy)", 300000, 1, 100000000, 0, false },
    { "n", "loop length of one CPU job: for i in range(n) (cpu, bound)", 100000, 1, 100000000, 0, false },
    { "workers", "CPU-bound workers (cpu, bound)", 2, 1, 16, 0, false },
    { "io-threads", "IO-bound threads that each sleep(2) (bound)", 400, 1, 40000, 0, false },
    { "money-threads", "threads doing money -= 1 (gil_money)", 100, 2, 100, 0, false },
    { "interval-us", "py3 switch interval, microseconds (sys.setswitchinterval)", 5000, 1, 1000000, 0, false },
    { "check-interval", "py2 check interval, bytecodes (sys.setcheckinterval)", 100, 1, 1000000, 0, false },
    { "timeline", "draw, after the run, who held the GIL, waited, or was in IO", 0, 1, 1, 0, false },
    { 0 }
};


bool timeline_on(void) { return lab_opt("timeline"); }

/* ==== helpers shared by the scenarios ==== */

void gate_init(struct gate *g)
{
    Pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    PT_CHECK(pthread_condattr_init(&ca));
    PT_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    Pthread_cond_init(&g->cond, &ca);
    PT_CHECK(pthread_condattr_destroy(&ca));
    g->open = false;
}

void gate_destroy(struct gate *g)
{
    Pthread_mutex_destroy(&g->mu);
    Pthread_cond_destroy(&g->cond);
}

void gate_wait(struct gate *g)
{
    if (g == NULL)
        return;
    double give_up = lab_now_ms() + 30000;               /* never hang: go anyway */
    Pthread_mutex_lock(&g->mu);
    while (!g->open && lab_now_ms() < give_up)
        gil_wait_slice(&g->cond, &g->mu);                /* bounded: see gil_wait_slice */
    Pthread_mutex_unlock(&g->mu);
}

void gate_open(struct gate *g)
{
    Pthread_mutex_lock(&g->mu);
    g->open = true;
    Pthread_cond_broadcast(&g->cond);
    Pthread_mutex_unlock(&g->mu);
}

int allowed_cpus(int *cpus, int max)
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

int pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;   /* 0 = this thread */
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->cpu >= 0)
        (void)pin_self(w->cpu);          /* best effort: the report says how many CPUs were used */
    gate_wait(w->gate);
    w->result = interp_run(&w->code, &w->gt, w->sh, &w->ninstr);
    return NULL;
}

size_t workers_start(struct worker *w, size_t n, size_t stack_size)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        w[i].th = lab_thread_new(worker_main, &w[i], "worker");
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

void workers_join(struct worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].started)
            lab_thread_join(w[i].th);
}

void crew_init(struct crew *c, size_t n, enum gil_mode m, long interval_us, long check_interval,
               bool timeline, int parties)
{
    gil_init(&c->g, m, interval_us, check_interval, timeline);
    gate_init(&c->gate);
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
    gate_open(&c->gate);
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
    gate_destroy(&c->gate);
    gil_destroy(&c->g);
}

static const char *yes(bool b) { return b ? "yes" : "NO"; }

/* ==== gil: N threads in each mode ==== */

static int run_gil(int mode_index)
{
    (void)mode_index;
    const char *mode = lab_mode_name();
    enum gil_mode m = gil_mode_parse(mode);
    size_t ncpu = (size_t)lab_opt("threads"), nio = (size_t)lab_opt("io"), nt = ncpu + nio;
    unsigned long n = (unsigned long)lab_opt("work");
    /* The picture students remember: the guided demo draws who holds the GIL under py2 and py3. */
    bool tl = timeline_on() || (lab_in_demo() && m != GIL_NONE);
    struct crew c;
    crew_init(&c, nt, m, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, 1);
    struct gil *g = &c.g;
    for (size_t i = 0; i < nt; i++) {
        char name[16];
        if (i < ncpu) {
            snprintf(name, sizeof name, "cpu-%u", (unsigned)(i + 1));
            code_cpu_job(&c.w[i].code, i * n, (i + 1) * n);     /* thread k sums range(k*n, (k+1)*n) */
        } else {
            snprintf(name, sizeof name, "io-%u", (unsigned)(i - ncpu + 1));
            code_io_job(&c.w[i].code, IO_ROUNDS, IO_UNITS, IO_CHUNK);
        }
        crew_worker(&c, i, name, -1, TL_EVENTS);
    }
    if (m == GIL_NONE)
        printf("mode none: no GIL, as in C (and Jython): %zu threads run the bytecode in parallel\n", nt);
    else if (m == GIL_PY2)
        printf("mode py2: the holder drops the GIL every %lld ticks and competes again at once (sys.setcheckinterval)\n",
               lab_opt("check-interval"));
    else
        printf("mode py3: a waiter asks for the GIL after %lld us (sys.setswitchinterval); the holder drops it at its next check\n",
               lab_opt("interval-us"));
    printf("%zu CPU-bound threads: res += i + i**2 + i**3 over range(k*%lu, (k+1)*%lu); %zu IO-bound: %d x sleep(%.2f) + a short loop\n",
           ncpu, n, n, nio, IO_ROUNDS, IO_UNITS);

    double ms = crew_run(&c);

    unsigned long instr;
    u128 sum = crew_sum(&c, &instr), want = cpu_expected(ncpu * n) + (u128)nio * IO_ROUNDS * cpu_expected(IO_CHUNK);
    int max_inside = atomic_load(&g->max_inside);
    unsigned long drops = atomic_load(&g->drops);
    char b1[48], b2[48];
    printf("checksum %s (expected %s): %s\n", u128_str(sum, b1), u128_str(want, b2), yes(sum == want));
    printf("at most %d thread(s) inside the interpreter at once (max_inside)%s\n", max_inside,
           m == GIL_NONE ? ": without a GIL nothing stops them" : ": the GIL lets one thread run bytecode");
    printf("hand-offs %lu, drop requests %lu, drops at a check %lu (while someone waited %lu, re-taken by the dropper %lu), IO releases %lu\n",
           crew_handoffs(&c), (unsigned long)atomic_load(&g->drop_requests), drops,
           (unsigned long)atomic_load(&g->contested), (unsigned long)atomic_load(&g->retakes),
           (unsigned long)atomic_load(&g->io_releases));
    bool ticks_ok = true;
    if (m == GIL_PY2) {
        ticks_ok = drops == instr / (unsigned long)g->check_interval;
        printf("py2 ticks: %lu bytecodes / %ld = %lu drops: %s\n", instr, g->check_interval,
               instr / (unsigned long)g->check_interval, yes(ticks_ok));
    }
    if (tl)
        crew_timeline(&c, 16);
    lab_result("threads=%zu cpu_threads=%zu io_threads=%zu work=%lu checksum=%s max_inside=%d handoffs=%lu "
               "drop_requests=%lu drops=%lu instructions=%lu interval_us=%ld check_interval=%ld elapsed_ms=%.1f",
               nt, ncpu, nio, n, u128_str(sum, b1), max_inside,
               crew_handoffs(&c), (unsigned long)atomic_load(&g->drop_requests), drops,
               instr, g->interval_us, g->check_interval, ms);
    crew_destroy(&c);
    bool ok = sum == want && ticks_ok && (m == GIL_NONE || max_inside == 1);
    return ok ? 0 : 1;
}

/* ==== convoy: who gets the GIL after a drop at a check? ==== */

static int run_convoy(int mode_index)
{
    (void)mode_index;
    const char *mode = lab_mode_name();
    enum gil_mode m = gil_mode_parse(mode);
    size_t nt = (size_t)lab_opt("threads");
    unsigned long n = (unsigned long)lab_opt("work");
    bool tl = timeline_on();
    int cpus[2];
    int ncpus = allowed_cpus(cpus, 2);
    if (ncpus < 1)
        ncpus = 0;
    struct crew c;
    crew_init(&c, nt, m, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, 1);
    struct gil *g = &c.g;
    for (size_t i = 0; i < nt; i++) {
        char name[16];
        snprintf(name, sizeof name, "cpu-%u", (unsigned)(i + 1));
        code_cpu_job(&c.w[i].code, i * n, (i + 1) * n);
        crew_worker(&c, i, name, ncpus > 0 ? cpus[i % (size_t)ncpus] : -1, TL_EVENTS);   /* one thread per core */
    }
    printf("%zu CPU-bound threads on %d core(s), mode %s: after each drop at a check, does the dropper take the GIL straight back?\n",
           nt, ncpus, gil_mode_name(m));
    crew_run(&c);

    unsigned long instr;
    u128 sum = crew_sum(&c, &instr);
    unsigned long drops = atomic_load(&g->drops), contested = atomic_load(&g->contested),
                  retakes = atomic_load(&g->retakes), requests = atomic_load(&g->drop_requests);
    unsigned long handoffs = crew_handoffs(&c);
    int pct = contested ? (int)(100.0 * (double)retakes / (double)contested + 0.5) : 0;
    char b1[48];
    printf("drops at a check %lu; with another thread waiting %lu; re-taken at once by the dropper %lu (%d%%); hand-offs %lu\n",
           drops, contested, retakes, pct, handoffs);
    bool ok = sum == cpu_expected(nt * n);
    if (m == GIL_PY2) {
        printf("py2: the dropper is still on its CPU and running; the waiter must first wake up: the dropper usually wins (convoy)\n");
        ok = ok && drops == instr / (unsigned long)g->check_interval;
    } else {
        printf("py3: %lu drop requests; after a forced drop the dropper waits until another thread has the GIL: no retakes\n", requests);
        ok = ok && retakes == 0;
    }
    if (tl)
        crew_timeline(&c, 16);
    lab_result("cpus=%d threads=%zu checksum=%s instructions=%lu drops=%lu contested=%lu retakes=%lu "
               "retake_pct=%d handoffs=%lu drop_requests=%lu",
               ncpus, nt, u128_str(sum, b1), instr, drops, contested, retakes, pct, handoffs, requests);
    crew_destroy(&c);
    return ok ? 0 : 1;
}

/* ==== gil_money: the GIL does not protect your data ==== */

static int run_gil_money(int mode_index)
{
    (void)mode_index;
    const char *mode = lab_mode_name();
    bool lock = strcmp(mode, "lock") == 0;
    size_t nt = (size_t)lab_opt("money-threads");
    bool tl = timeline_on();
    struct crew c;
    crew_init(&c, nt, GIL_PY3, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, (int)nt);
    struct interp_shared *sh = &c.sh;
    sh->globals[0] = 100;                                 /* money = 100 */
    for (size_t i = 0; i < nt; i++) {
        char name[16];
        snprintf(name, sizeof name, "task-%u", (unsigned)(i + 1));
        code_money(&c.w[i].code, lock, !lock, 0.1);
        crew_worker(&c, i, name, -1, tl ? 64 : 0);
    }
    if (lock)
        printf("%zu threads under the py3 GIL: with mutex: tmp = money; time.sleep(0.1); money = tmp - 1\n", nt);
    else
        printf("%zu threads under the py3 GIL, no user lock: tmp = money; time.sleep(0.1); money = tmp - 1\n", nt);
    double units = crew_run(&c) / (double)lab_second_ms();
    char b1[48];
    const char *final = u128_str(sh->globals[0], b1);
    int max_inside = atomic_load(&c.g.max_inside);
    if (lock) {
        printf("money = %s: the user lock made read-sleep-write one step; %lu acquires blocked, each with the GIL released\n",
               final, sh->blocked_acquires);
        printf("(mutex.acquire() releases the GIL while it waits: holding it there would deadlock the model, P20)\n");
    } else {
        printf("money = %s, not 0: every thread read 100 before anyone wrote (the lab waits until all have read)\n", final);
        printf("the GIL was released by sleep(); the GIL protects the interpreter, not your read-modify-write\n");
    }
    printf("max_inside=%d, elapsed %.1f units (the notes: 100 x 0.1 s serialised by the lock = 10 s)\n", max_inside, units);
    if (tl)
        crew_timeline(&c, 8);
    lab_result("gil=py3 user_lock=%d threads=%zu final=%s max_inside=%d blocked_acquires=%lu elapsed_units=%.1f",
               lock ? 1 : 0, nt, final, max_inside, sh->blocked_acquires, units);
    bool ok = sh->globals[0] == (lock ? 100 - (u128)nt : 99);
    ok = ok && max_inside == 1 && !sh->bar_broken;
    crew_destroy(&c);
    return ok ? 0 : 1;
}

/* ==== the scenarios (the guided demo is the default tour; gil py2/py3 draw the timeline there) ==== */

static const struct lab_scenario scenarios[] = {
    { "gil", "2 CPU + 1 IO thread run bytecode: no GIL, Python 2 ticks, Python 3 interval",
      "none,py2,py3", "threads,io,work,interval-us,check-interval,timeline", run_gil, NULL, false },
    { "cpu", "res += i+i**2+i**3 twice: normal, threads, threads under the GIL, processes",
      NULL, "n,workers,interval-us", run_cpu, NULL, false },
    { "bound", "CPU-bound vs IO-bound workers under the GIL: IO waits overlap",
      NULL, "n,workers,io-threads,interval-us", run_bound, NULL, false },
    { "convoy", "py2 vs py3 on two cores: does the dropper take the GIL straight back?",
      "py2,py3", "threads,work,interval-us,check-interval,timeline", run_convoy, NULL, false },
    { "gil_money", "money = 100, 100 threads sleep inside: the GIL does not protect your data",
      "nolock,lock", "money-threads,interval-us,timeline", run_gil_money, NULL, false },
    { "affinity", "two CPU-bound threads pinned to one core: concurrent, not parallel",
      "pinned,free", NULL, run_affinity, NULL, false },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 6,
        .title = "the GIL, built in C: CPU-bound vs IO-bound, threads vs processes",
        .scenarios = scenarios,
        .opts = opts,
        .bench = bench,
    };
    return lab_main(&prog, argc, argv);
}
