/* labs/14-scheduler-game/level.c - the level file: a small text format an instructor can edit.
 *
 * A level is a tiny program of 1-4 threads written as atomic steps.  Between any two steps the
 * scheduler may switch threads; inside one step it may not.  `num += 1` in Python is three steps
 * here (load, add, store), which is exactly why it loses updates.
 *
 *     level counter                        a name; a name ending in _fixed is a fixed twin
 *     about num += 1 is load, add, store   one line shown above the code
 *     lab l3.counter --mode=racy           the real program that forces one bad schedule ...
 *     schedule 1,2,1,2,1,2                 ... and that schedule, as moves of this level
 *     goal a lost update                   the goal in words
 *     when done and num != 2               the goal: terms joined by "and" (done, stuck, a < b)
 *     var num 0                            a shared variable and its first value
 *     lock A | rlock R | sem S 5 | bsem S 5 [bound] | event E [set] | cond C LOCK
 *     thread Thread-1 [like Thread-0]      then its steps, one a line, "label:" before a step
 *       load r num        r = num          (r: the thread's own variable; any new name is one)
 *       store num r       num = r          (or a number)
 *       add x 1 / sub x 1 x = x + 1        (one step, x shared or own)
 *       if n <= 0 goto out                 compare and branch (== != < <= > >=), one step
 *       goto top
 *       acquire X / release X              Lock, RLock, Semaphore, BoundedSemaphore
 *       wait C / notify C / notify_all C   Condition (wait: release, sleep, re-acquire)
 *       set E / clear E / wait E           Event
 *       sleep                              time.sleep(): a step that does nothing
 *
 * '#' starts a comment.  Any mistake is a usage error naming the file and the line (exit 2).
 */
#include "lab.h"
#include "lab14.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char l14_levels_txt[];   /* levels.S: the bytes of levels.txt, NUL-terminated */

#define MAX_WORDS 64

struct parser {
    struct l14_levels *ls;
    const char *source;
    int line;
    struct l14_level *lv;    /* the level being read */
    struct l14_thread *th;   /* the thread being read */
    char target[L14_MAX_CODE][L14_NAME];   /* its goto labels, resolved when the thread ends */
    char when[512];          /* the goal's line, read when the level ends (it may name later variables) */
    int when_line;
};

#define perr(p, ...) lab_usage_error("%s:%d: %s", (p)->source, (p)->line, fmt_msg(__VA_ARGS__))

