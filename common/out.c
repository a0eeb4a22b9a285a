/* common/out.c - whole lines, RESULT, colours; see out.h. */
#include "out.h"
#include "prog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096   /* PIPE_BUF: one write of this size is atomic on a pipe */

static int colors = -1;      /* -1: not decided yet */

/* Write all of buf; a line is at most PIPE_BUF, so on a pipe this is one write. */
static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;   /* stdout gone (a closed pipe): nothing sensible to do */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static __attribute__((format(printf, 2, 0))) void vsay(const char *prefix, const char *fmt, va_list ap)
{
    char buf[LINE_MAX_BYTES];
    int saved = errno;
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s", prefix);
    int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
    if (m > 0)
        n += (size_t)m < sizeof buf - n - 1 ? (size_t)m : sizeof buf - n - 2;
    buf[n++] = '\n';
    fflush(stdout);
    write_all(buf, n);
    errno = saved;
}

void lab_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay("", fmt, ap);
    va_end(ap);
}

void lab_result(const char *fields_fmt, ...)
{
    char prefix[160];
    const char *mode = lab_mode_name();
    snprintf(prefix, sizeof prefix, "RESULT l%d.%s %s%s%s", lab_number(), lab_scenario_name(),
             mode ? "mode=" : "", mode ? mode : "", mode ? " " : "");
    va_list ap;
    va_start(ap, fields_fmt);
    vsay(prefix, fields_fmt, ap);
    va_end(ap);
}

void lab_banner(const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    lab_say("%s== %s ==%s", lab_color(LAB_BOLD), text, lab_color(LAB_RESET));
}

bool lab_colors_on(void)
{
    if (colors < 0) {
        const char *nc = getenv("NO_COLOR");
        colors = isatty(STDOUT_FILENO) && !(nc && *nc);
    }
    return colors;
}

void lab_set_colors(bool on) { colors = on; }

const char *lab_color(enum lab_color c)
{
    static const char *const codes[] = {
        [LAB_RESET] = "\033[0m", [LAB_BOLD] = "\033[1m", [LAB_DIM] = "\033[2m",
        [LAB_RED] = "\033[31m", [LAB_GREEN] = "\033[32m", [LAB_YELLOW] = "\033[33m",
        [LAB_BLUE] = "\033[34m", [LAB_MAGENTA] = "\033[35m", [LAB_CYAN] = "\033[36m",
    };
    if (!lab_colors_on() || (unsigned)c >= sizeof codes / sizeof codes[0])
        return "";
    return codes[c];
}
