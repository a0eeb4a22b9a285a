/* labs/12-select-epoll/http.c - the protocol every server speaks: uppercase echo, or --http.
 *
 * Echo is the notes' protocol: whatever arrives goes back uppercased (conn.send(data.upper())).
 * TCP has no message boundaries, so the server never waits for "a message": it answers each read
 * as it comes, and the client reads until it has as many bytes as it sent.
 * --http serves one fixed small page so that clients no one here wrote (curl, wrk, ab) can load
 * the same servers.  The parser keeps an unfinished request head in the session between reads (a
 * request split across reads), answers every complete request in a read (pipelining), keeps the
 * connection open (HTTP/1.1 keep-alive) unless told "Connection: close", skips a Content-Length
 * body, and answers anything it does not understand with 400 and a close: a parser that sees
 * hostile bytes (the fuzz scenario sends them) must never crash, loop or read past its buffer.
 * Usage: every server scenario with --http; build/lab12 fuzz.
 * Watch for: the replies to one read are built in one buffer and written with one send.
 */
#include "lab.h"
#include "lab12.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define BODY "Hello, World!"
#define HEAD "HTTP/1.1 200 OK\r\nServer: lab12\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
const char l12_http_ok[] = HEAD "\r\n" BODY;
const size_t l12_http_ok_len = sizeof l12_http_ok - 1;
static const char ok_keepalive10[] = HEAD "Connection: keep-alive\r\n\r\n" BODY;
static const char ok_close[] = HEAD "Connection: close\r\n\r\n" BODY;
static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char too_large[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char not_impl[] = "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const char l12_http_request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* The shortest request head is "A / HTTP/1.1\r\n\r\n" (16 bytes) and the longest reply 160: the
 * replies to one read and what waits in the session always fit in the output buffer. */
#define MIN_REQUEST 16
#define MAX_REPLY 160
_Static_assert(sizeof ok_close - 1 <= MAX_REPLY && sizeof too_large - 1 <= MAX_REPLY, "replies too long");
_Static_assert((L12_READ + L12_INBUF) / MIN_REQUEST * MAX_REPLY <= L12_OUTCAP, "output buffer too small");

void session_init(struct session *s, bool http)
{
    s->http = http;
    s->close_after = false;
    s->inlen = 0;
    s->body_left = 0;
    s->requests = 0;
}

size_t session_feed(struct session *s, const char *data, size_t n, char *out)
{
    if (s->http)
        return http_feed(s, data, n, out);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)toupper((unsigned char)data[i]);
    s->requests++;
    return n;
}

/* ==== The request head ==== */

enum verdict { V_OK, V_OK_KEEPALIVE10, V_CLOSE, V_BAD, V_NOT_IMPL };

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Does the comma-separated list v (len bytes) hold the token tok (any case)? */
static bool has_token(const char *v, size_t len, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i < len;) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - i == tl && strncasecmp(v + i, tok, tl) == 0)
            return true;
        i = j;
    }
    return false;
}

