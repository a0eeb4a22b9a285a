/* tickets.c - the ticket grab (模拟抢票, the notes' process chapter): buyer processes, one data
 * file, one lock.
 *
 * A data file holds {"ticket_num": 1}.  Nine buyer processes each search (read and print the
 * count), then buy: read the count, wait for the network (sleep), check that a ticket is left,
 * write the count minus one.  Without a lock every buyer reads 1 before anyone writes 0, so all
 * nine "buy" the one ticket: oversold by 8.  (The sleep opens the window; a process-shared
 * barrier after it makes sure every buyer has read before any writes, so it happens on every
 * run.)  With a lock around buy() the buyers pass one at a time and exactly one succeeds.
 *
 * The lock comes in the forms a C programmer meets, one mode each:
 *   lock   a pthread mutex with PTHREAD_PROCESS_SHARED in MAP_SHARED memory made before fork
 *          (robust: a buyer that dies holding it cannot block the others);
 *   sem    a named POSIX semaphore /lab03_<pid>_tickets at 1: what multiprocessing.Lock is;
 *   fcntl  an fcntl(F_SETLKW) write lock on the bytes of the ticket record (行锁, the row lock);
 *   flock  flock(LOCK_EX) on the whole file (表锁, the table lock).
 * Python ↔ C: Process(target=run, args=(i, mutex)) ↔ fork; json.load/json.dump ↔ read/parse
 * and pwrite; time.sleep(random.randint(1, 3)) ↔ lab_sleep(0.1 * randint(1, 3)) (a tenth, so the
 * demo stays short); mutex.acquire()/release() ↔ the mode's lock and unlock.
 * Usage: lab03 tickets [--mode=nolock|lock|sem|fcntl|flock] [--users=9] [--tickets=1]
 * What to watch for: nine "买票成功" and oversold=8 without the lock; one with any lock.
 * The data file lives in a private mkdtemp directory ($TMPDIR or /tmp, lab03XXXXXX), removed at
 * the end and on Ctrl-C, with the semaphore.
 * See also: shared.c (the robust mutex), README.md (row vs table lock, fcntl pitfalls).
 */
#include "lab.h"
#include "lab03.h"

#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The record's bytes: the row that the fcntl lock covers.  A file of many rows would lock row k
 * at k * TICKETS_ROW_BYTES and leave the others free. */
#define TICKETS_ROW_BYTES 64
/* A buyer's exit status: bought, or found none left.  Anything else is a failure of the buyer. */
#define BUYER_BOUGHT 0
#define BUYER_SOLD_OUT 4

/* Shared by the parent and every buyer: an anonymous MAP_SHARED mapping made before fork. */
struct tickets_shared {
    pthread_mutex_t mutex;          /* --mode=lock */
    pthread_barrier_t searched;     /* every buyer has searched before anyone buys */
    pthread_barrier_t all_read;     /* nolock: every buyer has read before any writes */
};

static struct {
    enum tickets_mode kind;
    struct tickets_shared *sh;
    char dir[PATH_MAX / 2];
    char path[PATH_MAX];
    char sem_name[64];
    struct lab_timeline *tl;        /* who waited for the lock and who was buying; in shared memory */
} tk;

/* The timeline's states: a buyer waits for the lock, then reads, sleeps and writes (buys). */
enum { TK_WAITS, TK_BUYS };
static const struct lab_tl_state tk_states[] = {
    [TK_WAITS] = { '.', LAB_RED, "waits for the lock" },
    [TK_BUYS] = { '#', LAB_GREEN, "buys (read, sleep, write)" },
    { 0 },
};

/* ==== The data file ==== */

/* json.load + dic.get('ticket_num'): the integer after "ticket_num":, or -1 if there is none. */
static long long tickets_parse(const char *buf)
{
    const char *p = strstr(buf, "\"ticket_num\"");
    if (p == NULL || (p = strchr(p, ':')) == NULL)
        return -1;
    char *end;
    long long n = strtoll(p + 1, &end, 10);
    return end == p + 1 ? -1 : n;
}

