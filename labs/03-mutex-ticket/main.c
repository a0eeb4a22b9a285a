/* main.c - lab 3, mutual exclusion: the scenario table of build/lab03.
 *
 * Every scenario of the lab in guided-demo order, each bad case before its fix: the ticket grab
 * with processes and a data file (tickets.c), money=100 with 100 threads (money.c), the counter
 * with its racy and fixed modes (counter.c), the notes' small lock examples (threads.c), and
 * shared memory with a process lock, robust or not (shared.c), then list, set, dict and queue
 * from two threads (threads.c, safe_types.c).
 *
 * Python ↔ C: multiprocessing.Lock ↔ a process-shared pthread mutex, a named POSIX semaphore or
 * a file lock; threading.Lock ↔ pthread_mutex_t.
 * Usage: lab03 [SCENARIO [--mode=MODE] [--users N] [--tickets N] [--threads N] [--iters N]]
 * What to watch for: each RESULT line; the bad modes lose or oversell on every run.
 * See also: README.md, ../../common/cli.h (the command line every lab shares).
 */
#include "lab.h"
#include "lab03.h"

/* The modes of each scenario are in the order of its enum in lab03.h (run() gets the index). */
static const struct lab_scenario scenarios[] = {
    { .name = "tickets",
      .summary = "9 buyer processes grab 1 ticket from a data file: unlocked oversell vs 4 kinds of lock",
      .modes = "nolock,lock,sem,fcntl,flock", .opts = "users,tickets", .run = run_tickets },
    { .name = "money",
      .summary = "100 threads do tmp = money; sleep(0.1); money = tmp - 1: 99 without a lock, 0 with",
      .modes = "nolock,lock", .opts = "threads", .run = run_money },
    { .name = "counter",
      .summary = "2 threads x N increments: racy, racy_atomic lose updates; mutex, spin, atomic do not",
      .modes = "racy,racy_atomic,mutex,spin,atomic", .opts = "iters", .run = run_counter },
    { .name = "lockflag",
      .summary = "mutexFlag = mutex.acquire(): 5 threads each set num inside the lock",
      .run = run_lockflag },
    { .name = "lockapi",
      .summary = "Lock semantics in C: acquire(False), relock, release by another thread, binary semaphore",
      .run = run_lockapi },
    { .name = "jobs",
      .summary = "job1 adds 1, job2 adds 10, ten times each under one lock: two whole blocks, A = 110",
      .run = run_jobs },
    { .name = "shared_value",
      .summary = "Value/Array in shared memory, two processes add 1 and 3 under a process lock",
      .run = run_shared_value },
    { .name = "robust",
      .summary = "a process dies holding the lock: plain mutex waits forever, robust gets EOWNERDEAD",
      .modes = "plain,robust", .run = run_robust },
    { .name = "shared_list",
      .summary = "10 threads append to one array: items lost without a lock, 10 with",
      .modes = "nolock,lock", .run = run_shared_list },
    { .name = "thread_safe",
      .summary = "set and dict inserts from 2 threads lose a key under a forced schedule; the queue does not",
      .modes = "nolock,lock", .run = run_thread_safe },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "users", .help = "tickets: buyer processes", .def = 9, .min = 1, .max = 64 },
    { .name = "tickets", .help = "tickets: tickets in the data file at the start", .def = 1, .min = 0, .max = 1000000 },
    { .name = "threads", .help = "money: threads", .def = 100, .min = 1, .max = 1000 },
    { .name = "iters", .help = "counter: increments per thread", .def = 10000, .min = 1, .max = 100000000 },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 3,
        .title = "mutual exclusion",
        .scenarios = scenarios,
        .opts = opts,
        .bench = lab03_bench,
    };
    return lab_main(&prog, argc, argv);
}
