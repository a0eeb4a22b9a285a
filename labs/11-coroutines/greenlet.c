/* labs/11-coroutines/greenlet.c - scenarios `greenlet` (explicit switches) and `overflow` (the guard page).
 *
 * The notes' greenlet example: three functions a, b, c, each printing a letter and a number, then
 * switching to the next (a -> b -> c -> a ...), then sleeping 0.2 s.  One thread; the switches
 * decide the order, so it is exactly A0 B0 C0 A1 B1 C1 ... C4, every run.  After C4, c switches to
 * a, which sleeps, leaves its loop and ends: a is dead and control goes to its parent, the main
 * program, which ends.  b and c never run again: they stay suspended, and are freed at exit
 * (greenlet throws GreenletExit into them when they are collected; here their stacks are unmapped).
 * time.sleep blocks the one thread: 13 sleeps of 0.2 = 2.6 units, no time won by "concurrency".
 *   Python                                   C
 *   ga = greenlet.greenlet(a)                ga = co_new("a", a, NULL, 0)
 *   gb.switch()                              co_switch(gb)
 *   time.sleep(0.2)                          lab_sleep(0.2): blocks the whole thread
 * `overflow`: a coroutine recursing without end runs off its 64 KiB stack into the guard page; the
 * SIGSEGV handler (on its own alternate stack) names the coroutine and exits 1.
 * Usage: lab11 greenlet | lab11 overflow   (exit 1: the overflow is caught and reported)
 * Watch for: a_dead=1 b_dead=0 c_dead=0; threads=1.
 */
#include "lab.h"
#include "lab11.h"

#include <stdio.h>
#include <string.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define L11_QUIET_VALGRIND() VALGRIND_DISABLE_ERROR_REPORTING
#else
#define L11_QUIET_VALGRIND() ((void)0)
#endif

int l11_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* ==== greenlet ==== */

static struct co *ga, *gb, *gc;
static int lines, sleeps;

static void body(const char *letter, struct co **next)
{
    for (int i = 0; i < 5; i++) {
        lab_say("%s%d", letter, i);
        lines++;
        co_switch(*next);              /* gb.switch(): hand the thread to the next one */
        lab_sleep(0.2);                /* time.sleep(0.2): the whole thread sleeps */
        sleeps++;
    }
}
static void a(void *arg) { (void)arg; body("A", &gb); }
static void b(void *arg) { (void)arg; body("B", &gc); }
static void c(void *arg) { (void)arg; body("C", &ga); }

int run_greenlet(int mode)
{
    (void)mode;
    lines = sleeps = 0;
    lab_say("three greenlets a, b, c switch to each other by hand (switch: %s); main calls ga.switch()",
            co_switch_name());
    double t0 = lab_now_ms();
    ga = co_new("a", a, NULL, 0);
    gb = co_new("b", b, NULL, 0);
    gc = co_new("c", c, NULL, 0);
    co_switch(ga);                     /* returns when a ends: main is a's parent */
    double units = lab_elapsed_units(t0);
    int threads = l11_threads();
    bool ad = co_dead(ga), bd = co_dead(gb), cd = co_dead(gc);
    lab_say("back in main: a is %s (it ended, so control came to its parent, main);",
            ad ? "dead" : "alive");
    lab_say("  b is %s and c is %s, stopped inside their switch() calls: they never finish",
            bd ? "dead" : "suspended", cd ? "dead" : "suspended");
    lab_say("  %d sleeps of 0.2 took %.1f units: time.sleep blocks the one thread (threads=%d)",
            sleeps, units, threads);
    co_free(ga);
    co_free(gb);                       /* greenlet's GC would throw GreenletExit into them */
    co_free(gc);
    lab_result("lines=%d a_dead=%d b_dead=%d c_dead=%d sleeps=%d elapsed_units=%.1f stacks_left=%ld "
               "switch=%s threads=%d", lines, ad, bd, cd, sleeps, units, co_live_stacks(), co_switch_name(),
               threads);
    return lines == 15 && ad && !bd && !cd && co_live_stacks() == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== overflow ==== */

static volatile int depth;

/* 1 KiB of locals per call, used after the recursive call so the compiler cannot drop the frame. */
static int dive(int n)
{
    volatile char frame[1024];
    frame[n % 1024] = (char)n;
    depth = n;
    if (n > 1000000)                   /* 1 GB down: never reached on a 64 KiB stack */
        return 0;
    return dive(n + 1) + frame[(n * 7) % 1024];
}

static void deep(void *arg)
{
    (void)arg;
    lab_say("deep: recursing with 1 KiB frames, no base case...");
    L11_QUIET_VALGRIND();              /* under Valgrind: the fault below is the lesson, not a bug */
    lab_say("never printed: %d", dive(0));
}

int run_overflow(int mode)
{
    (void)mode;
    co_install_overflow_handler();
    lab_say("coroutine 'deep' gets a %d KiB stack from mmap, with a PROT_NONE guard page below it",
            CO_STACK_DEFAULT / 1024);
    lab_say("a fault in the guard page is caught on an alternate signal stack and reported (exit 1)");
    struct co *d = co_new("deep", deep, NULL, 0);
    co_switch(d);
    lab_say("the recursion ended without an overflow?");
    co_free(d);
    lab_result("coroutine=deep stack_kib=%d guard_page_hit=0 switch=%s threads=%d", CO_STACK_DEFAULT / 1024,
               co_switch_name(), l11_threads());
    return LAB_EXIT_BROKEN;
}