/* Read the count through fd (from offset 0). */
static long long tickets_read(int fd)
{
    char buf[TICKETS_ROW_BYTES + 1];
    ssize_t n = pread(fd, buf, TICKETS_ROW_BYTES, 0);
    if (n < 0)
        die("pread %s:", tk.path);
    buf[n] = '\0';
    long long v = tickets_parse(buf);
    if (v < 0)
        die("%s: no ticket_num in '%s'", tk.path, buf);
    return v;
}

/* json.dump: rewrite the record in place (same inode, so file locks keep meaning something).
 * The new text is written over the old, then the file is cut to its length: a reader never sees
 * an empty file, at worst a stray '}' after the number. */
static void tickets_write(int fd, long long n)
{
    char buf[TICKETS_ROW_BYTES];
    int len = snprintf(buf, sizeof buf, "{\"ticket_num\": %lld}", n);
    if (pwrite(fd, buf, (size_t)len, 0) != len)
        die("pwrite %s:", tk.path);
    if (ftruncate(fd, len) == -1)
        die("ftruncate %s:", tk.path);
}

static int tickets_open(int flags)
{
    int fd = open(tk.path, flags | O_CLOEXEC);
    if (fd == -1)
        die("open %s:", tk.path);
    return fd;
}

/* ==== The four locks ==== */

/* Take the mode's lock.  fd is this buyer's own descriptor of the data file (flock locks belong
 * to the open file description, so each buyer must open the file itself). */
static void tickets_lock(int fd, sem_t *sem)
{
    switch (tk.kind) {
    case TICKETS_NOLOCK:
        break;
    case TICKETS_MUTEX: {
        /* SOLUTION BEGIN(tickets-mutex): lock tk.sh->mutex (robust: on EOWNERDEAD mark it consistent and go on) */
        int rc = pthread_mutex_lock(&tk.sh->mutex);
        if (rc == EOWNERDEAD) {             /* a buyer died holding it: the file is whole, go on */
            lab_say("buyer %d: the previous owner died holding the lock; marking it consistent", (int)getpid());
            PT_CHECK(pthread_mutex_consistent(&tk.sh->mutex));
        } else if (rc != 0) {
            die_en(rc, "pthread_mutex_lock");
        }
        /* SOLUTION END */
        break;
    }
    case TICKETS_SEM:
        Sem_wait(sem);
        break;
    case TICKETS_FCNTL: {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = TICKETS_ROW_BYTES };
        while (fcntl(fd, F_SETLKW, &fl) == -1)
            if (errno != EINTR)
                die("fcntl(F_SETLKW):");
        break;
    }
    case TICKETS_FLOCK:
        while (flock(fd, LOCK_EX) == -1)
            if (errno != EINTR)
                die("flock(LOCK_EX):");
        break;
    }
}

static void tickets_unlock(int fd, sem_t *sem)
{
    switch (tk.kind) {
    case TICKETS_NOLOCK:
        break;
    case TICKETS_MUTEX:
        /* SOLUTION BEGIN(tickets-mutex): unlock tk.sh->mutex */
        Pthread_mutex_unlock(&tk.sh->mutex);
        /* SOLUTION END */
        break;
    case TICKETS_SEM:
        Sem_post(sem);
        break;
    case TICKETS_FCNTL: {
        struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = TICKETS_ROW_BYTES };
        SYS_CHECK(fcntl(fd, F_SETLK, &fl));
        break;
    }
    case TICKETS_FLOCK:
        SYS_CHECK(flock(fd, LOCK_UN));
        break;
    }
}

/* ==== A buyer (one process) ==== */

/* search(i): read the file and print the count, without any lock (as in the notes). */
static void tickets_search(int i)
{
    int fd = tickets_open(O_RDONLY);
    long long n = tickets_read(fd);
    close(fd);
    lab_say("用户%d (pid %d) 查询余票: %lld", i, (int)getpid(), n);
}

