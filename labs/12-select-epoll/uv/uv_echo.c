/* labs/12-select-epoll/uv/uv_echo.c - the bench's libuv server: the same uppercase echo, on libuv.
 *
 * Not part of build/lab12: the Makefile builds it as build/l12_uv_echo only when pkg-config finds
 * libuv (Debian libuv1-dev).  Written the way libuv's own echo examples are: one uv_tcp_t per
 * connection, alloc_cb hands out a buffer, read_cb uppercases it and queues a uv_write.
 * Usage: build/l12_uv_echo   (prints LISTENING port=N; stops on SIGTERM/SIGINT)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

struct wreq {
    uv_write_t req;
    uv_buf_t buf;
};

static uv_loop_t *loop;

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void close_cb(uv_handle_t *h) { free(h); }

static void write_cb(uv_write_t *req, int status)
{
    (void)status;
    struct wreq *w = (struct wreq *)req;
    free(w->buf.base);
    free(w);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    if (n > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf->base[i] = (char)toupper((unsigned char)buf->base[i]);
        struct wreq *w = malloc(sizeof *w);
        w->buf = uv_buf_init(buf->base, (unsigned)n);
        uv_write(&w->req, s, &w->buf, 1, write_cb);
        return;
    }
    free(buf->base);
    if (n < 0)
        uv_close((uv_handle_t *)s, close_cb);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(loop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0)
        uv_read_start((uv_stream_t *)c, alloc_cb, read_cb);
    else
        uv_close((uv_handle_t *)c, close_cb);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    uv_stop(h->loop);
}

int main(void)
{
    loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server, 4096, on_conn) != 0) {
        fprintf(stderr, "l12_uv_echo: cannot listen\n");
        return 1;
    }
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&server, (struct sockaddr *)&got, &len);
    printf("LISTENING port=%d\n", ntohs(got.sin_port));
    fflush(stdout);
    uv_signal_t st, si;
    uv_signal_init(loop, &st);
    uv_signal_start(&st, on_signal, SIGTERM);
    uv_signal_init(loop, &si);
    uv_signal_start(&si, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
