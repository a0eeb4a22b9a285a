/* labs/04-ipc-queue/manager.c - Manager(): a server process that owns a dict and a list.
 *
 * The notes' summary: `m = Manager(); d = m.dict({'name': 'lxc'})` with "manager可以在进程中将数据
 * 共享，但是不安全，还是要加锁".  A Manager is a process of its own: it holds the real dict and list,
 * and every other process holds a *proxy* that sends one request per operation over a socket and
 * waits for the answer.  Each request is served whole, so one call (`l.append(x)`) is atomic; but
 * `d['count'] += 1` is two calls, `__getitem__` then `__setitem__`, and another process can get
 * between them: an update is lost.  A lock around the pair (`with lock: d['count'] += 1`) cures it.
 *
 * Here: the manager is a child process serving a Unix socket (SOCK_SEQPACKET: one message per
 * request) in a private temp directory (mode 0700, as Python's pymp-XXXX directory); 10 worker
 * processes each do `d['count'] += 1` (GET, then SET) and `l.append(name)`.  The window between
 * GET and SET is held open the same way in both modes (a bounded rendezvous of the workers):
 *   nolock  every worker GETs 0 before any SETs: count = 1, 9 updates lost, on every run;
 *   lock    a process-shared mutex (multiprocessing.Lock) around GET+SET: only the holder is in
 *           the window (the rendezvous gives up after a short bound), count = 10.
 * The list has 10 items in both modes.  At the end the parent asks the manager to shut down: it
 * unlinks its socket and exits 0; the lab checks that the socket file is gone.
 *
 * Python <-> C: Manager() <-> a forked server process + socket(AF_UNIX, SOCK_SEQPACKET) + bind;
 *   a proxy call <-> send(request) + recv(reply); manager.shutdown() <-> the SHUTDOWN request.
 * Usage: build/lab04 manager [--mode=nolock|lock]
 * What to watch for: count=1 and max_in_window=10 without the lock, count=10 and max_in_window=1
 *   with it; list_len=10 and socket_left=0 in both.
 * See also: queue.c (the queue the notes prefer), pipe.c (SOCK_SEQPACKET), ../03-mutex-ticket.
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MGR_WORKERS 10
#define MGR_CLIENTS 16          /* connections the manager serves at once */
#define MGR_KEYS 4

/* ==== What the processes share (one MAP_SHARED mapping made before the forks) ==== */

/* A bounded rendezvous: wait until `n` processes arrived, or until the deadline. */
struct meet {
    pthread_mutex_t m;
    pthread_cond_t c;
    int arrived;
};

struct mgr_shared {
    pthread_mutex_t lock;       /* lock = multiprocessing.Lock() (lock mode) */
    struct meet ready;          /* the manager listens: parent + manager */
    struct meet start;          /* every worker has connected */
    struct meet read;           /* every worker has done its GET (nolock: forced; lock: cannot) */
    int in_window;              /* workers between their GET and their SET; guarded by ready.m */
    int max_in_window;          /* guarded by ready.m */
    int lock_timeouts;          /* a worker could not get the lock within the bound */
};

static void meet_init(struct meet *r)
{
    lab_mutex_init(&r->m, LAB_MUTEX_PSHARED);
    lab_cond_init(&r->c, LAB_COND_PSHARED);
}

/* Arrive and wait (at most ms) for n arrivals in all; true if all n came. */
static bool meet_wait(struct meet *r, int n, double ms)
{
    struct timespec dl = lab_deadline_ms(ms);
    Pthread_mutex_lock(&r->m);
    r->arrived++;
    pthread_cond_broadcast(&r->c);
    int rc = 0;
    while (r->arrived < n && rc == 0)
        rc = pthread_cond_timedwait(&r->c, &r->m, &dl);
    bool all = r->arrived >= n;
    Pthread_mutex_unlock(&r->m);
    return all;
}

static struct mgr_shared *sh;
static char sock_path[sizeof ((struct sockaddr_un *)0)->sun_path];

/* ==== The manager process: the real dict and list, served one request at a time ==== */

struct mgr_data {
    char key[MGR_KEYS][16], val[MGR_KEYS][32];
    int nkeys;
    char list[MGR_WORKERS * 2][24];
    int nlist;
};

static char *dict_slot(struct mgr_data *d, const char *key, bool create)
{
    for (int i = 0; i < d->nkeys; i++)
        if (strcmp(d->key[i], key) == 0)
            return d->val[i];
    if (!create || d->nkeys == MGR_KEYS)
        return NULL;
    snprintf(d->key[d->nkeys], sizeof d->key[0], "%s", key);
    return d->val[d->nkeys++];
}

