/* labs/04-ipc-queue/kinds.c - the notes' five IPC kinds, one payload through each, nothing left.
 *
 * The notes' chapter on IPC ("进程间通信方式") lists 无名管道, FIFO 命名管道, 消息队列, 信号量,
 * 共享内存.  Each part below sends the same payload "[42, None, 'hello']" from the parent to
 * another process (except the semaphore, which carries no data: "而不是用于存储进程间通信数据")
 * and then removes the kernel object and CHECKS that it is gone (a name that no longer opens:
 * ENOENT; an id that no longer exists: EINVAL).
 * Kernel objects outlive their processes ("进程终止时，消息队列及其内容并不会被删除"), so every
 * removal is also registered with lab_cleanup_add right after the creation: Ctrl-C in the middle
 * leaves nothing in /dev/shm, /dev/mqueue, ipcs or the temp directory either.
 *   pipe      pipe2, parent -> child (related processes only)
 *   fifo      mkfifo in $TMPDIR; the reader is this program run again by exec: an unrelated process
 *   posix_mq  mq_open /lab04_<pid>_mq; messages come out by priority, highest first
 *   sysv_msg  msgget; msgrcv by type takes the second message first: "不一定要以先进先出的次序读取"
 *   sem       sem_open /lab04_<pid>_sem: the child waits until the parent posts; no data
 *   shm       shm_open /lab04_<pid>_shm + mmap, guarded by two semaphores inside it (empty/full)
 * Python <-> C: os.pipe / os.mkfifo / multiprocessing.shared_memory / posix_ipc <-> the calls above.
 * Usage: build/lab04 kinds          (one RESULT line per kind: kind=... ok=1 removed=1)
 * Watch for: ENXIO when a FIFO has no reader yet, the type-1 message overtaking the type-2 one.
 * See also: queue.c (limits), pipe.c, common/cleanup.h.
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAYLOAD_LEN (sizeof L04_PAYLOAD - 1)

static bool payload_ok(const char *buf, ssize_t n)
{
    return n == (ssize_t)PAYLOAD_LEN && memcmp(buf, L04_PAYLOAD, PAYLOAD_LEN) == 0;
}

/* The pause between steps: long enough to watch (and to press Ctrl-C in the middle). */
#define KINDS_PAUSE_UNITS 0.3
static void kinds_pause(void) { lab_sleep(KINDS_PAUSE_UNITS); }

/* ==== pipe ==== */

static int pipe_reader(struct lab_proc *self)
{
    int *fds = self->arg;
    close(fds[1]);
    char buf[64];
    ssize_t n = read(fds[0], buf, sizeof buf);
    bool ok = payload_ok(buf, n);
    lab_say("  child %d: read(pipe) -> %.*s", (int)getpid(), n > 0 ? (int)n : 0, buf);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static bool kind_pipe(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1)
        die("pipe2:");
    printf("pipe: pipe2() -> fds %d (read) and %d (write); only related processes inherit them\n", fds[0], fds[1]);
    struct lab_proc p = LAB_PROC_INIT(pipe_reader, fds);
    lab_proc_start_or_die(&p);
    close(fds[0]);
    kinds_pause();
    bool wrote = write(fds[1], L04_PAYLOAD, PAYLOAD_LEN) == (ssize_t)PAYLOAD_LEN;
    close(fds[1]);
    int code = lab_proc_join(&p);
    /* A pipe has no name: it is gone when its last descriptor closes; ours are closed. */
    bool removed = fcntl(fds[0], F_GETFD) == -1 && errno == EBADF && fcntl(fds[1], F_GETFD) == -1;
    bool ok = wrote && code == 0;
    lab_result("kind=pipe ok=%d removed=%d", ok, removed);
    return ok && removed;
}

/* ==== FIFO ==== */

static char fifo_path[256];

/* The reader, in a process that shares nothing with us: this program, exec'd again.  It runs
 * before lab_main (no pace of its own), so the writer passes the bound: `seconds` real seconds. */
