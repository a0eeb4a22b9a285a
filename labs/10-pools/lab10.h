/* labs/10-pools/lab10.h - what the files of lab 10 share: futures, the thread pool, the process
 * pool, the task table, and the scenarios.
 *
 * One future type serves both pools (future.c): Python's concurrent.futures.Future and
 * multiprocessing's AsyncResult are the same idea, a box that a worker fills once and a caller
 * waits on.  A task is a C function with two numbers and a string as arguments, and a value out:
 * a 128-bit number (19**19 needs 85 bits) and/or a line of text.
 */
#ifndef LAB10_H
#define LAB10_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef unsigned __int128 l10_u128;

#define L10_TEXT 192                 /* the text of a value or an error, NUL included */
#define L10_ARG_TEXT 48              /* the string argument of a task, NUL included */

struct l10_args {
    long a, b;                       /* task(a) or starmap's task(a, b) */
    char s[L10_ARG_TEXT];            /* task('听音乐') */
};

struct l10_value {
    l10_u128 n;
    int pid;                         /* the process that ran the task */
    char s[L10_TEXT];                /* a text result, or the error's message */
};

/* A task: fills *out and returns 0, or returns an error number (Python: raises) with the message
 * in out->s.  Runs in a worker thread or a worker process. */
typedef int (*l10_fn)(const struct l10_args *in, struct l10_value *out);

/* ==== Futures (future.c) ==== */

enum l10_state { FUT_PENDING, FUT_RUNNING, FUT_FINISHED, FUT_CANCELLED };

/* Errors a future can carry besides a task's own: */
#define L10_EWORKER ECHILD           /* the worker process died (abort, kill) running this task */
#define L10_ETERMINATED ECANCELED    /* the pool was terminated before the task ran */

struct l10_future;
typedef void (*l10_done_fn)(struct l10_future *f, void *arg);

struct l10_future *l10_future_new(void);
/* Drop the caller's reference (the pool keeps its own until it has run the callbacks). */
void l10_future_free(struct l10_future *f);
void l10_future_ref(struct l10_future *f);
/* Complete it (once): value and error, wake the waiters, then run the callbacks in the calling
 * thread, in the order they were added.  Returns false if it was already complete. */
bool l10_future_set(struct l10_future *f, const struct l10_value *v, int err);
void l10_future_set_running(struct l10_future *f);
/* result(timeout): wait at most timeout_ms (< 0: forever), copy the value.  0, ETIMEDOUT (still
 * running: Python's TimeoutError), or the error the task raised (the message in out->s). */
int l10_future_result(struct l10_future *f, struct l10_value *out, double timeout_ms);
bool l10_future_done(struct l10_future *f);
enum l10_state l10_future_state(struct l10_future *f);
/* add_done_callback: runs fn(f, arg) in the thread that completes f, or at once, in the caller,
 * when f is already complete (Python's rule).  Returns true when it ran at once. */
bool l10_future_add_done_callback(struct l10_future *f, l10_done_fn fn, void *arg);
/* --trace: the future's task number in the trace ("task #N"; 0 when no trace is recorded), and
 * the ids of its two arrows: submit/apply_async -> the task, the task's end -> the first result()
 * that gets the value.  The ids carry lab 10 in their top bits, apart from other labs' arrows. */
unsigned long long l10_future_trace(const struct l10_future *f);
#define L10_FLOW_SUBMIT(n) ((10ull << 48) | ((unsigned long long)(n) << 1))
#define L10_FLOW_RESULT(n) ((10ull << 48) | ((unsigned long long)(n) << 1) | 1u)
/* The end of the slice of task #n on its worker: the tail of the arrow to its result(), bound to
 * that slice (lab_trace_flow_tail), then the slice's end. */
void l10_trace_task_end(unsigned long long n);
/* An arrow's tail (head: its head) where no slice of lab 10 is open: a slice "name" of its own
 * around it, as long as drawing it takes (no fixed length that could overlap the next slice). */
