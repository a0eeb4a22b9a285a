/* labs/11-coroutines/coro.c - coroutines as greenlet has them: a stack, a saved context, a parent.
 *
 * A coroutine here is what a greenlet is in the notes' greenlet example: a function with its own
 * stack, started and resumed by switch(), suspended wherever it calls switch() itself.  When its
 * function returns, the coroutine is dead and control goes to its parent (the coroutine that
 * created it, or the nearest ancestor still alive): that is why, in the notes, `a` ending returns
 * to the main program while `b` and `c` stay suspended forever.
 *   Python (greenlet)               C (this file)
 *   greenlet.greenlet(a)            co_new("a", a, NULL, 0)
 *   ga.switch()                     co_switch(ga)
 *   ga.dead                         co_dead(ga)
 *   greenlet.getcurrent()           co_current()
 * The switch is lab_swtch (swtch_x86_64.S, swtch_aarch64.S), or ucontext's swapcontext in the
 * fallback build (see swtch.h): makecontext passes only int arguments, so the pointer to the
 * coroutine is split into two ints.  Stacks come from mmap with a PROT_NONE guard page below them:
 * running off the bottom faults at once instead of overwriting a neighbour's memory, and
 * co_install_overflow_handler() turns that fault into a message naming the coroutine, exit 1.
 * --trace FILE: each coroutine has a track of its own ("coroutine a"), with a slice for every stretch
 * it runs, and every switch is an arrow from the end of one slice to the start of the next (main's
 * slices are on the thread's own track, MainThread, where the hub runs).
 * Watch for: the order of the lines in `greenlet`, and which coroutines are dead at the end.
 */
#include "lab.h"
#include "lab11.h"
#include "san.h"
#include "swtch.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(LAB11_SWITCH_UCONTEXT)
#include <ucontext.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define L11_VG_REGISTER(lo, hi) VALGRIND_STACK_REGISTER(lo, hi)
#define L11_VG_DEREGISTER(id) VALGRIND_STACK_DEREGISTER(id)
#define L11_VG_REPORT_AGAIN() VALGRIND_ENABLE_ERROR_REPORTING
#else
#define L11_VG_REPORT_AGAIN() ((void)0)
#define L11_VG_REGISTER(lo, hi) 0
#define L11_VG_DEREGISTER(id) ((void)(id))
#endif
#ifdef LAB_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#ifdef LAB_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct co {
    char name[32];
    enum co_state state;
    struct co *parent;          /* where control goes when fn returns (greenlet's parent) */
    co_fn *fn;
    void *arg;
    void *user;                 /* the hub's bookkeeping */
    char *map;                  /* the whole mapping: guard page, then the stack */
    size_t map_len;
    char *stack_lo;             /* lowest usable byte (just above the guard page) */
    size_t stack_size;
    unsigned vg_id;             /* Valgrind's name for the stack */
    int track;                  /* --trace: its track (0: main, on the thread's own) */
    bool in_slice;              /* --trace: the slice of its current run is open */
#if defined(LAB11_SWITCH_ASM)
    void *sp;                   /* saved stack pointer: the registers are on the stack below it */
#else
    ucontext_t uc;              /* saved registers, signal mask and stack of the fallback */
#endif
#ifdef LAB_TSAN
    void *fiber;                /* ThreadSanitizer's view of this stack */
#endif
#ifdef LAB_ASAN
    void *fake_stack;           /* AddressSanitizer's saved fake stack */
    const void *asan_bottom;    /* for the main coroutine: learnt on the first switch */
    size_t asan_size;
#endif
};

static struct co main_co = { .name = "main", .state = CO_RUNNING };
static struct co *cur = &main_co;
static void (*exit_hook)(struct co *c);
static long live_stacks;
static uint64_t switches;       /* --trace: the arrows' ids */

struct co *co_current(void) { return cur; }
struct co *co_main(void) { return &main_co; }
const char *co_name(const struct co *c) { return c->name; }
enum co_state co_state(const struct co *c) { return c->state; }
bool co_dead(const struct co *c) { return c->state == CO_DEAD; }
void co_set_exit_hook(void (*hook)(struct co *c)) { exit_hook = hook; }
void *co_user(const struct co *c) { return c->user; }
void co_set_user(struct co *c, void *user) { c->user = user; }
void co_set_parent(struct co *c, struct co *parent) { c->parent = parent; }
long co_live_stacks(void) { return live_stacks; }
const char *co_switch_name(void) { return LAB11_SWITCH_NAME; }