/* One request -> one reply.  Returns false for SHUTDOWN. */
static bool mgr_handle(struct mgr_data *d, char *req, char *reply, size_t len)
{
    char *arg = strchr(req, ' '), *arg2 = NULL;
    if (arg) {
        *arg++ = '\0';
        arg2 = strchr(arg, ' ');
        if (arg2)
            *arg2++ = '\0';
    }
    if (strcmp(req, "GET") == 0 && arg) {                       /* d[key] */
        const char *v = dict_slot(d, arg, false);
        snprintf(reply, len, "%s", v ? v : "KeyError");
    } else if (strcmp(req, "SET") == 0 && arg && arg2) {        /* d[key] = value */
        char *v = dict_slot(d, arg, true);
        snprintf(reply, len, "%s", v ? "OK" : "MemoryError");
        if (v)
            snprintf(v, sizeof d->val[0], "%s", arg2);
    } else if (strcmp(req, "APPEND") == 0 && arg && d->nlist < MGR_WORKERS * 2) {   /* l.append(x) */
        snprintf(d->list[d->nlist++], sizeof d->list[0], "%s", arg);
        snprintf(reply, len, "OK");
    } else if (strcmp(req, "LEN") == 0) {                        /* len(l) */
        snprintf(reply, len, "%d", d->nlist);
    } else if (strcmp(req, "SHUTDOWN") == 0) {
        snprintf(reply, len, "OK");
        return false;
    } else {
        snprintf(reply, len, "ValueError");
    }
    return true;
}

static int manager_main(struct lab_proc *self)
{
    (void)self;
    struct mgr_data d = { .nkeys = 0 };
    snprintf(dict_slot(&d, "name", true), sizeof d.val[0], "lxc");     /* m.dict({'name': 'lxc'}) */
    int ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, MGR_CLIENTS) < 0)
        die("manager: socket/bind/listen %s:", sock_path);
    meet_wait(&sh->ready, 2, lab_bound_ms(0));                        /* tell the parent: listening */

    struct pollfd pf[1 + MGR_CLIENTS];
    int n = 1;
    pf[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
    bool running = true;
    while (running) {
        int r = poll(pf, (nfds_t)n, (int)lab_bound_ms(0));             /* idle for the bound: give up */
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (int i = n - 1; i >= 1 && running; i--) {
            if (!pf[i].revents)
                continue;
            char req[96], reply[96];
            ssize_t got = recv(pf[i].fd, req, sizeof req - 1, 0);
            if (got <= 0) {                                           /* the proxy closed */
                close(pf[i].fd);
                pf[i] = pf[--n];
                continue;
            }
            req[got] = '\0';
            running = mgr_handle(&d, req, reply, sizeof reply);
            if (send(pf[i].fd, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
                close(pf[i].fd);
                pf[i] = pf[--n];
            }
        }
        if (running && (pf[0].revents & POLLIN) && n < 1 + MGR_CLIENTS) {
            int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0)
                pf[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
        }
    }
    for (int i = 0; i < n; i++)
        close(pf[i].fd);
    unlink(sock_path);                                                /* the manager removes its socket */
    return running ? LAB_EXIT_BROKEN : LAB_EXIT_OK;                   /* 0 only after SHUTDOWN */
}

/* ==== The proxies ==== */

static int proxy_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("proxy: connect %s:", sock_path);
    return fd;
}

/* One proxy call: send the request, wait (bounded) for the reply. */
static void proxy_call(int fd, const char *req, char *reply, size_t len)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t got = -1;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) >= 0 && poll(&p, 1, (int)lab_bound_ms(0)) == 1)
        got = recv(fd, reply, len - 1, 0);
    if (got <= 0)
        die("proxy: no answer from the manager to '%s'", req);
    reply[got] = '\0';
}

/* ==== The workers: d['count'] += 1; l.append(name) ==== */

static void window(int delta)
{
    Pthread_mutex_lock(&sh->ready.m);
    sh->in_window += delta;
    if (sh->in_window > sh->max_in_window)
        sh->max_in_window = sh->in_window;
    Pthread_mutex_unlock(&sh->ready.m);
}

static int worker_main(struct lab_proc *self)
{
    bool locked = self->arg != NULL;
    char reply[96], req[96];
    int fd = proxy_connect();
    meet_wait(&sh->start, MGR_WORKERS, lab_bound_ms(0));           /* everyone connected */
    if (locked) {                                                   /* with lock: */
        struct timespec dl = lab_deadline_realtime_ms(lab_bound_ms(0));
        if (pthread_mutex_timedlock(&sh->lock, &dl) != 0) {
            __atomic_add_fetch(&sh->lock_timeouts, 1, __ATOMIC_SEQ_CST);
            close(fd);
            return LAB_EXIT_BROKEN;
        }
    }
    proxy_call(fd, "GET count", reply, sizeof reply);                /* tmp = d['count'] */
    long v = strtol(reply, NULL, 10);
    window(+1);
    /* Hold the window open: without the lock everyone gets here before anyone SETs; with it the
     * others are kept out, so the rendezvous gives up after a short wait. */
    meet_wait(&sh->read, MGR_WORKERS, locked ? lab_units_ms(0.02) : lab_bound_ms(0));
    window(-1);
    snprintf(req, sizeof req, "SET count %ld", v + 1);              /* d['count'] = tmp + 1 */
    proxy_call(fd, req, reply, sizeof reply);
    if (locked)
        Pthread_mutex_unlock(&sh->lock);
    snprintf(req, sizeof req, "APPEND %s", self->name);              /* l.append(name): one call */
    proxy_call(fd, req, reply, sizeof reply);
    close(fd);
    return LAB_EXIT_OK;
}

