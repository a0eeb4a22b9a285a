/* labs/01-processes/oldthread.c - _thread, the old threading names, start vs join, and daemons.
 *
 * low_thread   the notes' outline: "thread ... python3改成了_thread", 案例p02.  _thread is the low
 *              level module under threading: start_new_thread(fn, args) starts a thread and gives
 *              back nothing to join, allocate_lock() gives a lock that any thread may release, and
 *              when the program ends every thread dies at once - there is no join and no daemon
 *              flag.  --mode=exit: the program (a child process here) ends while its two threads
 *              still have lines to print: each printed 1 of 3.  --mode=lock: the old idiom, one
 *              lock per thread taken by main, released by the thread at its end, and main waits by
 *              acquiring it again: all 6 lines.  (threading's rule: the end of the program waits
 *              for every non-daemon thread; only daemon=True threads die like these.)
 * old_names    setName/getName, setDaemon(True), currentThread, activeCount, isAlive: what each is
 *              today (t.name, t.daemon = True, current_thread, active_count, is_alive) and what
 *              today's Python says (DeprecationWarning since 3.10; isAlive removed in 3.9).  Then
 *              the notes' MyThread(name) that sets self.name, and print('主', active_count()) after
 *              joining only t1: the other thread is not joined, so it may still be alive (kept
 *              alive here, so the count is 2 on every run).
 * start_join   the summary's pair "join 同步阻塞 / start() 异步非阻塞", with the notes' f('bob'):
 *              p.start() returns at once while f sleeps; p.join() blocks until 'hello bob'.
 * daemon_env   "守护线程案例是否有效果跟环境相关": the daemon example ends the main code while the
 *              daemon thread still works.  --mode=script: the process exits, the daemon dies after
 *              1 of 3 lines.  --mode=interactive: the main code ends but the process stays (IDLE,
 *              Jupyter, python -i keep the interpreter alive at the prompt): all 3 lines.
 * Python <-> C: _thread.start_new_thread <-> pthread_create + pthread_detach; allocate_lock <->
 *   sem_t at 1 (released by any thread); the program's end <-> exit(): every thread is gone.
 * Usage: build/lab01 low_thread [--mode=exit|lock] | old_names | start_join |
 *        daemon_env [--mode=script|interactive]
 * Watch for: lines=1,1 vs 3,3; 主 2 after t1.join(); start_units near 0, join_units about 2.
 * See also: threads.c (threading), ../02-join-daemon (join and daemon in depth).
 */
#include "lab.h"
#include "lab01.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *me_name(void) { return lab_thread_name(lab_current_thread()); }

/* What the child program's threads did, in memory shared with the parent (measurement only). */
struct low_report {
    atomic_int lines[2];        /* lines each thread printed */
    sem_t first_line;           /* a thread printed its first line (the child's own use) */
    sem_t main_ended;           /* daemon_env: the main code has ended (never posted in script) */
    sem_t locks[2];             /* low_thread lock: locks[i] = _thread.allocate_lock() */
    bool use_locks;
    bool interactive;
};

static struct low_report *rep;

/* Wait on s at most ms (CLOCK_MONOTONIC); true if it was posted. */
static bool sem_wait_ms(sem_t *s, double ms)
{
    struct timespec dl = lab_deadline_ms(ms);
    int rc;
    while ((rc = sem_clockwait(s, CLOCK_MONOTONIC, &dl)) != 0 && errno == EINTR)
        continue;
    return rc == 0;
}

/* ==== low_thread: _thread.start_new_thread and allocate_lock ==== */

