/* labs/07-deadlock-rlock/util.c - small helpers the scenario files of lab 7 share
 *
 * The options every A/B scenario reads the same way (--hold, --watchdog-ms), the line a watchdog
 * report adds when it had to wait for a forced deadlock to form, the calling thread's
 * name for the notes' "Thread-3 抢到A锁" lines, and the guard that ends a scenario the guided demo
 * runs in a child when the demo itself ends.
 * See also: lab07.h, main.c (the options), common/watchdog.h.
 */
#include "lab07.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

double lab07_hold_units(void) { return (double)lab_opt("hold") / 10.0; }

double lab07_watchdog_ms(bool expect_deadlock)
{
    /* Any positive value is taken as given: a watchdog set tighter than the program's slowest
     * healthy step fires on a healthy program, which is a lesson of its own. */
    long long v = lab_opt("watchdog-ms");
    if (v > 0)
        return (double)v;
    double ms = lab_units_ms(3.0 + lab07_hold_units());
    /* A run that should deadlock waits for the watchdog, so its floor is short (300 ms).  A cure
     * never waits for it: there it is a safety net, and a long floor (2 s) keeps a healthy run
     * that gets no CPU for a while (Valgrind, a loaded machine) from being taken for a deadlock. */
    double floor = expect_deadlock ? 300 : 2000;
    return ms < floor ? floor : ms;
}

void lab07_say_settled(bool formed, double waited_ms, int n, const char *who)
{
    if (!formed)
        lab_say("(the forced schedule did not settle: after %.0f ms not all %d %s are blocked)", waited_ms, n, who);
    else if (waited_ms > 0)
        lab_say("(fired before the deadlock had formed: the report waited %.0f ms for all %d %s to block)", waited_ms,
                n, who);
}

const char *lab07_me(void) { return lab_thread_name(lab_current_thread()); }

void lab07_end_with_parent(void)
{
    /* The guided demo forks these scenarios outside the lab_proc list, so its Ctrl-C handler
     * does not stop them: `kill -INT <demo>` would leave this process running on its own.  Ask
     * the kernel for SIGTERM (handled: cleanup, then exit) when the parent goes.  It survives the
     * watchdog's execv, so a restarted generation 1 goes with its parent too. */
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        return;
    if (getppid() != parent)   /* the parent went before prctl: nobody will send it */
        raise(SIGTERM);
}
