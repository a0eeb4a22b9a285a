/* common/cli.c - the lab contract's command line, guided demo and exit statuses; see cli.h. */
#include "cli.h"
#include "cleanup.h"
#include "prog.h"
#include "clock.h"
#include "die.h"
#include "out.h"
#include "proc.h"
#include "rng.h"
#include "shm.h"
#include "thread.h"
#include "timing.h"
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

/* --list: "name  description"; on a terminal the descriptions are aligned in one column (piped,
 * exactly two spaces, for scripts). */
static void print_list(void)
{
    int w = 0;
    if (isatty(STDOUT_FILENO))
        for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
            w = (int)strlen(s->name) > w ? (int)strlen(s->name) : w;
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        printf("%-*s  %s\n", w, s->name, s->summary);
}

/* Whether the lab has a bad case and its fix (a scenario with two modes or more). */
static bool has_pairs(void)
{
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        if (s->modes && strchr(s->modes, ','))
            return true;
    return false;
}

static void print_help(void)
{
    printf("Usage: %s [SCENARIO [--mode=MODE] [OPTIONS]]\n", lab_prog_name());
    printf("       %s --list | --help\n\n", lab_prog_name());
    printf("Lab %d - %s.\n", prog->number, prog->title);
    printf("With no arguments: the guided demo, every scenario in turn%s.\n",
           has_pairs() ? ", the bad case before the fix" : "");
    printf("--step (or LAB_STEP=1) pauses before each part on a terminal; --parts lists them.\n\n");
    printf("Scenarios:\n");
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++) {
        printf("  %-18s %s\n", s->name, s->summary);
        if (s->modes)
            printf("  %-18s   modes: %s (default %.*s)\n", "", s->modes, (int)strcspn(s->modes, ","), s->modes);
        if (s->opts)
            printf("  %-18s   options: %s\n", "", s->opts);
        if (s->bare_opt)
            printf("  %-18s   %s %s %s is %s %s --%s=%s\n", "", lab_prog_name(), s->name,
                   "NAME", "the same as", s->name, s->bare_opt, "NAME");
    }
    printf("\nOptions:\n");
    printf("  %-22s %s\n", "--list", "list the scenarios, one a line");
    printf("  %-22s %s\n", "--help", "show this text");
    printf("  %-22s %s\n", "--mode=MODE", "run the scenario in this mode");
    printf("  %-22s %s\n", "--trace=FILE", "write a timeline to FILE (open it in ui.perfetto.dev)");
    if (has_pairs())
        printf("  %-22s %s\n", "--mode=M1,M2 | all", "run modes one after the other, then compare");
    printf("  %-22s %s\n", "--step", "guided demo: a title and a pause (Enter; q quits) per part");
    printf("  %-22s %s\n", "--from=N", "guided demo: start at part N");
    printf("  %-22s %s\n", "--parts", "list the parts of the guided demo");
    printf("  %-22s %s\n", "--explain-exit=S", "say what exit status S means for this run (make lab-N)");
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
    printf("  %-22s %s\n", "NO_COLOR", "set: no colours (also off when stdout is not a terminal)");
    printf("  %-22s %s\n", "LAB_STEP", "1: the guided demo pauses before each part (as --step)");
    printf("\nExit status: 0 the lesson happened, 1 an invariant broke, 2 usage error, 3 a watchdog fired\n");
    printf("(CONTRACT.md).\n");
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
    lab_thread_program_start();   /* one program of the notes: its first unnamed thread is Thread-1 */
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

/* A part of a run: one mode of one scenario (the guided demo has one part per mode of each). */
struct part {
    const struct lab_scenario *s;
    int mode;
};

/* Every part of the guided demo, in table order; *n gets their number.  Free with free(). */
static struct part *demo_parts(int *n)
{
    int count = 0;
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        count += mode_count(s) ? mode_count(s) : 1;
    struct part *parts = xmalloc(sizeof *parts * (size_t)(count ? count : 1));
    int i = 0;
    for (const struct lab_scenario *s = prog->scenarios; s->name; s++)
        for (int k = 0; k < (mode_count(s) ? mode_count(s) : 1); k++)
            parts[i++] = (struct part){ .s = s, .mode = k };
    *n = count;
    return parts;
}

/* text cut to at most `cols` columns (a UTF-8 character counts one, a CJK one two), with "…" at
 * the end when it was cut. */
