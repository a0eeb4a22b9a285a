/* minigil.h - a global interpreter lock for C, built the way CPython builds its own.
 *
 * C threads have no GIL: this is one, so that the lab can switch it on and off.
 *   GIL_NONE  no lock at all: the threads of the tiny interpreter run truly in parallel.
 *   GIL_PY2   Python 2: the holder gives the lock up every `check_interval` bytecodes ("ticks",
 *             sys.setcheckinterval, default 100) and immediately competes for it again, and on
 *             every blocking call.
 *   GIL_PY3   Python 3.2+ (CPython's ceval_gil.c, FORCE_SWITCHING): a thread that has waited
 *             `interval_us` (sys.setswitchinterval, default 5000 us) without any switch sets a
 *             drop request; the holder sees it at its next eval-breaker check (a backward jump),
 *             drops the lock and waits until another thread has really taken it.
 * Blocking calls (sleep, waiting for a user lock, a barrier) release the GIL in every mode, as
 * Py_BEGIN_ALLOW_THREADS does: gil_io_begin() before, gil_io_end() after.
 *
 * Instrumentation: `inside` counts the threads executing bytecode right now (atomic), and its
 * maximum is kept: under py2/py3 it can never exceed 1.  Hand-offs (the holder changed), drop
 * requests, drops at a check, and "retakes" (the thread that just dropped the lock at a check was
 * also the next to take it) are counted.  With `record` set, every state change of every thread is
 * written into a preallocated buffer, drawn after the run by gil_timeline_draw().
 */
#ifndef LAB06_MINIGIL_H
#define LAB06_MINIGIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In the order of the `gil` scenario's modes "none,py2,py3" (main.c): its mode index is this enum. */
enum gil_mode { GIL_NONE, GIL_PY2, GIL_PY3 };

/* What a thread is doing, for the timeline. */
enum gil_state {
    GS_OUT,     /* not in the interpreter (not started yet, or finished) */
    GS_WAIT,    /* wants the GIL, waits for it */
    GS_HOLD,    /* holds the GIL and executes bytecode (GIL_NONE: executes without it) */
    GS_IO,      /* in a blocking call, GIL released */
};

struct gil_event {
    uint64_t t_ns;          /* since gil->t0_ns */
    uint8_t state;          /* enum gil_state */
};

struct gil;
struct gil_thread;

/* The GIL's own log: who took it, when (the timeline draws holding from this, so two rows can
 * never show '#' at once under a GIL, even if a thread was descheduled before recording). */
struct gil_handoff {
    uint64_t t_ns;
    const struct gil_thread *who;
};

/* One thread of the interpreter (CPython's PyThreadState). */
struct gil_thread {
    struct gil *gil;
    char name[16];              /* row label of the timeline: "cpu-1", "io-1" */
    struct gil_event *ev;       /* preallocated by gil_thread_init when recording */
    size_t nev, cap;
    unsigned long lost;         /* events that did not fit */
    uint8_t last_state;         /* the last state recorded */
    /* --trace: the first GIL_TRACE_HOLDS holds (with their waits) are recorded in detail, the
     * rest only counted and said once when the thread leaves the interpreter (py2 drops the GIL
     * every 100 bytecodes: hundreds of thousands of holds would make a 30 MB trace). */
    unsigned long traced_holds, untraced_holds;
    bool hold_traced;           /* the hold now running has its slice open in the trace */
};
#define GIL_TRACE_HOLDS 500

struct gil {
    enum gil_mode mode;
    long interval_us;           /* py3: sys.getswitchinterval() in microseconds */
    long check_interval;        /* py2: sys.getcheckinterval() */
    bool record;                /* timeline on */
    uint64_t t0_ns;
    struct gil_handoff *log;    /* preallocated when recording; appended under mu */
    size_t nlog, caplog;
    unsigned long lost;         /* log entries that did not fit */

    pthread_mutex_t mu;         /* guards the fields down to `waiters` */
    pthread_cond_t cond;        /* the GIL was released */
    bool locked;
    struct gil_thread *last_holder;
    unsigned long switch_number;/* bumped when a different thread takes the GIL: the hand-offs */
    int waiters;                /* threads inside gil_take, waiting */
    struct gil_thread *check_dropper; /* dropped at a check with someone waiting; next taker decides "retake" */

