/* common/timeline.h - a picture of who was in which state over time (floor 3: uses shm, clock, out).
 *
 * Lab 6 drew who held the GIL; the same picture shows who held a semaphore's permits, which
 * children ran side by side, who held a lock.  Record state changes while the scenario runs, then
 * draw one row per thread or process, time left to right, one character per column:
 *
 *     static const struct lab_tl_state states[] = {
 *         { '.', LAB_RED, "waits for a permit" }, { '#', LAB_GREEN, "holds a permit" }, { 0 } };
 *     struct lab_timeline *tl = lab_timeline_new(20, 200);   // rows, events; shared with children
 *     lab_timeline_row(tl, 3, "Thread-4");                   // the row's label
 *     lab_timeline_mark(tl, 3, 1);                           // row 3 enters state 1 now
 *     lab_timeline_mark(tl, 3, LAB_TL_OFF);                  // ... and leaves the picture
 *     lab_timeline_draw(tl, states, 1);                      // after the run; count state 1
 *     lab_timeline_free(tl);
 *
 * Before its first mark (and after LAB_TL_OFF) a row is blank.  A column shows the state the row
 * was in for most of it.  With count_state >= 0 a last row gives, per column, how many rows were
 * in that state at once (the most seen in the column, + for 10 or more), and the peak: a semaphore's
 * limit or a lock's 1 shows there.  Marks are lock-free (an atomic slot each) and the memory is
 * shared, so forked children may mark too; marks past max_events are counted and said, not drawn.
 * Every line fits 100 columns.
 */
#ifndef COMMON_TIMELINE_H
#define COMMON_TIMELINE_H

#include "out.h"

#include <stddef.h>

#define LAB_TL_OFF (-1)

struct lab_tl_state {
    char ch;                 /* the character drawn; 0 ends the table */
    enum lab_color color;    /* on a terminal */
    const char *legend;      /* "holds a permit" */
};

struct lab_timeline;

struct lab_timeline *lab_timeline_new(size_t rows, size_t max_events);
void lab_timeline_row(struct lab_timeline *tl, size_t row, const char *label);
void lab_timeline_mark(struct lab_timeline *tl, size_t row, int state);
/* Draw it (lab_say lines): a title, the time axis, one row per labelled row, the count row when
 * count_state >= 0, the legend.  Returns the peak count (0 without a count row). */
int lab_timeline_draw(const struct lab_timeline *tl, const struct lab_tl_state *states, int count_state);
void lab_timeline_free(struct lab_timeline *tl);

#endif
