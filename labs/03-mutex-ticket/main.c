/* main.c - lab 3, mutual exclusion: the scenario table of build/lab03.
 *
 * Every scenario of the lab in guided-demo order, each bad case before its fix: the ticket grab
 * with processes and a data file (tickets.c), money=100 with 100 threads (money.c), the counter
 * with its racy and fixed modes (counter.c), the notes' small lock examples (threads.c), and
 * shared memory with a process lock, robust or not (shared.c).
 *
 * Python ↔ C: multiprocessing.Lock ↔ a process-shared pthread mutex, a named POSIX semaphore or
 * a file lock; threading.Lock ↔ pthread_mutex_t.
 * Usage: lab03 [SCENARIO [--mode=MODE] [--users N] [--tickets N] [--threads N] [--iters N]]
 * What to watch for: each RESULT line; the bad modes lose or oversell on every run.
 * See also: README.md, ../../common/cli.h (the command line every lab shares).
 */
#include "lab.h"
#include "lab03.h"

static const struct lab_scenario scenarios[] = {
    { "tickets", "9 buyer processes grab 1 ticket from a data file: unlocked oversell vs 4 kinds of lock",
      "nolock,lock,sem,fcntl,flock", "users,tickets", tickets_run, NULL, false },
    { "money", "100 threads do tmp = money; sleep(0.1); money = tmp - 1: 99 without a lock, 0 with",
      "nolock,lock", "threads", money_run, NULL, false },
    { "counter", "2 threads x N increments: racy, racy_atomic lose updates; mutex, spin, atomic do not",
      "racy,racy_atomic,mutex,spin,atomic", "iters", counter_run, NULL, false },
    { "lockflag", "mutexFlag = mutex.acquire(): 5 threads each set num inside the lock",
      NULL, NULL, lockflag_run, NULL, false },
    { "lockapi", "Lock semantics in C: acquire(False), relock, release by another thread, binary semaphore",
      NULL, NULL, lockapi_run, NULL, false },
    { "jobs", "job1 adds 1, job2 adds 10, ten times each under one lock: two whole blocks, A = 110",
      NULL, NULL, jobs_run, NULL, false },
    { "shared_value", "Value/Array in shared memory, two processes add 1 and 3 under a process lock",
      NULL, NULL, shared_value_run, NULL, false },
    { "robust", "a process dies holding the lock: plain mutex waits forever, robust gets EOWNERDEAD",
      "plain,robust", NULL, robust_run, NULL, false },
    { "shared_list", "10 threads append to one array: items lost without a lock, 10 with",
      "nolock,lock", NULL, shared_list_run, NULL, false },
    { 0 }
};

static struct lab_opt opts[] = {
    { "users", "tickets: buyer processes", 9, 1, 64, 0, false },
    { "tickets", "tickets: tickets in the data file at the start", 1, 0, 1000000, 0, false },
    { "threads", "money: threads", 100, 1, 1000, 0, false },
    { "iters", "counter: increments per thread", 10000, 1, 100000000, 0, false },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 3,
        .title = "mutual exclusion",
        .scenarios = scenarios,
        .opts = opts,
        .bench = counter_bench,
    };
    return lab_main(&prog, argc, argv);
}
