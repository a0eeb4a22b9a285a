/* tests/unit_common.c - unit tests for common/ (xv6 usertests style).
 *
 * A table of tests; each runs in a forked child so that a crash or a die() is contained and
 * reported as FAIL.  Prints "PASS name" / "FAIL name: why" and exits 1 if any failed.
 * Usage: unit_common [NAME...]   (default: all)    unit_common --list
 */
#include "lab.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            _exit(1);                                                                   \
        }                                                                               \
    } while (0)

/* ---- number parsing ---- */
static void t_parse(void)
{
    long long v;
    char err[160];
    CHECK(lab_parse_ll("42", 0, 100, &v, err, sizeof err) == 0 && v == 42);
    CHECK(lab_parse_ll("-3", -5, 5, &v, err, sizeof err) == 0 && v == -3);
    CHECK(lab_parse_ll("", 0, 100, &v, err, sizeof err) == -1);
    CHECK(lab_parse_ll("12abc", 0, 100, &v, err, sizeof err) == -1 && strstr(err, "not a whole number"));
    CHECK(lab_parse_ll("101", 0, 100, &v, err, sizeof err) == -1 && strstr(err, "out of range"));
    CHECK(lab_parse_ll("99999999999999999999", 0, 100, &v, err, sizeof err) == -1);
    CHECK(lab_parse_ll(" 5", 0, 100, &v, err, sizeof err) == -1);
}

/* ---- random streams ---- */
static void t_rng(void)
{
    struct lab_rng a, b, c;
    lab_set_seed(7);
    lab_rng_init(&a, 3);
    lab_rng_init(&b, 3);
    lab_rng_init(&c, 4);
    bool differ = false;
    for (int i = 0; i < 100; i++) {
        uint64_t x = lab_rng_next(&a), y = lab_rng_next(&b), z = lab_rng_next(&c);
        CHECK(x == y);
        differ |= x != z;
    }
    CHECK(differ);
    for (int i = 0; i < 1000; i++) {
        long long r = lab_rng_range(&a, 1, 3);
        CHECK(r >= 1 && r <= 3);
        double u = lab_rng_unit(&a);
        CHECK(u >= 0 && u < 1);
    }
    lab_set_seed(8);
    lab_rng_init(&b, 3);
    lab_rng_init(&a, 3);
    CHECK(lab_rng_next(&a) == lab_rng_next(&b));
}

/* ---- time ---- */
static void t_clock(void)
{
    lab_set_second_ms(20);
    double t0 = lab_now_ms();
    lab_sleep(2);               /* 40 ms */
    double el = lab_elapsed_ms(t0);
    CHECK(el >= 40.0);
    CHECK(lab_elapsed_units(t0) >= 2.0);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);   /* before the deadline: a pause cannot make it look near */
    struct timespec d = lab_deadline_ms(1500);
    CHECK(d.tv_nsec < 1000000000L && (d.tv_sec - now.tv_sec) >= 1);
}

/* ---- threads ---- */
static void *sleeper(void *arg)
{
    lab_sleep_ms((double)(long)arg);
    return arg;
}

static void *who(void *arg)
{
    (void)arg;
    return (void *)lab_thread_name(lab_current_thread());
}

static void t_thread_names(void)
{
    CHECK(strcmp(lab_thread_name(lab_current_thread()), "MainThread") == 0);
    struct lab_thread *t1 = LAB_THREAD(who, NULL);
    struct lab_thread *t2 = lab_thread_new(who, NULL, NULL);
    CHECK(strcmp(lab_thread_name(t1), "Thread-1 (who)") == 0);
    CHECK(strcmp(lab_thread_name(t2), "Thread-2") == 0);
    CHECK(lab_thread_ident(t1) == 0);
    lab_thread_start_or_die(t1);
    lab_thread_start_or_die(t2);
    CHECK(strcmp(lab_thread_join(t1), "Thread-1 (who)") == 0);
    CHECK(strcmp(lab_thread_join(t2), "Thread-2") == 0);
    CHECK(lab_thread_start(t1) == EINVAL);          /* threads can only be started once */
    CHECK(lab_thread_set_daemon(t1, true) == EINVAL); /* cannot set daemon of a started thread */
    CHECK(!lab_thread_is_alive(t1));
}

/* Python's counter is one per program: lab_thread_program_start makes the next unnamed thread
 * Thread-1 again, and a library's own counter (ThreadPoolExecutor-N) 0 again; inside a program a
 * number never serves twice, not even after a join; a forked child counts on from its copy. */
static void t_thread_program(void)
{
    static struct lab_program_count pools;
    lab_thread_program_start();
    CHECK(lab_thread_program_count(&pools) == 0 && lab_thread_program_count(&pools) == 1);
    struct lab_thread *a = LAB_THREAD(who, NULL);
    lab_thread_start_or_die(a);
    CHECK(strcmp(lab_thread_join(a), "Thread-1 (who)") == 0);
    struct lab_thread *b = LAB_THREAD(who, NULL);
    CHECK(strcmp(lab_thread_name(b), "Thread-2 (who)") == 0);
    struct lab_thread *z = LAB_THREAD(who, NULL);      /* t = Thread(target=who); t.name = 'zhao' */
    CHECK(lab_thread_set_name(z, "zhao") == 0 && lab_thread_number(z) == 3);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        lab_thread_after_fork();
        struct lab_thread *c = lab_thread_new(who, NULL, NULL);
        _exit(strcmp(lab_thread_name(c), "Thread-4") == 0 ? 0 : 1);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strcmp(lab_thread_name(LAB_THREAD(who, NULL)), "Thread-4 (who)") == 0);
    lab_thread_program_start();
    struct lab_thread *d = lab_thread_new(who, NULL, NULL);
    CHECK(strcmp(lab_thread_name(d), "Thread-1") == 0 && lab_thread_number(d) == 1);
    CHECK(strcmp(lab_thread_name(b), "Thread-2 (who)") == 0);   /* an earlier program's keep theirs */
    CHECK(lab_thread_program_count(&pools) == 0);
}

