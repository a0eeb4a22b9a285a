/* common/clock.c - scaled sleeps and monotonic time; see clock.h. */
#include "clock.h"
#include "die.h"

#include <errno.h>
#include <math.h>

static long second_ms = LAB_SECOND_MS_DEFAULT;

long lab_second_ms(void) { return second_ms; }
void lab_set_second_ms(long ms) { second_ms = ms; }

void lab_sleep_ms(double ms)
{
    if (!(ms > 0))
        return;
    struct timespec deadline = lab_deadline_ms(ms);
    int rc;
    /* Absolute deadline: a signal handler that interrupts the sleep does not stretch it. */
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)) == EINTR)
        ;
    if (rc != 0)
        die_en(rc, "clock_nanosleep");
}

double lab_units_ms(double units) { return units * (double)second_ms; }
double lab_ms_units(double ms) { return ms / (double)second_ms; }
double lab_bound_ms(double units) { return lab_units_ms(units) + LAB_BOUND_SLACK_MS; }

void lab_sleep(double units) { lab_sleep_ms(lab_units_ms(units)); }

uint64_t lab_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double lab_now_ms(void) { return (double)lab_now_ns() / 1e6; }
double lab_elapsed_ms(double start_ms) { return lab_now_ms() - start_ms; }
double lab_elapsed_units(double start_ms) { return lab_ms_units(lab_elapsed_ms(start_ms)); }

static struct timespec deadline_on(clockid_t clk, double ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    if (ms < 0)
        ms = 0;
    long long ns = (long long)llround(ms * 1e6);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec += (long)(ns % 1000000000LL);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

struct timespec lab_deadline_ms(double ms) { return deadline_on(CLOCK_MONOTONIC, ms); }
struct timespec lab_deadline_realtime_ms(double ms) { return deadline_on(CLOCK_REALTIME, ms); }
