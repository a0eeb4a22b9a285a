/* labs/14-scheduler-game/play.c - you are the scheduler: the scenario `play`.
 *
 * What it shows: a race is a schedule.  The threads' code stands side by side, each thread's next
 * step marked with '>'; you say which thread takes the next step, until the program breaks (the
 * goal: a lost update, an oversold ticket, a deadlock...).  A step that cannot run now (a lock
 * held by another thread, a semaphore at 0, a clear event) is "blocked": nothing happens, choose
 * again.  The idea is the game "The Deadlock Empire", here on the levels of the notes.
 *
 * Python of the notes <-> here: the notes run `threading.Thread`s and hope the race shows; here the
 * same code is stepped by hand, and `--moves 1,2,1,2` replays a schedule exactly (tests, slides).
 * Usage: build/lab14 play [--level NAME] [--moves 1,2,...] [--hint] [--file FILE]
 *        (no --moves: one thread number a line on stdin; h for a hint, q to quit)
 * Watch: the schedule of a win; then `explore` counts how many other schedules win too.
 */
#include "lab.h"
#include "lab14.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MOVES 256
#define COL 33          /* three columns fit in 100 */

/* ==== The board ==== */

static void board(const struct l14_level *lv, const struct l14_state *s)
{
    int n = lv->nthreads, rows = 0;
    int col = n == 1 ? 60 : (n == 4 ? 24 : COL);
    for (int t = 0; t < n; t++)
        if (lv->threads[t].n + 1 > rows)
            rows = lv->threads[t].n + 1;   /* the steps, and "(end)" */
    char line[256];
    size_t at = 0;
    for (int t = 0; t < n; t++) {
        char head[64];
        const char *st = s->status[t] == TH_DONE ? " (finished)" : s->status[t] == TH_ERROR ? " (stopped)"
                         : l14_can_step(lv, s, t) ? "" : " (blocked)";
        snprintf(head, sizeof head, "[%d] %s%s", t + 1, lv->threads[t].name, st);
        at += (size_t)snprintf(line + at, sizeof line - at, "%-*.*s", col, col - 1, head);
    }
    while (at > 0 && line[at - 1] == ' ')
        line[--at] = '\0';
    lab_say("%s", line);
    for (int r = 0; r < rows; r++) {
        at = 0;
        line[0] = '\0';
        for (int t = 0; t < n; t++) {
            const struct l14_thread *th = &lv->threads[t];
            char text[96] = "", cell[128] = "";
            if (r <= th->n) {
                l14_insn_text(lv, t, r, text, sizeof text);
                snprintf(cell, sizeof cell, "%s%s%s%s", s->pc[t] == r ? "> " : "  ", th->labels[r],
                         th->labels[r][0] ? ": " : "", text);
            }
            at += (size_t)snprintf(line + at, sizeof line - at, "%-*.*s", col, col - 1, cell);
        }
        while (at > 0 && line[at - 1] == ' ')
            line[--at] = '\0';
        lab_say("%s", line);
    }
    char vars[200], objs[240];
    l14_vars_text(lv, s, vars, sizeof vars);
    l14_objs_text(lv, s, objs, sizeof objs);
    if (vars[0])
        lab_say("shared: %s", vars);
    if (objs[0])
        lab_say("locks and signals: %s", objs);
    at = 0;
    line[0] = '\0';
    for (int t = 0; t < n; t++) {
        const struct l14_thread *th = &lv->threads[t];
        for (int i = 0; i < th->nlocals && at < 90; i++)
            at += (size_t)snprintf(line + at, sizeof line - at, "%s%s.%s=%d", at ? " " : "", th->name, th->locals[i], s->local[t][i]);
    }
    if (at)
        lab_say("own: %s", line);
}

/* ==== One game ==== */

struct game {
    const struct l14_level *lv;
    struct l14_state s;
    int moves[MAX_MOVES];
    int n;           /* steps taken */
    int blocked;     /* choices that were blocked */
};

static void schedule_text(const struct game *g, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < g->n && at + 4 < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%d", i ? "," : "", g->moves[i]);
    if (g->n == 0)
        snprintf(buf, len, "none");
}

