/* labs/02-join-daemon/unix_daemon.c - a daemon in the Unix sense, started and stopped again.
 *
 * A Unix daemon is a process that has cut every tie to the terminal session that started it:
 *   1. fork, and the parent goes on (or exits): the child is not a process group leader, so
 *   2. setsid() succeeds: a new session and process group, and no controlling terminal;
 *   3. fork again, and the first child exits: the daemon is not a session leader, so opening a
 *      terminal can never make it the daemon's controlling terminal; its parent is gone, so it
 *      is adopted (by init or the nearest subreaper), not by the program that started it;
 *   4. chdir("/") (do not keep a directory busy), umask(0) (its own file modes), close every
 *      inherited descriptor and point 0/1/2 at /dev/null;
 *   5. write a pidfile, so that a service manager (or this lab) can find it and stop it.
 * Nothing of this is what Python's p.daemon = True means (see daemon_proc.c and the README).
 * --mode=double (default) does the above; --mode=single does what daemon(3) does: the caller
 * forks and exits, the child calls setsid() and is the daemon, a session leader (sid == pid).
 *
 * The lab starts one in a private temporary directory (lab_private_dir), checks each property
 * from a report the daemon sends back over a pipe, stops it with SIGTERM through a pidfd (so the
 * signal cannot hit a recycled pid), confirms it is gone and removes the pidfile and the
 * directory (the stop signals are held back while it starts: lab_stop_signals_block).  The daemon is
 * in another session, so Ctrl-C at the terminal does not reach it: the lab registers a cleanup
 * that sends it SIGTERM if the lab itself is interrupted.
 *
 * Usage: lab02 unix_daemon [--mode=double|single]
 * What to watch for: ppid is not the lab's pid; sid is the pid of the first child (which already
 * exited), or the daemon's own pid in single mode; no terminal; cwd /; the pidfile disappears
 * when the daemon gets SIGTERM.
 * See also: daemon(3), daemon(7) ("SysV daemons"), APUE 13.3, daemon_proc.c.
 */
#include "lab.h"
#include "lab02.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

/* What the daemon reports about itself (one write on the pipe). */
struct daemon_report {
    pid_t pid, ppid, sid, pgid, first_child;
    int session_leader;   /* sid == pid */
    int has_ctty;         /* open("/dev/tty") worked */
    int cwd_root;         /* getcwd() == "/" */
    unsigned umask_now;
    int fds_open;         /* entries in /proc/self/fd */
    int fds_only_std;     /* nothing open but 0, 1, 2 and the report pipe */
    int pidfile_ok;       /* the pidfile was written */
};

#define REPORT_FD 3        /* the daemon keeps the pipe's write end here, closes all else */

/* ==== The daemon side (runs in the grandchild; never returns) ==== */

/* Close every descriptor >= `from` (close_range, or the /proc/self/fd list where it is missing). */
static void close_from(int from)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
        return;
