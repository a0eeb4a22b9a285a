/* labs/04-ipc-queue/queue.c - multiprocessing.Queue built in C, used between processes.
 *
 * The notes (S2 "进程间通信(Queue)") walk through q=Queue(5): three puts, full(), empty(), two more
 * puts, qsize, five gets, get(timeout=3), and warn that full()/empty()/get_nowait() "对进程的情况下
 * 是不精确的".  Python's Queue is a pipe fed by a background thread, so right after three puts
 * empty() is still True.  common/pqueue.c keeps the messages in shared memory under one mutex:
 * every answer here is exact, and the scenario checks that it is.
 * Then the notes' two IPC studies: parent<->child and child<->child through one queue, and the
 * limits: what each kind of queue does with a message that is too big.
 * Python <-> C: Queue(5) <-> lab_pq_create(5, 0); q.put(x) <-> lab_pq_put(q, x, len, -1);
 *   q.get_nowait() <-> lab_pq_get(..., 0) == EAGAIN; q.get(timeout=3) <-> timeout 3 units, ETIMEDOUT.
 * Usage: build/lab04 queue_api | parent_child | child_child [--messages=10] | limits
 * Watch for: empty=False after three puts (Python says True), the blocked put(666) that goes on only
 *   when the parent gets, get(timeout=3) returning Empty after 3.0 "seconds".
 * See also: common/pqueue.h, kinds.c (the kernel's queues), tqueue.c (thread queues).
 */
#include "lab.h"
#include "lab04.h"
#include "pqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <mqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>

/* A real-time bound for waits that only a broken run would reach (never a lesson's wait). */
#define L04_BOUND_MS 10000.0

static const char *yes(bool b) { return b ? "True" : "False"; }

/* One decimal, as PARITY 0.2.2 reports elapsed notes-seconds. */
static double round1(double x) { return round(x * 10.0) / 10.0; }

/* ==== queue_api: the Queue(5) walk-through ==== */

struct blocked_put {
    struct lab_pqueue *q;
    double *waited_units;    /* in a shared mapping: the child writes, the parent reads */
};

/* The child: q.put(666) on a full queue blocks until the parent makes room. */
static int blocked_putter(struct lab_proc *self)
{
    struct blocked_put *bp = self->arg;
    lab_say("child %d: q.put(666) on a full queue ... (blocks)", (int)getpid());
    double t0 = lab_now_ms();
    int rc = lab_pq_put_str(bp->q, "666", L04_BOUND_MS);
    *bp->waited_units = lab_elapsed_units(t0);
    lab_say("child %d: q.put(666) returned %s after %.1f units", (int)getpid(), l04_errname(rc),
            *bp->waited_units);
    return rc == 0 ? 0 : 1;
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
           maxmsg + 1, maxmsg, l04_errname(x->oversize_put));
    if (lab_pq_put(s, big, 100, 0) != 0)
        bad++;
    x->small_buf_get = lab_pq_get(s, buf, 10, &n, 0);
    x->small_buf_kept = lab_pq_qsize(s) == 1 && n == 100;
    printf("  get into a 10-byte buffer of a 100-byte message -> %s, needs %zu, message kept: %s\n",
           l04_errname(x->small_buf_get), n, yes(x->small_buf_kept));
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
           l04_errname(x->join_before), l04_errname(x->task_done_extra), l04_errname(x->join_after));
    lab_pq_destroy(j);

    bad += x->oversize_put != EMSGSIZE || x->small_buf_get != EMSGSIZE || !x->small_buf_kept
        || x->bytes_full_put != EAGAIN || x->bytes_full_full || x->join_before != ETIMEDOUT
        || x->task_done_extra != EINVAL || x->join_after != 0;
    return bad;
}

