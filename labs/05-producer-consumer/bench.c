/* labs/05-producer-consumer/bench.c - `lab05 --bench`: items/s through four channels.
 *
 * The bounded buffer of threads.c with 1:1 and 2:2 threads, a pipe (one 8-byte item per write and
 * per read) and the process queue between two processes (procs.c).  A report, never a test.
 *
 * Usage: lab05 --bench        (make bench prints it)
 * See also: threads.c, procs.c, README.md.
 */
#include "lab.h"
#include "lab05.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

struct pipe_arg { int fd; long n; };

static void *pipe_reader(void *arg)
{
    struct pipe_arg *a = arg;
    uint64_t v, sum = 0;
    for (long i = 0; i < a->n; i++) {
        ssize_t r = read(a->fd, &v, sizeof v);   /* 8-byte writes are atomic: whole items */
        if (r != (ssize_t)sizeof v)
            die("pipe read:");
        sum += v;
    }
    return (void *)(uintptr_t)(sum != 0);
}

/* Items/s through a pipe, one 8-byte item per write and per read (1 writer, 1 reader thread). */
static double bench_pipe(long n)
{
    int fds[2];
    if (pipe(fds) == -1)
        die("pipe:");
    struct pipe_arg a = { fds[0], n };
    pthread_t rt;
    uint64_t t0 = lab_now_ns();
    Pthread_create(&rt, NULL, pipe_reader, &a);
    for (long i = 0; i < n; i++) {
        uint64_t v = l05_value(0, (int)i);
        if (write(fds[1], &v, sizeof v) != (ssize_t)sizeof v)
            die("pipe write:");
    }
    Pthread_join(rt, NULL);
    double s = (double)(lab_now_ns() - t0) / 1e9;
    close(fds[0]);
    close(fds[1]);
    return (double)n / s;
}

int l05_bench(void)
{
    const int per = 200000;
    printf("lab05 bench: items/s through a bounded buffer (capacity 64), one item per operation\n");
    printf("%-52s %12s\n", "channel", "items/s");
    printf("%-52s %12.0f\n", "bounded buffer, threads 1 producer : 1 consumer", l05_bench_buffer(1, 1, 2 * per, 64));
    printf("%-52s %12.0f\n", "bounded buffer, threads 2 producers : 2 consumers", l05_bench_buffer(2, 2, per, 64));
    printf("%-52s %12.0f\n", "pipe, threads 1 writer : 1 reader (8-byte items)", bench_pipe(2L * per));
    printf("%-52s %12.0f\n", "process queue (lab_pq), processes 1 : 1", l05_bench_pqueue(2L * per));
    printf("(report only: the numbers depend on the machine, its load and the number of CPUs)\n");
    return LAB_EXIT_OK;
}
