/* gil.c - lab 6: the scenarios of the GIL itself: gil, convoy, gil_money.
 *
 * C has no GIL: pthreads of one process execute in parallel on every core.  CPython has one:
 * "a mutex that prevents multiple native threads from executing Python bytecodes at once" (the
 * notes quote the glossary).  These scenarios run a tiny bytecode interpreter (interp.c) in
 * several threads and make them hold a GIL built like CPython's (minigil.c): none (C and Jython:
 * true parallelism), Python 2 (drop and re-take every 100 ticks) or Python 3 (the waiter asks for
 * the GIL after 5 ms; the holder drops it and lets the other thread take it).  They show what the
 * GIL guarantees (one thread in the interpreter: max_inside=1), who gets it after a drop (convoy)
 * and what it does not give (your data still needs its own lock: gil_money).
 *
 * Python original ↔ C:  threading.Thread(target=job) ↔ a thread running interp_run(job);
 * sys.setswitchinterval / sys.setcheckinterval ↔ --interval-us / --check-interval;
 * time.sleep ↔ OP_SLEEP; mutex.acquire() ↔ OP_LOCK_ACQUIRE.
 *
 * Usage: lab06 gil --mode=none|py2|py3 [--timeline] [--threads=2] [--io=1] [--work=300000]
 *        lab06 convoy --mode=py2|py3;  lab06 gil_money --mode=nolock|lock [--money-threads=100]
 * What to watch for: checksum equal in every mode; max_inside=1 with a GIL; the timeline rows
 * taking turns under py3 and one thread hogging the GIL under py2; money 99 without the user lock.
 * See also: crew.c (the threads), minigil.c, interp.c, work.c (cpu, bound, affinity), README.md.
 */
#include "lab06.h"

#include <stdio.h>
#include <unistd.h>

/* The IO-bound thread of `gil`: 6 rounds of sleep(0.02) then a short loop over range(20000). */
#define IO_ROUNDS 6
#define IO_UNITS 0.02
#define IO_CHUNK 20000UL
/* gil_money: each task sleeps 0.1 (time.sleep(0.1)) between reading and writing money. */
#define MONEY_UNITS 0.1

static const char *yes(bool b) { return b ? "yes" : "NO"; }

/* ==== gil: N threads in each mode ==== */

int run_gil(int mode)
{
    enum gil_mode m = (enum gil_mode)mode;          /* "none,py2,py3" is enum gil_mode's order */
    size_t ncpu = (size_t)lab_opt("threads"), nio = (size_t)lab_opt("io"), nt = ncpu + nio;
    unsigned long n = (unsigned long)lab_opt("work");
    /* The picture students remember: the guided demo draws who holds the GIL under py2 and py3. */
    bool tl = l06_timeline_on() || (lab_in_demo() && m != GIL_NONE);
    struct crew c;
    crew_init(&c, nt, m, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, 1);
    struct gil *g = &c.g;
    if (nt >= 2)
        gil_force_first_request(g);   /* py3: at least one drop request and drop, every run */
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
    u128 sum = crew_sum(&c, &instr), want = l06_cpu_expected(ncpu * n) + (u128)nio * IO_ROUNDS * l06_cpu_expected(IO_CHUNK);
    int max_inside = atomic_load(&g->max_inside);
    unsigned long drops = atomic_load(&g->drops);
    char b1[48], b2[48];
    printf("checksum %s (expected %s): %s\n", l06_u128_str(sum, b1), l06_u128_str(want, b2), yes(sum == want));
    long ncpu_online = lab_timing_cpus();   /* the CPUs this process may use (taskset counts) */
    if (m == GIL_NONE)
        printf("at most %d thread(s) inside the interpreter at once (max_inside): without a GIL nothing stops them;\n"
               "inside is not running: on %ld CPU(s) at most %ld of them ran at any instant%s\n",
               max_inside, ncpu_online, max_inside < ncpu_online ? (long)max_inside : ncpu_online,
               max_inside > ncpu_online ? ", the others were inside waiting for a CPU" : "");
    else
        printf("at most %d thread(s) inside the interpreter at once (max_inside): the GIL lets one thread run bytecode\n",
               max_inside);
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
               nt, ncpu, nio, n, l06_u128_str(sum, b1), max_inside,
               crew_handoffs(&c), (unsigned long)atomic_load(&g->drop_requests), drops,
               instr, g->interval_us, g->check_interval, ms);
    crew_destroy(&c);
    bool ok = sum == want && ticks_ok && (m == GIL_NONE || max_inside == 1);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== convoy: who gets the GIL after a drop at a check? ==== */

int run_convoy(int mode)
{
    enum gil_mode m = mode == CONVOY_PY2 ? GIL_PY2 : GIL_PY3;
    size_t nt = (size_t)lab_opt("threads");
    unsigned long n = (unsigned long)lab_opt("work");
    bool tl = l06_timeline_on();
    int cpus[2];
    int ncpus = l06_allowed_cpus(cpus, 2);
    if (ncpus < 1)
        ncpus = 0;
    struct crew c;
    crew_init(&c, nt, m, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, 1);
    struct gil *g = &c.g;
    if (nt >= 2)
        gil_force_first_request(g);   /* py3: at least one drop request and drop, every run */
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
    bool ok = sum == l06_cpu_expected(nt * n);
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
               ncpus, nt, l06_u128_str(sum, b1), instr, drops, contested, retakes, pct, handoffs, requests);
    crew_destroy(&c);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== gil_money: the GIL does not protect your data ==== */

int run_gil_money(int mode)
{
    bool lock = mode == MONEY_LOCK;
    size_t nt = (size_t)lab_opt("money-threads");
    bool tl = l06_timeline_on();
    struct crew c;
    crew_init(&c, nt, GIL_PY3, (long)lab_opt("interval-us"), (long)lab_opt("check-interval"), tl, (int)nt);
    struct interp_shared *sh = &c.sh;
    sh->globals[0] = 100;                                 /* money = 100 */
    sh->lock_hold_units = MONEY_UNITS;
    for (size_t i = 0; i < nt; i++) {
        char name[16];
        snprintf(name, sizeof name, "task-%u", (unsigned)(i + 1));
        code_money(&c.w[i].code, lock, true, MONEY_UNITS);
        crew_worker(&c, i, name, -1, tl ? 64 : 0);
    }
    if (lock)
        printf("%zu threads under the py3 GIL: with mutex: tmp = money; time.sleep(0.1); money = tmp - 1\n", nt);
    else
        printf("%zu threads under the py3 GIL, no user lock: tmp = money; time.sleep(0.1); money = tmp - 1\n", nt);
    double units = lab_ms_units(crew_run(&c));
    char b1[48];
    const char *final = l06_u128_str(sh->globals[0], b1);
    int max_inside = atomic_load(&c.g.max_inside);
    if (lock) {
        printf("money = %s: the user lock made read-sleep-write one step; %lu acquires blocked, each with the GIL released\n",
               final, sh->blocked_acquires);
        printf("(mutex.acquire() releases the GIL while it waits: holding it there would deadlock the model)\n");
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
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
