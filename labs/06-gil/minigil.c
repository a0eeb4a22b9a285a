/* minigil.c - the GIL of lab 6 (CPython's ceval_gil.c, in plain pthreads) and its timeline.
 *
 * The lock itself is a boolean `locked` guarded by a mutex and a condition variable, exactly as
 * in CPython 3.2+: the GIL is not a pthread mutex, because Python 3 needs a *timed* wait that,
 * when it times out, asks the holder to let go (a mutex cannot be asked).  Python 2 used a plain
 * lock that the holder released and re-acquired every 100 ticks; modelled here with the same
 * boolean, without the timeout and without the forced switch.
 *
 * Python original ↔ C:  sys.setswitchinterval(0.005) ↔ --interval-us=5000;
 * sys.setcheckinterval(100) (Python 2) ↔ --check-interval=100;  Py_BEGIN_ALLOW_THREADS ↔
 * gil_io_begin();  take_gil()/drop_gil() ↔ take()/drop() below.
 *
 * Usage (from a scenario): gil_init(&g, GIL_PY3, 5000, 100, record); one gil_thread per thread;
 * interp_run() calls gil_enter/gil_leave, gil_tick, gil_eval_breaker and gil_io_begin/end.
 * What to watch for: `inside` never above 1 unless the mode is none; py2's `drops` equal to the
 * bytecodes executed / check_interval; py3's `retakes` always 0 (the forced switch); with
 * gil_force_first_request (gil, convoy) at least one py3 drop request, whatever the timing.
 * See also: interp.c (the bytecode loop that calls gil_tick/gil_eval_breaker), gil.c.
 */
#include "minigil.h"

#include "lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gil_mode_name(enum gil_mode m)
{
    return m == GIL_NONE ? "none" : m == GIL_PY2 ? "py2" : "py3";
}

void gil_init(struct gil *g, enum gil_mode mode, long interval_us, long check_interval, bool record)
{
    memset(g, 0, sizeof *g);
    g->mode = mode;
    g->interval_us = interval_us > 0 ? interval_us : 1;
    g->check_interval = check_interval > 0 ? check_interval : 1;
    g->record = record;
    g->t0_ns = lab_now_ns();
    if (record) {
        g->caplog = 1 << 16;
        g->log = xcalloc(g->caplog, sizeof *g->log);
    }
    lab_mutex_init(&g->mu, 0);
    lab_mutex_init(&g->switch_mu, 0);
    /* The timed wait of py3 runs on the monotonic clock, as CPython's does. */
    lab_cond_init(&g->cond, 0);
    lab_cond_init(&g->switch_cond, 0);
    atomic_init(&g->drop_request, 0);
    atomic_init(&g->first_check_waits, false);
    atomic_init(&g->inside, 0);
    atomic_init(&g->max_inside, 0);
    atomic_init(&g->drop_requests, 0);
    atomic_init(&g->drops, 0);
    atomic_init(&g->contested, 0);
    atomic_init(&g->retakes, 0);
    atomic_init(&g->io_releases, 0);
}

void gil_destroy(struct gil *g)
{
    free(g->log);
    g->log = NULL;
    Pthread_cond_destroy(&g->cond);
    Pthread_cond_destroy(&g->switch_cond);
    Pthread_mutex_destroy(&g->mu);
    Pthread_mutex_destroy(&g->switch_mu);
}

void gil_thread_init(struct gil_thread *t, struct gil *g, const char *name, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->gil = g;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->last_state = GS_OUT;
    if (g->record && cap > 0) {
        /* Preallocated: recording while the threads run must not print, nor allocate. */
        t->ev = xcalloc(cap, sizeof *t->ev);
        t->cap = cap;
    }
}

void gil_thread_destroy(struct gil_thread *t)
{
    free(t->ev);
    t->ev = NULL;
    t->cap = t->nev = 0;
}

void gil_record(struct gil_thread *t, enum gil_state s)
{
    if (!t->gil->record || t->last_state == s)
        return;
    t->last_state = (uint8_t)s;
    if (t->nev == t->cap) {
        t->lost++;
        return;
    }
    t->ev[t->nev].t_ns = lab_now_ns() - t->gil->t0_ns;
    t->ev[t->nev].state = (uint8_t)s;
    t->nev++;
}

/* ==== take and drop (CPython's take_gil / drop_gil) ==== */

