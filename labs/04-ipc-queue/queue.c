/* labs/04-ipc-queue/queue.c - multiprocessing.Queue built in C, used between processes.
 *
 * The notes' Queue section ("进程间通信(Queue)") walks through q=Queue(5): three puts, full(), empty(), two more
 * puts, qsize, five gets, get(timeout=3), and warns that full()/empty()/get_nowait() "对进程的情况下
 * 是不精确的".  Python's Queue is a pipe fed by a background thread, so right after three puts
 * empty() is still True.  common/pqueue.c keeps the messages in shared memory under one mutex:
 * every answer here is exact, and the scenario checks that it is.
 * Then the notes' two IPC studies: parent<->child and child<->child through one queue.
 * Python <-> C: Queue(5) <-> lab_pq_create(5, 0); q.put(x) <-> lab_pq_put(q, x, len, -1);
 *   q.get_nowait() <-> lab_pq_get(..., 0) == EAGAIN; q.get(timeout=3) <-> timeout 3 units, ETIMEDOUT.
 * Usage: build/lab04 queue_api | parent_child | child_child [--messages=10]
 * Watch for: empty=False after three puts (Python says True), the blocked put(666) that goes on only
 *   when the parent gets, get(timeout=3) returning Empty after 3.0 "seconds".
 * See also: common/pqueue.h, kinds.c (the kernel's queues), limits.c (messages too big),
 *   tqueue.c (thread queues).
 */
#include "lab.h"
#include "lab04.h"
#include "pqueue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *yes(bool b) { return b ? "True" : "False"; }

/* ==== queue_api: the Queue(5) walk-through ==== */

/* What the blocked child tells the parent, in a shared mapping (the child writes, the parent reads). */
struct blocked_put {
    int calling;             /* set just before the child calls put */
    int returned;            /* set as soon as put has returned */
    double waited_units;     /* how long put took */
};

struct blocked_arg {
    struct lab_pqueue *q;
    struct blocked_put *bp;
};