int l04_queue_api(int mode_index)
{
    (void)mode_index;
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
    int timeout_put = lab_pq_put_str(q, "666", 0.5 * (double)lab_second_ms());
    printf("q.put(666, timeout=0.5)    -> %s after %.1f units\n", l04_pyname(timeout_put, 1),
           round1(lab_elapsed_units(t0)));

    /* "#q.put(666) 当队列数据放满了之后…程序会阻塞，直到有位置让出来": a child blocks in put. */
    double *waited = mmap(NULL, sizeof *waited, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (waited == MAP_FAILED)
        die("mmap:");
    *waited = -1;
    struct blocked_put bp = { q, waited };
    struct lab_proc child = LAB_PROC_INIT(blocked_putter, &bp);
    lab_proc_start_or_die(&child);
    lab_sleep(1);
    bool still_blocked = lab_proc_is_alive(&child) && lab_pq_qsize(q) == 5;
    printf("parent: 1 unit later the child is still blocked: %s, qsize=%zu\n", yes(still_blocked),
           lab_pq_qsize(q));

    /* Five gets (the first one makes room for the child's 666), then the 666. */
    bool fifo = true;
    char got_line[128] = "";
    for (int i = 0; i < 6; i++) {
        int rc = lab_pq_get_str(q, buf, sizeof buf, L04_BOUND_MS);
        const char *want = i < 5 ? vals[i] : "666";
        if (rc != 0 || strcmp(buf, want) != 0)
            fifo = false;
        size_t used = strlen(got_line);
        snprintf(got_line + used, sizeof got_line - used, " %s", rc == 0 ? buf : l04_errname(rc));
        if (i == 0)   /* the child's put completes only now */
            lab_proc_join_ms(&child, L04_BOUND_MS);
    }
    int child_code = lab_proc_join(&child);
    bool blocked_put = still_blocked && child_code == 0;   /* blocked at the 1-unit mark, then done */
    printf("q.get() x6 ->%s\n", got_line);

    int nowait_get = lab_pq_get_str(q, buf, sizeof buf, 0);
    printf("q.get_nowait()             -> %s (queue.Empty)\n", l04_pyname(nowait_get, 0));
    printf("q.get(timeout=3) ...\n");
    t0 = lab_now_ms();
    int timeout_get = lab_pq_get_str(q, buf, sizeof buf, 3.0 * (double)lab_second_ms());
    double waited_units = lab_elapsed_units(t0);
    printf("q.get(timeout=3)           -> %s after %.1f units (Python prints str(queue.Empty()): an empty line)\n",
           l04_pyname(timeout_get, 0), round1(waited_units));
    lab_pq_destroy(q);
    munmap(waited, sizeof *waited);

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
               blocked_put, l04_pyname(nowait_get, 0), l04_pyname(timeout_get, 0), round1(waited_units),
               x.wrap_ok, l04_errname(x.oversize_put), l04_errname(x.small_buf_get), x.small_buf_kept,
               l04_pyname(x.bytes_full_put, 1), l04_errname(x.join_before), l04_errname(x.task_done_extra),
               l04_errname(x.join_after));
    return ok ? 0 : 1;
}

/* ==== parent_child: the notes' first IPC study ==== */

struct two_queues {
    struct lab_pqueue *up;      /* child -> parent */
    struct lab_pqueue *down;    /* parent -> child */
};

/* S2: def producer(q): q.put('燕子李三'); print('hello').  S4: q.put([42, None, 'hello']).
 * Then it waits for the parent's message on the other queue and checks it byte by byte. */
static int pc_child(struct lab_proc *self)
{
    struct two_queues *tq = self->arg;
    if (lab_pq_put_str(tq->up, L04_YANZI, -1) != 0)
        return 1;
    lab_say("child %d: q.put('%s'); print('hello') -> hello", (int)getpid(), L04_YANZI);
    if (lab_pq_put_str(tq->up, L04_PAYLOAD, -1) != 0)
        return 1;
    char buf[128];
    int rc = lab_pq_get_str(tq->down, buf, sizeof buf, L04_BOUND_MS);
    bool ok = rc == 0 && strcmp(buf, "from the parent: " L04_YANZI) == 0;
    lab_say("child %d: got from the parent: '%s' (%s)", (int)getpid(), rc == 0 ? buf : l04_errname(rc),
            ok ? "intact" : "WRONG");
    return ok ? 0 : 1;
}

