/* labs/07-deadlock-rlock/abba.c - the notes' mutexA/mutexB threads: the deadlock and its cures
 *
 * Ten threads each run func1 (A, then B) and func2 (B, sleep, then A).  In Python, Thread-1 sleeps
 * in func2 holding B while Thread-2 takes A in func1 and waits for B; Thread-1 wakes up and waits
 * for A: a cycle, and the program hangs forever after printing four lines.  The sleep makes that
 * likely; this file makes it certain with a forced schedule (a gate and a "wait until everyone else
 * is stuck" step), so that the deadlock happens on every run, on 1 core or 16.  The same schedule
 * is then replayed with each cure, and each cure gets through it:
 *   rlock    mutexA = mutexB = RLock(): one re-entrant lock, so there is no second resource;
 *   ordered  every thread takes the lower-addressed lock first: no circular wait;
 *   backoff  trylock the second lock, and on failure release the first and retry after a random
 *            pause: no hold-and-wait;
 *   watchdog_restart  deadlock, the watchdog fires, and the program re-executes itself in ordered
 *            mode (the notes' "通过重启自身恢复到正常状态").
 * (The lockdep scenario, a lucky run of the two orders that cannot hang, is in lockdep.c.)
 *
 * Python ↔ C: mutexA.acquire() ↔ tl_lock(&mutexA) (a pthread mutex with its owner on the books);
 * RLock ↔ PTHREAD_MUTEX_RECURSIVE; time.sleep(2) ↔ lab_sleep(--hold / 10).
 * Watch: Thread-1 抢到A锁 / Thread-1 抢到B锁 / Thread-1 抢到B锁 / Thread-2 抢到A锁, then silence,
 *        then the watchdog's wait-for report and its cycle mutexA->mutexB->mutexA (a watchdog that
 *        fires before the schedule is complete makes the report wait until every thread is blocked).
 * See also: tlock.c, schedule.c (the forced schedule), lockdep.c, main.c, README.md.
 */
#include "lab07.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* How the ten threads take their locks in one run (not a scenario's mode list: several scenarios
 * run the same threads in one of these ways). */
enum abba_mode { AB_DEADLOCK, AB_RLOCK, AB_ORDERED, AB_BACKOFF };

#define LOG_MAX 256

struct abba {
    enum abba_mode mode;
    int threads;
    double hold;                 /* notes-seconds func2 holds its first lock */
    struct tlock lock_a, lock_b;
    struct tlock *A, *B;         /* rlock: both point at lock_a, the one RLock */
    struct lab_watchdog *wd;
    bool restart;                /* watchdog_restart, generation 0: exec on expiry */
    pthread_mutex_t log_lock;    /* innermost: only taken to append to the log */
    int log_thread[LOG_MAX];     /* guarded by log_lock: who printed each 抢到 line */
    char log_letter[LOG_MAX];    /* guarded by log_lock */
    int nlog;                    /* guarded by log_lock */
    int completed;               /* guarded by log_lock: threads that finished func1 and func2 */
    int pairs;                   /* guarded by log_lock: critical sections that had both locks */
    int retries;                 /* guarded by log_lock: back-offs */
};

static struct abba G;   /* one run at a time; the watchdog's report reads it */

/* ==== Printing what the notes print ==== */

/* "Thread-3 抢到A锁", and remember it (idx, letter) for the checks at the end.  Called with the
 * lock held, so for one lock the log order is the print order.  The letter is the name in the code
 * (mutexA / mutexB), which for the RLock is the same object under two names. */
static void got(int idx, char letter)
{
    if (G.mode == AB_RLOCK) {
        char desc[96];
        tl_describe(G.A, desc, sizeof desc);
        printf("%s 抢到%c锁   %s\n", lab07_me(), letter, desc);
    } else {
        printf("%s 抢到%c锁\n", lab07_me(), letter);
    }
    Pthread_mutex_lock(&G.log_lock);
    if (G.nlog < LOG_MAX) {
        G.log_thread[G.nlog] = idx;
        G.log_letter[G.nlog] = letter;
        G.nlog++;
    }
    Pthread_mutex_unlock(&G.log_lock);
}