void gil_wait_slice(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct timespec deadline = lab_deadline_ms(GIL_WAIT_SLICE_MS);
    int rc = pthread_cond_timedwait(c, m, &deadline);
    if (rc != 0 && rc != ETIMEDOUT)
        die_en(rc, "pthread_cond_timedwait");
}

/* Wait until the GIL is free and take it.  py3: every interval without a switch, ask the holder
 * to drop it (the drop request). */
static void take(struct gil *g, struct gil_thread *t)
{
    bool requested = false;
    bool detail = t->traced_holds < GIL_TRACE_HOLDS;     /* --trace: this hold in detail */
    Pthread_mutex_lock(&g->mu);
    if (g->locked) {
        gil_record(t, GS_WAIT);
        if (detail)
            lab_trace_begin("gil", "wait GIL");
        g->waiters++;
        while (g->locked) {
            if (g->mode == GIL_PY3) {
                unsigned long saved_switchnum = g->switch_number;
                struct timespec deadline = lab_deadline_ms((double)g->interval_us / 1000.0);
                int rc = pthread_cond_timedwait(&g->cond, &g->mu, &deadline);
                if (rc != 0 && rc != ETIMEDOUT)
                    die_en(rc, "pthread_cond_timedwait");
                /* Timed out, and nobody else got the GIL meanwhile: time to ask. */
                if (rc == ETIMEDOUT && g->locked && g->switch_number == saved_switchnum) {
                    atomic_store(&g->drop_request, 1);
                    atomic_fetch_add(&g->drop_requests, 1);
                    if (g->awaiting_request)        /* gil_force_first_request's holder */
                        Pthread_cond_broadcast(&g->cond);
                    if (detail)
                        lab_trace_instant("gil", "drop request");
                    requested = true;
                }
            } else {
                gil_wait_slice(&g->cond, &g->mu);   /* the loop re-checks `locked` */
            }
        }
        g->waiters--;
        if (detail)
            lab_trace_end();
    }
    /* _ready: we hold the GIL.  last_holder changes under switch_mu too (see drop). */
    if (g->mode == GIL_PY3)
        Pthread_mutex_lock(&g->switch_mu);
    g->locked = true;
    if (g->last_holder != t) {
        g->last_holder = t;
        g->switch_number++;             /* a hand-off */
        if (g->record) {
            if (g->nlog < g->caplog)
                g->log[g->nlog++] = (struct gil_handoff){ lab_now_ns() - g->t0_ns, t };
            else
                g->lost++;
        }
    }
    if (g->mode == GIL_PY3) {
        Pthread_cond_signal(&g->switch_cond);
        Pthread_mutex_unlock(&g->switch_mu);
    }
    if (g->check_dropper) {             /* the first take after a contested drop at a check */
        if (g->check_dropper == t)
            atomic_fetch_add(&g->retakes, 1);
        g->check_dropper = NULL;
    }
    if (requested)
        atomic_store(&g->drop_request, 0);
    Pthread_mutex_unlock(&g->mu);
    gil_record(t, GS_HOLD);
    t->hold_traced = detail;
    if (detail) {
        lab_trace_begin("gil", "hold GIL");
        if (++t->traced_holds == GIL_TRACE_HOLDS && lab_trace_on())
            lab_trace_instant("gil", "the first %d holds of this thread are drawn; the rest are counted",
                              GIL_TRACE_HOLDS);
    } else {
        t->untraced_holds++;
    }
}

/* Release the GIL.  at_check: dropped at a periodic check (py2 ticks, py3 request), not for a
 * blocking call or at the end. */
