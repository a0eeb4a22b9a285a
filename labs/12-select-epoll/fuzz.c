/* labs/12-select-epoll/fuzz.c - the HTTP parser against hostile bytes.
 *
 * A server's parser reads what strangers send.  Here it gets valid requests, requests with random
 * bytes flipped, inserted or cut off, pure noise, and huge or broken headers, each fed whole and
 * again in random pieces (a request split across reads).  Two properties are checked on every
 * case: nothing crashes or loops (every call returns; Valgrind watches the reads and writes), and
 * the replies do not depend on how the bytes were split (the parser keeps its state right between
 * reads).  Pipelined valid requests must get exactly one reply each.
 * Usage: build/lab12 fuzz [--cases=N]   (LAB_SEED picks the cases)
 * Watch for: split_mismatch=0, pipelined_ok equal to the pipelined cases.
 */
#include "lab.h"
#include "lab12.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const seeds[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /x?y=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
};

/* Feed buf[0..n) in pieces of random sizes (all of it at once when whole); the replies go to rep. */
static size_t feed(const char *buf, size_t n, bool whole, char *rep, size_t repcap, char *out)
{
    struct session s;
    session_init(&s, true);
    size_t r = 0;
    for (size_t i = 0; i < n;) {
        size_t k = whole ? n - i : 1 + (size_t)(lab_randint(0, (long long)(64) - 1));
        if (k > n - i)
            k = n - i;
        if (k > L12_READ)
            k = L12_READ;
        size_t o = session_feed(&s, buf + i, k, out);
        if (r + o <= repcap) {
            memcpy(rep + r, out, o);
        }
        r += o;
        i += k;
    }
    return r;
}

int run_fuzz(int mode)
{
    (void)mode;
    long cases = lab_opt("cases");
    enum { CAP = 8192 };
    char *buf = xmalloc(CAP), *a = xmalloc(1 << 20), *b = xmalloc(1 << 20), *out = xmalloc(L12_OUTCAP);
    long mismatch = 0, pipelined = 0, pipelined_ok = 0, replies = 0;
    for (long c = 0; c < cases; c++) {
        size_t n = 0;
        int kind = (int)(lab_randint(0, (long long)(5) - 1));
        if (kind == 0) {   /* k valid requests back to back (pipelining) */
            int k = 1 + (int)(lab_randint(0, (long long)(20) - 1));
            for (int i = 0; i < k; i++) {
                memcpy(buf + n, seeds[0], strlen(seeds[0]));
                n += strlen(seeds[0]);
            }
            pipelined++;
            size_t r = feed(buf, n, false, a, 1 << 20, out);
            pipelined_ok += r == (size_t)k * l12_http_ok_len;
        } else if (kind == 1) {   /* noise */
            n = (size_t)(lab_randint(0, (long long)(CAP) - 1));
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)(lab_randint(0, (long long)(256) - 1));
        } else {   /* a seed with bytes flipped, inserted or cut */
            const char *sd = seeds[(lab_randint(0, (long long)(sizeof seeds / sizeof seeds[0]) - 1))];
            n = strlen(sd);
            memcpy(buf, sd, n);
            int edits = 1 + (int)(lab_randint(0, (long long)(4) - 1));
            for (int e = 0; e < edits && n > 0; e++) {
                size_t at = (size_t)(lab_randint(0, (long long)(n) - 1));
                switch ((lab_randint(0, (long long)(4) - 1))) {
                case 0: buf[at] = (char)(lab_randint(0, (long long)(256) - 1)); break;
                case 1: n = at; break;   /* truncated */
                case 2: buf[at] = "\r\n: \0"[(lab_randint(0, (long long)(5) - 1))]; break;
                default:   /* a long run of one byte: a header too large */
                    if (n + 3000 < CAP) {
                        memmove(buf + at + 3000, buf + at, n - at);
                        memset(buf + at, 'A', 3000);
                        n += 3000;
                    }
                }
            }
        }
        size_t ra = feed(buf, n, true, a, 1 << 20, out);
        size_t rb = feed(buf, n, false, b, 1 << 20, out);
        replies += ra > 0;
        if (ra != rb || memcmp(a, b, ra < (1 << 20) ? ra : (1 << 20)) != 0)
            mismatch++;
    }
    printf("fuzz: %ld cases (valid, pipelined, noise, flipped, truncated, oversized), each fed whole and in pieces\n",
           cases);
    printf("fuzz: %ld answered something; %ld gave different replies when split; %ld of %ld pipelined runs got "
           "one reply per request\n", replies, mismatch, pipelined_ok, pipelined);
    lab_result("cases=%ld split_mismatch=%ld pipelined=%ld pipelined_ok=%ld crashes=0", cases, mismatch, pipelined,
               pipelined_ok);
    free(buf);
    free(a);
    free(b);
    free(out);
    return mismatch == 0 && pipelined_ok == pipelined ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