/* The line of a back-off retry that finally got both locks: the first lock's 抢到 line, printed
 * only now (the failed tries before it are counted, not printed, to keep the story readable). */
static void got_after_retries(int idx, char letter, int retries)
{
    printf("%s 抢到%c锁 (after %d back-off%s)\n", lab07_me(), letter, retries, retries == 1 ? "" : "s");
    Pthread_mutex_lock(&G.log_lock);
    if (G.nlog < LOG_MAX) {
        G.log_thread[G.nlog] = idx;
        G.log_letter[G.nlog] = letter;
        G.nlog++;
    }
    Pthread_mutex_unlock(&G.log_lock);
}

static void count(int *field)
{
    Pthread_mutex_lock(&G.log_lock);
    (*field)++;
    Pthread_mutex_unlock(&G.log_lock);
}

static int read_count(const int *field)
{
    Pthread_mutex_lock(&G.log_lock);
    int v = *field;
    Pthread_mutex_unlock(&G.log_lock);
    return v;
}

/* ==== The forced schedule ==== */

/* Thread-1, inside func2, holding its first lock: the moment Python's time.sleep(2) hopes for,
 * made certain.  Let Thread-2 in and wait until it is stuck (in the notes it took A and now waits
 * for B), then let the others in and wait until they are stuck too. */
static void force_schedule(void)
{
    double bound = lab_bound_ms(0);   /* settling takes no notes-time: this only bounds a bug */
    tl_gate_open(2);
    bool ok = tl_wait_quiet(bound);
    lab_watchdog_kick(G.wd);   /* setting up the schedule is progress too (slow under Valgrind) */
    tl_gate_open(G.threads);
    ok = tl_wait_quiet(bound) && ok;
    lab_watchdog_kick(G.wd);
    if (!ok)
        lab_say("(forced schedule: the other threads did not settle within %.0f s; going on anyway)", bound / 1000);
}

/* The two locks of a pair in address order: the notes' "按照对象id升序" (CPython's id() is the
 * object's address, so this is the same rule). */
static char letter_of(const struct tlock *l) { return l == G.A ? 'A' : 'B'; }

static void by_address(struct tlock *x, struct tlock *y, struct tlock **first, struct tlock **second)
{
    bool x_first = (uintptr_t)x < (uintptr_t)y;
    *first = x_first ? x : y;
    *second = x_first ? y : x;
}

/* Back-off: block on the first lock, only *try* the second; if it is taken, give the first one
 * back (no hold-and-wait) and retry after a random pause that doubles each time.  Printed: the
 * first try and its first back-off; of the retries only the one that gets both locks (a thread may
 * retry dozens of times: each one is counted in retries=). */
static void backoff_pair(int idx, struct tlock *first, struct tlock *second, bool in_func2)
{
    bool told = false;
    for (int attempt = 0;; attempt++) {
        tl_lock(first);
        if (attempt == 0)
            got(idx, letter_of(first));
        if (in_func2) {
            if (idx == 1 && attempt == 0)
                force_schedule();
            lab_sleep(G.hold);
        }
        if (tl_trylock(second) == 0) {
            if (attempt > 0)
                got_after_retries(idx, letter_of(first), attempt);
            got(idx, letter_of(second));
            count(&G.pairs);
            tl_unlock(second);
            tl_unlock(first);
            return;
        }
        int cap = attempt < 6 ? 1 << attempt : 64;
        double pause = (double)lab_randint(1, cap) / 64.0;   /* notes-seconds, at most 1 */
        if (!told)
            printf("%s 抢不到%s锁: 放开%s锁, 退避 %.2f s 后重试 (back off, retry)\n",
                   lab07_me(), second == G.A ? "A" : "B", first == G.A ? "A" : "B", pause);
        told = true;
        tl_unlock(first);
        count(&G.retries);
        tl_set_state(TL_BACKOFF, NULL);
        lab_sleep(pause);
        tl_set_state(TL_RUNNING, NULL);
    }
}

