/* common/timing.h - a timing lesson told honestly: work sized by the pace, a verdict chosen by the
 * measured ratio, and a part that could not show its effect never counted as shown.
 *
 * A timing lesson ("two processes finish the work faster than one thread") is a measurement on a
 * machine that may be shared, busy or have one CPU.  Every lab that teaches one does three things
 * the same way, here:
 *
 *   1. The default amount of work follows the pace: lab_timing_work(per_second) is per_second x
 *      LAB_SECOND_MS / 1000, "per_second" being the work of one second of the notes.  At the
 *      default pace (100 ms) a class times jobs long enough for noise not to decide; the tests
 *      (LAB_SECOND_MS=10) and Valgrind stay fast; LAB_SECOND_MS=1000 gives the long runs.  An
 *      option the user gave always wins (the lab asks lab_opt_given first).
 *
 *   2. The verdict is the measured ratio against the lesson's threshold, and the line printed is
 *      chosen by the number, never by what the lesson hopes:
 *
 *          struct lab_timing t = { .part = "procs", .ratio = seq_ms / procs_ms, .want = 1.3,
 *                                  .cpus_needed = 2, .cpus = ncpus };
 *          lab_timing_judge(&t, "processes %.2fx faster than one thread", t.ratio);
 *          lab_result("... ratio=%.2f shown=%d", t.ratio, t.shown);
 *
 *      prints "  -> shown: processes 1.93x faster than one thread (ratio 1.93, wanted >= 1.3)",
 *      or "  -> not shown: the machine was too busy to show it: ratio 1.05, wanted >= 1.3", or
 *      "  -> not shown: this process may use 1 CPU and the effect needs 2: ratio 0.98, ...".
 *      The ratio is rounded to 2 decimals first (t.ratio is updated), so the RESULT's ratio= and
 *      shown= always agree with the threshold.
 *
 *   3. A part not shown is counted, in memory shared with forked children: the guided demo's
 *      verdict (cli.c) says "N parts behaved as the lesson says; the timing part X could not be
 *      shown on this machine now" instead of claiming it, and still exits 0 (timing on a shared
 *      machine is not a program failure).
 *
 * Floor 3 of common/: it uses clock (the pace), shm (the shared count) and out (the line).
 */
#ifndef COMMON_TIMING_H
#define COMMON_TIMING_H

#include <stdbool.h>
#include <stddef.h>

/* The work of one timed job: per_second x LAB_SECOND_MS / 1000, at least 1. */
unsigned long lab_timing_work(double per_second);
/* The CPUs this process may run on (sched_getaffinity: taskset counts), at least 1. */
int lab_timing_cpus(void);

struct lab_timing {
    const char *part;      /* the timing part, for the demo's verdict: "procs" (with the scenario) */
    double ratio;          /* measured; rounded to 2 decimals by lab_timing_judge */
    double want;           /* the threshold that shows the effect */
    bool at_most;          /* the effect is "no faster": shown when ratio <= want (else >= want) */
    double want_max;       /* > 0: a window, shown when want <= ratio <= want_max ("about 3:1") */
    int cpus_needed;       /* CPUs the effect needs (0 or 1: any machine) */
    int cpus;              /* CPUs this process may use */
    bool shown;            /* set by lab_timing_judge */
};

/* Round the ratio, decide whether it shows the effect, print the verdict line (the sentence fmt
 * when shown, what stopped it otherwise), count the part when not shown.  Returns t->shown. */
bool lab_timing_judge(struct lab_timing *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether t->ratio (as it is: judge rounds it first) shows the effect: the rule of lab_timing_judge. */
bool lab_timing_shows(const struct lab_timing *t);

/* The parts (scenario and mode) with a timing part not shown so far in this program, its forked
 * children included when this was first called before they were forked: their number, and their
 * names, "cpu (threads, procs), affinity --mode=free" (cut to len bytes; names may be NULL).  The
 * guided demo calls it before the first part and for its verdict. */
int lab_timing_unshown(char *names, size_t len);

#endif
