/* labs/11-coroutines/cross/swtch_test.c - the unit test of the context switch alone (make cross-check).
 *
 * Built for aarch64 with Debian's cross compiler and run under qemu-aarch64 by `make cross-check`
 * (and natively the same way), it checks what lab_swtch promises on any architecture:
 *   - a new coroutine starts in entry(arg) with its argument, on its own stack;
 *   - switches go back and forth many times, each side resuming where it left off;
 *   - callee-saved integer and floating-point values held across a switch survive it (the
 *     compiler keeps them in x19-x28 / d8-d15 on aarch64, rbx/r12-r15 on x86-64);
 *   - the stack pointer is 16-byte aligned inside the coroutine (the ABI requires it).
 * Only the C library: no common/, no lab.  Prints "PASS swtch <arch> ..." and exits 0, or FAIL, 1.
 */
#define _GNU_SOURCE                     /* MAP_ANONYMOUS under -std=c11 */
#include "../swtch.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#ifndef LAB11_HAVE_ASM
int main(void) { puts("SKIP swtch: no assembly switch for this architecture"); return 0; }
#else
static void *main_sp, *co_sp;
static long hops;
static int bad;
static uintptr_t co_sp_seen;

static void entry(void *arg)
{
    long *counter = arg;
    volatile char probe;
    co_sp_seen = (uintptr_t)&probe;
    double f = 1.5;                     /* kept in a callee-saved FP register across the switches */
    long k = 7;
    for (;;) {
        (*counter)++;
        f = f * 1.0000001 + 0.5;
        k = k * 3 + 1;
        lab_swtch(&co_sp, main_sp);
        if (f < 1.5 || k == 0)
            bad++;
    }
}

int main(void)
{
    const char *arch =
#if defined(__aarch64__)
        "aarch64";
#else
        "x86_64";
#endif
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 1;
    long counter = 0;
    co_sp = lab_swtch_frame(stack + size, entry, &counter);
    /* values the caller keeps across calls: the compiler puts them in callee-saved registers */
    volatile long seed = 12345;
    long a = seed, b = seed * 2, c = seed * 3, d = seed * 5;
    double x = (double)seed, y = (double)seed * 0.5;   /* sums of these stay exact */
    for (long i = 0; i < 100000; i++) {
        lab_swtch(&main_sp, co_sp);
        hops++;
        a += 1; b += 2; c += 3; d += 5;
        x += 1.0; y += 2.0;
    }
    long want = 12345 + 100000;
    int ok = counter == 100000 && hops == 100000 && bad == 0 && a == want && b == 2 * 12345 + 200000 &&
             c == 3 * 12345 + 300000 && d == 5 * 12345 + 500000 && x == 12345.0 + 100000.0 &&
             y == 6172.5 + 200000.0 && co_sp_seen > (uintptr_t)stack && co_sp_seen < (uintptr_t)stack + size;
    printf("%s swtch %s: %ld switches each way, registers kept, coroutine stack in its mapping\n",
           ok ? "PASS" : "FAIL", arch, hops);
    munmap(stack, size);
    return ok ? 0 : 1;
}
#endif
