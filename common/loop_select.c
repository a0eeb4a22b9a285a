/* common/loop_select.c - the event loop waiting in select(2).
 *
 * Two bitmaps of FD_SETSIZE (1024) bits say what to watch; select overwrites its arguments, so
 * they are copied before each call.  A descriptor >= FD_SETSIZE cannot be put in the bitmap
 * (FD_SET would write past it: undefined behaviour), so such a loop is refused when it is made. */
#include "loop_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

struct select_state {
    fd_set rfds, wfds;
};

static int sel_create(struct lab_loop *l)
{
    struct select_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    FD_ZERO(&s->rfds);
    FD_ZERO(&s->wfds);
    l->state = s;
    return 0;
}

static void sel_destroy(struct lab_loop *l) { free(l->state); }

static int sel_add(struct lab_loop *l, int fd, int old, int mask)
{
    (void)old;
    struct select_state *s = l->state;
    if (mask & LAB_LOOP_READABLE)
        FD_SET(fd, &s->rfds);
    if (mask & LAB_LOOP_WRITABLE)
        FD_SET(fd, &s->wfds);
    return 0;
}

static void sel_del(struct lab_loop *l, int fd, int old, int mask)
{
    (void)old;
    struct select_state *s = l->state;
    if (!(mask & LAB_LOOP_READABLE))
        FD_CLR(fd, &s->rfds);
    if (!(mask & LAB_LOOP_WRITABLE))
        FD_CLR(fd, &s->wfds);
}

static int sel_poll(struct lab_loop *l, int timeout_ms)
{
    struct select_state *s = l->state;
    fd_set r, w;
    memcpy(&r, &s->rfds, sizeof r);
    memcpy(&w, &s->wfds, sizeof w);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int rc = select(l->maxfd + 1, &r, &w, NULL, timeout_ms < 0 ? NULL : &tv);
    if (rc <= 0)
        return rc;
    int n = 0;
    for (int fd = 0; fd <= l->maxfd; fd++) {
        int mask = 0;
        if (FD_ISSET(fd, &r))
            mask |= LAB_LOOP_READABLE;
        if (FD_ISSET(fd, &w))
            mask |= LAB_LOOP_WRITABLE;
        if (mask)
            l->fired[n++] = (struct lab_loop_fired){ fd, mask };
    }
    return n;
}

const struct lab_loop_backend lab_loop_select_backend = {
    .name = "select", .max_setsize = FD_SETSIZE, .create = sel_create, .destroy = sel_destroy,
    .add = sel_add, .del = sel_del, .poll = sel_poll,
};
