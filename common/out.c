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

/* ---- 100 columns: a projector shows every human line whole ---- */

/* The columns of the UTF-8 character at s (its byte count in *len): East Asian wide ones take 2. */
static int char_width(const unsigned char *s, size_t avail, size_t *len)
{
    unsigned cp;
    if (s[0] < 0x80) {
        *len = 1;
        return 1;
    }
    if (s[0] >= 0xf0 && avail >= 4) {
        *len = 4;
        cp = (s[0] & 7u) << 18 | (s[1] & 63u) << 12 | (s[2] & 63u) << 6 | (s[3] & 63u);
    } else if (s[0] >= 0xe0 && avail >= 3) {
        *len = 3;
        cp = (s[0] & 15u) << 12 | (s[1] & 63u) << 6 | (s[2] & 63u);
    } else if (s[0] >= 0xc0 && avail >= 2) {
        *len = 2;
        return 1;
    } else {
        *len = 1;
        return 1;
    }
    bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
    return wide ? 2 : 1;
}

/* The length of an ANSI colour sequence at s (ESC [ ... m), or 0. */
static size_t escape_len(const char *s, size_t avail)
{
    if (avail < 2 || s[0] != '\033' || s[1] != '[')
        return 0;
    size_t i = 2;
    while (i < avail && ((s[i] >= '0' && s[i] <= '9') || s[i] == ';'))
        i++;
    return i < avail && s[i] == 'm' ? i + 1 : 0;
}

int lab_text_width(const char *s, size_t len)
{
    int w = 0;
    for (size_t i = 0; i < len;) {
        size_t e = escape_len(s + i, len - i), n;
        if (e) {
            i += e;
            continue;
        }
        w += char_width((const unsigned char *)s + i, len - i, &n);
        i += n;
    }
    return w;
}

/* Copy one line (without its newline) into out, wrapped at LAB_COLUMNS: a break at the last space
 * that fits, continuation lines indented 4 more than the line.  RESULT and GANTT lines (machine
 * lines) are copied whole.  Returns the bytes written (each piece ends with "\n"). */
static size_t wrap_line(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0, k = 0, esc;
    while ((esc = escape_len(in + k, len - k)) != 0)   /* a dimmed RESULT line is still one */
        k += esc;
    bool machine = (len - k >= 7 && strncmp(in + k, "RESULT ", 7) == 0) ||
                   (len - k >= 5 && strncmp(in + k, "GANTT", 5) == 0);
    if (machine || lab_text_width(in, len) <= LAB_COLUMNS || cap < 2 * len + 256) {
        memcpy(out, in, len);
        out[len] = '\n';
        return len + 1;
    }
    size_t indent = 0;
    while (indent < len && in[indent] == ' ')
        indent++;
    indent = indent > 16 ? 16 : indent;
    size_t i = 0;
    bool first = true;
    while (i < len) {
        size_t pad = first ? 0 : indent + 4;
        int w = (int)pad;
        size_t j = i, last_space = 0, n;
        while (j < len) {
            size_t e = escape_len(in + j, len - j);
            if (e) {
                j += e;
                continue;
            }
            int cw = char_width((const unsigned char *)in + j, len - j, &n);
            if (w + cw > LAB_COLUMNS)
                break;
            if (in[j] == ' ' && j > i + (first ? indent : 0))
                last_space = j;
            w += cw;
            j += n;
        }
        size_t end = j, next = j;
        if (j < len && last_space > i) {
            end = last_space;
            next = last_space + 1;
        }
        while (end > i && in[end - 1] == ' ')
            end--;
        if (!first) {
            memset(out + o, ' ', pad);
            o += pad;
        }
        memcpy(out + o, in + i, end - i);
        o += end - i;
        out[o++] = '\n';
        i = next;
        while (i < len && in[i] == ' ')
            i++;
        first = false;
    }
    return o;
}

/* Wrap every line of buf[0..len) (a trailing piece without "\n" is copied as is) and write it
 * with one write(2). */
static void write_all(const char *buf, size_t len);
static void write_wrapped(const char *buf, size_t len)
{
    char out[3 * LINE_MAX_BYTES];
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
        if (o + 2 * n + 256 > sizeof out) {   /* flush what we have */
            write_all(out, o);
            o = 0;
        }
        if (2 * n + 256 > sizeof out) {       /* a huge line: as is */
            write_all(buf + i, n + (nl != NULL));
        } else if (nl) {
            o += wrap_line(buf + i, n, out + o, sizeof out - o);
        } else {
            memcpy(out + o, buf + i, n);
            o += n;
        }
        i += n + (nl != NULL);
    }
    write_all(out, o);
}

/* stdout for printf: every line goes through write_wrapped. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
    (void)cookie;
    int saved = errno;
    write_wrapped(buf, len);
    errno = saved;
    return (ssize_t)len;
}

static bool wrap_on;   /* lab_out_install ran: human lines are wrapped, on a terminal or not */

void lab_out_install(void)
{
    static bool done;
    if (done)
        return;
    wrap_on = true;
    cookie_io_functions_t io = { .write = cookie_write };
    FILE *f = fopencookie(NULL, "w", io);
    if (f == NULL)
        return;
    fflush(stdout);
    /* A buffer of our own, set here before any thread starts: left to stdio, it is malloc'ed by
     * the first printf, maybe in a thread, and ThreadSanitizer (which does not see the stream's
     * lock inside libc) takes write_wrapped's reads of it in another thread for a data race. */
    static char buf[BUFSIZ];
    setvbuf(f, buf, _IOLBF, sizeof buf);
    stdout = f;
    done = true;
}

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

static char *result_record;        /* where lab_result copies its line (lab_result_record) */
static size_t result_record_len;

void lab_result_record(char *buf, size_t len)
{
    result_record = buf;
    result_record_len = len;
}

/* One line: before + prefix + the formatted text + after + "\n", in one write.  `before` and
 * `after` are colour codes (they stay out of what lab_result records). */
static __attribute__((format(printf, 4, 0))) void vsay(const char *before, const char *prefix, const char *after,
                                                        const char *fmt, va_list ap)
{
    char buf[LINE_MAX_BYTES];
    int saved = errno;
    size_t tail = strlen(after) + 1;
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s%s", before, prefix);
    size_t text = strlen(before);
    int m = vsnprintf(buf + n, sizeof buf - n - tail, fmt, ap);
    if (m > 0)
        n += (size_t)m < sizeof buf - n - tail ? (size_t)m : sizeof buf - n - tail - 1;
    if (result_record && *prefix) {
        snprintf(result_record, result_record_len, "%.*s", (int)(n - text), buf + text);
    }
    memcpy(buf + n, after, tail - 1);
    n += tail - 1;
    buf[n++] = '\n';
    fflush(stdout);
    if (wrap_on)
        write_wrapped(buf, n);
    else
        write_all(buf, n);
    errno = saved;
}

void lab_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay("", "", "", fmt, ap);
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
    /* On a terminal the machine line is dimmed so the story stands out; piped, it is plain. */
    vsay(lab_color(LAB_DIM), prefix, lab_color(LAB_RESET), fields_fmt, ap);
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