/* Why move m (1-based) cannot be played now, or NULL when it can (it may still be blocked). */
static const char *illegal(const struct game *g, int m, char *buf, size_t len)
{
    if (m < 1 || m > g->lv->nthreads) {
        snprintf(buf, len, "there is no thread %d (threads 1-%d)", m, g->lv->nthreads);
        return buf;
    }
    if (g->s.status[m - 1] != TH_RUNNING) {
        snprintf(buf, len, "%s has %s", g->lv->threads[m - 1].name,
                 g->s.status[m - 1] == TH_DONE ? "finished" : "stopped with an error");
        return buf;
    }
    if (g->n == MAX_MOVES) {
        snprintf(buf, len, "more than %d moves", MAX_MOVES);
        return buf;
    }
    return NULL;
}

/* Play move m; prints one line (quiet: nothing).  Returns false when the step was blocked. */
static bool move(struct game *g, int m, bool quiet)
{
    char what[160], text[96];
    l14_insn_text(g->lv, m - 1, g->s.pc[m - 1], text, sizeof text);
    enum l14_step r = l14_step(g->lv, &g->s, m - 1, what, sizeof what);
    if (r == STEP_BLOCKED) {
        g->blocked++;
        if (!quiet)
            lab_say("      %-12s %-24s %s%s (no step taken)%s", g->lv->threads[m - 1].name, text, lab_color(LAB_YELLOW),
                    what, lab_color(LAB_RESET));
        return false;
    }
    g->moves[g->n++] = m;
    if (!quiet)
        lab_say("%4d. %-12s %-24s %s", g->n, g->lv->threads[m - 1].name, text, what);
    return true;
}

static void hint(const struct game *g)
{
    int moves[MAX_MOVES];
    int n = l14_shortest_from(g->lv, &g->s, (size_t)lab_opt("max-states"), moves, MAX_MOVES);
    if (n < 0) {
        lab_say("hint: no schedule from here reaches the goal%s", g->lv->fixed ? " (this is a fixed twin)" : "");
        return;
    }
    char rest[800];
    size_t at = 0;
    rest[0] = '\0';
    for (int i = 0; i < n && at + 4 < sizeof rest; i++)
        at += (size_t)snprintf(rest + at, sizeof rest - at, "%s%d", i ? "," : "", moves[i]);
    if (n == 0)
        lab_say("hint: the goal is already reached");
    else
        lab_say("hint: step thread %d (%s); a shortest win from here: %s", moves[0],
                g->lv->threads[moves[0] - 1].name, rest);
}

/* The end of the game, the RESULT line, and the status. */
static int finish(struct game *g)
{
    const struct l14_level *lv = g->lv;
    bool won = l14_goal(lv, &g->s), over = l14_over(lv, &g->s);
    char sched[800];
    schedule_text(g, sched, sizeof sched);
    if (won) {
        lab_say("%sWON after %d moves: %s.%s", lab_color(LAB_GREEN), g->n, lv->goal, lab_color(LAB_RESET));
        lab_say("The schedule that did it: %s", sched);
        if (lv->lab[0])
            lab_say("On real threads: %s forces %s.", lv->lab, lv->schedule[0] ? lv->schedule : "such a schedule");
        if (lv->fixed)
            lab_say("%sThis is a fixed twin: the fix is broken.%s", lab_color(LAB_RED), lab_color(LAB_RESET));
    } else if (over && l14_all_done(lv, &g->s)) {
        lab_say("Every thread finished and the goal was not reached: %s.",
                lv->fixed ? "as the fix promises, whatever the schedule" : "try another schedule");
    } else if (over) {
        lab_say("No thread can move (stuck), but that is not this level's goal.");
    } else {
        lab_say("The game is not over after %d moves: the goal is not reached yet.", g->n);
    }
    char vars[200], shared[200];
    l14_vars_text(lv, &g->s, vars, sizeof vars);
    snprintf(shared, sizeof shared, "%s", vars[0] ? vars : "none");
    for (char *c = shared; *c; c++)
        *c = *c == ' ' ? ',' : *c == '=' ? ':' : *c;
    lab_result("level=%s moves=%d blocked=%d won=%s over=%s schedule=%s shared=%s", lv->name, g->n, g->blocked,
               won ? "yes" : "no", over ? "yes" : "no", sched, shared);
    return won && lv->fixed ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}

static void intro(const struct l14_level *lv)
{
    lab_say("Level %s%s%s", lv->name, *lv->about ? ": " : "", lv->about);
    lab_say("Goal: %s.  You are the scheduler: each move steps one thread by one atomic step.", lv->goal);
}

/* ==== --moves, and the check before anything is printed ==== */

static int parsed_moves(int *moves)
{
    char err[160];
    int n = l14_parse_moves(lab_opt_text("moves"), moves, MAX_MOVES, err, sizeof err);
    if (n < 0)
        lab_usage_error("bad --moves '%s': %s", lab_opt_text("moves"), err);
    return n;
}

