/* work.c - lab 6: CPU-bound vs IO-bound work, threads vs processes, concurrency vs parallelism.
 *
 * The notes' benchmark (the chapter on threads vs processes): res += i + i**2 + i**3 for i in range(1000000), twice, run
 * normally, in two threads and in two processes.  In CPython the threads take no less time than
 * the normal run (the GIL lets one of them compute at a time) and the processes go faster on a
 * multi-core machine (each has its own GIL).  Here the same bytecode runs in the lab's
 * interpreter: threads without a GIL (C), threads under the py3 GIL (CPython), processes.
 * The result must be 499999666667166666000000 every time: more than 64 bits, so the interpreter
 * computes in unsigned __int128 and prints it itself; printing it also keeps -O2 from
 * deleting the work.
 *
 * Python original ↔ C:  mp.Process(target=job, args=(q,)) + q.get() ↔ fork + a pipe;
 * td.Thread(target=job) ↔ an interpreter thread; time.sleep(2) in 40000 threads ↔ --io-threads
 * threads with 64 KiB stacks (8 MiB each would reserve 312 GiB for 40000); taskset -c 0 ↔
 * sched_setaffinity (affinity).
 *
 * Usage: lab06 cpu [--n=100000] [--workers=2]; lab06 bound [--io-threads=400]; lab06 affinity
 *        [--mode=pinned|free]; lab06 --bench (n = 1000000, 2 workers).
 * What to watch for: the same result in every variant; threads-gil no faster than seq; IO-bound
 * threads finishing in about 2 units all together, GIL or not.  Speedups are reported, never tested.
 * See also: gil.c, interp.c, minigil.c.
 */
#include "lab06.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IO_STACK (64 * 1024)        /* IO-bound threads: a small stack */
/* affinity: the loop of each thread, --n or 5e8 x the pace in seconds (50000000 at the default pace:
 * 100 ms or more of CPU per thread; the tests' 10 ms pace and Valgrind stay fast). */
#define AFF_N_PER_SECOND 5e8
#define AFF_SHOWN_FREE 1.3          /* free: two threads at once give up to 2 cores' worth */
#define AFF_SHOWN_PINNED 1.1        /* pinned: at most one core's worth (plus rounding) */

/* ==== running the CPU job in the four ways ==== */

struct cpu_run {
    u128 result;
    double ms;
    unsigned long handoffs;
};

/* normal(): one thread runs the jobs one after the other (under its own, uncontested GIL). */
static struct cpu_run cpu_seq(unsigned long n, size_t workers, long interval_us)
{
    struct gil g;
    struct gil_thread t;
    struct code c;
    gil_init(&g, GIL_PY3, interval_us, 100, false);
    gil_thread_init(&t, &g, "main", 0);
    code_cpu_job(&c, 0, n);
    struct cpu_run r = { 0, 0, 0 };
    double t0 = lab_now_ms();
    for (size_t k = 0; k < workers; k++)
        r.result += interp_run(&c, &t, NULL, NULL);
    r.ms = lab_elapsed_ms(t0);
    gil_thread_destroy(&t);
    gil_destroy(&g);
    return r;
}

/* multithread(): `workers` threads, each runs the job; with or without the GIL. */
static struct cpu_run cpu_threads(enum gil_mode m, unsigned long n, size_t workers, long interval_us)
{
    struct crew c;
    crew_init(&c, workers, m, interval_us, 100, false, 0);
    for (size_t i = 0; i < workers; i++) {
        char name[16];
        snprintf(name, sizeof name, "job-%u", (unsigned)(i + 1));
        code_cpu_job(&c.w[i].code, 0, n);
        crew_worker(&c, i, name, -1, 0);
    }
    struct cpu_run r = { 0, 0, 0 };
    r.ms = crew_run(&c);
    r.result = crew_sum(&c, NULL);
    r.handoffs = crew_handoffs(&c);
    crew_destroy(&c);
    return r;
}

