/* refcount.c - lab 6: why the GIL exists: a reference count shared by two threads.
 *
 * The notes (the GIL chapter): "因为CPython中的内存管理不是线程安全的" - memory management, first of
 * all reference counting (1. 引用计数), is not thread-safe, and "GIL保证解释器级别的数据的安全".
 * Every Python object carries ob_refcnt; `y = x` is Py_INCREF (ob_refcnt += 1), `del y` is
 * Py_DECREF, and the object is freed when the count reaches 0.  `+= 1` on a plain field is a load,
 * an add and a store, exactly the lost update of lab 3 - but here the lost update frees memory.
 *
 * The program: main holds `x = Obj()` (refcount 1).  Two threads each do `y = x` (INCREF), read
 * the object, `del y` (DECREF).  Then main reads x and does `del x`.
 *   none  no GIL: the two INCREFs are forced to interleave (both load 1, both store 2: the count
 *         says 2 for 3 references); the two DECREFs then run one after the other: 2 -> 1 -> 0,
 *         and the object is freed while main still holds x.  Main's read is a use after free and
 *         its `del x` a double free: the lab detects both (the object lives in a small pool whose
 *         slot states are kept outside the objects) and reports them instead of crashing.
 *   gil   the same threads under the lab's GIL (minigil.c, py3): an INCREF is part of one bytecode,
 *         so the other thread cannot be between its load and store (the same rendezvous that
 *         forced the interleaving gives up after a short bound: max_in_window=1).  3, 2, 1, and
 *         main's `del x` frees it exactly once, at the end.
 * In the ASan build (make asan) a freed slot is poisoned (ASAN_POISON_MEMORY_REGION), and the lab
 * asks ASan whether x's memory is poisoned when main comes back to it: ASan agrees, "yes".
 *
 * Python <-> C: y = x <-> Py_INCREF (obj->refcnt = obj->refcnt + 1, a relaxed load and store);
 *   del y <-> Py_DECREF, dealloc at 0; the GIL <-> gil_enter/gil_leave (minigil.h).
 * Usage: lab06 refcount [--mode=none|gil]
 * What to watch for: refcnt_after_increfs=2 (3 references), freed_while_referenced=1 and
 *   use_after_free=1 without the GIL; 3, 0 and 0 under it, and one dealloc either way.
 * See also: gil_money (the GIL does not protect *your* data), ../03-mutex-ticket (counter).
 */
#include "lab06.h"

#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define RC_ASAN 1
#else
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define RC_ASAN 0
#define __asan_address_is_poisoned(a) ((void)(a), 0)
#endif

/* The Python object: a header (the count) and a payload. */
struct pyobj {
    atomic_long refcnt;         /* ob_refcnt: read and written with relaxed loads and stores */
    char payload[56];           /* what x.name reads */
};

/* A tiny object allocator (pymalloc in miniature): slots, and their states kept outside them, so
 * that the lab can tell a freed object without touching its (poisoned) memory. */
#define POOL_SLOTS 2
static _Alignas(64) struct pyobj pool[POOL_SLOTS];
static atomic_int slot_live[POOL_SLOTS];
static atomic_int deallocs, double_frees;

static struct pyobj *obj_new(const char *name)
{
    for (int i = 0; i < POOL_SLOTS; i++) {
        int dead = 0;
        if (atomic_compare_exchange_strong(&slot_live[i], &dead, 1)) {
            ASAN_UNPOISON_MEMORY_REGION(&pool[i], sizeof pool[i]);
            atomic_init(&pool[i].refcnt, 1);
            snprintf(pool[i].payload, sizeof pool[i].payload, "%s", name);
            return &pool[i];
        }
    }
    die("refcount: the object pool is full");
}

static bool obj_live(const struct pyobj *o)
{
    return atomic_load(&slot_live[o - pool]) == 1;
}

/* tp_dealloc + free: the slot is dead, its memory poisoned (in the ASan build). */
static void obj_free(struct pyobj *o)
{
    int live = 1;
    if (!atomic_compare_exchange_strong(&slot_live[o - pool], &live, 0)) {
        atomic_fetch_add(&double_frees, 1);     /* free() of a freed block: detected, not done */
        return;
    }
    atomic_fetch_add(&deallocs, 1);
    memset(o->payload, 0xdd, sizeof o->payload);
    ASAN_POISON_MEMORY_REGION(o, sizeof *o);
}

/* ==== The forced window between an INCREF's load and its store ==== */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int arrived;        /* threads that loaded the count */
    int in_window;      /* threads between their load and their store */
    int max_in_window;
    int stored;         /* threads whose INCREF store is done */
    int decref_turn;    /* which thread DECREFs next (0, then 1, then 2 = done) */
} W;

static void window_enter(bool wait_all)
{
    Pthread_mutex_lock(&W.mu);
    W.arrived++;
    if (++W.in_window > W.max_in_window)
        W.max_in_window = W.in_window;
    pthread_cond_broadcast(&W.cond);
    /* No GIL: wait (bounded) until both loaded.  Under the GIL the other thread cannot get here
     * while this one holds it: give up after a short bound. */
    struct timespec dl = lab_deadline_ms(wait_all ? lab_bound_ms(0) : 50.0);   /* 50 ms, whatever the pace */
    int rc = 0;
    while (W.arrived < 2 && rc == 0)
        rc = pthread_cond_timedwait(&W.cond, &W.mu, &dl);
    Pthread_mutex_unlock(&W.mu);
}

static void window_leave(void)
{
    Pthread_mutex_lock(&W.mu);
    W.in_window--;
    W.stored++;
    pthread_cond_broadcast(&W.cond);
    Pthread_mutex_unlock(&W.mu);
}