int l04_parent_child(int mode_index)
{
    (void)mode_index;
    struct two_queues tq = { lab_pq_create(8, 0), lab_pq_create(8, 0) };
    if (tq.up == NULL || tq.down == NULL)
        die("lab_pq_create:");
    printf("parent %d: q = Queue(); p = Process(target=producer, args=(q,)); p.start()\n", (int)getpid());
    struct lab_proc p = LAB_PROC_INIT(pc_child, &tq);
    lab_proc_start_or_die(&p);

    char a[128] = "", b[128] = "";
    int rc1 = lab_pq_get_str(tq.up, a, sizeof a, L04_BOUND_MS);
    int rc2 = lab_pq_get_str(tq.up, b, sizeof b, L04_BOUND_MS);
    /* Compared byte by byte: the UTF-8 of 燕子李三 is 12 bytes, not 4 characters. */
    bool up_ok = rc1 == 0 && rc2 == 0 && strcmp(a, L04_YANZI) == 0 && strcmp(b, L04_PAYLOAD) == 0;
    printf("parent %d: print(q.get()) -> %s\n", (int)getpid(), rc1 == 0 ? a : l04_errname(rc1));
    printf("parent %d: print(q.get()) -> %s\n", (int)getpid(), rc2 == 0 ? b : l04_errname(rc2));
    if (lab_pq_put_str(tq.down, "from the parent: " L04_YANZI, -1) != 0)
        die("lab_pq_put_str");
    int code = lab_proc_join(&p);
    printf("parent %d: p.join() -> exitcode %d\n", (int)getpid(), code);
    lab_pq_destroy(tq.up);
    lab_pq_destroy(tq.down);
    lab_result("child_to_parent=%d parent_to_child=%d yanzi_bytes=%zu child_exit=%d",
               up_ok, code == 0, strlen(L04_YANZI), code);
    return up_ok && code == 0 ? 0 : 1;
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
        if (lab_pq_put_str(sh->q, buf, L04_BOUND_MS) != 0)
            return 1;
        if (i < 3 || i == sh->messages - 1)
            lab_say("producer %d: q.put('%s')", (int)getpid(), buf);
    }
    return 0;
}

static int cc_consumer(struct lab_proc *self)
{
    struct cc_shared *sh = self->arg;
    char buf[64], want[64];
    int in_order = 1;
    long got = 0;
    for (long i = 0; i < sh->messages; i++) {
        if (lab_pq_get_str(sh->q, buf, sizeof buf, L04_BOUND_MS) != 0)
            break;
        got++;
        cc_message(i, want, sizeof want);
        if (strcmp(buf, want) != 0)
            in_order = 0;
        if (i < 3 || i == sh->messages - 1)
            lab_say("consumer %d: print(q.get()) -> %s", (int)getpid(), buf);
    }
    sh->received = got;
    sh->in_order = in_order;
    return got == sh->messages && in_order ? 0 : 1;
}

int l04_child_child(int mode_index)
{
    (void)mode_index;
    struct cc_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap:");
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
    munmap(sh, sizeof *sh);
    return ok ? 0 : 1;
}

/* ==== limits: messages too big ==== */

static char mq_name[64];
static void rm_mq(void *arg) { mq_unlink((const char *)arg); }
static int sysv_id = -1;
static void rm_sysv(void *arg) { msgctl(*(int *)arg, IPC_RMID, NULL); }

static long read_proc_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

