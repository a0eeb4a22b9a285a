/* labs/01-processes/spawn.c - fork vs spawn: does the top-level code run again in the child?
 *
 * Python on Windows (and on Linux with the spawn/forkserver start methods, the Linux default from
 * 3.14) starts a child by running the program again and importing the main module: every line
 * outside `if __name__ == '__main__':` runs a second time in the child (开启进程的模式是导入父进程的
 * 代码, 可能造成重复执行).  fork() does not: the child is a copy of the parent that goes on from the
 * fork() call, and main() never runs again (Linux: 复制父进程的内存空间, 不会造成重复执行).
 * This file shows both with the same counter: every run of main()'s top level writes one marker
 * line to a pipe named by $LAB01_TOPLEVEL_FD.  A fork child adds no marker; a posix_spawn of
 * ourselves (/proc/self/exe) adds one.  The spawned child then meets the guard: main() checks
 * argv[1] == "--l01-spawned-child" BEFORE lab_main(), runs only the task and returns, so it can
 * never start the scenario (and another child) again.  Without that check the program would
 * respawn itself forever; Python stops that case with a RuntimeError instead.
 * Python ↔ C: `if __name__ == '__main__':` ↔ `if (argc > 1 && strcmp(argv[1], MARKER) == 0)`
 *   in main(); the child's __name__ '__mp_main__' ↔ the marker argument.
 * Usage: build/lab01 spawn_vs_fork
 * Watch for: one "top level of main() runs" line, from the spawned child only.
 * See also: main.c (the guard), processes.c.
 */
#include "lab.h"
#include "lab01.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How often the top level of main() ran in this process image (1 after a normal start). */
static int toplevel_runs;

/* ==== The top level: runs on every start of the program, before the guard ==== */

void l01_toplevel(void)
{
    toplevel_runs++;
    const char *v = getenv(L01_MARKER_ENV);
    if (v == NULL)
        return;                 /* a normal start: nobody is counting */
    long long fd;
    char err[160];
    if (lab_parse_ll(v, 3, 65535, &fd, err, sizeof err) != 0 || fcntl((int)fd, F_GETFD) < 0)
        return;                 /* not ours to write to */
    char line[64];
    int n = snprintf(line, sizeof line, "toplevel pid=%d\n", (int)getpid());
    l01_write_all((int)fd, line, (size_t)n);
    lab_say("[pid %d] the top level of main() runs (the code outside the guard)", (int)getpid());
}

/* ==== The guarded branch: what a spawned child does instead of lab_main() ==== */

int l01_spawned_child_main(int argc, char **argv)
{
    (void)argc;
    lab_say("child %d: %s: the guard skips the main code (__name__ == '__mp_main__')", (int)getpid(),
            argv[1]);
    lab_say("child %d: task() runs: 1 + 2 = %d; my parent is %d; top-level runs in this process: %d",
            (int)getpid(), 1 + 2, (int)getppid(), toplevel_runs);
    return 0;
}

/* ==== The scenario ==== */

/* The fork child's task: it starts here, right after fork(), not at the top of main(). */
static int fork_task(struct lab_proc *self)
{
    (void)self;
    lab_say("child %d: I begin right after fork(), inside the scenario; main() did not run again "
            "(top-level runs: %d, a copy of the parent's counter)", (int)getpid(), toplevel_runs);
    return 0;
}

/* Read marker lines until every writer is gone; count them and those not written by `direct`. */
static int count_markers(int fd, pid_t direct, int *others)
{
    char buf[1024];
    size_t len = 0;
    double end = lab_now_ms() + 2 * L01_HANDSHAKE_MS;   /* a spawn under valgrind starts slowly */
    for (;;) {
        char c;
        if (len + 1 >= sizeof buf || lab_now_ms() > end || l01_read_ms(fd, &c, 1, end - lab_now_ms()) != 0)
            break;              /* EOF (every write end closed), timeout, or full */
        buf[len++] = c;
    }
    buf[len] = '\0';
    int n = 0;
    *others = 0;
    for (char *line = buf; (line = strstr(line, "toplevel pid=")) != NULL; line++) {
        n++;
        if (strtol(line + 13, NULL, 10) != (long)direct)
            (*others)++;
    }
    return n;
}

/* A marker pipe: the read end stays with us (close-on-exec), the write end is inherited. */
static void marker_pipe(int fds[2])
{
    l01_pipe(fds);
    int flags = fcntl(fds[1], F_GETFD);
    if (flags < 0 || fcntl(fds[1], F_SETFD, flags & ~FD_CLOEXEC) < 0)
        die("fcntl:");
    char v[16];
    snprintf(v, sizeof v, "%d", fds[1]);
    if (setenv(L01_MARKER_ENV, v, 1) != 0)
        die("setenv:");
}

int run_spawn_vs_fork(int mode)
{
    (void)mode;   /* no modes */
    pid_t me = getpid();
    lab_say("main %d: the top level of main() ran %d time(s) in this process, when the program started", (int)me,
            toplevel_runs);

    /* Part 1: fork.  The child is a copy that resumes after fork(). */
    int mk[2], others;
    marker_pipe(mk);
    struct lab_proc p = LAB_PROC_INIT(fork_task, NULL);
    lab_proc_start_or_die(&p);
    int fork_code = lab_proc_join(&p);
    close(mk[1]);
    int fork_markers = count_markers(mk[0], p.pid, &others);
    close(mk[0]);
    int fork_runs = toplevel_runs + fork_markers;
    lab_say("main %d: fork: top level ran %d time(s) in all (ours only)", (int)me, fork_runs);

    /* Part 2: spawn.  posix_spawn(/proc/self/exe): a new program image, main() from the top. */
    marker_pipe(mk);
    /* argv[0] is the full path, as for the parent, so `pgrep -f build/lab01` sees the child too. */
    char *child_argv[] = { (char *)lab_self_path(), (char *)L01_SPAWN_MARKER, NULL };
    pid_t child;
    fflush(stdout);
    /* The child inherits the marker pipe's write end; its read end is close-on-exec. */
    int rc = posix_spawn(&child, lab_self_path(), NULL, NULL, child_argv, environ);
    if (unsetenv(L01_MARKER_ENV) != 0)
        die("unsetenv:");
    close(mk[1]);
    if (rc != 0)
        die_en(rc, "posix_spawn(%s)", lab_self_path());
    lab_say("main %d: spawned %d = posix_spawn(\"%s\", {argv[0], \"%s\"})", (int)me, (int)child, lab_self_path(),
            L01_SPAWN_MARKER);
    int spawn_markers = count_markers(mk[0], child, &others);
    close(mk[0]);
    int st = 0;
    /* Bounded wait (a slow start under valgrind takes a second or two); then make sure it is gone. */
    if (lab_waitpid_ms(child, &st, 2 * L01_HANDSHAKE_MS) != child) {
        kill(child, SIGKILL);
        waitpid(child, &st, 0);
        die("spawn_vs_fork: the spawned child did not finish");
    }
    int spawn_runs = toplevel_runs + spawn_markers;
    lab_say("main %d: spawn: top level ran %d time(s) in all (ours + the child's); runs in grandchildren: %d", (int)me,
            spawn_runs, others);
    lab_say("main %d: fork copies a running process; spawn starts the program again, so put the main code "
            "behind a guard", (int)me);
    lab_result("fork_toplevel_runs=%d spawn_toplevel_runs=%d guarded_recursion=%d", fork_runs,
               spawn_runs, others);
    bool ok = fork_runs == 1 && spawn_runs == 2 && others == 0 && fork_code == 0 && WIFEXITED(st)
              && WEXITSTATUS(st) == 0;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
