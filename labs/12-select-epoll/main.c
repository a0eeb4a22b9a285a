/* labs/12-select-epoll/main.c - lab 12: IO models, from blocking calls to epoll, on one protocol.
 *
 * The notes' chapter on IO models: 阻塞IO (one client at a time, then a thread or a process per
 * client), 非阻塞IO (a busy loop that burns the CPU), IO多路复用 (select, poll, epoll: one thread
 * waits for many sockets), 异步IO (io_uring here).  Every model serves the same uppercase echo (or
 * --http), is loaded by the same client, and ends up on one scoreboard.
 * Usage: build/lab12 (guided demo) | build/lab12 --list | build/lab12 SCENARIO [OPTIONS] | --bench
 * See also: blocking.c, busy.c, evloop.c, uring.c (the servers), http.c (the protocol), client.c,
 * scenario.c (the harness), board.c (scoreboard, robustness, the 1024 wall), fuzz.c, bench.c.
 */
#include "lab.h"
#include "lab12.h"

#define SERVER_OPTS "port,conns,rounds,bytes,http,serve,silent,slow,rst,nofile,loops,pipeline"

static const struct lab_scenario scenarios[] = {
    { .name = "blocking", .summary = "accept, serve that one client to the end, accept the next: the others wait",
      .opts = SERVER_OPTS, .run = run_blocking, .check = check_server },
    { .name = "threads", .summary = "a thread per connection (the notes' Thread(target=talk, args=(conn,)))",
      .opts = SERVER_OPTS, .run = run_threads, .check = check_server },
    { .name = "fork", .summary = "a process per connection, every child reaped",
      .opts = SERVER_OPTS, .run = run_fork, .check = check_server },
    { .name = "nonblocking", .summary = "the notes' busy loop: its wasted CPU; accepted sockets left blocking stall it",
      .modes = "notes,fixed", .opts = SERVER_OPTS, .run = run_nonblocking, .check = check_server },
    { .name = "select", .summary = "one thread, select() over a bitmap of 1024 descriptors",
      .opts = SERVER_OPTS, .run = run_select, .check = check_server },
    { .name = "poll", .summary = "one thread, poll() over an array: no 1024 limit, still a scan per call",
      .opts = SERVER_OPTS, .run = run_poll, .check = check_server },
    { .name = "epoll", .summary = "one thread, epoll: only the ready sockets come back; level- or edge-triggered",
      .modes = "lt,et", .opts = SERVER_OPTS, .run = run_epoll, .check = check_server },
    { .name = "io_uring", .summary = "asynchronous IO: the kernel does the recv/send, we reap completions",
      .opts = SERVER_OPTS, .run = run_io_uring, .check = check_server },
    { .name = "wall", .summary = "select's FD_SETSIZE wall: connections past descriptor 1023 refused; poll takes them",
      .run = run_wall },
    { .name = "client", .summary = "the load client: N connections x M round trips, every reply checked, p50/p99",
      .opts = "port,conns,rounds,bytes,http,silent,slow,rst,loops,pipeline", .run = run_client, .check = check_client },
    { .name = "scoreboard", .summary = "every model at 10, 100 and 1000 connections: round trips/s, p99, CPU",
      .opts = "http", .run = run_scoreboard },
    { .name = "robust", .summary = "a silent client, resets, slowloris, EMFILE, 10,000 connections, on every model",
      .modes = "silent,rst,slowloris,emfile,c10k", .run = run_robust },
    { .name = "fuzz", .summary = "the HTTP parser fed random, mutated, truncated and split requests",
      .opts = "cases", .run = run_fuzz },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "port", .help = "port on 127.0.0.1 (0: any free one; client: the server's)", .def = 0, .min = 0,
      .max = 65535 },
    { .name = "conns", .help = "client connections", .def = 10, .min = 1, .max = 15000 },
    { .name = "rounds", .help = "round trips on each connection", .def = 10, .min = 1, .max = 1000000 },
    { .name = "bytes", .help = "echo message size (0: the notes' 'conn-N say hello K')", .def = 0, .min = 0,
      .max = 65536 },
    { .name = "http", .help = "serve/send HTTP/1.1 (a fixed page, keep-alive) instead of the echo", .min = 1, .max = 1 },
    { .name = "serve", .help = "no clients: serve until SIGINT/SIGTERM (for curl, wrk, the client)", .min = 1,
      .max = 1 },
    { .name = "silent", .help = "connections opened first that never send", .def = 0, .min = 0, .max = 1000 },
    { .name = "slow", .help = "slowloris connections: a byte every 10 ms, never a whole request", .def = 0,
      .min = 0, .max = 1000 },
    { .name = "rst", .help = "connections that send half a message and reset (RST)", .def = 0, .min = 0,
      .max = 1000 },
    { .name = "loops", .help = "client: event loops, one thread each, sharing out the connections", .def = 1,
      .min = 1, .max = 16 },
    { .name = "pipeline", .help = "client: messages sent at once on a connection before it reads", .def = 1,
      .min = 1, .max = 64 },
    { .name = "nofile", .help = "lower the server's descriptor limit to N (EMFILE; 0: leave it)", .def = 0,
      .min = 0, .max = 1000000 },
    { .name = "cases", .help = "fuzz: requests to try", .def = 5000, .min = 1, .max = 10000000 },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 12,
        .title = "IO models: blocking, threads, fork, non-blocking, select, poll, epoll, io_uring",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l12_bench,
    };
    return lab_main(&prog, argc, argv);
}
