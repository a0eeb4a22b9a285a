/* labs/10-pools/bench.c - trivial tasks per second (`build/lab10 --bench`, `make bench`).
 *
 * Side by side in one run, 2 workers each: the lab's thread pool (one task at a time, as the
 * lessons use it: the row; with batching: a line beside it), GLib's GThreadPool (a separate program, build/lab10-glib, built only when GLib is
 * installed: it is never linked into lab10), a thread per task (pthread_create + join: what a pool
 * saves), and the lab's process pool (tasks and results through the shared-memory queues).
 * A trivial task adds 1 to a counter of its own worker's cache line; the main thread submits the
 * tasks one by one (g_thread_pool_push for GLib), then waits until all ran.
 * Report only: numbers depend on the machine and its load; the tests never assert them.
 * Usage: build/lab10 --bench
 */
#include "lab.h"
#include "lab10.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 2

static atomic_long ran;

static void trivial(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
}

/* The lab's pool: tasks per second for n tasks. */
static double bench_lab(long n, int batch)
{
    struct l10_tpool *p = l10_tpool_new(WORKERS);
    l10_tpool_set_batch(p, batch);
    atomic_store(&ran, 0);
    uint64_t t0 = lab_now_ns();
    for (long i = 0; i < n; i++)
        l10_tpool_execute(p, trivial, NULL);
    l10_tpool_wait_idle(p, lab_bound_ms(100));
    uint64_t t1 = lab_now_ns();
    l10_tpool_free(p);
    if (atomic_load(&ran) != n)
        warn_msg("bench: lab pool ran %ld of %ld tasks", atomic_load(&ran), n);
    return (double)n / ((double)(t1 - t0) / 1e9);
}

static void *per_task(void *arg)
{
    trivial(arg);
    return NULL;
}

/* A thread per task, at most WORKERS alive at once (start two, join two). */
static double bench_thread_per_task(long n)
{
    atomic_store(&ran, 0);
    uint64_t t0 = lab_now_ns();
    for (long i = 0; i < n; i += WORKERS) {
        pthread_t t[WORKERS];
        for (int k = 0; k < WORKERS; k++)
            Pthread_create(&t[k], NULL, per_task, NULL);
        for (int k = 0; k < WORKERS; k++)
            Pthread_join(t[k], NULL);
    }
    return (double)n / ((double)(lab_now_ns() - t0) / 1e9);
}

/* The process pool: n trivial tasks through map (tasks out, results back). */
static double bench_procpool(long n)
{
    struct l10_args *a = xcalloc((size_t)n, sizeof *a);
    struct l10_value *v = xcalloc((size_t)n, sizeof *v);
    for (long i = 0; i < n; i++)
        a[i].a = i;
    struct l10_ppool *p = l10_ppool_new(WORKERS, 0);
    uint64_t t0 = lab_now_ns();
    l10_ppool_map(p, T_NOP, a, (size_t)n, v);
    uint64_t t1 = lab_now_ns();
    l10_ppool_close(p);
    l10_ppool_join(p);
    l10_ppool_free(p);
    free(a);
    free(v);
    return (double)n / ((double)(t1 - t0) / 1e9);
}

/* Run build/lab10-glib (next to this program) and read its tasks/s; < 0 when it is not there. */
static double bench_glib(long n)
{
    char path[4096], cmd[4200];
    snprintf(path, sizeof path, "%s", lab_self_path());
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0), "lab10-glib");
    if (access(path, X_OK) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "'%s' %d %ld", path, WORKERS, n);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    double r = -1;
    if (fscanf(f, "%lf", &r) != 1)
        r = -1;
    pclose(f);
    return r;
}

static void row(const char *pool, long n, double r)
{
    lab_say("RESULT l10.bench pool=%s workers=%d tasks=%ld tasks_per_s=%.0f", pool, WORKERS, n, r);
}

int l10_bench(void)
{
    long n = 2000000, nt = 20000, np = 200000;
    lab_say("trivial tasks per second, %d workers, submitted one by one from the main thread", WORKERS);
    double lab1 = bench_lab(n, 1);
    double labb = bench_lab(n, 64);
    double lab = lab1;                  /* the row: the pool as the lessons use it, no batching */
    lab_say("lab pool: %.0f tasks/s one task at a time (the row below), %.0f with batching (k=64)",
            lab1, labb);
    row("lab", n, lab);
    double glib = bench_glib(n);
    if (glib > 0)
        row("glib", n, glib);
    else
        lab_say("glib: build/lab10-glib is missing: install GLib (Debian: apt-get install libglib2.0-dev), "
                "then make");
    double tpt = bench_thread_per_task(nt);
    row("thread_per_task", nt, tpt);
    double pp = bench_procpool(np);
    row("procpool", np, pp);
    if (glib > 0)
        lab_say("ratios: lab/glib=%.2f (goal >= 1.5) lab/thread_per_task=%.0f (goal >= 100)", lab / glib,
                lab / tpt);
    else
        lab_say("ratios: lab/glib=n/a lab/thread_per_task=%.0f (goal >= 100)", lab / tpt);
    return LAB_EXIT_OK;
}
