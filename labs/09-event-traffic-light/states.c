/* labs/09-event-traffic-light/states.c - the six thread states of the notes (Java's names),
 * walked through by one thread and checked against what the kernel says about it.
 *
 * The notes' chapter on threads lists NEW, RUNNABLE, BLOCKED, WAITING, TIMED_WAITING and TERMINATED.  One
 * worker thread goes through all of them, each held until MainThread has looked:
 *   NEW            the thread object exists, start() not called: the kernel has no task yet;
 *   RUNNABLE       spinning on a flag: /proc/self/task/TID/stat says R (running, or ready to run:
 *                  the kernel's R covers both, like Java's RUNNABLE);
 *   BLOCKED        in pthread_mutex_lock on a mutex MainThread holds: S, sleeping in futex;
 *   WAITING        in pthread_cond_wait with no timeout: S, futex again: the kernel cannot tell
 *                  BLOCKED from WAITING, only the program knows which one it is;
 *   TIMED_WAITING  in clock_nanosleep (Thread.sleep): S, until MainThread interrupts it with a signal;
 *   TERMINATED     returned and joined: /proc/self/task/TID is gone.
 * Each state is announced by the worker before it enters it.  MainThread polls /proc until the
 * kernel shows the expected letter (bounded), so the check does not depend on timing: a thread
 * that is about to block shows R for a moment, then S for as long as it stays blocked.
 * Python ↔ C: Python has no state API, only is_alive() (False before start() and after run() ends);
 *   Java's Thread.getState() ↔ the worker's announced state + the kernel's letter.
 * Usage: build/lab09 states
 * Watch for: the STATE lines in order, kernel=- R S S S -, and the syscall each blocked state sleeps in.
 * See also: main.c (the scenario table), labs/13-scheduling (process states), proc(5) for
 *   /proc/PID/task/TID/stat.
 */
#include "lab.h"
#include "lab09.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum phase { P_NEW, P_RUNNABLE, P_BLOCKED, P_WAITING, P_TIMED_WAITING, P_TERMINATED };
static const char *const phase_name[] = { "NEW", "RUNNABLE", "BLOCKED", "WAITING", "TIMED_WAITING", "TERMINATED" };

static atomic_int phase;                  /* announced by the worker before it enters the state */
static atomic_bool stop_spinning;
static atomic_int tid;
static atomic_ulong spins;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;      /* MainThread holds it: BLOCKED */
static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static bool go_on;                                              /* guarded by wait_mu */
static int sleep_rc;

static void on_sigusr1(int sig) { (void)sig; }   /* only there to interrupt clock_nanosleep */

static void *worker(void *arg)
{
    (void)arg;
    atomic_store(&tid, (int)gettid());
    atomic_store(&phase, P_RUNNABLE);
    while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed))   /* busy: never sleeps */
        atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);

    atomic_store(&phase, P_BLOCKED);
    Pthread_mutex_lock(&held);             /* MainThread holds it */
    Pthread_mutex_unlock(&held);

    Pthread_mutex_lock(&wait_mu);
    atomic_store(&phase, P_WAITING);
    while (!go_on)
        Pthread_cond_wait(&wait_cv, &wait_mu);
    Pthread_mutex_unlock(&wait_mu);

    atomic_store(&phase, P_TIMED_WAITING);
    struct timespec bound = { (time_t)(L09_BOUND_MS / 1000), 0 };
    sleep_rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &bound, NULL);   /* EINTR when MainThread signals */
    return NULL;
}

/* ==== What the kernel says: /proc/self/task/TID/{stat,syscall,wchan} ==== */

/* The state letter of a thread (R, S, D, ...), or '-' when the task does not exist. */
static char kernel_state(int t)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return '-';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');          /* the name in (...) may contain spaces */
    return (p && p[1] == ' ' && p[2]) ? p[2] : '?';
}

/* "futex", "clock_nanosleep", "running", a number, or "?" when the file cannot be read. */
static void kernel_syscall(int t, char *out, size_t len)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", t);
    snprintf(out, len, "?");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    long nr;
    if (strncmp(buf, "running", 7) == 0)
        snprintf(out, len, "running");
    else if (sscanf(buf, "%ld", &nr) == 1) {
        if (nr == SYS_futex)
            snprintf(out, len, "futex");
        else if (nr == SYS_clock_nanosleep)
            snprintf(out, len, "clock_nanosleep");
        else
            snprintf(out, len, "%ld", nr);
    }
}

