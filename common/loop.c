/* common/loop.c - the event loop's core: callbacks by descriptor, timers, dispatch; see loop.h.
 * The ways to wait are in loop_select.c, loop_poll.c and loop_epoll.c. */
#include "loop.h"
#include "loop_backend.h"
#include "clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct lab_loop_backend *const backends[] = {
    &lab_loop_epoll_backend, &lab_loop_poll_backend, &lab_loop_select_backend,
};

const char *lab_loop_backends(void) { return "select,poll,epoll"; }

struct lab_loop *lab_loop_new(const char *name, int setsize)
{
    const struct lab_loop_backend *be = NULL;
    if (name == NULL || strcasecmp(name, "best") == 0)
        be = backends[0];
    for (size_t i = 0; be == NULL && i < sizeof backends / sizeof backends[0]; i++)
        if (strcasecmp(name, backends[i]->name) == 0)
            be = backends[i];
    if (be == NULL || setsize < 1) {
        errno = EINVAL;
        return NULL;
    }
    if (be->max_setsize && setsize > be->max_setsize) {
        errno = ERANGE;
        return NULL;
    }
    struct lab_loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->be = be;
    l->setsize = setsize;
    l->maxfd = -1;
    l->next_timer_id = 1;
    l->files = calloc((size_t)setsize, sizeof *l->files);
    l->fired = calloc((size_t)setsize, sizeof *l->fired);
    if (l->files == NULL || l->fired == NULL || be->create(l) != 0) {
        int err = errno;
        free(l->files);
        free(l->fired);
        free(l);
        errno = err;
        return NULL;
    }
    return l;
}

void lab_loop_free(struct lab_loop *l)
{
    if (l == NULL)
        return;
    l->be->destroy(l);
    free(l->files);
    free(l->fired);
    free(l->timers);
    free(l);
}

const char *lab_loop_backend(const struct lab_loop *l) { return l->be->name; }
int lab_loop_setsize(const struct lab_loop *l) { return l->setsize; }
int lab_loop_nfiles(const struct lab_loop *l) { return l->nfiles; }
int lab_loop_ntimers(const struct lab_loop *l) { return l->ntimers; }

int lab_loop_set_edge(struct lab_loop *l, bool on)
{
    if (on && l->be != &lab_loop_epoll_backend) {
        errno = ENOTSUP;
        return -1;
    }
    l->edge = on;
    return 0;
}

int lab_loop_add(struct lab_loop *l, int fd, int mask, lab_loop_file_fn *fn, void *arg)
{
    if (fd < 0 || fd >= l->setsize) {
        errno = ERANGE;   /* for select: a descriptor past FD_SETSIZE would write past the bitmap */
        return -1;
    }
    struct lab_loop_file *f = &l->files[fd];
    int old = f->mask;
    if (l->be->add(l, fd, old, old | mask) != 0)
        return -1;
    if (old == LAB_LOOP_NONE)
        l->nfiles++;
    f->mask = old | mask;
    f->fn = fn;
    f->arg = arg;
    if (fd > l->maxfd)
        l->maxfd = fd;
    return 0;
}

void lab_loop_del(struct lab_loop *l, int fd, int mask)
{
    if (fd < 0 || fd >= l->setsize || l->files[fd].mask == LAB_LOOP_NONE)
        return;
    struct lab_loop_file *f = &l->files[fd];
    int old = f->mask;
    f->mask = old & ~mask;
    l->be->del(l, fd, old, f->mask);
    if (f->mask == LAB_LOOP_NONE) {
        l->nfiles--;
        if (fd == l->maxfd)
            while (l->maxfd >= 0 && l->files[l->maxfd].mask == LAB_LOOP_NONE)
                l->maxfd--;
    }
}

int lab_loop_mask(const struct lab_loop *l, int fd)
{
    return fd >= 0 && fd < l->setsize ? l->files[fd].mask : LAB_LOOP_NONE;
}

/* ==== Timers: a min-heap on (when, id) ==== */