/* Py_INCREF with its load and store apart (the window held open in between). */
static void incref(struct pyobj *o, bool force)
{
    long v = atomic_load_explicit(&o->refcnt, memory_order_relaxed);     /* load */
    window_enter(force);
    atomic_store_explicit(&o->refcnt, v + 1, memory_order_relaxed);     /* store */
    window_leave();
}

/* Py_DECREF: dealloc when the count reaches 0. */
static void decref(struct pyobj *o)
{
    long v = atomic_load_explicit(&o->refcnt, memory_order_relaxed) - 1;
    atomic_store_explicit(&o->refcnt, v, memory_order_relaxed);
    if (v == 0)
        obj_free(o);
}

/* ==== The two threads: y = x; print(y.name); del y ==== */

struct rc_thread {
    struct gil_thread gt;
    struct pyobj *x;
    bool gil;
    int id;
    long refcnt_after_incref;
};

static void wait_turn(int id)
{
    struct timespec dl = lab_deadline_ms(lab_bound_ms(0));
    Pthread_mutex_lock(&W.mu);
    int rc = 0;
    while ((W.stored < 2 || W.decref_turn != id) && rc == 0)     /* both INCREFs done, then in turn */
        rc = pthread_cond_timedwait(&W.cond, &W.mu, &dl);
    Pthread_mutex_unlock(&W.mu);
}

static void next_turn(void)
{
    Pthread_mutex_lock(&W.mu);
    W.decref_turn++;
    pthread_cond_broadcast(&W.cond);
    Pthread_mutex_unlock(&W.mu);
}

static void *rc_main(void *arg)
{
    struct rc_thread *t = arg;
    gil_enter(&t->gt);
    incref(t->x, !t->gil);                                  /* y = x */
    gil_leave(&t->gt);
    /* The DECREFs one after the other (thread 0, then 1): each is whole, only the INCREFs met. */
    wait_turn(t->id);
    gil_enter(&t->gt);
    t->refcnt_after_incref = atomic_load_explicit(&t->x->refcnt, memory_order_relaxed);
    decref(t->x);                                           /* del y */
    gil_leave(&t->gt);
    next_turn();
    return NULL;
}

int run_refcount(int mode)
{
    bool gil = mode == REFCOUNT_GIL;
    memset(&W, 0, sizeof W);
    lab_mutex_init(&W.mu, 0);
    lab_cond_init(&W.cond, 0);
    atomic_store(&deallocs, 0);
    atomic_store(&double_frees, 0);
    struct gil g;
    gil_init(&g, gil ? GIL_PY3 : GIL_NONE, 5000, 100, false);

    struct pyobj *x = obj_new("lxc");                       /* x = Obj('lxc'): refcount 1 */
    printf("x = Obj('lxc'): refcount 1 (main's x)\n");
    printf("two threads each do y = x (INCREF), read y, del y (DECREF)\n");
    printf("%s\n", gil ? "under the lab's GIL (py3): one thread in the interpreter at a time"
                       : "no GIL: the two INCREFs are forced to interleave (both load before either stores)");
    struct rc_thread t[2];
    struct lab_thread *th[2];
    for (int i = 0; i < 2; i++) {
        t[i] = (struct rc_thread){ .x = x, .gil = gil, .id = i };
        gil_thread_init(&t[i].gt, &g, i ? "t2" : "t1", 0);
        th[i] = lab_thread_new(rc_main, &t[i], "refs");
        lab_thread_start_or_die(th[i]);
    }
    for (int i = 0; i < 2; i++)
        lab_thread_join(th[i]);

    /* The count the first DECREF saw is the count after both INCREFs. */
    long after = t[0].refcnt_after_incref;
    printf("after both INCREFs: refcount %ld for 3 references (x, and y in each thread)%s\n", after,
           after == 3 ? "" : ": one INCREF was lost");
    /* Main comes back to x: print(x.name), then del x. */
    bool freed = !obj_live(x);
    if (freed) {
        printf("the threads' DECREFs took it to 0 and freed it: main still holds x -> use after free\n");
        printf("print(x.name): the lab refuses to read freed memory (CPython would read garbage or crash)\n");
        if (RC_ASAN)
            printf("ASan: x's memory is poisoned (freed): %s\n",
                   __asan_address_is_poisoned(x) ? "yes, ASan agrees" : "no");
    } else {
        printf("print(x.name) -> %s (refcount %ld: still alive, as it must be)\n", x->payload,
               atomic_load_explicit(&x->refcnt, memory_order_relaxed));
    }
    if (freed)
        obj_free(x);                                        /* del x on a freed object: a double free */
    else
        decref(x);                                          /* del x: 1 -> 0, freed now */
    int df = atomic_load(&double_frees), da = atomic_load(&deallocs);
    printf("del x: %s\n", df ? "the object was already freed: a double free (detected, not done)"
                              : "refcount 0, freed now, once");
    printf("deallocs %d, double frees %d\n", da, df);
    lab_result("threads=2 references=3 refcnt_after_increfs=%ld max_in_window=%d freed_while_referenced=%d "
               "use_after_free=%d double_free=%d deallocs=%d", after, W.max_in_window, freed ? 1 : 0,
               freed ? 1 : 0, df, da);
    for (int i = 0; i < 2; i++)
        gil_thread_destroy(&t[i].gt);
    gil_destroy(&g);
    pthread_cond_destroy(&W.cond);
    pthread_mutex_destroy(&W.mu);
    if (gil)
        return after == 3 && !freed && df == 0 && da == 1 && W.max_in_window == 1 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return freed ? LAB_EXIT_OK : LAB_EXIT_BROKEN;            /* none: the use after free is the lesson */
}
