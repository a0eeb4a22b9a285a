/* safe_types.c - the notes' "线程不安全变量,list,set,dict / 线程安全变量类型,queue".
 *
 * The notes' outline (the threading cases): a variable is thread-safe when many threads can use it
 * without a lock and nothing goes wrong (线程安全); list, set and dict are not, queue is.  In
 * CPython each single set.add / d[k] = v is one C call under the GIL, so it is whole; in C a set
 * or dict insert is several steps, and two threads can interleave them:
 *   set   open addressing: probe for a free slot, write the key there, count += 1.  Both threads
 *         probe, find the same free slot (their keys collide), both write it: one key is gone,
 *         and the count (a lost update or not) no longer matches the keys in the table.
 *   dict  separate chaining: new node; node->next = bucket head; head = node.  Both read the same
 *         head, both link: the second link overwrites the first, one entry is lost.
 *   queue a queue.Queue: put() takes the queue's own mutex, so the same forced attempt cannot get
 *         between its steps: both items arrive.
 * nolock forces the interleaving with a rendezvous between the "read" and the "write" step of
 * the set and the dict; lock does the same under a mutex (the rendezvous gives up after 50 ms,
 * as only the holder can be there): every key arrives.  The list is `shared_list` (threads.c).
 *
 * Usage: lab03 thread_safe [--mode=nolock|lock]
 * What to watch for: set_keys=1 with set_len=2 (or 1) and dict_keys=1 without the lock, every
 *   count 2 with it; queue_items=2 in both modes.
 * See also: threads.c (shared_list), counter.c (the lost update itself).
 */
#include "lab.h"
#include "lab03.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== The forced window (two threads) ==== */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int arrived, in_window, max_in_window;
} win;

static void win_reset(void)
{
    Pthread_mutex_lock(&win.mu);
    win.arrived = win.in_window = 0;
    Pthread_mutex_unlock(&win.mu);
}

/* Between a read and its write: wait until both threads are here (bounded), or 50 ms when a lock
 * keeps the other one out. */
static void win_wait(bool locked)
{
    Pthread_mutex_lock(&win.mu);
    win.arrived++;
    if (++win.in_window > win.max_in_window)
        win.max_in_window = win.in_window;
    pthread_cond_broadcast(&win.cond);
    struct timespec dl = lab_deadline_ms(locked ? 50.0 : lab_bound_ms(0));
    int rc = 0;
    while (win.arrived < 2 && rc == 0)
        rc = pthread_cond_timedwait(&win.cond, &win.mu, &dl);
    win.in_window--;
    Pthread_mutex_unlock(&win.mu);
}

/* ==== set: open addressing, 8 slots, keys 0 = empty ==== */

#define SET_SLOTS 8
static atomic_int set_slot[SET_SLOTS];      /* relaxed atomics: the race is in the steps, not UB */
static atomic_int set_len;

static void set_add(int key, bool locked)
{
    int i = key % SET_SLOTS;
    while (atomic_load_explicit(&set_slot[i], memory_order_relaxed) != 0)    /* probe */
        i = (i + 1) % SET_SLOTS;
    win_wait(locked);                                                         /* the window */
    atomic_store_explicit(&set_slot[i], key, memory_order_relaxed);          /* write the slot */
    int n = atomic_load_explicit(&set_len, memory_order_relaxed);
    atomic_store_explicit(&set_len, n + 1, memory_order_relaxed);            /* len += 1 */
}

static int set_keys(void)
{
    int k = 0;
    for (int i = 0; i < SET_SLOTS; i++)
        k += atomic_load(&set_slot[i]) != 0;
    return k;
}

/* ==== dict: one bucket (the two keys hash alike), a linked list ==== */

struct node {
    int key, value;
    struct node *next;
};
static _Atomic(struct node *) dict_head;
static struct node dict_nodes[2];           /* preallocated: a lost node is not a leak here */

static void dict_set(int slot, int key, int value, bool locked)
{
    struct node *n = &dict_nodes[slot];
    n->key = key;
    n->value = value;
    n->next = atomic_load_explicit(&dict_head, memory_order_relaxed);        /* read the head */
    win_wait(locked);
    atomic_store_explicit(&dict_head, n, memory_order_relaxed);              /* head = node */
}

static int dict_keys(void)
{
    int k = 0;
    for (struct node *n = atomic_load(&dict_head); n; n = n->next)
        k++;
    return k;
}

/* ==== queue: put under the queue's own lock ==== */

static struct {
    pthread_mutex_t mu;
    int items[4];
    int n;                  /* guarded by mu */
} q;