/* The child: q.put(666) on a full queue blocks until the parent makes room. */
static int blocked_putter(struct lab_proc *self)
{
    struct blocked_arg *a = self->arg;
    lab_say("child %d: q.put(666) on a full queue ... (blocks)", (int)getpid());
    double t0 = lab_now_ms();
    __atomic_store_n(&a->bp->calling, 1, __ATOMIC_SEQ_CST);
    int rc = lab_pq_put_str(a->q, "666", lab_bound_ms(1));   /* the parent gets after 1 unit */
    __atomic_store_n(&a->bp->returned, 1, __ATOMIC_SEQ_CST);
    a->bp->waited_units = lab_elapsed_units(t0);
    lab_say("child %d: q.put(666) returned %s after %.1f units", (int)getpid(), lab_errno_name(rc),
            a->bp->waited_units);
    return rc == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* Whether the child is asleep inside its put: it said it was calling put, it has not returned,
 * and the kernel shows it sleeping (between those two flags it can sleep nowhere else).  Waits,
 * bounded, for the child to get there; a put that does not block returns and fails the check. */
static bool asleep_in_put(const struct lab_proc *child, const struct blocked_put *bp)
{
    double t0 = lab_now_ms();
    while (lab_elapsed_ms(t0) < lab_bound_ms(0)) {
        if (__atomic_load_n(&bp->calling, __ATOMIC_SEQ_CST)) {
            char st = lab_proc_state(child->pid);
            if (__atomic_load_n(&bp->returned, __ATOMIC_SEQ_CST))
                return false;
            if (st == 'S')
                return true;
            if (st != 'R' && st != 'D')  /* running, or paging in: not there yet */
                return false;            /* gone, a zombie, stopped: not blocked in put */
        }
        lab_sleep_ms(0.2);
    }
    return false;
}

/* Thorough checks of the queue beyond the notes' walk-through; each failure is printed.
 * Returns how many failed; fills the keys of the RESULT line. */
struct api_extras {
    int wrap_ok;
    int oversize_put, small_buf_get, small_buf_kept, bytes_full_put, bytes_full_full;
    int join_before, task_done_extra, join_after;
};

static int queue_extras(struct api_extras *x)
{
    int bad = 0;
    char buf[128];
    size_t n = 0;

    /* Variable-length messages through a small ring, so records wrap around its end. */
    struct lab_pqueue *s = lab_pq_create(8, 256);
    if (s == NULL)
        die("lab_pq_create:");
    x->wrap_ok = 1;
    for (int r = 0; r < 500 && x->wrap_ok; r++) {
        unsigned char msg[61], out[61];
        size_t len = (size_t)(r * 7) % 61;
        for (size_t i = 0; i < len; i++)
            msg[i] = (unsigned char)(r * 31 + (int)i);
        if (lab_pq_put(s, msg, len, 0) != 0 || (r % 3 == 0 && lab_pq_put(s, msg, len, 0) != 0))
            x->wrap_ok = 0;
        for (int k = 0; k < (r % 3 == 0 ? 2 : 1) && x->wrap_ok; k++)
            if (lab_pq_get(s, out, sizeof out, &n, 0) != 0 || n != len || memcmp(msg, out, len) != 0)
                x->wrap_ok = 0;
    }
    if (!x->wrap_ok || !lab_pq_empty(s)) {
        printf("  FAILED: variable-length messages did not come back intact across the ring's end\n");
        bad++;
    }
    printf("  500 rounds of 0..60-byte messages through a 256-byte ring (wrapping): %s\n",
           x->wrap_ok ? "all intact, in order" : "CORRUPTED");

    /* A message that can never fit, a buffer that is too small, a ring full of bytes. */
    size_t maxmsg = lab_pq_max_message(s);
    char big[300];
    memset(big, 'x', sizeof big);
    x->oversize_put = lab_pq_put(s, big, maxmsg + 1, -1);      /* at once, even with no timeout */
    printf("  put(%zu bytes) into a ring that holds at most %zu -> %s (at once: it could never fit)\n",
           maxmsg + 1, maxmsg, lab_errno_name(x->oversize_put));
    if (lab_pq_put(s, big, 100, 0) != 0)
        bad++;
    x->small_buf_get = lab_pq_get(s, buf, 10, &n, 0);
    x->small_buf_kept = lab_pq_qsize(s) == 1 && n == 100;
    printf("  get into a 10-byte buffer of a 100-byte message -> %s, needs %zu, message kept: %s\n",
           lab_errno_name(x->small_buf_get), n, yes(x->small_buf_kept));
    if (lab_pq_put(s, big, 100, 0) != 0)                        /* 2 x 108 of 256 bytes used */
        bad++;
    x->bytes_full_put = lab_pq_put(s, big, 100, 0);
    x->bytes_full_full = lab_pq_full(s);
    printf("  2 of 8 items but the ring's bytes are used up: put_nowait -> %s, full() -> %s (full() counts items)\n",
           l04_pyname(x->bytes_full_put, 1), yes(x->bytes_full_full));
    lab_pq_destroy(s);

    /* JoinableQueue bookkeeping: a fresh queue, three puts, three gets. */
    struct lab_pqueue *j = lab_pq_create(5, 0);
    if (j == NULL)
        die("lab_pq_create:");
    for (int i = 0; i < 3; i++)
        if (lab_pq_put_str(j, "job", 0) != 0 || lab_pq_get_str(j, buf, sizeof buf, 0) != 0)
            bad++;
    x->join_before = lab_pq_join(j, 0);
    for (int i = 0; i < 3; i++)
        if (lab_pq_task_done(j) != 0)
            bad++;
    x->task_done_extra = lab_pq_task_done(j);
    x->join_after = lab_pq_join(j, 0);
    printf("  JoinableQueue: 3 puts, 3 gets: join -> %s; 3x task_done; a 4th -> %s "
           "(\"task_done() called too many times\"); join -> %s\n",
           lab_errno_name(x->join_before), lab_errno_name(x->task_done_extra), lab_errno_name(x->join_after));
    lab_pq_destroy(j);

    bad += x->oversize_put != EMSGSIZE || x->small_buf_get != EMSGSIZE || !x->small_buf_kept
        || x->bytes_full_put != EAGAIN || x->bytes_full_full || x->join_before != ETIMEDOUT
        || x->task_done_extra != EINVAL || x->join_after != 0;
    return bad;
}

int run_queue_api(int mode)
{
    (void)mode;
    int bad = 0;
    char buf[64];
    const char *vals[] = { "111", "222", "333", "444", "555" };

    struct lab_pqueue *q = lab_pq_create(5, 0);
    if (q == NULL)
        die("lab_pq_create:");
    printf("q = Queue(5)                      maxsize=%zu\n", lab_pq_maxsize(q));
    for (int i = 0; i < 3; i++)
        if (lab_pq_put_str(q, vals[i], -1) != 0)
            bad++;
    bool full3 = lab_pq_full(q), empty3 = lab_pq_empty(q);
    printf("q.put(111) q.put(222) q.put(333)\n");
    printf("print(q.full())  -> %s\n", yes(full3));
    printf("print(q.empty()) -> %s    (Python printed True here: its feeder thread had not flushed yet)\n",
           yes(empty3));
    for (int i = 3; i < 5; i++)
        if (lab_pq_put_str(q, vals[i], -1) != 0)
            bad++;
    size_t qsize5 = lab_pq_qsize(q);
    bool full5 = lab_pq_full(q);
    printf("q.put(444) q.put(555)\n");
    printf("print(q.qsize()) -> %zu       (the notes print q.qsize without (): a bound method)\n", qsize5);
    printf("print(q.full())  -> %s\n", yes(full5));

    int nowait_put = lab_pq_put_str(q, "666", 0);
    printf("q.put_nowait(666)          -> %s (queue.Full)\n", l04_pyname(nowait_put, 1));
    double t0 = lab_now_ms();
    int timeout_put = lab_pq_put_str(q, "666", lab_units_ms(0.5));
    printf("q.put(666, timeout=0.5)    -> %s after %.1f units\n", l04_pyname(timeout_put, 1),
           l04_round1(lab_elapsed_units(t0)));

    /* "#q.put(666) 当队列数据放满了之后…程序会阻塞，直到有位置让出来": a child blocks in put. */
    struct blocked_put *bp = lab_shared_alloc(sizeof *bp);
    struct blocked_arg ba = { q, bp };
    struct lab_proc child = LAB_PROC_INIT(blocked_putter, &ba);
    lab_proc_start_or_die(&child);
    bool asleep = asleep_in_put(&child, bp);
    lab_sleep(1);
    bool still_blocked = asleep && lab_proc_is_alive(&child) && !__atomic_load_n(&bp->returned, __ATOMIC_SEQ_CST)
        && lab_pq_qsize(q) == 5;
    printf("parent: 1 unit later the child is still blocked: %s, qsize=%zu\n", yes(still_blocked),
           lab_pq_qsize(q));

    /* Five gets (the first one makes room for the child's 666), then the 666. */
    bool fifo = true;
    char got_line[128] = "";
    for (int i = 0; i < 6; i++) {
        int rc = lab_pq_get_str(q, buf, sizeof buf, lab_bound_ms(0));
        const char *want = i < 5 ? vals[i] : "666";
        if (rc != 0 || strcmp(buf, want) != 0)
            fifo = false;
        size_t used = strlen(got_line);
        snprintf(got_line + used, sizeof got_line - used, " %s", rc == 0 ? buf : lab_errno_name(rc));
        if (i == 0)   /* the child's put completes only now */
            lab_proc_join_ms(&child, lab_bound_ms(0));
    }
    int child_code = lab_proc_join(&child);
    bool blocked_put = still_blocked && child_code == 0;   /* blocked at the 1-unit mark, then done */
    printf("q.get() x6 ->%s\n", got_line);

    int nowait_get = lab_pq_get_str(q, buf, sizeof buf, 0);
    printf("q.get_nowait()             -> %s (queue.Empty)\n", l04_pyname(nowait_get, 0));
    printf("q.get(timeout=3) ...\n");
    t0 = lab_now_ms();
    int timeout_get = lab_pq_get_str(q, buf, sizeof buf, lab_units_ms(3.0));
    double waited_units = lab_elapsed_units(t0);
    printf("q.get(timeout=3)           -> %s after %.1f units (Python prints str(queue.Empty()): an empty line)\n",
           l04_pyname(timeout_get, 0), l04_round1(waited_units));
    lab_pq_destroy(q);
    lab_shared_free(bp, sizeof *bp);

    printf("more checks of the queue:\n");
    struct api_extras x;
    bad += queue_extras(&x);

    bool ok = !bad && fifo && !full3 && !empty3 && qsize5 == 5 && full5 && nowait_put == EAGAIN
        && timeout_put == ETIMEDOUT && blocked_put && nowait_get == EAGAIN && timeout_get == ETIMEDOUT
        && waited_units >= 3.0;
    lab_result("maxsize=5 fifo=%d full_after_3=%d empty_after_3=%d full_after_5=%d qsize_after_5=%zu "
               "nowait_put=%s timeout_put=%s blocked_put=%d nowait_get=%s timeout_get=%s "
               "timeout_waited_units=%.1f wrap_ok=%d oversize_put=%s small_buffer_get=%s kept=%d "
               "bytes_full_put=%s join_before=%s task_done_extra=%s join_after=%s",
               fifo, full3, empty3, full5, qsize5, l04_pyname(nowait_put, 1), l04_pyname(timeout_put, 1),
               blocked_put, l04_pyname(nowait_get, 0), l04_pyname(timeout_get, 0), l04_round1(waited_units),
               x.wrap_ok, lab_errno_name(x.oversize_put), lab_errno_name(x.small_buf_get), x.small_buf_kept,
               l04_pyname(x.bytes_full_put, 1), lab_errno_name(x.join_before), lab_errno_name(x.task_done_extra),
               lab_errno_name(x.join_after));
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== parent_child: the notes' first IPC study ==== */

struct two_queues {
    struct lab_pqueue *up;      /* child -> parent */
    struct lab_pqueue *down;    /* parent -> child */
};

/* The Queue example: def producer(q): q.put('燕子李三'); print('hello'); the Pipe example's
 * q.put([42, None, 'hello']).
 * Then it waits for the parent's message on the other queue and checks it byte by byte. */
static int pc_child(struct lab_proc *self)
{
    struct two_queues *tq = self->arg;
    if (lab_pq_put_str(tq->up, L04_YANZI, -1) != 0)
        return LAB_EXIT_BROKEN;
    lab_say("child %d: q.put('%s'); print('hello') -> hello", (int)getpid(), L04_YANZI);
    if (lab_pq_put_str(tq->up, L04_PAYLOAD, -1) != 0)
        return LAB_EXIT_BROKEN;
    char buf[128];
    int rc = lab_pq_get_str(tq->down, buf, sizeof buf, lab_bound_ms(0));
    bool ok = rc == 0 && strcmp(buf, "from the parent: " L04_YANZI) == 0;
    lab_say("child %d: got from the parent: '%s' (%s)", (int)getpid(), rc == 0 ? buf : lab_errno_name(rc),
            ok ? "intact" : "WRONG");
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_parent_child(int mode)
{
    (void)mode;
    struct two_queues tq = { lab_pq_create(8, 0), lab_pq_create(8, 0) };
    if (tq.up == NULL || tq.down == NULL)
        die("lab_pq_create:");
    printf("parent %d: q = Queue(); p = Process(target=producer, args=(q,)); p.start()\n", (int)getpid());
    struct lab_proc p = LAB_PROC_INIT(pc_child, &tq);
    lab_proc_start_or_die(&p);

    char a[128] = "", b[128] = "";
    int rc1 = lab_pq_get_str(tq.up, a, sizeof a, lab_bound_ms(0));
    int rc2 = lab_pq_get_str(tq.up, b, sizeof b, lab_bound_ms(0));
    /* Compared byte by byte: the UTF-8 of 燕子李三 is 12 bytes, not 4 characters. */
    bool up_ok = rc1 == 0 && rc2 == 0 && strcmp(a, L04_YANZI) == 0 && strcmp(b, L04_PAYLOAD) == 0;
    printf("parent %d: print(q.get()) -> %s\n", (int)getpid(), rc1 == 0 ? a : lab_errno_name(rc1));
    printf("parent %d: print(q.get()) -> %s\n", (int)getpid(), rc2 == 0 ? b : lab_errno_name(rc2));
    if (lab_pq_put_str(tq.down, "from the parent: " L04_YANZI, -1) != 0)
        die("lab_pq_put_str");
    int code = lab_proc_join(&p);
    printf("parent %d: p.join() -> exitcode %d\n", (int)getpid(), code);
    lab_pq_destroy(tq.up);
    lab_pq_destroy(tq.down);
    lab_result("child_to_parent=%d parent_to_child=%d yanzi_bytes=%zu child_exit=%d",
               up_ok, code == 0, strlen(L04_YANZI), code);
    return up_ok && code == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== child_child: producer and consumer are both children ==== */

struct cc_shared {
    struct lab_pqueue *q;
    long messages;
    long received;      /* written by the consumer child: it lives in a shared mapping */
    int in_order;
};

static void cc_message(long i, char *buf, size_t cap)
{
    if (i == 0)
        snprintf(buf, cap, "%s", L04_YANZI);
    else   /* lengths vary, so the queue's variable-length records are exercised */
        snprintf(buf, cap, "message %ld %.*s", i, (int)(i % 23), "~~~~~~~~~~~~~~~~~~~~~~~");
}

static int cc_producer(struct lab_proc *self)
{
    struct cc_shared *sh = self->arg;
    char buf[64];
    for (long i = 0; i < sh->messages; i++) {
        cc_message(i, buf, sizeof buf);
        /* The line before the put (as lab 5's kitchen does): a get's line can never come first. */
        if (i < 3 || i == sh->messages - 1)
            lab_say("producer %d: q.put('%s')", (int)getpid(), buf);
        else if (i == 3)
            lab_say("producer %d: … (%ld more puts not shown)", (int)getpid(), sh->messages - 4);
        if (lab_pq_put_str(sh->q, buf, lab_bound_ms(0)) != 0)
            return LAB_EXIT_BROKEN;
    }
    return LAB_EXIT_OK;
}

static int cc_consumer(struct lab_proc *self)
{
    struct cc_shared *sh = self->arg;
    char buf[64], want[64];
    int in_order = 1;
    long got = 0;
    for (long i = 0; i < sh->messages; i++) {
        if (lab_pq_get_str(sh->q, buf, sizeof buf, lab_bound_ms(0)) != 0)
            break;
        got++;
        cc_message(i, want, sizeof want);
        if (strcmp(buf, want) != 0)
            in_order = 0;
        if (i < 3 || i == sh->messages - 1)
            lab_say("consumer %d: print(q.get()) -> %s", (int)getpid(), buf);
        else if (i == 3)
            lab_say("consumer %d: … (%ld more gets not shown)", (int)getpid(), sh->messages - 4);
    }
    sh->received = got;
    sh->in_order = in_order;
    return got == sh->messages && in_order ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

int run_child_child(int mode)
{
    (void)mode;
    struct cc_shared *sh = lab_shared_alloc(sizeof *sh);
    sh->q = lab_pq_create(4, 0);    /* smaller than --messages: the producer blocks now and then */
    if (sh->q == NULL)
        die("lab_pq_create:");
    sh->messages = (long)lab_opt("messages");
    printf("parent %d: q = Queue(4); the consumer starts first and blocks in get(); %ld messages\n",
           (int)getpid(), sh->messages);
    struct lab_proc consumer = LAB_PROC_INIT(cc_consumer, sh), producer = LAB_PROC_INIT(cc_producer, sh);
    lab_proc_start_or_die(&consumer);
    lab_proc_start_or_die(&producer);
    int pcode = lab_proc_join(&producer), ccode = lab_proc_join(&consumer);
    size_t left = lab_pq_qsize(sh->q);
    printf("parent %d: both joined: producer exitcode %d, consumer exitcode %d, left in the queue %zu\n",
           (int)getpid(), pcode, ccode, left);
    bool ok = pcode == 0 && ccode == 0 && sh->received == sh->messages && sh->in_order && left == 0;
    lab_result("sent=%ld received=%ld in_order=%d left=%zu producer_exit=%d consumer_exit=%d",
               pcode == 0 ? sh->messages : -1, sh->received, sh->in_order, left, pcode, ccode);
    lab_pq_destroy(sh->q);
    lab_shared_free(sh, sizeof *sh);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
