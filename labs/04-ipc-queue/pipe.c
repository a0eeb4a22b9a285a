/* labs/04-ipc-queue/pipe.c - Pipe(): a duplex socketpair next to a one-way os.pipe().
 *
 * multiprocessing.Pipe() returns two connections that can both send and recv: on Linux that is
 * an AF_UNIX socketpair.  Pipe(duplex=False) and the notes' 无名管道 (半双工) are a kernel pipe:
 * one read end, one write end.  Two things students trip over, both shown here:
 *   - EOF (recv -> EOFError, read -> 0) arrives only when EVERY copy of the write end is closed;
 *     after fork the reader holds a copy too, so with --mode=noclose it waits in vain (cut off
 *     here after one unit), with --mode=close it sees EOF at once;
 *   - writing on the read end fails (EBADF; Python: "connection is read-only").
 * SOCK_SEQPACKET keeps message boundaries, as Python's length-prefixed send()/recv() do.
 * Python <-> C: parent_conn, child_conn = Pipe() <-> socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
 *   r, w = os.pipe() <-> pipe2(fds, O_CLOEXEC); conn.recv() on a closed peer <-> read() == 0.
 * Usage: build/lab04 pipe [--mode=noclose|close]   (default noclose: the bug first)
 * Watch for: "no EOF" in noclose mode until the child closes its own write end.
 * See also: queue.c (a queue is a pipe + locks in Python), kinds.c.
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_sock(int fd) { struct stat st; return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode); }
static bool is_fifo(int fd) { struct stat st; return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode); }

/* ==== Duplex: Pipe() ==== */

/* The notes' Pipe example: def f(conn): conn.send([42, None, 'hello']); conn.close() - plus a
 * reply the other way. */
static int duplex_child(struct lab_proc *self)
{
    int fd = (int)(intptr_t)self->arg;
    char buf[128];
    if (send(fd, L04_PAYLOAD, strlen(L04_PAYLOAD), 0) < 0)
        return LAB_EXIT_BROKEN;
    /* Two small messages back to back: SEQPACKET delivers them as two, not as "abb". */
    if (send(fd, "a", 1, 0) < 0 || send(fd, "bb", 2, 0) < 0)
        return LAB_EXIT_BROKEN;
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);     /* the same fd receives: duplex */
    if (n <= 0)
        return LAB_EXIT_BROKEN;
    buf[n] = '\0';
    lab_say("child %d: child_conn.recv() -> '%s'", (int)getpid(), buf);
    close(fd);                                        /* conn.close(): the parent's recv sees EOF */
    return strcmp(buf, "thanks") == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== One-way: os.pipe() and EOF ==== */

struct eof_report {
    int data_ok;        /* the child read the parent's line */
    int eof_first;      /* EOF came right after the data, at the first wait (only if no write end is left) */
    int eof_final;      /* EOF after every write end was closed */
    double waited_units;
};

/* The reader.  In noclose mode it forgets to close its inherited copy of the write end. */
struct eof_arg {
    int rfd, wfd;
    bool close_own;
    struct eof_report *rep;
};

static int eof_child(struct lab_proc *self)
{
    struct eof_arg *a = self->arg;
    if (a->close_own)
        close(a->wfd);                                /* the fix: drop the end we don't use */
    char buf[64];
    ssize_t n = read(a->rfd, buf, sizeof buf - 1);   /* the parent's line */
    a->rep->data_ok = n > 0;
    if (n > 0) {
        buf[n] = '\0';
        lab_say("child %d: read %zd bytes: '%s'", (int)getpid(), n, buf);
    }
    /* Wait for EOF, one unit when we still hold a write end (it cannot come then). */
    double t0 = lab_now_ms();
    struct pollfd p = { .fd = a->rfd, .events = POLLIN };
    int r = poll(&p, 1, (int)(a->close_own ? lab_bound_ms(0) : lab_units_ms(1)));
    a->rep->waited_units = lab_elapsed_units(t0);
    if (r == 1 && read(a->rfd, buf, sizeof buf) == 0) {
        a->rep->eof_first = 1;
        a->rep->eof_final = 1;
        lab_say("child %d: read() -> 0: EOF (every write end is closed)", (int)getpid());
        return LAB_EXIT_OK;
    }
    lab_say("child %d: no EOF after %.1f units: this process still holds the write end it inherited",
            (int)getpid(), a->rep->waited_units);
    close(a->wfd);                                    /* now the last write end goes */
    r = poll(&p, 1, (int)lab_bound_ms(0));
    if (r == 1 && read(a->rfd, buf, sizeof buf) == 0) {
        a->rep->eof_final = 1;
        lab_say("child %d: closed its own write end: read() -> 0: EOF", (int)getpid());
    }
    return LAB_EXIT_OK;
}

