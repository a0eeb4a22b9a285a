/* common/clock.h - the lab's time: one "second" of the course notes lasts LAB_SECOND_MS ms.
 *
 * Every time.sleep(x) of the notes becomes lab_sleep(x): x * LAB_SECOND_MS milliseconds on the
 * monotonic clock, restarted after signal handlers.  Elapsed times are measured on
 * CLOCK_MONOTONIC and reported in the same units, so a test can run a 6-"second" demo in 120 ms and
 * still compare 6.0 against 3.0.
 */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Default pace: the guided demos take a few seconds. */
#define LAB_SECOND_MS_DEFAULT 100

/* Milliseconds per notes-second (from LAB_SECOND_MS, checked by lab_main; default above). */
long lab_second_ms(void);
/* Set it (lab_main does, from the environment; unit tests too). */
void lab_set_second_ms(long ms);

/* Conversions between notes-seconds ("units") and milliseconds at the current pace. */
double lab_units_ms(double units);
double lab_ms_units(double ms);

/* A safety bound for a wait that the lesson expects to end after about `units` notes-seconds:
 * units at the current pace plus LAB_BOUND_SLACK_MS, so a slow or loaded machine never trips it
 * while a real hang still ends in seconds.  Use it for every "this cannot take longer" wait. */
#define LAB_BOUND_SLACK_MS 10000.0
double lab_bound_ms(double units);

/* Sleep `units` notes-seconds (may be fractional: lab_sleep(0.1)). */
void lab_sleep(double units);
/* Sleep real milliseconds (not scaled). */
void lab_sleep_ms(double ms);

/* Monotonic time in milliseconds since an arbitrary origin, with sub-millisecond precision. */
double lab_now_ms(void);
/* Monotonic nanoseconds, for benchmarks. */
uint64_t lab_now_ns(void);
/* Milliseconds since `start_ms` (a lab_now_ms() value), and the same in notes-seconds. */
double lab_elapsed_ms(double start_ms);
double lab_elapsed_units(double start_ms);

/* An absolute CLOCK_MONOTONIC deadline `ms` from now, for clockwait/clocklock calls. */
struct timespec lab_deadline_ms(double ms);
/* The same on CLOCK_REALTIME, for the calls that only take that clock (sem_timedwait, mq_timedsend). */
struct timespec lab_deadline_realtime_ms(double ms);

#endif