int l04_fifo_peer(const char *path, const char *seconds)
{
    /* Never outlive a broken run: SIGALRM ends a reader whose writer never came. */
    unsigned long bound = strtoul(seconds, NULL, 10);
    alarm(bound > 0 && bound < 100000 ? (unsigned)bound : 10);
    int fd = open(path, O_RDONLY);                    /* blocks until a writer opens */
    if (fd == -1) {
        dprintf(2, "fifo peer: open %s: %s\n", path, strerror(errno));
        return LAB_EXIT_BROKEN;
    }
    char buf[64];
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof buf && (r = read(fd, buf + n, sizeof buf - (size_t)n)) > 0)
        n += r;                                       /* until EOF: the writer closed */
    close(fd);
    /* The name only: the writer's mkfifo line shows the whole path, and a long TMPDIR would push
     * this line past 100 columns (and it is printed by a process that is not a lab run). */
    const char *base = strrchr(path, '/');
    lab_say("  fifo peer %d (exec'd, ppid %d): read(%s) -> %.*s", (int)getpid(), (int)getppid(),
            base ? base + 1 : path, (int)n, buf);
    return payload_ok(buf, n) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static int fifo_exec(struct lab_proc *self)
{
    const char *path = self->arg;
    char seconds[24];   /* the writer opens at once, then pauses before it writes */
    snprintf(seconds, sizeof seconds, "%.0f", ceil(lab_bound_ms(KINDS_PAUSE_UNITS) / 1000.0));
    char *argv[] = { (char *)lab_self_path(), L04_FIFO_PEER_FLAG, (char *)path, seconds, NULL };
    execv(lab_self_path(), argv);
    lab_say("  exec %s: %s", lab_self_path(), strerror(errno));
    return 127;
}

static bool kind_fifo(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fifo_path, sizeof fifo_path, "%s/lab04_%d_fifo", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (mkfifo(fifo_path, 0600) == -1)
        die("mkfifo %s:", fifo_path);
    int id = lab_cleanup_add(lab_cleanup_unlink, fifo_path);
    printf("fifo: mkfifo(%s): a name in the file system, any process may open it\n", fifo_path);

    /* No reader yet: a non-blocking open for writing fails with ENXIO (a blocking one would wait). */
    int fd = open(fifo_path, O_WRONLY | O_NONBLOCK);
    int enxio = fd == -1 && errno == ENXIO;
    printf("fifo: open(O_WRONLY|O_NONBLOCK) with no reader -> %s\n", fd == -1 ? lab_errno_name(errno) : "opened?");
    if (fd != -1)
        close(fd);

    struct lab_proc peer = LAB_PROC_INIT(fifo_exec, fifo_path);
    lab_proc_start_or_die(&peer);
    /* Wait (bounded) until the reader has the FIFO open, then write like a blocking writer. */
    double t0 = lab_now_ms();
    while ((fd = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1 && errno == ENXIO
           && lab_elapsed_ms(t0) < lab_bound_ms(0))
        lab_sleep_ms(1);
    bool wrote = false;
    if (fd != -1) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        kinds_pause();
        wrote = write(fd, L04_PAYLOAD, PAYLOAD_LEN) == (ssize_t)PAYLOAD_LEN;
        close(fd);                                    /* the reader sees EOF */
    } else {
        lab_proc_kill(&peer);   /* never opened within the bound: it would wait in open() forever */
    }
    int code = lab_proc_join(&peer);
    lab_cleanup_run(id);                              /* unlink */
    struct stat st;
    bool removed = stat(fifo_path, &st) == -1 && errno == ENOENT;
    bool ok = wrote && code == 0 && enxio;
    lab_result("kind=fifo ok=%d enxio_without_reader=%d unrelated=1 removed=%d", ok, enxio, removed);
    return ok && removed;
}

/* ==== POSIX message queue ==== */

static char mq_path[64];
static void rm_mq(void *arg) { mq_unlink((const char *)arg); }