int run_pipe(int mode)
{
    bool close_own = mode == PIPE_CLOSE;
    int bad = 0;

    /* Part 1: Pipe() = socketpair, both ends can send and recv. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
        die("socketpair:");
    bool duplex_sock = is_sock(sv[0]) && is_sock(sv[1]);
    printf("parent_conn, child_conn = Pipe()   -> socketpair: fds %d and %d are sockets: %s\n", sv[0], sv[1],
           duplex_sock ? "yes" : "no");
    struct lab_proc p = LAB_PROC_INIT(duplex_child, (intptr_t)sv[1]);
    lab_proc_start_or_die(&p);
    close(sv[1]);                                     /* the child's end: ours would hide its EOF */
    char buf[128];
    struct pollfd pf = { .fd = sv[0], .events = POLLIN };
    ssize_t n = poll(&pf, 1, (int)lab_bound_ms(0)) == 1 ? recv(sv[0], buf, sizeof buf - 1, 0) : -1;
    bool msg_ok = n == (ssize_t)strlen(L04_PAYLOAD) && memcmp(buf, L04_PAYLOAD, (size_t)n) == 0;
    if (n >= 0)
        buf[n] = '\0';
    printf("parent: print(parent_conn.recv()) -> %s\n", n >= 0 ? buf : "(nothing)");
    ssize_t n1 = poll(&pf, 1, (int)lab_bound_ms(0)) == 1 ? recv(sv[0], buf, sizeof buf, 0) : -1;
    ssize_t n2 = poll(&pf, 1, (int)lab_bound_ms(0)) == 1 ? recv(sv[0], buf, sizeof buf, 0) : -1;
    bool boundaries = n1 == 1 && n2 == 2;
    printf("parent: the child sent 'a' then 'bb': two recv() calls got %zd and %zd bytes (boundaries kept)\n",
           n1, n2);
    bool duplex = send(sv[0], "thanks", 6, 0) == 6;   /* the parent sends on the same connection */
    ssize_t sock_end = poll(&pf, 1, (int)lab_bound_ms(0)) == 1 ? recv(sv[0], buf, sizeof buf, 0) : -1;
    int code = lab_proc_join(&p);
    duplex = duplex && code == 0;
    bool sock_eof = sock_end == 0;
    printf("parent: after child_conn.close(): recv() -> %zd (Python: EOFError); child exitcode %d\n", sock_end, code);
    close(sv[0]);

    /* Part 2: os.pipe() is one-way. */
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1)
        die("pipe2:");
    bool oneway_fifo = is_fifo(fds[0]) && is_fifo(fds[1]);
    int werr = write(fds[0], "x", 1) == -1 ? errno : 0;
    printf("r, w = os.pipe()                   -> a pipe (S_ISFIFO: %s); write on the read end -> %s "
           "(Python: \"connection is read-only\")\n", oneway_fifo ? "yes" : "no", lab_errno_name(werr));

    /* Part 3: EOF needs every write end closed, the reader's inherited copy too. */
    struct eof_report *rep = lab_shared_alloc(sizeof *rep);   /* zero-filled */
    struct eof_arg ea = { fds[0], fds[1], close_own, rep };
    printf("mode %s: the child reader %s its copy of the write end\n", lab_mode_name(),
           close_own ? "closes" : "does NOT close");
    struct lab_proc reader = LAB_PROC_INIT(eof_child, &ea);
    lab_proc_start_or_die(&reader);
    close(fds[0]);
    if (write(fds[1], "one line", 8) != 8)
        die("write:");
    close(fds[1]);                                    /* the parent is done writing */
    printf("parent: wrote 'one line' and closed its write end\n");
    int rcode = lab_proc_join(&reader);
    /* The lesson: with the fix EOF comes right after the data; without it, only once the reader
     * drops its own copy. */
    bool eof_lesson = rep->eof_final && (close_own ? rep->eof_first : !rep->eof_first);
    int eof = rep->eof_first;
    printf("parent: EOF reached the reader while it held a write end: %s; after all were closed: %s\n",
           close_own ? "n/a" : (rep->eof_first ? "yes" : "no"), rep->eof_final ? "yes" : "no");

    bad += !duplex_sock || !msg_ok || !boundaries || !duplex || !sock_eof || !oneway_fifo || werr != EBADF
        || !rep->data_ok || rcode != 0 || !eof_lesson;
    lab_result("duplex=%d duplex_is_socket=%d msg_ok=%d boundaries=%d eof_after_close=%d "
               "oneway_is_fifo=%d oneway_write_on_read_end=%s eof=%d eof_after_all_closed=%d",
               duplex, duplex_sock, msg_ok, boundaries, sock_eof, oneway_fifo, lab_errno_name(werr), eof,
               rep->eof_final);
    lab_shared_free(rep, sizeof *rep);
    return bad ? LAB_EXIT_BROKEN : LAB_EXIT_OK;
}
