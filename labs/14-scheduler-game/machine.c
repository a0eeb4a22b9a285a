/* labs/14-scheduler-game/machine.c - one atomic step of one thread: the rules of the game.
 *
 * What it shows: every synchronisation object is a few numbers and a rule saying when a step must
 * wait.  A Lock is an owner (a step that finds another owner is "blocked"); an RLock an owner and
 * a count; a Semaphore a value that acquire() may not take below 0; an Event a flag that wait()
 * needs set; a Condition a queue: wait() releases the lock and joins the queue (one step), sleeps
 * until notify() takes it out, then re-acquires the lock (another step, which may be blocked).
 *
 * Python of the notes <-> the model:
 *     num += 1                 load r num / add r 1 / store num r   (three steps: the race)
 *     with lock: ...           acquire lock / ... / release lock
 *     cond.wait()              wait cond   (release, queue, re-acquire: who runs in between?)
 *     event.wait()             wait event  (blocked while the flag is clear)
 *     time.sleep(0.1)          sleep       (a step that lets the others run)
 * notify() here may be called without the lock, as pthread_cond_signal may (lab 5 does so); Python
 * would raise RuntimeError.  Releasing a Lock one does not hold, waiting on a Condition without
 * its lock, or a BoundedSemaphore's release above its bound are errors: the thread stops there,
 * like a Python thread that raised.
 */
#include "lab.h"
#include "lab14.h"

#include <stdio.h>
#include <string.h>

void l14_state_init(const struct l14_level *lv, struct l14_state *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < lv->nvars; i++)
        s->var[i] = lv->var_init[i];
    for (int i = 0; i < lv->nobjs; i++)
        s->value[i] = (int16_t)lv->objs[i].init;
}

static int val(const struct l14_level *lv, const struct l14_state *s, int t, struct l14_arg a)
{
    switch (a.kind) {
    case ARG_CONST: return a.v;
    case ARG_SHARED: return s->var[a.v];
    case ARG_LOCAL: return s->local[t][a.v];
    case ARG_OBJ:
        return lv->objs[a.v].kind == OBJ_LOCK || lv->objs[a.v].kind == OBJ_RLOCK ? s->owner[a.v] : s->value[a.v];
    }
    return 0;
}

static void put(struct l14_state *s, int t, struct l14_arg a, int v)
{
    if (a.kind == ARG_SHARED)
        s->var[a.v] = v;
    else if (a.kind == ARG_LOCAL)
        s->local[t][a.v] = (int16_t)v;
}

static const char *arg_name(const struct l14_level *lv, int t, struct l14_arg a, char *buf, size_t len)
{
    switch (a.kind) {
    case ARG_CONST: snprintf(buf, len, "%d", a.v); break;
    case ARG_SHARED: snprintf(buf, len, "%s", lv->vars[a.v]); break;
    case ARG_LOCAL: snprintf(buf, len, "%s", lv->threads[t].locals[a.v]); break;
    case ARG_OBJ: snprintf(buf, len, "%s", lv->objs[a.v].name); break;
    }
    return buf;
}

static bool compare(int x, enum l14_cmp c, int y)
{
    switch (c) {
    case CMP_EQ: return x == y;
    case CMP_NE: return x != y;
    case CMP_LT: return x < y;
    case CMP_LE: return x <= y;
    case CMP_GT: return x > y;
    case CMP_GE: return x >= y;
    }
    return false;
}

static const char *cmp_text[] = { "==", "!=", "<", "<=", ">", ">=" };