    pthread_mutex_t switch_mu;  /* FORCE_SWITCHING: guards last_holder changes and switch_cond */
    pthread_cond_t switch_cond; /* a switch happened */

    atomic_int drop_request;    /* py3: eval_breaker's gil_drop_request bit */
    atomic_bool first_check_waits; /* py3, gil_force_first_request: the first check still waits */
    bool awaiting_request;      /* guarded by mu: a holder waits at its check for a drop request */
    long ticker;                /* py2: _Py_Ticker, guarded by the GIL itself */

    /* counters (atomics: read after the run) */
    atomic_int inside, max_inside;
    atomic_ulong drop_requests; /* py3: waiters that timed out and asked */
    atomic_ulong drops;         /* drops at a check: py2 every check_interval ticks, py3 on request */
    atomic_ulong contested;     /* of those, drops while another thread was waiting */
    atomic_ulong retakes;       /* of those, the dropper took the GIL straight back */
    atomic_ulong io_releases;   /* releases around blocking calls */
};

/* "none", "py2", "py3" (for the timeline's title and the convoy line). */
const char *gil_mode_name(enum gil_mode m);

void gil_init(struct gil *g, enum gil_mode mode, long interval_us, long check_interval, bool record);
void gil_destroy(struct gil *g);
/* Prepare a thread's state; `cap` timeline events are preallocated when g->record. */
void gil_thread_init(struct gil_thread *t, struct gil *g, const char *name, size_t cap);
void gil_thread_destroy(struct gil_thread *t);

/* py3, for a scenario whose lesson is the drop request (gil, convoy), before its threads start:
 * the first thread to reach an eval-breaker check waits there, holding the GIL (at most 10 s),
 * until a waiting thread asks for it, then drops it as asked.  So at least one drop request and
 * one drop happen on every run, however late the other threads get a CPU.  Only when another
 * thread will want the GIL (two threads or more); scenarios that time their runs never call it. */
void gil_force_first_request(struct gil *g);

/* Enter the interpreter (take the GIL) and leave it (drop it). */
void gil_enter(struct gil_thread *t);
void gil_leave(struct gil_thread *t);
/* Around a blocking call: release the GIL, then take it back. */
void gil_io_begin(struct gil_thread *t);
void gil_io_end(struct gil_thread *t);

/* py2's periodic check: once per bytecode. */
void gil_check_slow(struct gil_thread *t);
static inline void gil_tick(struct gil_thread *t)
{
    struct gil *g = t->gil;
    if (g->mode == GIL_PY2 && ++g->ticker >= g->check_interval)
        gil_check_slow(t);
}
/* py3's eval breaker: at backward jumps (CPython 3.10+ checks there and at calls). */
static inline void gil_eval_breaker(struct gil_thread *t)
{
    struct gil *g = t->gil;
    if (g->mode == GIL_PY3 && (atomic_load_explicit(&g->drop_request, memory_order_relaxed) ||
                               atomic_load_explicit(&g->first_check_waits, memory_order_relaxed)))
        gil_check_slow(t);
}

/* Wait on c (CLOCK_MONOTONIC) for at most GIL_WAIT_SLICE_MS; the caller re-checks its predicate.
 * glibc before 2.41 can lose a pthread_cond_signal (sourceware bug 25847): with every wait
 * bounded, a lost wake-up costs one slice instead of a hang. */
#define GIL_WAIT_SLICE_MS 20.0
void gil_wait_slice(pthread_cond_t *c, pthread_mutex_t *m);

/* Record a state change for the timeline (no-op unless g->record). */
void gil_record(struct gil_thread *t, enum gil_state s);

/* Draw the recorded timeline of threads[0..n-1]: one row per thread (at most max_rows), across
 * the run's time, in 80 columns; colours when stdout is a terminal. */
void gil_timeline_draw(const struct gil_thread *const *threads, size_t n, size_t max_rows);

#endif