static int mq_reader(struct lab_proc *self)
{
    (void)self;
    mqd_t mq = mq_open(mq_path, O_RDONLY);            /* by name, as an unrelated process would */
    if (mq == (mqd_t)-1)
        return LAB_EXIT_BROKEN;
    char buf[128], buf2[128];
    unsigned prio = 0, prio2 = 0;
    struct timespec dl = lab_deadline_realtime_ms(lab_bound_ms(0));   /* mq takes CLOCK_REALTIME only */
    ssize_t n = mq_timedreceive(mq, buf, sizeof buf, &prio, &dl);
    ssize_t n2 = mq_timedreceive(mq, buf2, sizeof buf2, &prio2, &dl);
    mq_close(mq);
    lab_say("  child %d: mq_receive -> prio %u: %.*s", (int)getpid(), prio, n > 0 ? (int)n : 0, buf);
    lab_say("  child %d: mq_receive -> prio %u: %.*s", (int)getpid(), prio2, n2 > 0 ? (int)n2 : 0, buf2);
    return payload_ok(buf, n) && prio == 9 && n2 > 0 && prio2 == 1 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static bool kind_posix_mq(void)
{
    snprintf(mq_path, sizeof mq_path, "/lab04_%d_mq", (int)getpid());
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 128 };
    mqd_t mq = mq_open(mq_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600, &attr);
    if (mq == (mqd_t)-1) {
        if (errno == ENOSYS) {
            printf("posix_mq: mq_open -> ENOSYS: this kernel has no POSIX message queues; skipped\n");
            lab_result("kind=posix_mq ok=skip removed=1");
            return true;                              /* a skip is not a failure */
        }
        die("mq_open %s:", mq_path);
    }
    int id = lab_cleanup_add(rm_mq, mq_path);
    printf("posix_mq: mq_open(%s): maxmsg=4 msgsize=128\n", mq_path);
    bool sent = mq_send(mq, "low priority, sent first", 24, 1) == 0
        && mq_send(mq, L04_PAYLOAD, PAYLOAD_LEN, 9) == 0;
    struct mq_attr now;
    mq_getattr(mq, &now);
    printf("posix_mq: sent prio 1 then prio 9; mq_curmsgs=%ld (an exact qsize)\n", (long)now.mq_curmsgs);
    kinds_pause();
    struct lab_proc p = LAB_PROC_INIT(mq_reader, NULL);
    lab_proc_start_or_die(&p);
    int code = lab_proc_join(&p);
    mq_close(mq);
    lab_cleanup_run(id);                              /* mq_unlink */
    bool removed = mq_open(mq_path, O_RDONLY) == (mqd_t)-1 && errno == ENOENT;
    bool ok = sent && now.mq_curmsgs == 2 && code == 0;
    lab_result("kind=posix_mq ok=%d priority_first=%d removed=%d", ok, code == 0, removed);
    return ok && removed;
}

/* ==== System V message queue ==== */

static int sysv_id = -1;
static void rm_sysv(void *arg) { msgctl(*(int *)arg, IPC_RMID, NULL); }

struct sysv_msg { long mtype; char mtext[64]; };