void l14_insn_text(const struct l14_level *lv, int t, int pc, char *buf, size_t len)
{
    const struct l14_thread *th = &lv->threads[t];
    if (pc >= th->n) {
        snprintf(buf, len, "(end)");
        return;
    }
    const struct l14_insn *in = &th->code[pc];
    char a[L14_NAME + 8], b[L14_NAME + 8];
    const char *o = lv->objs[in->obj].name;
    switch (in->op) {
    case OP_LOAD:
    case OP_STORE:
        snprintf(buf, len, "%s = %s", arg_name(lv, t, in->a, a, sizeof a), arg_name(lv, t, in->b, b, sizeof b));
        break;
    case OP_ADD:
    case OP_SUB:
        arg_name(lv, t, in->a, a, sizeof a);
        snprintf(buf, len, "%s = %s %c %s", a, a, in->op == OP_ADD ? '+' : '-', arg_name(lv, t, in->b, b, sizeof b));
        break;
    case OP_IF:
        snprintf(buf, len, "if %s %s %s: goto %s", arg_name(lv, t, in->a, a, sizeof a), cmp_text[in->cmp],
                 arg_name(lv, t, in->b, b, sizeof b), th->labels[in->target]);
        break;
    case OP_GOTO: snprintf(buf, len, "goto %s", th->labels[in->target]); break;
    case OP_ACQUIRE: snprintf(buf, len, "%s.acquire()", o); break;
    case OP_RELEASE: snprintf(buf, len, "%s.release()", o); break;
    case OP_WAIT: snprintf(buf, len, "%s.wait()", o); break;
    case OP_NOTIFY: snprintf(buf, len, "%s.notify()", o); break;
    case OP_NOTIFY_ALL: snprintf(buf, len, "%s.notify_all()", o); break;
    case OP_SET: snprintf(buf, len, "%s.set()", o); break;
    case OP_CLEAR: snprintf(buf, len, "%s.clear()", o); break;
    case OP_SLEEP: snprintf(buf, len, "time.sleep()"); break;
    }
}

/* The thread ends with an exception (Python prints it and the thread is gone). */
static enum l14_step fail(struct l14_state *s, int t, char *what, size_t len, const char *msg)
{
    s->status[t] = TH_ERROR;
    if (what)
        snprintf(what, len, "%s (stopped)", msg);
    return STEP_OK;
}

#define SAY(...) do { if (what) snprintf(what, len, __VA_ARGS__); } while (0)

