/* common/timing.c - a timing lesson told honestly (see timing.h): the work follows the pace, the
 * verdict follows the measured ratio, and the parts not shown are counted for the demo's verdict. */
#include "timing.h"

#include "clock.h"
#include "out.h"
#include "prog.h"
#include "shm.h"

#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

unsigned long lab_timing_work(double per_second)
{
    double w = per_second * (double)lab_second_ms() / 1000.0;
    return w < 1 ? 1UL : (unsigned long)(w + 0.5);
}

int lab_timing_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

bool lab_timing_shows(const struct lab_timing *t)
{
    if (t->cpus_needed > 1 && t->cpus < t->cpus_needed)
        return false;
    if (t->at_most)
        return t->ratio <= t->want;
    return t->ratio >= t->want && (t->want_max <= 0 || t->ratio <= t->want_max);
}

/* The parts not shown: one small shared page, so a part run in a forked child is counted too.  A
 * part of the demo is a scenario and its mode; its timing parts not shown are listed after it:
 * "cpu (threads, procs), affinity --mode=free". */
#define NAMES_LEN 480
struct unshown {
    atomic_int n;              /* scenario+mode parts with at least one timing part not shown */
    atomic_flag busy;          /* guards the rest (a spin: a few bytes are copied under it) */
    char last[96];             /* the scenario+mode noted last */
    char names[NAMES_LEN];
};
static struct unshown *book;

static struct unshown *the_book(void)
{
    if (!book)
        book = lab_shared_alloc(sizeof *book);   /* zero-filled: n = 0, flag clear, names "" */
    return book;
}

static void note_unshown(const char *part)
{
    struct unshown *b = the_book();
    char key[96], add[160];
    const char *scen = lab_scenario_name(), *mode = lab_mode_name();
    snprintf(key, sizeof key, "%s%s%s", scen ? scen : "?", mode ? " --mode=" : "", mode ? mode : "");
    bool named = part && *part && !(mode && strcmp(part, mode) == 0);
    while (atomic_flag_test_and_set(&b->busy))
        ;
    size_t len = strlen(b->names);
    bool same = strcmp(b->last, key) == 0;
    if (!same) {
        snprintf(add, sizeof add, "%s%s%s%s%s", len ? ", " : "", key, named ? " (" : "", named ? part : "",
                 named ? ")" : "");
        snprintf(b->last, sizeof b->last, "%s", key);
        atomic_fetch_add(&b->n, 1);
    } else if (named && len > 0 && b->names[len - 1] == ')') {
        b->names[--len] = '\0';                   /* "cpu (threads" + ", procs)" */
        snprintf(add, sizeof add, ", %s)", part);
    } else {
        add[0] = '\0';
    }
    if (len + strlen(add) < NAMES_LEN)
        snprintf(b->names + len, NAMES_LEN - len, "%s", add);
    atomic_flag_clear(&b->busy);
}

int lab_timing_unshown(char *names, size_t len)
{
    struct unshown *b = the_book();
    if (names && len) {
        while (atomic_flag_test_and_set(&b->busy))
            ;
        snprintf(names, len, "%s", b->names);
        atomic_flag_clear(&b->busy);
    }
    return atomic_load(&b->n);
}

bool lab_timing_judge(struct lab_timing *t, const char *fmt, ...)
{
    t->ratio = round(t->ratio * 100.0) / 100.0;
    t->shown = lab_timing_shows(t);
    char wanted[48];
    if (!t->at_most && t->want_max > 0)
        snprintf(wanted, sizeof wanted, "wanted %g to %g", t->want, t->want_max);
    else
        snprintf(wanted, sizeof wanted, "wanted %s %g", t->at_most ? "<=" : ">=", t->want);
    if (t->shown) {
        char what[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        lab_say("  -> shown: %s (%s)", what, wanted);
    } else {
        if (t->cpus_needed > 1 && t->cpus < t->cpus_needed)
            lab_say("  -> not shown: this process may use %d CPU, the effect needs %d: ratio %.2f, %s", t->cpus,
                    t->cpus_needed, t->ratio, wanted);
        else
            lab_say("  -> not shown: the machine was too busy to show it: ratio %.2f, %s", t->ratio, wanted);
        note_unshown(t->part);
    }
    return t->shown;
}
