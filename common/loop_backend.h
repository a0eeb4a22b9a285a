/* common/loop_backend.h - what each backend of the event loop provides (private to loop*.c).
 *
 * A backend keeps its own state in l->state and answers five calls; the loop does the rest (the
 * table of callbacks, the timers, the dispatch).  poll() fills l->fired[0..n-1] and returns n.
 */
#ifndef COMMON_LOOP_BACKEND_H
#define COMMON_LOOP_BACKEND_H

#include "loop.h"

struct lab_loop_file {
    int mask;                    /* LAB_LOOP_READABLE | LAB_LOOP_WRITABLE, or NONE: not watched */
    lab_loop_file_fn *fn;
    void *arg;
};

struct lab_loop_fired {
    int fd;
    int mask;
};

struct lab_loop_timer {
    long long id;                /* also the FIFO order of timers due at the same time */
    double when_ms;
    lab_loop_timer_fn *fn;
    void *arg;
};

struct lab_loop_backend {
    const char *name;
    int max_setsize;             /* 0: no limit of its own */
    int (*create)(struct lab_loop *l);
    void (*destroy)(struct lab_loop *l);
    /* fd was watched for `old`, is now watched for `mask` (old | new bits). */
    int (*add)(struct lab_loop *l, int fd, int old, int mask);
    /* fd was watched for `old`, is now watched for `mask` (fewer bits, maybe NONE). */
    void (*del)(struct lab_loop *l, int fd, int old, int mask);
    /* Wait at most timeout_ms (-1: no limit) and fill l->fired. */
    int (*poll)(struct lab_loop *l, int timeout_ms);
};

struct lab_loop {
    const struct lab_loop_backend *be;
    void *state;                 /* the backend's */
    int setsize;
    int maxfd;                   /* highest watched descriptor, -1 none */
    int nfiles;
    bool edge;
    bool stop;
    struct lab_loop_file *files; /* setsize of them, by descriptor */
    struct lab_loop_fired *fired; /* setsize of them */
    struct lab_loop_timer *timers;   /* a min-heap on (when_ms, id) */
    int ntimers, timers_cap;
    long long next_timer_id;
};

extern const struct lab_loop_backend lab_loop_select_backend;
extern const struct lab_loop_backend lab_loop_poll_backend;
extern const struct lab_loop_backend lab_loop_epoll_backend;

#endif