/* func1: mutexA.acquire(); print; mutexB.acquire(); print; mutexB.release(); mutexA.release() */
static void func1(int idx)
{
    struct tlock *first = G.A, *second = G.B;
    char l1 = 'A', l2 = 'B';
    if (G.mode == AB_ORDERED) {
        /* SOLUTION BEGIN(ab-order): take the two locks in one global order (by_address) */
        by_address(G.A, G.B, &first, &second);
        /* SOLUTION END */
        l1 = letter_of(first);
        l2 = letter_of(second);
    }
    if (G.mode == AB_BACKOFF) {
        backoff_pair(idx, first, second, false);
        return;
    }
    tl_lock(first);
    got(idx, l1);
    tl_lock(second);
    got(idx, l2);
    count(&G.pairs);
    tl_unlock(second);
    tl_unlock(first);
}

/* func2: mutexB.acquire(); print; time.sleep(2); mutexA.acquire(); print; release both */
static void func2(int idx)
{
    struct tlock *first = G.B, *second = G.A;
    char l1 = 'B', l2 = 'A';
    if (G.mode == AB_ORDERED) {
        /* SOLUTION BEGIN(ab-order): the same global order here: by_address, whatever the notes' order */
        by_address(G.B, G.A, &first, &second);
        /* SOLUTION END */
        l1 = letter_of(first);
        l2 = letter_of(second);
    }
    if (G.mode == AB_BACKOFF) {
        backoff_pair(idx, first, second, true);
        return;
    }
    tl_lock(first);
    got(idx, l1);
    if (idx == 1)
        force_schedule();
    lab_sleep(G.hold);
    tl_lock(second);   /* deadlock mode: Thread-1 stops here for good */
    got(idx, l2);
    count(&G.pairs);
    tl_unlock(second);
    tl_unlock(first);
}

/* class MyThread(Thread): def run(self): self.func1(); self.func2() */
static void *my_thread(void *arg)
{
    int idx = (int)(intptr_t)arg;
    tl_register(idx);
    tl_gate_wait();
    func1(idx);
    lab_watchdog_kick(G.wd);   /* the heartbeat: one more critical section done */
    func2(idx);
    lab_watchdog_kick(G.wd);
    count(&G.completed);
    tl_set_state(TL_DONE, NULL);
    return NULL;
}

/* ==== The watchdog's report ==== */

static int lock_lines(void) { return read_count(&G.nlog); }

