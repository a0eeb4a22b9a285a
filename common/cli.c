/* common/cli.c - the lab contract's command line, guided demo and exit statuses; see cli.h. */
#include "cli.h"
#include "cleanup.h"
#include "prog.h"
#include "clock.h"
#include "die.h"
#include "out.h"
#include "proc.h"
#include "rng.h"
#include "thread.h"
#include "trace.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct lab_program *prog;

int lab_parse_ll(const char *s, long long min, long long max, long long *out, char *err, size_t errlen)
{
    char *end;
    if (s == NULL || *s == '\0') {
        snprintf(err, errlen, "empty number");
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s || s[0] == ' ' || s[0] == '\t') {
        snprintf(err, errlen, "'%s' is not a whole number", s);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        snprintf(err, errlen, "%s is out of range (%lld..%lld)", s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static void hint(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", lab_prog_name());
}

void lab_usage_error(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", lab_prog_name());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    hint();
    exit(LAB_EXIT_USAGE);
}

static struct lab_opt *find_opt(const char *name, size_t len)
{
    for (struct lab_opt *o = prog->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

long long lab_opt(const char *name)
{
    struct lab_opt *o = find_opt(name, strlen(name));
    if (o == NULL) {
        fprintf(stderr, "%s: bug: no option '%s' in the lab's table\n", lab_prog_name(), name);
        abort();
    }
    return o->given ? o->value : o->def;
}

static struct lab_text_opt *find_text_opt(const char *name, size_t len)
{
    for (struct lab_text_opt *o = prog->text_opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

const char *lab_opt_text(const char *name)
{
    struct lab_text_opt *o = find_text_opt(name, strlen(name));
    if (o == NULL) {
        fprintf(stderr, "%s: bug: no text option '%s' in the lab's table\n", lab_prog_name(), name);
        abort();
    }
    return o->given ? o->value : o->def;
}

bool lab_opt_given(const char *name)
{
    struct lab_opt *o = find_opt(name, strlen(name));
    struct lab_text_opt *t = find_text_opt(name, strlen(name));
    return (o && o->given) || (t && t->given);
}

static bool is_flag(const struct lab_opt *o) { return o->min == 1 && o->max == 1 && o->def == 0; }

static const struct lab_scenario *find_scenario(const char *name)
{
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* The index of `word` among the comma-separated items of `list`, or -1. */
static int list_index(const char *list, const char *word, size_t len)
{
    int i = 0;
    for (const char *p = list; p && *p; i++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, word, len) == 0)
            return i;
        p = comma ? comma + 1 : NULL;
    }
    return -1;
}

static bool in_list(const char *list, const char *word, size_t len) { return list_index(list, word, len) >= 0; }

/* How many modes a scenario has (0 for none). */
static int mode_count(const struct lab_scenario *s)
{
    if (s->modes == NULL)
        return 0;
    int n = 1;
    for (const char *p = s->modes; *p; p++)
        n += *p == ',';
    return n;
}

/* The name of mode `k` of a scenario, in buf; NULL when it has no modes. */
static const char *mode_name(const struct lab_scenario *s, int k, char *buf, size_t len)
{
    if (s->modes == NULL)
        return NULL;
    const char *p = s->modes;
    for (; k > 0 && p; k--) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    if (p == NULL)
        return NULL;
    snprintf(buf, len, "%.*s", (int)strcspn(p, ","), p);
    return buf;
}

static void print_list(void)
{
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        printf("%s  %s\n", s->name, s->summary);
}

static void print_help(void)
{
    printf("Usage: %s [SCENARIO [--mode=MODE] [OPTIONS]]\n", lab_prog_name());
    printf("       %s --list | --help\n\n", lab_prog_name());
    printf("Lab %d - %s.\n", prog->number, prog->title);
    printf("With no arguments: the guided demo, every scenario in turn, the bad case before the fix.\n\n");
    printf("Scenarios:\n");
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++) {
        printf("  %-18s %s\n", s->name, s->summary);
        if (s->modes)
            printf("  %-18s   modes: %s (default %.*s)\n", "", s->modes, (int)strcspn(s->modes, ","), s->modes);
        if (s->opts)
            printf("  %-18s   options: %s\n", "", s->opts);
    }
    printf("\nOptions:\n");
    printf("  %-22s %s\n", "--list", "list the scenarios, one a line");
    printf("  %-22s %s\n", "--help", "show this text");
    printf("  %-22s %s\n", "--mode=MODE", "run the scenario in this mode");
    printf("  %-22s %s\n", "--trace=FILE", "write a timeline to FILE (open it in ui.perfetto.dev)");
    if (prog->bench)
        printf("  %-22s %s\n", "--bench", "print this lab's benchmark table (make bench)");
    for (struct lab_opt *o = prog->opts; o && o->name; o++) {
        char left[64];
        if (is_flag(o)) {
            snprintf(left, sizeof left, "--%s", o->name);
            printf("  %-22s %s\n", left, o->help);
        } else {
            snprintf(left, sizeof left, "--%s=N", o->name);
            printf("  %-22s %s (default %lld, %lld..%lld)\n", left, o->help, o->def, o->min, o->max);
        }
    }
    for (struct lab_text_opt *o = prog->text_opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s=TEXT", o->name);
        if (*o->def)
            printf("  %-22s %s (default %s)\n", left, o->help, o->def);
        else
            printf("  %-22s %s\n", left, o->help);
    }
    printf("\nEnvironment:\n");
    printf("  %-22s %s (default %d)\n", "LAB_SECOND_MS", "milliseconds one second of the course notes lasts", LAB_SECOND_MS_DEFAULT);
    printf("  %-22s %s\n", "LAB_SEED", "seed of every random choice (default 1)");
    printf("  %-22s %s\n", "NO_COLOR", "set: no colours (they are also off when stdout is not a terminal)");
    printf("\nExit status: 0 the lesson happened, 1 an invariant broke, 2 usage error, 3 a watchdog fired.\n");
}

static void env_number(const char *var, long long min, long long max, long long *out)
{
    const char *v = getenv(var);
    if (v == NULL)
        return;
    char err[160];
    if (lab_parse_ll(v, min, max, out, err, sizeof err) != 0)
        lab_usage_error("bad %s: %s", var, err);
}

/* Run mode `mode` of scenario s in this process: banner, run, Python's end of the main code. */
static int run_one(const struct lab_scenario *s, int mode)
{
    static char name[64];   /* the mode's name lives as long as the scenario runs */
    const char *m = mode_name(s, mode, name, sizeof name);
    lab_prog_set_scenario(s->name, m);
    if (m)
        lab_banner("l%d.%s --mode=%s", prog->number, s->name, m);
    else
        lab_banner("l%d.%s", prog->number, s->name);
    int status = s->run(mode);
    /* Python's rule at the end of the main code: wait for the non-daemon threads. */
    lab_thread_join_nondaemon();
    return status;
}

/* On Ctrl-C in the guided demo: the scenario's child goes too (cleanup.c runs this in its handler). */
static volatile pid_t demo_child;
static void stop_demo_child(void *arg)
{
    (void)arg;
    pid_t pid = demo_child;
    if (pid > 0) {
        int st;
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
    }
}

/* The same in a forked child (for scenarios that end their process, like a watchdog): returns
 * the child's exit status, or 128+signal. */
static int run_one_in_child(const struct lab_scenario *s, int mode)
{
    fflush(stdout);
    fflush(stderr);
    int id = lab_cleanup_add(stop_demo_child, NULL);
    sigset_t old;
    lab_stop_signals_block(&old);   /* until demo_child is set */
    pid_t pid = fork();
    if (pid < 0)
        die("fork:");
    if (pid == 0)
        lab_cleanup_forget(id);
    else
        demo_child = pid;
    lab_stop_signals_restore(&old);
    if (pid == 0) {
        lab_thread_after_fork();
        lab_proc_after_fork();
        lab_prog_become_main();
        exit(run_one(s, mode));   /* exit, not _exit: this child is the scenario's main process */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid:");
    demo_child = 0;
    lab_cleanup_forget(id);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool in_demo;
bool lab_in_demo(void) { return in_demo; }

/* The guided demo: every scenario, every mode, in table order. */
static int guided_demo(void)
{
    int parts = 0, bad = 0;
    in_demo = true;
    lab_say("%s%s - lab %d: %s. The guided demo runs every scenario; `%s --list` names them.%s",
            lab_color(LAB_BOLD), lab_prog_name(), prog->number, prog->title, lab_prog_name(),
            lab_color(LAB_RESET));
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++) {
        int modes = mode_count(s);
        for (int k = 0; k < (modes ? modes : 1); k++) {
            int want = s->demo_status ? s->demo_status(k) : LAB_EXIT_OK;
            int got = (s->demo_status || s->demo_in_child) ? run_one_in_child(s, k) : run_one(s, k);
            parts++;
            if (got != want) {
                char name[64];
                const char *m = mode_name(s, k, name, sizeof name);
                bad++;
                lab_say("%sdemo: %s%s%s ended with status %d, expected %d%s", lab_color(LAB_RED), s->name,
                        m ? " --mode=" : "", m ? m : "", got, want, lab_color(LAB_RESET));
            }
            lab_say("%s", "");
        }
    }
    in_demo = false;
    if (bad == 0)
        lab_say("demo: %d parts, every one behaved as the lesson says", parts);
    else
        lab_say("demo: %d of %d parts did not behave as the lesson says", bad, parts);
    return bad ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}

int lab_main(const struct lab_program *p, int argc, char **argv)
{
    prog = p;
    lab_prog_set(p->number, argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void)lab_current_thread();   /* register MainThread */

    long long v = LAB_SECOND_MS_DEFAULT;
    env_number("LAB_SECOND_MS", 1, 60000, &v);
    lab_set_second_ms((long)v);
    v = 1;
    env_number("LAB_SEED", 0, LLONG_MAX, &v);
    lab_set_seed((uint64_t)v);
    lab_cleanup_install();

    const char *scenario = NULL, *mode = NULL, *trace_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help();
            return 0;
        }
        if (strcmp(a, "--list") == 0) {
            if (argc != 2)
                lab_usage_error("--list takes no other argument");
            print_list();
            return 0;
        }
        if (strcmp(a, "--bench") == 0) {
            if (p->bench == NULL)
                lab_usage_error("this lab has no benchmark");
            if (argc != 2)
                lab_usage_error("--bench takes no other argument");
            lab_prog_set_scenario("bench", NULL);   /* its RESULT line is "RESULT lN.bench ..." */
            return p->bench();
        }
        if (strncmp(a, "--trace", 7) == 0 && (a[7] == '\0' || a[7] == '=')) {   /* trace.h */
            const char *file = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : "");
            if (*file == '\0')
                lab_usage_error("option '--trace' needs a file name");
            trace_file = file;
            continue;
        }
        if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const char *val = eq ? eq + 1 : NULL;
            if (len == 4 && strncmp(name, "mode", 4) == 0) {
                if (!val) {
                    if (i + 1 >= argc)
                        lab_usage_error("option '--mode' needs a value");
                    val = argv[++i];
                }
                mode = val;
                continue;
            }
            struct lab_text_opt *t = find_text_opt(name, len);
            if (t) {
                if (!val) {
                    if (i + 1 >= argc)
                        lab_usage_error("option '--%s' needs a value", t->name);
                    val = argv[++i];
                }
                if (*val == '\0')
                    lab_usage_error("option '--%s' needs a value", t->name);
                t->value = val;
                t->given = true;
                continue;
            }
            struct lab_opt *o = find_opt(name, len);
            if (o == NULL)
                lab_usage_error("unknown option '--%.*s'", (int)len, name);
            if (is_flag(o)) {
                if (val)
                    lab_usage_error("option '--%s' takes no value", o->name);
                o->value = 1;
                o->given = true;
                continue;
            }
            if (!val) {
                if (i + 1 >= argc)
                    lab_usage_error("option '--%s' needs a number", o->name);
                val = argv[++i];
            }
            char err[160];
            if (lab_parse_ll(val, o->min, o->max, &o->value, err, sizeof err) != 0)
                lab_usage_error("bad value for --%s: %s", o->name, err);
            o->given = true;
            continue;
        }
        if (a[0] == '-')
            lab_usage_error("unknown option '%s'", a);
        if (scenario)
            lab_usage_error("unexpected argument '%s' (one scenario at a time)", a);
        scenario = a;
    }

    if (scenario == NULL) {
        if (mode)
            lab_usage_error("--mode needs a scenario");
        if (trace_file && lab_trace_open(trace_file) != 0)
            lab_usage_error("cannot write the trace file '%s': %s", trace_file, strerror(errno));
        int st = guided_demo();
        lab_thread_join_nondaemon();
        return st;
    }
    const struct lab_scenario *s = find_scenario(scenario);
    if (s == NULL)
        lab_usage_error("unknown scenario '%s' (see '%s --list')", scenario, lab_prog_name());
    int k = 0;
    if (mode) {
        if (s->modes == NULL)
            lab_usage_error("scenario '%s' has no modes (got --mode=%s)", s->name, mode);
        k = list_index(s->modes, mode, strlen(mode));
        if (k < 0)
            lab_usage_error("unknown mode '%s' for scenario '%s' (modes: %s)", mode, s->name, s->modes);
    }
    for (struct lab_opt *o = p->opts; o && o->name; o++)
        if (o->given && !in_list(s->opts, o->name, strlen(o->name)))
            lab_usage_error("option '--%s' does not apply to scenario '%s'", o->name, s->name);
    for (struct lab_text_opt *o = p->text_opts; o && o->name; o++)
        if (o->given && !in_list(s->opts, o->name, strlen(o->name)))
            lab_usage_error("option '--%s' does not apply to scenario '%s'", o->name, s->name);
    if (s->check)
        s->check();
    if (trace_file && lab_trace_open(trace_file) != 0)
        lab_usage_error("cannot write the trace file '%s': %s", trace_file, strerror(errno));
    return run_one(s, k);
}
