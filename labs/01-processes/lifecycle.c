/* labs/01-processes/lifecycle.c - the end of a process: zombies (僵尸进程) and orphans (孤儿进程).
 *
 * zombie: a child that has exited but has not been waited for is "dead but not fully dead"
 *   (死了没死透): the kernel keeps its pid and exit status for the parent, and /proc/PID/stat shows
 *   state Z (ps: <defunct>).  join() (waitpid) collects the status (7 here) and frees the pid: the
 *   /proc entry is gone.  A parent that sets SIGCHLD to SIG_IGN asks the kernel to reap at once:
 *   no zombie, and a later waitpid fails with ECHILD (the status is lost).
 * orphan: a child whose parent dies first is adopted (操作系统会开设一个"儿童福利院"): its ppid
 *   changes to the nearest "subreaper" ancestor, or to PID 1.  To make that deterministic and
 *   self-cleaning, a helper child declares itself a subreaper (prctl PR_SET_CHILD_SUBREAPER, so the
 *   setting dies with the helper and never touches the rest of the lab), forks a middle process
 *   that forks the grandchild, then kills the middle (父进程意外死亡).  The grandchild's getppid()
 *   turns from the middle's pid to the helper's, and the helper can then waitpid() it.
 * Python ↔ C: CPython reaps lazily in join()/is_alive()/active_children() ↔ waitpid; the orphan
 *   needs no Python code: it is the kernel's rule.
 * Usage: build/lab01 zombie | orphan
 * Watch for: state=Z before join and no /proc entry after; the ppid before and after.
 * Pitfalls: kill(pid, 0) succeeds on a zombie (it is no liveness test); do not expect an orphan's
 *   new parent to be 1: in containers and desktop sessions it is often a subreaper.
 * See also: processes.c (terminate, is_alive), ../02-join-daemon.
 */
#include "lab.h"
#include "lab01.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ==== zombie ==== */

static int zombie_task(struct lab_proc *self)
{
    (void)self;
    lab_say("child %d: my work is done, exiting with status 7", (int)getpid());
    return 7;
}

/* Wait (bounded) until /proc/PID/stat shows `want`; returns the last state seen ('-' if gone). */
static char wait_state(pid_t pid, char want)
{
    char st = '-';
    double end = lab_now_ms() + L01_HANDSHAKE_MS;
    while (lab_now_ms() < end) {
        if (lab_proc_stat(pid, &st, NULL) != 0)
            return '-';
        if (st == want)
            break;
        lab_sleep_ms(1);
    }
    return st;
}

