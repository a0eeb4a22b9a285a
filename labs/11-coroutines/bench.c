/* labs/11-coroutines/bench.c - `lab11 --bench`: what a switch costs, and what 100,000 coroutines cost.
 *
 * One run, side by side, nanoseconds per switch (a round trip is two switches):
 *   lab       lab_swtch: push 6 registers, swap stack pointers, pop 6, ret (swtch_x86_64.S)
 *   ucontext  swapcontext: also saves the FPU environment and the signal mask, with a
 *             rt_sigprocmask system call on every switch
 *   boost     Boost.Context's jump_fcontext, from the helper build/lab11-fcontext (only built
 *             when libboost-context-dev is installed)
 *   thread    two OS threads handing a turn to each other with a mutex and a condition variable:
 *             what "switching" costs when the kernel does it (futex wake + sleep + scheduler)
 * Each is the best of three timed runs (the helper's too).  Then 100,000 coroutines created, each run to its first yield (so all exist at once), resumed to
 * the end, and freed, with the peak resident memory (VmHWM).  Their stacks are 4 KiB slices of ONE
 * mapping without guard pages: a guard page makes each stack two mappings, and the kernel allows
 * 65,530 mappings per process by default (vm.max_map_count), so 100,000 guarded stacks would not
 * even fit.  Report only: nothing passes or fails on these numbers.
 * Usage: lab11 --bench
 */
#include "lab.h"
#include "lab11.h"
#include "swtch.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define ROUND_TRIPS 5000000L
#define UC_ROUND_TRIPS 500000L
#define THREAD_ROUND_TRIPS 50000L
#define MANY 100000L
#define MANY_STACK 4096

/* ==== lab_swtch ==== */

#if defined(LAB11_HAVE_ASM)
static void *main_sp, *co_sp;

static void pong(void *arg)
{
    (void)arg;
    for (;;)
        lab_swtch(&co_sp, main_sp);
}

static double bench_lab(void)
{
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        die("mmap:");
    co_sp = lab_swtch_frame(stack + size, pong, NULL);
    lab_swtch(&main_sp, co_sp);                       /* start it */
    double best = 1e30;
    for (int run = 0; run < 3; run++) {               /* the best of three: the machine is shared */
        uint64_t t0 = lab_now_ns();
        for (long i = 0; i < ROUND_TRIPS; i++)
            lab_swtch(&main_sp, co_sp);               /* there and back */
        double ns = (double)(lab_now_ns() - t0) / (2.0 * ROUND_TRIPS);
        best = ns < best ? ns : best;
    }
    munmap(stack, size);
    return best;
}
#endif

/* ==== swapcontext ==== */

static ucontext_t uc_main, uc_co;

static void uc_pong(void)
{
    for (;;)
        swapcontext(&uc_co, &uc_main);
}

static double bench_ucontext(void)
{
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        die("mmap:");
    getcontext(&uc_co);
    uc_co.uc_stack.ss_sp = stack;
    uc_co.uc_stack.ss_size = size;
    makecontext(&uc_co, uc_pong, 0);
    swapcontext(&uc_main, &uc_co);
    double best = 1e30;
    for (int run = 0; run < 3; run++) {
        uint64_t t0 = lab_now_ns();
        for (long i = 0; i < UC_ROUND_TRIPS; i++)
            swapcontext(&uc_main, &uc_co);
        double ns = (double)(lab_now_ns() - t0) / (2.0 * UC_ROUND_TRIPS);
        best = ns < best ? ns : best;
    }
    munmap(stack, size);
    return best;
}

/* ==== Boost fcontext, from its helper program ==== */

static double bench_boost(char *why, size_t len)
{
    char dir[4096], cmd[4200];
    snprintf(dir, sizeof dir, "%s", lab_self_path());
    snprintf(cmd, sizeof cmd, "%s/lab11-fcontext", dirname(dir));
    if (access(cmd, X_OK) != 0) {
        snprintf(why, len, "not built: install Debian's libboost-context-dev, then make");
        return -1;
    }
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %ld", ROUND_TRIPS);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    double ns = -1;
    if (p == NULL || fscanf(p, "ns_per_switch=%lf", &ns) != 1)
        snprintf(why, len, "the helper gave no number");
    if (p)
        pclose(p);
    return ns;
}

/* ==== Two threads taking turns ==== */

static struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;                 /* guarded by m: 0 main's turn, 1 the other's */
    long rounds;
} pp;

static void *ponger(void *arg)
{
    (void)arg;
    Pthread_mutex_lock(&pp.m);
    for (long i = 0; i < pp.rounds; i++) {
        while (pp.turn != 1)
            Pthread_cond_wait(&pp.c, &pp.m);
        pp.turn = 0;
        Pthread_cond_broadcast(&pp.c);
    }
    Pthread_mutex_unlock(&pp.m);
    return NULL;
}

