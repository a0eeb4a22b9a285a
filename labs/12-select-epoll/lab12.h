/* labs/12-select-epoll/lab12.h - what the files of lab 12 share: the servers, the protocol, the client.
 *
 * Every server speaks the same protocol (the notes' uppercase echo, or --http: a fixed small page)
 * through one session object, so the models differ only in how they wait: blocking calls, a thread
 * or a process per connection, a busy loop over non-blocking sockets, or one thread asking the
 * kernel which descriptors are ready (select, poll, epoll: common/loop.h).
 */
#ifndef LAB12_H
#define LAB12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* ==== The protocol (proto.c, http.c) ==== */

#define L12_INBUF 2048      /* the part of an HTTP request kept between reads */
#define L12_OUTCAP 65536    /* the replies to one read, written at once */
#define L12_READ 4096       /* one read: at most this many bytes (its replies fit in L12_OUTCAP) */

/* One connection's protocol state, the same in every model. */
struct session {
    bool http;
    bool close_after;       /* http: answer what is there, then close (Connection: close, an error) */
    uint32_t inlen;         /* http: bytes of an unfinished request in `in` */
    uint64_t body_left;     /* http: bytes of a request body still to skip */
    long requests;          /* complete requests (http) or messages (echo reads) answered */
    char in[L12_INBUF];
};

void session_init(struct session *s, bool http);
/* Feed n received bytes (n <= L12_READ); the replies are appended to out (room for L12_OUTCAP
 * bytes): returns how many bytes were written there.  Echo: the bytes uppercased.  HTTP: one
 * response per complete request; an unfinished request waits in s->in for the next read. */
size_t session_feed(struct session *s, const char *data, size_t n, char *out);

/* The fixed HTTP response (keep-alive, HTTP/1.1) that --http serves and the client expects. */
extern const char l12_http_ok[];
extern const size_t l12_http_ok_len;
extern const char l12_http_request[];       /* what the client sends */
/* The HTTP parser's reply to a complete request head (http.c). */
size_t http_feed(struct session *s, const char *data, size_t n, char *out);

/* ==== The servers (blocking.c, busy.c, evloop.c, uring.c) ==== */

/* The models, in the order of the scoreboard. */
enum model { M_BLOCKING, M_THREADS, M_FORK, M_NONBLOCKING, M_SELECT, M_POLL, M_EPOLL, M_EPOLL_ET,
             M_URING, M_COUNT };
extern const char *const l12_model_names[M_COUNT];

struct server {
    enum model model;
    int lfd;                /* the listening socket (127.0.0.1) */
    int sigfd;              /* readable after SIGINT/SIGTERM (a self-pipe) */
    int donefd;             /* readable when the scenario's clients are done (-1: serve until a signal) */
    bool http;
    long nofile;            /* > 0: lower RLIMIT_NOFILE to this (the EMFILE lesson) */
    bool quiet;             /* the scoreboard: no per-server lines */
    /* what happened: */
    long accepted, peak_active, active, requests;
    long emfile;            /* accept failed for want of descriptors: the spare descriptor was used */
    long refused;           /* closed at once: past FD_SETSIZE (select) */
    long spins;             /* nonblocking: turns of the busy loop */
    long waits;             /* select/poll/epoll calls */
    long threads_peak;      /* threads: most threads alive at once */
    long children;          /* fork: children started (and reaped) */
    bool stopped_by_signal;
    bool notes_bug;         /* nonblocking: leave the accepted sockets blocking, as the notes do */
    /* the scenario's client child (the fork model's reaper may collect it): */
    pid_t client_pid;
    bool client_reaped;
    int client_status;
};

/* Each runs until a signal or the clients are done, then closes every connection and ends every
 * thread or child it started.  0, or -1 (the reason printed). */
int serve_blocking(struct server *srv);
int serve_threads(struct server *srv);
int serve_fork(struct server *srv);
int serve_nonblocking(struct server *srv);
int serve_loop(struct server *srv);     /* select, poll, epoll (level or edge) on common/loop.h */
int serve_uring(struct server *srv);    /* io_uring: -1 with errno ENOSYS where it is refused */
bool uring_available(char *why, size_t len);

/* ==== Sockets and stopping (net.c) ==== */

/* A listening socket on 127.0.0.1:port (0: any free one); prints nothing.  -1 with errno. */
int net_listen(int port, bool nonblocking);
int net_port(int fd);
int net_set_nonblocking(int fd);
/* Raise the soft RLIMIT_NOFILE to the hard one; returns the new soft limit. */
long net_raise_nofile(void);
/* The spare descriptor for EMFILE: open one now; on EMFILE give it up, accept and close the
 * waiting connection, take it again (libev's trick).  Returns 1 when one was turned away. */
void net_spare_open(void);
void net_spare_close(void);
int net_emfile_shed(int lfd);
/* Write all of it on a blocking socket (MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE). */
int net_write_all(int fd, const char *p, size_t n);
/* SIGINT/SIGTERM → a byte on the self-pipe (returned); restore() puts the old handlers back. */
int net_stop_signals_catch(void);
void net_stop_signals_restore(void);
bool net_stop_requested(void);
/* poll fd and the stop descriptors: 1 fd readable, 0 a stop descriptor is, -1 error. */
int net_wait_readable(const struct server *srv, int fd);
bool net_fd_readable(int fd);

