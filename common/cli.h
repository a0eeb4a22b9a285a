/* common/cli.h - the command line of every lab (the lab contract): the top floor of common/.
 *
 * A lab describes itself with one table and hands it to lab_main(), in its main.c:
 *
 *     enum money_mode { MONEY_NOLOCK, MONEY_LOCK };          // the order of .modes below
 *     static const struct lab_scenario scenarios[] = {
 *         { .name = "zombie", .summary = "a finished child stays Z until the parent waits",
 *           .run = run_zombie },
 *         { .name = "money", .summary = "100 threads do tmp=money; sleep; money=tmp-1",
 *           .modes = "nolock,lock", .opts = "threads", .run = run_money },
 *         { 0 }
 *     };
 *     static struct lab_opt opts[] = {
 *         { .name = "threads", .help = "number of threads", .def = 100, .min = 1, .max = 1000 },
 *         { 0 }
 *     };
 *     int main(int argc, char **argv)
 *     {
 *         static const struct lab_program prog = { .number = 3, .title = "mutual exclusion",
 *                                                   .scenarios = scenarios, .opts = opts };
 *         return lab_main(&prog, argc, argv);
 *     }
 *
 * That gives, with no further code:
 *   labNN                      the guided demo: every scenario, every mode in the order listed
 *                              (list the bad case first), with a banner before each;
 *   labNN --step | LAB_STEP=1  the guided demo with a title line and a pause (Enter; q quits)
 *                              before each part, on a terminal only (never in a pipe or a test);
 *   labNN --parts, --from=N    the demo's parts, numbered; the demo from part N;
 *   labNN --list               "name  description", one scenario a line (aligned on a terminal);
 *   labNN --help               the usage, scenarios, modes, options with defaults, environment;
 *   labNN SCEN [--mode=M] [--opt=N | --opt N] ...
 *   labNN SCEN --mode=M1,M2 | --mode=all   the modes one after the other (each run as the demo
 *                              runs it), then a table of the RESULT keys that differ;
 *   labNN --explain-exit=S [ARGS]  one line saying what status S means for that run, exit 0 when
 *                              it is the lesson's outcome (its .demo_status): make lab-N uses it;
 *   exit 2 with one line on stderr naming the bad argument, then a hint to --help, for an
 *   unknown scenario or mode (with "did you mean" when one is close), an unknown or repeated
 *   option, an option the scenario does not take, or a malformed or out-of-range number (also in
 *   LAB_SECOND_MS, LAB_SEED or LAB_STEP).  The contract is CONTRACT.md.
 *
 * A scenario's run() gets its mode as an index into its .modes list (0, the default, when none
 * is given or the scenario has no modes): compare it with the lab's enum, never with a string.
 * It returns an exit status of prog.h (LAB_EXIT_OK, LAB_EXIT_BROKEN, LAB_EXIT_WATCHDOG), and ends
 * with lab_result(), which prints "RESULT lN.<scenario> mode=<mode> ..." by itself.  Options are
 * read with lab_opt("threads"); a flag option (min == max == 1, default 0) is given without a
 * value (--timeline) and reads 1.
 */
#ifndef COMMON_CLI_H
#define COMMON_CLI_H

#include "prog.h"

#include <stdbool.h>
#include <stddef.h>

struct lab_scenario {
    const char *name;      /* as typed on the command line, and in RESULT lN.<name> */
    const char *summary;   /* one line, for --list */
    const char *modes;     /* "nolock,lock" (first is the default), or NULL */
    const char *opts;      /* the options it takes, "users,tickets", or NULL */
    int (*run)(int mode);  /* mode: index into .modes, 0 when it has none */
    /* Optional: the exit status this scenario's mode has in the guided demo when it is not 0
     * (a deadlock demo that the watchdog ends: LAB_EXIT_WATCHDOG).  Such scenarios are run in a
     * child process by the guided demo, so the tour goes on.  NULL: every mode must return 0. */
    int (*demo_status)(int mode);
    /* Optional: check the scenario's options before anything is printed (a bad combination, a
     * malformed text option): call lab_usage_error(), which exits 2 with stdout still empty. */
    void (*check)(void);
    /* Optional: the text option that a bare argument after the scenario's name stands for
     * (`lab14 play counter` is `lab14 play --level=counter`); NULL: no bare argument. */
    const char *bare_opt;
    /* Optional: run this scenario in a forked child in the guided demo (it ends its process the
     * way a whole program would: daemon threads cut off, exit status collected). */
    bool demo_in_child;
};

struct lab_opt {
    const char *name;      /* --name */
    const char *help;
    long long def;         /* default value */
    long long min, max;    /* accepted range, inclusive; a flag has min == max == 1 and def 0 */
    /* set by the parser: */
    long long value;
    bool given;
};

/* A text option (--algo=rr, --jobs=7,4,1): the lab checks the text itself and calls
 * lab_usage_error() when it is wrong. */
struct lab_text_opt {
    const char *name;      /* --name */
    const char *help;
    const char *def;       /* default value ("" for none) */
    /* set by the parser: */
    const char *value;
    bool given;
};

struct lab_program {
    int number;                              /* 1 → build/lab01, RESULT l1.* */
    const char *title;                       /* "processes", for the banner and --help */
    const struct lab_scenario *scenarios;    /* terminated by { 0 } */
    struct lab_opt *opts;                    /* terminated by { 0 }, or NULL */
    struct lab_text_opt *text_opts;          /* terminated by { 0 }, or NULL */
    /* Optional: the lab's benchmark table (`labNN --bench`, run by `make bench`; report only). */
    int (*bench)(void);
};

/* Parse the command line, set up stdout (line-buffered), time, seed and colours, and run. */
int lab_main(const struct lab_program *prog, int argc, char **argv);

/* The value of an option of this lab's table (its default unless given).  Aborts on a name that
 * is not in the table: that is a bug in the lab, not a user error. */
long long lab_opt(const char *name);
/* The value of a text option (its default unless given).  Aborts on a name not in the table. */
const char *lab_opt_text(const char *name);
/* Whether the option (number or text) was given on the command line. */
bool lab_opt_given(const char *name);

/* True while the guided demo runs (a scenario may show more there, say a picture). */
bool lab_in_demo(void);

/* Checked number parsing (no atoi): the whole string must be a decimal integer in [min, max].
 * Returns 0, or -1 with a message in err (at least 128 bytes) naming what is wrong. */
int lab_parse_ll(const char *s, long long min, long long max, long long *out, char *err, size_t errlen);

/* A usage error from inside a scenario (say, --users larger than --tickets allows): one line on
 * stderr, the hint, exit 2. */
void lab_usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
