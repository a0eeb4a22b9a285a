/* labs/02-join-daemon/util.c - small tools shared by the scenarios of lab 2.
 *
 * Nothing here is the lesson; these are the instruments that let the lab check it:
 *   - an event log in shared memory, appended to by threads and forked children with one atomic
 *     fetch-and-add each, read by the lab afterwards to check who printed what, in which order;
 *   - a bounded wait on a flag (a gate), so a forced order can never hang;
 *   - the RESULT formatting of elapsed times and error numbers.
 * See also: lab02.h.
 */
#include "lab.h"
#include "lab02.h"

#include <math.h>

void l02_ev_add(struct l02_ev_log *log, int code)
{
    int i = atomic_fetch_add(&log->n, 1);
    if (i < L02_EV_MAX)
        log->ev[i] = code;
}

int l02_ev_count(const struct l02_ev_log *log)
{
    int n = atomic_load(&((struct l02_ev_log *)log)->n);
    return n < L02_EV_MAX ? n : L02_EV_MAX;
}

int l02_ev_index(const struct l02_ev_log *log, int code)
{
    int n = l02_ev_count(log);
    for (int i = 0; i < n; i++)
        if (log->ev[i] == code)
            return i;
    return -1;
}

int l02_wait_flag(atomic_int *flag, double ms)
{
    double end = lab_now_ms() + ms;
    while (!atomic_load(flag)) {
        if (lab_now_ms() >= end)
            return 0;
        lab_sleep_ms(0.2);
    }
    return 1;
}

double l02_round1(double units) { return round(units * 10.0) / 10.0; }

const char *l02_err_value(int err) { return err == 0 ? "0" : lab_errno_name(err); }
