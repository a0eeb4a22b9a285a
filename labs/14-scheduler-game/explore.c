/* labs/14-scheduler-game/explore.c - every interleaving: the scenarios `explore` and `levels`.
 *
 * What it shows: a program of a few threads has few enough schedules that a machine can try them
 * all, the idea of systematic concurrency testers (CHESS, loom, Fray).  Depth first from the start,
 * one branch per thread that can step; the game ends at the goal or when nobody can step.  Two
 * schedules that reach the same state (same variables, same owners, same places in the code) go on
 * the same way, so each state is explored once and remembers how many complete schedules start from
 * it and how many of them reach the goal: the counts are exact, the work is the number of states.
 * A breadth-first search finds a shortest schedule that reaches the goal.  For a fixed twin, "bad=0
 * and complete" is a proof by exhaustion: no schedule at all, not just none we tried.
 *
 * Python has no such tool in the notes; their races show up or not, by luck.  The labs 3, 5, 7, 8,
 * 9 force one bad schedule on real threads; here that schedule is one of the `bad` ones.
 * Usage: build/lab14 explore [--level NAME] [--max-states N] | build/lab14 levels
 * Watch: schedules grow like (steps)! / (steps per thread)!^threads, states far more slowly.
 */
#include "lab.h"
#include "lab14.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== The state table: open addressing over an array of nodes ==== */

struct node {
    struct l14_state s;
    uint64_t count, bad;     /* complete schedules from here, and those that reach the goal */
    int32_t parent;          /* breadth first: where we came from, and by which move */
    int8_t move;
    uint8_t mark;            /* depth first: 0 new, 1 on the path, 2 counted */
};

struct table {
    struct node *nodes;
    size_t n, cap, max;
    int32_t *slots;          /* -1 empty, else an index into nodes */
    size_t nslots;
};

static uint64_t hash(const struct l14_state *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < sizeof *s; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void table_init(struct table *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->nslots = 1024;
    t->slots = xmalloc(t->nslots * sizeof *t->slots);
    memset(t->slots, 0xff, t->nslots * sizeof *t->slots);
}

static void table_free(struct table *t)
{
    free(t->nodes);
    free(t->slots);
}

static void table_grow(struct table *t)
{
    free(t->slots);
    t->nslots *= 2;
    t->slots = xmalloc(t->nslots * sizeof *t->slots);
    memset(t->slots, 0xff, t->nslots * sizeof *t->slots);
    for (size_t i = 0; i < t->n; i++) {
        size_t k = hash(&t->nodes[i].s) & (t->nslots - 1);
        while (t->slots[k] >= 0)
            k = (k + 1) & (t->nslots - 1);
        t->slots[k] = (int32_t)i;
    }
}

/* The index of state s, added if new; -1 when the table is full (the level is too large). */
static int32_t table_find(struct table *t, const struct l14_state *s, bool *added)
{
    *added = false;
    size_t k = hash(s) & (t->nslots - 1);
    for (; t->slots[k] >= 0; k = (k + 1) & (t->nslots - 1))
        if (memcmp(&t->nodes[t->slots[k]].s, s, sizeof *s) == 0)
            return t->slots[k];
    if (t->n == t->max)
        return -1;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->nodes = realloc(t->nodes, t->cap * sizeof *t->nodes);
        if (t->nodes == NULL)
            die("realloc:");
    }
    struct node *nd = &t->nodes[t->n];
    memset(nd, 0, sizeof *nd);
    nd->s = *s;
    nd->parent = -1;
    t->slots[k] = (int32_t)t->n;
    *added = true;
    t->n++;
    if (2 * t->n > t->nslots)
        table_grow(t);
    return (int32_t)(t->n - 1);
}

static uint64_t sat_add(uint64_t a, uint64_t b, bool *sat)
{
    if (a > UINT64_MAX - b) {
        *sat = true;
        return UINT64_MAX;
    }
    return a + b;
}

/* ==== Breadth first: a shortest winning schedule ==== */

