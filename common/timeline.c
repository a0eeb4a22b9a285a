/* common/timeline.c - who was in which state over time; see timeline.h. */
#include "timeline.h"
#include "clock.h"
#include "out.h"
#include "shm.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TL_COLS 64       /* columns of time */
#define TL_LABEL 18      /* width of a row's label */
#define TL_SAMPLES 8     /* samples per column */

struct tl_event {
    uint64_t t_ns;
    int row, state;
};

struct lab_timeline {
    size_t rows, max_events, size;
    uint64_t t0_ns;
    atomic_size_t next;            /* the next free event slot */
    char (*label)[TL_LABEL + 1];
    struct tl_event *ev;
};

struct lab_timeline *lab_timeline_new(size_t rows, size_t max_events)
{
    size_t size = sizeof(struct lab_timeline) + rows * (TL_LABEL + 1) + max_events * sizeof(struct tl_event);
    struct lab_timeline *tl = lab_shared_alloc(size);   /* zero-filled */
    tl->rows = rows;
    tl->max_events = max_events;
    tl->size = size;
    tl->t0_ns = lab_now_ns();
    atomic_init(&tl->next, 0);
    tl->ev = (struct tl_event *)(tl + 1);
    tl->label = (char(*)[TL_LABEL + 1])(tl->ev + max_events);
    return tl;
}

void lab_timeline_row(struct lab_timeline *tl, size_t row, const char *label)
{
    if (row < tl->rows)
        snprintf(tl->label[row], TL_LABEL + 1, "%s", label);
}

void lab_timeline_mark(struct lab_timeline *tl, size_t row, int state)
{
    size_t i = atomic_fetch_add(&tl->next, 1);
    if (i >= tl->max_events || row >= tl->rows)
        return;
    tl->ev[i] = (struct tl_event){ .t_ns = lab_now_ns(), .row = (int)row, .state = state };
}

void lab_timeline_free(struct lab_timeline *tl)
{
    if (tl)
        lab_shared_free(tl, tl->size);
}

static int by_time(const void *a, const void *b)
{
    const struct tl_event *x = a, *y = b;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

/* The state of `row` at time t (events sorted by time): its last mark at or before t. */
static int state_at(const struct tl_event *ev, size_t n, size_t row, uint64_t t)
{
    int s = LAB_TL_OFF;
    for (size_t i = 0; i < n && ev[i].t_ns <= t; i++)
        if ((size_t)ev[i].row == row)
            s = ev[i].state;
    return s;
}

int lab_timeline_draw(const struct lab_timeline *tl, const struct lab_tl_state *states, int count_state)
{
    size_t n = atomic_load(&((struct lab_timeline *)tl)->next);
    size_t lost = n > tl->max_events ? n - tl->max_events : 0;
    n -= lost;
    int nstates = 0;
    while (states[nstates].ch)
        nstates++;
    struct tl_event *ev = malloc((n ? n : 1) * sizeof *ev);
    if (ev == NULL)
        return 0;
    memcpy(ev, tl->ev, n * sizeof *ev);
    qsort(ev, n, sizeof *ev, by_time);
    uint64_t start = n ? ev[0].t_ns : tl->t0_ns, end = n ? ev[n - 1].t_ns : start + 1;
    if (end <= start)
        end = start + 1;
    double span_ms = (double)(end - start) / 1e6;
    lab_say("timeline: one row each, time left to right, %d columns = %.1f ms (%.2f ms a column)", TL_COLS,
            span_ms, span_ms / TL_COLS);
    lab_say("%-*s |0 ms%*.1f ms|", TL_LABEL, "", TL_COLS - 7, span_ms);
    int counts[TL_COLS] = { 0 }, peak = 0;
    for (size_t r = 0; r < tl->rows; r++) {
        if (tl->label[r][0] == '\0')
            continue;
        char line[1024];
        size_t len = (size_t)snprintf(line, sizeof line, "%-*s |", TL_LABEL, tl->label[r]);
        int prev = -2;
        for (int c = 0; c < TL_COLS; c++) {
            uint64_t a = start + (end - start) * (uint64_t)c / TL_COLS;
            uint64_t b = start + (end - start) * (uint64_t)(c + 1) / TL_COLS;
            unsigned acc[16] = { 0 }, off = 0;
            for (int k = 0; k < TL_SAMPLES; k++) {
                int s = state_at(ev, n, r, a + (b - a) * (uint64_t)(2 * k + 1) / (2 * TL_SAMPLES));
                if (s >= 0 && s < nstates && s < 16)
                    acc[s]++;
                else
                    off++;
            }
            int best = LAB_TL_OFF;
            unsigned most = off;
            for (int s = 0; s < nstates && s < 16; s++)
                if (acc[s] > most) {
                    most = acc[s];
                    best = s;
                }
            if (best != prev && len + 16 < sizeof line) {
                len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", lab_color(LAB_RESET),
                                        best >= 0 ? lab_color(states[best].color) : "");
                prev = best;
            }
            if (len + 2 < sizeof line)
                line[len++] = best >= 0 ? states[best].ch : ' ';
            line[len] = '\0';
        }
        snprintf(line + len, sizeof line - len, "%s|", lab_color(LAB_RESET));
        lab_say("%s", line);
    }
    if (count_state >= 0) {   /* per column, the most rows in count_state at one sample */
        char line[256];
        size_t len = (size_t)snprintf(line, sizeof line, "%-*s |", TL_LABEL, "how many at once");
        for (int c = 0; c < TL_COLS; c++) {
            uint64_t a = start + (end - start) * (uint64_t)c / TL_COLS;
            uint64_t b = start + (end - start) * (uint64_t)(c + 1) / TL_COLS;
            for (int k = 0; k < TL_SAMPLES; k++) {
                uint64_t t = a + (b - a) * (uint64_t)(2 * k + 1) / (2 * TL_SAMPLES);
                int in = 0;
                for (size_t r = 0; r < tl->rows; r++)
                    in += tl->label[r][0] && state_at(ev, n, r, t) == count_state;
                counts[c] = in > counts[c] ? in : counts[c];
            }
            peak = counts[c] > peak ? counts[c] : peak;
            line[len++] = counts[c] == 0 ? ' ' : counts[c] > 9 ? '+' : (char)('0' + counts[c]);
        }
        snprintf(line + len, sizeof line - len, "| peak %d", peak);
        lab_say("%s", line);
    }
    char legend[512];
    size_t len = 0;
    for (int s = 0; s < nstates && len + 80 < sizeof legend; s++)
        len += (size_t)snprintf(legend + len, sizeof legend - len, "%s%s%c%s %s", s ? "   " : "",
                                lab_color(states[s].color), states[s].ch, lab_color(LAB_RESET), states[s].legend);
    if (count_state >= 0 && len + 80 < sizeof legend)
        snprintf(legend + len, sizeof legend - len, "   digits: how many %c at once (+: 10 or more)",
                 states[count_state].ch);
    lab_say("%s", legend);
    if (lost)
        lab_say("(%zu marks did not fit: the end of some rows is missing)", lost);
    free(ev);
    return peak;
}
