/* common/loop_poll.c - the event loop waiting in poll(2).
 *
 * An array of struct pollfd, one slot per watched descriptor, and a map from descriptor to slot
 * so that adding and removing are O(1) (a removed slot is filled with the last one).  No limit on
 * descriptor numbers, but the kernel reads the whole array on every call. */
#include "loop_backend.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

struct poll_state {
    struct pollfd *pfds;    /* nfds of them */
    int nfds;
    int *slot;              /* by descriptor: its index in pfds, or -1 */
};

static int pl_create(struct lab_loop *l)
{
    struct poll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    s->pfds = calloc((size_t)l->setsize, sizeof *s->pfds);
    s->slot = malloc((size_t)l->setsize * sizeof *s->slot);
    if (s->pfds == NULL || s->slot == NULL) {
        free(s->pfds);
        free(s->slot);
        free(s);
        return -1;
    }
    for (int i = 0; i < l->setsize; i++)
        s->slot[i] = -1;
    l->state = s;
    return 0;
}

static void pl_destroy(struct lab_loop *l)
{
    struct poll_state *s = l->state;
    free(s->pfds);
    free(s->slot);
    free(s);
}

static short events_of(int mask)
{
    return (short)(((mask & LAB_LOOP_READABLE) ? POLLIN : 0) | ((mask & LAB_LOOP_WRITABLE) ? POLLOUT : 0));
}

static int pl_add(struct lab_loop *l, int fd, int old, int mask)
{
    (void)old;
    struct poll_state *s = l->state;
    if (s->slot[fd] < 0) {
        s->slot[fd] = s->nfds;
        s->pfds[s->nfds++] = (struct pollfd){ .fd = fd };
    }
    s->pfds[s->slot[fd]].events = events_of(mask);
    return 0;
}

static void pl_del(struct lab_loop *l, int fd, int old, int mask)
{
    (void)old;
    struct poll_state *s = l->state;
    int i = s->slot[fd];
    if (i < 0)
        return;
    if (mask != LAB_LOOP_NONE) {
        s->pfds[i].events = events_of(mask);
        return;
    }
    s->pfds[i] = s->pfds[--s->nfds];     /* the last slot moves into the hole */
    if (i < s->nfds)
        s->slot[s->pfds[i].fd] = i;
    s->slot[fd] = -1;
}

static int pl_poll(struct lab_loop *l, int timeout_ms)
{
    struct poll_state *s = l->state;
    int rc = poll(s->pfds, (nfds_t)s->nfds, timeout_ms);
    if (rc <= 0)
        return rc;
    int n = 0;
    for (int i = 0; i < s->nfds && n < rc; i++) {
        short re = s->pfds[i].revents;
        if (re == 0)
            continue;
        int mask = 0;
        /* An error or a hang-up is reported as readable: the callback's read() will say which. */
        if (re & (POLLIN | POLLERR | POLLHUP))
            mask |= LAB_LOOP_READABLE;
        if (re & (POLLOUT | POLLERR | POLLHUP))
            mask |= LAB_LOOP_WRITABLE;
        l->fired[n++] = (struct lab_loop_fired){ s->pfds[i].fd, mask };
    }
    return n;
}

const struct lab_loop_backend lab_loop_poll_backend = {
    .name = "poll", .create = pl_create, .destroy = pl_destroy, .add = pl_add, .del = pl_del, .poll = pl_poll,
};