static void abba_report(struct lab_watchdog *wd, void *arg, double silent_ms)
{
    (void)arg;
    /* The forced deadlock is certain, but a watchdog shorter than the schedule's setup can fire
     * while a thread is still on its way into it (kept off the CPU between two kicks: Thread-2
     * before it blocks on B, a late one of the others, Thread-1 sleeping the hold).  The verdict
     * must not depend on that: first wait (bounded) until every thread is blocked on a held lock.
     * Only where the deadlock is the lesson: a cure's short watchdog reports what it sees. */
    double waited = 0;
    bool formed = true;
    if (G.mode == AB_DEADLOCK)
        formed = tl_wait_blocked(G.threads, lab_bound_ms(G.hold), &waited);
    lab_say("WATCHDOG: no progress for %.0f ms (timeout %.0f ms): the heartbeat was reset %lu time(s), then never again",
            silent_ms, lab_watchdog_timeout_ms(wd), lab_watchdog_kicks(wd));
    lab07_say_settled(formed, waited, G.threads, "threads");
    char cycle[128];
    int blocked = 0;
    int in_cycle = tl_report(cycle, sizeof cycle, &blocked);
    if (in_cycle > 0)
        lab_say("DEADLOCK detected: %d threads in the cycle, %d threads blocked", in_cycle, blocked);
    else   /* no wait-for cycle: someone holds a lock and is still working (or sleeping) */
        lab_say("slow, not deadlocked: no cycle in the wait-for graph (%d threads blocked behind a holder "
                "that still runs); the watchdog's %.0f ms is shorter than the work", blocked,
                lab_watchdog_timeout_ms(wd));
    if (G.restart) {
        /* The notes: "程序会通过重启自身恢复到正常状态".  exec replaces this process (same pid, the
         * stuck threads vanish with it) by a fresh run in ordered mode.  Bounded: generation 1
         * never restarts again. */
        char threads[32], hold[32], wdms[48];
        snprintf(threads, sizeof threads, "--threads=%d", G.threads);
        snprintf(hold, sizeof hold, "--hold=%lld", lab_opt("hold"));
        snprintf(wdms, sizeof wdms, "--watchdog-ms=%lld", lab_opt("watchdog-ms"));
        lab_say("WATCHDOG: restarting itself: pid %d execs %s watchdog_restart --generation=1 (ordered mode)",
                (int)getpid(), lab_prog_name());
        char *argv[] = { (char *)lab_prog_name(), "watchdog_restart", "--generation=1", threads, hold, wdms, NULL };
        fflush(stdout);
        execv(lab_self_path(), argv);
        die("execv %s:", lab_self_path());
    }
    lab_result("threads=%d deadlocked=%d lock_lines=%d blocked=%d cycle=%s lockdep=%d watchdog_ms=%.0f",
               G.threads, in_cycle > 0, lock_lines(), blocked, cycle, tl_lockdep_reports(),
               lab_watchdog_timeout_ms(wd));
}

/* ==== One run of the ten threads ==== */

static void abba_run(enum abba_mode mode, bool restart)
{
    memset(&G, 0, sizeof G);
    lab_mutex_init(&G.log_lock, 0);
    G.mode = mode;
    G.restart = restart;
    G.threads = (int)lab_opt("threads");
    G.hold = lab07_hold_units();
    tl_reset();
    tl_init(&G.lock_a, mode == AB_RLOCK ? "RLock" : "mutexA", mode == AB_RLOCK ? TL_RECURSIVE : TL_PLAIN);
    G.A = &G.lock_a;
    if (mode == AB_RLOCK) {
        G.B = G.A;   /* mutexA = mutexB = RLock() */
    } else {
        tl_init(&G.lock_b, "mutexB", TL_PLAIN);
        G.B = &G.lock_b;
    }

    if (mode == AB_ORDERED) {
        struct tlock *first, *second;
        by_address(G.A, G.B, &first, &second);
        lab_say("mutexA at %p, mutexB at %p: every thread takes %s first", (void *)G.A, (void *)G.B, first->name);
    }
    char others[48] = "";
    if (G.threads > 2)
        snprintf(others, sizeof others, ", then the %d other%s", G.threads - 2, G.threads == 3 ? "" : "s");
    lab_say("forced schedule: the first thread runs func1 and takes its first lock in func2; only then may the second "
            "run%s; then the first sleeps %.1f s and wants its second lock", others, G.hold);
    G.wd = lab_watchdog_start(lab07_watchdog_ms(mode == AB_DEADLOCK), abba_report, NULL);

    struct lab_thread *t[32];
    for (int i = 0; i < G.threads; i++) {
        t[i] = lab_thread_new(my_thread, (void *)(intptr_t)(i + 1), NULL);   /* "Thread-N", as a subclass */
        lab_thread_start_or_die(t[i]);
        lab_watchdog_kick(G.wd);   /* starting threads is progress (slow under Valgrind) */
    }
    for (int i = 0; i < G.threads; i++)
        lab_thread_join(t[i]);
    lab_watchdog_stop(G.wd);
    G.wd = NULL;
}