struct proc_job {
    unsigned long n;
    long interval_us;
    int fd;             /* write end of the results pipe */
};

/* The child: its own interpreter, its own GIL; the result goes up the pipe (q.put(res)). */
static int proc_job_main(struct lab_proc *self)
{
    const struct proc_job *job = self->arg;
    struct gil g;
    struct gil_thread t;
    struct code c;
    gil_init(&g, GIL_PY3, job->interval_us, 100, false);
    gil_thread_init(&t, &g, "main", 0);
    code_cpu_job(&c, 0, job->n);
    u128 res = interp_run(&c, &t, NULL, NULL);
    /* 16 bytes: one write, atomic on a pipe. */
    return write(job->fd, &res, sizeof res) == (ssize_t)sizeof res ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* multicore(): `workers` processes. */
static struct cpu_run cpu_procs(unsigned long n, size_t workers, long interval_us, bool *ok)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe:");
    struct proc_job job = { n, interval_us, fds[1] };
    struct lab_proc *p = xcalloc(workers, sizeof *p);
    struct cpu_run r = { 0, 0, 0 };
    double t0 = lab_now_ms();
    for (size_t i = 0; i < workers; i++) {
        p[i] = (struct lab_proc)LAB_PROC_INIT(proc_job_main, &job);
        lab_proc_start_or_die(&p[i]);
    }
    close(fds[1]);
    size_t got = 0;
    for (;;) {
        u128 v;
        ssize_t k = read(fds[0], &v, sizeof v);
        if (k == (ssize_t)sizeof v) {
            r.result += v;
            got++;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else {
            break;      /* EOF: every child has exited (or died) */
        }
    }
    int bad = 0;
    for (size_t i = 0; i < workers; i++)
        bad += lab_proc_join(&p[i]) != 0;
    r.ms = lab_elapsed_ms(t0);
    close(fds[0]);
    free(p);
    *ok = got == workers && bad == 0;
    return r;
}

/* ==== cpu: the notes' benchmark ==== */

unsigned long l06_cpu_n_per(double per_second)
{
    if (lab_opt_given("n"))
        return (unsigned long)lab_opt("n");
    unsigned long n = lab_timing_work(per_second);
    return n > L06_N_MAX ? L06_N_MAX : n;
}

double l06_as_printed(double v, int decimals)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return strtod(buf, NULL);
}

/* The speed-up of a variant over normal() (seq_ms / ms), judged: the line after the number says
 * what it showed, chosen by the number. */
static bool cpu_judge(int v, double seq_ms, double ms, size_t workers, double *ratio)
{
    struct lab_timing t = { .part = v == 1 ? "threads" : v == 2 ? "threads-gil" : "procs",
                            .ratio = ms > 0 ? seq_ms / ms : 0, .want = L06_SHOWN_RATIO, .at_most = v == 2,
                            .cpus_needed = 2, .cpus = lab_timing_cpus() };
    if (v == 1)
        lab_timing_judge(&t, "%zu threads without a GIL %.2fx faster than one thread", workers, t.ratio);
    else if (v == 2)
        lab_timing_judge(&t, "%zu threads under the GIL %.2fx: no faster than one, they take turns", workers,
                         t.ratio);
    else
        lab_timing_judge(&t, "%zu processes %.2fx faster than one thread (a GIL each)", workers, t.ratio);
    *ratio = t.ratio;
    return t.shown;
}

