/* labs/11-coroutines/swtch_x86_64.S - the context switch for x86-64 (System V ABI).
 *
 *   void lab_swtch(void **save_sp, void *load_sp);       rdi = save_sp, rsi = load_sp
 *   void lab_swtch_start(void);                          first code of a new coroutine
 *
 * Save old: push the callee-saved registers (rbp rbx r12-r15) on the current stack, store rsp in
 * *save_sp.  Load new: rsp = load_sp, pop the same six, pop the return address and jump there.
 * Why pop + jmp and not ret: the CPU predicts a ret from its return-stack buffer, the addresses of
 * the calls made on THIS stack; here ret would go to the other coroutine's call and be mispredicted
 * on every switch (~10 ns).  An indirect jmp is predicted from the branch history instead, which
 * learns where each switch goes (Boost.Context does the same).  Everything
 * else (rax, rcx, rdx, rsi, rdi, r8-r11, the vector registers) the caller of a function expects
 * to lose anyway, so a switch does not save it.  The return address pushed by `call lab_swtch` is
 * the resume point: no instruction pointer to save.  Not saved either: the x87 control word and
 * MXCSR (rounding modes), callee-saved in the ABI; Boost saves them, our coroutines never change
 * them.  The frame, from the saved rsp up: r15 r14 r13 r12 rbx rbp <return address>.
 */
#if defined(__x86_64__)
        .text
        .globl  lab_swtch
        .type   lab_swtch, @function
        .p2align 4
lab_swtch:
        pushq   %rbp                    /* save old: frame pointer */
        pushq   %rbx                    /* callee-saved */
        pushq   %r12                    /* callee-saved */
        pushq   %r13                    /* callee-saved */
        pushq   %r14                    /* callee-saved */
        pushq   %r15                    /* callee-saved; rsp now points at the whole frame */
        movq    %rsp, (%rdi)            /* *save_sp = rsp: the old coroutine is saved */
        movq    %rsi, %rsp              /* load new: its stack, with its frame on top */
        popq    %r15                    /* restore in the reverse order of the pushes */
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        popq    %r8                     /* its return address, into a scratch register ... */
        jmpq    *%r8                    /* ... and go: it resumes after its own call */
        .size   lab_swtch, .-lab_swtch

/* A new coroutine's first switch lands here with rsp 16-byte aligned (lab_swtch_frame sees to it),
 * r12 = arg and r13 = entry. */
        .globl  lab_swtch_start
        .type   lab_swtch_start, @function
        .p2align 4
lab_swtch_start:
        movq    %r12, %rdi              /* first argument: arg */
        call    *%r13                   /* entry(arg); it never returns ... */
        ud2                             /* ... and if it did, crash here, not somewhere random */
        .size   lab_swtch_start, .-lab_swtch_start

#endif
        .section .note.GNU-stack,"",@progbits   /* this code needs no executable stack */