/* def loop(i): 3 lines with time.sleep between them; with locks: locks[i].release() at the end. */
static void *low_loop(void *arg)
{
    int i = (int)(intptr_t)arg;
    lab_say("  loop %d: line 1 of 3", i);
    atomic_fetch_add(&rep->lines[i], 1);
    Sem_post(&rep->first_line);
    if (!rep->use_locks)
        sem_wait_ms(&rep->main_ended, lab_bound_ms(0));  /* time.sleep(4): still asleep when main ends */
    for (int k = 2; k <= 3; k++) {
        lab_sleep(0.1);
        lab_say("  loop %d: line %d of 3", i, k);
        atomic_fetch_add(&rep->lines[i], 1);
    }
    if (rep->use_locks)
        Sem_post(&rep->locks[i]);                     /* lock.release(): from another thread, allowed */
    return NULL;
}

static int low_program(struct lab_proc *self)
{
    (void)self;
    for (int i = 0; i < 2; i++) {
        if (rep->use_locks)
            Sem_wait(&rep->locks[i]);                  /* lock = allocate_lock(); lock.acquire() */
        pthread_t t;
        Pthread_create(&t, NULL, low_loop, (void *)(intptr_t)i);   /* _thread.start_new_thread(loop, (i,)) */
        pthread_detach(t);                             /* nothing to join: _thread has no join */
    }
    for (int i = 0; i < 2; i++)
        sem_wait_ms(&rep->first_line, lab_bound_ms(0));
    if (rep->use_locks) {
        for (int i = 0; i < 2; i++)                    /* while locks[i].locked(): pass */
            if (!sem_wait_ms(&rep->locks[i], lab_bound_ms(0)))
                return LAB_EXIT_BROKEN;
        lab_say("  main: every lock released, the program ends");
    } else {
        lab_say("  main: done, the program ends (no join: _thread has none)");
    }
    return LAB_EXIT_OK;                                /* _exit: every thread of the process is gone */
}

static struct low_report *report_new(void)
{
    struct low_report *r = lab_shared_alloc(sizeof *r);
    if (sem_init(&r->first_line, 1, 0) || sem_init(&r->main_ended, 1, 0) ||
        sem_init(&r->locks[0], 1, 1) || sem_init(&r->locks[1], 1, 1))
        die("sem_init:");
    return r;
}

static void report_free(struct low_report *r)
{
    sem_destroy(&r->first_line);
    sem_destroy(&r->main_ended);
    sem_destroy(&r->locks[0]);
    sem_destroy(&r->locks[1]);
    lab_shared_free(r, sizeof *r);
}