static const char *fit(char *buf, size_t len, const char *text, int cols)
{
    int used = 0;
    size_t i = 0, keep = 0;
    while (text[i]) {
        unsigned char c = (unsigned char)text[i];
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        int w = c >= 0xe0 ? 2 : 1;
        if (used + w > cols - 1 && keep == 0)
            keep = i;
        used += w;
        i += n;
        if (i > strlen(text))
            i = strlen(text);
    }
    if (used <= cols || keep == 0)
        snprintf(buf, len, "%s", text);
    else
        snprintf(buf, len, "%.*s…", (int)keep, text);
    return buf;
}

/* "l3.tickets --mode=nolock" */
static void part_name(const struct part *p, char *buf, size_t len)
{
    char mbuf[64];
    const char *m = mode_name(p->s, p->mode, mbuf, sizeof mbuf);
    snprintf(buf, len, "l%d.%s%s%s", prog->number, p->s->name, m ? " --mode=" : "", m ? m : "");
}

/* --parts: the parts of the guided demo, numbered for --from, aligned. */
static void print_parts(void)
{
    int n;
    struct part *parts = demo_parts(&n);
    int w = 0;
    char name[128];
    for (int i = 0; i < n; i++) {
        part_name(&parts[i], name, sizeof name);
        w = (int)strlen(name) > w ? (int)strlen(name) : w;
    }
    for (int i = 0; i < n; i++) {
        char sum[512];
        part_name(&parts[i], name, sizeof name);
        bool first = i == 0 || parts[i - 1].s != parts[i].s;   /* the summary once per scenario */
        fit(sum, sizeof sum, first ? parts[i].s->summary : "", 100 - 6 - w);
        printf("%2d  %-*s%s%s\n", i + 1, first && *sum ? w : 0, name, first && *sum ? "  " : "", sum);
    }
    free(parts);
}

/* Step mode: a title line before each part, then wait for Enter.  False: the user quit (q, EOF). */
static bool step_pause(const struct part *p, int i, int n)
{
    char name[128], buf[128], title[512], sum[512];
    part_name(p, name, sizeof name);
    snprintf(title, sizeof title, "-- part %d/%d: %s: %s", i + 1, n, name, p->s->summary);
    lab_say("%s%s%s", lab_color(LAB_CYAN), fit(sum, sizeof sum, title, 100), lab_color(LAB_RESET));
    lab_say("%s   Enter: run it    q: quit%s", lab_color(LAB_DIM), lab_color(LAB_RESET));
    if (fgets(buf, sizeof buf, stdin) == NULL)
        return false;
    bool quit = buf[0] == 'q' || buf[0] == 'Q';
    while (strchr(buf, '\n') == NULL && fgets(buf, sizeof buf, stdin) != NULL)
        ;   /* the rest of a long line */
    return !quit;
}

/* The exit status a part has when it behaves as the lesson says. */
static int part_expected(const struct part *p) { return p->s->demo_status ? p->s->demo_status(p->mode) : LAB_EXIT_OK; }

#define RECORD_LEN 1024
enum { MAXKEYS = 64, MAXCOL = 8 };

/* The "key=value" words of several RESULT lines, each key cut at its '=' (value after the NUL). */
struct words {
    char *w[MAXCOL][MAXKEYS];
    int n[MAXCOL];
};

static const char *value_of(const struct words *t, int i, const char *key)
{
    for (int j = 0; j < t->n[i]; j++)
        if (strcmp(t->w[i][j], key) == 0)
            return t->w[i][j] + strlen(key) + 1;
    return "-";
}

/* The RESULT keys that differ between the recorded lines of parts (one scenario, several modes):
 * a small table, key down, one column per mode. */