/* Parse the head h[0..len) (without the final CRLF CRLF).  *body gets a Content-Length. */
static enum verdict parse_head(const char *h, size_t len, uint64_t *body)
{
    size_t i = 0;
    /* request line: method SP target SP HTTP/1.x */
    while (i < len && is_tchar((unsigned char)h[i]))
        i++;
    if (i == 0 || i >= len || h[i] != ' ')
        return V_BAD;
    size_t t = ++i;
    while (i < len && (unsigned char)h[i] > ' ' && h[i] != 0x7f)
        i++;
    if (i == t || i >= len || h[i] != ' ')
        return V_BAD;
    i++;
    if (len - i < 8 || memcmp(h + i, "HTTP/1.", 7) != 0 || (h[i + 7] != '0' && h[i + 7] != '1'))
        return V_BAD;
    bool v10 = h[i + 7] == '0';
    i += 8;
    bool closing = v10, keepalive = false, have_len = false;
    *body = 0;
    while (i < len) {
        if (len - i < 2 || h[i] != '\r' || h[i + 1] != '\n')
            return V_BAD;
        i += 2;
        size_t name = i;
        while (i < len && is_tchar((unsigned char)h[i]))
            i++;
        if (i == name || i >= len || h[i] != ':')
            return V_BAD;
        size_t nlen = i - name;
        i++;
        size_t v = i;
        while (i < len && h[i] != '\r') {
            unsigned char c = (unsigned char)h[i];
            if ((c < ' ' && c != '\t') || c == 0x7f)
                return V_BAD;
            i++;
        }
        size_t vlen = i - v;
        if (nlen == 10 && strncasecmp(h + name, "connection", 10) == 0) {
            if (has_token(h + v, vlen, "close"))
                closing = true;
            else if (has_token(h + v, vlen, "keep-alive"))
                keepalive = true;
        } else if (nlen == 14 && strncasecmp(h + name, "content-length", 14) == 0) {
            uint64_t x = 0;
            size_t k = v, digits = 0;
            while (k < v + vlen && (h[k] == ' ' || h[k] == '\t'))
                k++;
            for (; k < v + vlen && isdigit((unsigned char)h[k]); k++, digits++) {
                x = x * 10 + (uint64_t)(h[k] - '0');
                if (x > 1000000000)
                    return V_BAD;
            }
            while (k < v + vlen && (h[k] == ' ' || h[k] == '\t'))
                k++;
            if (digits == 0 || k != v + vlen || (have_len && x != *body))
                return V_BAD;
            have_len = true;
            *body = x;
        } else if (nlen == 17 && strncasecmp(h + name, "transfer-encoding", 17) == 0) {
            return V_NOT_IMPL;
        }
    }
    if (v10 && keepalive && !closing)
        return V_OK_KEEPALIVE10;
    return closing ? V_CLOSE : V_OK;
}

static size_t put(char *out, size_t o, const char *s, size_t n)
{
    memcpy(out + o, s, n);
    return o + n;
}

/* The end of the first head in s->in ("\r\n\r\n"), or 0. */
static size_t head_end(const struct session *s)
{
    for (size_t i = 3; i < s->inlen; i++)
        if (s->in[i] == '\n' && s->in[i - 1] == '\r' && s->in[i - 2] == '\n' && s->in[i - 3] == '\r')
            return i + 1;
    return 0;
}

static void consume(struct session *s, size_t k)
{
    memmove(s->in, s->in + k, s->inlen - k);
    s->inlen -= (uint32_t)k;
}

size_t http_feed(struct session *s, const char *data, size_t n, char *out)
{
    size_t o = 0;
    while (!s->close_after) {
        if (s->body_left > 0) {   /* a body we do not need: drop it, from the buffer first */
            size_t k = s->inlen < s->body_left ? s->inlen : (size_t)s->body_left;
            consume(s, k);
            s->body_left -= k;
            k = n < s->body_left ? n : (size_t)s->body_left;
            data += k;
            n -= k;
            s->body_left -= k;
            if (s->body_left > 0)
                return o;
        }
        size_t end = head_end(s);
        if (end == 0) {
            if (n == 0)
                return o;
            if (s->inlen == L12_INBUF) {
                s->close_after = true;
                return put(out, o, too_large, sizeof too_large - 1);
            }
            size_t k = L12_INBUF - s->inlen < n ? L12_INBUF - s->inlen : n;
            memcpy(s->in + s->inlen, data, k);
            s->inlen += (uint32_t)k;
            data += k;
            n -= k;
            continue;
        }
        uint64_t body = 0;
        enum verdict v = parse_head(s->in, end - 4, &body);
        consume(s, end);
        s->requests++;
        switch (v) {
        case V_OK: o = put(out, o, l12_http_ok, l12_http_ok_len); break;
        case V_OK_KEEPALIVE10: o = put(out, o, ok_keepalive10, sizeof ok_keepalive10 - 1); break;
        case V_CLOSE: o = put(out, o, ok_close, sizeof ok_close - 1); s->close_after = true; break;
        case V_BAD: o = put(out, o, bad_request, sizeof bad_request - 1); s->close_after = true; break;
        case V_NOT_IMPL: o = put(out, o, not_impl, sizeof not_impl - 1); s->close_after = true; break;
        }
        s->body_left = body;
    }
    return o;
}
