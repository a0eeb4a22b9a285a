/* common/thread.c - the thread registry; see thread.h.
 *
 * Locking: every field marked "guarded by reg_lock" is read and written with reg_lock held.
 * A thread's own entry is found through the thread-local `self`.
 */
#include "thread.h"
#include "clock.h"
#include "die.h"
#include "rng.h"
#include "sync.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum state { NEW, RUNNING, ENDED };

struct lab_thread {
    lab_thread_fn fn;
    void *arg;
    char name[64];
    int number;             /* 0 MainThread, N Thread-N */
    bool daemon;
    size_t stack_size;
    pthread_t handle;
    pid_t tid;              /* guarded by reg_lock */
    enum state state;       /* guarded by reg_lock */
    bool joined;            /* guarded by reg_lock */
    void *ret;              /* valid once joined */
    pthread_cond_t ended;   /* signalled when state becomes ENDED (for join_ms) */
    struct lab_thread *next; /* registry list, guarded by reg_lock */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lab_thread *reg_head, *reg_tail;      /* guarded by reg_lock */
static int next_number = 1;    /* Python's counter, one per program; guarded by reg_lock */
static int next_dummy = 1;     /* guarded by reg_lock */
static unsigned program = 1;   /* programs started in this process (1 before the first); reg_lock */
static struct lab_thread *main_entry;                /* guarded by reg_lock */
static __thread struct lab_thread *self;

/* Caller must hold reg_lock. */
static void append(struct lab_thread *t)
{
    t->next = NULL;
    if (reg_tail)
        reg_tail->next = t;
    else
        reg_head = t;
    reg_tail = t;
}

static uint64_t stream_of_current(void);

static void tell_rng(void) { lab_rand_set_stream_fn(stream_of_current); }

static struct lab_thread *alloc_entry(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    PT_CHECK(pthread_once(&once, tell_rng));   /* the registry starts: rng asks it from now on */
    struct lab_thread *t = xcalloc(1, sizeof *t);
    lab_cond_init(&t->ended, 0);
    return t;
}

/* Register the calling thread, which was not made here (MainThread, or a "Dummy"). */
static struct lab_thread *register_foreign(bool is_main)
{
    struct lab_thread *t = alloc_entry();
    t->handle = pthread_self();
    t->tid = gettid();
    t->state = RUNNING;
    Pthread_mutex_lock(&reg_lock);
    if (is_main) {
        snprintf(t->name, sizeof t->name, "MainThread");
        t->number = 0;
        main_entry = t;
    } else {
        t->number = 100000 + next_dummy;
        snprintf(t->name, sizeof t->name, "Dummy-%d", next_dummy++);
        t->daemon = true;
    }
    append(t);
    Pthread_mutex_unlock(&reg_lock);
    self = t;
    return t;
}

struct lab_thread *lab_current_thread(void)
{
    if (self)
        return self;
    /* The first thread to ask is the main thread when it is the process's initial thread. */
    bool is_main = getpid() == gettid();
    return register_foreign(is_main);
}

/* The random stream of the calling thread: its registry number (rng.h). */
static uint64_t stream_of_current(void) { return (uint64_t)lab_thread_number(lab_current_thread()); }

struct lab_thread *lab_main_thread(void)
{
    Pthread_mutex_lock(&reg_lock);
    struct lab_thread *m = main_entry;
    Pthread_mutex_unlock(&reg_lock);
    if (m == NULL && getpid() == gettid())
        m = lab_current_thread();
    return m;
}

struct lab_thread *lab_thread_new(lab_thread_fn fn, void *arg, const char *target)
{
    (void)lab_main_thread();   /* so that MainThread is listed first */
    struct lab_thread *t = alloc_entry();
    t->fn = fn;
    t->arg = arg;
    t->state = NEW;
    Pthread_mutex_lock(&reg_lock);
    t->number = next_number++;
    if (target)
        snprintf(t->name, sizeof t->name, "Thread-%d (%s)", t->number, target);
    else
        snprintf(t->name, sizeof t->name, "Thread-%d", t->number);
    append(t);
    Pthread_mutex_unlock(&reg_lock);
    /* A daemon creator makes daemon threads, as in Python. */
    if (self && self->daemon)
        t->daemon = true;
    return t;
}

int lab_thread_set_name(struct lab_thread *t, const char *name)
{
    if (t->state != NEW && t != self)
        return EINVAL;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (t == self)
        lab_trace_thread_name(t->name);
    return 0;
}

int lab_thread_set_daemon(struct lab_thread *t, bool daemon)
{
    Pthread_mutex_lock(&reg_lock);
    int rc = t->state == NEW ? 0 : EINVAL;
    if (rc == 0)
        t->daemon = daemon;
    Pthread_mutex_unlock(&reg_lock);
    return rc;
}

int lab_thread_set_stack_size(struct lab_thread *t, size_t bytes)
{
    if (t->state != NEW)
        return EINVAL;
    t->stack_size = bytes;
    return 0;
}

static void *trampoline(void *p)
{
    struct lab_thread *t = p;
    self = t;
    lab_trace_instant("thread", "start");   /* which program a thread is of, for the tests */
    Pthread_mutex_lock(&reg_lock);
    t->tid = gettid();
    Pthread_mutex_unlock(&reg_lock);
    lab_trace_thread_name(t->name);   /* its track in a --trace file */
    void *ret = t->fn(t->arg);
    Pthread_mutex_lock(&reg_lock);
    t->ret = ret;
    t->arg = NULL;      /* the registry keeps no reference: an argument the program lost is lost */
    t->state = ENDED;
    Pthread_cond_broadcast(&t->ended);
    Pthread_mutex_unlock(&reg_lock);
    return ret;
}

int lab_thread_start(struct lab_thread *t)
{
    Pthread_mutex_lock(&reg_lock);
    if (t->state != NEW || t->fn == NULL) {
        Pthread_mutex_unlock(&reg_lock);
        return EINVAL;
    }
    t->state = RUNNING;
    Pthread_mutex_unlock(&reg_lock);

    pthread_attr_t attr;
    PT_CHECK(pthread_attr_init(&attr));
    int rc = 0;
    if (t->stack_size)
        rc = pthread_attr_setstacksize(&attr, t->stack_size);
    if (rc == 0)
        rc = pthread_create(&t->handle, &attr, trampoline, t);
    PT_CHECK(pthread_attr_destroy(&attr));
    if (rc != 0) {
        Pthread_mutex_lock(&reg_lock);
        t->state = NEW;
        Pthread_mutex_unlock(&reg_lock);
    }
    return rc;
}

void lab_thread_start_or_die(struct lab_thread *t)
{
    int rc = lab_thread_start(t);
    if (rc != 0)
        die_en(rc, "start %s", t->name);
}

void *lab_thread_join(struct lab_thread *t)
{
    Pthread_mutex_lock(&reg_lock);
    bool do_join = !t->joined && t->state != NEW && t != main_entry;
    t->joined = true;   /* claim it: a second joiner gets the stored value */
    Pthread_mutex_unlock(&reg_lock);
    if (do_join) {
        void *ret;
        Pthread_join(t->handle, &ret);
        Pthread_mutex_lock(&reg_lock);
        t->ret = ret;
        t->state = ENDED;
        Pthread_mutex_unlock(&reg_lock);
    }
    return t->ret;
}

bool lab_thread_join_ms(struct lab_thread *t, double ms)
{
    struct timespec deadline = lab_deadline_ms(ms);
    Pthread_mutex_lock(&reg_lock);
    int rc = 0;
    while (t->state == RUNNING && rc == 0)
        rc = pthread_cond_timedwait(&t->ended, &reg_lock, &deadline);
    bool ended = t->state == ENDED;
    Pthread_mutex_unlock(&reg_lock);
    if (ended)
        lab_thread_join(t);
    return ended;
}

const char *lab_thread_name(const struct lab_thread *t) { return t->name; }
bool lab_thread_is_daemon(const struct lab_thread *t) { return t->daemon; }
int lab_thread_number(const struct lab_thread *t) { return t->number; }
pthread_t lab_thread_handle(const struct lab_thread *t) { return t->handle; }

bool lab_thread_started(const struct lab_thread *t)
{
    Pthread_mutex_lock(&reg_lock);
    bool s = t->state != NEW;
    Pthread_mutex_unlock(&reg_lock);
    return s;
}

bool lab_thread_is_alive(const struct lab_thread *t)
{
    Pthread_mutex_lock(&reg_lock);
    bool a = t->state == RUNNING;
    Pthread_mutex_unlock(&reg_lock);
    return a;
}

unsigned long lab_thread_ident(const struct lab_thread *t)
{
    return lab_thread_started(t) ? (unsigned long)t->handle : 0;
}

pid_t lab_thread_native_id(const struct lab_thread *t)
{
    Pthread_mutex_lock(&reg_lock);
    pid_t tid = t->tid;
    Pthread_mutex_unlock(&reg_lock);
    return tid;
}

size_t lab_enumerate(struct lab_thread **out, size_t max)
{
    (void)lab_main_thread();
    size_t n = 0;
    Pthread_mutex_lock(&reg_lock);
    for (struct lab_thread *t = reg_head; t; t = t->next)
        if (t->state == RUNNING) {
            if (n < max)
                out[n] = t;
            n++;
        }
    Pthread_mutex_unlock(&reg_lock);
    return n;
}

size_t lab_active_count(void) { return lab_enumerate(NULL, 0); }

void lab_thread_join_nondaemon(void)
{
    for (;;) {
        struct lab_thread *todo = NULL;
        Pthread_mutex_lock(&reg_lock);
        for (struct lab_thread *t = reg_head; t; t = t->next)
            if (t != main_entry && t != self && !t->daemon && t->state != NEW && !t->joined
                && t->number < 100000) {
                todo = t;
                break;
            }
        Pthread_mutex_unlock(&reg_lock);
        if (!todo)
            return;
        lab_thread_join(todo);
    }
}

void lab_thread_exit_main(int status)
{
    lab_thread_join_nondaemon();
    exit(status);
}

void lab_thread_program_start(void)
{
    Pthread_mutex_lock(&reg_lock);
    next_number = 1;
    next_dummy = 1;
    program++;
    Pthread_mutex_unlock(&reg_lock);
    lab_trace_instant("thread", "a new program: the next unnamed thread is Thread-1");
}

int lab_thread_program_count(struct lab_program_count *c)
{
    Pthread_mutex_lock(&reg_lock);
    if (c->program != program) {
        c->program = program;
        c->next = 0;
    }
    int n = c->next++;
    Pthread_mutex_unlock(&reg_lock);
    return n;
}

void lab_thread_after_fork(void)
{
    /* The child is single-threaded: reg_lock may have been held by a thread that no longer
     * exists in it, so start with a fresh lock. */
    Pthread_mutex_init(&reg_lock, NULL);
    for (struct lab_thread *t = reg_head; t; t = t->next)
        if (t != self && t->state == RUNNING) {
            t->state = ENDED;
            t->joined = true;
        }
    if (self && self != main_entry) {
        main_entry = self;
    }
    if (self) {
        self->tid = gettid();
        self->handle = pthread_self();
    }
}