int run_cpu(int mode)
{
    (void)mode;                                      /* no modes */
    unsigned long n = l06_cpu_n_per(L06_N_PER_SECOND);
    size_t workers = (size_t)lab_opt("workers");
    long interval = (long)lab_opt("interval-us");
    u128 want = (u128)workers * l06_cpu_expected(n);
    char b1[48], b2[48];
    printf("job(): res = 0; for i in range(%lu): res += i + i**2 + i**3   (%zu jobs)\n", n, workers);
    printf("expected %s in every variant; a speed-up over seq >= %g shows it\n", l06_u128_str(want, b1),
           L06_SHOWN_RATIO);
    if (n != 1000000 || workers != 2)
        printf("(the notes use n=1000000 and 2 jobs: `lab06 cpu --n 1000000` prints 499999666667166666000000)\n");
    bool all_ok = true;
    double seq_ms = 0;
    (void)cpu_seq(n / 10 + 1, 1, interval);         /* a warm-up, untimed: the first run is not slowed */
    for (int v = 0; v < 4; v++) {
        /* Each variant's label is its RESULT name: two variants never share one. */
        static const char *const names[] = { "seq", "threads", "threads-gil", "procs" };
        struct cpu_run r;
        bool ok = true;
        if (v == 0)
            r = cpu_seq(n, workers, interval);
        else if (v == 1)
            r = cpu_threads(GIL_NONE, n, workers, interval);
        else if (v == 2)
            r = cpu_threads(GIL_PY3, n, workers, interval);
        else
            r = cpu_procs(n, workers, interval, &ok);
        ok = ok && r.result == want;
        all_ok = all_ok && ok;
        char label[16], how[64];
        snprintf(label, sizeof label, "%s:", names[v]);
        if (v == 0)
            snprintf(how, sizeof how, "one thread, the jobs in turn: normal()");
        else if (v == 1)
            snprintf(how, sizeof how, "%zu threads, no GIL, as in C", workers);
        else if (v == 2)
            snprintf(how, sizeof how, "%zu threads, py3 GIL, %lu switches: multithread()", workers, r.handoffs);
        else
            snprintf(how, sizeof how, "%zu processes, a GIL each: multicore()", workers);
        printf("%-12s %s %7.1f ms  (%s)\n", label, l06_u128_str(r.result, b2), r.ms, how);
        if (!ok)
            printf("  WRONG: expected %s\n", l06_u128_str(want, b1));
        if (v == 0) {
            seq_ms = r.ms;
            lab_result("variant=%s n=%lu workers=%zu result=%s elapsed_ms=%.1f", names[v], n, workers,
                       l06_u128_str(r.result, b2), r.ms);
            continue;
        }
        double ratio;
        bool shown = cpu_judge(v, seq_ms, r.ms, workers, &ratio);
        lab_result("variant=%s n=%lu workers=%zu result=%s elapsed_ms=%.1f ratio=%.2f shown=%d", names[v], n,
                   workers, l06_u128_str(r.result, b2), r.ms, ratio, shown);
    }
    return all_ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== bound: CPU-bound vs IO-bound ==== */

int run_bound(int mode)
{
    (void)mode;                                      /* no modes */
    unsigned long n = l06_cpu_n_per(L06_N_PER_SECOND);
    size_t workers = (size_t)lab_opt("workers"), nio = (size_t)lab_opt("io-threads");
    long interval = (long)lab_opt("interval-us");
    char b1[48];
    bool ok = true;

    printf("CPU-bound (计算密集型): %zu workers, each res += i + i**2 + i**3 over range(%lu)\n", workers, n);
    (void)cpu_seq(n / 10 + 1, 1, interval);         /* a warm-up, untimed */
    struct cpu_run tg = cpu_threads(GIL_PY3, n, workers, interval);
    bool pok = true;
    struct cpu_run pr = cpu_procs(n, workers, interval, &pok);
    u128 want = (u128)workers * l06_cpu_expected(n);
    ok = tg.result == want && pr.result == want && pok;
    printf("  threads under the GIL: %8.1f ms   (one computes at a time: 多线程 总耗时 = the sum)\n", tg.ms);
    lab_result("kind=cpu variant=threads-gil workers=%zu n=%lu checksum=%s elapsed_ms=%.1f", workers, n,
               l06_u128_str(tg.result, b1), tg.ms);
    printf("  processes:             %8.1f ms   (each its own GIL: in parallel on several cores)\n", pr.ms);
    struct lab_timing t = { .part = "processes", .ratio = pr.ms > 0 ? tg.ms / pr.ms : 0, .want = L06_SHOWN_RATIO,
                            .cpus_needed = 2, .cpus = lab_timing_cpus() };
    lab_timing_judge(&t, "processes %.2fx faster than threads under the GIL", t.ratio);
    lab_result("kind=cpu variant=procs workers=%zu n=%lu checksum=%s elapsed_ms=%.1f ratio=%.2f shown=%d", workers,
               n, l06_u128_str(pr.result, b1), pr.ms, t.ratio, t.shown);

    /* IO-bound: every thread does time.sleep(2), which releases the GIL. */
    printf("IO-bound (IO密集型): %zu threads, each time.sleep(2) under the py3 GIL, %d KiB stacks\n", nio, IO_STACK / 1024);
    printf("  (8 MiB default stacks would reserve %.1f GiB of address space; %d KiB: %.1f MiB)\n",
           (double)nio * 8 / 1024, IO_STACK / 1024, (double)nio * IO_STACK / (1024.0 * 1024.0));
    struct gil g;
    struct interp_shared sh;
    gil_init(&g, GIL_PY3, interval, 100, false);
    interp_shared_init(&sh, 1);
    struct worker *w = xcalloc(nio, sizeof *w);
    for (size_t i = 0; i < nio; i++) {
        char name[16];
        snprintf(name, sizeof name, "io-%u", (unsigned)(i + 1));
        code_io_job(&w[i].code, 1, 2.0, 0);            /* time.sleep(2) */
        gil_thread_init(&w[i].gt, &g, name, 0);
        w[i].sh = &sh;
        w[i].gate = NULL;                              /* each starts at once, as in the notes */
        w[i].cpu = -1;
    }
    /* As the notes time it: from before the first start() to after the last join().  No start
     * gate: a thread begins its sleep as soon as it exists, so thousands of threads never queue
     * for the GIL all at once.
     * Bare pthreads here (no registry entry to allocate per thread), with the stack size set on
     * the attribute: pthread_create fails with EAGAIN when the system is out of threads or
     * address space, and the lab reports that instead of dying (CPython: "can't start new thread"). */
    pthread_attr_t attr;
    PT_CHECK(pthread_attr_init(&attr));
    PT_CHECK(pthread_attr_setstacksize(&attr, IO_STACK));
    size_t failed = 0;
    int first_err = 0;
    double t0 = lab_now_ms();
    for (size_t i = 0; i < nio; i++) {
        int rc = pthread_create(&w[i].pt, &attr, l06_worker_main, &w[i]);
        w[i].started = rc == 0;
        if (rc != 0) {
            failed++;
            if (!first_err)
                first_err = rc;
        }
    }
    PT_CHECK(pthread_attr_destroy(&attr));
    size_t created = nio - failed;
    if (failed)
        printf("  %zu of %zu threads could not be created (pthread_create: %s): going on with %zu\n",
               failed, nio, strerror(first_err), created);
    for (size_t i = 0; i < nio; i++)
        if (w[i].started)
            Pthread_join(w[i].pt, NULL);
    double units = lab_elapsed_units(t0);
    int max_inside = atomic_load(&g.max_inside);
    printf("  start + sleep(2) + join of all %zu took %.2f units: the waits overlapped (sleep releases the GIL); max_inside=%d\n",
           created, units, max_inside);
    lab_result("kind=io variant=threads-gil workers=%zu created=%zu failed=%zu stack_kib=%d max_inside=%d elapsed_units=%.1f",
               nio, created, failed, IO_STACK / 1024, max_inside, units);
    free(w);
    interp_shared_destroy(&sh);
    gil_destroy(&g);
    return ok && max_inside <= 1 && units >= 2.0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== affinity: concurrency without parallelism ==== */

struct aff {
    struct gate *gate;
    unsigned long iters;
    int cpu;
    atomic_ulong progress;
    double start, end, cpu_ms;
    u128 result;
    atomic_int *first_done;
    struct aff *other;
    unsigned long other_at_finish;   /* the other's progress when this one finished first */
    bool finished_first;
};

static void *aff_main(void *arg)
{
    struct aff *a = arg;
    if (a->cpu >= 0)
        (void)l06_pin_self(a->cpu);
    l06_gate_wait(a->gate);
    a->start = lab_now_ms();
    u128 res = 0;
    for (unsigned long i = 0; i < a->iters; i++) {
        u128 x = i;
        res += x + x * x + x * x * x;
        if ((i & 1023) == 1023)
            atomic_store_explicit(&a->progress, i + 1, memory_order_relaxed);
    }
    atomic_store(&a->progress, a->iters);
    /* Who finished first, and how far the other one was at that moment. */
    if (atomic_exchange(a->first_done, 1) == 0) {
        a->finished_first = true;
        a->other_at_finish = atomic_load(&a->other->progress);
    }
    a->end = lab_now_ms();
    a->result = res;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    a->cpu_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    return NULL;
}

/* What CPU/wall means, chosen by the measured number as printed (rounded to 2 decimals; never by
 * the mode): above 1 the two threads ran at the same time on two cores; at 1 or below they took
 * turns, and well below 1 other processes had the core(s) part of the time. */
static const char *aff_explain(double ratio, int cpus)
{
    if (ratio > 1.1)
        return "above 1: the two threads ran at the same time on different cores, 并行 (parallel)";
    if (ratio >= 0.8)
        return cpus == 1 ? "about 1: one core's worth, they took turns on it, 并发 (concurrent)"
                         : "about 1: one core's worth although free to use more: they took turns, 并发 (concurrent)";
    return cpus == 1 ? "below 1: they took turns on one core, and other processes had it part of the time, 并发 (concurrent)"
                     : "below 1: less than one core's worth: the machine is busy, other processes had the cores part of the time";
}

int run_affinity(int mode)
{
    bool pinned = mode == AFFINITY_PINNED;
    int cpus[256];
    int ncpus = l06_allowed_cpus(cpus, 256);
    struct gate gate;
    l06_gate_init(&gate);
    atomic_int first_done;
    atomic_init(&first_done, 0);
    unsigned long iters = l06_cpu_n_per(AFF_N_PER_SECOND);
    struct aff a[2];
    memset(a, 0, sizeof a);
    struct lab_thread *th[2];
    for (int i = 0; i < 2; i++) {
        a[i].gate = &gate;
        a[i].iters = iters;
        a[i].cpu = pinned && ncpus > 0 ? cpus[0] : -1;
        a[i].first_done = &first_done;
        a[i].other = &a[1 - i];
        atomic_init(&a[i].progress, 0);
        th[i] = lab_thread_new(aff_main, &a[i], "loop");
        lab_thread_start_or_die(th[i]);
    }
    int used = pinned ? 1 : ncpus;
    if (pinned)
        printf("two CPU-bound C threads (no GIL), both pinned to CPU %d with sched_setaffinity (like taskset -c %d)\n",
               cpus[0], cpus[0]);
    else
        printf("two CPU-bound C threads (no GIL), free to run on the %d CPU(s) this process may use\n", ncpus);
    l06_gate_open(&gate);
    for (int i = 0; i < 2; i++)
        lab_thread_join(th[i]);
    l06_gate_destroy(&gate);

    double start = a[0].start < a[1].start ? a[0].start : a[1].start;
    double end = a[0].end > a[1].end ? a[0].end : a[1].end;
    double wall = end - start, cpu = a[0].cpu_ms + a[1].cpu_ms;
    const struct aff *first = a[0].finished_first ? &a[0] : &a[1];
    bool both = first->other_at_finish > 0 && first->other_at_finish < iters;
    /* Rounded as printed (%.2f) before anything is chosen by it: the sentence and the verdict
     * follow the number the reader sees (1.10 is "about 1", never "above"). */
    double ratio = wall > 0 ? l06_as_printed(cpu / wall, 2) : 0;
    printf("wall %.1f ms, CPU time of the two threads %.1f ms: CPU/wall = %.2f\n", wall, cpu, ratio);
    printf("%s\n", aff_explain(ratio, used));
    printf("when the first finished, the other had done %lu of %lu rounds: both progressed: %s\n",
           first->other_at_finish, iters, both ? "yes" : "no");
    /* The lesson, judged on the same number (rounded as printed). */
    struct lab_timing t = { .part = pinned ? "pinned" : "free", .ratio = ratio,
                            .want = pinned ? AFF_SHOWN_PINNED : AFF_SHOWN_FREE, .at_most = pinned,
                            .cpus_needed = pinned ? 0 : 2, .cpus = used };
    if (pinned)
        lab_timing_judge(&t, "pinned: %.2f cores' worth, never more than one: 并发 (concurrent)", t.ratio);
    else
        lab_timing_judge(&t, "free: %.2f cores' worth, the two ran at the same time: 并行 (parallel)", t.ratio);
    u128 want = l06_cpu_expected(iters);
    char b1[48];
    /* Whether both progressed is up to the kernel's scheduler: told above, not a RESULT field. */
    lab_result("cpus=%d threads=2 wall_ms=%.1f cpu_ms=%.1f cpu_per_wall=%.2f result=%s n=%lu shown=%d",
               used, wall, cpu, ratio, l06_u128_str(a[0].result + a[1].result, b1), iters, t.shown);
    return a[0].result == want && a[1].result == want ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== make bench ==== */

int l06_bench(void)
{
    const unsigned long n = 1000000;
    const size_t workers = 2;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char b1[48];
    printf("lab 6: CPU-bound speedup over the sequential run (%zu workers, range(%lu) each, the interpreter)\n", workers, n);
    printf("online CPUs: %ld; physical limit on 2 cores: 2.0x (threads without the GIL and processes\n", ncpu);
    printf("should reach >= 1.7x there, threads under the GIL <= 1.1x); best of 3 runs each\n");
    /* Best of 3 for each variant (a busy machine only ever makes a run slower), after a warm-up. */
    bool ok = true, pok = true;
    (void)cpu_seq(n / 10, 1, 5000);
    struct cpu_run seq = { 0, 1e300, 0 }, thr = seq, gil = seq, prc = seq;
    for (int rep = 0; rep < 3; rep++) {
        struct cpu_run r;
        r = cpu_seq(n, workers, 5000);
        if (r.ms < seq.ms) seq = r;
        ok = ok && r.result == seq.result;
        r = cpu_threads(GIL_NONE, n, workers, 5000);
        if (r.ms < thr.ms) thr = r;
        ok = ok && r.result == seq.result;
        r = cpu_threads(GIL_PY3, n, workers, 5000);
        if (r.ms < gil.ms) gil = r;
        ok = ok && r.result == seq.result;
        r = cpu_procs(n, workers, 5000, &pok);
        if (r.ms < prc.ms) prc = r;
        ok = ok && pok && r.result == seq.result;
    }
    printf("%-22s %12s %9s  %s\n", "variant", "elapsed_ms", "speedup", "result");
    const struct { const char *name; struct cpu_run r; } rows[] = {
        { "seq (normal)", seq }, { "threads (no GIL)", thr }, { "threads-gil (py3)", gil }, { "procs (multicore)", prc },
    };
    for (size_t i = 0; i < 4; i++)
        printf("%-22s %12.1f %8.2fx  %s\n", rows[i].name, rows[i].r.ms, rows[i].r.ms > 0 ? seq.ms / rows[i].r.ms : 0,
               l06_u128_str(rows[i].r.result, b1));
    u128 want = (u128)workers * l06_cpu_expected(n);
    ok = ok && seq.result == want && thr.result == want && gil.result == want && prc.result == want;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