#endif
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    int fds[256], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        if (e->d_name[0] == '.')
            continue;
        int fd = (int)strtol(e->d_name, NULL, 10);   /* the names are plain decimal numbers */
        if (fd >= from && fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Count /proc/self/fd entries; *only_std: all of them are 0, 1, 2 or REPORT_FD.  Descriptors at
 * or above the soft RLIMIT_NOFILE cannot be the program's: Valgrind keeps its own up there. */
static int count_fds(int *only_std)
{
    struct rlimit rl;
    long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : LONG_MAX;
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    *only_std = 1;
    if (d == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        long fd = strtol(e->d_name, NULL, 10);
        if (fd == dirfd(d) || fd >= limit)
            continue;
        n++;
        if (fd > REPORT_FD)
            *only_std = 0;
    }
    closedir(d);
    return n;
}

static __attribute__((noreturn)) void daemon_main(int report_fd, pid_t first_child, const char *pidfile)
{
    struct daemon_report r = { 0 };

    /* 3b. Wait until the first child is gone and we have been adopted (it _exits right away). */
    for (int i = 0; i < 20000 && getppid() == first_child; i++)
        usleep(100);
    /* 4. Detach from the file system, the creator's umask and its descriptors. */
    if (chdir("/") == -1)
        _exit(1);
    umask(0);
    if (report_fd != REPORT_FD) {
        dup2(report_fd, REPORT_FD);
        close(report_fd);
    }
    close_from(REPORT_FD + 1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO && null != REPORT_FD)
            close(null);
    }
    /* Handle SIGTERM synchronously (sigtimedwait below): it is the only blocked signal (the lab
     * blocked more while it started us), and none of the lab's handlers stays. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_SETMASK, &term, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);

    /* 5. The pidfile: created exclusively, mode given explicitly (umask is 0 now). */
    int fd = open(pidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
        r.pidfile_ok = write(fd, buf, (size_t)len) == len;
        close(fd);
    }

    /* The report. */
    r.pid = getpid();
    r.ppid = getppid();
    r.sid = getsid(0);
    r.pgid = getpgid(0);
    r.first_child = first_child;
    r.session_leader = r.sid == r.pid;
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);   /* ENXIO: no controlling terminal */
    r.has_ctty = tty >= 0;
    if (tty >= 0)
        close(tty);
    char cwd[PATH_MAX];
    r.cwd_root = getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0;
    mode_t old = umask(0);
    r.umask_now = (unsigned)old;
    r.fds_open = count_fds(&r.fds_only_std);
    if (write(REPORT_FD, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(1);
    close(REPORT_FD);

    /* A real daemon would work here until it is stopped.  Safety net: if whoever started it
     * vanished without stopping it (killed with SIGKILL), give up after 30 real seconds. */
    struct timespec limit = { 30, 0 };
    int sig;
    while ((sig = sigtimedwait(&term, NULL, &limit)) == -1 && errno == EINTR)
        ;
    unlink(pidfile);   /* a daemon removes its own pidfile when told to stop */
    _exit(0);
}

/* ==== The lab side ==== */

static char dir_path[PATH_MAX - 64];   /* room for the pidfile's name below */
static char pidfile_path[PATH_MAX];
static volatile pid_t daemon_pid;    /* known once it has reported */

/* Cleanup on SIGINT/SIGTERM of the lab (async-signal-safe): the daemon is in another session, so
 * the terminal's Ctrl-C does not reach it.  The pidfile and the directory are removed by the
 * cleanups registered before this one (they run after it). */
static void kill_daemon(void *arg)
{
    (void)arg;
    if (daemon_pid > 0)
        kill(daemon_pid, SIGTERM);
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static int pidfd_kill(int pidfd, pid_t pid, int sig)
{
#ifdef SYS_pidfd_send_signal
    if (pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#endif
    (void)pidfd;
    return kill(pid, sig);
}

/* Has the process ended?  Not our child, so no waitpid: it is gone, or a zombie waiting for
 * whoever adopted it to reap it. */
static bool proc_ended(pid_t pid)
{
    char st = lab_proc_state(pid);
    return st == '?' || st == 'Z' || st == 'X';
}

/* Wait (bounded) for the process to end: on its pidfd when we have one, else by polling /proc. */
static bool wait_ended(int pidfd, pid_t pid, double ms)
{
    if (pidfd >= 0) {
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        int rc;
        while ((rc = poll(&pfd, 1, (int)ms)) == -1 && errno == EINTR)
            ;
        return rc == 1;
    }
    double end = lab_now_ms() + ms;
    while (!proc_ended(pid)) {
        if (lab_now_ms() >= end)
            return false;
        lab_sleep_ms(1);
    }
    return true;
}

/* Read the pid back from the pidfile: the pid, or 0. */
static pid_t read_pidfile(const char *path)
{
    char buf[32] = "", err[160];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    long long v;
    return lab_parse_ll(buf, 1, INT_MAX, &v, err, sizeof err) == 0 ? (pid_t)v : 0;
}

/* Read exactly len bytes within ms milliseconds: true on success. */
static bool read_bounded(int fd, void *buf, size_t len, double ms)
{
    size_t got = 0;
    double end = lab_now_ms() + ms;
    while (got < len) {
        int left = (int)(end - lab_now_ms());
        if (left <= 0)
            return false;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int rc = poll(&pfd, 1, left);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc <= 0)
            return false;
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;   /* EOF: the daemon died before reporting */
        got += (size_t)n;
    }
    return true;
}

/* Describe the daemon from its report, let it run alone for a unit, then stop it with SIGTERM
 * through its pidfd and wait until it has ended.  Sets what it found out. */
static void watch_and_stop(const struct daemon_report *r, bool double_fork, pid_t *from_file, bool *ran_alone,
                           bool *stopped)
{
    int pidfd = pidfd_open_(r->pid);
    pid_t lab = getpid();
    lab_say("daemon %d: ppid=%d (the lab is %d: %s)", (int)r->pid, (int)r->ppid, (int)lab,
            r->ppid != lab ? "adopted by someone else" : "still ours?!");
    if (double_fork)
        lab_say("daemon %d: sid=%d pgid=%d (the first child %d led the session, then exited: session leader? %s)",
                (int)r->pid, (int)r->sid, (int)r->pgid, (int)r->first_child, r->session_leader ? "yes" : "no");
    else
        lab_say("daemon %d: sid=%d pgid=%d (its own session: session leader? %s - opening a terminal without "
                "O_NOCTTY could give it a controlling terminal again)",
                (int)r->pid, (int)r->sid, (int)r->pgid, r->session_leader ? "yes" : "no");
    lab_say("daemon %d: controlling terminal: %s; cwd: %s; umask: %03o; open fds: %d (%s)", (int)r->pid,
            r->has_ctty ? "yes" : "none", r->cwd_root ? "/" : "not /", r->umask_now, r->fds_open,
            r->fds_only_std ? "0,1,2 on /dev/null + the report pipe" : "others too");
    *from_file = read_pidfile(pidfile_path);
    lab_say("lab: the pidfile says %d", (int)*from_file);

    /* Let it run on its own for a moment, as a daemon does (interrupt the lab now with Ctrl-C:
     * the cleanup stops the daemon, since the terminal's signal cannot reach it). */
    lab_sleep(1);
    *ran_alone = !proc_ended(r->pid);
    lab_say("lab: after 1 unit the daemon %d is %s", (int)r->pid, *ran_alone ? "still running on its own" : "gone?!");

    /* Stop it: SIGTERM through the pidfd, then wait until it has ended (bounded). */
    int rc = pidfd_kill(pidfd, r->pid, SIGTERM);
    *stopped = rc == 0 && wait_ended(pidfd, r->pid, lab_bound_ms(0));
    if (!*stopped) {
        pidfd_kill(pidfd, r->pid, SIGKILL);
        wait_ended(pidfd, r->pid, lab_bound_ms(0));
    }
    if (pidfd >= 0)
        close(pidfd);
}

int run_unix_daemon(int mode)
{
    bool double_fork = mode == L02_DAEMON_DOUBLE;
    /* A private directory for the pidfile, removed at the end and on Ctrl-C; the pidfile's removal
     * is registered after it, so it runs first. */
    int dir_id = lab_private_dir(dir_path, sizeof dir_path, "lab02-daemon-");
    snprintf(pidfile_path, sizeof pidfile_path, "%s/lab02.pid", dir_path);
    int pidfile_id = lab_cleanup_add(lab_cleanup_unlink, pidfile_path);

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) == -1)
        die("pipe2:");
    lab_say("lab %d: %s -> chdir / -> umask 0 -> close fds -> pidfile in %s", (int)getpid(),
            double_fork ? "fork -> setsid -> fork (SysV double fork)" : "fork -> fork -> setsid (daemon(3): one fork in the caller)",
            dir_path);

    /* Until the daemon has reported (its pidfile written, its pid known), hold back Ctrl-C and
     * friends: a signal in the middle of the start could not find the daemon to stop it.  They
     * are delivered (and the cleanups run) as soon as the mask is restored below. */
    sigset_t old_mask;
    lab_stop_signals_block(&old_mask);

    fflush(stdout);
    pid_t first = fork();
    if (first == -1)
        die("fork:");
    if (first == 0) {
        close(pfd[0]);
        pid_t me = getpid();   /* not getppid() in the grandchild: we may already be gone */
        if (double_fork) {
            /* 1./2. The first child: a new session, no controlling terminal. */
            if (setsid() == -1)
                _exit(1);
            pid_t second = fork();
            if (second == -1)
                _exit(1);
            if (second == 0)
                daemon_main(pfd[1], me, pidfile_path);
            _exit(0);   /* 3. the session leader leaves; the daemon is adopted */
        }
        /* daemon(3): the caller forks and exits; the child calls setsid() and is the daemon,
         * leader of its own session (sid == pid). */
        pid_t second = fork();
        if (second == -1)
            _exit(1);
        if (second == 0) {
            if (setsid() == -1)
                _exit(1);
            daemon_main(pfd[1], me, pidfile_path);
        }
        _exit(0);
    }
    close(pfd[1]);
    /* The first child is ours: reap it (it exits at once). */
    int st;
    if (lab_waitpid_ms(first, &st, lab_bound_ms(0)) != first)
        die("the first child did not exit");

    struct daemon_report r;
    memset(&r, 0, sizeof r);
    bool reported = read_bounded(pfd[0], &r, sizeof r, lab_bound_ms(0));
    close(pfd[0]);
    if (reported)
        daemon_pid = r.pid;
    int kill_id = lab_cleanup_add(kill_daemon, NULL);
    lab_stop_signals_restore(&old_mask);   /* a pending Ctrl-C is delivered here */

    pid_t from_file = 0;
    bool ran_alone = false, stopped = false;
    if (reported)
        watch_and_stop(&r, double_fork, &from_file, &ran_alone, &stopped);
    else
        lab_say("the daemon did not report (it gives up by itself after 30 s)");
    daemon_pid = 0;
    lab_cleanup_forget(kill_id);
    /* It removed its pidfile on SIGTERM; the lab removes whatever is left, and the directory. */
    bool pidfile_removed = reported && access(pidfile_path, F_OK) == -1 && errno == ENOENT;
    lab_cleanup_run(pidfile_id);
    lab_cleanup_run(dir_id);
    bool leftovers = access(dir_path, F_OK) == 0;
    if (reported) {
        lab_say("lab: SIGTERM -> daemon %d %s; pidfile %s; temp dir %s", (int)r.pid,
                stopped ? "has ended" : "did not stop (SIGKILL)",
                pidfile_removed ? "removed by the daemon" : "still there", leftovers ? "still there" : "removed");
        lab_say("(its zombie is reaped by the process that adopted it, not by the lab: it is not our child)");
    }

    /* Every field is a failure value when the daemon never reported. */
    int ppid_not_lab = reported && r.ppid != getpid();
    /* Double fork: sid = pgid = the first child's pid; daemon(3): sid = pgid = its own pid. */
    const char *sid_is = !reported                 ? "none"
                         : r.sid == r.pid          ? "own"
                         : r.sid == r.first_child  ? "first_child"
                                                   : "other";
    int sid_ok = reported && r.pgid == r.sid
                 && (double_fork ? r.sid == r.first_child && !r.session_leader : r.sid == r.pid && r.session_leader);
    int pidfile_ok = reported && r.pidfile_ok && from_file == r.pid;
    lab_result("ppid_not_lab=%d session_leader=%d sid=%s ctty=%d cwd_root=%d "
               "umask=%03o fds_only_std=%d pidfile_ok=%d ran_alone=%d stopped=%d pidfile_removed=%d leftovers=%d",
               ppid_not_lab, r.session_leader, sid_is, r.has_ctty, r.cwd_root, r.umask_now, r.fds_only_std,
               pidfile_ok, ran_alone, stopped, pidfile_removed, leftovers);
    bool ok = ppid_not_lab && sid_ok && !r.has_ctty && r.cwd_root && r.umask_now == 0 && r.fds_only_std
              && pidfile_ok && ran_alone && stopped && pidfile_removed && !leftovers;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
