/* labs/13-scheduling/workload.c - the jobs a scheduler is given: the notes' workloads, --jobs,
 * --workload FILE, --random.
 *
 * A file holds one job a line, "name arrival burst [io burst ...]": the job arrives at `arrival`,
 * computes `burst` ticks, then (if more numbers follow) waits `io` ticks for a device and computes
 * again.  '#' starts a comment; blank lines are skipped.  Any mistake is a usage error naming the
 * file and line (exit 2), never a silent default.
 */
#include "lab.h"
#include "lab13.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_JOBS 200000
#define MAX_PHASES 64
#define MAX_TICKS 1000000000L

static void add_job(struct workload *w, size_t *cap, const char *name, long arrival, const long *phases,
                    int nphases)
{
    if (w->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        struct job *bigger = realloc(w->jobs, *cap * sizeof *bigger);
        if (bigger == NULL)
            die("realloc:");
        w->jobs = bigger;
    }
    struct job *j = &w->jobs[w->n++];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "%s", name);
    j->arrival = arrival;
    j->nphases = nphases;
    j->phases = xmalloc((size_t)nphases * sizeof *j->phases);
    for (int i = 0; i < nphases; i++) {
        j->phases[i] = phases[i];
        if (i % 2 == 0)
            j->cpu_total += phases[i];
    }
    if (nphases > 1)
        w->has_io = true;
}

void l13_workload_builtin(struct workload *w, const char *name)
{
    static const struct { const char *wl, *name; long arrival; long phases[3]; int n; } table[] = {
        /* W1: the four processes of the textbooks' scheduling chapter */
        { "W1", "P1", 0, { 7 }, 1 }, { "W1", "P2", 2, { 4 }, 1 },
        { "W1", "P3", 4, { 1 }, 1 }, { "W1", "P4", 5, { 4 }, 1 },
        /* W3: one long job listed first, then three short ones: who does each algorithm favour? */
        { "W3", "L", 0, { 20 }, 1 },  { "W3", "S1", 0, { 2 }, 1 },
        { "W3", "S2", 0, { 2 }, 1 },  { "W3", "S3", 0, { 2 }, 1 },
        /* states: CPU and IO, for the state diagram */
        { "states", "A", 0, { 2, 3, 1 }, 3 }, { "states", "B", 0, { 3 }, 1 },
        { "states", "C", 1, { 1, 2, 2 }, 3 },
    };
    memset(w, 0, sizeof *w);
    size_t cap = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(table[i].wl, name) == 0) {
            snprintf(w->name, sizeof w->name, "%s", table[i].wl);
            add_job(w, &cap, table[i].name, table[i].arrival, table[i].phases, table[i].n);
        }
    if (w->n == 0) {
        fprintf(stderr, "lab13: bug: no built-in workload '%s'\n", name);
        abort();
    }
}

/* A whole non-negative number token: 0 on success. */
static int number(const char *tok, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (*tok == '\0' || *end != '\0' || errno == ERANGE || !isdigit((unsigned char)*tok) || v < min || v > MAX_TICKS)
        return -1;
    *out = v;
    return 0;
}

void l13_workload_jobs(struct workload *w, const char *list)
{
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "jobs");
    size_t cap = 0;
    const char *p = list;
    for (;;) {
        char tok[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok)
            lab_usage_error("bad --jobs '%s': expected run times like 7,4,1,4", list);
        memcpy(tok, p, len);
        tok[len] = '\0';
        long burst;
        if (number(tok, 1, &burst) != 0)
            lab_usage_error("bad --jobs '%s': '%s' is not a run time of at least 1 tick", list, tok);
        if (w->n >= MAX_JOBS)
            lab_usage_error("bad --jobs: more than %d jobs", MAX_JOBS);
        char name[32];
        snprintf(name, sizeof name, "J%zu", w->n);
        add_job(w, &cap, name, 0, &burst, 1);
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
}