int l04_limits(int mode_index)
{
    (void)mode_index;
    long msgsize_max = read_proc_long("/proc/sys/fs/mqueue/msgsize_max");
    long msg_max = read_proc_long("/proc/sys/fs/mqueue/msg_max");
    printf("/proc/sys/fs/mqueue: msgsize_max=%ld msg_max=%ld (an unbounded Queue() cannot map onto these)\n",
           msgsize_max, msg_max);

    /* POSIX mq: the largest message size allowed, then one byte more. */
    long msgsize = msgsize_max > 0 ? msgsize_max : 8192;
    snprintf(mq_name, sizeof mq_name, "/lab04_%d_limits", (int)getpid());
    struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = msgsize };
    const char *mq_over = "ENOSYS";
    bool removed = true;        /* every object made here is gone again (checked) */
    mqd_t mq = mq_open(mq_name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
    if (mq != (mqd_t)-1) {
        int id = lab_cleanup_add(rm_mq, mq_name);
        static char big[1 << 16];
        size_t over = (size_t)msgsize + 1;
        if (over > sizeof big)
            over = sizeof big;
        int rc = mq_send(mq, big, over, 0) == 0 ? 0 : errno;
        mq_over = l04_errname(rc);
        printf("POSIX mq %s with mq_msgsize=%ld: mq_send(%zu bytes) -> %s (%s)\n", mq_name, msgsize, over,
               mq_over, rc ? strerror(rc) : "sent?");
        mq_close(mq);
        lab_cleanup_run(id);
        removed = removed && mq_open(mq_name, O_RDONLY) == (mqd_t)-1 && errno == ENOENT;
    } else {
        printf("POSIX mq: mq_open -> %s: skipped\n", strerror(errno));
    }
    /* Asking for a bigger queue than msg_max allows (privileged processes may get it). */
    struct mq_attr many = { .mq_maxmsg = (msg_max > 0 ? msg_max : 10) * 10, .mq_msgsize = 64 };
    mq = mq_open(mq_name, O_CREAT | O_EXCL | O_RDWR, 0600, &many);
    if (mq != (mqd_t)-1) {
        int id = lab_cleanup_add(rm_mq, mq_name);
        printf("POSIX mq with mq_maxmsg=%ld: opened (this process may raise the limit: CAP_SYS_RESOURCE)\n",
               many.mq_maxmsg);
        mq_close(mq);
        lab_cleanup_run(id);
        removed = removed && mq_open(mq_name, O_RDONLY) == (mqd_t)-1 && errno == ENOENT;
    } else {
        printf("POSIX mq with mq_maxmsg=%ld: mq_open -> %s (%s)\n", many.mq_maxmsg, l04_errname(errno),
               strerror(errno));
    }

    /* System V: msgsnd of more than msgmax bytes. */
    long msgmax = read_proc_long("/proc/sys/kernel/msgmax");
    const char *sysv_over = "ENOSYS";
    sysv_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (sysv_id != -1) {
        int id = lab_cleanup_add(rm_sysv, &sysv_id);
        size_t over = (size_t)(msgmax > 0 ? msgmax : 8192) + 1;
        struct { long mtype; char mtext[1 << 16]; } *m = xcalloc(1, sizeof *m);
        m->mtype = 1;
        if (over > sizeof m->mtext)
            over = sizeof m->mtext;
        int rc = msgsnd(sysv_id, m, over, IPC_NOWAIT) == 0 ? 0 : errno;
        sysv_over = l04_errname(rc);
        printf("System V queue: msgget(IPC_PRIVATE) -> id %d, msgmax=%ld: msgsnd(%zu bytes) -> %s (%s)\n",
               sysv_id, msgmax, over, sysv_over, rc ? strerror(rc) : "sent?");
        free(m);
        int old = sysv_id;
        lab_cleanup_run(id);
        struct msqid_ds ds;
        removed = removed && msgctl(old, IPC_STAT, &ds) == -1 && (errno == EINVAL || errno == EIDRM);
    }

    /* The process queue: refuses at once what could never fit, keeps what a small buffer can't take. */
    struct lab_pqueue *q = lab_pq_create(4, 1024);
    if (q == NULL)
        die("lab_pq_create:");
    size_t pq_max = lab_pq_max_message(q);
    static char blob[2048];
    int pq_over = lab_pq_put(q, blob, pq_max + 1, -1);
    printf("process queue with a 1024-byte ring: put(%zu bytes) -> %s at once (put blocks only for what can fit)\n",
           pq_max + 1, l04_errname(pq_over));
    int pq_fit = lab_pq_put(q, blob, pq_max, 0);
    size_t need = 0;
    char small[16];
    int pq_small = lab_pq_get(q, small, sizeof small, &need, 0);
    bool kept = lab_pq_qsize(q) == 1;
    printf("put(%zu bytes) -> %s; get into a %zu-byte buffer -> %s, needs %zu, still queued: %s\n", pq_max,
           l04_errname(pq_fit), sizeof small, l04_errname(pq_small), need, yes(kept));
    lab_pq_destroy(q);

    bool ok = removed && pq_over == EMSGSIZE && pq_fit == 0 && pq_small == EMSGSIZE && kept && need == pq_max
        && (strcmp(mq_over, "EMSGSIZE") == 0 || strcmp(mq_over, "ENOSYS") == 0)
        && (strcmp(sysv_over, "EINVAL") == 0 || strcmp(sysv_over, "ENOSYS") == 0);
    lab_result("mq_msgsize=%ld mq_oversize=%s sysv_oversize=%s pq_max_message=%zu pq_oversize=%s "
               "pq_small_buffer=%s pq_kept=%d removed=%d", msgsize, mq_over, sysv_over, pq_max,
               l04_errname(pq_over), l04_errname(pq_small), kept, removed);
    return ok ? 0 : 1;
}
