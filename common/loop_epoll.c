/* common/loop_epoll.c - the event loop waiting in epoll_wait(2).
 *
 * The interest list lives in the kernel (epoll_ctl ADD/MOD/DEL when a mask changes); a wait
 * returns only the ready descriptors, so its cost follows the activity, not the number watched.
 * With lab_loop_set_edge() the descriptors are added with EPOLLET: reported once per change. */
#include "loop_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct epoll_state {
    int epfd;
    struct epoll_event *events;   /* setsize of them */
};

static int ep_create(struct lab_loop *l)
{
    struct epoll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    s->events = calloc((size_t)l->setsize, sizeof *s->events);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->events == NULL || s->epfd == -1) {
        int err = errno;
        if (s->epfd >= 0)
            close(s->epfd);
        free(s->events);
        free(s);
        errno = err;
        return -1;
    }
    l->state = s;
    return 0;
}

static void ep_destroy(struct lab_loop *l)
{
    struct epoll_state *s = l->state;
    close(s->epfd);
    free(s->events);
    free(s);
}

static uint32_t events_of(const struct lab_loop *l, int mask)
{
    return ((mask & LAB_LOOP_READABLE) ? EPOLLIN | EPOLLRDHUP : 0u) | ((mask & LAB_LOOP_WRITABLE) ? EPOLLOUT : 0u)
           | (l->edge ? EPOLLET : 0u);
}

static int ep_add(struct lab_loop *l, int fd, int old, int mask)
{
    struct epoll_state *s = l->state;
    struct epoll_event ev = { .events = events_of(l, mask), .data.fd = fd };
    return epoll_ctl(s->epfd, old == LAB_LOOP_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static void ep_del(struct lab_loop *l, int fd, int old, int mask)
{
    (void)old;
    struct epoll_state *s = l->state;
    struct epoll_event ev = { .events = events_of(l, mask), .data.fd = fd };
    /* A descriptor already closed is gone from the interest list: nothing to report. */
    (void)epoll_ctl(s->epfd, mask == LAB_LOOP_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fd, &ev);
}

static int ep_poll(struct lab_loop *l, int timeout_ms)
{
    struct epoll_state *s = l->state;
    int rc = epoll_wait(s->epfd, s->events, l->setsize, timeout_ms);
    for (int i = 0; i < rc; i++) {
        uint32_t e = s->events[i].events;
        int mask = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
            mask |= LAB_LOOP_READABLE;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            mask |= LAB_LOOP_WRITABLE;
        l->fired[i] = (struct lab_loop_fired){ s->events[i].data.fd, mask };
    }
    return rc;
}

const struct lab_loop_backend lab_loop_epoll_backend = {
    .name = "epoll", .create = ep_create, .destroy = ep_destroy, .add = ep_add, .del = ep_del, .poll = ep_poll,
};
