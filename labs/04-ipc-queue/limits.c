/* labs/04-ipc-queue/limits.c - what each kind of queue does with a message that is too big.
 *
 * Python's Queue() takes an object of any size (it pickles it into a pipe).  In C every queue has
 * a size: a POSIX mq's messages are capped by /proc/sys/fs/mqueue/msgsize_max and its length by
 * msg_max, a System V msgsnd by msgmax, and the process queue (common/pqueue.c) by its ring.  This scenario sends one byte too many to each and
 * prints what comes back: EMSGSIZE, EINVAL, or (for the process queue) EMSGSIZE at once, never a
 * wait that could not end.  Every queue made here is removed, and the removal checked.
 * Python <-> C: Queue() (unbounded) <-> lab_pq_create(n, ring bytes): bounded in items and bytes;
 *   posix_ipc.MessageQueue <-> mq_open; sysv_ipc.MessageQueue <-> msgget.
 * Usage: build/lab04 limits
 * Watch for: mq_send -> EMSGSIZE, msgsnd -> EINVAL, the process queue's refusal and the message a
 *   too-small buffer leaves queued.
 * See also: queue.c (the queue's other edge cases), kinds.c (the kinds themselves), common/pqueue.h.
 */
#include "lab.h"
#include "lab04.h"
#include "pqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

static const char *yes(bool b) { return b ? "True" : "False"; }

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

int run_limits(int mode)
{
    (void)mode;
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
        mq_over = lab_errno_name(rc);
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
        printf("POSIX mq with mq_maxmsg=%ld: mq_open -> %s (%s)\n", many.mq_maxmsg, lab_errno_name(errno),
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
        sysv_over = lab_errno_name(rc);
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
           pq_max + 1, lab_errno_name(pq_over));
    int pq_fit = lab_pq_put(q, blob, pq_max, 0);
    size_t need = 0;
    char small[16];
    int pq_small = lab_pq_get(q, small, sizeof small, &need, 0);
    bool kept = lab_pq_qsize(q) == 1;
    printf("put(%zu bytes) -> %s; get into a %zu-byte buffer -> %s, needs %zu, still queued: %s\n", pq_max,
           lab_errno_name(pq_fit), sizeof small, lab_errno_name(pq_small), need, yes(kept));
    lab_pq_destroy(q);

    bool ok = removed && pq_over == EMSGSIZE && pq_fit == 0 && pq_small == EMSGSIZE && kept && need == pq_max
        && (strcmp(mq_over, "EMSGSIZE") == 0 || strcmp(mq_over, "ENOSYS") == 0)
        && (strcmp(sysv_over, "EINVAL") == 0 || strcmp(sysv_over, "ENOSYS") == 0);
    lab_result("mq_msgsize=%ld mq_oversize=%s sysv_oversize=%s pq_max_message=%zu pq_oversize=%s "
               "pq_small_buffer=%s pq_kept=%d removed=%d", msgsize, mq_over, sysv_over, pq_max,
               lab_errno_name(pq_over), lab_errno_name(pq_small), kept, removed);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