/* buy(i): read, network delay, check, write.  Caller holds the lock (except in nolock). */
static int tickets_buy(int i, int fd)
{
    long long n = tickets_read(fd);                     /* 查: read the count */
    lab_trace_instant("ticket", "read %lld", n);
    lab_sleep(0.1 * (double)lab_randint(1, 3));         /* 模拟网络延迟 */
    if (tk.kind == TICKETS_NOLOCK)
        Pthread_barrier_wait(&tk.sh->all_read);         /* forcing: everyone has read before anyone writes */
    if (n > 0) {                                        /* 判断当前是否有余票 */
        tickets_write(fd, n - 1);                       /* 写入数据库 */
        lab_trace_instant("ticket", "write %lld", n - 1);
        lab_say("用户%d (pid %d) 买票成功 (read %lld, wrote %lld)", i, (int)getpid(), n, n - 1);
        return BUYER_BOUGHT;
    }
    lab_say("用户%d (pid %d) 买票失败 (read %lld)", i, (int)getpid(), n);
    return BUYER_SOLD_OUT;
}

/* run(i, mutex): search, then lock; buy; unlock. */
static int tickets_user(struct lab_proc *self)
{
    int i = (int)(intptr_t)self->arg;
    sem_t *sem = NULL;
    if (tk.kind == TICKETS_SEM) {
        /* A named semaphore is found by its name, by any process that knows it. */
        sem = sem_open(tk.sem_name, 0);
        if (sem == SEM_FAILED)
            die("sem_open %s:", tk.sem_name);
    }
    tickets_search(i);
    Pthread_barrier_wait(&tk.sh->searched);             /* every search before any buy */
    int fd = tickets_open(O_RDWR);                      /* this buyer's own open file description */
    if (tk.tl) {
        char row[32];
        snprintf(row, sizeof row, "buyer %d (%d)", i, (int)getpid());
        lab_timeline_row(tk.tl, (size_t)i - 1, row);
        if (tk.kind != TICKETS_NOLOCK)
            lab_timeline_mark(tk.tl, (size_t)i - 1, TK_WAITS);
    }
    lab_trace_begin("lock", "%s", tk.kind == TICKETS_NOLOCK ? "no lock to wait for" : "wait lock");
    tickets_lock(fd, sem);                              /* mutex.acquire() */
    lab_trace_end();
    if (tk.tl)
        lab_timeline_mark(tk.tl, (size_t)i - 1, TK_BUYS);
    lab_trace_begin("lock", "%s", tk.kind == TICKETS_NOLOCK ? "buy without the lock" : "hold lock: buy");
    int st = tickets_buy(i, fd);
    lab_trace_end();
    if (tk.tl)
        lab_timeline_mark(tk.tl, (size_t)i - 1, LAB_TL_OFF);
    tickets_unlock(fd, sem);                            /* mutex.release() */
    close(fd);
    if (sem)
        sem_close(sem);
    return st;
}

/* ==== The scenario ==== */

static void tickets_sem_unlink(void *name) { sem_unlink((const char *)name); }

static struct tickets_shared *tickets_shared_new(unsigned users)
{
    struct tickets_shared *sh = lab_shared_alloc(sizeof *sh);
    lab_mutex_init(&sh->mutex, LAB_MUTEX_PSHARED | LAB_MUTEX_ROBUST);
    pthread_barrierattr_t ba;
    PT_CHECK(pthread_barrierattr_init(&ba));
    PT_CHECK(pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED));
    Pthread_barrier_init(&sh->searched, &ba, users);
    Pthread_barrier_init(&sh->all_read, &ba, users);
    PT_CHECK(pthread_barrierattr_destroy(&ba));
    return sh;
}

static void tickets_shared_free(struct tickets_shared *sh)
{
    pthread_mutex_destroy(&sh->mutex);
    pthread_barrier_destroy(&sh->searched);
    pthread_barrier_destroy(&sh->all_read);
    lab_shared_free(sh, sizeof *sh);
}