int run_zombie(int mode)
{
    (void)mode;   /* no modes */
    pid_t me = getpid();

    /* Part 1: a child exits, the parent does not wait. */
    struct lab_proc p = LAB_PROC_INIT(zombie_task, NULL);
    lab_proc_start_or_die(&p);
    lab_say("main %d: busy for 1 second, not waiting for child %d", (int)me, (int)p.pid);
    lab_sleep(1);
    char st = wait_state(p.pid, 'Z');
    lab_say("main %d: /proc/%d/stat state=%c: a zombie (ps shows <defunct>): dead, but its pid and status are kept "
            "for us (死了没死透)", (int)me, (int)p.pid, st);
    bool kill0 = kill(p.pid, 0) == 0;
    lab_say("main %d: kill(%d, 0) = %s: it succeeds on a zombie, so it is no liveness test", (int)me, (int)p.pid,
            kill0 ? "0" : "-1");
    int code = lab_proc_join(&p);       /* p.join(): waitpid() collects the status and frees the pid */
    bool entry_after = l01_proc_exists(p.pid);
    lab_say("main %d: join() -> exitcode %d; /proc/%d %s", (int)me, code, (int)p.pid,
            entry_after ? "still exists" : "is gone: the pid is free again");

    /* Part 2: SIGCHLD = SIG_IGN: the kernel reaps at once, nobody can wait any more.  This child is
     * forked by hand: the Process helper would (rightly) treat the ECHILD as an error. */
    struct sigaction ign, old, now;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGCHLD, &ign, &old) != 0)
        die("sigaction:");
    lab_say("main %d: signal(SIGCHLD, SIG_IGN): children are reaped automatically", (int)me);
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0)
        die("fork:");
    if (c == 0) {
        lab_say("child %d: exiting with status 7", (int)getpid());
        _exit(7);
    }
    int status = 0;
    pid_t r = lab_waitpid_ms(c, &status, L01_HANDSHAKE_MS);   /* 0 while it runs, then -1 ECHILD */
    int err = errno;
    bool echild = r < 0 && err == ECHILD;
    if (r == 0)
        kill(c, SIGKILL);                                       /* never leave it behind */
    bool ign_entry = l01_proc_exists(c);
    lab_say("main %d: waitpid(%d) = %d (%s): the status 7 is lost; /proc/%d %s", (int)me, (int)c, (int)r,
            r < 0 ? strerror(err) : "no error", (int)c, ign_entry ? "exists" : "is gone, no zombie ever stayed");
    if (sigaction(SIGCHLD, &old, NULL) != 0 || sigaction(SIGCHLD, NULL, &now) != 0)
        die("sigaction:");
    bool restored = now.sa_handler == old.sa_handler;
    lab_say("main %d: SIGCHLD disposition restored to %s", (int)me, old.sa_handler == SIG_DFL ? "SIG_DFL" : "the old one");

    lab_result("state_before_wait=%c reaped=%d exit=%d proc_entry_after=%d kill0_on_zombie=%d "
               "sigign_waitpid=%s sigign_proc_entry=%d sigchld_restored=%d",
               st, p.reaped, code, entry_after, kill0, r < 0 ? lab_errno_name(err) : "OK", ign_entry, restored);
    bool ok = st == 'Z' && p.reaped && code == 7 && !entry_after && echild && !ign_entry && restored;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== orphan ==== */

/* What the helper tells the scenario. */
struct orphan_report {
    pid_t helper, mid, orphan;
    pid_t ppid_before, ppid_after;
    int mid_exitcode, orphan_exitcode;
    bool subreaper, reaped;
};

/* What the grandchild tells the helper: who it is and who its parent is. */
struct orphan_msg {
    pid_t self, ppid;
};

/* The grandchild: report the parent, wait until told the middle is dead, report it again. */
static void orphan_grandchild(int up_w, int go_r)
{
    struct orphan_msg m = { getpid(), getppid() };
    lab_say("grandchild %d: my parent is %d (the middle process)", (int)m.self, (int)m.ppid);
    l01_write_all(up_w, &m, sizeof m);
    char c;
    if (l01_read_ms(go_r, &c, 1, L01_HANDSHAKE_MS) != 0)
        _exit(1);                       /* the helper is gone: leave, never linger */
    m.ppid = getppid();
    lab_say("grandchild %d: my parent died; now my parent is %d", (int)m.self, (int)m.ppid);
    l01_write_all(up_w, &m, sizeof m);
    _exit(0);
}

/* Reap every child of ours that is left (bounded), after a failure. */
static void reap_all(void)
{
    int st;
    while (lab_waitpid_ms(-1, &st, L01_HANDSHAKE_MS) > 0)
        ;
}