int l14_shortest_from(const struct l14_level *lv, const struct l14_state *start, size_t max_states, int *moves,
                      int max)
{
    struct table t;
    table_init(&t, max_states);
    bool added;
    (void)table_find(&t, start, &added);
    int found = -1;
    for (size_t q = 0; q < t.n && found < 0; q++) {   /* the nodes, in order, are the queue */
        if (l14_goal(lv, &t.nodes[q].s)) {
            found = (int)q;
            break;
        }
        if (l14_over(lv, &t.nodes[q].s))
            continue;
        for (int th = 0; th < lv->nthreads; th++) {
            struct l14_state next = t.nodes[q].s;
            if (l14_step(lv, &next, th, NULL, 0) != STEP_OK)
                continue;
            int32_t c = table_find(&t, &next, &added);
            if (c >= 0 && added) {
                t.nodes[c].parent = (int32_t)q;
                t.nodes[c].move = (int8_t)(th + 1);
            }
        }
    }
    int len = -1;
    if (found >= 0) {
        len = 0;
        for (int32_t i = found; t.nodes[i].parent >= 0; i = t.nodes[i].parent)
            len++;
        if (len > max)
            len = max;   /* cannot happen with the shipped limits; keep the head */
        int k = len;
        for (int32_t i = found; t.nodes[i].parent >= 0 && k > 0; i = t.nodes[i].parent)
            moves[--k] = t.nodes[i].move;
    }
    table_free(&t);
    return len;
}

/* ==== Depth first: every complete schedule, counted per state ==== */

struct frame {
    int32_t node;
    int next;    /* the next thread to try */
};

void l14_explore(const struct l14_level *lv, size_t max_states, struct l14_explore *x)
{
    memset(x, 0, sizeof *x);
    x->complete = true;
    struct table t;
    table_init(&t, max_states);
    struct l14_state s0;
    l14_state_init(lv, &s0);
    bool added;
    size_t cap = 256, depth = 0;
    struct frame *stack = xmalloc(cap * sizeof *stack);
    stack[depth++] = (struct frame){ .node = table_find(&t, &s0, &added), .next = 0 };
    t.nodes[0].mark = 1;
    while (depth > 0) {
        struct frame *f = &stack[depth - 1];
        if (f->next == 0 && l14_over(lv, &t.nodes[f->node].s)) {
            t.nodes[f->node].count = 1;
            t.nodes[f->node].bad = l14_goal(lv, &t.nodes[f->node].s);
            f->next = lv->nthreads;
        }
        bool pushed = false;
        while (f->next < lv->nthreads && !pushed) {
            struct l14_state next = t.nodes[f->node].s;
            int th = f->next++;
            if (l14_step(lv, &next, th, NULL, 0) != STEP_OK)
                continue;
            int32_t c = table_find(&t, &next, &added);
            if (c < 0) {
                x->complete = false;
                continue;
            }
            struct node *nd = &t.nodes[c], *me = &t.nodes[f->node];
            if (nd->mark == 0) {
                nd->mark = 1;
                if (depth == cap) {
                    cap *= 2;
                    stack = realloc(stack, cap * sizeof *stack);
                    if (stack == NULL)
                        die("realloc:");
                }
                stack[depth++] = (struct frame){ .node = c, .next = 0 };
                pushed = true;
            } else if (nd->mark == 1) {
                x->cyclic = true;   /* a schedule that can go round forever */
            } else {
                me->count = sat_add(me->count, nd->count, &x->saturated);
                me->bad = sat_add(me->bad, nd->bad, &x->saturated);
            }
        }
        if (pushed)
            continue;
        /* every successor counted: hand this state's counts to the state that led here */
        struct node *done = &t.nodes[f->node];
        done->mark = 2;
        depth--;
        if (depth > 0) {
            struct node *up = &t.nodes[stack[depth - 1].node];
            up->count = sat_add(up->count, done->count, &x->saturated);
            up->bad = sat_add(up->bad, done->bad, &x->saturated);
        }
    }
    x->states = t.n;
    x->schedules = t.nodes[0].count;
    x->bad = t.nodes[0].bad;
    free(stack);
    table_free(&t);
    x->nshortest = l14_shortest_from(lv, &s0, max_states, x->shortest, 256);
}

/* ==== Output ==== */

static void moves_text(const int *m, int n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at + 4 < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%d", i ? "," : "", m[i]);
    if (n <= 0)
        snprintf(buf, len, "none");
}