static sem_t go;

/* Stays alive until the test lets it go, so that enumerate() sees it however slow the start. */
static void *waiter(void *arg)
{
    Sem_wait(&go);
    return arg;
}

static void t_thread_enumerate(void)
{
    CHECK(sem_init(&go, 0, 0) == 0);
    struct lab_thread *ts[5];
    for (long i = 0; i < 5; i++) {
        ts[i] = LAB_THREAD(waiter, (void *)(50 + i));
        lab_thread_start_or_die(ts[i]);
    }
    struct lab_thread *list[16];
    size_t n = lab_enumerate(list, 16);
    CHECK(n == 6 && lab_active_count() == 6);
    CHECK(list[0] == lab_main_thread());
    for (int i = 0; i < 5; i++)
        Sem_post(&go);
    for (int i = 0; i < 5; i++)
        CHECK((long)lab_thread_join(ts[i]) == 50 + i);
    CHECK(lab_active_count() == 1);
    sem_destroy(&go);
}

static void *slow_print(void *arg)
{
    lab_sleep_ms((double)(long)arg);
    lab_say("thread slept %ld", (long)arg);
    return NULL;
}

/* The exit rule, observed from outside: a child process runs main code that starts a daemon
 * thread (long sleep) and a non-daemon one (short sleep); only the non-daemon's line appears. */
static void t_thread_exit_rule(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        lab_thread_after_fork();
        struct lab_thread *d = LAB_THREAD(slow_print, (void *)300L);
        struct lab_thread *n = LAB_THREAD(slow_print, (void *)30L);
        CHECK(lab_thread_set_daemon(d, true) == 0);
        lab_thread_start_or_die(d);
        lab_thread_start_or_die(n);
        lab_thread_exit_main(0);
    }
    close(fds[1]);
    char buf[256] = "";
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strstr(buf, "thread slept 30") != NULL);
    CHECK(strstr(buf, "thread slept 300") == NULL);
}

static void t_thread_join_ms(void)
{
    struct lab_thread *t = LAB_THREAD(sleeper, (void *)200L);
    lab_thread_start_or_die(t);
    CHECK(!lab_thread_join_ms(t, 10));
    CHECK(lab_thread_is_alive(t));
    CHECK(lab_thread_join_ms(t, 5000));
    CHECK(!lab_thread_is_alive(t));
}

/* ---- processes ---- */
static int exit_with(struct lab_proc *p) { return (int)(long)p->arg; }
static int sleep_long(struct lab_proc *p)
{
    (void)p;
    lab_sleep_ms(10000);
    return 0;
}

static void t_proc_basic(void)
{
    /* What the kernel says of a process: its state, its CPU time (which grows as it computes). */
    char st;
    CHECK(lab_proc_stat(getpid(), &st, NULL) == 0 && st == 'R');
    double c0 = lab_proc_cpu_ms(getpid());
    volatile unsigned long spin = 0;
    double t0 = lab_now_ms();   /* compute until a clock tick is charged (bounded: a stuck value fails) */
    while (lab_proc_cpu_ms(getpid()) <= c0 && lab_elapsed_ms(t0) < 5000)
        for (int k = 0; k < 100000; k++)
            spin++;
    CHECK(c0 >= 0 && lab_proc_cpu_ms(getpid()) > c0);
    CHECK(lab_proc_cpu_ms(-1) == -1 && lab_proc_state(-1) == '?');
    struct lab_proc p = LAB_PROC_INIT(exit_with, 7);
    CHECK(lab_proc_exitcode(&p) == LAB_PROC_NO_EXITCODE);
    CHECK(lab_proc_start(&p) == 0);
    CHECK(p.pid > 0 && strncmp(p.name, "Process-", 8) == 0);
    CHECK(lab_proc_start(&p) == EINVAL);
    CHECK(lab_proc_set_daemon(&p, true) == EINVAL);
    CHECK(lab_proc_join(&p) == 7);
    CHECK(!lab_proc_is_alive(&p));
}

static void t_proc_terminate(void)
{
    struct lab_proc p = LAB_PROC_INIT(sleep_long, NULL);
    CHECK(lab_proc_start(&p) == 0);
    CHECK(lab_proc_is_alive(&p));
    CHECK(!lab_proc_join_ms(&p, 20));
    CHECK(lab_proc_terminate(&p) == 0);
    CHECK(lab_proc_join_ms(&p, 5000));
    CHECK(lab_proc_exitcode(&p) == -SIGTERM);
    CHECK(lab_proc_terminate(&p) == 0);   /* no-op on an ended process */
}

/* Daemon children are terminated when the main code ends; non-daemon ones are waited for. */
static int write_after(struct lab_proc *p)
{
    lab_sleep_ms((double)(long)p->arg);
    lab_say("child slept %ld", (long)p->arg);
    return 0;
}

static void t_proc_daemon_rule(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        lab_proc_after_fork();
        static struct lab_proc d = LAB_PROC_INIT(write_after, 400);
        static struct lab_proc n = LAB_PROC_INIT(write_after, 60);
        lab_proc_set_daemon(&d, true);
        lab_proc_start(&d);
        lab_proc_start(&n);
        exit(0);   /* the main code ends: atexit runs the rule */
    }
    close(fds[1]);
    char buf[256] = "";
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(strstr(buf, "child slept 60") != NULL);
    CHECK(strstr(buf, "child slept 400") == NULL);
}

/* ---- cleanup on a signal ---- */
static char cleanup_path[64];
static void t_cleanup_signal(void)
{
    snprintf(cleanup_path, sizeof cleanup_path, "/tmp/unit_common_%d", (int)getpid());
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        lab_cleanup_install();
        FILE *f = fopen(cleanup_path, "w");
        if (!f)
            _exit(9);
        fclose(f);
        lab_cleanup_add(lab_cleanup_unlink, cleanup_path);
        pause();
        _exit(8);
    }
    for (int i = 0; i < 500 && access(cleanup_path, F_OK) != 0; i++)
        lab_sleep_ms(2);
    CHECK(access(cleanup_path, F_OK) == 0);
    lab_sleep_ms(20);
    CHECK(kill(pid, SIGINT) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
    CHECK(access(cleanup_path, F_OK) != 0);
}

