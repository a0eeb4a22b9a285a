/* common/cli.c - the lab contract's command line, guided demo and exit statuses; see cli.h. */
#include "cli.h"
#include "cleanup.h"
#include "clock.h"
#include "die.h"
#include "out.h"
#include "proc.h"
#include "rng.h"
#include "thread.h"

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
static char prog_name[16] = "lab";
static pid_t main_pid;
static char self_path[4096];

const char *lab_prog_name(void) { return prog_name; }
int lab_number(void) { return prog ? prog->number : 0; }
bool lab_is_main_process(void) { return main_pid == 0 || getpid() == main_pid; }
const char *lab_self_path(void) { return self_path; }

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
    fprintf(stderr, "Try '%s --help' for more information.\n", prog_name);
}

void lab_usage_error(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    hint();
    exit(2);
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
        fprintf(stderr, "%s: bug: no option '%s' in the lab's table\n", prog_name, name);
        abort();
    }
    return o->given ? o->value : o->def;
}

bool lab_opt_given(const char *name)
{
    struct lab_opt *o = find_opt(name, strlen(name));
    return o && o->given;
}

static bool is_flag(const struct lab_opt *o) { return o->min == 1 && o->max == 1 && o->def == 0; }

static const struct lab_scenario *find_scenario(const char *name)
{
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* Is `word` one of the comma-separated items of `list`? */
static bool in_list(const char *list, const char *word, size_t len)
{
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, word, len) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The first mode of a list ("nolock,lock" → "nolock"), in a static buffer per call site. */
static const char *first_mode(const char *modes, char *buf, size_t len)
{
    if (modes == NULL)
        return NULL;
    size_t n = strcspn(modes, ",");
    if (n >= len)
        n = len - 1;
    memcpy(buf, modes, n);
    buf[n] = '\0';
    return buf;
}

static void print_list(void)
{
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        printf("%s  %s\n", s->name, s->summary);
}

static void print_help(void)
{
    printf("Usage: %s [SCENARIO [--mode=MODE] [OPTIONS]]\n", prog_name);
    printf("       %s --list | --help\n\n", prog_name);
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

static int run_one(const struct lab_scenario *s, const char *mode)
{
    if (mode)
        lab_banner("l%d.%s --mode=%s", prog->number, s->name, mode);
    else
        lab_banner("l%d.%s", prog->number, s->name);
    int status = s->run(mode);
    /* Python's rule at the end of the main code: wait for the non-daemon threads. */
    lab_thread_join_nondaemon();
    return status;
}

int lab_run_scenario(const char *name, const char *mode)
{
    const struct lab_scenario *s = find_scenario(name);
    if (s == NULL) {
        fprintf(stderr, "%s: bug: no scenario '%s'\n", prog_name, name);
        abort();
    }
    char buf[64];
    return run_one(s, mode ? mode : first_mode(s->modes, buf, sizeof buf));
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

int lab_run_scenario_in_child(const char *name, const char *mode)
{
    fflush(stdout);
    fflush(stderr);
    int id = lab_cleanup_add(stop_demo_child, NULL);
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &old);   /* until demo_child is set */
    pid_t pid = fork();
    if (pid < 0)
        die("fork:");
    if (pid == 0)
        lab_cleanup_forget(id);
    else
        demo_child = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid == 0) {
        lab_thread_after_fork();
        lab_proc_after_fork();
        main_pid = getpid();
        int st = lab_run_scenario(name, mode);
        exit(st);   /* exit, not _exit: this child is the scenario's main process */
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

/* The default guided demo: every scenario, every mode, in table order. */
static int default_demo(void)
{
    int parts = 0, bad = 0;
    in_demo = true;
    lab_say("%s%s - lab %d: %s. The guided demo runs every scenario; `%s --list` names them.%s",
            lab_color(LAB_BOLD), prog_name, prog->number, prog->title, prog_name, lab_color(LAB_RESET));
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++) {
        const char *p = s->modes;
        do {
            char mode[64] = "";
            const char *m = NULL;
            if (p) {
                size_t n = strcspn(p, ",");
                snprintf(mode, sizeof mode, "%.*s", (int)n, p);
                m = mode;
                p = p[n] ? p + n + 1 : NULL;
            }
            int want = s->demo_status ? s->demo_status(m) : 0;
            int got = (s->demo_status || s->demo_in_child) ? lab_run_scenario_in_child(s->name, m)
                                                           : run_one(s, m);
            parts++;
            if (got != want) {
                bad++;
                lab_say("%sdemo: %s%s%s ended with status %d, expected %d%s", lab_color(LAB_RED), s->name,
                        m ? " --mode=" : "", m ? m : "", got, want, lab_color(LAB_RESET));
            }
            lab_say("%s", "");
        } while (p);
    }
    in_demo = false;
    if (bad == 0)
        lab_say("demo: %d parts, every one behaved as the lesson says", parts);
    else
        lab_say("demo: %d of %d parts did not behave as the lesson says", bad, parts);
    return bad ? 1 : 0;
}

int lab_main(const struct lab_program *p, int argc, char **argv)
{
    prog = p;
    main_pid = getpid();
    snprintf(prog_name, sizeof prog_name, "lab%02d", p->number);
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0)
        self_path[n] = '\0';
    else
        snprintf(self_path, sizeof self_path, "%s", argv[0]);
    (void)lab_current_thread();   /* register MainThread */

    long long v = LAB_SECOND_MS_DEFAULT;
    env_number("LAB_SECOND_MS", 1, 60000, &v);
    lab_set_second_ms((long)v);
    v = 1;
    env_number("LAB_SEED", 0, LLONG_MAX, &v);
    lab_set_seed((uint64_t)v);
    lab_cleanup_install();

    const char *scenario = NULL, *mode = NULL;
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
            return p->bench();
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
        int st = p->demo ? p->demo() : default_demo();
        lab_thread_join_nondaemon();
        return st;
    }
    const struct lab_scenario *s = find_scenario(scenario);
    if (s == NULL)
        lab_usage_error("unknown scenario '%s' (see '%s --list')", scenario, prog_name);
    if (mode) {
        if (s->modes == NULL)
            lab_usage_error("scenario '%s' has no modes (got --mode=%s)", s->name, mode);
        if (!in_list(s->modes, mode, strlen(mode)))
            lab_usage_error("unknown mode '%s' for scenario '%s' (modes: %s)", mode, s->name, s->modes);
    }
    for (struct lab_opt *o = p->opts; o && o->name; o++)
        if (o->given && !in_list(s->opts, o->name, strlen(o->name)))
            lab_usage_error("option '--%s' does not apply to scenario '%s'", o->name, s->name);
    char buf[64];
    return run_one(s, mode ? mode : first_mode(s->modes, buf, sizeof buf));
}
