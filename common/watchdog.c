/* common/watchdog.c - heartbeat + monitor thread that ends a stuck process; see watchdog.h.
 *
 * The monitor sleeps on a condition variable whose clock is CLOCK_MONOTONIC, until the deadline
 * "last kick + timeout".  A kick only moves last_kick forward (it does not wake the monitor: the
 * monitor notices the new deadline when it wakes up and goes back to sleep).  stop() wakes it.
 */
#include "watchdog.h"
#include "clock.h"
#include "die.h"
#include "sync.h"
#include "out.h"
#include "prog.h"
#include "trace.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct lab_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t wake;         /* CLOCK_MONOTONIC; signalled by stop() */
    double timeout_ms;
    double last_kick_ms;         /* guarded by lock (lab_now_ms() of the last kick) */
    unsigned long kicks;         /* guarded by lock */
    bool stopping;               /* guarded by lock */
    lab_watchdog_report_fn report;
    void *arg;
    pthread_t monitor;
};

static void *monitor_main(void *p)
{
    struct lab_watchdog *w = p;
    Pthread_mutex_lock(&w->lock);
    for (;;) {
        if (w->stopping) {
            Pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        double silent = lab_now_ms() - w->last_kick_ms;
        if (silent >= w->timeout_ms)
            break;
        struct timespec deadline = lab_deadline_ms(w->timeout_ms - silent);
        int rc = pthread_cond_timedwait(&w->wake, &w->lock, &deadline);
        if (rc != 0 && rc != ETIMEDOUT)
            die_en(rc, "watchdog: pthread_cond_timedwait");
    }
    double silent = lab_now_ms() - w->last_kick_ms;
    Pthread_mutex_unlock(&w->lock);   /* report() may read state guarded by other locks */

    if (w->report)
        w->report(w, w->arg, silent);
    else
        lab_say("WATCHDOG expired: no progress for %.0f ms (timeout %.0f ms)", silent, w->timeout_ms);
    fflush(stdout);
    fflush(stderr);
    lab_trace_write();   /* a --trace file shows the stuck threads still waiting */
    _exit(LAB_EXIT_WATCHDOG);
}

struct lab_watchdog *lab_watchdog_start(double timeout_ms, lab_watchdog_report_fn report, void *arg)
{
    if (!(timeout_ms > 0)) {
        fprintf(stderr, "bug: lab_watchdog_start: timeout %g ms\n", timeout_ms);
        abort();
    }
    struct lab_watchdog *w = xcalloc(1, sizeof *w);
    lab_cond_init(&w->wake, 0);
    Pthread_mutex_init(&w->lock, NULL);
    w->timeout_ms = timeout_ms;
    w->last_kick_ms = lab_now_ms();
    w->report = report;
    w->arg = arg;
    Pthread_create(&w->monitor, NULL, monitor_main, w);
    return w;
}

void lab_watchdog_kick(struct lab_watchdog *w)
{
    Pthread_mutex_lock(&w->lock);
    w->last_kick_ms = lab_now_ms();
    w->kicks++;
    Pthread_mutex_unlock(&w->lock);
}

unsigned long lab_watchdog_kicks(struct lab_watchdog *w)
{
    Pthread_mutex_lock(&w->lock);
    unsigned long k = w->kicks;
    Pthread_mutex_unlock(&w->lock);
    return k;
}

double lab_watchdog_timeout_ms(const struct lab_watchdog *w) { return w->timeout_ms; }

void lab_watchdog_stop(struct lab_watchdog *w)
{
    if (w == NULL)
        return;
    Pthread_mutex_lock(&w->lock);
    w->stopping = true;
    Pthread_cond_signal(&w->wake);
    Pthread_mutex_unlock(&w->lock);
    Pthread_join(w->monitor, NULL);
    Pthread_cond_destroy(&w->wake);
    Pthread_mutex_destroy(&w->lock);
    free(w);
}