#ifdef LAB_ASAN
/* AddressSanitizer keeps shadow memory per stack: tell it where the next stack is before a switch,
 * and that we arrived after it (dying coroutines pass NULL: their fake stack can go). */
static void asan_before(struct co *from, struct co *to)
{
    __sanitizer_start_switch_fiber(from->state == CO_DEAD ? NULL : &from->fake_stack,
                                   to == &main_co ? main_co.asan_bottom : to->stack_lo,
                                   to == &main_co ? main_co.asan_size : to->stack_size);
}
static void asan_after(struct co *me, struct co *from)
{
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(me->fake_stack, &bottom, &size);
    if (from == &main_co && main_co.asan_bottom == NULL) {
        main_co.asan_bottom = bottom;
        main_co.asan_size = size;
    }
}
static struct co *asan_from;
#endif

/* --trace: `from` stops running (its slice ends with the tail of an arrow) and `to` runs (a slice
 * on its track, begun with the arrow's head).  Recorded before the switch, in this thread's buffer.
 * main's first slice begins at its first switch, its last ends when its last coroutine is freed. */
static void trace_switch(struct co *from, struct co *to)
{
    uint64_t id = (11ull << 40) + ++switches;
    if (!from->in_slice)
        lab_trace_begin("coroutine", "%s", from->name);
    lab_trace_flow_tail("switch", id);
    lab_trace_end();
    from->in_slice = false;
    lab_trace_use_track(to->track);
    lab_trace_begin("coroutine", "%s", to->name);
    lab_trace_flow_head("switch", id);
    to->in_slice = true;
}

/* The switch itself: every transfer of control between coroutines goes through here. */
static void swap(struct co *from, struct co *to)
{
    cur = to;
#if defined(LAB11_SWITCH_ASM)
    lab_swtch(&from->sp, to->sp);        /* returns when someone switches back to `from` */
#else
#ifdef LAB_TSAN
    __tsan_switch_to_fiber(to->fiber, 0);
#endif
#ifdef LAB_ASAN
    asan_before(from, to);
    asan_from = from;
#endif
    if (swapcontext(&from->uc, &to->uc) == -1)
        abort();
#ifdef LAB_ASAN
    asan_after(from, asan_from);
#endif
#endif
}

/* The first C function of every coroutine, on its own stack.  When fn returns the coroutine is
 * dead: control goes to the parent, or the nearest ancestor still alive (greenlet's rule). */
static void entry(void *arg)
{
    struct co *c = arg;
#ifdef LAB_ASAN
    asan_after(c, asan_from);
#endif
    c->fn(c->arg);
    c->state = CO_DEAD;
    if (exit_hook)
        exit_hook(c);
    struct co *to = c->parent;
    while (to->state == CO_DEAD)
        to = to->parent;
    if (lab_trace_on())
        trace_switch(c, to);
    to->state = CO_RUNNING;
    swap(c, to);
    abort();                             /* a dead coroutine is never switched back to */
}

#if defined(LAB11_SWITCH_UCONTEXT)
/* makecontext's function takes ints only: the pointer arrives as two halves. */
static void entry_ints(int hi, int lo)
{
    uintptr_t p = ((uintptr_t)(unsigned)hi << 32) | (uintptr_t)(unsigned)lo;
    entry((void *)p);
}
#endif

