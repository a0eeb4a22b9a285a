/* labs/11-coroutines/swtch_aarch64.S - the context switch for aarch64 (AAPCS64).
 *
 *   void lab_swtch(void **save_sp, void *load_sp);       x0 = save_sp, x1 = load_sp
 *   void lab_swtch_start(void);                          first code of a new coroutine
 *
 * Save old: store the callee-saved registers x19-x28, the frame pointer x29, the link register x30
 * (the return address: `bl lab_swtch` put it there) and the low halves d8-d15 of v8-v15 in a
 * 160-byte frame below sp, store sp in *save_sp.  Load new: sp = load_sp, load the same frame,
 * pop it, ret (to x30).  The frame, from the saved sp up:
 *   +0 x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28  +80 x29 x30
 *   +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15
 */
#if defined(__aarch64__)
        .text
        .globl  lab_swtch
        .type   lab_swtch, %function
        .p2align 4
lab_swtch:
        sub     sp, sp, #160            /* room for the frame (sp stays 16-byte aligned) */
        stp     x19, x20, [sp, #0]      /* save old: callee-saved pairs */
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]     /* frame pointer and return address */
        stp     d8, d9, [sp, #96]       /* callee-saved floating point (low 64 bits) */
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp                  /* sp cannot be stored directly: through a scratch register */
        str     x9, [x0]                /* *save_sp = sp: the old coroutine is saved */
        mov     sp, x1                  /* load new: its stack, with its frame on top */
        ldp     x19, x20, [sp, #0]      /* restore the same registers from its frame */
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]     /* x30: where it resumes */
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #160            /* pop the frame */
        ret                             /* branch to x30: it resumes after its own call */
        .size   lab_swtch, .-lab_swtch

/* A new coroutine's first ret lands here (x30 in its frame), x19 = arg, x20 = entry. */
        .globl  lab_swtch_start
        .type   lab_swtch_start, %function
        .p2align 4
lab_swtch_start:
        mov     x0, x19                 /* first argument: arg */
        mov     x29, xzr                /* no frame above: ends a backtrace */
        blr     x20                     /* entry(arg); it never returns ... */
        brk     #0                      /* ... and if it did, trap here */
        .size   lab_swtch_start, .-lab_swtch_start

#endif
        .section .note.GNU-stack,"",%progbits   /* this code needs no executable stack */
