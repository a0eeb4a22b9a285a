/* labs/13-scheduling/multiprog.c - scenario `multiprog`: the notes' laundry, cooking and boiling
 * water, one after the other and overlapped.
 *
 * The notes (多道技术): washing clothes takes 30 s, cooking 30 s, boiling water 40 s; done one at a
 * time (单道) that is 30 + 30 + 40 = 100 s (the notes write 110: a slip of arithmetic); overlapped
 * (多道) only as long as the longest, 40 s.  That holds because the three tasks *wait* (the machine
 * washes, the kettle boils): nobody computes.  Three jobs that each need the CPU for 30, 30 and 40
 * on one CPU still take 100: overlapping only helps where there is waiting to overlap.
 * The simulation gives the exact numbers; then real processes that sleep show the same, with the
 * notes' seconds shrunk a hundredfold (0.30, 0.30, 0.40 units).
 * Usage: lab13 multiprog
 */
#include "lab.h"
#include "lab13.h"

static const struct { const char *name; int seconds; } tasks[] = {
    { "laundry", 30 }, { "cooking", 30 }, { "boiling water", 40 },
};
#define NTASKS ((int)(sizeof tasks / sizeof tasks[0]))

static int sleeper(struct lab_proc *self)
{
    lab_sleep(*(const int *)self->arg / 100.0);
    return 0;
}

/* Run the tasks as sleeping processes, all at once or one at a time; returns the units it took. */
static double real_run(bool overlapped)
{
    struct lab_proc p[NTASKS];
    int secs[NTASKS];
    double t0 = lab_now_ms();
    for (int i = 0; i < NTASKS; i++) {
        secs[i] = tasks[i].seconds;
        p[i] = (struct lab_proc)LAB_PROC_INIT(sleeper, &secs[i]);
        lab_proc_start_or_die(&p[i]);
        if (!overlapped)
            lab_proc_join(&p[i]);
    }
    for (int i = 0; i < NTASKS; i++)
        lab_proc_join(&p[i]);
    return lab_elapsed_units(t0);
}

int run_multiprog(int mode)
{
    (void)mode;
    int serial = 0, longest = 0;
    for (int i = 0; i < NTASKS; i++) {
        serial += tasks[i].seconds;
        if (tasks[i].seconds > longest)
            longest = tasks[i].seconds;
        lab_say("%-14s %3d s  %.*s", tasks[i].name, tasks[i].seconds, tasks[i].seconds / 2,
                "##############################################");
    }
    int cpu_bound = serial;   /* one CPU: CPU work cannot overlap, whatever the order */
    lab_say("one at a time (单道):  %d + %d + %d = %d s (the notes say 110: 30 + 30 + 40 is 100)",
            tasks[0].seconds, tasks[1].seconds, tasks[2].seconds, serial);
    lab_say("overlapped (多道):     %d s, the longest task: start all three, then wait", longest);
    lab_say("three CPU-bound jobs on one CPU: %d s - overlapping helps only where there is waiting",
            cpu_bound);

    lab_say("Real processes sleeping 0.30, 0.30 and 0.40 units:");
    double one = real_run(false);
    lab_say("  one after the other (start, join, start, join ...): %.2f units", one);
    double all = real_run(true);
    lab_say("  all started, then joined:                           %.2f units", all);
    if (all < one)
        lab_say("  overlapped took %.0f%% of the serial time: sleeping processes wait side by side", 100 * all / one);
    else
        lab_say("  overlapped was not faster this time: the machine was too busy to start them promptly");
    lab_result("serial=%d multiprog=%d cpu_bound_one_cpu=%d real_serial_units=%.2f real_multiprog_units=%.2f",
               serial, longest, cpu_bound, one, all);
    return LAB_EXIT_OK;
}