static void compare_table(const struct part *parts, int n, const char *records)
{
    char lines[MAXCOL][RECORD_LEN];
    const char *keys[MAXKEYS];
    int nkeys = 0;
    struct words t;
    n = n > MAXCOL ? MAXCOL : n;
    for (int i = 0; i < n; i++) {   /* the words of each line, but RESULT, lN.x and mode= */
        snprintf(lines[i], RECORD_LEN, "%s", records + (size_t)i * RECORD_LEN);
        t.n[i] = 0;
        char *save = NULL;
        for (char *w = strtok_r(lines[i], " ", &save); w; w = strtok_r(NULL, " ", &save))
            if (strchr(w, '=') && strncmp(w, "mode=", 5) != 0 && t.n[i] < MAXKEYS) {
                w[strcspn(w, "=")] = '\0';
                t.w[i][t.n[i]++] = w;
            }
    }
    for (int i = 0; i < n; i++)   /* the keys, in the order they first appear */
        for (int j = 0; j < t.n[i]; j++) {
            bool seen = false;
            for (int k = 0; k < nkeys && !seen; k++)
                seen = strcmp(keys[k], t.w[i][j]) == 0;
            if (!seen && nkeys < MAXKEYS)
                keys[nkeys++] = t.w[i][j];
        }
    bool differ[MAXKEYS];
    int kw = 3, vw = 4, rows = 0;
    char mbuf[64];
    for (int i = 0; i < n; i++) {
        const char *m = mode_name(parts[i].s, parts[i].mode, mbuf, sizeof mbuf);
        vw = m && (int)strlen(m) > vw ? (int)strlen(m) : vw;
    }
    for (int k = 0; k < nkeys; k++) {
        differ[k] = false;
        for (int i = 1; i < n; i++)
            differ[k] |= strcmp(value_of(&t, i, keys[k]), value_of(&t, 0, keys[k])) != 0;
        if (!differ[k])
            continue;
        rows++;
        kw = (int)strlen(keys[k]) > kw ? (int)strlen(keys[k]) : kw;
        for (int i = 0; i < n; i++)
            vw = (int)strlen(value_of(&t, i, keys[k])) > vw ? (int)strlen(value_of(&t, i, keys[k])) : vw;
    }
    kw = kw > 20 ? 20 : kw;
    int room = (96 - kw) / n - 2;
    vw = vw > room ? room : vw;
    vw = vw < 4 ? 4 : vw;
    lab_say("%scompare l%d.%s: the RESULT keys that differ between the modes%s", lab_color(LAB_BOLD),
            prog->number, parts[0].s->name, lab_color(LAB_RESET));
    if (rows == 0) {
        lab_say("  (none: every key has the same value in every mode)");
        return;
    }
    char line[256];
    int len = snprintf(line, sizeof line, "  %-*s", kw, "key");
    for (int i = 0; i < n && len < (int)sizeof line; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, "  %-*.*s", i + 1 < n ? vw : 0, vw,
                        mode_name(parts[i].s, parts[i].mode, mbuf, sizeof mbuf));
    lab_say("%s", line);
    for (int k = 0; k < nkeys; k++) {
        if (!differ[k])
            continue;
        len = snprintf(line, sizeof line, "  %-*.*s", kw, kw, keys[k]);
        for (int i = 0; i < n && len < (int)sizeof line; i++)
            len += snprintf(line + len, sizeof line - (size_t)len, "  %-*.*s", i + 1 < n ? vw : 0, vw,
                            value_of(&t, i, keys[k]));
        lab_say("%s", line);
    }
}

/* Run parts[first..n-1] one after the other, each as the guided demo runs it (a scenario that
 * ends its process runs in a child).  step: pause before each (on a terminal).  compare: record
 * the RESULT lines and end with the table of the keys that differ.  Returns the number of parts
 * that did not end with their expected status, or -1 when the user quit. */
static int run_parts(const struct part *parts, int n, int first, bool step, bool compare, int *ran)
{
    int bad = 0;
    char *records = NULL;
    *ran = 0;
    (void)lab_timing_unshown(NULL, 0);   /* the shared count, made before any part forks */
    if (compare)
        records = lab_shared_alloc((size_t)n * RECORD_LEN);
    for (int i = first; i < n; i++) {
        const struct part *p = &parts[i];
        if (step && !step_pause(p, i, n)) {
            lab_say("demo: stopped before part %d of %d (q); `%s --from=%d` goes on from there", i + 1, n,
                    lab_prog_name(), i + 1);
            lab_shared_free(records, (size_t)n * RECORD_LEN);
            return -1;
        }
        if (records)
            lab_result_record(records + (size_t)i * RECORD_LEN, RECORD_LEN);
        int want = part_expected(p);
        int got = (p->s->demo_status || p->s->demo_in_child) ? run_one_in_child(p->s, p->mode)
                                                             : run_one(p->s, p->mode);
        lab_result_record(NULL, 0);
        (*ran)++;
        if (got != want) {
            char name[128];
            part_name(p, name, sizeof name);
            bad++;
            lab_say("%sdemo: %s ended with status %d, expected %d%s", lab_color(LAB_RED), name, got, want,
                    lab_color(LAB_RESET));
        }
        lab_say("%s", "");
    }
    if (records) {
        compare_table(parts + first, n - first, records + (size_t)first * RECORD_LEN);
        lab_shared_free(records, (size_t)n * RECORD_LEN);
    }
    return bad;
}