static void abba_done(void)
{
    tl_destroy(&G.lock_a);
    if (G.B != G.A)
        tl_destroy(&G.lock_b);
    Pthread_mutex_destroy(&G.log_lock);
}

/* ==== Scenarios ==== */

int run_deadlock(int mode)
{
    (void)mode;   /* no modes */
    lab07_end_with_parent();
    abba_run(AB_DEADLOCK, false);
    /* Not reached when the deadlock happened: the watchdog ended the process with status 3. */
    lab_say("no deadlock this time?");
    lab_result("threads=%d deadlocked=0 lock_lines=%d blocked=0 cycle=- lockdep=%d watchdog_ms=%.0f",
               G.threads, lock_lines(), tl_lockdep_reports(), lab07_watchdog_ms(true));
    abba_done();
    return LAB_EXIT_BROKEN;
}

/* Per-thread letter sequences: how many threads printed exactly A,B,B,A; and whether the log
 * splits into adjacent pairs of one thread each (func1's two lines, func2's two lines). */
static void check_log(int *abba_threads, int *pairs_adjacent)
{
    Pthread_mutex_lock(&G.log_lock);
    int ok = 0;
    for (int idx = 1; idx <= G.threads; idx++) {
        char seq[16] = "";
        int n = 0;
        for (int i = 0; i < G.nlog && n < 15; i++)
            if (G.log_thread[i] == idx)
                seq[n++] = G.log_letter[i];
        seq[n] = '\0';
        ok += strcmp(seq, "ABBA") == 0;
    }
    int adjacent = G.nlog % 2 == 0;
    for (int i = 0; i + 1 < G.nlog; i += 2)
        if (G.log_thread[i] != G.log_thread[i + 1])
            adjacent = 0;
    Pthread_mutex_unlock(&G.log_lock);
    *abba_threads = ok;
    *pairs_adjacent = adjacent;
}

struct rl_probe {
    struct tlock *l;
    int unlock_rc, trylock_rc;
    bool try_unlock;
};

/* Another thread pokes at the RLock that MainThread holds. */
static void *rl_prober(void *arg)
{
    struct rl_probe *p = arg;
    if (p->try_unlock)
        p->unlock_rc = tl_unlock(p->l);
    p->trylock_rc = tl_trylock(p->l);
    if (p->trylock_rc == 0)
        tl_unlock(p->l);
    return NULL;
}

static struct rl_probe probe(struct tlock *l, bool try_unlock)
{
    struct rl_probe p = { .l = l, .try_unlock = try_unlock };
    struct lab_thread *t = LAB_THREAD(rl_prober, &p);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    char desc[96];
    tl_describe(l, desc, sizeof desc);
    if (try_unlock)
        lab_say("%s: release() -> %s (not the owner: Python raises RuntimeError), acquire(False) -> %s   %s",
                lab_thread_name(t), lab_errno_name(p.unlock_rc), p.trylock_rc == 0 ? "True" : "False", desc);
    else
        lab_say("%s: acquire(False) -> %s (%s)   %s", lab_thread_name(t), p.trylock_rc == 0 ? "True" : "False",
                lab_errno_name(p.trylock_rc), desc);
    return p;
}