static bool earlier(const struct lab_loop_timer *a, const struct lab_loop_timer *b)
{
    return a->when_ms != b->when_ms ? a->when_ms < b->when_ms : a->id < b->id;
}

static void swap_timers(struct lab_loop *l, int i, int j)
{
    struct lab_loop_timer t = l->timers[i];
    l->timers[i] = l->timers[j];
    l->timers[j] = t;
}

static void sift_up(struct lab_loop *l, int i)
{
    while (i > 0 && earlier(&l->timers[i], &l->timers[(i - 1) / 2])) {
        swap_timers(l, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct lab_loop *l, int i)
{
    for (;;) {
        int a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->ntimers && earlier(&l->timers[a], &l->timers[m]))
            m = a;
        if (b < l->ntimers && earlier(&l->timers[b], &l->timers[m]))
            m = b;
        if (m == i)
            return;
        swap_timers(l, i, m);
        i = m;
    }
}

static void remove_at(struct lab_loop *l, int i)
{
    l->timers[i] = l->timers[--l->ntimers];
    if (i < l->ntimers) {
        sift_down(l, i);
        sift_up(l, i);
    }
}

static int push_timer(struct lab_loop *l, struct lab_loop_timer t)
{
    if (l->ntimers == l->timers_cap) {
        int cap = l->timers_cap ? 2 * l->timers_cap : 16;
        struct lab_loop_timer *bigger = realloc(l->timers, (size_t)cap * sizeof *bigger);
        if (bigger == NULL)
            return -1;
        l->timers = bigger;
        l->timers_cap = cap;
    }
    l->timers[l->ntimers] = t;
    sift_up(l, l->ntimers++);
    return 0;
}

long long lab_loop_timer_add(struct lab_loop *l, double ms, lab_loop_timer_fn *fn, void *arg)
{
    struct lab_loop_timer t = { .id = l->next_timer_id++, .when_ms = lab_now_ms() + (ms > 0 ? ms : 0),
                                .fn = fn, .arg = arg };
    return push_timer(l, t) == 0 ? t.id : -1;
}

int lab_loop_timer_del(struct lab_loop *l, long long id)
{
    for (int i = 0; i < l->ntimers; i++)
        if (l->timers[i].id == id) {
            remove_at(l, i);
            return 0;
        }
    errno = ENOENT;
    return -1;
}

/* Run every timer due by now; those added while running wait for the next turn. */
static int run_timers(struct lab_loop *l)
{
    int ran = 0;
    double now = lab_now_ms();
    long long last_id = l->next_timer_id;
    while (l->ntimers > 0 && l->timers[0].when_ms <= now && l->timers[0].id < last_id) {
        struct lab_loop_timer t = l->timers[0];
        remove_at(l, 0);
        double again = t.fn(l, t.id, t.arg);
        ran++;
        if (again >= 0) {
            t.when_ms = now + again;
            if (push_timer(l, t) != 0)
                break;   /* out of memory: the timer ends */
        }
    }
    return ran;
}

int lab_loop_run_once(struct lab_loop *l, double max_ms)
{
    double wait = max_ms;
    if (l->ntimers > 0) {
        double until = l->timers[0].when_ms - lab_now_ms();
        if (until < 0)
            until = 0;
        if (wait < 0 || until < wait)
            wait = until;
    }
    int timeout = wait < 0 ? -1 : (int)ceil(wait);
    int n = l->be->poll(l, timeout);
    if (n < 0) {
        if (errno == EINTR)
            n = 0;
        else
            return -1;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        int fd = l->fired[i].fd;
        struct lab_loop_file *f = &l->files[fd];
        int mask = l->fired[i].mask & f->mask;   /* a callback before may have removed it */
        if (mask && f->fn) {
            f->fn(l, fd, f->arg, mask);
            ran++;
        }
    }
    return ran + run_timers(l);
}

void lab_loop_run(struct lab_loop *l)
{
    l->stop = false;
    while (!l->stop && (l->nfiles > 0 || l->ntimers > 0))
        if (lab_loop_run_once(l, -1) < 0)
            break;
}

void lab_loop_stop(struct lab_loop *l) { l->stop = true; }