/* ---- the process queue ---- */
static void t_pqueue_api(void)
{
    struct lab_pqueue *q = lab_pq_create(3, 256);
    CHECK(q != NULL);
    CHECK(lab_pq_empty(q) && !lab_pq_full(q) && lab_pq_qsize(q) == 0 && lab_pq_maxsize(q) == 3);
    char buf[64];
    CHECK(lab_pq_get_str(q, buf, sizeof buf, 0) == EAGAIN);          /* get_nowait: Empty */
    CHECK(lab_pq_get_str(q, buf, sizeof buf, 20) == ETIMEDOUT);      /* get(timeout): Empty */
    CHECK(lab_pq_put_str(q, "a", -1) == 0 && lab_pq_put_str(q, "bb", -1) == 0);
    CHECK(lab_pq_put_str(q, "ccc", -1) == 0);
    CHECK(lab_pq_full(q) && lab_pq_qsize(q) == 3);
    CHECK(lab_pq_put_str(q, "d", 0) == EAGAIN);                      /* put_nowait: Full */
    char big[300];
    memset(big, 'x', sizeof big);
    CHECK(lab_pq_put(q, big, sizeof big, 0) == EMSGSIZE);            /* can never fit */
    char tiny[2];
    size_t len = 0;
    CHECK(lab_pq_get(q, tiny, 1, &len, 0) == EMSGSIZE && len == 2);  /* too small: left queued */
    CHECK(lab_pq_get_str(q, buf, sizeof buf, -1) == 0 && strcmp(buf, "a") == 0);
    CHECK(lab_pq_get_str(q, buf, sizeof buf, -1) == 0 && strcmp(buf, "bb") == 0);
    CHECK(lab_pq_get_str(q, buf, sizeof buf, -1) == 0 && strcmp(buf, "ccc") == 0);
    CHECK(lab_pq_empty(q));
    /* JoinableQueue: three puts, three task_done, then one too many. */
    CHECK(lab_pq_join(q, 0) == ETIMEDOUT);
    for (int i = 0; i < 3; i++)
        CHECK(lab_pq_task_done(q) == 0);
    CHECK(lab_pq_join(q, 0) == 0);
    CHECK(lab_pq_task_done(q) == EINVAL);
    lab_pq_destroy(q);
}

/* Between processes: two children put 200 numbered messages each, the parent gets all 400,
 * each child's in its own order, through a queue of 4 slots (so puts block). */
static int pq_producer(struct lab_proc *p)
{
    struct lab_pqueue *q = p->arg;
    char msg[32];
    for (int i = 0; i < 200; i++) {
        snprintf(msg, sizeof msg, "%d:%d", p->number, i);
        if (lab_pq_put_str(q, msg, 5000) != 0)
            return 1;
    }
    return 0;
}

static void t_pqueue_processes(void)
{
    struct lab_pqueue *q = lab_pq_create(4, 0);
    CHECK(q != NULL);
    struct lab_proc a = LAB_PROC_INIT(pq_producer, q), b = LAB_PROC_INIT(pq_producer, q);
    CHECK(lab_proc_start(&a) == 0 && lab_proc_start(&b) == 0);
    int next_a = 0, next_b = 0;
    char buf[32];
    for (int i = 0; i < 400; i++) {
        CHECK(lab_pq_get_str(q, buf, sizeof buf, 5000) == 0);
        int who, seq;
        CHECK(sscanf(buf, "%d:%d", &who, &seq) == 2);
        if (who == a.number) {
            CHECK(seq == next_a);
            next_a++;
        } else {
            CHECK(who == b.number && seq == next_b);
            next_b++;
        }
    }
    CHECK(lab_proc_join(&a) == 0 && lab_proc_join(&b) == 0);
    CHECK(next_a == 200 && next_b == 200 && lab_pq_empty(q));
    lab_pq_destroy(q);
}

/* ---- shared memory ---- */
static int write_shared(struct lab_proc *p)
{
    int *box = p->arg;
    box[1] = 666;
    return 0;
}

static void t_shared_memory(void)
{
    int *box = lab_shared_alloc(2 * sizeof *box);
    CHECK(box[0] == 0 && box[1] == 0);   /* zero-filled */
    struct lab_proc p = LAB_PROC_INIT(write_shared, box);
    CHECK(lab_proc_start(&p) == 0 && lab_proc_join(&p) == 0);
    CHECK(box[1] == 666);                /* the child's write is the parent's too */
    lab_shared_free(box, 2 * sizeof *box);
}

/* ---- the watchdog ---- */
static void wd_report(struct lab_watchdog *w, void *arg, double silent_ms)
{
    (void)arg;
    CHECK(lab_watchdog_timeout_ms(w) == 30);   /* the watchdog that fired, whoever holds a pointer */
    lab_say("report after %.0f ms", silent_ms);
}

static void t_watchdog(void)
{
    /* Kicked in time, it never fires, and stop() cancels it.  The kicks go on for longer than
     * the timeout (45 x 30 ms against 1000 ms), so a kick that does not reset it is seen: it fires
     * and ends this test with status 3.  A second between two kicks leaves room for a loaded machine. */
    struct lab_watchdog *w = lab_watchdog_start(1000, wd_report, NULL);
    for (int i = 0; i < 45; i++) {
        lab_sleep_ms(30);
        lab_watchdog_kick(w);
    }
    CHECK(lab_watchdog_kicks(w) == 45);
    lab_watchdog_stop(w);
    /* Left alone, it reports and ends the process with status 3. */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDOUT_FILENO);
        lab_watchdog_start(30, wd_report, NULL);
        lab_sleep_ms(5000);
        _exit(0);
    }
    int st;
    double t0 = lab_now_ms();
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == LAB_EXIT_WATCHDOG);
    CHECK(lab_elapsed_ms(t0) < 4000);
}