/* The final verdict line: green when every part behaved, red otherwise.  A timing part that could
 * not show its effect on this machine now (timing.h) is not counted as behaved, and is no failure. */
static int verdict(int bad, int ran, const char *what)
{
    char names[400];
    int unshown = lab_timing_unshown(names, sizeof names);
    if (bad == 0 && unshown > 0) {
        lab_say("%s: the timing parts that could not be shown on this machine now: %s", what, names);
        lab_say("%s%s: %d parts, %d behaved as the lesson says; %d could not show their timing here now%s",
                lab_color(LAB_YELLOW), what, ran, ran - unshown, unshown, lab_color(LAB_RESET));
    } else if (bad == 0)
        lab_say("%s%s: %d parts, every one behaved as the lesson says%s", lab_color(LAB_GREEN), what, ran,
                lab_color(LAB_RESET));
    else
        lab_say("%s%s: %d of %d parts did not behave as the lesson says%s", lab_color(LAB_RED), what, bad, ran,
                lab_color(LAB_RESET));
    return bad ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}

/* The guided demo: every scenario, every mode, in table order, from part `from` (1-based). */
static int guided_demo(bool step, int from)
{
    int n, ran;
    struct part *parts = demo_parts(&n);
    in_demo = true;
    lab_say("%s%s - lab %d: %s.%s", lab_color(LAB_BOLD), lab_prog_name(), prog->number, prog->title,
            lab_color(LAB_RESET));
    lab_say("The guided demo runs every scenario; `%s --parts` numbers them, `--step` pauses.", lab_prog_name());
    if (step)
        lab_say("step mode: a title and a pause before each of the %d parts (`%s --parts` lists them)", n,
                lab_prog_name());
    int bad = run_parts(parts, n, from - 1, step, false, &ran);
    in_demo = false;
    free(parts);
    if (bad < 0)
        return LAB_EXIT_OK;
    return verdict(bad, ran, "demo");
}

/* Levenshtein distance, for "did you mean". */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            best = d[i - 1][j] + 1 < best ? d[i - 1][j] + 1 : best;
            best = d[i][j - 1] + 1 < best ? d[i][j - 1] + 1 : best;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;   /* two letters swapped */
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The closest of the comma-separated words of `list` to `word` (in buf), or NULL if none is close. */
static const char *closest(const char *list, const char *word, char *buf, size_t len)
{
    int best = 3;   /* at most 2 edits (1 for very short words) */
    const char *found = NULL;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char cand[64];
        snprintf(cand, sizeof cand, "%.*s", (int)n, p);
        int d = distance(cand, word);
        int limit = strlen(word) <= 3 ? 1 : 2;
        if (d <= limit && d < best) {
            best = d;
            snprintf(buf, len, "%s", cand);
            found = buf;
        }
        p = p[n] ? p + n + 1 : NULL;
    }
    return found;
}

/* --explain-exit=S: one line saying what status S of this run means; returns 0 when S is what
 * the lesson expects (make lab-N does not fail), S otherwise. */
static int explain_exit(int st, int want)
{
    char text[160];
    bool ok = st == want;
    if (st == 0)
        snprintf(text, sizeof text, "exit 0: the lesson happened, nothing failed");
    else if (ok && st == LAB_EXIT_WATCHDOG)
        snprintf(text, sizeof text, "exit 3: the watchdog ended the deadlock, as the lesson says (not a failure)");
    else if (ok && st == LAB_EXIT_BROKEN)
        snprintf(text, sizeof text, "exit 1: the invariant broke, as this bad case is meant to show (not a failure)");
    else if (ok)
        snprintf(text, sizeof text, "exit %d: as the lesson says (not a failure)", st);
    else if (st == LAB_EXIT_BROKEN)
        snprintf(text, sizeof text, "exit 1: an invariant broke: a real failure (see the lines above)");
    else if (st == LAB_EXIT_USAGE)
        snprintf(text, sizeof text, "exit 2: a usage error (the line above names the bad argument)");
    else if (st == LAB_EXIT_WATCHDOG)
        snprintf(text, sizeof text, "exit 3: a watchdog stopped a deadlock this run was not meant to have");
    else if (st > 128 && st < 128 + 65)
        snprintf(text, sizeof text, "exit %d: stopped by signal %d (%s)", st, st - 128, strsignal(st - 128));
    else
        snprintf(text, sizeof text, "exit %d: not a status of the lab contract: a real failure", st);
    lab_say("%s%s%s", lab_color(ok ? LAB_GREEN : LAB_RED), text, lab_color(LAB_RESET));
    return ok ? 0 : st;
}

