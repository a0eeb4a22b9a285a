/* labs/04-ipc-queue/bench.c - what each kind of IPC costs (`build/lab04 --bench`, `make bench`).
 *
 * The notes' summary ranks the kinds by folklore ("管道：速度慢", "共享内存区：速度快").  This table
 * measures them on this machine, in one run: a parent sends to a child for a fixed time, one
 * write/put per message and one read/get per message (no batching), then
 *   - messages per second for 64-byte messages (the per-message cost: system calls, wake-ups);
 *   - MB per second for 64 KiB blocks (the copying cost).
 * Every kernel path (pipe, socketpair, POSIX mq) pays a system call per send and per receive; the
 * process queue (common/pqueue.c) pays none while neither side has to sleep, so it wins on small
 * messages.  A POSIX mq cannot carry 64 KiB at all with the default msgsize_max (8192): reported.
 * Report only: numbers depend on the machine and its load; tests never assert them.
 * Python <-> C: the same measurement with multiprocessing.Queue would add pickling and a feeder thread.
 * Usage: build/lab04 --bench
 * See also: queue.c (limits), common/pqueue.h.
 */
#include "lab.h"
#include "lab04.h"
#include "pqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CELL_MS 400.0           /* how long the parent sends in one cell */
#define SMALL 64
#define BIG (64 * 1024)

enum chan_kind { CH_PIPE, CH_SOCK, CH_MQ, CH_PQ };

struct chan {
    enum chan_kind kind;
    size_t size;                /* bytes per message */
    int fd[2];                  /* pipe / socketpair: [0] read, [1] write */
    mqd_t mq;
    struct lab_pqueue *pq;
    long *received;             /* shared with the child */
};

static char bench_mq_name[64];
static void rm_bench_mq(void *arg) { mq_unlink((const char *)arg); }

/* Read exactly n bytes from a stream (a pipe may return part of a 64 KiB block). 0 on EOF. */
static int read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

/* The consumer: one receive per message until the end marker, counting. */
static int bench_child(struct lab_proc *self)
{
    struct chan *c = self->arg;
    static char buf[BIG];
    long n = 0;
    size_t len;
    switch (c->kind) {
    case CH_PIPE:
    case CH_SOCK:
        close(c->fd[1]);
        while (read_full(c->fd[0], buf, c->size))       /* EOF is the end marker */
            n++;
        break;
    case CH_MQ:
        while (mq_receive(c->mq, buf, sizeof buf, NULL) > 0)   /* an empty message ends */
            n++;
        break;
    case CH_PQ:
        while (lab_pq_get(c->pq, buf, sizeof buf, &len, 10000) == 0 && len > 0)
            n++;
        break;
    }
    *c->received = n;
    return 0;
}

/* One cell: returns messages per second (and *mbps), or -1 when the kind cannot do it. */
static double bench_cell(enum chan_kind kind, size_t size, double *mbps)
{
    static char msg[BIG];
    memset(msg, 'x', size);
    struct chan c = { .kind = kind, .size = size };
    c.received = lab_shared_alloc(sizeof *c.received);
    int cleanup_id = -1;
    switch (kind) {
    case CH_PIPE:
        if (pipe2(c.fd, O_CLOEXEC) == -1)
            die("pipe2:");
        break;
    case CH_SOCK:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c.fd) == -1)   /* Pipe()'s kind */
            die("socketpair:");
        break;
    case CH_MQ: {
        snprintf(bench_mq_name, sizeof bench_mq_name, "/lab04_%d_bench", (int)getpid());
        struct mq_attr a = { .mq_maxmsg = 10, .mq_msgsize = (long)size };
        c.mq = mq_open(bench_mq_name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
        if (c.mq == (mqd_t)-1) {
            lab_shared_free(c.received, sizeof *c.received);
            return -errno;
        }
        cleanup_id = lab_cleanup_add(rm_bench_mq, bench_mq_name);
        break;
    }
    case CH_PQ:
        c.pq = lab_pq_create(1024, 1024 * 1024);
        if (c.pq == NULL)
            die("lab_pq_create:");
        break;
    }

    struct lab_proc child = LAB_PROC_INIT(bench_child, &c);
    double t0 = lab_now_ms();
    lab_proc_start_or_die(&child);
    if (kind == CH_PIPE || kind == CH_SOCK)
        close(c.fd[0]);
    long sent = 0;
    bool failed = false;
    while (!failed) {
        for (int k = 0; k < 64 && !failed; k++, sent++) {      /* look at the clock every 64 */
            switch (kind) {
            case CH_PIPE:
            case CH_SOCK: {
                size_t off = 0;
                while (off < size) {
                    ssize_t w = write(c.fd[1], msg + off, size - off);
                    if (w <= 0) {
                        failed = true;
                        break;
                    }
                    off += (size_t)w;
                }
                break;
            }
            case CH_MQ: failed = mq_send(c.mq, msg, size, 0) != 0; break;
            case CH_PQ: failed = lab_pq_put(c.pq, msg, size, 10000) != 0; break;
            }
        }
        if (lab_elapsed_ms(t0) >= CELL_MS)
            break;
    }
    /* The end marker. */
    switch (kind) {
    case CH_PIPE:
    case CH_SOCK: close(c.fd[1]); break;
    case CH_MQ: mq_send(c.mq, "", 0, 0); break;
    case CH_PQ: lab_pq_put(c.pq, "", 0, 10000); break;
    }
    int code = lab_proc_join(&child);
    double ms = lab_elapsed_ms(t0);
    long got = *c.received;
    lab_shared_free(c.received, sizeof *c.received);
    if (kind == CH_MQ) {
        mq_close(c.mq);
        lab_cleanup_run(cleanup_id);
    }
    if (kind == CH_PQ)
        lab_pq_destroy(c.pq);
    if (failed || code != 0 || got != sent)
        die("bench: kind %d size %zu: sent %ld, received %ld", (int)kind, size, sent, got);
    *mbps = (double)sent * (double)size / ms / 1000.0;
    return (double)sent / ms * 1000.0;
}

int l04_bench(void)
{
    static const struct { enum chan_kind kind; const char *name; } rows[] = {
        { CH_PIPE, "pipe (os.pipe)" },
        { CH_SOCK, "socketpair (Pipe())" },
        { CH_MQ, "POSIX mq" },
        { CH_PQ, "process queue (shm)" },
    };
    printf("IPC, parent -> child, one send and one receive per message, %.1f s per cell\n", CELL_MS / 1000);
    printf("%-22s %16s %20s\n", "kind", "64 B msgs/s", "64 KiB MB/s");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double mb_small, mb_big;
        double small = bench_cell(rows[i].kind, SMALL, &mb_small);
        double big = bench_cell(rows[i].kind, BIG, &mb_big);
        char a[32], b[48];
        if (small < 0)
            snprintf(a, sizeof a, "n/a (%s)", lab_errno_name((int)-small));
        else
            snprintf(a, sizeof a, "%.2f M", small / 1e6);
        if (big < 0)
            snprintf(b, sizeof b, "n/a (%s)", -big == EINVAL ? "> msgsize_max" : lab_errno_name((int)-big));
        else
            snprintf(b, sizeof b, "%.0f", mb_big);
        printf("%-22s %16s %20s\n", rows[i].name, a, b);
    }
    printf("(report only: numbers vary with the machine and its load)\n");
    return 0;
}