static void drop(struct gil *g, struct gil_thread *t, bool at_check)
{
    if (t->hold_traced)
        lab_trace_end();   /* the hold */
    t->hold_traced = false;
    Pthread_mutex_lock(&g->mu);
    g->locked = false;
    if (at_check && g->waiters > 0) {
        atomic_fetch_add(&g->contested, 1);
        g->check_dropper = t;
    }
    Pthread_cond_signal(&g->cond);
    Pthread_mutex_unlock(&g->mu);

    /* FORCE_SWITCHING: after a drop request, do not compete again before another thread has
     * really taken the GIL (otherwise the dropper, still on its CPU, usually wins: Python 2's
     * convoy). */
    if (g->mode == GIL_PY3 && atomic_load(&g->drop_request)) {
        Pthread_mutex_lock(&g->switch_mu);
        if (g->last_holder == t) {
            atomic_store(&g->drop_request, 0);
            gil_record(t, GS_WAIT);
            if (t->traced_holds < GIL_TRACE_HOLDS)
                lab_trace_instant("gil", "dropped on request: wait for the switch");
            /* CPython waits once; looping makes "no retake after a forced drop" exact even with
             * a spurious or lost wake-up.  The requester is waiting in take(), so a switch will come. */
            while (g->last_holder == t)
                gil_wait_slice(&g->switch_cond, &g->switch_mu);
        }
        Pthread_mutex_unlock(&g->switch_mu);
    }
}

/* ==== what the interpreter calls ==== */

static void count_in(struct gil *g)
{
    int now = atomic_fetch_add(&g->inside, 1) + 1;
    int max = atomic_load(&g->max_inside);
    while (now > max && !atomic_compare_exchange_weak(&g->max_inside, &max, now))
        ;
}

void gil_enter(struct gil_thread *t)
{
    struct gil *g = t->gil;
    if (g->mode != GIL_NONE)
        take(g, t);
    else
        gil_record(t, GS_HOLD);
    count_in(g);
}

void gil_leave(struct gil_thread *t)
{
    struct gil *g = t->gil;
    atomic_fetch_sub(&g->inside, 1);
    if (g->mode != GIL_NONE)
        drop(g, t, false);
    gil_record(t, GS_OUT);
    if (t->untraced_holds > 0) {
        lab_trace_instant("gil", "%lu more holds of the GIL, not drawn (the first %d are)", t->untraced_holds,
                          GIL_TRACE_HOLDS);
        t->untraced_holds = 0;
    }
}

void gil_io_begin(struct gil_thread *t)
{
    struct gil *g = t->gil;
    atomic_fetch_sub(&g->inside, 1);
    if (g->mode != GIL_NONE) {
        atomic_fetch_add(&g->io_releases, 1);
        drop(g, t, false);
    }
    gil_record(t, GS_IO);
}

void gil_io_end(struct gil_thread *t)
{
    gil_enter(t);
}

void gil_force_first_request(struct gil *g)
{
    if (g->mode == GIL_PY3)
        atomic_store(&g->first_check_waits, true);
}

/* The holder, at its first check after gil_force_first_request: wait (GIL held) until a waiter
 * has asked for the GIL.  Nothing else can happen meanwhile: no other thread can take the GIL,
 * so the only wake-ups are the requester's broadcast and the bound's slices. */
static bool await_request(struct gil *g)
{
    double give_up = lab_now_ms() + lab_bound_ms(0);   /* no notes-time to wait for: the slack */
    Pthread_mutex_lock(&g->mu);
    g->awaiting_request = true;
    while (!atomic_load(&g->drop_request) && lab_now_ms() < give_up)
        gil_wait_slice(&g->cond, &g->mu);
    g->awaiting_request = false;
    Pthread_mutex_unlock(&g->mu);
    return atomic_load(&g->drop_request) != 0;
}

void gil_check_slow(struct gil_thread *t)
{
    struct gil *g = t->gil;
    if (g->mode == GIL_PY2)
        g->ticker = 0;                  /* _Py_Ticker = _Py_CheckInterval */
    if (g->mode == GIL_PY3 && atomic_load(&g->first_check_waits) && atomic_exchange(&g->first_check_waits, false) &&
        !await_request(g))
        return;                         /* nobody asked within the bound: no drop to make */
    atomic_fetch_add(&g->drops, 1);
    atomic_fetch_sub(&g->inside, 1);
    drop(g, t, true);
    take(g, t);
    count_in(g);
}

/* ==== the timeline ==== */

#define TL_LABEL 8      /* "cpu-1   " */
#define TL_COLS 64      /* 8 + " |" + 64 + "| " + "100%" = 80 columns */
#define TL_SAMPLES 32   /* instants looked at in each column */

static const char tl_char[] = { ' ', '.', '#', '~' };

static enum lab_color tl_color(int s)
{
    return s == GS_HOLD ? LAB_GREEN : s == GS_WAIT ? LAB_RED : s == GS_IO ? LAB_BLUE : LAB_RESET;
}