struct co *co_new(const char *name, co_fn *fn, void *arg, size_t stack_size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (stack_size == 0)
        stack_size = CO_STACK_DEFAULT;
    stack_size = (stack_size + page - 1) / page * page;
    co_install_overflow_handler();        /* every coroutine program gets the named report */
    struct co *c = xcalloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->fn = fn;
    c->arg = arg;
    c->parent = cur;
    c->state = CO_NEW;
    c->map_len = stack_size + page;
    c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (c->map == MAP_FAILED)
        die("mmap of a %zu-byte coroutine stack:", c->map_len);
    if (mprotect(c->map, page, PROT_NONE) == -1)    /* the guard page: the stack grows down into it */
        die("mprotect of a guard page:");
    c->stack_lo = c->map + page;
    c->stack_size = stack_size;
    c->vg_id = L11_VG_REGISTER(c->stack_lo, c->stack_lo + stack_size);
    if (lab_trace_on()) {
        char track[48];
        snprintf(track, sizeof track, "coroutine %s", c->name);
        c->track = lab_trace_track(track);
    }
#if defined(LAB11_SWITCH_ASM)
    c->sp = lab_swtch_frame(c->stack_lo + stack_size, entry, c);
#else
    if (getcontext(&c->uc) == -1)
        die("getcontext:");
    c->uc.uc_stack.ss_sp = c->stack_lo;
    c->uc.uc_stack.ss_size = stack_size;
    c->uc.uc_link = NULL;    /* entry() switches to the parent itself: the parent may be dead */
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))entry_ints, 2, (int)(unsigned)(p >> 32), (int)(unsigned)p);
#endif
#ifdef LAB_TSAN
    if (main_co.fiber == NULL)
        main_co.fiber = __tsan_get_current_fiber();
    c->fiber = __tsan_create_fiber(0);
    __tsan_set_fiber_name(c->fiber, c->name);
#endif
    live_stacks++;
    return c;
}

void co_switch(struct co *c)
{
    struct co *from = cur;
    if (c == from)
        return;
    if (c->state == CO_DEAD)
        die("switch to coroutine '%s', which is dead", c->name);
    if (lab_trace_on())
        trace_switch(from, c);
    if (from->state == CO_RUNNING)
        from->state = CO_SUSPENDED;
    c->state = CO_RUNNING;
    swap(from, c);
}

void co_free(struct co *c)
{
    if (c == NULL || c == &main_co)
        return;
    if (c == cur)
        die("co_free: coroutine '%s' is running", c->name);
    L11_VG_DEREGISTER(c->vg_id);
#ifdef LAB_TSAN
    __tsan_destroy_fiber(c->fiber);
#endif
    if (munmap(c->map, c->map_len) == -1)
        die("munmap:");
    live_stacks--;
    free(c);
    if (live_stacks == 0 && main_co.in_slice) {   /* main alone again: its run's slice ends */
        lab_trace_end();
        main_co.in_slice = false;
    }
}

/* ==== Stack overflow: the guard page's fault, caught on a stack of its own ==== */

static void say_raw(const char *s) { ssize_t r = write(2, s, strlen(s)); (void)r; }

/* SIGSEGV: if the address is in the running coroutine's guard page, name it and exit 1.  The
 * handler runs on the alternate signal stack: the coroutine's own stack is exactly what is gone. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    struct co *c = cur;
    char *addr = si->si_addr;
    if (c != &main_co && addr >= c->map && addr < c->stack_lo + 64) {
        char line[200];
        snprintf(line, sizeof line,
                 "lab11: stack overflow in coroutine '%s': past its %zu KiB stack, into the guard page\n",
                 c->name, c->stack_size / 1024);
        say_raw(line);
        if (strcmp(lab_scenario_name(), "overflow") == 0) {   /* the scenario that shows it */
            snprintf(line, sizeof line, "RESULT l11.overflow coroutine=%s stack_kib=%zu guard_page_hit=1 "
                     "switch=%s threads=1\n", c->name, c->stack_size / 1024, LAB11_SWITCH_NAME);
            ssize_t r = write(1, line, strlen(line));
            (void)r;
        }
        L11_VG_REPORT_AGAIN();          /* the scenario turned Valgrind's reports off for the dive */
        _exit(LAB_EXIT_BROKEN);
    }
    signal(sig, SIG_DFL);    /* not ours: let the fault happen again, now with the default action */
}

void co_install_overflow_handler(void)
{
    static bool done;
    static char altstack[64 * 1024];
    if (done)
        return;
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    if (sigaltstack(&ss, NULL) == -1)
        die("sigaltstack:");
    struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) == -1)
        die("sigaction SIGSEGV:");
    done = true;
}