static const char *captured(void (*fn)(void));
static void draw_timeline(void)
{
    static const struct lab_tl_state st[] = { { '.', LAB_RED, "waits" }, { '#', LAB_GREEN, "holds" }, { 0 } };
    struct lab_timeline *tl = lab_timeline_new(3, 16);
    lab_timeline_row(tl, 0, "a");
    lab_timeline_row(tl, 1, "b");
    lab_timeline_mark(tl, 0, 1);
    lab_timeline_mark(tl, 1, 0);
    lab_sleep_ms(20);
    lab_timeline_mark(tl, 1, 1);   /* both hold now */
    lab_sleep_ms(20);
    lab_timeline_mark(tl, 0, LAB_TL_OFF);
    lab_sleep_ms(20);              /* b alone: the last columns count 1, the peak stays 2 */
    lab_timeline_mark(tl, 1, LAB_TL_OFF);
    CHECK(lab_timeline_draw(tl, st, 1) == 2);
    lab_timeline_free(tl);
}

/* ---- a timeline: rows, states, the count row and its peak ---- */
/* The row of `label` in a drawing: the text from "\nlabel " to the end of its line, in row. */
static const char *timeline_row(const char *out, const char *label, char *row, size_t len)
{
    char key[32];
    snprintf(key, sizeof key, "\n%s ", label);
    const char *p = strstr(out, key);
    if (p == NULL)
        return "";
    p += 1;
    size_t n = strcspn(p, "\n");
    snprintf(row, len, "%.*s", (int)(n < len ? n : len - 1), p);
    return row;
}

static void t_timeline(void)
{
    const char *out = captured(draw_timeline);
    /* Columns are sampled times, and a slow machine (Valgrind) shifts where a row starts: check
     * what each row holds and in which order, not its first column. */
    char ra[256], rb[256];
    const char *a = timeline_row(out, "a", ra, sizeof ra), *b = timeline_row(out, "b", rb, sizeof rb);
    CHECK(strchr(a, '#') != NULL && strchr(a, '.') == NULL);
    CHECK(strchr(b, '.') != NULL && strchr(b, '#') != NULL && strchr(b, '.') < strchr(b, '#'));
    CHECK(strstr(out, "| peak 2\n") != NULL);
    CHECK(strstr(out, "# holds") != NULL);
}

/* ---- output ---- */
static void t_colors(void)
{
    lab_set_colors(false);
    CHECK(strcmp(lab_color(LAB_RED), "") == 0);
    lab_set_colors(true);
    CHECK(strcmp(lab_color(LAB_RED), "\033[31m") == 0);
    lab_set_colors(false);
}

/* ---- the bottom of the stack: identity, the RESULT line, exit statuses ---- */