int lab_main(const struct lab_program *p, int argc, char **argv)
{
    prog = p;
    lab_prog_set(p->number, argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void)lab_current_thread();   /* register MainThread */

    /* --explain-exit=S (make lab-N, after the run): a usage error or a signal needs no parsing. */
    long long explain = -1;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--explain-exit=", 15) == 0) {
            char err[160];
            if (explain >= 0)
                lab_usage_error("option '--explain-exit' given twice");
            if (lab_parse_ll(argv[i] + 15, 0, 255, &explain, err, sizeof err) != 0)
                lab_usage_error("bad value for --explain-exit: %s", err);
            if (explain == LAB_EXIT_USAGE || explain > 128)
                return explain_exit((int)explain, 0);
            for (int j = i; j < argc; j++)   /* the rest is the run it explains */
                argv[j] = argv[j + 1];
            argc--;
            i--;
        }

    long long v = LAB_SECOND_MS_DEFAULT;
    env_number("LAB_SECOND_MS", 1, 60000, &v);
    lab_set_second_ms((long)v);
    v = 1;
    env_number("LAB_SEED", 0, LLONG_MAX, &v);
    lab_set_seed((uint64_t)v);
    long long step_env = 0;
    env_number("LAB_STEP", 0, 1, &step_env);
    lab_cleanup_install();

    const char *scenario = NULL, *mode = NULL, *trace_file = NULL, *bare = NULL;
    bool step = false, list_parts = false;
    long long from = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (explain >= 0 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--list") == 0 ||
                             strcmp(a, "--bench") == 0))
            return explain_exit((int)explain, 0);
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
        if (strcmp(a, "--step") == 0) {
            if (step)
                lab_usage_error("option '--step' given twice");
            step = true;
            continue;
        }
        if (strcmp(a, "--parts") == 0) {
            list_parts = true;
            continue;
        }
        if (strncmp(a, "--from", 6) == 0 && (a[6] == '=' || a[6] == '\0')) {
            const char *val = a[6] == '=' ? a + 7 : NULL;
            if (from)
                lab_usage_error("option '--from' given twice");
            if (!val) {
                if (i + 1 >= argc)
                    lab_usage_error("option '--from' needs a number");
                val = argv[++i];
            }
            char err[160];
            if (lab_parse_ll(val, 1, 100000, &from, err, sizeof err) != 0)
                lab_usage_error("bad value for --from: %s", err);
            continue;
        }
        if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const char *val = eq ? eq + 1 : NULL;
            if (len == 4 && strncmp(name, "mode", 4) == 0) {
                if (mode)
                    lab_usage_error("option '--mode' given twice (--mode=a,b runs several modes)");
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
                if (t->given)
                    lab_usage_error("option '--%s' given twice", t->name);
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
            if (o->given)
                lab_usage_error("option '--%s' given twice", o->name);
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
        if (scenario && bare)
            lab_usage_error("unexpected argument '%s' (one scenario at a time)", a);
        if (scenario)
            bare = a;        /* a scenario may take it as one of its text options (.bare_opt) */
        else
            scenario = a;
    }
    /* Step mode pauses only when someone can press Enter: never in a pipe or a test. */
    bool want_step = step || step_env;
    step = want_step && isatty(STDIN_FILENO);

    if (scenario == NULL) {
        if (mode)
            lab_usage_error("--mode needs a scenario");
        int n;
        free(demo_parts(&n));
        if (from > n)
            lab_usage_error("bad value for --from: the guided demo has %d parts (see '%s --parts')", n,
                            lab_prog_name());
        if (list_parts) {
            if (step || from)
                lab_usage_error("--parts takes no other argument");
            print_parts();
            return 0;
        }
        if (explain >= 0)
            return explain_exit((int)explain, 0);
        if (trace_file && lab_trace_open(trace_file) != 0)
            lab_usage_error("cannot write the trace file '%s': %s", trace_file, strerror(errno));
        lab_out_install();   /* human lines wrapped at LAB_COLUMNS, on a terminal or piped */
        int st = guided_demo(step, from ? (int)from : 1);
        lab_thread_join_nondaemon();
        return st;
    }
    if (list_parts || from)
        lab_usage_error("%s is for the guided demo (no scenario)", list_parts ? "--parts" : "--from");
    const struct lab_scenario *s = find_scenario(scenario);
    if (s == NULL) {
        char names[2048] = "", buf[64];
        size_t len = 0;
        for (const struct lab_scenario *q = prog->scenarios; q->name && len < sizeof names - 64; q++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? "," : "", q->name);
        const char *near = closest(names, scenario, buf, sizeof buf);
        if (near)
            lab_usage_error("unknown scenario '%s' (did you mean '%s'? see '%s --list')", scenario, near,
                            lab_prog_name());
        lab_usage_error("unknown scenario '%s' (see '%s --list')", scenario, lab_prog_name());
    }
    if (bare) {
        struct lab_text_opt *t = s->bare_opt ? find_text_opt(s->bare_opt, strlen(s->bare_opt)) : NULL;
        if (t == NULL)
            lab_usage_error("unexpected argument '%s' (one scenario at a time)", bare);
        if (t->given)
            lab_usage_error("option '--%s' given twice ('%s' and '%s')", t->name, t->value, bare);
        t->value = bare;
        t->given = true;
    }
    int k = 0, nmodes = 0;
    int modes[MAXCOL];
    if (mode) {
        if (s->modes == NULL)
            lab_usage_error("scenario '%s' has no modes (got --mode=%s)", s->name, mode);
        if (strcmp(mode, "all") == 0 && list_index(s->modes, "all", 3) < 0) {
            for (int m = 0; m < mode_count(s) && nmodes < MAXCOL; m++)
                modes[nmodes++] = m;
        } else {
            for (const char *q = mode; q;) {
                size_t len = strcspn(q, ",");
                int m = list_index(s->modes, q, len);
                if (m < 0) {
                    char word[64], buf[64];
                    snprintf(word, sizeof word, "%.*s", (int)len, q);
                    const char *near = closest(s->modes, word, buf, sizeof buf);
                    lab_usage_error("unknown mode '%s' for scenario '%s' (%s%s%smodes: %s)", word, s->name,
                                    near ? "did you mean '" : "", near ? near : "", near ? "'? " : "", s->modes);
                }
                for (int j = 0; j < nmodes; j++)
                    if (modes[j] == m)
                        lab_usage_error("mode '%.*s' given twice in --mode=%s", (int)len, q, mode);
                if (nmodes == MAXCOL)
                    lab_usage_error("at most %d modes at once", MAXCOL);
                modes[nmodes++] = m;
                q = q[len] ? q + len + 1 : NULL;
            }
        }
        k = modes[0];
    }
    if (want_step && nmodes < 2)
        lab_usage_error("--step pauses between parts: the guided demo or --mode=a,b");
    for (struct lab_opt *o = p->opts; o && o->name; o++)
        if (o->given && !in_list(s->opts, o->name, strlen(o->name)))
            lab_usage_error("option '--%s' does not apply to scenario '%s'", o->name, s->name);
    for (struct lab_text_opt *o = p->text_opts; o && o->name; o++)
        if (o->given && !in_list(s->opts, o->name, strlen(o->name)))
            lab_usage_error("option '--%s' does not apply to scenario '%s'", o->name, s->name);
    if (s->check)
        s->check();
    if (explain < 0 && trace_file && lab_trace_open(trace_file) != 0)
        lab_usage_error("cannot write the trace file '%s': %s", trace_file, strerror(errno));
    if (explain < 0)
        lab_out_install();   /* human lines wrapped at LAB_COLUMNS, on a terminal or piped */
    if (nmodes >= 2) {
        /* The bad case and its fix one after the other, then the keys that differ. */
        struct part parts[MAXCOL];
        for (int j = 0; j < nmodes; j++)
            parts[j] = (struct part){ .s = s, .mode = modes[j] };
        if (explain >= 0)
            return explain_exit((int)explain, 0);
        int ran;
        int bad = run_parts(parts, nmodes, 0, step, true, &ran);
        lab_thread_join_nondaemon();
        return bad < 0 ? LAB_EXIT_OK : verdict(bad, ran, s->name);
    }
    if (explain >= 0)
        return explain_exit((int)explain, part_expected(&(struct part){ .s = s, .mode = k }));
    return run_one(s, k);
}