/* What thread t was doing at time x (ns since t0): its own last record, except that under a GIL
 * it holds the GIL only while the GIL's log names it: a thread that dropped the GIL and was
 * descheduled before it could record the fact shows as waiting, not as holding. */
static int tl_state_at(const struct gil *g, const struct gil_thread *t, uint64_t x)
{
    size_t lo = 0, hi = t->nev;             /* first event after x */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->ev[mid].t_ns <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    int own = lo == 0 ? GS_OUT : t->ev[lo - 1].state;
    if (own != GS_HOLD || g->mode == GIL_NONE)
        return own;
    lo = 0, hi = g->nlog;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->log[mid].t_ns <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct gil_thread *holder = lo == 0 ? NULL : g->log[lo - 1].who;
    return holder == t ? GS_HOLD : GS_WAIT;
}

void gil_timeline_draw(const struct gil_thread *const *threads, size_t n, size_t max_rows)
{
    if (n == 0 || !threads[0]->gil->record)
        return;
    struct gil *g = threads[0]->gil;
    uint64_t end = 1;
    unsigned long lost = 0;
    for (size_t i = 0; i < n; i++) {
        if (threads[i]->nev && threads[i]->ev[threads[i]->nev - 1].t_ns > end)
            end = threads[i]->ev[threads[i]->nev - 1].t_ns;
        lost += threads[i]->lost;
    }
    lost += g->lost;
    double span_ms = (double)end / 1e6;
    printf("timeline (%s): one row per thread, %d columns = %.1f ms, %.2f ms per column\n",
           gil_mode_name(g->mode), TL_COLS, span_ms, span_ms / TL_COLS);
    char axis[128];
    snprintf(axis, sizeof axis, "%-*s |0 ms%*.1f ms|", TL_LABEL, "", TL_COLS - 7, span_ms);
    printf("%s\n", axis);
    size_t rows = n < max_rows ? n : max_rows;
    for (size_t i = 0; i < rows; i++) {
        const struct gil_thread *t = threads[i];
        char line[1024];
        size_t len = 0;
        unsigned hold = 0;
        int prev = -1;
        len += (size_t)snprintf(line + len, sizeof line - len, "%-*.*s |", TL_LABEL, TL_LABEL, t->name);
        for (int c = 0; c < TL_COLS; c++) {
            uint64_t a = end * (uint64_t)c / TL_COLS, b = end * (uint64_t)(c + 1) / TL_COLS;
            unsigned acc[4] = { 0, 0, 0, 0 };
            for (int k = 0; k < TL_SAMPLES; k++) {      /* sample the column */
                uint64_t x = a + (b - a) * (uint64_t)(2 * k + 1) / (2 * TL_SAMPLES);
                acc[tl_state_at(g, t, x)]++;
            }
            hold += acc[GS_HOLD];
            /* '#' only for a strict majority of the column: then two rows can never both show
             * it under a GIL.  Otherwise the most frequent of the other states. */
            int best = GS_HOLD;
            if (2 * acc[GS_HOLD] <= TL_SAMPLES) {
                best = GS_OUT;
                for (int s = GS_WAIT; s < 4; s++)
                    if (s != GS_HOLD && acc[s] > acc[best])
                        best = s;
            }
            if (best != prev) {
                len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", lab_color(LAB_RESET), lab_color(tl_color(best)));
                prev = best;
            }
            line[len++] = tl_char[best];
            line[len] = '\0';
        }
        snprintf(line + len, sizeof line - len, "%s| %3d%%", lab_color(LAB_RESET), (int)(100.0 * (double)hold / (TL_COLS * TL_SAMPLES) + 0.5));
        printf("%s\n", line);
    }
    if (rows < n)
        printf("%-*s  ... and %zu more threads (not drawn)\n", TL_LABEL, "", n - rows);
    printf("%s# %s%s  %s.%s waits for it  %s~%s blocking call (GIL released)  %%: time running\n",
           lab_color(LAB_GREEN), g->mode == GIL_NONE ? "runs (no GIL)" : "holds the GIL", lab_color(LAB_RESET),
           lab_color(LAB_RED), lab_color(LAB_RESET), lab_color(LAB_BLUE), lab_color(LAB_RESET));
    if (lost)
        printf("(%lu events did not fit in the buffer: the end of some rows is missing)\n", lost);
}
