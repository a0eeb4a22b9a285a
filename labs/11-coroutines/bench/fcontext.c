/* labs/11-coroutines/bench/fcontext.c - Boost.Context's fcontext switch, timed (a helper of lab11 --bench).
 *
 * Boost.Context's lowest layer is a pair of assembly functions with a C interface (declared
 * extern "C" in boost/context/detail/fcontext.hpp), so a C program can call them: make_fcontext
 * builds a context on a stack, jump_fcontext switches to it and hands a pointer across.  Built by
 * the Makefile only when libboost-context-dev is installed; never linked into build/lab11.
 * Prints one line: "ns_per_switch=X switches=N".
 * Usage: build/lab11-fcontext [round_trips]   (default 10000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

/* The coroutine: jump back to whoever jumped here, forever. */
static void pong(transfer_t t)
{
    for (;;)
        t = jump_fcontext(t.fctx, NULL);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000;
    if (n <= 0)
        n = 10000000;
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 1;
    fcontext_t ctx = make_fcontext(stack + size, size, pong);   /* sp: the top, the stack grows down */
    struct timespec a, b;
    ctx = jump_fcontext(ctx, NULL).fctx;                         /* warm up, and start it */
    double best = 1e30;
    for (int run = 0; run < 3; run++) {                          /* the best of three, as lab11 */
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++)
            ctx = jump_fcontext(ctx, NULL).fctx;                  /* there and back: two switches */
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
        best = ns < best ? ns : best;
    }
    printf("ns_per_switch=%.2f switches=%ld\n", best / (2.0 * (double)n), 2 * n);
    munmap(stack, size);
    return 0;
}