int run_rlock(int mode)
{
    (void)mode;   /* no modes */
    double t0 = lab_now_ms();
    abba_run(AB_RLOCK, false);
    double elapsed = lab_elapsed_units(t0);
    int abba_threads, adjacent;
    check_log(&abba_threads, &adjacent);

    /* The counter and the owner, as the notes describe them. */
    lab_say("-- the RLock's counter and owner --");
    struct tlock *rl = G.A;
    char desc[96];
    tl_lock(rl);
    tl_lock(rl);
    tl_describe(rl, desc, sizeof desc);
    lab_say("MainThread: acquire(); acquire()   %s", desc);
    struct rl_probe p1 = probe(rl, true);
    tl_unlock(rl);
    tl_describe(rl, desc, sizeof desc);
    lab_say("MainThread: release()   %s", desc);
    struct rl_probe p2 = probe(rl, false);
    tl_unlock(rl);
    tl_describe(rl, desc, sizeof desc);
    lab_say("MainThread: release()   %s", desc);
    struct rl_probe p3 = probe(rl, false);
    int over = tl_unlock(rl);
    lab_say("MainThread: release() once more -> %s (cannot release un-acquired lock)", lab_errno_name(over));

    int lines = lock_lines(), completed = read_count(&G.completed);
    bool ok = completed == G.threads && lines == 4 * G.threads && abba_threads == G.threads && adjacent &&
              p1.unlock_rc == EPERM && p1.trylock_rc == EBUSY && p2.trylock_rc == EBUSY && p3.trylock_rc == 0 &&
              over == EPERM && tl_lockdep_reports() == 0;
    lab_result("threads=%d completed=%d lock_lines=%d per_thread_ABBA=%d pairs_adjacent=%d owner_count_max=%d "
               "nonowner_release=%s nonowner_acquire=%s over_release=%s lockdep=%d deadlock=0 breaks=second_resource "
               "elapsed_units=%.1f",
               G.threads, completed, lines, abba_threads, adjacent, tl_count_max(rl), lab_errno_name(p1.unlock_rc),
               lab_errno_name(p1.trylock_rc), lab_errno_name(over), tl_lockdep_reports(), elapsed);
    abba_done();
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_ordered(int mode)
{
    (void)mode;   /* no modes */
    double t0 = lab_now_ms();
    abba_run(AB_ORDERED, false);
    double elapsed = lab_elapsed_units(t0);
    int lines = lock_lines(), completed = read_count(&G.completed);
    bool ok = completed == G.threads && lines == 4 * G.threads && tl_lockdep_reports() == 0;
    lab_result("threads=%d completed=%d lock_lines=%d first=%s lockdep=%d deadlock=0 breaks=circular_wait "
               "elapsed_units=%.1f",
               G.threads, completed, lines, (uintptr_t)G.A < (uintptr_t)G.B ? "mutexA" : "mutexB",
               tl_lockdep_reports(), elapsed);
    abba_done();
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_backoff(int mode)
{
    (void)mode;   /* no modes */
    abba_run(AB_BACKOFF, false);
    int completed = read_count(&G.completed), pairs = read_count(&G.pairs), retries = read_count(&G.retries);
    bool ok = completed == G.threads && pairs == 2 * G.threads && retries >= 1;
    lab_result("threads=%d completed=%d pairs=%d retries=%d lockdep=%d deadlock=0 breaks=hold_and_wait",
               G.threads, completed,
               pairs, retries, tl_lockdep_reports());
    abba_done();
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_watchdog_restart(int mode)
{
    (void)mode;   /* no modes */
    lab07_end_with_parent();
    if (lab_opt("generation") == 0) {
        lab_say("generation 0 (pid %d): the notes' program; when the watchdog fires it restarts the program",
                (int)getpid());
        abba_run(AB_DEADLOCK, true);
        /* Only reached if the forced deadlock did not happen. */
        lab_result("generation=0 restarts=0 final_mode=deadlock completed=%d lock_lines=%d deadlock=0",
                   read_count(&G.completed), lock_lines());
        abba_done();
        return LAB_EXIT_BROKEN;
    }
    lab_say("generation 1 (pid %d, the same process after exec, fresh memory): ordered mode this time",
            (int)getpid());
    abba_run(AB_ORDERED, false);
    int lines = lock_lines(), completed = read_count(&G.completed);
    bool ok = completed == G.threads && lines == 4 * G.threads;
    /* The restart is recovery (the exec takes the locks from the stuck threads); what keeps this
     * generation from deadlocking is ordered locking, which breaks circular wait. */
    lab_result("generation=1 restarts=1 final_mode=ordered completed=%d lock_lines=%d deadlock=0 "
               "recovered_by=restart breaks=circular_wait",
               completed, lines);
    abba_done();
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