/* The helper: a subreaper for its own descendants only. */
static int orphan_helper(struct lab_proc *self)
{
    int report_w = *(int *)self->arg;
    struct orphan_report r = { .helper = getpid() };
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0) {
        warn_msg("prctl(PR_SET_CHILD_SUBREAPER):");
        l01_write_all(report_w, &r, sizeof r);
        return 1;
    }
    r.subreaper = true;
    lab_say("helper %d: prctl(PR_SET_CHILD_SUBREAPER, 1): orphans among my descendants become my children",
            (int)r.helper);
    int up[2], go[2];
    l01_pipe(up);
    l01_pipe(go);
    fflush(stdout);
    fflush(stderr);
    pid_t mid = fork();
    if (mid < 0)
        die("fork:");
    if (mid == 0) {
        close(report_w);                /* only the helper reports */
        /* If the helper dies (Ctrl-C), the middle goes too; the grandchild sees EOF and leaves. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L) != 0 || getppid() != r.helper)
            _exit(1);
        pid_t g = fork();
        if (g < 0)
            _exit(1);
        if (g == 0) {
            close(up[0]);
            close(go[1]);
            orphan_grandchild(up[1], go[0]);
        }
        close(up[0]);
        close(up[1]);
        close(go[0]);
        close(go[1]);
        lab_say("middle %d: forked grandchild %d, and now I wait", (int)getpid(), (int)g);
        lab_sleep_ms(L01_HANDSHAKE_MS);    /* until killed; bounded if the helper vanished */
        _exit(0);
    }
    r.mid = mid;
    close(up[1]);
    close(go[0]);
    struct orphan_msg m;
    if (l01_read_ms(up[0], &m, sizeof m, L01_HANDSHAKE_MS) != 0) {
        kill(mid, SIGKILL);
        close(go[1]);                   /* a grandchild, if any, sees EOF and leaves */
        reap_all();
        l01_write_all(report_w, &r, sizeof r);
        return 1;
    }
    r.orphan = m.self;
    r.ppid_before = m.ppid;
    /* The parent dies unexpectedly (父进程意外死亡), while its child lives on. */
    lab_say("helper %d: kill -9 %d: the middle process dies before its child", (int)r.helper, (int)mid);
    kill(mid, SIGKILL);
    int st;
    if (lab_waitpid_ms(mid, &st, L01_HANDSHAKE_MS) == mid)
        r.mid_exitcode = lab_status_to_exitcode(st);
    /* The middle is reaped, so the kernel has already re-parented its child. */
    l01_write_all(go[1], "g", 1);
    if (l01_read_ms(up[0], &m, sizeof m, L01_HANDSHAKE_MS) == 0)
        r.ppid_after = m.ppid;
    /* waitpid works only on one's own children: succeeding proves the adoption. */
    if (lab_waitpid_ms(r.orphan, &st, L01_HANDSHAKE_MS) == r.orphan) {
        r.reaped = true;
        r.orphan_exitcode = lab_status_to_exitcode(st);
        lab_say("helper %d: waitpid(%d) worked: the orphan is my child now, and I reaped it (exitcode %d)",
                (int)r.helper, (int)r.orphan, r.orphan_exitcode);
    } else {
        kill(r.orphan, SIGKILL);
    }
    reap_all();
    close(up[0]);
    close(go[1]);
    l01_write_all(report_w, &r, sizeof r);
    return 0;
}

int run_orphan(int mode)
{
    (void)mode;   /* no modes */
    pid_t me = getpid();
    int rep[2];
    l01_pipe(rep);
    struct lab_proc h = LAB_PROC_INIT(orphan_helper, &rep[1]);
    lab_proc_start_or_die(&h);
    close(rep[1]);
    struct orphan_report r;
    memset(&r, 0, sizeof r);
    bool got = l01_read_ms(rep[0], &r, sizeof r, 2.5 * L01_HANDSHAKE_MS) == 0;
    close(rep[0]);
    int code = lab_proc_join(&h);
    int main_subreaper = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &main_subreaper, 0L, 0L, 0L);
    bool gone = r.orphan > 0 && !l01_proc_exists(r.orphan);
    bool reparented = got && r.ppid_before == r.mid && r.ppid_after == r.helper && r.mid > 0;
    lab_say("main %d: orphan %d: ppid before %d (the middle), after %d (the helper, its subreaper); "
            "the middle was killed (exitcode %d)", (int)me, (int)r.orphan, (int)r.ppid_before, (int)r.ppid_after,
            r.mid_exitcode);
    lab_say("main %d: without a subreaper the orphan goes to PID 1 or to whatever subreaper is above us; "
            "we are none: PR_GET_CHILD_SUBREAPER=%d here", (int)me, main_subreaper);
    lab_result("ppid_before=%d ppid_after=%d mid_pid=%d subreaper_pid=%d orphan_pid=%d "
               "reparented_to_subreaper=%d orphan_reaped=%d orphan_gone=%d main_subreaper=%d",
               (int)r.ppid_before, (int)r.ppid_after, (int)r.mid, (int)r.helper, (int)r.orphan, reparented,
               r.reaped, gone, main_subreaper);
    return (reparented && r.reaped && gone && code == 0 && main_subreaper == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
