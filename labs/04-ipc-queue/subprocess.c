/* labs/04-ipc-queue/subprocess.c - subprocess: another program as a child, talked to through pipes.
 *
 * The notes' outline lists subprocess among the alternatives to threads ("线程代替方案"), and the
 * IPC chapter says a pipe's capacity is limited ("容量有限").  subprocess runs another program
 * (not a copy of this one, as Process does) with its stdin/stdout on pipes:
 *   subprocess  subprocess.run(..., capture_output=True): output and exit status;
 *               Popen(...).communicate(input): data in, data out; run(..., timeout=0.5): the child
 *               is killed (SIGKILL) and reaped, TimeoutExpired, and no zombie is left.
 *   pipe_deadlock --mode=deadlock  the naive p.stdin.write(1 MiB) then p.stdout.read(): cat's
 *               output pipe fills (64 KiB), cat stops reading, its input pipe fills, and the
 *               parent's write never ends: both wait for each other.  Forced by the sizes, not
 *               by luck; noticed here when the write makes no progress for one unit.
 *   pipe_deadlock --mode=poll  communicate()'s cure: poll() both pipes and write only when the
 *               input pipe has room, read whenever output is there: all 1 MiB goes round.
 * Python <-> C: Popen([...], stdin=PIPE, stdout=PIPE) <-> pipe2 + posix_spawnp with file actions
 *   (dup2 the pipe ends onto 0 and 1); p.wait() <-> waitpid; p.kill() <-> kill(pid, SIGKILL);
 *   returncode -9 <-> WTERMSIG == 9; communicate() <-> a poll() loop over both pipes.
 * Usage: build/lab04 subprocess | build/lab04 pipe_deadlock [--mode=deadlock|poll]
 * What to watch for: returncode=3 and -9, zombie=0; stuck=1 with about 64 KiB + 64 KiB + cat's
 *   buffer written before the deadlock, then all of it with poll.
 * See also: pipe.c (Pipe() and EOF), ../01-processes (Process: fork without exec).
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define BIG_BYTES (1024 * 1024)     /* more than both pipes and cat's buffer together */

/* ==== Popen: spawn argv with its stdin and/or stdout on pipes ==== */

struct popen {
    pid_t pid;
    int in;         /* our end of the child's stdin, or -1 */
    int out;        /* our end of the child's stdout, or -1 */
    int kill_id;    /* the cleanup that kills the child on Ctrl-C */
};

static pid_t killable_pid;          /* the child the cleanup kills (one at a time) */

static void kill_child(void *arg)
{
    (void)arg;
    if (killable_pid > 0)
        kill(killable_pid, SIGKILL);   /* async-signal-safe; the dying parent's children are reaped by init */
}

static void popen_start(struct popen *p, char *const argv[], bool want_in, bool want_out)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    if ((want_in && pipe2(in, O_CLOEXEC) < 0) || (want_out && pipe2(out, O_CLOEXEC) < 0))
        die("pipe2:");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (want_in)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);      /* dup2 clears O_CLOEXEC on fd 0 */
    if (want_out)
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    fflush(stdout);
    sigset_t old;
    lab_stop_signals_block(&old);                              /* spawn and record the pid as one step */
    int rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
    if (rc == 0)
        killable_pid = p->pid;
    lab_stop_signals_restore(&old);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die("posix_spawnp %s: %s", argv[0], strerror(rc));
    p->kill_id = lab_cleanup_add(kill_child, NULL);
    if (want_in)
        close(in[0]);
    if (want_out)
        close(out[1]);
    p->in = want_in ? in[1] : -1;
    p->out = want_out ? out[0] : -1;
}

/* p.wait(): reap the child (bounded), Python's returncode (exit status, or -signal). */
static int popen_wait(struct popen *p)
{
    int status = 0;
    if (lab_waitpid_ms(p->pid, &status, lab_bound_ms(0)) != p->pid)
        die("subprocess: pid %d did not end", (int)p->pid);
    killable_pid = 0;
    lab_cleanup_forget(p->kill_id);
    if (p->in >= 0)
        close(p->in);
    if (p->out >= 0)
        close(p->out);
    return lab_status_to_exitcode(status);
}