/* ==== The scenario ==== */

int run_manager(int mode)
{
    bool locked = mode == MANAGER_LOCK;
    char dir[sizeof sock_path - sizeof "/manager.sock"];          /* a longer TMPDIR: usage error */
    int dir_id = lab_private_dir(dir, sizeof dir, "lab04mgr");
    snprintf(sock_path, sizeof sock_path, "%s/manager.sock", dir);
    int sock_id = lab_cleanup_add(lab_cleanup_unlink, sock_path);    /* after Ctrl-C too */

    sh = lab_shared_alloc(sizeof *sh);
    lab_mutex_init(&sh->lock, LAB_MUTEX_PSHARED | LAB_MUTEX_ERRORCHECK);
    meet_init(&sh->ready);
    meet_init(&sh->start);
    meet_init(&sh->read);

    struct lab_proc mgr = LAB_PROC_INIT(manager_main, NULL);
    lab_proc_start_or_die(&mgr);
    bool listening = meet_wait(&sh->ready, 2, lab_bound_ms(0));
    lab_say("m = Manager(): %s (pid %d) serves a dict and a list on %s", mgr.name, (int)mgr.pid, sock_path);
    lab_say("d = m.dict({'name': 'lxc'}); l = m.list(); d['count'] = 0");
    int fd = proxy_connect();
    char reply[96];
    proxy_call(fd, "SET count 0", reply, sizeof reply);
    lab_say("%d processes each do d['count'] += 1 (GET, then SET: two proxy calls) and l.append(name)%s",
            MGR_WORKERS, locked ? " under lock = Lock()" : ", no lock");
    if (!locked)
        lab_say("forced schedule: every process GETs count before any of them SETs it");

    struct lab_proc w[MGR_WORKERS];
    for (int i = 0; i < MGR_WORKERS; i++) {
        w[i] = (struct lab_proc)LAB_PROC_INIT(worker_main, locked ? sh : NULL);
        lab_proc_start_or_die(&w[i]);
    }
    int failed = 0;
    for (int i = 0; i < MGR_WORKERS; i++)
        failed += lab_proc_join(&w[i]) != 0;

    proxy_call(fd, "GET count", reply, sizeof reply);
    long count = strtol(reply, NULL, 10);
    proxy_call(fd, "LEN", reply, sizeof reply);
    long list_len = strtol(reply, NULL, 10);
    proxy_call(fd, "SHUTDOWN", reply, sizeof reply);                 /* manager.shutdown() */
    close(fd);
    int mgr_exit = lab_proc_join(&mgr);
    bool left = access(sock_path, F_OK) == 0;

    long lost = MGR_WORKERS - count;
    lab_say("d['count'] = %ld, expected %d: %ld update(s) lost; at most %d process(es) were between GET and SET",
            count, MGR_WORKERS, lost, sh->max_in_window);
    if (locked)
        lab_say("with the lock the GET+SET pair is one step for the others: nothing lost");
    else
        lab_say("each proxy call is served whole by the manager, but GET then SET is two calls: "
                "the notes' 不安全");
    lab_say("len(l) = %ld: l.append(name) is one call, served whole: nothing lost, lock or not", list_len);
    lab_say("manager.shutdown(): the manager exited %d; its socket file left behind: %s",
            mgr_exit, left ? "yes" : "no");
    lab_result("processes=%d expected=%d count=%ld lost=%ld max_in_window=%d list_len=%ld manager_exit=%d "
               "socket_left=%d", MGR_WORKERS, MGR_WORKERS, count, lost, sh->max_in_window, list_len,
               mgr_exit, left ? 1 : 0);
    bool ok = listening && failed == 0 && list_len == MGR_WORKERS && mgr_exit == 0 && !left &&
              (locked ? count == MGR_WORKERS && sh->max_in_window == 1 : count < MGR_WORKERS);
    pthread_mutex_destroy(&sh->lock);
    lab_shared_free(sh, sizeof *sh);
    sh = NULL;
    lab_cleanup_run(sock_id);
    lab_cleanup_run(dir_id);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
