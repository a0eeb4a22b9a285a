/* labs/13-scheduling/sim.c - one CPU, many jobs, discrete ticks: the simulator every algorithm shares.
 *
 * At each tick t, in this order (so that every run is exact and a student can predict it):
 *   1. IO that ends at t: BLOCKED -> READY (in job order);
 *   2. jobs that arrive at t: NEW -> READY (in job order);
 *   3. the CPU is taken away: the running job used its whole quantum (RR, MLFQ, lottery), or a
 *      waiting job should run first (SRTF: less time left; MLFQ: a higher level): RUNNING -> READY;
 *   4. a free CPU goes to the job the algorithm picks: READY -> RUNNING.
 * The running job then computes; when its CPU burst ends it goes RUNNING -> BLOCKED (an IO wait
 * follows) or RUNNING -> EXIT.  These are the two reasons the notes give for the OS taking the CPU
 * away: the program waits for IO (the CPU is better used by another), or it has run long enough.
 *
 * Cost: O(log n) per event (arrival, dispatch, IO end), nothing per tick: the CPU runs a job for as
 * many ticks as nothing else can happen, so 100,000 jobs take a fraction of a second.
 */
#include "lab.h"
#include "lab13.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim {
    struct workload *w;
    const struct sim_config *cfg;
    sim_trace_fn trace;
    void *arg;
    struct sim_result *r;
    size_t slices_cap;
    /* arrivals, in arrival order (stable: list order within a tick) */
    size_t *by_arrival, next_arrival;
    /* IO in progress: a min-heap on (io_done, job) */
    size_t *io, nio;
    /* READY jobs: FIFO queues (one per MLFQ level; FCFS and RR use level 0) */
    size_t *fifo[L13_MAX_LEVELS];
    size_t head[L13_MAX_LEVELS], count[L13_MAX_LEVELS];
    /* READY jobs for SJF/SRTF: a min-heap on (time left, arrival, job) */
    size_t *heap, nheap;
    /* READY jobs for the lottery: a Fenwick tree of their tickets */
    long *fen, tickets;
    size_t nready;
    struct lab_rng rng;
    long *ready_since;
};

const char *l13_state_name(enum job_state s)
{
    static const char *const names[] = { "NEW", "READY", "RUNNING", "BLOCKED", "EXIT" };
    return names[s];
}

const char *l13_algo_label(const struct sim_config *cfg, char *buf, size_t len)
{
    static const char *const names[] = { "FCFS", "SJF", "SRTF", "RR", "MLFQ", "LOTTERY" };
    if (cfg->algo == ALGO_RR)
        snprintf(buf, len, "RR%ld", cfg->quantum);
    else
        snprintf(buf, len, "%s", names[cfg->algo]);
    return buf;
}

/* ==== The state diagram: every change goes through move() ==== */

static bool legal(enum job_state from, enum job_state to)
{
    switch (from) {
    case ST_NEW: return to == ST_READY;
    case ST_READY: return to == ST_RUNNING;
    case ST_RUNNING: return to == ST_READY || to == ST_BLOCKED || to == ST_EXIT;
    case ST_BLOCKED: return to == ST_READY;        /* never straight back to RUNNING */
    case ST_EXIT: return false;
    }
    return false;
}

static void move(struct sim *s, long t, size_t j, enum job_state to)
{
    struct job *job = &s->w->jobs[j];
    enum job_state from = job->state;
    if (!legal(from, to))
        s->r->illegal++;
    if (from == ST_READY)
        job->waiting += t - s->ready_since[j];
    if (to == ST_READY)
        s->ready_since[j] = t;
    job->state = to;
    if (s->trace)
        s->trace(t, job, from, to, s->arg);
}

/* ==== Heaps ==== */

/* SJF/SRTF order: less time left first, then earlier arrival, then list order. */
static bool shorter(const struct sim *s, size_t a, size_t b)
{
    const struct job *x = &s->w->jobs[a], *y = &s->w->jobs[b];
    if (x->left != y->left)
        return x->left < y->left;
    if (x->arrival != y->arrival)
        return x->arrival < y->arrival;
    return a < b;
}

/* IO order: the earliest end first, then list order. */
static bool io_first(const struct sim *s, size_t a, size_t b)
{
    const struct job *x = &s->w->jobs[a], *y = &s->w->jobs[b];
    return x->io_done != y->io_done ? x->io_done < y->io_done : a < b;
}

typedef bool (*before_fn)(const struct sim *, size_t, size_t);