/* Read one job from a line; 1 a job, 0 a blank or comment line.  Errors are usage errors. */
static int parse_line(char *line, const char *path, long lineno, char *name, long *arrival, long *phases,
                      int *nphases)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *tok = strtok_r(line, " \t\r\n", &save);
    if (tok == NULL)
        return 0;
    if (strlen(tok) >= 16 || isdigit((unsigned char)tok[0]))
        lab_usage_error("%s:%ld: '%s' is not a job name (a word of at most 15 characters)", path, lineno, tok);
    strcpy(name, tok);
    char *a = strtok_r(NULL, " \t\r\n", &save);
    if (a == NULL || number(a, 0, arrival) != 0)
        lab_usage_error("%s:%ld: job %s needs an arrival tick (a whole number >= 0)", path, lineno, name);
    int n = 0;
    while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
        if (n == MAX_PHASES)
            lab_usage_error("%s:%ld: job %s has more than %d bursts", path, lineno, name, MAX_PHASES);
        if (number(tok, 1, &phases[n]) != 0)
            lab_usage_error("%s:%ld: '%s' is not a burst of at least 1 tick", path, lineno, tok);
        n++;
    }
    if (n == 0)
        lab_usage_error("%s:%ld: job %s has no CPU burst", path, lineno, name);
    if (n % 2 == 0)
        lab_usage_error("%s:%ld: job %s ends with an IO wait; a job ends with a CPU burst", path, lineno, name);
    *nphases = n;
    return 1;
}

void l13_workload_file(struct workload *w, const char *path)
{
    memset(w, 0, sizeof *w);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        lab_usage_error("cannot read --workload %s: %s", path, strerror(errno));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(w->name, sizeof w->name, "%.*s", (int)strcspn(base, "."), base);
    size_t cap = 0;
    char line[1024];
    long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char name[16];
        long arrival, phases[MAX_PHASES];
        int n;
        if (parse_line(line, path, lineno, name, &arrival, phases, &n) == 0)
            continue;
        for (size_t i = 0; i < w->n; i++)
            if (strcmp(w->jobs[i].name, name) == 0) {
                fclose(f);
                lab_usage_error("%s:%ld: a second job named %s", path, lineno, name);
            }
        if (w->n >= MAX_JOBS) {
            fclose(f);
            lab_usage_error("%s:%ld: more than %d jobs", path, lineno, MAX_JOBS);
        }
        add_job(w, &cap, name, arrival, phases, n);
    }
    fclose(f);
    if (w->n == 0)
        lab_usage_error("--workload %s holds no job (one a line: name arrival burst [io burst ...])", path);
}

void l13_workload_random(struct workload *w, size_t n, unsigned long long seed, long maxlen)
{
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "random");
    struct lab_rng r;
    lab_rng_init(&r, seed);   /* the stream --seed picks, under LAB_SEED */
    size_t cap = n;
    w->jobs = xcalloc(cap, sizeof *w->jobs);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "J%zu", i);
        long burst = lab_rng_range(&r, 1, maxlen);
        add_job(w, &cap, name, 0, &burst, 1);
    }
}

void l13_workload_from_options(struct workload *w)
{
    int given = lab_opt_given("jobs") + lab_opt_given("workload") + (lab_opt("random") > 0);
    if (given > 1)
        lab_usage_error("give one workload: --jobs, --workload or --random");
    if (lab_opt_given("jobs"))
        l13_workload_jobs(w, lab_opt_text("jobs"));
    else if (lab_opt("random") > 0)
        l13_workload_random(w, (size_t)lab_opt("random"), (unsigned long long)lab_opt("seed"), (long)lab_opt("maxlen"));
    else if (lab_opt_given("workload")) {
        const char *name = lab_opt_text("workload");
        if (strcasecmp(name, "W1") == 0 || strcasecmp(name, "W3") == 0 || strcasecmp(name, "states") == 0)
            l13_workload_builtin(w, name);
        else
            l13_workload_file(w, name);
    } else
        l13_workload_builtin(w, "W1");
}

void l13_workload_reset(struct workload *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct job *j = &w->jobs[i];
        j->state = ST_NEW;
        j->phase = 0;
        j->left = j->phases[0];
        j->first_run = -1;
        j->finish = -1;
        j->waiting = 0;
        j->level = 0;
        j->used = 0;
        j->io_done = 0;
        j->tickets = 100;
    }
}

void l13_workload_free(struct workload *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->jobs[i].phases);
    free(w->jobs);
    memset(w, 0, sizeof *w);
}