int run_low_thread(int mode)
{
    rep = report_new();
    rep->use_locks = mode == LOW_THREAD_LOCK;
    lab_say("%s: the program (a child process) does _thread.start_new_thread(loop, (i,)) for i in 0, 1",
            me_name());
    if (rep->use_locks)
        lab_say("%s: each thread with a lock = _thread.allocate_lock(), acquired by main first", me_name());
    struct lab_proc prog = LAB_PROC_INIT(low_program, NULL);
    lab_proc_start_or_die(&prog);
    int code = lab_proc_join(&prog);
    int l0 = atomic_load(&rep->lines[0]), l1 = atomic_load(&rep->lines[1]);
    lab_say("%s: the program exited %d; the loops printed %d and %d of 3 lines%s", me_name(), code, l0, l1,
            l0 + l1 < 6 ? ": killed when it ended" : "");
    lab_say("%s: %s", me_name(), rep->use_locks
            ? "allocate_lock() as a done-flag: main waited by acquiring each lock again"
            : "threading waits for non-daemon threads at the end; only daemon=True dies so");
    lab_result("threads=2 lines=%d,%d exitcode=%d", l0, l1, code);
    bool ok = code == 0 && (rep->use_locks ? l0 == 3 && l1 == 3 : l0 == 1 && l1 == 1);
    report_free(rep);
    rep = NULL;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== old_names: the camelCase API and what it is today ==== */

struct hold {
    sem_t go;               /* t2 waits here until main has printed active_count() */
};

static void *name_task(void *arg)
{
    struct hold *h = arg;
    lab_say("  %s: hello,world!!", me_name());
    if (h)
        sem_wait_ms(&h->go, lab_bound_ms(0));
    return NULL;
}

/* class MyThread(Thread): def __init__(self, name): super().__init__(); self.name = name */
static void *my_run(void *arg)
{
    (void)arg;
    lab_say("  %s is running ", me_name());
    return NULL;
}

/* One row of the table: the old name, what it is today (with its value here), Python's verdict. */
static void old_row(const char *old, const char *today, const char *verdict)
{
    lab_say("%-26s %-40s %s", old, today, verdict);
}

int run_old_names(int mode)
{
    (void)mode;
    struct lab_thread *t = LAB_THREAD(name_task, NULL);
    static const char dep[] = "DeprecationWarning since 3.10";
    lab_thread_set_name(t, "zhao");                                  /* t.setName('zhao') */
    old_row("t.setName('zhao')", "t.name = 'zhao'", dep);
    char buf[64];
    snprintf(buf, sizeof buf, "t.name -> '%s'", lab_thread_name(t));   /* t.getName() */
    old_row("t.getName()", buf, dep);
    lab_thread_set_daemon(t, true);                                  /* t.setDaemon(True) */
    snprintf(buf, sizeof buf, "t.daemon = True -> %s", lab_thread_is_daemon(t) ? "True" : "False");
    old_row("t.setDaemon(True)", buf, dep);
    snprintf(buf, sizeof buf, "current_thread() -> %s", me_name());
    old_row("threading.currentThread()", buf, dep);
    snprintf(buf, sizeof buf, "active_count() -> %zu", lab_active_count());
    old_row("threading.activeCount()", buf, dep);
    bool before = lab_thread_is_alive(t);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    snprintf(buf, sizeof buf, "t.is_alive() -> %s, %s after join", before ? "True" : "False",
             lab_thread_is_alive(t) ? "True" : "False");
    old_row("t.isAlive()", buf, "removed in 3.9: AttributeError");

    /* t = MyThread('zhao'): the subclass sets self.name before start */
    struct lab_thread *mt = lab_thread_new(my_run, NULL, NULL);
    lab_thread_set_name(mt, "zhao");
    lab_thread_start_or_die(mt);
    lab_thread_join(mt);
    bool named = strcmp(lab_thread_name(mt), "zhao") == 0;

    /* t = Thread(target=task); t1 = Thread(target=task); start both; t1.join(); print('主', active_count()) */
    struct hold h;
    if (sem_init(&h.go, 0, 0))
        die("sem_init:");
    struct lab_thread *t0 = LAB_THREAD(name_task, &h);
    struct lab_thread *t1 = LAB_THREAD(name_task, NULL);
    lab_thread_start_or_die(t0);
    lab_thread_start_or_die(t1);
    lab_thread_join(t1);
    size_t after_t1 = lab_active_count();
    lab_say("%s: 主 %zu   (only t1 was joined: t is still running, kept alive here until this line)",
            me_name(), after_t1);
    Sem_post(&h.go);
    lab_thread_join(t0);
    size_t after_all = lab_active_count();
    lab_say("%s: 主 %zu   (after t.join() too)", me_name(), after_all);
    sem_destroy(&h.go);
    lab_result("daemon=%d mythread_name=%s active_after_t1_join=%zu active_after_all=%zu",
               lab_thread_is_daemon(t) ? 1 : 0, lab_thread_name(mt), after_t1, after_all);
    return named && after_t1 == 2 && after_all == 1 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== start_join: start() 异步非阻塞, join() 同步阻塞, with f('bob') ==== */

struct bob {
    atomic_int said;        /* f printed 'hello bob' */
    sem_t go;               /* the parent has looked: f may start its sleep (process-shared) */
};

/* def f(name): time.sleep(2); print('hello', name)
 * It waits for the parent's word before its sleep, so that start() has returned and the parent
 * has looked on every run, however slow the machine: the order is forced, not hoped for. */
static int f_bob(struct lab_proc *self)
{
    struct bob *b = self->arg;
    Sem_wait(&b->go);
    lab_sleep(2);
    lab_say("  hello bob");
    atomic_store(&b->said, 1);
    return LAB_EXIT_OK;
}

int run_start_join(int mode)
{
    (void)mode;
    struct bob *b = lab_shared_alloc(sizeof *b);
    SYS_CHECK(sem_init(&b->go, 1, 0));
    struct lab_proc p = LAB_PROC_INIT(f_bob, b);          /* p = Process(target=f, args=('bob',)) */
    double t0 = lab_now_ms();
    lab_proc_start_or_die(&p);
    double start_units = lab_elapsed_units(t0);
    int said_at_start = atomic_load(&b->said);
    lab_say("%s: p.start() returned after %.2f units, f still asleep (said hello: %s): 异步非阻塞",
            me_name(), start_units, said_at_start ? "yes" : "no");
    double t1 = lab_now_ms();
    Sem_post(&b->go);
    int code = lab_proc_join(&p);
    double join_units = lab_elapsed_units(t1);
    int said_at_join = atomic_load(&b->said);
    lab_say("%s: p.join() returned after %.1f units, once f had said hello (%s): 同步阻塞",
            me_name(), join_units, said_at_join ? "yes" : "no");
    lab_result("start_units=%.2f said_at_start=%d join_units=%.1f said_at_join=%d exitcode=%d",
               start_units, said_at_start, join_units, said_at_join, code);
    SYS_CHECK(sem_destroy(&b->go));
    lab_shared_free(b, sizeof *b);
    return !said_at_start && said_at_join && code == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== daemon_env: does the daemon thread die? It depends on whether the process ends ==== */

static void *daemon_loop(void *arg)
{
    (void)arg;
    lab_say("  daemon: line 1 of 3");
    atomic_fetch_add(&rep->lines[0], 1);
    Sem_post(&rep->first_line);
    sem_wait_ms(&rep->main_ended, lab_bound_ms(0));  /* still working when the main code ends */
    for (int k = 2; k <= 3; k++) {
        lab_sleep(0.1);
        lab_say("  daemon: line %d of 3", k);
        atomic_fetch_add(&rep->lines[0], 1);
    }
    return NULL;
}

static int daemon_program(struct lab_proc *self)
{
    (void)self;
    struct lab_thread *t = LAB_THREAD(daemon_loop, NULL);
    lab_thread_set_daemon(t, true);                     /* t.setDaemon(True) */
    lab_thread_start_or_die(t);
    sem_wait_ms(&rep->first_line, lab_bound_ms(0));
    lab_say("  主: the main code ends");
    if (!rep->interactive)
        return LAB_EXIT_OK;                             /* a script: the process exits, daemons die */
    /* IDLE, Jupyter, python -i: the prompt keeps the process alive after the main code */
    Sem_post(&rep->main_ended);
    lab_say("  >>> (the prompt waits; the process lives on)");
    for (int i = 0; i < 100 && atomic_load(&rep->lines[0]) < 3; i++)
        lab_sleep(0.05);
    lab_thread_join(t);
    return LAB_EXIT_OK;
}

int run_daemon_env(int mode)
{
    rep = report_new();
    rep->interactive = mode == DAEMON_ENV_INTERACTIVE;
    lab_say("%s: t.setDaemon(True); t.start(); print('主'), run %s", me_name(),
            rep->interactive ? "at a prompt (IDLE, Jupyter, python -i)" : "as a script (python x.py)");
    struct lab_proc prog = LAB_PROC_INIT(daemon_program, NULL);
    lab_proc_start_or_die(&prog);
    int code = lab_proc_join(&prog);
    int lines = atomic_load(&rep->lines[0]);
    lab_say("%s: the daemon printed %d of 3 lines: %s", me_name(), lines,
            lines < 3 ? "it died with the process" : "the process did not end, so neither did the daemon");
    lab_result("daemon_lines=%d exitcode=%d", lines, code);
    bool ok = code == 0 && lines == (rep->interactive ? 3 : 1);
    report_free(rep);
    rep = NULL;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