void check_play(void)
{
    struct l14_levels ls;
    l14_levels_load(&ls);
    const struct l14_level *lv = l14_level_chosen(&ls);
    if (lab_opt_given("moves")) {
        int moves[MAX_MOVES];
        int n = parsed_moves(moves);
        struct game g = { .lv = lv };
        l14_state_init(lv, &g.s);
        for (int i = 0; i < n; i++) {
            char why[160];
            if (l14_over(lv, &g.s))
                lab_usage_error("bad --moves: move %d (%d): the game is over after move %d (%s)", i + 1, moves[i],
                                i, l14_goal(lv, &g.s) ? "the goal is reached" : "no thread can move");
            if (illegal(&g, moves[i], why, sizeof why))
                lab_usage_error("bad --moves: move %d (%d): %s", i + 1, moves[i], why);
            (void)move(&g, moves[i], true);
        }
    }
    l14_levels_free(&ls);
}

static int play_moves(const struct l14_level *lv, const int *moves, int n)
{
    struct game g = { .lv = lv };
    l14_state_init(lv, &g.s);
    intro(lv);
    board(lv, &g.s);
    for (int i = 0; i < n; i++) {
        if (lab_in_demo())
            lab_sleep(0.2);   /* the demo's pace: one move per 0.2 notes-seconds, to watch it unfold */
        (void)move(&g, moves[i], false);
    }
    lab_say("%s", "");
    board(lv, &g.s);
    if (lab_opt("hint"))
        hint(&g);
    return finish(&g);
}

/* ==== On a terminal (or any stdin): one choice a line ==== */

static int play_interactive(const struct l14_level *lv)
{
    struct game g = { .lv = lv };
    l14_state_init(lv, &g.s);
    intro(lv);
    lab_say("Type the number of the thread to step, then Enter; h: a hint, q: quit.");
    char buf[128];
    bool show = true;
    while (!l14_over(lv, &g.s)) {
        if (show) {
            lab_say("%s", "");
            board(lv, &g.s);
            if (lab_opt("hint"))
                hint(&g);
        }
        show = false;
        lab_say("move %d - which thread? (1-%d, h, q)", g.n + 1, lv->nthreads);
        if (fgets(buf, sizeof buf, stdin) == NULL) {
            lab_say("end of input: the game stops after %d moves", g.n);
            break;
        }
        if (strchr(buf, '\n') == NULL && !feof(stdin)) {
            int c;
            while ((c = getchar()) != '\n' && c != EOF)
                ;
            lab_say("that line is too long: type a thread number (1-%d)", lv->nthreads);
            continue;
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        char *w = buf + strspn(buf, " \t");
        w[strcspn(w, " \t")] = '\0';
        if (strcmp(w, "q") == 0 || strcmp(w, "quit") == 0) {
            lab_say("you stopped the game after %d moves", g.n);
            break;
        }
        if (strcmp(w, "h") == 0 || strcmp(w, "hint") == 0) {
            hint(&g);
            continue;
        }
        char err[160];
        int m[1];
        if (*w == '\0' || l14_parse_moves(w, m, 1, err, sizeof err) != 1) {
            lab_say("'%s' is not a thread number: type 1-%d, h or q", w, lv->nthreads);
            continue;
        }
        const char *why = illegal(&g, m[0], err, sizeof err);
        if (why) {
            lab_say("illegal move: %s; choose again", why);
            continue;
        }
        show = move(&g, m[0], false);
    }
    lab_say("%s", "");
    board(lv, &g.s);
    return finish(&g);
}

int run_play(int mode)
{
    (void)mode;
    struct l14_levels ls;
    l14_levels_load(&ls);
    const struct l14_level *lv = l14_level_chosen(&ls);
    int moves[MAX_MOVES], n, status;
    if (lab_opt_given("moves")) {
        n = parsed_moves(moves);
        status = play_moves(lv, moves, n);
    } else if (lab_in_demo()) {
        /* the guided demo plays the schedule that the real program forces */
        char err[160];
        n = l14_parse_moves(lv->schedule[0] ? lv->schedule : "1", moves, MAX_MOVES, err, sizeof err);
        lab_say("The guided demo plays the schedule %s forces: --moves %s", lv->lab, lv->schedule);
        status = play_moves(lv, moves, n < 0 ? 0 : n);
    } else {
        status = play_interactive(lv);
    }
    l14_levels_free(&ls);
    return status;
}
