/* common/cleanup.c - removal of named objects at exit and on signals; see cleanup.h. */
#include "cleanup.h"
#include "die.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLEANUPS 64

struct entry {
    lab_cleanup_fn fn;
    void *arg;
    pid_t owner;
    volatile sig_atomic_t pending;
};

static struct entry table[MAX_CLEANUPS];
static bool hooked;

void lab_proc_kill_all_from_signal(void);   /* proc.c */

static void at_exit_hook(void) { lab_cleanup_all(); }

int lab_cleanup_add(lab_cleanup_fn fn, void *arg)
{
    if (!hooked) {
        atexit(at_exit_hook);
        hooked = true;
    }
    for (int i = 0; i < MAX_CLEANUPS; i++)
        if (!table[i].pending) {
            table[i].fn = fn;
            table[i].arg = arg;
            table[i].owner = getpid();
            table[i].pending = 1;
            return i;
        }
    die("lab_cleanup_add: more than %d pending removals", MAX_CLEANUPS);
}

void lab_cleanup_run(int id)
{
    if (id < 0 || id >= MAX_CLEANUPS || !table[id].pending)
        return;
    table[id].pending = 0;
    if (table[id].owner == getpid())
        table[id].fn(table[id].arg);
}

void lab_cleanup_forget(int id)
{
    if (id >= 0 && id < MAX_CLEANUPS)
        table[id].pending = 0;
}

void lab_cleanup_all(void)
{
    for (int i = MAX_CLEANUPS - 1; i >= 0; i--)
        lab_cleanup_run(i);
}

static void on_signal(int sig)
{
    /* Children first (they may be using the objects), then the objects, then die of sig. */
    lab_proc_kill_all_from_signal();
    pid_t me = getpid();
    for (int i = MAX_CLEANUPS - 1; i >= 0; i--)
        if (table[i].pending && table[i].owner == me) {
            table[i].pending = 0;
            table[i].fn(table[i].arg);
        }
    signal(sig, SIG_DFL);
    raise(sig);
}

void lab_cleanup_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) == -1)
            die("sigaction:");
}

void lab_cleanup_unlink(void *path) { unlink((const char *)path); }
void lab_cleanup_rmdir(void *path) { rmdir((const char *)path); }
