/* common/prog.h - who the running program is: the ground floor of common/.
 *
 * Every other module may ask this one, and this one asks nobody: the lab's number and name
 * ("lab03", for messages and RESULT lines), the pid of the process that ran main() (a forked child
 * must leave with _exit), the program's own path (to exec itself again), the scenario and mode
 * running now (for the RESULT line), the exit statuses of the lab contract, by name, and the
 * signals that stop a lab.
 *
 * lab_main() (cli.h) fills it in; unit tests may call lab_prog_set() themselves.
 */
#ifndef COMMON_PROG_H
#define COMMON_PROG_H

#include <signal.h>
#include <stdbool.h>

/* The exit statuses of the lab contract (every lab, every scenario). */
enum lab_exit {
    LAB_EXIT_OK = 0,         /* the scenario behaved as the lesson says (a race demo showed its race) */
    LAB_EXIT_BROKEN = 1,     /* an invariant the scenario promises was broken */
    LAB_EXIT_USAGE = 2,      /* a usage error: bad scenario, option, number or environment */
    LAB_EXIT_WATCHDOG = 3,   /* a watchdog fired: the program stopped itself after a deadlock */
};

/* Set the identity: lab number (1 → "lab01") and argv[0] (used when /proc/self/exe is not readable).
 * The calling process becomes the main process. */
void lab_prog_set(int number, const char *argv0);

/* "lab01" (for messages); "lab" before lab_prog_set. */
const char *lab_prog_name(void);
/* The lab number, 0 before lab_prog_set. */
int lab_number(void);
/* Path of the running program (for re-executing itself: spawn, watchdog restart). */
const char *lab_self_path(void);

/* True in the process that ran main() (or was made main by lab_prog_become_main), false in a
 * forked child: a child leaves with _exit so the parent's atexit handlers do not run twice. */
bool lab_is_main_process(void);
/* The calling process is a main process from now on (a child that runs a whole scenario). */
void lab_prog_become_main(void);

/* The scenario running now and its mode (NULL for a scenario without modes); set by the CLI before
 * a scenario runs, read by lab_result() so no lab retypes them. */
void lab_prog_set_scenario(const char *scenario, const char *mode);
const char *lab_scenario_name(void);
const char *lab_mode_name(void);

/* The signals that stop a lab (Ctrl-C, SIGTERM, SIGHUP), as a set: the ones cleanup.c handles, and
 * the ones a step that must not be cut in two holds back (async-signal-safe). */
void lab_stop_signals(sigset_t *set);

#endif