/* ==== --trace: the connections in Perfetto (net.c) ==== */

/* What a server run draws: the first L12_TRACE_CONNS connections in detail (accept, each read's
 * handling with the client's arrow into it, close), at most L12_TRACE_READS reads each and
 * L12_TRACE_WAITS waits of the loop, so that a guided demo's trace stays small; the scoreboard's
 * quiet runs draw one slice each.  Set by run_model (and run_client), read by every model. */
#define L12_TRACE_CONNS 32
#define L12_TRACE_READS 64
#define L12_TRACE_WAITS 400
struct l12_trace {
    bool detail;            /* this run draws its connections */
    bool arrows;            /* the client is ours, in the same trace: its sends are arrows */
};
extern struct l12_trace l12_trace;
bool net_traced(long num);                  /* connection number num (1, 2, ...) is drawn */
void net_trace_accept(long num, int fd);
void net_trace_close(long num, int fd);
/* A read of n bytes on connection num: begins the slice of its handling, with the head of the
 * client's arrow when the read starts with its message.  true: end it with lab_trace_end(). */
bool net_trace_request(long num, int fd, const struct session *s, const char *data, size_t n);
/* A wait of the loop (select, poll, epoll_wait, io_uring_enter): a slice "wait: NAME", at most
 * L12_TRACE_WAITS per run (*drawn counts them).  true: end it with lab_trace_end(). */
bool net_trace_wait(long *drawn, const char *name);
/* The arrow of the client's message R on its connection K ("conn-K say hello R"); 0: not drawn. */
uint64_t net_trace_flow_id(int k, int r);

/* ==== The load client (client.c) ==== */

struct client_cfg {
    int port;
    int conns;              /* connections that do `rounds` round trips each */
    int rounds;
    bool http;
    int bytes;              /* message size (0: the notes' "conn-N say hello K") */
    int silent;             /* connections opened first that never send */
    int slow;               /* slowloris: send one byte every few ms, never finish */
    int rst;                /* send half a message, then reset the connection (RST) */
    int loops;              /* event loops, one thread each, sharing out the connections (0, 1: one) */
    int pipeline;           /* messages sent at once on a connection before reading (0, 1: one) */
    double timeout_ms;      /* give up after this long */
    double linger_ms;       /* after the last reply, keep the silent ones open this long */
    bool hold;              /* a connection done with its rounds stays open until all are done, as
                               the notes' clients (which never hang up) do: the server keeps a
                               descriptor per client however fast it serves */
    bool quiet;
};

struct client_stats {
    long ok, bad;           /* round trips answered right / wrong */
    long refused;           /* connections the server closed (or never accepted) before the end */
    long unfinished;        /* round trips not done when the time ran out */
    long conns_done;
    double elapsed_ms;
    double first_reply_max_ms;  /* the longest a connection waited for its first reply */
    double p50_us, p99_us, max_us;
    double cpu_ms;          /* the client's own CPU time */
    bool timed_out;
};

int client_run(const struct client_cfg *cfg, struct client_stats *st);

/* ==== Scenarios (scenario.c, board.c, fuzz.c, bench.c) ==== */

struct run_cfg {
    enum model model;
    struct client_cfg client;
    bool serve;             /* no clients: serve until SIGINT/SIGTERM */
    long nofile;
    bool quiet;
    bool notes_bug;         /* nonblocking: accepted sockets left blocking (the notes' code) */
};

struct run_result {
    struct server srv;
    struct client_stats cl;
    double wall_ms, cpu_ms;
    int client_status;
};

/* Listen, start the clients in a child, serve until they are done, collect. -1 when the listener
 * or the client could not be started (printed). */
int run_model(const struct run_cfg *cfg, struct run_result *r);
/* The client options of the command line (--conns, --rounds, --http, ...). */
/* The CPU milliseconds (user + system) between two getrusage() samples (scenario.c). */
double l12_cpu_ms_between(const struct rusage *before, const struct rusage *after);
void client_cfg_from_options(struct client_cfg *c);
void check_server(void);

int run_blocking(int mode);
int run_threads(int mode);
int run_fork(int mode);
int run_nonblocking(int mode);
int run_select(int mode);
int run_poll(int mode);
int run_epoll(int mode);
int run_io_uring(int mode);
int run_wall(int mode);
int run_client(int mode);
void check_client(void);
int run_scoreboard(int mode);
int run_robust(int mode);
int run_fuzz(int mode);
int l12_bench(void);

/* The modes of epoll, in the order of its .modes list. */
enum epoll_mode { EPOLL_LT, EPOLL_ET };
/* The modes of robust, in the order of its .modes list. */
enum robust_mode { ROBUST_SILENT, ROBUST_RST, ROBUST_SLOWLORIS, ROBUST_EMFILE, ROBUST_C10K };

/* Latency buckets (HdrHistogram style: 16 linear steps per power of two), client.c. */
struct hist {
    uint64_t n;
    uint64_t b[64 * 16];
};
void hist_add(struct hist *h, uint64_t us);
double hist_pct(const struct hist *h, double pct);

#endif