static void count_text(uint64_t v, const struct l14_explore *x, char *buf, size_t len)
{
    if (x->cyclic)
        snprintf(buf, len, "inf");
    else if (x->saturated && v == UINT64_MAX)
        snprintf(buf, len, ">=%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* Play the level's lab schedule: 1 it reaches the goal, 0 it does not, -1 the level has none. */
static int lab_schedule_wins(const struct l14_level *lv)
{
    if (lv->schedule[0] == '\0')
        return -1;
    int moves[256];
    char err[128];
    int n = l14_parse_moves(lv->schedule, moves, 256, err, sizeof err);
    struct l14_state s;
    l14_state_init(lv, &s);
    for (int i = 0; i < n; i++) {
        if (l14_over(lv, &s) || moves[i] < 1 || moves[i] > lv->nthreads)
            return 0;
        (void)l14_step(lv, &s, moves[i] - 1, NULL, 0);   /* a blocked move is no step */
    }
    return l14_goal(lv, &s);
}

static const char *lab_word(int w) { return w < 0 ? "none" : w ? "wins" : "loses"; }

/* Whether the level behaved as its lesson says: a bad level can be won (and its lab's schedule
 * wins), a fixed twin cannot, which needs the whole space explored. */
static bool as_lesson(const struct l14_level *lv, const struct l14_explore *x, int lab)
{
    if (lv->fixed)
        return x->complete && x->bad == 0;
    return x->bad > 0 && lab != 0;
}

static void result_line(const struct l14_level *lv, const struct l14_explore *x, int lab)
{
    char sched[24], bad[24], shortest[800];
    count_text(x->schedules, x, sched, sizeof sched);
    count_text(x->bad, x, bad, sizeof bad);
    if (x->cyclic && x->bad == 0)
        snprintf(bad, sizeof bad, "0");
    moves_text(x->shortest, x->nshortest, shortest, sizeof shortest);
    lab_result("level=%s threads=%d states=%zu schedules=%s bad=%s shortest=%s length=%d lab_schedule=%s "
               "complete=%s",
               lv->name, lv->nthreads, x->states, sched, bad, shortest, x->nshortest < 0 ? 0 : x->nshortest,
               lab_word(lab), x->complete ? "yes" : "no");
}

static void explain_one(const struct l14_level *lv, const struct l14_explore *x, int lab)
{
    char sched[24], bad[24], shortest[800];
    count_text(x->schedules, x, sched, sizeof sched);
    count_text(x->bad, x, bad, sizeof bad);
    moves_text(x->shortest, x->nshortest, shortest, sizeof shortest);
    lab_say("Level %s%s%s", lv->name, *lv->about ? ": " : "", lv->about);
    lab_say("Goal: %s", lv->goal);
    lab_say("  distinct states        %zu", x->states);
    lab_say("  complete schedules     %s%s", sched, x->cyclic ? " (some can go round a loop forever)" : "");
    lab_say("  reach the goal         %s", x->cyclic && x->bad == 0 ? "0" : bad);
    if (x->nshortest >= 0)
        lab_say("  shortest that does     %s (%d moves)", shortest, x->nshortest);
    if (!x->complete)
        lab_say("%sToo large to explore fully: stopped at %zu states (--max-states); the counts are lower "
                "bounds.%s", lab_color(LAB_YELLOW), x->states, lab_color(LAB_RESET));
    if (lab >= 0)
        lab_say("  %s forces %s: it %s", lv->lab, lv->schedule,
                lab ? "reaches the goal, one of the bad schedules" : "does NOT reach the goal");
    if (lv->fixed && x->complete && x->bad == 0)
        lab_say("%sProof by exhaustion: all %s schedules played to their end (%zu states); "
                "none reaches the goal.%s", lab_color(LAB_GREEN), sched, x->states, lab_color(LAB_RESET));
    else if (lv->fixed)
        lab_say("%sThe fixed twin is NOT proven: %s.%s", lab_color(LAB_RED),
                x->complete ? "a schedule reaches the goal" : "the search did not finish", lab_color(LAB_RESET));
    else if (x->bad == 0 && x->complete)
        lab_say("%sNo schedule reaches the goal: this level cannot be won.%s", lab_color(LAB_RED), lab_color(LAB_RESET));
}

void check_explore(void)
{
    if (lab_opt("all") && lab_opt_given("level"))
        lab_usage_error("--all explores every level; --level names one: give one of them");
    struct l14_levels ls;
    l14_levels_load(&ls);
    (void)l14_level_chosen(&ls);
    l14_levels_free(&ls);
}

int run_explore(int mode)
{
    (void)mode;
    struct l14_levels ls;
    l14_levels_load(&ls);
    size_t max = (size_t)lab_opt("max-states");
    int status = LAB_EXIT_OK;
    if (lab_opt_given("level")) {
        const struct l14_level *lv = l14_level_chosen(&ls);
        struct l14_explore x;
        l14_explore(lv, max, &x);
        int lab = lab_schedule_wins(lv);
        explain_one(lv, &x, lab);
        result_line(lv, &x, lab);
        l14_levels_free(&ls);
        return as_lesson(lv, &x, lab) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    }
    lab_say("Every schedule of every level of %s (depth first, each state once):", ls.source);
    lab_say("%-18s %7s %7s %11s %11s %8s  %s", "level", "threads", "states", "schedules", "bad", "shortest",
            "the lab's forced schedule");
    struct l14_explore *xs = xcalloc((size_t)ls.n, sizeof *xs);
    int *labs = xcalloc((size_t)ls.n, sizeof *labs);
    int won = 0, proved = 0, broken = 0;
    for (int i = 0; i < ls.n; i++) {
        const struct l14_level *lv = &ls.v[i];
        struct l14_explore *x = &xs[i];
        l14_explore(lv, max, x);
        labs[i] = lab_schedule_wins(lv);
        char sched[24], bad[24], len[16], lab[96];
        count_text(x->schedules, x, sched, sizeof sched);
        count_text(x->bad, x, bad, sizeof bad);
        if (x->cyclic && x->bad == 0)
            snprintf(bad, sizeof bad, "0");
        if (x->nshortest < 0)
            snprintf(len, sizeof len, "-");
        else
            snprintf(len, sizeof len, "%d", x->nshortest);
        if (labs[i] < 0)
            snprintf(lab, sizeof lab, "%s", lv->lab[0] ? lv->lab : "-");
        else
            snprintf(lab, sizeof lab, "%s: %s", lv->lab, lab_word(labs[i]));
        bool ok = as_lesson(lv, x, labs[i]);
        lab_say("%s%-18s %7d %7zu %11s %11s %8s  %s%s%s", ok ? "" : lab_color(LAB_RED), lv->name, lv->nthreads,
                x->states, sched, bad, len, lab, x->complete ? "" : "  (too large: stopped)", ok ? "" : lab_color(LAB_RESET));
        if (lv->fixed && ok)
            proved++;
        else if (!lv->fixed && ok)
            won++;
        else
            broken++;
    }
    lab_say("%d levels can be won (the lab's schedule is one way); %d fixed twins proven safe by exhaustion%s",
            won, proved, broken ? "" : ".");
    if (broken) {
        lab_say("%s%d level(s) did not behave as their lesson says (see the red rows)%s", lab_color(LAB_RED), broken,
                lab_color(LAB_RESET));
        status = LAB_EXIT_BROKEN;
    }
    for (int i = 0; i < ls.n; i++)
        result_line(&ls.v[i], &xs[i], labs[i]);
    free(xs);
    free(labs);
    l14_levels_free(&ls);
    return status;
}

/* ==== levels: the list ==== */

void check_levels(void)
{
    struct l14_levels ls;
    l14_levels_load(&ls);
    l14_levels_free(&ls);
}

int run_levels(int mode)
{
    (void)mode;
    struct l14_levels ls;
    l14_levels_load(&ls);
    int fixed = 0;
    lab_say("The levels of %s (play one: %s play --level NAME):", ls.source, lab_prog_name());
    for (int i = 0; i < ls.n; i++) {
        const struct l14_level *lv = &ls.v[i];
        fixed += lv->fixed;
        lab_say("  %-16s %d threads  goal: %s", lv->name, lv->nthreads, lv->goal);
        if (!lv->fixed)
            lab_say("  %-16s %s", "", lv->about);
        if (lv->lab[0])
            lab_say("  %-16s real threads: %s%s%s", "", lv->lab, lv->schedule[0] ? " forces " : "", lv->schedule);
    }
    lab_result("levels=%d fixed=%d source=%s", ls.n, fixed, ls.source);
    l14_levels_free(&ls);
    return LAB_EXIT_OK;
}