static const char *fmt_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt_msg(const char *fmt, ...)
{
    static char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

static bool is_name(const char *w)
{
    if (!isalpha((unsigned char)w[0]) && w[0] != '_')
        return false;
    for (const char *c = w; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
            return false;
    return strlen(w) < L14_NAME;
}

static int number(struct parser *p, const char *w)
{
    char *end;
    errno = 0;
    long v = strtol(w, &end, 10);
    if (*w == '\0' || *end != '\0' || errno == ERANGE || v < -30000 || v > 30000)
        perr(p, "'%s' is not a number (-30000..30000)", w);
    return (int)v;
}

static int find_var(const struct l14_level *lv, const char *w)
{
    for (int i = 0; i < lv->nvars; i++)
        if (strcmp(lv->vars[i], w) == 0)
            return i;
    return -1;
}

static int find_obj(const struct l14_level *lv, const char *w)
{
    for (int i = 0; i < lv->nobjs; i++)
        if (strcmp(lv->objs[i].name, w) == 0)
            return i;
    return -1;
}

static void check_new_name(struct parser *p, const char *w)
{
    if (!is_name(w))
        perr(p, "'%s' is not a name (a letter, then letters, digits, _ or -, at most %d)", w, L14_NAME - 1);
    if (find_var(p->lv, w) >= 0 || find_obj(p->lv, w) >= 0)
        perr(p, "a second thing named %s", w);
}

/* An operand: a number, a shared variable, an object (in comparisons), or the thread's own
 * variable (created on first use; only inside a thread). */
static struct l14_arg arg(struct parser *p, const char *w, bool objs_ok)
{
    struct l14_arg a = { .kind = ARG_CONST };
    if (isdigit((unsigned char)w[0]) || w[0] == '-') {
        a.v = number(p, w);
        return a;
    }
    if ((a.v = find_var(p->lv, w)) >= 0) {
        a.kind = ARG_SHARED;
        return a;
    }
    if ((a.v = find_obj(p->lv, w)) >= 0) {
        enum l14_obj_kind k = p->lv->objs[a.v].kind;
        if (!objs_ok || k == OBJ_COND)
            perr(p, "%s is a %s, not a variable", w, k == OBJ_COND ? "condition" : "lock, semaphore or event");
        a.kind = ARG_OBJ;
        return a;
    }
    if (p->th == NULL)
        perr(p, "unknown variable '%s' (declare it with: var %s 0)", w, w);
    if (!is_name(w))
        perr(p, "'%s' is not a name or a number", w);
    a.kind = ARG_LOCAL;
    for (a.v = 0; a.v < p->th->nlocals; a.v++)
        if (strcmp(p->th->locals[a.v], w) == 0)
            return a;
    if (p->th->nlocals == L14_MAX_LOCALS)
        perr(p, "more than %d own variables in %s", L14_MAX_LOCALS, p->th->name);
    snprintf(p->th->locals[p->th->nlocals++], L14_NAME, "%s", w);
    return a;
}

static enum l14_cmp cmp(struct parser *p, const char *w)
{
    static const char *ops[] = { "==", "!=", "<", "<=", ">", ">=" };
    for (int i = 0; i < 6; i++)
        if (strcmp(w, ops[i]) == 0)
            return (enum l14_cmp)i;
    perr(p, "'%s' is not a comparison (== != < <= > >=)", w);
}

static void need(struct parser *p, int nw, int want, const char *usage)
{
    if (nw != want)
        perr(p, "expected: %s", usage);
}

/* The object named w, of one of the kinds in the mask. */
static int obj(struct parser *p, const char *w, unsigned kinds, const char *what)
{
    int o = find_obj(p->lv, w);
    if (o < 0 || !(kinds & (1u << p->lv->objs[o].kind)))
        perr(p, "'%s' is not %s declared before the threads", w, what);
    return o;
}

#define K(k) (1u << (k))

/* One step of the current thread. */
static void parse_step(struct parser *p, char **w, int nw)
{
    struct l14_thread *th = p->th;
    if (th->n == L14_MAX_CODE)
        perr(p, "more than %d steps in %s", L14_MAX_CODE, th->name);
    struct l14_insn *in = &th->code[th->n];
    memset(in, 0, sizeof *in);
    in->line = p->line;
    const char *op = w[0];
    if (strcmp(op, "load") == 0 || strcmp(op, "store") == 0) {
        need(p, nw, 3, op[0] == 'l' ? "load OWN SHARED" : "store SHARED VALUE");
        in->op = op[0] == 'l' ? OP_LOAD : OP_STORE;
        in->a = arg(p, w[1], false);
        in->b = arg(p, w[2], false);
        if (in->op == OP_LOAD && (in->a.kind != ARG_LOCAL || in->b.kind != ARG_SHARED))
            perr(p, "load copies a shared variable into the thread's own: load OWN SHARED");
        if (in->op == OP_STORE && (in->a.kind != ARG_SHARED || in->b.kind == ARG_SHARED))
            perr(p, "store writes the thread's own variable (or a number) into a shared one: store SHARED VALUE");
    } else if (strcmp(op, "add") == 0 || strcmp(op, "sub") == 0) {
        need(p, nw, 3, "add VARIABLE VALUE");
        in->op = op[0] == 'a' ? OP_ADD : OP_SUB;
        in->a = arg(p, w[1], false);
        in->b = arg(p, w[2], false);
        if (in->a.kind == ARG_CONST)
            perr(p, "%s needs a variable to change, not a number", op);
        if (in->a.kind == ARG_SHARED && in->b.kind == ARG_SHARED)
            perr(p, "%s reads one shared variable into another in one step: load it first", op);
    } else if (strcmp(op, "if") == 0) {
        need(p, nw, 6, "if A OP B goto LABEL");
        if (strcmp(w[4], "goto") != 0)
            perr(p, "expected: if A OP B goto LABEL");
        in->op = OP_IF;
        in->a = arg(p, w[1], true);
        in->cmp = cmp(p, w[2]);
        in->b = arg(p, w[3], true);
        snprintf(p->target[th->n], L14_NAME, "%s", w[5]);
    } else if (strcmp(op, "goto") == 0) {
        need(p, nw, 2, "goto LABEL");
        in->op = OP_GOTO;
        snprintf(p->target[th->n], L14_NAME, "%s", w[1]);
    } else if (strcmp(op, "acquire") == 0 || strcmp(op, "release") == 0) {
        need(p, nw, 2, "acquire NAME");
        in->op = op[0] == 'a' ? OP_ACQUIRE : OP_RELEASE;
        in->obj = obj(p, w[1], K(OBJ_LOCK) | K(OBJ_RLOCK) | K(OBJ_SEM) | K(OBJ_BSEM), "a lock or a semaphore");
    } else if (strcmp(op, "wait") == 0) {
        need(p, nw, 2, "wait NAME");
        in->op = OP_WAIT;
        in->obj = obj(p, w[1], K(OBJ_COND) | K(OBJ_EVENT), "a condition or an event");
    } else if (strcmp(op, "notify") == 0 || strcmp(op, "notify_all") == 0) {
        need(p, nw, 2, "notify CONDITION");
        in->op = op[6] ? OP_NOTIFY_ALL : OP_NOTIFY;
        in->obj = obj(p, w[1], K(OBJ_COND), "a condition");
    } else if (strcmp(op, "set") == 0 || strcmp(op, "clear") == 0) {
        need(p, nw, 2, "set EVENT");
        in->op = op[0] == 's' ? OP_SET : OP_CLEAR;
        in->obj = obj(p, w[1], K(OBJ_EVENT), "an event");
    } else if (strcmp(op, "sleep") == 0 || strcmp(op, "yield") == 0) {
        need(p, nw, 1, "sleep");
        in->op = OP_SLEEP;
    } else {
        perr(p, "unknown step '%s' (load store add sub if goto acquire release wait notify notify_all set clear "
             "sleep)", op);
    }
    th->n++;
}

/* The thread is complete: resolve its labels. */
static void end_thread(struct parser *p)
{
    struct l14_thread *th = p->th;
    if (th == NULL)
        return;
    if (th->n == 0)
        perr(p, "thread %s has no steps", th->name);
    for (int i = 0; i < th->n; i++) {
        struct l14_insn *in = &th->code[i];
        if (in->op != OP_IF && in->op != OP_GOTO)
            continue;
        in->target = -1;
        for (int j = 0; j <= th->n; j++)
            if (strcmp(th->labels[j], p->target[i]) == 0)
                in->target = j;
        if (in->target < 0) {
            p->line = in->line;
            perr(p, "no label '%s' in thread %s", p->target[i], th->name);
        }
    }
    p->th = NULL;
}

/* The goal: TERM [and TERM]..., a term is done, stuck, or A OP B. */
static void parse_when(struct parser *p, char **w, int nw)
{
    struct l14_level *lv = p->lv;
    int i = 1;
    while (i < nw) {
        if (lv->nterms == L14_MAX_CONDS)
            perr(p, "more than %d terms in a goal", L14_MAX_CONDS);
        struct l14_term *t = &lv->terms[lv->nterms++];
        if (strcmp(w[i], "done") == 0 || strcmp(w[i], "stuck") == 0) {
            t->kind = w[i][0] == 'd' ? TERM_DONE : TERM_STUCK;
            i++;
        } else {
            if (i + 2 >= nw)
                perr(p, "expected: when A OP B [and ...], or done, or stuck");
            t->kind = TERM_CMP;
            t->a = arg(p, w[i], true);
            t->cmp = cmp(p, w[i + 1]);
            t->b = arg(p, w[i + 2], true);
            i += 3;
        }
        if (i < nw) {
            if (strcmp(w[i], "and") != 0 || i + 1 == nw)
                perr(p, "terms of a goal are joined by 'and'");
            i++;
        }
    }
    if (lv->nterms == 0)
        perr(p, "expected: when A OP B [and ...], or done, or stuck");
}

static void end_level(struct parser *p)
{
    struct l14_level *lv = p->lv;
    if (lv == NULL)
        return;
    end_thread(p);
    if (p->when_line) {
        int line = p->line;
        char *w[MAX_WORDS], *save = NULL;
        int nw = 0;
        for (char *tok = strtok_r(p->when, " \t\r\n", &save); tok && nw < MAX_WORDS; tok = strtok_r(NULL, " \t\r\n", &save))
            w[nw++] = tok;
        p->line = p->when_line;
        parse_when(p, w, nw);
        p->line = line;
        p->when_line = 0;
    }
    if (lv->nthreads == 0)
        perr(p, "level %s has no thread", lv->name);
    if (lv->nterms == 0)
        perr(p, "level %s has no goal: when done and num != 2", lv->name);
    if (lv->goal[0] == '\0')
        perr(p, "level %s has no goal in words: goal a lost update", lv->name);
    p->lv = NULL;
}

/* The rest of the line after its first word, for the text fields. */
static void rest(struct parser *p, char *dst, size_t len, const char *line, const char *key)
{
    const char *r = line + strspn(line, " \t");
    r += strlen(key);
    r += strspn(r, " \t");
    size_t n = strcspn(r, "#\r\n");
    while (n > 0 && (r[n - 1] == ' ' || r[n - 1] == '\t'))
        n--;
    if (n == 0)
        perr(p, "%s needs a value", key);
    if (n >= len)
        perr(p, "%s is longer than %zu characters", key, len - 1);
    snprintf(dst, len, "%.*s", (int)n, r);
}

static void parse_line(struct parser *p, char *raw)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", raw);
    char *hash = strchr(copy, '#');
    if (hash)
        *hash = '\0';
    char *w[MAX_WORDS], *save = NULL;
    int nw = 0;
    for (char *tok = strtok_r(copy, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (nw == MAX_WORDS)
            perr(p, "too many words");
        w[nw++] = tok;
    }
    if (nw == 0)
        return;
    const char *k = w[0];
    if (strcmp(k, "level") == 0) {
        end_level(p);
        need(p, nw, 2, "level NAME");
        if (!is_name(w[1]) || strlen(w[1]) >= sizeof p->lv->name)
            perr(p, "'%s' is not a level name", w[1]);
        for (int i = 0; i < p->ls->n; i++)
            if (strcmp(p->ls->v[i].name, w[1]) == 0)
                perr(p, "a second level named %s", w[1]);
        struct l14_levels *ls = p->ls;
        ls->v = realloc(ls->v, (size_t)(ls->n + 1) * sizeof *ls->v);
        if (ls->v == NULL)
            die("realloc:");
        p->lv = &ls->v[ls->n++];
        memset(p->lv, 0, sizeof *p->lv);
        snprintf(p->lv->name, sizeof p->lv->name, "%s", w[1]);
        size_t n = strlen(w[1]);
        p->lv->fixed = n > 6 && strcmp(w[1] + n - 6, "_fixed") == 0;
        p->lv->line = p->line;
        return;
    }
    if (p->lv == NULL)
        perr(p, "expected 'level NAME' first, got '%s'", k);
    struct l14_level *lv = p->lv;
    bool decl = strcmp(k, "var") == 0 || strcmp(k, "lock") == 0 || strcmp(k, "rlock") == 0 || strcmp(k, "sem") == 0
                || strcmp(k, "bsem") == 0 || strcmp(k, "event") == 0 || strcmp(k, "cond") == 0;
    if (decl && lv->nthreads > 0)
        perr(p, "declare '%s' before the first thread", w[1 < nw ? 1 : 0]);
    if (strcmp(k, "about") == 0)
        rest(p, lv->about, sizeof lv->about, raw, k);
    else if (strcmp(k, "lab") == 0)
        rest(p, lv->lab, sizeof lv->lab, raw, k);
    else if (strcmp(k, "goal") == 0)
        rest(p, lv->goal, sizeof lv->goal, raw, k);
    else if (strcmp(k, "schedule") == 0) {
        need(p, nw, 2, "schedule 1,2,1,...");
        int moves[256];
        char err[128];
        if (l14_parse_moves(w[1], moves, 256, err, sizeof err) < 0)
            perr(p, "schedule: %s", err);
        snprintf(lv->schedule, sizeof lv->schedule, "%s", w[1]);
    } else if (strcmp(k, "when") == 0) {
        if (p->when_line)
            perr(p, "a second 'when'");
        p->when_line = p->line;
        snprintf(p->when, sizeof p->when, "%.*s", (int)strcspn(raw, "#"), raw);
    } else if (strcmp(k, "var") == 0) {
        need(p, nw, 3, "var NAME VALUE");
        check_new_name(p, w[1]);
        if (lv->nvars == L14_MAX_VARS)
            perr(p, "more than %d shared variables", L14_MAX_VARS);
        snprintf(lv->vars[lv->nvars], L14_NAME, "%s", w[1]);
        lv->var_init[lv->nvars++] = number(p, w[2]);
    } else if (decl) {
        if (nw < 2)
            perr(p, "expected: %s NAME", k);
        check_new_name(p, w[1]);
        if (lv->nobjs == L14_MAX_OBJS)
            perr(p, "more than %d locks, semaphores, events and conditions", L14_MAX_OBJS);
        struct l14_obj *o = &lv->objs[lv->nobjs];
        memset(o, 0, sizeof *o);
        snprintf(o->name, L14_NAME, "%s", w[1]);
        if (strcmp(k, "lock") == 0 || strcmp(k, "rlock") == 0) {
            need(p, nw, 2, "lock NAME");
            o->kind = k[0] == 'l' ? OBJ_LOCK : OBJ_RLOCK;
        } else if (strcmp(k, "sem") == 0 || strcmp(k, "bsem") == 0) {
            if (nw != 3 && !(k[0] == 'b' && nw == 4))
                perr(p, "expected: %s NAME VALUE%s", k, k[0] == 'b' ? " [BOUND]" : "");
            o->kind = k[0] == 's' ? OBJ_SEM : OBJ_BSEM;
            o->init = number(p, w[2]);
            o->bound = nw == 4 ? number(p, w[3]) : o->init;
            if (o->init < 0 || o->bound < o->init)
                perr(p, "a semaphore's value is >= 0 and at most its bound");
        } else if (strcmp(k, "event") == 0) {
            if (nw == 3 && strcmp(w[2], "set") == 0)
                o->init = 1;
            else
                need(p, nw, 2, "event NAME [set]");
            o->kind = OBJ_EVENT;
        } else {
            need(p, nw, 3, "cond NAME LOCK");
            o->kind = OBJ_COND;
            o->lock = obj(p, w[2], K(OBJ_LOCK), "a lock (plain Lock)");
        }
        lv->nobjs++;
    } else if (strcmp(k, "thread") == 0) {
        end_thread(p);
        if (nw != 2 && !(nw == 4 && strcmp(w[2], "like") == 0))
            perr(p, "expected: thread NAME [like OTHER]");
        if (!is_name(w[1]))
            perr(p, "'%s' is not a thread name", w[1]);
        if (lv->nthreads == L14_MAX_THREADS)
            perr(p, "more than %d threads", L14_MAX_THREADS);
        for (int i = 0; i < lv->nthreads; i++)
            if (strcmp(lv->threads[i].name, w[1]) == 0)
                perr(p, "a second thread named %s", w[1]);
        struct l14_thread *th = &lv->threads[lv->nthreads];
        memset(th, 0, sizeof *th);
        if (nw == 4) {
            int i;
            for (i = 0; i < lv->nthreads; i++)
                if (strcmp(lv->threads[i].name, w[3]) == 0)
                    break;
            if (i == lv->nthreads)
                perr(p, "no thread %s before this one", w[3]);
            *th = lv->threads[i];
        }
        snprintf(th->name, L14_NAME, "%s", w[1]);
        lv->nthreads++;
        p->th = nw == 4 ? NULL : th;   /* a copy takes no steps of its own */
    } else {
        if (p->th == NULL && lv->nthreads)
            perr(p, "a thread made with 'like' takes no steps of its own ('%s')", k);
        if (p->th == NULL)
            perr(p, "unknown line '%s' (steps come after 'thread NAME')", k);
        /* "label:" on its own or before a step */
        size_t kl = strlen(k);
        if (kl > 1 && k[kl - 1] == ':') {
            char label[L14_NAME + 1];
            snprintf(label, sizeof label, "%.*s", (int)(kl - 1), k);
            if (!is_name(label))
                perr(p, "'%s' is not a label", label);
            for (int i = 0; i <= p->th->n; i++)
                if (strcmp(p->th->labels[i], label) == 0)
                    perr(p, "a second label %s", label);
            if (p->th->labels[p->th->n][0])
                perr(p, "two labels on one step");
            snprintf(p->th->labels[p->th->n], L14_NAME, "%.15s", label);
            if (nw > 1)
                parse_step(p, w + 1, nw - 1);
            return;
        }
        parse_step(p, w, nw);
    }
}

void l14_levels_parse(struct l14_levels *ls, const char *source, const char *text)
{
    memset(ls, 0, sizeof *ls);
    snprintf(ls->source, sizeof ls->source, "%s", source);
    struct parser p = { .ls = ls, .source = ls->source };
    const char *s = text;
    while (*s) {
        size_t n = strcspn(s, "\n");
        p.line++;
        if (n >= 400)
            perr(&p, "line longer than 400 characters");
        char line[512];
        memcpy(line, s, n);
        line[n] = '\0';
        parse_line(&p, line);
        s += n;
        if (*s == '\n')
            s++;
    }
    end_level(&p);
    if (ls->n == 0)
        lab_usage_error("%s holds no level (each starts with 'level NAME')", source);
}

void l14_levels_load(struct l14_levels *ls)
{
    const char *path = lab_opt_text("file");
    if (*path == '\0') {
        l14_levels_parse(ls, "levels.txt", l14_levels_txt);
        return;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        lab_usage_error("cannot read --file %s: %s", path, strerror(errno));
    char *text = xmalloc(65537);
    size_t n = fread(text, 1, 65536, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        free(text);
        lab_usage_error("--file %s is larger than 64 KiB", path);
    }
    text[n] = '\0';
    if (strlen(text) != n) {
        free(text);
        lab_usage_error("--file %s is not a text file (it holds a NUL byte)", path);
    }
    l14_levels_parse(ls, path, text);
    free(text);
}

void l14_levels_free(struct l14_levels *ls)
{
    free(ls->v);
    memset(ls, 0, sizeof *ls);
}

const struct l14_level *l14_level_chosen(const struct l14_levels *ls)
{
    const char *name = lab_opt_text("level");
    if (*name == '\0')
        return &ls->v[0];
    for (int i = 0; i < ls->n; i++)
        if (strcmp(ls->v[i].name, name) == 0)
            return &ls->v[i];
    lab_usage_error("unknown level '%s' (see '%s levels')", name, lab_prog_name());
}
