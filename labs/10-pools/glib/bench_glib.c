/* labs/10-pools/glib/bench_glib.c - GLib's GThreadPool on the bench's trivial tasks (build/lab10-glib).
 *
 * A separate small program, built by the Makefile's lab 10 block only when `pkg-config glib-2.0`
 * works (Debian: libglib2.0-dev); build/lab10 --bench runs it, so lab10 itself never links GLib.
 * Same measurement as the lab's pool: WORKERS exclusive threads, the main thread pushes N trivial
 * tasks one by one (g_thread_pool_push), then waits until all ran (g_thread_pool_free with
 * wait_=TRUE, which runs the queue to the end).  Prints the tasks per second, one number.
 * Usage: build/lab10-glib WORKERS N
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static gint ran;

static void trivial(gpointer data, gpointer user)
{
    (void)data;
    (void)user;
    g_atomic_int_inc(&ran);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WORKERS N\n", argv[0]);
        return 2;
    }
    int workers = atoi(argv[1]);
    long n = atol(argv[2]);
    if (workers < 1 || n < 1) {
        fprintf(stderr, "%s: WORKERS and N must be positive\n", argv[0]);
        return 2;
    }
    GError *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    GThreadPool *pool = g_thread_pool_new(trivial, NULL, workers, TRUE, &err);
    if (!pool) {
        fprintf(stderr, "%s: g_thread_pool_new: %s\n", argv[0], err->message);
        return 1;
    }
    for (long i = 0; i < n; i++)
        g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (g_atomic_int_get(&ran) != n) {
        fprintf(stderr, "%s: ran %d of %ld tasks\n", argv[0], g_atomic_int_get(&ran), n);
        return 1;
    }
    printf("%.0f\n", (double)n / s);
    return 0;
}
