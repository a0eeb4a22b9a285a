/* common/prog.c - the running program's identity; see prog.h. */
#include "prog.h"

#include <stdio.h>
#include <unistd.h>

static int number;
static char name[16] = "lab";
static char self_path[4096];
static pid_t main_pid;
static const char *scenario, *mode;

void lab_prog_set(int n, const char *argv0)
{
    number = n;
    snprintf(name, sizeof name, "lab%02d", n);
    main_pid = getpid();
    ssize_t len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len > 0)
        self_path[len] = '\0';
    else
        snprintf(self_path, sizeof self_path, "%s", argv0 ? argv0 : "");
}

const char *lab_prog_name(void) { return name; }
int lab_number(void) { return number; }
const char *lab_self_path(void) { return self_path; }

bool lab_is_main_process(void) { return main_pid == 0 || getpid() == main_pid; }
void lab_prog_become_main(void) { main_pid = getpid(); }

void lab_prog_set_scenario(const char *s, const char *m)
{
    scenario = s;
    mode = m;
}
const char *lab_scenario_name(void) { return scenario ? scenario : "none"; }
const char *lab_mode_name(void) { return mode; }

void lab_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}
