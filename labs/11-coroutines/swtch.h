/* labs/11-coroutines/swtch.h - the context switch, the one thing a coroutine library cannot write in C.
 *
 * A coroutine is a stack plus the registers a function call must keep (the "callee-saved" ones).
 * To switch, push those registers on the current stack, save the stack pointer, load the other
 * coroutine's stack pointer, pop its registers, and return: the jump lands where that coroutine
 * last called lab_swtch.  That is xv6's swtch; the code is in swtch_x86_64.S and swtch_aarch64.S.
 * No system call, no signal mask: a few nanoseconds (ucontext's swapcontext also saves and
 * restores the signal mask with rt_sigprocmask, a system call on every switch).
 *
 * A new coroutine gets a stack whose top holds a frame built by lab_swtch_frame(), so that its
 * first lab_swtch "returns" into lab_swtch_start, which calls entry(arg) on the fresh stack.
 *
 * Which switch a build uses (LAB11_SWITCH_ASM or LAB11_SWITCH_UCONTEXT) is chosen here, at build
 * time: the assembly on x86-64 and aarch64, ucontext elsewhere and under AddressSanitizer and
 * ThreadSanitizer (they track each stack, and hear about switches through swapcontext and fiber
 * annotations; -DLAB11_UCONTEXT forces the fallback).  The bench measures both either way.
 * This header uses only the C library, so the aarch64 cross-check (cross/swtch_test.c) includes it.
 */
#ifndef LAB11_SWTCH_H
#define LAB11_SWTCH_H

#include <stddef.h>
#include <stdint.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LAB11_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LAB11_SANITIZER 1
#endif

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(LAB11_SANITIZER) && !defined(LAB11_UCONTEXT)
#define LAB11_SWITCH_ASM 1
#define LAB11_SWITCH_NAME "asm"
#else
#define LAB11_SWITCH_UCONTEXT 1
#define LAB11_SWITCH_NAME "ucontext"
#endif

#if defined(__x86_64__) || defined(__aarch64__)
#define LAB11_HAVE_ASM 1

/* Save the callee-saved registers on the current stack and the stack pointer in *save_sp; then
 * load load_sp and resume whatever was saved there.  Returns when someone switches back. */
void lab_swtch(void **save_sp, void *load_sp);
/* The first instructions of every coroutine (never called directly). */
void lab_swtch_start(void);

/* Build the first frame of a coroutine on the stack whose highest address is stack_top, so that
 * lab_swtch(&x, frame) runs entry(arg) there; returns the stack pointer to give lab_swtch.
 * entry must never return (it switches away for good when its work is done). */
static inline void *lab_swtch_frame(void *stack_top, void (*entry)(void *), void *arg)
{
    uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;   /* the ABIs want 16-byte alignment */
#if defined(__x86_64__)
    /* From the top down: two zero words (alignment; a zero return address ends a backtrace), where the final jump
     * of lab_swtch goes (lab_swtch_start), then what its six pops load: rbp rbx r12 r13 r14 r15.
     * lab_swtch_start finds arg in r12 and entry in r13. */
    void **f = (void **)top;
    f[-1] = 0;                                  /* top-8, top-16: padding, so that rsp is 16-byte */
    f[-2] = 0;                                  /* aligned after the pop of the next slot */
    f[-3] = (void *)lab_swtch_start;            /* popped, and jumped to */
    f[-4] = 0;                                  /* rbp: no frame above */
    f[-5] = 0;                                  /* rbx */
    f[-6] = arg;                                /* r12 */
    f[-7] = (void *)(uintptr_t)entry;           /* r13 */
    f[-8] = 0;                                  /* r14 */
    f[-9] = 0;                                  /* r15: the lowest, popped first */
    return &f[-9];
#else
    /* aarch64: lab_swtch loads x19..x30 and d8..d15 from a 160-byte frame: [sp+0] x19, x20, ...
     * x29 at +80, x30 (the link register, where ret goes) at +88, d8..d15 from +96. */
    void **f = (void **)(top - 160);
    for (int i = 0; i < 20; i++)
        f[i] = 0;
    f[0] = arg;                                 /* x19 */
    f[1] = (void *)(uintptr_t)entry;            /* x20 */
    f[11] = (void *)lab_swtch_start;            /* x30: ret goes there */
    return f;
#endif
}
#endif

#endif