void l10_trace_arrow(const char *cat, bool head, unsigned long long id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The head of the arrow from the task's end, drawn once, by the first that takes the value: a
 * result()/get(), or apply_async's callback (in its slice "callback #N", open on this thread). */
void l10_future_trace_got(struct l10_future *f);
/* A number the pool gives the future (the task id), for the demos. */
long l10_future_id(const struct l10_future *f);
void l10_future_set_id(struct l10_future *f, long id);

/* as_completed: fills order[] with the indices of fs[] in completion order; returns how many
 * completed before timeout_ms (< 0: no bound). */
size_t l10_as_completed(struct l10_future **fs, size_t n, size_t *order, double timeout_ms);
/* The same as a generator: begin registers, next yields one index (0), ETIMEDOUT or ENOENT (all
 * yielded); end frees (callbacks still pending keep their part alive). */
struct l10_ac;
struct l10_ac *l10_as_completed_begin(struct l10_future **fs, size_t n, double timeout_ms);
int l10_as_completed_next(struct l10_ac *ac, size_t *index);
void l10_as_completed_end(struct l10_ac *ac);
/* wait(fs, return_when): FIRST_COMPLETED returns as soon as one is done, ALL_COMPLETED when all
 * are; returns the number done when it returned (the rest are "not_done"). */
enum l10_return_when { L10_FIRST_COMPLETED, L10_ALL_COMPLETED };
size_t l10_wait(struct l10_future **fs, size_t n, enum l10_return_when when, double timeout_ms);

/* ==== The thread pool (tpool.c): ThreadPoolExecutor ==== */

struct l10_tpool;
/* max_workers threads, made now and reused for every task; named "ThreadPoolExecutor-P_i". */
struct l10_tpool *l10_tpool_new(int max_workers);
/* submit: a future, or NULL with errno = ESHUTDOWN after shutdown (Python's RuntimeError:
 * "cannot schedule new futures after shutdown"). */
struct l10_future *l10_tpool_submit(struct l10_tpool *p, l10_fn fn, const struct l10_args *a);
/* Fire and forget (no future): the bench's trivial tasks, and what GThreadPool's push does.
 * 0, or ESHUTDOWN. */
int l10_tpool_execute(struct l10_tpool *p, void (*fn)(void *), void *arg);
/* Wait until every task submitted so far has run (bounded: false on timeout). */
bool l10_tpool_wait_idle(struct l10_tpool *p, double timeout_ms);
/* map(fn, args): results in input order, whatever order they finish in.  0 or the first error. */
int l10_tpool_map(struct l10_tpool *p, l10_fn fn, const struct l10_args *args, size_t n,
                  struct l10_value *out);
/* shutdown(wait): refuse new tasks; with wait, run the queued ones and join the workers. */
void l10_tpool_shutdown(struct l10_tpool *p, bool wait);
/* The number of workers; batching: a worker may take up to k queued tasks at once while no other
 * worker is idle (1, the default: one task at a time, as Python's workers). */
int l10_tpool_workers(const struct l10_tpool *p);
void l10_tpool_set_batch(struct l10_tpool *p, int k);
void l10_tpool_free(struct l10_tpool *p);   /* after shutdown(wait=true) */

/* ==== The process pool (ppool.c): multiprocessing.Pool and ProcessPoolExecutor ==== */

struct l10_ppool;
enum l10_pool_state { POOL_RUN, POOL_CLOSE, POOL_TERMINATE };
typedef void (*l10_result_cb)(const struct l10_value *v, void *arg);

/* Fork `processes` workers now (Python pre-creates them too).  maxtasks: a worker exits after that
 * many tasks and a new one takes its place (0: never).  Workers run tasks by their index in the
 * task table below: a function pointer means the same thing in a forked child (same image). */
struct l10_ppool *l10_ppool_new(int processes, int maxtasks);
/* apply_async(func, args, callback): NULL and errno = EINVAL when the pool is not running
 * ("Pool not running").  callback (may be NULL) runs in the parent's result thread. */
struct l10_future *l10_ppool_apply_async(struct l10_ppool *p, int task, const struct l10_args *a,
                                         l10_result_cb cb, void *cb_arg);
/* apply: apply_async + get: blocks.  Returns the future's error. */
int l10_ppool_apply(struct l10_ppool *p, int task, const struct l10_args *a, struct l10_value *out);
/* map / starmap: results in input order.  0 or the first error (EINVAL: not running). */
int l10_ppool_map(struct l10_ppool *p, int task, const struct l10_args *args, size_t n,
                  struct l10_value *out);
/* map_async: the n futures (caller frees them); NULL when not running. */
struct l10_future **l10_ppool_map_async(struct l10_ppool *p, int task, const struct l10_args *args,
                                        size_t n);
/* close: no more tasks; the workers finish the queue and exit.  Does not wait. */
void l10_ppool_close(struct l10_ppool *p);
/* join: wait for the workers to exit; EINVAL while the pool runs ("Pool is still running"). */
int l10_ppool_join(struct l10_ppool *p);
/* terminate: kill the workers now; tasks not done are cancelled (their futures say so). */
void l10_ppool_terminate(struct l10_ppool *p);
/* pids of the workers alive now (up to max), and the list of every pid that ever served. */
size_t l10_ppool_pids(struct l10_ppool *p, pid_t *out, size_t max);
size_t l10_ppool_all_pids(struct l10_ppool *p, pid_t *out, size_t max);
/* Workers that died during a task (crash) and workers replaced (crash or maxtasks). */
int l10_ppool_crashes(struct l10_ppool *p);
int l10_ppool_replaced(struct l10_ppool *p);
/* The pid of the worker running task `id` now (0 if none): to kill it in the crash demo. */
pid_t l10_ppool_worker_of(struct l10_ppool *p, long id);
void l10_ppool_free(struct l10_ppool *p);   /* after join */

/* ==== Tasks (tasks.c), by index for the process pool ==== */
enum l10_task {
    T_POWER,          /* print "n pid", sleep 2, return n**n (the notes' task) */
    T_SQUARE,         /* job(x): x*x, no sleep */
    T_NAMED,          /* task(name): 开始任务, sleep random*2, the 完成任务 line (as text) */
    T_NAMED_PRINT,    /* the blocking version: prints 完成任务 itself */
    T_LONG,           /* long_time_task(i): 子进程 line, sleep 2, [the gate], 结果: 8**20 */
    T_FOO,            /* Foo(i): sleep 2, [the gate], return i+100 */
    T_MUL,            /* starmap: a*b */
    T_SLEEP,          /* sleep a/100 units, return a */
    T_RAISE,          /* the notes' task without `import os`: NameError */
    T_ABORT,          /* abort(): the worker dies of SIGABRT */
    T_NOP,            /* return 0 at once: the bench */
    T_HELD,           /* the sleeper, then held until l10_hold_release: still running when a
                       * result(timeout) gives up, however late its caller gets the CPU */
    T_POWER_HELD,     /* [the meeting point], the notes' task, [the gate] (procpool) */
    T_LOCKSTEP,       /* [the meeting point], the sleeper (maxtasks) */
    T_COUNT
};
extern const l10_fn l10_tasks[T_COUNT];
extern const char *const l10_task_names[T_COUNT];
/* What the forced tasks wait on (every wait bounded): init before the pool that runs them starts
 * (a process pool's workers inherit it); end once the part is over.  The block lives as long as
 * the process.  Never made, or after end, the gate and the meeting point let every task by.
 *   the hold (T_HELD): each release lets one held task end (once its caller has given up);
 *   the gate (T_POWER_HELD, T_LONG, T_FOO): closed until l10_gate_open, then open for good;
 *   the meeting point (T_POWER_HELD, T_LOCKSTEP, l10_meet): a task waits there until `parties`
 *   tasks have come, for `rounds` meetings (-1: every one), then lets every task by.  0, or
 *   ETIMEDOUT when the others never came. */
void l10_hold_init(void);
void l10_hold_release(void);
void l10_forced_end(void);
void l10_gate_open(void);
void l10_meet_init(int parties, int rounds);
int l10_meet(void);

/* Decimal text of a 128-bit number into buf (>= 40 bytes); returns buf. */
char *l10_u128_str(l10_u128 v, char *buf);
/* n**n, exact in 128 bits for n <= 19. */
l10_u128 l10_pow_nn(unsigned n);
/* lab_errno_name, plus the names it lacks (ESHUTDOWN). */
const char *l10_errname(int err);
/* One line, with one write(2): safe in forked workers (no stdio lock). */
void l10_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ==== Scenarios ==== */
int run_threadpool(int mode);     /* threadpool.c */
int run_futures(int mode);        /* threadpool.c */
int run_sync_async(int mode);     /* threadpool.c */
int run_procpool(int mode);       /* procpool.c */
int run_pool(int mode);           /* procpool.c */
int run_maxtasks(int mode);       /* procpool.c */
int run_crash(int mode);          /* procpool.c */
int run_pool_blocking(int mode);  /* notes.c */
int run_pool_async(int mode);     /* notes.c */
int run_long_task(int mode);      /* notes.c */
int run_foobar(int mode);         /* notes.c */
int run_why_pools(int mode);      /* why.c */
int l10_bench(void);              /* bench.c */
void check_procs(void);            /* procpool.c: a process pool of at most 64 workers */

/* The modes, in the order of the .modes strings in main.c. */
enum sync_async_mode { SA_SYNC, SA_ASYNC };
enum crash_mode { CRASH_ABORT, CRASH_KILL };


#endif
