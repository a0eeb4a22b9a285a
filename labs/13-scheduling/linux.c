/* labs/13-scheduling/linux.c - scenario `linux`: the real scheduler beside the model.
 *
 * Linux's default scheduler (CFS, and EEVDF since 6.6) gives each runnable process a share of the
 * CPU by its weight, and the weight comes from its nice value: nice 0 weighs 1024, nice 5 weighs
 * 335, so on one CPU the first gets about 3 times the CPU of the second.  Two processes that only
 * compute are pinned to the same CPU (sched_setaffinity), one at nice 0 and one at nice 5, and each
 * measures the CPU time it got.  Then the real-time policies: SCHED_FIFO (run until you block or
 * a higher priority comes) and SCHED_RR (the same, with a time slice), which need privilege.
 * Usage: lab13 linux [--duration=3]   (units the two processes compete)
 * Watch for: the ratio of their CPU times next to 1024/335 = 3.06; the verdict is chosen by it
 * (L13_NICE_LOW to L13_NICE_HIGH shows the weights; the run lasts --duration units, so the two
 * processes compete for 300 ms at the default pace).
 */
#define L13_NICE_LOW 2.0
#define L13_NICE_HIGH 4.5
#include "lab.h"
#include "lab13.h"
#include "timing.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <stdio.h>
#include <time.h>

struct race {
    int cpu;                 /* the one CPU both run on */
    atomic_int ready, go, stop;
    double cpu_ms[2];
    int nice[2];
    int pinned[2];
};

static double cputime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int competitor(struct lab_proc *self)
{
    struct race *r = self->arg;
    int me = self->number % 2;   /* the first child is 0, the second 1 (numbers are consecutive) */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r->cpu, &set);
    r->pinned[me] = sched_setaffinity(0, sizeof set, &set) == 0;
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, r->nice[me]) == -1)
        r->nice[me] = -100;
    atomic_fetch_add(&r->ready, 1);
    while (!atomic_load(&r->go))
        sched_yield();
    double start = cputime_ms();
    volatile unsigned long spin = 0;
    while (!atomic_load(&r->stop))
        spin++;
    r->cpu_ms[me] = cputime_ms() - start;
    return 0;
}

/* Ask for a real-time policy in a child (so the lab itself never runs real-time). */
static int try_policy(struct lab_proc *self)
{
    int policy = *(int *)self->arg;
    struct sched_param sp = { .sched_priority = 1 };
    if (sched_setscheduler(0, policy, &sp) == -1)
        return errno == EPERM ? 1 : 2;
    return sched_getscheduler(0) == policy ? 0 : 2;
}

static const char *policy_result(int policy)
{
    struct lab_proc p = LAB_PROC_INIT(try_policy, &policy);
    lab_proc_start_or_die(&p);
    int code = lab_proc_join(&p);
    return code == 0 ? "granted" : code == 1 ? "refused" : "failed";
}

int run_linux(int mode)
{
    (void)mode;
    struct race *r = lab_shared_alloc(sizeof *r);
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    SYS_CHECK(sched_getaffinity(0, sizeof allowed, &allowed));
    r->cpu = 0;
    while (r->cpu < CPU_SETSIZE - 1 && !CPU_ISSET(r->cpu, &allowed))
        r->cpu++;
    r->nice[0] = 0;
    r->nice[1] = 5;
    struct lab_proc p[2] = { LAB_PROC_INIT(competitor, r), LAB_PROC_INIT(competitor, r) };
    for (int i = 0; i < 2; i++)
        lab_proc_start_or_die(&p[i]);
    double deadline = lab_now_ms() + lab_bound_ms(0);
    while (atomic_load(&r->ready) < 2 && lab_now_ms() < deadline)
        lab_sleep_ms(1);
    atomic_store(&r->go, 1);
    double units = (double)lab_opt("duration");
    lab_say("two processes compute on CPU %d for %.0f units: %s at nice %d, %s at nice %d", r->cpu, units,
            p[0].name, r->nice[0], p[1].name, r->nice[1]);
    lab_sleep(units);
    atomic_store(&r->stop, 1);
    for (int i = 0; i < 2; i++)
        lab_proc_join(&p[i]);
    double ratio = r->cpu_ms[1] > 0 ? r->cpu_ms[0] / r->cpu_ms[1] : 0;
    lab_say("  %s (nice 0): %.1f ms of CPU;  %s (nice 5): %.1f ms;  ratio %.2f (weights 1024/335 = 3.06)",
            p[0].name, r->cpu_ms[0], p[1].name, r->cpu_ms[1], ratio);
    /* The sentence is chosen by the measured ratio (rounded as printed), never by the hope. */
    struct lab_timing t = { .part = "nice", .ratio = ratio, .want = L13_NICE_LOW, .want_max = L13_NICE_HIGH,
                            .cpus = 1 };
    ratio = t.ratio = round(ratio * 100.0) / 100.0;
    if (lab_timing_shows(&t))
        lab_say("  about 3:1, as the weights say: the nicer process gets the smaller share");
    else if (ratio > 1)
        lab_say("  the nice-0 process got more, but not 3:1: other work on CPU %d took its own share", r->cpu);
    else
        lab_say("  not 3:1: the run was too short, or the two did not share one CPU (pinned: %d, %d)",
                r->pinned[0], r->pinned[1]);
    lab_timing_judge(&t, "nice 0 got %.2fx the CPU of nice 5 (weights 3.06)", t.ratio);
    const char *fifo = policy_result(SCHED_FIFO);
    const char *rr = policy_result(SCHED_RR);
    long slice_ms = -1;
    FILE *f = fopen("/proc/sys/kernel/sched_rr_timeslice_ms", "r");
    if (f) {
        if (fscanf(f, "%ld", &slice_ms) != 1)
            slice_ms = -1;
        fclose(f);
    }
    lab_say("SCHED_FIFO: %s; SCHED_RR: %s%s", fifo, rr, fifo[0] == 'r' ? " (they need root or CAP_SYS_NICE)" : "");
    lab_say("  real-time policies run before every normal process: FIFO until it blocks or yields, RR the same");
    lab_say("  but in turns of %ld ms with its equals (/proc/sys/kernel/sched_rr_timeslice_ms)", slice_ms);
    lab_result("cpu=%d pinned=%d nice_a=%d nice_b=%d cpu_ms_a=%.1f cpu_ms_b=%.1f ratio=%.2f weight_ratio=3.06 "
               "sched_fifo=%s sched_rr=%s shown=%d",
               r->cpu, r->pinned[0] && r->pinned[1], r->nice[0], r->nice[1], r->cpu_ms[0], r->cpu_ms[1], ratio,
               fifo, rr, t.shown);
    bool ok = r->cpu_ms[0] > 0 && r->cpu_ms[1] > 0;
    lab_shared_free(r, sizeof *r);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