/* Run fn with stdout sent into a pipe; return what it printed (static buffer). */
static const char *captured(void (*fn)(void))
{
    static char buf[1024];
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    CHECK(saved >= 0 && dup2(p[1], STDOUT_FILENO) >= 0);
    fn();
    fflush(stdout);
    CHECK(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    close(p[1]);
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void print_result(void) { lab_result("sold=%d oversold=%d", 3, 0); }

static void t_prog_result(void)
{
    lab_prog_set(3, "unit");
    CHECK(strcmp(lab_prog_name(), "lab03") == 0 && lab_number() == 3);
    CHECK(lab_is_main_process());
    CHECK(lab_self_path()[0] == '/');
    lab_prog_set_scenario("tickets", "nolock");
    CHECK(strcmp(captured(print_result), "RESULT l3.tickets mode=nolock sold=3 oversold=0\n") == 0);
    lab_prog_set_scenario("zombie", NULL);
    CHECK(strcmp(captured(print_result), "RESULT l3.zombie sold=3 oversold=0\n") == 0);
    /* On a terminal the line is dimmed; what is recorded (for --mode=a,b) has no colours. */
    char rec[128] = "";
    lab_result_record(rec, sizeof rec);
    lab_set_colors(true);
    CHECK(strcmp(captured(print_result), "\033[2mRESULT l3.zombie sold=3 oversold=0\033[0m\n") == 0);
    lab_set_colors(false);
    lab_result_record(NULL, 0);
    CHECK(strcmp(rec, "RESULT l3.zombie sold=3 oversold=0") == 0);
    CHECK(LAB_EXIT_OK == 0 && LAB_EXIT_BROKEN == 1 && LAB_EXIT_USAGE == 2 && LAB_EXIT_WATCHDOG == 3);
    pid_t pid = fork();
    if (pid == 0)
        _exit(lab_is_main_process() ? 1 : 0);   /* a forked child is not the main process */
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- sync: mutex kinds, monotonic condition variables, errno names ---- */
static void t_sync(void)
{
    pthread_mutex_t m;
    lab_mutex_init(&m, LAB_MUTEX_ERRORCHECK);
    CHECK(pthread_mutex_lock(&m) == 0);
    CHECK(pthread_mutex_lock(&m) == EDEADLK);         /* relock reported, not a hang */
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == EPERM);         /* not the owner any more */
    Pthread_mutex_destroy(&m);

    lab_mutex_init(&m, LAB_MUTEX_RECURSIVE);
    CHECK(pthread_mutex_lock(&m) == 0 && pthread_mutex_lock(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == 0 && pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == EPERM);
    Pthread_mutex_destroy(&m);

    /* A robust, process-shared mutex whose owner dies: the next locker gets EOWNERDEAD. */
    pthread_mutex_t *sm = lab_shared_alloc(sizeof *sm);
    lab_mutex_init(sm, LAB_MUTEX_PSHARED | LAB_MUTEX_ROBUST);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(sm);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(pthread_mutex_lock(sm) == EOWNERDEAD);
    CHECK(pthread_mutex_consistent(sm) == 0 && pthread_mutex_unlock(sm) == 0);
    lab_shared_free(sm, sizeof *sm);

    /* The condition variable times out on CLOCK_MONOTONIC deadlines. */
    pthread_cond_t c;
    lab_cond_init(&c, 0);
    lab_mutex_init(&m, 0);
    double t0 = lab_now_ms();   /* before the deadline: a pause between the two cannot shorten the wait */
    struct timespec deadline = lab_deadline_ms(20);
    Pthread_mutex_lock(&m);
    CHECK(pthread_cond_timedwait(&c, &m, &deadline) == ETIMEDOUT);
    Pthread_mutex_unlock(&m);
    CHECK(lab_elapsed_ms(t0) >= 19);
    Pthread_cond_destroy(&c);
    Pthread_mutex_destroy(&m);

    CHECK(strcmp(lab_errno_name(0), "OK") == 0);
    CHECK(strcmp(lab_errno_name(EDEADLK), "EDEADLK") == 0);
    CHECK(strcmp(lab_errno_name(EOWNERDEAD), "EOWNERDEAD") == 0);
    CHECK(strcmp(lab_errno_name(-12345), "E?") == 0);
}

/* ---- clock: units and bounds at a pace ---- */
static void t_clock_units(void)
{
    lab_set_second_ms(250);
    CHECK(lab_units_ms(2.0) == 500.0);
    CHECK(lab_ms_units(125.0) == 0.5);
    CHECK(lab_bound_ms(4.0) == 1000.0 + LAB_BOUND_SLACK_MS);
    lab_set_second_ms(LAB_SECOND_MS_DEFAULT);
}

/* ---- timing: work by the pace, a verdict chosen by the number, the parts not shown ---- */
static void t_timing(void)
{
    lab_set_second_ms(100);
    CHECK(lab_timing_work(25e6) == 2500000UL);
    lab_set_second_ms(10);
    CHECK(lab_timing_work(25e6) == 250000UL);
    CHECK(lab_timing_work(1.0) == 1UL);                  /* at least 1 */
    lab_set_second_ms(LAB_SECOND_MS_DEFAULT);
    CHECK(lab_timing_cpus() >= 1);
    /* The rule, both directions, the window, and the CPUs the effect needs. */
    struct lab_timing t = { .ratio = 1.3, .want = 1.3, .cpus_needed = 2, .cpus = 2 };
    CHECK(lab_timing_shows(&t));
    t.ratio = 1.29;
    CHECK(!lab_timing_shows(&t));
    t.ratio = 1.9, t.cpus = 1;
    CHECK(!lab_timing_shows(&t));                        /* one CPU cannot show a parallel speed-up */
    t = (struct lab_timing){ .ratio = 0.95, .want = 1.3, .at_most = true, .cpus = 1 };
    CHECK(lab_timing_shows(&t));
    t.ratio = 1.31;
    CHECK(!lab_timing_shows(&t));
    t = (struct lab_timing){ .ratio = 3.0, .want = 2, .want_max = 4.5 };
    CHECK(lab_timing_shows(&t));
    t.ratio = 4.6;
    CHECK(!lab_timing_shows(&t));
    t.ratio = 1.99;
    CHECK(!lab_timing_shows(&t));
    /* judge rounds first (1.296 is printed 1.30 and judged as 1.30), then counts what it did not
     * see, per scenario and mode, in memory its forked children share. */
    char names[128];
    CHECK(lab_timing_unshown(names, sizeof names) == 0 && names[0] == '\0');
    lab_prog_set_scenario("cpu", NULL);
    t = (struct lab_timing){ .part = "procs", .ratio = 1.296, .want = 1.3, .cpus_needed = 2, .cpus = 2 };
    CHECK(lab_timing_judge(&t, "processes %.2fx faster", t.ratio) && t.shown && t.ratio == 1.30);
    t = (struct lab_timing){ .part = "threads", .ratio = 1.05, .want = 1.3, .cpus_needed = 2, .cpus = 2 };
    CHECK(!lab_timing_judge(&t, "threads %.2fx faster", t.ratio) && !t.shown);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        t = (struct lab_timing){ .part = "procs", .ratio = 0.9, .want = 1.3, .cpus_needed = 2, .cpus = 2 };
        lab_timing_judge(&t, "processes %.2fx faster", t.ratio);
        lab_prog_set_scenario("affinity", "free");
        t = (struct lab_timing){ .part = "free", .ratio = 0.9, .want = 1.3, .cpus_needed = 2, .cpus = 2 };
        lab_timing_judge(&t, "free %.2f", t.ratio);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(lab_timing_unshown(names, sizeof names) == 2);
    CHECK(strcmp(names, "cpu (threads, procs), affinity --mode=free") == 0);
}

/* ---- cleanup: a private directory that goes at exit ---- */
static void t_private_dir(void)
{
    char dir[256];
    char tmpl[] = "/tmp/unit_common_XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    setenv("TMPDIR", tmpl, 1);
    int id = lab_private_dir(dir, sizeof dir, "lab03_");
    CHECK(strncmp(dir, tmpl, strlen(tmpl)) == 0 && strstr(dir, "/lab03_") != NULL);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    lab_cleanup_run(id);
    CHECK(stat(dir, &sb) == -1 && errno == ENOENT);
    CHECK(rmdir(tmpl) == 0);
    unsetenv("TMPDIR");
}

/* ---- the event loop, on each backend ---- */
struct loop_probe {
    int order[8], n;            /* what ran: 1..3 timers, 10 readable */
    int reads;
};

static double probe_timer(struct lab_loop *l, long long id, void *arg)
{
    (void)l;
    struct loop_probe *p = arg;
    p->order[p->n++] = (int)id;
    return LAB_LOOP_NOMORE;
}

static double write_timer(struct lab_loop *l, long long id, void *arg)
{
    (void)l;
    (void)id;
    CHECK(write(*(int *)arg, "x", 1) == 1);
    return LAB_LOOP_NOMORE;
}

static void probe_readable(struct lab_loop *l, int fd, void *arg, int mask)
{
    struct loop_probe *p = arg;
    CHECK(mask & LAB_LOOP_READABLE);
    p->order[p->n++] = 10;
    if (++p->reads == 2) {         /* level-triggered: the unread byte is reported again */
        char c;
        CHECK(read(fd, &c, 1) == 1);
        lab_loop_del(l, fd, LAB_LOOP_READABLE);
        lab_loop_stop(l);
    }
}

static void t_loop(void)
{
    static const char *const names[] = { "select", "poll", "epoll" };
    for (int b = 0; b < 3; b++) {
        struct lab_loop *l = lab_loop_new(names[b], 64);
        CHECK(l != NULL && strcmp(lab_loop_backend(l), names[b]) == 0);
        struct loop_probe p = { .n = 0 };
        /* three timers of 5 ms run in the order they were added (each is due a little later) */
        long long ids[3];
        for (int i = 0; i < 3; i++)
            ids[i] = lab_loop_timer_add(l, 5, probe_timer, &p);
        long long gone = lab_loop_timer_add(l, 5, probe_timer, &p);
        CHECK(lab_loop_timer_del(l, gone) == 0 && lab_loop_timer_del(l, gone) == -1 && errno == ENOENT);
        int fds[2];
        CHECK(pipe(fds) == 0);
        CHECK(lab_loop_add(l, fds[0], LAB_LOOP_READABLE, probe_readable, &p) == 0);
        CHECK(lab_loop_mask(l, fds[0]) == LAB_LOOP_READABLE && lab_loop_nfiles(l) == 1);
        lab_loop_timer_add(l, 20, write_timer, &fds[1]);
        double t0 = lab_now_ms();
        lab_loop_run(l);
        CHECK(lab_elapsed_ms(t0) >= 19);
        CHECK(p.n == 5 && p.order[0] == ids[0] && p.order[1] == ids[1] && p.order[2] == ids[2]);
        CHECK(p.order[3] == 10 && p.order[4] == 10 && lab_loop_nfiles(l) == 0);
        CHECK(lab_loop_add(l, 64, LAB_LOOP_READABLE, probe_readable, &p) == -1 && errno == ERANGE);
        CHECK((lab_loop_set_edge(l, true) == 0) == (b == 2));
        close(fds[0]);
        close(fds[1]);
        lab_loop_free(l);
    }
    errno = 0;
    CHECK(lab_loop_new("select", FD_SETSIZE + 1) == NULL && errno == ERANGE);   /* never past the bitmap */
    CHECK(lab_loop_new("kqueue", 16) == NULL && errno == EINVAL);
    struct lab_loop *best = lab_loop_new(NULL, 16);
    CHECK(best && strcmp(lab_loop_backend(best), "epoll") == 0);
    lab_loop_free(best);
}

/* A descriptor whose mask grows (readable, then readable and writable) is reported writable on
 * every backend, also after another descriptor left the set before it: poll moves its last entry
 * into the hole (the moved one's index must follow), epoll must modify a descriptor it already
 * watches (EPOLL_CTL_MOD), not add it again.  The turns are bounded: a bug fails, never hangs. */
static void probe_writable(struct lab_loop *l, int fd, void *arg, int mask)
{
    int *seen = arg;
    if (mask & LAB_LOOP_WRITABLE) {
        ++*seen;
        lab_loop_del(l, fd, LAB_LOOP_WRITABLE);
    }
}

static void t_loop_mask_change(void)
{
    static const char *const names[] = { "select", "poll", "epoll" };
    for (int b = 0; b < 3; b++) {
        struct lab_loop *l = lab_loop_new(names[b], 64);
        int p[2], sv[2], seen = 0;
        CHECK(l != NULL && pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        CHECK(lab_loop_add(l, p[0], LAB_LOOP_READABLE, probe_writable, &seen) == 0);
        CHECK(lab_loop_add(l, sv[0], LAB_LOOP_READABLE, probe_writable, &seen) == 0);
        lab_loop_del(l, p[0], LAB_LOOP_READABLE);               /* sv[0] takes its place (poll) */
        CHECK(lab_loop_add(l, sv[0], LAB_LOOP_WRITABLE, probe_writable, &seen) == 0);
        CHECK(lab_loop_mask(l, sv[0]) == (LAB_LOOP_READABLE | LAB_LOOP_WRITABLE));
        for (int turn = 0; turn < 5 && seen == 0; turn++)
            lab_loop_run_once(l, 20);
        CHECK(seen == 1 && lab_loop_mask(l, sv[0]) == LAB_LOOP_READABLE);
        lab_loop_del(l, sv[0], LAB_LOOP_READABLE);
        CHECK(lab_loop_nfiles(l) == 0);
        close(p[0]);
        close(p[1]);
        close(sv[0]);
        close(sv[1]);
        lab_loop_free(l);
    }
}

/* ---- die: the message, the status, and no atexit handler in a forked child ---- */
static int atexit_fd = -1;
static void atexit_says(void)
{
    ssize_t w = write(atexit_fd, "atexit\n", 7);
    (void)w;
}

/* Read what fd gives until EOF into buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
}

static void t_die(void)
{
    lab_prog_set(3, "unit");
    int fds[2];
    char buf[256];
    int st;
    /* In the main process: "prog: message: strerror", one line on stderr, exit 1. */
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        lab_prog_become_main();
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        errno = ENOENT;
        die("open %s:", "x.dat");
    }
    close(fds[1]);
    read_all(fds[0], buf, sizeof buf);
    close(fds[0]);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strcmp(buf, "lab03: open x.dat: No such file or directory\n") == 0);
    /* In a forked child: exit 1 without the parent's atexit handlers (they would remove the
     * parent's named objects, flush its buffers twice...). */
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        atexit_fd = fds[1];
        atexit(atexit_says);
        CHECK(!lab_is_main_process());
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        die_en(EINVAL, "child gives up");
    }
    close(fds[1]);
    read_all(fds[0], buf, sizeof buf);
    close(fds[0]);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(buf, "atexit") == NULL);
}