enum l14_step l14_step(const struct l14_level *lv, struct l14_state *s, int t, char *what, size_t len)
{
    const struct l14_thread *th = &lv->threads[t];
    if (s->status[t] != TH_RUNNING) {
        SAY("%s has %s", th->name, s->status[t] == TH_DONE ? "finished" : "stopped with an error");
        return STEP_FINISHED;
    }
    const struct l14_insn *in = &th->code[s->pc[t]];
    int next = s->pc[t] + 1;
    int me = t + 1;
    int o = in->obj;
    const char *on = lv->objs[o].name;
    enum l14_obj_kind kind = lv->objs[o].kind;
    char a[L14_NAME + 8];
    switch (in->op) {
    case OP_LOAD:
    case OP_STORE:
        put(s, t, in->a, val(lv, s, t, in->b));
        SAY("%s = %d", arg_name(lv, t, in->a, a, sizeof a), val(lv, s, t, in->a));
        break;
    case OP_ADD:
    case OP_SUB:
        put(s, t, in->a, val(lv, s, t, in->a) + (in->op == OP_ADD ? 1 : -1) * val(lv, s, t, in->b));
        SAY("%s = %d", arg_name(lv, t, in->a, a, sizeof a), val(lv, s, t, in->a));
        break;
    case OP_IF:
        if (compare(val(lv, s, t, in->a), in->cmp, val(lv, s, t, in->b))) {
            next = in->target;
            SAY("%d %s %d: yes, goto %s", val(lv, s, t, in->a), cmp_text[in->cmp], val(lv, s, t, in->b),
                th->labels[in->target]);
        } else {
            SAY("%d %s %d: no", val(lv, s, t, in->a), cmp_text[in->cmp], val(lv, s, t, in->b));
        }
        break;
    case OP_GOTO:
        next = in->target;
        SAY("goto %s", th->labels[in->target]);
        break;
    case OP_ACQUIRE:
        if (kind == OBJ_SEM || kind == OBJ_BSEM) {
            if (s->value[o] == 0) {
                SAY("blocked: %s is 0", on);
                return STEP_BLOCKED;
            }
            s->value[o]--;
            SAY("%s is now %d", on, s->value[o]);
        } else if (s->owner[o] == 0) {
            s->owner[o] = (int16_t)me;
            s->value[o] = 1;
            SAY("%s holds %s", th->name, on);
        } else if (s->owner[o] == me && kind == OBJ_RLOCK) {
            s->value[o]++;
            SAY("%s holds %s %d times (an RLock counts)", th->name, on, s->value[o]);
        } else if (s->owner[o] == me) {
            SAY("blocked: %s already holds %s, and a Lock is not re-entrant", th->name, on);
            return STEP_BLOCKED;
        } else {
            SAY("blocked: %s is held by %s", on, lv->threads[s->owner[o] - 1].name);
            return STEP_BLOCKED;
        }
        break;
    case OP_RELEASE:
        if (kind == OBJ_SEM || kind == OBJ_BSEM) {
            if (kind == OBJ_BSEM && s->value[o] >= lv->objs[o].bound)
                return fail(s, t, what, len, "ValueError: Semaphore released too many times");
            s->value[o]++;
            SAY("%s is now %d", on, s->value[o]);
        } else if (s->owner[o] != me) {   /* Python's words where it has them: an unlocked lock */
            return fail(s, t, what, len, s->owner[o] == 0 ? "RuntimeError: release unlocked lock"
                                                           : "RuntimeError: another thread holds it");
        } else if (--s->value[o] == 0) {
            s->owner[o] = 0;
            SAY("%s is free", on);
        } else {
            SAY("%s still holds %s (count %d)", th->name, on, s->value[o]);
        }
        break;
    case OP_WAIT:
        if (kind == OBJ_EVENT) {
            if (s->value[o] == 0) {
                SAY("blocked: %s is clear", on);
                return STEP_BLOCKED;
            }
            SAY("%s is set: go on", on);
            break;
        }
        {
            int lk = lv->objs[o].lock;
            if (s->phase[t] == 0) {   /* release the lock, join the queue */
                if (s->owner[lk] != me)
                    return fail(s, t, what, len, "RuntimeError: cannot wait on un-acquired lock");
                s->owner[lk] = 0;
                s->value[lk] = 0;
                int waiting = 0;
                for (int u = 0; u < lv->nthreads; u++)
                    if (s->phase[u] == 1 && lv->threads[u].code[s->pc[u]].obj == o)
                        waiting++;
                s->phase[t] = 1;
                s->rank[t] = (uint8_t)(waiting + 1);
                SAY("releases %s and waits (place %d in %s's queue)", lv->objs[lk].name, waiting + 1, on);
                return STEP_OK;
            }
            if (s->phase[t] == 1) {
                SAY("blocked: waiting for %s.notify()", on);
                return STEP_BLOCKED;
            }
            if (s->owner[lk] != 0) {
                SAY("blocked: woken, but %s is held by %s", lv->objs[lk].name, lv->threads[s->owner[lk] - 1].name);
                return STEP_BLOCKED;
            }
            s->owner[lk] = (int16_t)me;
            s->value[lk] = 1;
            s->phase[t] = 0;
            SAY("woken: holds %s again, wait() returns", lv->objs[lk].name);
        }
        break;
    case OP_NOTIFY:
    case OP_NOTIFY_ALL: {
        int woke = 0;
        for (int u = 0; u < lv->nthreads; u++) {
            if (s->phase[u] != 1 || lv->threads[u].code[s->pc[u]].obj != o)
                continue;
            if (in->op == OP_NOTIFY_ALL || s->rank[u] == 1) {
                s->phase[u] = 2;
                s->rank[u] = 0;
                woke++;
            } else {
                s->rank[u]--;
            }
        }
        if (woke)
            SAY("woke %d thread%s", woke, woke > 1 ? "s" : "");
        else
            SAY("nobody was waiting: the notify is lost");
        break;
    }
    case OP_SET:
    case OP_CLEAR:
        s->value[o] = in->op == OP_SET;
        SAY("%s is %s", on, in->op == OP_SET ? "set" : "clear");
        break;
    case OP_SLEEP:
        SAY("slept: the others may run");
        break;
    }
    s->pc[t] = (uint8_t)next;
    if (next >= th->n)
        s->status[t] = TH_DONE;
    return STEP_OK;
}

