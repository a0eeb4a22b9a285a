/* labs/01-processes/bench.c - what starting a thread or a process costs (`build/lab01 --bench`).
 *
 * The notes say that opening a process means "申请内存空间" and "拷贝代码" and costs far more than
 * opening a thread (开设线程的开销远远小于进程的开销).  This table measures it on this machine:
 *   - pthread_create + pthread_join: a new stack and a kernel task in the same address space;
 *   - fork + _exit + waitpid: a copy of the address space (page tables, copy-on-write), then a task;
 *   - the same fork from a process that has touched 64 MiB: fork's cost grows with the page tables
 *     it copies, so a big parent forks slowly (why Python added forkserver);
 *   - posix_spawn of this program + waitpid: a new program image that runs main() from the top
 *     (the "spawn" start method), stopped at the guard by the marker argument.
 * Each row repeats its creation for about CELL_MS and reports the mean per creation.  Report only:
 * the numbers depend on the machine and its load; tests never assert them.
 * Python ↔ C: Thread().start()/join() vs Process().start()/join() with the fork and spawn methods.
 * Usage: build/lab01 --bench      (make bench)
 * See also: threads.c (the `cost` scenario: the same first two rows, small and quick).
 */
#include "lab.h"
#include "lab01.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CELL_MS 200.0           /* how long each row repeats its creation */
#define BIG_BYTES (64u << 20)   /* the heavy parent's touched memory */

extern char **environ;

static void *bench_nothing(void *arg) { return arg; }

static void one_thread(void)
{
    pthread_t t;
    void *ret;
    Pthread_create(&t, NULL, bench_nothing, NULL);
    Pthread_join(t, &ret);
}

static void one_fork(void)
{
    pid_t c = fork();
    if (c < 0)
        die("fork:");
    if (c == 0)
        _exit(0);
    int st;
    if (waitpid(c, &st, 0) != c)
        die("waitpid:");
}

static posix_spawn_file_actions_t quiet;   /* the spawned child's stdout goes to /dev/null */

static void one_spawn(void)
{
    char *argv[] = { (char *)lab_self_path(), (char *)L01_SPAWN_MARKER, NULL };
    pid_t c;
    int rc = posix_spawn(&c, lab_self_path(), &quiet, NULL, argv, environ);
    if (rc != 0)
        die_en(rc, "posix_spawn");
    int st;
    if (waitpid(c, &st, 0) != c)
        die("waitpid:");
}

/* Repeat fn for about CELL_MS (at least 3 times); mean microseconds per call. */
static double measure(void (*fn)(void), int *reps)
{
    fflush(stdout);
    fflush(stderr);
    uint64_t t0 = lab_now_ns(), end = t0 + (uint64_t)(CELL_MS * 1e6);
    int n = 0;
    do {
        fn();
        n++;
    } while (n < 3 || lab_now_ns() < end);
    *reps = n;
    return (double)(lab_now_ns() - t0) / 1e3 / n;
}

int l01_bench(void)
{
    PT_CHECK(posix_spawn_file_actions_init(&quiet));
    PT_CHECK(posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0));

    int reps[4];
    double us[4];
    us[0] = measure(one_thread, &reps[0]);
    us[1] = measure(one_fork, &reps[1]);
    /* A heavier parent: touch 64 MiB so that fork has page tables to copy. */
    char *big = mmap(NULL, BIG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED)
        die("mmap:");
    memset(big, 1, BIG_BYTES);
    us[2] = measure(one_fork, &reps[2]);
    if (munmap(big, BIG_BYTES) != 0)
        die("munmap:");
    us[3] = measure(one_spawn, &reps[3]);
    PT_CHECK(posix_spawn_file_actions_destroy(&quiet));

    static const char *const rows[] = {
        "pthread_create+join",
        "fork+waitpid",
        "fork+waitpid, 64 MiB parent",
        "posix_spawn(self)+waitpid",
    };
    printf("Creating a thread or a process and waiting for it; about %.1f s per row\n", CELL_MS / 1000);
    printf("%-30s %12s %14s %10s\n", "what", "creations", "us each", "x thread");
    for (int i = 0; i < 4; i++)
        printf("%-30s %12d %14.1f %10.1f\n", rows[i], reps[i], us[i], us[0] > 0 ? us[i] / us[0] : 0.0);
    lab_result("thread_us=%.1f fork_us=%.1f fork_big_us=%.1f spawn_us=%.1f", us[0], us[1], us[2], us[3]);
    return LAB_EXIT_OK;
}
