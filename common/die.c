/* common/die.c - error reporting; see die.h. */
#include "die.h"
#include "prog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Format "prog: msg[: strerror(err)]\n" and write it with one write(2),
 * so that lines from several processes never tear. */
static __attribute__((format(printf, 3, 0))) void report(int err, int append_err, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s: ", lab_prog_name());
    if (n < 0 || (size_t)n >= sizeof buf)
        n = 0;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (m > 0)
        n += m;
    if ((size_t)n > sizeof buf - 64)
        n = (int)(sizeof buf - 64);
    size_t len = (size_t)n;
    if (append_err || (len > 0 && buf[len - 1] == ':')) {
        if (len > 0 && buf[len - 1] != ':')
            buf[len++] = ':';
        len += (size_t)snprintf(buf + len, sizeof buf - len, " %s", strerror(err));
    }
    buf[len++] = '\n';
    fflush(stdout);
    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w;
}

/* Leave: a forked child must not run the parent's atexit handlers. */
static void __attribute__((noreturn)) leave(int status)
{
    if (!lab_is_main_process()) {
        fflush(stdout);
        _exit(status);
    }
    exit(status);
}

void die(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    errno = saved;
    report(saved, 0, fmt, ap);
    va_end(ap);
    leave(EXIT_FAILURE);
}

void die_en(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(err, 1, fmt, ap);
    va_end(ap);
    leave(EXIT_FAILURE);
}

void warn_msg(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    report(saved, 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("malloc(%zu):", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        die("calloc(%zu, %zu):", n, size);
    return p;
}