bool l14_can_step(const struct l14_level *lv, const struct l14_state *s, int t)
{
    struct l14_state copy = *s;
    return l14_step(lv, &copy, t, NULL, 0) == STEP_OK;
}

bool l14_all_done(const struct l14_level *lv, const struct l14_state *s)
{
    for (int t = 0; t < lv->nthreads; t++)
        if (s->status[t] == TH_RUNNING)
            return false;
    return true;
}

bool l14_stuck(const struct l14_level *lv, const struct l14_state *s)
{
    if (l14_all_done(lv, s))
        return false;
    for (int t = 0; t < lv->nthreads; t++)
        if (l14_can_step(lv, s, t))
            return false;
    return true;
}

bool l14_goal(const struct l14_level *lv, const struct l14_state *s)
{
    for (int i = 0; i < lv->nterms; i++) {
        const struct l14_term *c = &lv->terms[i];
        bool ok = c->kind == TERM_DONE ? l14_all_done(lv, s)
                  : c->kind == TERM_STUCK ? l14_stuck(lv, s)
                  : compare(val(lv, s, 0, c->a), c->cmp, val(lv, s, 0, c->b));
        if (!ok)
            return false;
    }
    return true;
}

bool l14_over(const struct l14_level *lv, const struct l14_state *s)
{
    if (l14_goal(lv, s))
        return true;
    for (int t = 0; t < lv->nthreads; t++)
        if (l14_can_step(lv, s, t))
            return false;
    return true;
}

void l14_vars_text(const struct l14_level *lv, const struct l14_state *s, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < lv->nvars && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s=%d", i ? " " : "", lv->vars[i], s->var[i]);
}

void l14_objs_text(const struct l14_level *lv, const struct l14_state *s, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < lv->nobjs && at < len; i++) {
        const struct l14_obj *o = &lv->objs[i];
        const char *sep = at ? "  " : "";
        switch (o->kind) {
        case OBJ_LOCK:
        case OBJ_RLOCK:
            if (s->owner[i] == 0)
                at += (size_t)snprintf(buf + at, len - at, "%s%s: free", sep, o->name);
            else if (o->kind == OBJ_RLOCK)
                at += (size_t)snprintf(buf + at, len - at, "%s%s: %s x%d", sep, o->name,
                                       lv->threads[s->owner[i] - 1].name, s->value[i]);
            else
                at += (size_t)snprintf(buf + at, len - at, "%s%s: %s", sep, o->name, lv->threads[s->owner[i] - 1].name);
            break;
        case OBJ_SEM:
        case OBJ_BSEM:
            at += (size_t)snprintf(buf + at, len - at, "%s%s=%d", sep, o->name, s->value[i]);
            break;
        case OBJ_EVENT:
            at += (size_t)snprintf(buf + at, len - at, "%s%s: %s", sep, o->name, s->value[i] ? "set" : "clear");
            break;
        case OBJ_COND: {
            int n = 0;
            for (int u = 0; u < lv->nthreads; u++)
                if (s->phase[u] == 1 && lv->threads[u].code[s->pc[u]].obj == i)
                    n++;
            at += (size_t)snprintf(buf + at, len - at, "%s%s: %d waiting", sep, o->name, n);
            break;
        }
        }
    }
}

int l14_parse_moves(const char *text, int *moves, int max, char *err, size_t errlen)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > 2 || strspn(p, "0123456789") != len) {
            snprintf(err, errlen, "move %d ('%.*s') is not a thread number", n + 1, (int)(len < 8 ? len : 8), p);
            return -1;
        }
        if (n == max) {
            snprintf(err, errlen, "more than %d moves", max);
            return -1;
        }
        moves[n++] = (p[0] - '0') * (len == 2 ? 10 : 1) + (len == 2 ? p[1] - '0' : 0);
        if (p[len] == '\0')
            return n;
        p += len + 1;
    }
}