static int sysv_reader(struct lab_proc *self)
{
    (void)self;
    struct sysv_msg m1, m2;
    /* Type 1 first although type 2 was sent first: records are picked by type. */
    ssize_t n1 = msgrcv(sysv_id, &m1, sizeof m1.mtext, 1, IPC_NOWAIT);
    ssize_t n2 = msgrcv(sysv_id, &m2, sizeof m2.mtext, 0, IPC_NOWAIT);   /* 0: the oldest left */
    lab_say("  child %d: msgrcv(type=1) -> %.*s", (int)getpid(), n1 > 0 ? (int)n1 : 0, m1.mtext);
    lab_say("  child %d: msgrcv(type=0) -> %.*s", (int)getpid(), n2 > 0 ? (int)n2 : 0, m2.mtext);
    /* A reply that outlives its sender: the queue keeps it after this process is gone. */
    struct sysv_msg bye = { 3, "bye from a process that has exited" };
    if (msgsnd(sysv_id, &bye, strlen(bye.mtext), 0) == -1)
        return LAB_EXIT_BROKEN;
    return payload_ok(m1.mtext, n1) && n2 > 0 && m2.mtype == 2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static bool kind_sysv_msg(void)
{
    sysv_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (sysv_id == -1)
        die("msgget:");
    int id = lab_cleanup_add(rm_sysv, &sysv_id);
    printf("sysv_msg: msgget(IPC_PRIVATE) -> id %d (no name: ipcs -q lists it)\n", sysv_id);
    struct sysv_msg a = { 2, "type 2, sent first" }, b = { 1, "" };
    memcpy(b.mtext, L04_PAYLOAD, PAYLOAD_LEN);
    bool sent = msgsnd(sysv_id, &a, strlen(a.mtext), 0) == 0 && msgsnd(sysv_id, &b, PAYLOAD_LEN, 0) == 0;
    printf("sysv_msg: msgsnd type 2 (\"%s\"), then type 1 (the payload)\n", a.mtext);
    kinds_pause();
    struct lab_proc p = LAB_PROC_INIT(sysv_reader, NULL);
    lab_proc_start_or_die(&p);
    int code = lab_proc_join(&p);
    struct sysv_msg c;
    ssize_t n = msgrcv(sysv_id, &c, sizeof c.mtext, 3, IPC_NOWAIT);
    bool outlived = n > 0;
    printf("sysv_msg: after the child exited: msgrcv(type=3) -> %.*s\n", n > 0 ? (int)n : 0, c.mtext);
    int old = sysv_id;
    lab_cleanup_run(id);                              /* IPC_RMID */
    struct msqid_ds ds;
    bool removed = msgctl(old, IPC_STAT, &ds) == -1 && (errno == EINVAL || errno == EIDRM);
    bool ok = sent && code == 0 && outlived;
    lab_result("kind=sysv_msg ok=%d type_selective=%d outlived_sender=%d removed=%d", ok, code == 0,
               outlived, removed);
    return ok && removed;
}

/* ==== semaphore ==== */

static char sem_path[64];
static void rm_sem(void *arg) { sem_unlink((const char *)arg); }

static int sem_waiter(struct lab_proc *self)
{
    int ready_fd = *(int *)self->arg;
    sem_t *s = sem_open(sem_path, 0);
    if (s == SEM_FAILED)
        return LAB_EXIT_BROKEN;
    double t0 = lab_now_ms();
    /* Tell the parent we are about to wait: its 0.5-unit pause starts after our clock did. */
    if (write(ready_fd, "r", 1) != 1)
        return LAB_EXIT_BROKEN;
    struct timespec dl = lab_deadline_ms(lab_bound_ms(0.5));   /* the parent posts after 0.5 units */
    int rc;
    while ((rc = sem_clockwait(s, CLOCK_MONOTONIC, &dl)) == -1 && errno == EINTR)
        ;
    double waited = lab_elapsed_units(t0);
    sem_close(s);
    lab_say("  child %d: sem_wait returned after %.1f units, when the parent posted (no data came with it)",
            (int)getpid(), waited);
    return rc == 0 && waited >= 0.5 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static bool kind_sem(void)
{
    snprintf(sem_path, sizeof sem_path, "/lab04_%d_sem", (int)getpid());
    sem_t *s = sem_open(sem_path, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED)
        die("sem_open %s:", sem_path);
    int id = lab_cleanup_add(rm_sem, sem_path);
    printf("sem: sem_open(%s, value 0) (it lives in /dev/shm/sem.%s)\n", sem_path, sem_path + 1);
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) == -1)
        die("pipe2:");
    struct lab_proc p = LAB_PROC_INIT(sem_waiter, &ready[1]);
    lab_proc_start_or_die(&p);
    char byte;
    struct pollfd pf = { .fd = ready[0], .events = POLLIN };
    bool child_ready = poll(&pf, 1, (int)lab_bound_ms(0)) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    close(ready[1]);
    lab_sleep(0.5);
    printf("sem: parent sem_post after 0.5 units\n");
    bool posted = sem_post(s) == 0;
    int code = lab_proc_join(&p);
    sem_close(s);
    lab_cleanup_run(id);                              /* sem_unlink */
    bool removed = sem_open(sem_path, 0) == SEM_FAILED && errno == ENOENT;
    bool ok = child_ready && posted && code == 0;
    lab_result("kind=sem ok=%d carries_data=0 removed=%d", ok, removed);
    return ok && removed;
}

