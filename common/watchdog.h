/* common/watchdog.h - a heartbeat that the program resets, and a monitor that ends a stuck program.
 *
 * The course notes' cure for a deadlock (S1: 看门狗计数器): while the program makes progress it keeps
 * resetting a counter; once it deadlocks nobody resets it, the timer runs out, and the program
 * reports and stops (or restarts itself).  Here:
 *
 *     static void report(struct lab_watchdog *w, void *arg, double silent_ms) { ... the wait-for report ... }
 *
 *     struct lab_watchdog *wd = lab_watchdog_start(300, report, &state);
 *     ... every unit of real progress (a finished critical section):  lab_watchdog_kick(wd);
 *     lab_watchdog_stop(wd);          // the work finished: cancel the monitor, free it
 *
 * If no kick arrives for timeout_ms (CLOCK_MONOTONIC, so wall-clock jumps do not matter), the monitor
 * thread calls report(arg, silent_ms) once, then flushes stdout and ends the whole process with
 * _exit(LAB_EXIT_WATCHDOG) (3, the lab contract's "a watchdog fired").  _exit, not exit: the stuck
 * threads still hold locks that atexit handlers or stdio might need.  The callback may also end the
 * process itself, e.g. execv() the program again to "restart itself"; it runs in the monitor thread
 * while the stuck threads are still blocked, so it must not take a lock they might hold.
 *
 * Starting a watchdog counts as a kick.  kick() is cheap (a mutex and a clock read), callable from
 * any thread, not from a signal handler.  The monitor is a plain pthread, not in the lab_thread
 * registry, so it never shows up in enumerate() and is never joined by Python's exit rule.
 * A forked child has no monitor (threads do not survive fork): start a new one there if needed.
 */
#ifndef COMMON_WATCHDOG_H
#define COMMON_WATCHDOG_H


struct lab_watchdog;

/* Called once, in the monitor thread, when the heartbeat has been silent for the timeout.
 * w is the watchdog that fired (use it, not a copy of the pointer the caller may not have stored
 * yet: the monitor runs from inside lab_watchdog_start); silent_ms: how long it actually was. */
typedef void (*lab_watchdog_report_fn)(struct lab_watchdog *w, void *arg, double silent_ms);

/* Start monitoring: timeout_ms > 0.  report may be NULL (then only a WATCHDOG line is printed). */
struct lab_watchdog *lab_watchdog_start(double timeout_ms, lab_watchdog_report_fn report, void *arg);
/* Reset the heartbeat: "still making progress". */
void lab_watchdog_kick(struct lab_watchdog *w);
/* How many kicks so far (for reports). */
unsigned long lab_watchdog_kicks(struct lab_watchdog *w);
/* The timeout it was started with, in ms. */
double lab_watchdog_timeout_ms(const struct lab_watchdog *w);
/* Cancel: stop the monitor, wait for it, free w.  Safe only when the monitor has not fired (if it
 * had, the process would be gone already). */
void lab_watchdog_stop(struct lab_watchdog *w);

#endif
