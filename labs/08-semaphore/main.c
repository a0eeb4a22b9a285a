/* labs/08-semaphore/main.c - lab 8: semaphores; the scenario table and main().
 *
 * A semaphore is a counter of permits: a mutex lets one thread in, a Semaphore(5) lets five.  The
 * guided demo runs the scenarios in this order, the bad mode of a pair first.
 * Python ↔ C: threading.Semaphore / BoundedSemaphore ↔ semaphore.c; multiprocessing.Semaphore ↔
 *   proc_semaphore.c.
 * Usage: build/lab08 [SCENARIO [--mode=M] [--permits=5] [--threads=20] [--procs=6]]
 * Watch for: the RESULT line at the end of each scenario.
 * See also: semaphore.c, proc_semaphore.c.
 */
#include "lab.h"
#include "lab08.h"

/* Each .modes string lists its scenario's enum of lab08.h in the same order. */
static const struct lab_scenario scenarios[] = {
    { .name = "semaphore",
      .summary = "Semaphore(5) and 20 threads (伞兵): never more than 5 inside, exactly 5 reached",
      .modes = "nosem,sem", .opts = "permits,threads", .run = run_semaphore },
    { .name = "bounded",
      .summary = "one release too many: Semaphore allows it, BoundedSemaphore raises ValueError",
      .run = run_bounded },
    { .name = "proc_semaphore",
      .summary = "a named semaphore (sem_open) lets 2 of 6 processes in at a time",
      .modes = "private,named", .opts = "procs", .run = run_proc_semaphore },
    { .name = "mutex_vs_semaphore",
      .summary = "any thread may release a semaphore; an error-checking mutex says EPERM",
      .run = run_mutex_vs_semaphore },
    { 0 },
};

static struct lab_opt opts[] = {
    { .name = "permits", .help = "permits of the semaphore (坑位)", .def = 5, .min = 1, .max = 64 },
    { .name = "threads", .help = "threads that want in", .def = 20, .min = 1, .max = 200 },
    { .name = "procs", .help = "processes that want in (2 permits)", .def = 6, .min = 1, .max = 32 },
    { 0 },
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 8,
        .title = "semaphores",
        .scenarios = scenarios,
        .opts = opts,
    };
    return lab_main(&prog, argc, argv);
}