/* ---- cleanup: a forked child's exit does not remove its parent's objects ---- */
static char owner_path[64];
static void t_cleanup_owner(void)
{
    snprintf(owner_path, sizeof owner_path, "/tmp/unit_common_owner_%d", (int)getpid());
    FILE *f = fopen(owner_path, "w");
    CHECK(f != NULL);
    fclose(f);
    int id = lab_cleanup_add(lab_cleanup_unlink, owner_path);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        exit(0);   /* runs the atexit hook of the cleanup table, inherited from the parent */
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    bool still_there = access(owner_path, F_OK) == 0;
    lab_cleanup_run(id);   /* the owner removes it */
    CHECK(still_there);
    CHECK(access(owner_path, F_OK) != 0);
}

/* ---- trace: per-thread buffers, a forked child's fragment merged, one JSON document ---- */
static void *trace_thread(void *arg)
{
    (void)arg;
    lab_trace_begin("unit", "thread span");
    lab_trace_flow_in("unit", 7, "get");
    lab_trace_end();
    return NULL;
}

static int trace_child(struct lab_proc *self)
{
    (void)self;
    lab_trace_begin("unit", "child span");
    lab_trace_end();
    return 0;
}

static void t_trace(void)
{
    char tmpl[] = "/tmp/unit_trace_XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    char path[300], part[340];
    snprintf(path, sizeof path, "%s/t.json", tmpl);
    CHECK(!lab_trace_on());
    CHECK(lab_trace_open(path) == 0 && lab_trace_on());
    lab_trace_begin("unit", "main \"span\"");
    lab_trace_flow_out("unit", 7, "put");
    struct lab_thread *t = LAB_THREAD(trace_thread, NULL);
    lab_thread_start_or_die(t);
    lab_thread_join(t);
    struct lab_proc p = LAB_PROC_INIT(trace_child, NULL);
    lab_proc_start_or_die(&p);
    CHECK(lab_proc_join(&p) == 0);
    lab_trace_end();
    for (int k = 0; k < 20; k++) {                 /* a slice opened right after an arrow's... */
        lab_trace_flow_out("unit", 9 + (unsigned)k, "put2");
        lab_trace_begin("unit", "right after");    /* ...starts after the arrow's slice ended */
        lab_trace_end();
    }
    int co = lab_trace_track("coroutine co");      /* a named track: the same name, the same track */
    CHECK(co > 0 && lab_trace_track("coroutine co") == co && lab_trace_track("other") != co);
    lab_trace_use_track(co);
    lab_trace_begin("unit", "on co");
    lab_trace_flow_tail("unit", 8);                /* an arrow from the end of "on co"... */
    lab_trace_end();
    lab_trace_use_track(0);
    lab_trace_begin("unit", "back");
    lab_trace_flow_head("unit", 8);                /* ...into "back": no slices of their own */
    lab_trace_end();
    snprintf(part, sizeof part, "%s.part.%d", path, (int)p.pid);
    CHECK(access(part, F_OK) == 0);           /* the child's fragment, complete, beside the file */
    lab_trace_write();
    lab_trace_write();                        /* once per process: the second does nothing */
    CHECK(access(part, F_OK) != 0);           /* merged and removed */
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK(strncmp(text, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 39) == 0);
    CHECK(n > 4 && strcmp(text + n - 4, "\n]}\n") == 0);
    CHECK(strstr(text, "\"name\":\"main \\\"span\\\"\"") != NULL);   /* escaped quotes */
    CHECK(strstr(text, "\"name\":\"thread span\"") != NULL);
    CHECK(strstr(text, "\"name\":\"child span\"") != NULL);
    CHECK(strstr(text, " Process-1 (pid ") != NULL);   /* the child's track, by its Python name */
    CHECK(strstr(text, "\"ph\":\"s\"") != NULL && strstr(text, "\"ph\":\"f\"") != NULL);
    int b = 0, e = 0;
    for (const char *s = text; (s = strstr(s, "\"ph\":\"")) != NULL; s += 6) {
        b += s[6] == 'B';
        e += s[6] == 'E';
    }
    CHECK(b == 47 && e == 47);   /* main, put, thread, get, child, 20 x (put2, right after), on co, back */
    /* Each put2's slice ends (the first "E" after its name) no later than the "right after" that
     * follows it begins, also when that began within the 1 us an arrow's slice may last. */
    int pairs = 0;
    for (const char *p2 = text; (p2 = strstr(p2, "\"name\":\"put2\"")) != NULL; p2++) {
        const char *p2e = strstr(p2, "{\"ph\":\"E\""), *ra = strstr(p2, "\"name\":\"right after\""), *rab = ra;
        while (rab && rab > p2 && strncmp(rab, "{\"ph\":\"B\"", 8) != 0)
            rab--;
        double t_end = -1, t_begin = -2;
        CHECK(p2e && rab && p2e < rab);
        CHECK(sscanf(strstr(p2e, "\"ts\":") + 5, "%lf", &t_end) == 1);
        CHECK(sscanf(strstr(rab, "\"ts\":") + 5, "%lf", &t_begin) == 1);
        CHECK(t_end <= t_begin);
        pairs++;
    }
    CHECK(pairs == 20);
    CHECK(strstr(text, "\"id\":8,\"cat\":\"unit\",\"name\":\"unit\"}") != NULL);
    CHECK(strstr(text, "\"id\":8,\"cat\":\"unit\",\"name\":\"unit\",\"bp\":\"e\"}") != NULL);
    char meta[120];                           /* "on co" is on the track named "coroutine co" */
    const char *on = strstr(text, "\"name\":\"on co\""), *tid = on;
    while (tid && tid > text && strncmp(tid, "\"tid\":", 6) != 0)
        tid--;
    CHECK(tid != NULL && tid > text);
    snprintf(meta, sizeof meta, "%.*s,\"name\":\"thread_name\",\"args\":{\"name\":\"coroutine co\"}",
             (int)strcspn(tid, ","), tid);
    CHECK(strstr(text, meta) != NULL);
    CHECK(unlink(path) == 0 && rmdir(tmpl) == 0);
}