int run_tickets(int mode)
{
    const int users = (int)lab_opt("users");
    const long long initial = lab_opt("tickets");
    static const char *const what[] = {
        "no lock", "a process-shared pthread mutex (robust) in shared memory",
        "a named POSIX semaphore (multiprocessing.Lock)", "an fcntl write lock on the ticket record (row lock)",
        "flock on the whole file (table lock)",
    };
    tk.kind = (enum tickets_mode)mode;

    /* The private directory and the data file, removed at the end and on Ctrl-C. */
    int dir_id = lab_private_dir(tk.dir, sizeof tk.dir, "lab03");
    snprintf(tk.path, sizeof tk.path, "%s/data", tk.dir);
    int fd = open(tk.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1)
        die("open %s:", tk.path);
    int file_id = lab_cleanup_add(lab_cleanup_unlink, tk.path);
    tickets_write(fd, initial);

    int sem_id = -1;
    sem_t *sem = NULL;
    if (tk.kind == TICKETS_SEM) {
        snprintf(tk.sem_name, sizeof tk.sem_name, "/lab03_%d_tickets", (int)getpid());
        sem = sem_open(tk.sem_name, O_CREAT | O_EXCL, 0600, 1);
        if (sem == SEM_FAILED)
            die("sem_open %s:", tk.sem_name);
        sem_id = lab_cleanup_add(tickets_sem_unlink, tk.sem_name);
    }
    tk.sh = tickets_shared_new((unsigned)users);

    printf("data file %s: {\"ticket_num\": %lld}; %d buyer processes; lock: %s\n", tk.path, initial, users, what[tk.kind]);
    if (sem)   /* its name, so that a check can look for exactly this run's semaphore afterwards */
        printf("lock = sem_open(\"%s\", O_CREAT | O_EXCL, 0600, 1): in /dev/shm until the end\n", tk.sem_name);
    /* The picture of who held the lock (up to 24 buyers, so it fits a screen). */
    tk.tl = users <= 24 ? lab_timeline_new((size_t)users, (size_t)users * 3) : NULL;
    struct lab_proc *buyers = xcalloc((size_t)users, sizeof *buyers);
    for (int i = 0; i < users; i++) {
        buyers[i] = (struct lab_proc)LAB_PROC_INIT(tickets_user, (intptr_t)(i + 1));
        lab_proc_start_or_die(&buyers[i]);
    }

    /* Wait for every buyer, with a bound: nothing here may hang (the lock modes take about
     * users * 0.3 units; a stuck buyer is killed and the run ends with status 3). */
    double limit_ms = lab_bound_ms(0.3 * users + 5);
    double t0 = lab_now_ms();
    int sold = 0, failed = 0, broken = 0, stuck = 0;
    for (int i = 0; i < users; i++) {
        double left = limit_ms - lab_elapsed_ms(t0);
        if (!lab_proc_join_ms(&buyers[i], left > 0 ? left : 0)) {
            stuck = 1;
            break;
        }
        int code = lab_proc_exitcode(&buyers[i]);
        if (code == BUYER_BOUGHT)
            sold++;
        else if (code == BUYER_SOLD_OUT)
            failed++;
        else
            broken++;
    }
    if (stuck) {
        lab_say("WATCHDOG: buyers still running after %.0f ms: killing them", limit_ms);
        for (int i = 0; i < users; i++)
            lab_proc_kill(&buyers[i]);
        for (int i = 0; i < users; i++)
            lab_proc_join(&buyers[i]);
    }
    free(buyers);
    if (tk.tl) {   /* without a lock all buy at once; with one, one at a time: the peak row */
        lab_timeline_draw(tk.tl, tk_states, TK_BUYS);
        lab_timeline_free(tk.tl);
        tk.tl = NULL;
    }

    long long final = tickets_read(fd);
    close(fd);
    long long oversold = sold > initial ? sold - initial : 0;
    long long lost = sold - (initial - final);          /* sales the file does not show */
    printf("the file now says {\"ticket_num\": %lld}: %d bought, %d found none left, %lld oversold%s\n", final, sold,
           failed, oversold, lost ? ", and some writes overwrote others" : "");
    lab_result("users=%d initial=%lld sold=%d failed=%d final=%lld oversold=%lld lost=%lld",
               users, initial, sold, failed, final, oversold, lost);

    tickets_shared_free(tk.sh);
    if (sem) {
        sem_close(sem);
        lab_cleanup_run(sem_id);
    }
    lab_cleanup_run(file_id);
    lab_cleanup_run(dir_id);
    if (stuck)
        return LAB_EXIT_WATCHDOG;
    if (broken)
        return LAB_EXIT_BROKEN;
    if (tk.kind == TICKETS_NOLOCK)
        return LAB_EXIT_OK;                         /* the oversell is the lesson */
    long long want = users < initial ? users : initial;
    return sold == want && failed == users - want && final == initial - want ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
