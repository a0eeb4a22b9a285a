/* common/cleanup.c - removal of named objects at exit and on signals; see cleanup.h. */
#include "cleanup.h"
#include "die.h"
#include "prog.h"
#include "trace.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
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
static void (*signal_hook)(void);

void lab_cleanup_set_signal_hook(void (*hook)(void)) { signal_hook = hook; }

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
    if (signal_hook)
        signal_hook();
    pid_t me = getpid();
    for (int i = MAX_CLEANUPS - 1; i >= 0; i--)
        if (table[i].pending && table[i].owner == me) {
            table[i].pending = 0;
            table[i].fn(table[i].arg);
        }
    lab_trace_write();   /* a --trace file, also on Ctrl-C (the children are gone by now) */
    signal(sig, SIG_DFL);
    raise(sig);
}

void lab_cleanup_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sigset_t stop;
    lab_stop_signals(&stop);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&stop, sig) == 1 && sigaction(sig, &sa, NULL) == -1)
            die("sigaction:");
}

void lab_cleanup_unlink(void *path) { unlink((const char *)path); }
void lab_cleanup_rmdir(void *path) { rmdir((const char *)path); }

void lab_stop_signals_block(sigset_t *old)
{
    sigset_t stop;
    lab_stop_signals(&stop);
    PT_CHECK(pthread_sigmask(SIG_BLOCK, &stop, old));
}

void lab_stop_signals_restore(const sigset_t *old) { PT_CHECK(pthread_sigmask(SIG_SETMASK, old, NULL)); }

int lab_private_dir(char *path, size_t len, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    int n = snprintf(path, len, "%s/%sXXXXXX", tmp, prefix);
    if (n < 0 || (size_t)n >= len) {
        /* Usage error by hand: cli.h sits above this module. */
        fflush(stdout);
        fprintf(stderr, "%s: TMPDIR is too long: %s\nTry '%s --help' for more information.\n",
                lab_prog_name(), tmp, lab_prog_name());
        exit(LAB_EXIT_USAGE);
    }
    if (mkdtemp(path) == NULL)
        die("mkdtemp %s:", path);
    return lab_cleanup_add(lab_cleanup_rmdir, path);
}