/* A Ctrl-C that lands while a process writes its trace waits until the file is in its place.
 * The fragment's FILE.part.PID.tmp is a FIFO whose buffer this test fills first, so the child's
 * write blocks; SIGINT reaches it there, with the labs' handler (cleanup.c) installed. */
static int trace_go[2];
static int trace_signalled_child(struct lab_proc *self)
{
    (void)self;
    lab_cleanup_install();
    lab_trace_begin("unit", "signalled");
    lab_trace_end();
    char c;
    return read(trace_go[0], &c, 1) == 1 ? 0 : 1;   /* then lab_proc writes the fragment */
}

/* The number of the system call PID is blocked in (/proc/PID/syscall), or -1. */
static long blocked_in(pid_t pid)
{
    char f[64], buf[128];
    snprintf(f, sizeof f, "/proc/%d/syscall", (int)pid);
    int fd = open(f, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

static void t_trace_signal(void)
{
    char tmpl[] = "/tmp/unit_trace_XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    char path[300], part[340], tmp[350];
    snprintf(path, sizeof path, "%s/s.json", tmpl);
    CHECK(lab_trace_open(path) == 0);
    CHECK(pipe(trace_go) == 0);
    struct lab_proc p = LAB_PROC_INIT(trace_signalled_child, NULL);
    lab_proc_start_or_die(&p);
    snprintf(part, sizeof part, "%s.part.%d", path, (int)p.pid);
    snprintf(tmp, sizeof tmp, "%s.tmp", part);
    CHECK(mkfifo(tmp, 0600) == 0);
    int rd = open(tmp, O_RDONLY | O_NONBLOCK | O_CLOEXEC), wr = open(tmp, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(rd >= 0 && wr >= 0);
    static char fill[4096];
    memset(fill, ' ', sizeof fill);
    long filled = 0;
    for (ssize_t w; (w = write(wr, fill, sizeof fill)) > 0;)
        filled += w;
    close(wr);
    CHECK(write(trace_go[1], "g", 1) == 1);
    long in = -1;
    for (int i = 0; i < 5000 && (in = blocked_in(p.pid)) != SYS_write; i++)
        lab_sleep_ms(1);
    CHECK(in == SYS_write);                  /* the child is in its fragment's write: the pipe is full */
    CHECK(kill(p.pid, SIGINT) == 0);
    static char got[1 << 17];
    long n = 0;
    struct pollfd pf = { .fd = rd, .events = POLLIN };
    while (n < (long)sizeof got && poll(&pf, 1, 10000) == 1) {   /* to the end: the child closed it */
        ssize_t r = read(rd, got + n, sizeof got - (size_t)n);
        if (r <= 0)
            break;
        n += r;
    }
    close(rd);
    CHECK(lab_proc_join(&p) == -SIGINT);
    got[n < (long)sizeof got ? n : (long)sizeof got - 1] = '\0';
    CHECK(n > filled && strstr(got + filled, "\"name\":\"signalled\"") != NULL);   /* the whole fragment */
    CHECK(got[n - 1] == '\n');
    CHECK(access(tmp, F_OK) != 0 && access(part, F_OK) == 0);           /* renamed into its place */
    close(trace_go[0]);
    close(trace_go[1]);
    CHECK(unlink(part) == 0 && unlink(path) == 0 && rmdir(tmpl) == 0);
}

struct test { const char *name; void (*fn)(void); };
static const struct test tests[] = {
    { "prog_result", t_prog_result },
    { "sync", t_sync },
    { "clock_units", t_clock_units },
    { "timing", t_timing },
    { "private_dir", t_private_dir },
    { "parse_ll", t_parse },
    { "rng_streams", t_rng },
    { "clock_sleep", t_clock },
    { "thread_names", t_thread_names },
    { "thread_program", t_thread_program },
    { "thread_enumerate", t_thread_enumerate },
    { "thread_exit_rule", t_thread_exit_rule },
    { "thread_join_ms", t_thread_join_ms },
    { "proc_basic", t_proc_basic },
    { "proc_terminate", t_proc_terminate },
    { "proc_daemon_rule", t_proc_daemon_rule },
    { "cleanup_signal", t_cleanup_signal },
    { "pqueue_api", t_pqueue_api },
    { "pqueue_processes", t_pqueue_processes },
    { "shared_memory", t_shared_memory },
    { "watchdog", t_watchdog },
    { "colors", t_colors },
    { "timeline", t_timeline },
    { "loop", t_loop },
    { "loop_mask_change", t_loop_mask_change },
    { "die", t_die },
    { "cleanup_owner", t_cleanup_owner },
    { "trace", t_trace },
    { "trace_signal", t_trace_signal },
    { 0 }
};

static bool wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const struct test *t = tests; t->name; t++)
            puts(t->name);
        return 0;
    }
    int failed = 0, ran = 0;
    for (const struct test *t = tests; t->name; t++) {
        if (!wanted(t->name, argc, argv))
            continue;
        ran++;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            die("fork:");
        if (pid == 0) {
            alarm(20);   /* a hung test fails instead of hanging the suite */
            lab_thread_after_fork();
            lab_proc_after_fork();
            t->fn();
            fflush(stdout);
            _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                die("waitpid:");
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("PASS %s\n", t->name);
        } else {
            failed++;
            if (WIFSIGNALED(st))
                printf("FAIL %s: killed by signal %d\n", t->name, WTERMSIG(st));
            else
                printf("FAIL %s: exit %d\n", t->name, WEXITSTATUS(st));
        }
    }
    if (ran == 0) {
        fprintf(stderr, "unit_common: no test matches\n");
        return 2;
    }
    printf("%d passed, %d failed\n", ran - failed, failed);
    return failed ? 1 : 0;
}