static void heap_push(struct sim *s, size_t *h, size_t *n, size_t j, before_fn before)
{
    size_t i = (*n)++;
    h[i] = j;
    while (i > 0 && before(s, h[i], h[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, tmp = h[p];
        h[p] = h[i];
        h[i] = tmp;
        i = p;
    }
}

static size_t heap_pop(struct sim *s, size_t *h, size_t *n, before_fn before)
{
    size_t top = h[0];
    h[0] = h[--*n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && before(s, h[l], h[m]))
            m = l;
        if (r < *n && before(s, h[r], h[m]))
            m = r;
        if (m == i)
            break;
        size_t tmp = h[m];
        h[m] = h[i];
        h[i] = tmp;
        i = m;
    }
    return top;
}

/* ==== The lottery's tickets: a Fenwick tree, so a draw costs O(log n) ==== */

static void fen_add(struct sim *s, size_t j, long v)
{
    for (size_t i = j + 1; i <= s->w->n; i += i & -i)
        s->fen[i] += v;
    s->tickets += v;
}

/* The job holding ticket number k (0 <= k < s->tickets). */
static size_t fen_find(const struct sim *s, long k)
{
    size_t pos = 0, step = 1;
    while (step * 2 <= s->w->n)
        step *= 2;
    for (; step; step /= 2)
        if (pos + step <= s->w->n && s->fen[pos + step] <= k) {
            pos += step;
            k -= s->fen[pos];
        }
    return pos;   /* 0-based index of the job */
}

/* ==== The READY set: push one job, pick the next ==== */

static void ready_push(struct sim *s, size_t j)
{
    struct job *job = &s->w->jobs[j];
    s->nready++;
    switch (s->cfg->algo) {
    case ALGO_SJF:
    case ALGO_SRTF:
        heap_push(s, s->heap, &s->nheap, j, shorter);
        break;
    case ALGO_LOTTERY:
        fen_add(s, j, job->tickets);
        break;
    default: {
        int l = s->cfg->algo == ALGO_MLFQ ? job->level : 0;
        s->fifo[l][(s->head[l] + s->count[l]++) % s->w->n] = j;
    }
    }
}

static int top_level(const struct sim *s)
{
    for (int l = 0; l < s->cfg->levels; l++)
        if (s->count[l])
            return l;
    return s->cfg->levels;
}

static size_t fifo_pop(struct sim *s, int l)
{
    size_t j = s->fifo[l][s->head[l]];
    s->head[l] = (s->head[l] + 1) % s->w->n;
    s->count[l]--;
    return j;
}

static size_t ready_pop(struct sim *s)
{
    s->nready--;
    switch (s->cfg->algo) {
    case ALGO_SJF:
    case ALGO_SRTF:
        return heap_pop(s, s->heap, &s->nheap, shorter);
    case ALGO_LOTTERY: {
        size_t j = fen_find(s, lab_rng_range(&s->rng, 0, s->tickets - 1));
        fen_add(s, j, -s->w->jobs[j].tickets);
        return j;
    }
    case ALGO_MLFQ:
        return fifo_pop(s, top_level(s));
    default:
        return fifo_pop(s, 0);
    }
}

/* The quantum of the running job: how long it may keep the CPU without a reason to stop. */
static long quantum_of(const struct sim *s, const struct job *j)
{
    switch (s->cfg->algo) {
    case ALGO_RR:
    case ALGO_LOTTERY: return s->cfg->quantum;
    case ALGO_MLFQ: return s->cfg->quanta[j->level];
    default: return LONG_MAX;
    }
}

static void add_slice(struct sim *s, size_t j, long start, long end, bool io)
{
    struct sim_result *r = s->r;
    int level = s->cfg->algo == ALGO_MLFQ ? s->w->jobs[j].level : 0;
    if (!io && r->nslices && r->slices[r->nslices - 1].job == j && r->slices[r->nslices - 1].level == level
        && r->slices[r->nslices - 1].end == start && !r->slices[r->nslices - 1].io) {
        r->slices[r->nslices - 1].end = end;   /* the same job again straight away: one stretch */
        return;
    }
    if (r->nslices == s->slices_cap) {
        s->slices_cap = s->slices_cap ? 2 * s->slices_cap : 64;
        struct slice *bigger = realloc(r->slices, s->slices_cap * sizeof *bigger);
        if (bigger == NULL)
            die("realloc:");
        r->slices = bigger;
    }
    r->slices[r->nslices++] = (struct slice){ .job = j, .level = level, .start = start, .end = end, .io = io };
}

static int by_arrival(const void *a, const void *b, void *w)
{
    const struct job *jobs = ((struct workload *)w)->jobs;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (jobs[x].arrival != jobs[y].arrival)
        return jobs[x].arrival < jobs[y].arrival ? -1 : 1;
    return x < y ? -1 : x > y;
}

void l13_simulate(struct workload *w, const struct sim_config *cfg, sim_trace_fn trace, void *arg,
                  struct sim_result *r)
{
    memset(r, 0, sizeof *r);
    l13_workload_reset(w);
    struct sim s = { .w = w, .cfg = cfg, .trace = trace, .arg = arg, .r = r };
    size_t n = w->n;
    s.by_arrival = xmalloc(n * sizeof *s.by_arrival);
    for (size_t i = 0; i < n; i++)
        s.by_arrival[i] = i;
    qsort_r(s.by_arrival, n, sizeof *s.by_arrival, by_arrival, w);
    s.io = xmalloc(n * sizeof *s.io);
    s.heap = xmalloc(n * sizeof *s.heap);
    s.fen = xcalloc(n + 1, sizeof *s.fen);
    s.ready_since = xcalloc(n, sizeof *s.ready_since);
    int levels = cfg->algo == ALGO_MLFQ ? cfg->levels : 1;
    for (int l = 0; l < levels; l++)
        s.fifo[l] = xmalloc(n * sizeof *s.fifo[l]);
    lab_rng_init(&s.rng, cfg->seed);

    long t = 0, running = -1;
    size_t done = 0;
    while (done < n) {
        /* 1. IO that ends now */
        while (s.nio && w->jobs[s.io[0]].io_done <= t) {
            size_t j = heap_pop(&s, s.io, &s.nio, io_first);
            w->jobs[j].phase++;
            w->jobs[j].left = w->jobs[j].phases[w->jobs[j].phase];
            move(&s, t, j, ST_READY);
            ready_push(&s, j);
        }
        /* 2. arrivals (uniprogramming: only into an empty machine) */
        while (s.next_arrival < n && w->jobs[s.by_arrival[s.next_arrival]].arrival <= t
               && !(cfg->uniprog && s.next_arrival > done)) {
            size_t j = s.by_arrival[s.next_arrival++];
            move(&s, t, j, ST_READY);
            ready_push(&s, j);
        }
        /* MLFQ's priority boost: everybody back to the top level, in level order */
        if (cfg->algo == ALGO_MLFQ && cfg->boost > 0 && t > 0 && t % cfg->boost == 0) {
            for (int l = 1; l < levels; l++)
                while (s.count[l]) {
                    size_t j = fifo_pop(&s, l);
                    s.nready--;
                    w->jobs[j].level = 0;
                    ready_push(&s, j);
                }
            if (running >= 0) {
                w->jobs[running].level = 0;
                w->jobs[running].used = 0;
            }
        }
        /* 3. the CPU taken away */
        if (running >= 0) {
            struct job *j = &w->jobs[running];
            bool expired = j->used >= quantum_of(&s, j);
            bool shorter_waits = cfg->algo == ALGO_SRTF && s.nheap && w->jobs[s.heap[0]].left < j->left;
            bool higher_waits = cfg->algo == ALGO_MLFQ && top_level(&s) < j->level;
            if (expired || shorter_waits || higher_waits) {
                if (expired && cfg->algo == ALGO_MLFQ && j->level < levels - 1)
                    j->level++;        /* used its whole slice: one level down */
                j->used = 0;           /* preempted: back to its own level, a fresh slice */
                move(&s, t, (size_t)running, ST_READY);
                ready_push(&s, (size_t)running);
                running = -1;
            }
        }
        /* 4. dispatch */
        if (running < 0 && s.nready) {
            running = (long)ready_pop(&s);
            struct job *j = &w->jobs[running];
            move(&s, t, (size_t)running, ST_RUNNING);
            if (j->first_run < 0)
                j->first_run = t;
            j->used = 0;
        }
        if (running < 0) {
            /* Idle CPU: jump to the next event. */
            long next = LONG_MAX;
            if (s.next_arrival < n && !(cfg->uniprog && s.next_arrival > done))
                next = w->jobs[s.by_arrival[s.next_arrival]].arrival;
            if (s.nio && w->jobs[s.io[0]].io_done < next)
                next = w->jobs[s.io[0]].io_done;
            if (next == LONG_MAX)
                break;          /* cannot happen: a job is left, so it waits somewhere */
            t = next;
            continue;
        }
        /* Compute for as many ticks as nothing else can happen. */
        struct job *j = &w->jobs[running];
        long k = j->left;
        long q = quantum_of(&s, j);
        if (q != LONG_MAX && q - j->used < k)
            k = q - j->used;
        if (s.next_arrival < n && !cfg->uniprog && w->jobs[s.by_arrival[s.next_arrival]].arrival - t < k)
            k = w->jobs[s.by_arrival[s.next_arrival]].arrival - t;
        if (s.nio && w->jobs[s.io[0]].io_done - t < k)
            k = w->jobs[s.io[0]].io_done - t;
        if (cfg->algo == ALGO_MLFQ && cfg->boost > 0 && cfg->boost - t % cfg->boost < k)
            k = cfg->boost - t % cfg->boost;
        if (k < 1)
            k = 1;
        add_slice(&s, (size_t)running, t, t + k, false);
        j->left -= k;
        j->used += k;
        r->cpu_busy += k;
        t += k;
        if (j->left == 0) {
            j->phase++;
            if (j->phase == j->nphases) {
                j->finish = t;
                move(&s, t, (size_t)running, ST_EXIT);
                done++;
            } else {
                j->io_done = t + j->phases[j->phase];
                move(&s, t, (size_t)running, ST_BLOCKED);
                add_slice(&s, (size_t)running, t, j->io_done, true);
                heap_push(&s, s.io, &s.nio, (size_t)running, io_first);
            }
            running = -1;
        }
    }
    r->makespan = t;
    for (int l = 0; l < levels; l++)
        free(s.fifo[l]);
    free(s.by_arrival);
    free(s.io);
    free(s.heap);
    free(s.fen);
    free(s.ready_since);
}

void l13_result_free(struct sim_result *r)
{
    free(r->slices);
    memset(r, 0, sizeof *r);
}