/* Read the child's stdout to EOF (bounded), at most len-1 bytes kept. */
static size_t read_all(int fd, char *buf, size_t len)
{
    size_t k = 0;
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    while (poll(&pf, 1, (int)lab_bound_ms(0)) == 1) {
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0)
            break;
        size_t take = (size_t)n < len - 1 - k ? (size_t)n : len - 1 - k;
        memcpy(buf + k, tmp, take);
        k += take;
    }
    buf[k] = '\0';
    return k;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
}

/* Whether a reaped child is really gone: no /proc entry left (a zombie would still have one). */
static bool is_zombie(pid_t pid)
{
    return lab_proc_state(pid) == 'Z';
}

/* ==== subprocess: run, communicate, timeout ==== */

int run_subprocess(int mode)
{
    (void)mode;
    char out[256];

    /* r = subprocess.run(['sh', '-c', 'echo hello; exit 3'], capture_output=True) */
    char *sh_argv[] = { "sh", "-c", "echo hello; exit 3", NULL };
    struct popen p1;
    popen_start(&p1, sh_argv, false, true);
    read_all(p1.out, out, sizeof out);
    int rc1 = popen_wait(&p1);
    chomp(out);
    char run_out[sizeof out];
    snprintf(run_out, sizeof run_out, "%s", out);
    lab_say("subprocess.run(['sh', '-c', 'echo hello; exit 3'], capture_output=True): pid %d", (int)p1.pid);
    lab_say("  r.stdout = b'%s\\n', r.returncode = %d (the exit status, collected by waitpid)", run_out, rc1);

    /* p = Popen(['dd', 'conv=ucase', 'status=none'], stdin=PIPE, stdout=PIPE); p.communicate(b'hello')
     * (dd rather than tr: the lab's children run under Valgrind in `make memcheck`, and tr leaks) */
    char *dd_argv[] = { "dd", "conv=ucase", "status=none", NULL };
    struct popen p2;
    popen_start(&p2, dd_argv, true, true);
    bool wrote = write(p2.in, "hello\n", 6) == 6;
    close(p2.in);                                   /* EOF for dd: it flushes and exits */
    p2.in = -1;
    read_all(p2.out, out, sizeof out);
    int rc2 = popen_wait(&p2);
    chomp(out);
    lab_say("Popen(['dd', 'conv=ucase', 'status=none'], stdin=PIPE, stdout=PIPE).communicate(b'hello\\n'):");
    lab_say("  b'%s\\n', returncode %d", out, rc2);
    bool comm_ok = wrote && strcmp(out, "HELLO") == 0 && rc2 == 0;

    /* subprocess.run(['sleep', '30'], timeout=0.5): TimeoutExpired; the child is killed and reaped */
    char *sleep_argv[] = { "sleep", "30", NULL };
    struct popen p3;
    popen_start(&p3, sleep_argv, false, false);
    int status = 0;
    double t0 = lab_now_ms();
    pid_t got = lab_waitpid_ms(p3.pid, &status, lab_units_ms(0.5));
    bool timed_out = got == 0;
    double waited = lab_elapsed_units(t0);
    if (timed_out)
        kill(p3.pid, SIGKILL);                      /* run() kills the child on TimeoutExpired ... */
    int rc3 = timed_out ? popen_wait(&p3) : lab_status_to_exitcode(status);   /* ... and waits for it */
    bool zombie = is_zombie(p3.pid);
    lab_say("subprocess.run(['sleep', '30'], timeout=0.5): TimeoutExpired after %.1f units", waited);
    lab_say("  %s", timed_out ? "the child is killed (SIGKILL) and reaped" : "it ended by itself?");
    lab_say("  returncode %d (-9: killed by signal 9); left as a zombie: %s; still running: %s", rc3,
            zombie ? "yes" : "no", lab_proc_state(p3.pid) == '?' ? "no" : "yes");

    lab_result("run_stdout=%s run_returncode=%d communicate=%s timeout_expired=%d timeout_returncode=%d zombie=%d",
               run_out, rc1, out, timed_out ? 1 : 0, rc3, zombie ? 1 : 0);
    bool ok = strcmp(run_out, "hello") == 0 && rc1 == 3 && comm_ok && timed_out && rc3 == -9 && !zombie;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== pipe_deadlock: write everything, then read (stuck) vs poll both (communicate) ==== */

int run_pipe_deadlock(int mode)
{
    bool use_poll = mode == PIPE_DEADLOCK_POLL;
    static char data[BIG_BYTES], back[BIG_BYTES];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    char *cat_argv[] = { "cat", NULL };
    struct popen p;
    popen_start(&p, cat_argv, true, true);
    int pipe_size = fcntl(p.in, F_GETPIPE_SZ);
    fcntl(p.in, F_SETFL, O_NONBLOCK);               /* so that a stuck write can be noticed */
    lab_say("p = Popen(['cat'], stdin=PIPE, stdout=PIPE): pid %d; each pipe holds %d bytes", (int)p.pid,
            pipe_size);
    lab_say("%s", use_poll ? "communicate(): poll() both pipes; write while stdin has room, read whatever stdout has"
                           : "p.stdin.write(1 MiB) first, p.stdout.read() after: the naive order");
    size_t sent = 0, recvd = 0;
    bool stuck = false;
    double t0 = lab_now_ms();
    char state = '?';
    while (sent < sizeof data || (use_poll && recvd < sizeof data)) {
        struct pollfd pf[2] = { { .fd = sent < sizeof data ? p.in : -1, .events = POLLOUT },
                                { .fd = use_poll ? p.out : -1, .events = POLLIN } };
        int r = poll(pf, 2, (int)lab_units_ms(1));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {                                /* one unit without progress either way */
            state = lab_proc_state(p.pid);
            /* Stuck only if cat is asleep too: a slow cat (under Valgrind) is still running.  And
             * only if, cat asleep, still neither pipe is ready: a cat that got the CPU late may
             * have moved on between our poll and our look at it, and fallen asleep on a pipe that
             * we can serve now (deadlocked, it cannot: both pipes stay full). */
            if (state == 'S' && poll(pf, 2, 0) > 0)
                state = '?';
            else if (state == 'S' || lab_elapsed_ms(t0) > lab_bound_ms(0)) {
                stuck = true;
                break;
            }
        }
        if (pf[0].revents & (POLLOUT | POLLERR)) {
            ssize_t n = write(p.in, data + sent, sizeof data - sent);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                die("write to cat:");
            if (sent == sizeof data) {
                close(p.in);                        /* EOF: cat ends after echoing everything */
                p.in = -1;
            }
        }
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(p.out, back + recvd, sizeof back - recvd);
            if (n > 0)
                recvd += (size_t)n;
            else if (n == 0)
                break;
        }
    }
    if (stuck) {
        lab_say("stuck: the parent wrote %zu of %d bytes and cannot write more; cat (state %c) is blocked",
                sent, BIG_BYTES, state);
        lab_say("writing to its full stdout pipe, which nobody reads: each waits for the other (deadlock)");
        lab_say("p.kill(): the lab ends it (Python would hang here forever)");
        kill(p.pid, SIGKILL);
    } else if (!use_poll) {
        recvd = read_all(p.out, back, sizeof back);  /* only if the write had finished */
    }
    int rc = popen_wait(&p);
    bool same = recvd == sizeof data && memcmp(data, back, sizeof data) == 0;
    if (!stuck)
        lab_say("sent %zu bytes, got %zu back, the same: %s; cat's returncode %d", sent, recvd, same ? "yes" : "no", rc);
    lab_result("pipe_size=%d bytes=%d sent=%zu received=%zu stuck=%d same=%d returncode=%d",
               pipe_size, BIG_BYTES, sent, recvd, stuck ? 1 : 0, same ? 1 : 0, rc);
    if (use_poll)
        return same && rc == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
    return stuck && rc == -9 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;   /* the deadlock is the lesson */
}
