/* labs/01-processes/util.c - small tools shared by the scenarios of lab 1.
 *
 * Nothing here is the lesson; these are the instruments that let the lab *show* it:
 *   - a probe page shared with forked children (lab_shared_alloc of common/shm.h: an anonymous
 *     MAP_SHARED mapping), so the parent can count the lines a child printed or learn the pid a
 *     child saw, after the child is gone;
 *   - /proc/PID/stat, the file `ps` reads: the state letter (R, S, Z...) and the ppid;
 *   - pipe reads bounded by a deadline, so that a handshake with a child that died can never hang.
 * See also: lab01.h.
 */
#include "lab.h"
#include "lab01.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int l01_money = 100;

struct l01_probe *l01_probe_new(void)
{
    /* Anonymous and shared: no name in /dev/shm, nothing to clean up but the mapping. */
    return lab_shared_alloc(sizeof(struct l01_probe));
}

void l01_probe_free(struct l01_probe *p)
{
    lab_shared_free(p, sizeof *p);
}

bool l01_proc_exists(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return access(path, F_OK) == 0;
}

void l01_proc_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    snprintf(buf, len, "?");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0) {
        snprintf(buf, len, "?");
        return;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

int l01_read_ms(int fd, void *buf, size_t len, double ms)
{
    char *p = buf;
    double end = lab_now_ms() + ms;
    while (len > 0) {
        double left = end - lab_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)left + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;       /* error or timeout */
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;       /* error or EOF: the writer is gone */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int l01_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void l01_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        die("pipe2:");
}