static void queue_put(int x)
{
    Pthread_mutex_lock(&q.mu);                  /* queue.Queue.put: with self.mutex */
    int n = q.n;
    q.items[n] = x;
    q.n = n + 1;
    Pthread_mutex_unlock(&q.mu);
}

/* ==== The threads ==== */

static pthread_mutex_t user_lock;               /* lock mode: `with lock:` around each insert */
static pthread_barrier_t phase;                 /* the three parts one after the other */

struct st_arg {
    int id;                 /* 0 or 1 */
    bool locked;
};

static void *st_main(void *arg)
{
    const struct st_arg *a = arg;
    int key = a->id ? 1 + SET_SLOTS : 1;        /* 1 and 9: both hash to slot 1 */
    if (a->locked)
        Pthread_mutex_lock(&user_lock);
    set_add(key, a->locked);                    /* s.add(key) */
    if (a->locked)
        Pthread_mutex_unlock(&user_lock);
    Pthread_barrier_wait(&phase);               /* both inserted into the set */
    if (a->id == 0)
        win_reset();
    Pthread_barrier_wait(&phase);               /* the window is fresh for the dict */
    if (a->locked)
        Pthread_mutex_lock(&user_lock);
    dict_set(a->id, a->id ? 'b' : 'a', a->id + 1, a->locked);   /* d['a'] = 1 / d['b'] = 2 */
    if (a->locked)
        Pthread_mutex_unlock(&user_lock);
    Pthread_barrier_wait(&phase);
    queue_put(a->id + 1);                       /* q.put(1) / q.put(2): no user lock */
    return NULL;
}

int run_thread_safe(int mode)
{
    bool locked = mode == THREAD_SAFE_LOCK;
    memset(&win, 0, sizeof win);
    lab_mutex_init(&win.mu, 0);
    lab_cond_init(&win.cond, 0);
    lab_mutex_init(&user_lock, LAB_MUTEX_ERRORCHECK);
    lab_mutex_init(&q.mu, LAB_MUTEX_ERRORCHECK);
    q.n = 0;
    for (int i = 0; i < SET_SLOTS; i++)
        atomic_store(&set_slot[i], 0);
    atomic_store(&set_len, 0);
    atomic_store(&dict_head, NULL);
    Pthread_barrier_init(&phase, NULL, 2);

    printf("2 threads: s.add(1) / s.add(9) (same slot), d['a'] = 1 / d['b'] = 2 (same bucket),\n"
           "then q.put(1) / q.put(2)\n");
    printf("%s\n", locked ? "lock: each set and dict insert under `with lock:`; the queue has its own lock"
                          : "nolock: each insert is forced to read before the other writes; the queue has its own lock");
    struct st_arg args[2] = { { .id = 0, .locked = locked }, { .id = 1, .locked = locked } };
    struct lab_thread *t[2];
    for (int i = 0; i < 2; i++) {
        t[i] = lab_thread_new(st_main, &args[i], "insert");
        lab_thread_start_or_die(t[i]);
    }
    for (int i = 0; i < 2; i++)
        lab_thread_join(t[i]);

    int sk = set_keys(), sl = atomic_load(&set_len), dk = dict_keys();
    printf("set:   %d key(s) in the table, len(s) says %d, expected 2 and 2%s\n", sk, sl,
           sk == 2 && sl == 2 ? "" : ": a key overwritten, the table corrupted");
    printf("dict:  %d key(s) reachable, expected 2%s\n", dk, dk == 2 ? "" : ": one link overwrote the other");
    printf("queue: %d item(s), expected 2: put() takes the queue's own lock, no forcing gets inside it\n", q.n);
    printf("the notes: list, set, dict are not thread-safe, queue is; in CPython one set.add or d[k] = v\n"
           "is whole under the GIL (compound steps are not), in C only the lock makes it whole\n");
    lab_result("threads=2 set_keys=%d set_len=%d dict_keys=%d queue_items=%d max_in_window=%d",
               sk, sl, dk, q.n, win.max_in_window);
    Pthread_barrier_destroy(&phase);
    pthread_mutex_destroy(&user_lock);
    pthread_mutex_destroy(&q.mu);
    pthread_cond_destroy(&win.cond);
    pthread_mutex_destroy(&win.mu);
    if (q.n != 2)
        return LAB_EXIT_BROKEN;
    if (locked)
        return sk == 2 && sl == 2 && dk == 2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return sk < 2 && dk < 2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;    /* nolock: the losses are the lesson */
}