static double bench_thread(void)
{
    lab_mutex_init(&pp.m, 0);
    lab_cond_init(&pp.c, 0);
    pp.turn = 0;
    pp.rounds = THREAD_ROUND_TRIPS;
    struct lab_thread *t = lab_thread_new(ponger, NULL, "ponger");
    lab_thread_start_or_die(t);
    uint64_t t0 = lab_now_ns();
    Pthread_mutex_lock(&pp.m);
    for (long i = 0; i < pp.rounds; i++) {
        pp.turn = 1;
        Pthread_cond_broadcast(&pp.c);
        while (pp.turn != 0)
            Pthread_cond_wait(&pp.c, &pp.m);
    }
    Pthread_mutex_unlock(&pp.m);
    uint64_t t1 = lab_now_ns();
    lab_thread_join(t);
    pthread_mutex_destroy(&pp.m);
    pthread_cond_destroy(&pp.c);
    return (double)(t1 - t0) / (2.0 * THREAD_ROUND_TRIPS);
}

/* ==== 100,000 coroutines ==== */

#if defined(LAB11_HAVE_ASM)
static void *many_main_sp;
static void **many_sp;
static long many_ran, many_done, current;

static void many_body(void *arg)
{
    long me = (long)(intptr_t)arg;
    many_ran++;
    lab_swtch(&many_sp[me], many_main_sp);            /* yield: all of them exist at once */
    many_done++;
    lab_swtch(&many_sp[me], many_main_sp);            /* finished: never resumed again */
}

static void bench_many(void)
{
    size_t len = (size_t)MANY * MANY_STACK;
    char *arena = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED)
        die("mmap of %zu bytes:", len);
    many_sp = xcalloc(MANY, sizeof *many_sp);
    long before = lab_proc_peak_rss_kib(0);
    uint64_t t0 = lab_now_ns();
    for (long i = 0; i < MANY; i++)
        many_sp[i] = lab_swtch_frame(arena + (size_t)(i + 1) * MANY_STACK, many_body, (void *)(intptr_t)i);
    for (current = 0; current < MANY; current++)      /* run each to its yield */
        lab_swtch(&many_main_sp, many_sp[current]);
    for (current = 0; current < MANY; current++)      /* resume each to its end */
        lab_swtch(&many_main_sp, many_sp[current]);
    uint64_t t1 = lab_now_ns();
    long peak = lab_proc_peak_rss_kib(0);
    munmap(arena, len);
    free(many_sp);
    lab_say("%ld coroutines, %d-byte stacks: created, run, ended in %.1f ms (%.0f ns each);", MANY,
            MANY_STACK, (double)(t1 - t0) / 1e6, (double)(t1 - t0) / MANY);
    lab_say("  peak RSS %.0f MB (%.0f MB before)", peak / 1024.0, before / 1024.0);
    lab_result("coroutines=%ld stack_bytes=%d ran=%ld finished=%ld ms=%.1f peak_rss_mb=%.0f", MANY, MANY_STACK,
               many_ran, many_done, (double)(t1 - t0) / 1e6, peak / 1024.0);
}
#endif

int l11_bench(void)
{
    lab_say("Switch cost, ns per switch (one run, side by side; this build's coroutines use: %s)", co_switch_name());
    double lab = -1;
#if defined(LAB11_HAVE_ASM)
    lab = bench_lab();
    lab_say("  lab       %8.2f ns  lab_swtch: 6 pushes, 2 moves, 7 pops, jmp", lab);
    lab_result("switch=lab ns_per_switch=%.2f", lab);
#endif
    double uc = bench_ucontext();
    lab_say("  ucontext  %8.2f ns  swapcontext: a rt_sigprocmask system call each time", uc);
    lab_result("switch=ucontext ns_per_switch=%.2f", uc);
    char why[160] = "";
    double boost = bench_boost(why, sizeof why);
    if (boost > 0) {
        lab_say("  boost     %8.2f ns  Boost.Context jump_fcontext (build/lab11-fcontext)", boost);
        lab_result("switch=boost ns_per_switch=%.2f", boost);
    } else {
        lab_say("  boost     Boost.Context fcontext %s", why);
    }
    double th = bench_thread();
    lab_say("  thread    %8.2f ns  two threads taking turns (mutex + condvar): the kernel switches", th);
    lab_result("switch=thread ns_per_switch=%.2f", th);
    if (lab > 0) {
        lab_say("  lab vs swapcontext: %.1fx faster (goal >= 30x)%s", uc / lab,
                boost > 0 ? "" : "; vs fcontext: not measured");
        if (boost > 0)
            lab_say("  lab vs fcontext: %.2fx its time (goal <= 1.0x)", lab / boost);
        lab_result("lab_vs_ucontext=%.1f lab_vs_boost=%.2f lab_vs_thread=%.1f", uc / lab,
                   boost > 0 ? lab / boost : 0.0, th / lab);
    }
#if defined(LAB11_HAVE_ASM)
    bench_many();
#endif
    return LAB_EXIT_OK;
}