static void kernel_wchan(int t, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", t);
    snprintf(out, len, "?");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(out, 1, len - 1, f);
    fclose(f);
    out[n] = '\0';
    if (n == 0 || strcmp(out, "0") == 0)
        snprintf(out, len, "-");
}

/* Wait (bounded) until the worker announced state `p` and the kernel shows letter `want`. */
struct look { int phase; char want; char seen; };

static bool looks_right(void *arg)
{
    struct look *l = arg;
    if (atomic_load(&phase) != l->phase)
        return false;
    l->seen = kernel_state(atomic_load(&tid));
    return l->seen == l->want;
}

static char observe(enum phase p, char want)
{
    struct look l = { (int)p, want, '?' };
    l09_until(looks_right, &l, L09_BOUND_MS);
    return l.seen;
}

static bool report(enum phase p, char seen, char want, struct lab_thread *t, const char *how)
{
    int id = atomic_load(&tid);
    char sc[32] = "-", wc[64] = "-";
    if (seen != '-') {
        kernel_syscall(id, sc, sizeof sc);
        kernel_wchan(id, wc, sizeof wc);
    }
    printf("STATE %s kernel=%c\n", phase_name[p], seen);
    printf("  %s: %s; is_alive()=%s; /proc: state %c, syscall %s, wchan %s\n", lab_thread_name(t), how,
           lab_thread_is_alive(t) ? "True" : "False", seen, sc, wc);
    return seen == want;
}

int run_states(int mode)
{
    (void)mode;   /* no modes */
    atomic_store(&phase, P_NEW);
    atomic_store(&stop_spinning, false);
    atomic_store(&tid, 0);
    atomic_store(&spins, 0);
    go_on = false;
    char seen[7] = "??????";
    bool ok = true;

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;           /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, &old) == -1)
        die("sigaction:");

    /* NEW: created, not started.  No kernel task to look at. */
    struct lab_thread *t = LAB_THREAD(worker, NULL);
    seen[0] = '-';
    ok &= report(P_NEW, '-', '-', t, "object created, start() not called yet");

    /* RUNNABLE: spinning. */
    Pthread_mutex_lock(&held);
    lab_thread_start_or_die(t);
    seen[1] = observe(P_RUNNABLE, 'R');
    ok &= report(P_RUNNABLE, seen[1], 'R', t, "spinning on a flag (busy, never sleeps)");

    /* BLOCKED: on the mutex MainThread holds. */
    atomic_store(&stop_spinning, true);
    seen[2] = observe(P_BLOCKED, 'S');
    ok &= report(P_BLOCKED, seen[2], 'S', t, "in pthread_mutex_lock on a mutex MainThread holds");
    Pthread_mutex_unlock(&held);

    /* WAITING: in pthread_cond_wait, no timeout. */
    seen[3] = observe(P_WAITING, 'S');
    ok &= report(P_WAITING, seen[3], 'S', t, "in pthread_cond_wait (no timeout) until notified");
    Pthread_mutex_lock(&wait_mu);
    go_on = true;
    Pthread_cond_broadcast(&wait_cv);     /* one waiter; broadcast avoids glibc bug 25847 */
    Pthread_mutex_unlock(&wait_mu);

    /* TIMED_WAITING: in clock_nanosleep. */
    seen[4] = observe(P_TIMED_WAITING, 'S');
    ok &= report(P_TIMED_WAITING, seen[4], 'S', t, "in clock_nanosleep (sleep with a timeout)");
    PT_CHECK(pthread_kill(lab_thread_handle(t), SIGUSR1));

    /* TERMINATED: returned and joined; the kernel task goes away. */
    lab_thread_join(t);
    atomic_store(&phase, P_TERMINATED);
    seen[5] = observe(P_TERMINATED, '-');
    ok &= report(P_TERMINATED, seen[5], '-', t, sleep_rc == EINTR ? "woken by a signal, returned, joined" : "returned, joined");
    if (sigaction(SIGUSR1, &old, NULL) == -1)
        die("sigaction:");

    printf("MainThread: the worker spun %lu times while RUNNABLE\n", (unsigned long)atomic_load(&spins));
    lab_result("sequence_ok=%d kernel=%c,%c,%c,%c,%c,%c", ok, seen[0], seen[1], seen[2], seen[3], seen[4], seen[5]);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
