/* common/sync.c - mutex and condition-variable set-up, errno names; see sync.h. */
#include "sync.h"
#include "die.h"
#include "san.h"

#include <errno.h>
#include <time.h>

/* The race detectors follow pthread_mutex_lock and _timedlock, not _clocklock (glibc 2.30): they
 * are told of a clocklock by hand, or the unlock after it reads as an unlock of an unlocked mutex. */
#ifdef LAB_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#else
#define VALGRIND_HG_MUTEX_LOCK_PRE(m, is_try) ((void)0)
#define VALGRIND_HG_MUTEX_LOCK_POST(m) ((void)0)
#endif

void lab_mutex_init(pthread_mutex_t *m, unsigned flags)
{
    if ((flags & LAB_MUTEX_ERRORCHECK) && (flags & LAB_MUTEX_RECURSIVE))
        die("lab_mutex_init: a mutex is error-checking or recursive, not both");
    int type = (flags & LAB_MUTEX_ERRORCHECK)  ? PTHREAD_MUTEX_ERRORCHECK
               : (flags & LAB_MUTEX_RECURSIVE) ? PTHREAD_MUTEX_RECURSIVE
                                               : PTHREAD_MUTEX_NORMAL;
    pthread_mutexattr_t ma;
    PT_CHECK(pthread_mutexattr_init(&ma));
    PT_CHECK(pthread_mutexattr_settype(&ma, type));
    if (flags & LAB_MUTEX_PSHARED)
        PT_CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
    if (flags & LAB_MUTEX_ROBUST)
        PT_CHECK(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST));
    Pthread_mutex_init(m, &ma);
    PT_CHECK(pthread_mutexattr_destroy(&ma));
}

int lab_mutex_clocklock(pthread_mutex_t *m, const struct timespec *deadline)
{
    /* Free, or a robust mutex whose owner died (EOWNERDEAD): the trylock, which both tools follow,
     * takes it; they then know the lock is ours, or repair a dead owner's. */
    int rc = pthread_mutex_trylock(m);
    if (rc != EBUSY)
        return rc;
#ifdef LAB_TSAN
    __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
#endif
    VALGRIND_HG_MUTEX_LOCK_PRE(m, 1);   /* 1: it may give up, as a trylock does */
    rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, deadline);
    /* Only a plain success is told: an owner that died while we waited (EOWNERDEAD) is a rare case
     * the tools have no words for, and they keep that lock as the dead owner's. */
#ifdef LAB_TSAN
    __tsan_mutex_post_lock(m, rc == 0 ? __tsan_mutex_try_lock : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed, 0);
#endif
    if (rc == 0)
        VALGRIND_HG_MUTEX_LOCK_POST(m);
    return rc;
}

void lab_cond_init(pthread_cond_t *c, unsigned flags)
{
    pthread_condattr_t ca;
    PT_CHECK(pthread_condattr_init(&ca));
    PT_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    if (flags & LAB_COND_PSHARED)
        PT_CHECK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
    Pthread_cond_init(c, &ca);
    PT_CHECK(pthread_condattr_destroy(&ca));
}

const char *lab_errno_name(int err)
{
    /* The errors the labs meet; a table, not strerrorname_np(), so any libc will do. */
    static const struct { int err; const char *name; } names[] = {
        { 0, "OK" },
        { EPERM, "EPERM" },           { ENOENT, "ENOENT" },     { EINTR, "EINTR" },
        { ENXIO, "ENXIO" },           { E2BIG, "E2BIG" },       { EBADF, "EBADF" },
        { ECHILD, "ECHILD" },         { EAGAIN, "EAGAIN" },     { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" },         { EBUSY, "EBUSY" },       { EEXIST, "EEXIST" },
        { EINVAL, "EINVAL" },         { EMFILE, "EMFILE" },     { ENOSPC, "ENOSPC" },
        { EPIPE, "EPIPE" },           { EDEADLK, "EDEADLK" },   { ENOSYS, "ENOSYS" },
        { EIDRM, "EIDRM" },           { EMSGSIZE, "EMSGSIZE" }, { EADDRINUSE, "EADDRINUSE" },
        { ECONNRESET, "ECONNRESET" }, { ETIMEDOUT, "ETIMEDOUT" }, { ECONNREFUSED, "ECONNREFUSED" },
        { EOWNERDEAD, "EOWNERDEAD" }, { ENOTRECOVERABLE, "ENOTRECOVERABLE" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].err == err)
            return names[i].name;
    return "E?";
}
