/* labs/12-select-epoll/uring.c - io_uring: placeholder until the real one. */
#include "lab.h"
#include "lab12.h"

#include <errno.h>
#include <stdio.h>

bool uring_available(char *why, size_t len)
{
    snprintf(why, len, "not built yet");
    return false;
}

int serve_uring(struct server *srv)
{
    (void)srv;
    errno = ENOSYS;
    return -1;
}
