/* common/thread.h - Python's view of threads on top of pthreads (threading.Thread).
 *
 * C threads have no names, no registry and no daemon flag, and returning from main() kills them
 * all.  This module gives each thread a registry entry so that a lab can show what
 * Python shows:
 *   - names: "Thread-N (target)" for a thread made from a function (Python 3.10+), "Thread-N" for
 *     one made without a target name (a "subclass", or Timer); N is Python's counter, one per
 *     program: Thread-1 is the first thread the program made (lab_thread_program_start),
 *     never reused inside it; MainThread is registered on first use;
 *   - current_thread(), enumerate(), active_count(), ident (pthread_self) and native_id (gettid);
 *   - the daemon flag, settable only before start (Python: RuntimeError afterwards: here EINVAL);
 *     starting twice fails (EINVAL: "threads can only be started once");
 *   - the exit rule: lab_thread_exit_main() joins every non-daemon thread, then ends the process,
 *     killing daemon threads in the middle of whatever they were doing.
 *   - with --trace, a "start" mark on each thread's track, and a mark where a program starts;
 * Entries live until the process ends (like Python's Thread objects that the program keeps),
 * so is_alive() and the name stay valid after join.
 */
#ifndef COMMON_THREAD_H
#define COMMON_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lab_thread;

typedef void *(*lab_thread_fn)(void *arg);

/* A new thread object (not started): target fn(arg).  `target` is the function's name for
 * "Thread-N (target)", or NULL for "Thread-N".  LAB_THREAD(fn, arg) fills it in. */
struct lab_thread *lab_thread_new(lab_thread_fn fn, void *arg, const char *target);
#define LAB_THREAD(fn, arg) lab_thread_new((fn), (arg), #fn)

/* Before start: set the name, the daemon flag, the stack size (0 = default).  0 or EINVAL after start.
 * set_name is Python's `t.name = ...` after Thread(): the thread keeps the number it took (Python's
 * Thread(name=...) takes none; no lab makes an unnamed thread after such a one, where it would show). */
int lab_thread_set_name(struct lab_thread *t, const char *name);
int lab_thread_set_daemon(struct lab_thread *t, bool daemon);
int lab_thread_set_stack_size(struct lab_thread *t, size_t bytes);

/* Start it: 0, EINVAL if already started, or pthread_create's error (EAGAIN when out of threads). */
int lab_thread_start(struct lab_thread *t);
/* Start, dying on error. */
void lab_thread_start_or_die(struct lab_thread *t);
/* Wait for it to end and return what fn returned.  Joining twice returns the same value. */
void *lab_thread_join(struct lab_thread *t);
/* Wait at most `ms` milliseconds: true if it ended (and was joined). */
bool lab_thread_join_ms(struct lab_thread *t, double ms);

const char *lab_thread_name(const struct lab_thread *t);
bool lab_thread_is_alive(const struct lab_thread *t);
bool lab_thread_is_daemon(const struct lab_thread *t);
bool lab_thread_started(const struct lab_thread *t);
unsigned long lab_thread_ident(const struct lab_thread *t);   /* 0 before start */
pid_t lab_thread_native_id(const struct lab_thread *t);       /* 0 before the thread runs */
pthread_t lab_thread_handle(const struct lab_thread *t);
int lab_thread_number(const struct lab_thread *t);            /* 0 for MainThread, N for Thread-N */

/* The calling thread's entry (threads not made here are registered as "Dummy-N", as in Python, but
 * counted apart: Python's Dummy takes a number of Thread-N's counter whenever it first asks, which
 * would make later names depend on timing). */
struct lab_thread *lab_current_thread(void);
struct lab_thread *lab_main_thread(void);
/* Fill out[] with up to max live threads (started, not ended, MainThread first); returns how many
 * are alive, which may exceed max. */
size_t lab_enumerate(struct lab_thread **out, size_t max);
size_t lab_active_count(void);

/* Join every started non-daemon thread that is not joined yet (Python's threading._shutdown). */
void lab_thread_join_nondaemon(void);
/* Python's end of the main code: join the non-daemon threads, then exit(status), which ends the
 * daemon threads wherever they are. */
void lab_thread_exit_main(int status) __attribute__((noreturn));

/* A new program of the notes starts in this process: the next unnamed thread is Thread-1 again
 * (and the next foreign one Dummy-1), as in a fresh Python interpreter.  Threads still alive keep
 * their names.  The CLI calls it when a scenario starts (also each mode of --mode=a,b and of the
 * guided demo); a lab that runs one program of the notes several times calls it between them.
 * Never inside a program: two threads of one program never share a name.  A forked child keeps
 * counting from its copy of the counter, as after Python's fork (a spawned Python child would
 * start again at Thread-1).  With --trace, it marks the moment on the caller's track. */
void lab_thread_program_start(void);

/* A counter of the program, for names a Python library counts itself (ThreadPoolExecutor-N):
 * 0, 1, 2... for successive calls with the same counter, from 0 again once the next program
 * started.  A static struct lab_program_count starts zeroed. */
struct lab_program_count {
    unsigned program;   /* the program the count belongs to */
    int next;
};
int lab_thread_program_count(struct lab_program_count *c);

/* In a forked child: only the calling thread survives a fork.  Mark every other entry dead, make
 * the caller the MainThread of the child.  lab_proc_start calls it. */
void lab_thread_after_fork(void);

#endif