/* ==== shared memory guarded by semaphores ==== */

static char shm_path[64];
static void rm_shm(void *arg) { shm_unlink((const char *)arg); }

/* The shared box: a one-slot bounded buffer (lab 5's producer/consumer in miniature). */
struct shm_box {
    sem_t empty;        /* 1 when the slot may be written */
    sem_t full;         /* 1 when the slot holds a message */
    size_t len;         /* guarded by the semaphores */
    char data[256];
};

static int shm_reader(struct lab_proc *self)
{
    (void)self;
    int fd = shm_open(shm_path, O_RDWR, 0);           /* by name: its own mapping, not the parent's */
    if (fd == -1)
        return LAB_EXIT_BROKEN;
    struct shm_box *box = mmap(NULL, sizeof *box, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (box == MAP_FAILED)
        return LAB_EXIT_BROKEN;
    struct timespec dl = lab_deadline_ms(lab_bound_ms(KINDS_PAUSE_UNITS));   /* the parent pauses first */
    int rc;
    while ((rc = sem_clockwait(&box->full, CLOCK_MONOTONIC, &dl)) == -1 && errno == EINTR)
        ;
    bool ok = rc == 0 && payload_ok(box->data, (ssize_t)box->len);
    lab_say("  child %d: sem_wait(full); read shm -> %.*s; sem_post(empty)", (int)getpid(),
            rc == 0 ? (int)box->len : 0, box->data);
    if (rc == 0)
        sem_post(&box->empty);
    munmap(box, sizeof *box);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

static bool kind_shm(void)
{
    snprintf(shm_path, sizeof shm_path, "/lab04_%d_shm", (int)getpid());
    int fd = shm_open(shm_path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd == -1)
        die("shm_open %s:", shm_path);
    int id = lab_cleanup_add(rm_shm, shm_path);
    if (ftruncate(fd, sizeof(struct shm_box)) == -1)
        die("ftruncate:");
    struct shm_box *box = mmap(NULL, sizeof *box, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (box == MAP_FAILED)
        die("mmap:");
    if (sem_init(&box->empty, 1, 1) == -1 || sem_init(&box->full, 1, 0) == -1)   /* 1: process-shared */
        die("sem_init:");
    printf("shm: shm_open(%s) + ftruncate + mmap; semaphores empty=1 full=0 inside it\n", shm_path);
    struct lab_proc p = LAB_PROC_INIT(shm_reader, NULL);
    lab_proc_start_or_die(&p);
    kinds_pause();
    Sem_wait(&box->empty);
    memcpy(box->data, L04_PAYLOAD, PAYLOAD_LEN);
    box->len = PAYLOAD_LEN;
    Sem_post(&box->full);
    printf("shm: parent sem_wait(empty); wrote the payload; sem_post(full)\n");
    int code = lab_proc_join(&p);
    /* The reader gave the slot back: empty is 1 again. */
    int empty_val = -1;
    sem_getvalue(&box->empty, &empty_val);
    sem_destroy(&box->empty);
    sem_destroy(&box->full);
    munmap(box, sizeof *box);
    lab_cleanup_run(id);                              /* shm_unlink */
    bool removed = shm_open(shm_path, O_RDONLY, 0) == -1 && errno == ENOENT;
    bool ok = code == 0 && empty_val == 1;
    lab_result("kind=shm ok=%d guarded=%d removed=%d", ok, empty_val == 1, removed);
    return ok && removed;
}

/* ==== The scenario ==== */

int run_kinds(int mode)
{
    (void)mode;
    bool (*const kinds[])(void) = { kind_pipe, kind_fifo, kind_posix_mq, kind_sysv_msg, kind_sem, kind_shm };
    int good = 0, n = (int)(sizeof kinds / sizeof kinds[0]);
    for (int i = 0; i < n; i++)
        good += kinds[i]();                           /* each prints its own RESULT line */
    return good == n ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
