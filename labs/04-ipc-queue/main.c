/* labs/04-ipc-queue/main.c - lab 4: inter-process communication (IPC).
 *
 * Processes do not share memory (lab 1), so they talk through the kernel or through memory they
 * map on purpose.  This lab builds multiprocessing.Queue in C (common/pqueue.c: a ring in shared
 * memory, a process-shared mutex and condition variables), sends the notes' messages parent->child
 * and child->child, compares Pipe() (a duplex socketpair) with a one-way pipe, and sends one
 * payload through each of the notes' five IPC kinds (pipe, FIFO, message queue, semaphore, shared
 * memory), removing every kernel object afterwards.  It ends with the thread queues of the notes
 * (queue.Queue, LifoQueue, PriorityQueue).
 * Python <-> C: multiprocessing.Queue(5) <-> lab_pq_create(5, 0); Pipe() <-> socketpair();
 *   os.pipe() <-> pipe2(); queue.Empty/Full <-> EAGAIN or ETIMEDOUT.
 * Usage: build/lab04 (guided demo) | build/lab04 --list | build/lab04 SCENARIO [--mode=M]
 *        [--messages=10] | build/lab04 --bench (the IPC cost table of `make bench`)
 * Watch for: the exact full()/empty()/qsize() (Python's are approximate), get(timeout=3) waiting
 *   3 "seconds", the System V queue handing out the second message first, removed=1 everywhere.
 * See also: queue.c, pipe.c, subprocess.c, kinds.c, limits.c, manager.c, tqueue.c, bench.c, util.c, common/pqueue.h,
 *   README.md.
 */
#include "lab.h"
#include "lab04.h"

#include <string.h>

static const struct lab_scenario scenarios[] = {
    { .name = "queue_api", .summary = "Queue(5): put/get/full/empty/qsize, put_nowait/get_nowait, get(timeout=3)",
      .run = run_queue_api },
    { .name = "parent_child", .summary = "a child puts 燕子李三, the parent gets it; the parent sends the child a list",
      .run = run_parent_child },
    { .name = "child_child", .summary = "a producer child and a consumer child talk through one queue",
      .opts = "messages", .run = run_child_child },
    { .name = "pipe", .summary = "Pipe() is a duplex socketpair, os.pipe() one-way; EOF only when every write end is closed",
      .modes = "noclose,close", .run = run_pipe },          /* enum pipe_mode, lab04.h */
    { .name = "subprocess", .summary = "posix_spawn + pipes: run() output and status, communicate(), a timeout that kills, no zombie",
      .run = run_subprocess },
    { .name = "pipe_deadlock", .summary = "write 1 MiB to cat, then read: both pipes full, stuck; poll() both (communicate) cures it",
      .modes = "deadlock,poll", .run = run_pipe_deadlock },  /* enum pipe_deadlock_mode, lab04.h */
    { .name = "kinds", .summary = "one payload through pipe, FIFO, POSIX and System V message queues, semaphore, shm",
      .run = run_kinds },
    { .name = "limits", .summary = "messages too big for a POSIX mq, a System V queue and the process queue",
      .run = run_limits },
    { .name = "manager", .summary = "Manager(): a server process owns a dict and a list; d['count'] += 1 loses updates without a lock",
      .modes = "nolock,lock", .run = run_manager },         /* enum manager_mode, lab04.h */
    { .name = "thread_queues", .summary = "queue.Queue, LifoQueue, PriorityQueue between threads: 1, 2, (0, '333')",
      .run = run_thread_queues },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "messages", .help = "messages the producer child sends in child_child", .def = 10, .min = 1, .max = 100000 },
    { 0 }
};

int main(int argc, char **argv)
{
    /* The FIFO demo runs this program a second time as an unrelated reader (exec, not fork):
     * that run is not a lab run, so it is dispatched before lab_main parses the command line. */
    if (argc == 4 && strcmp(argv[1], L04_FIFO_PEER_FLAG) == 0)
        return l04_fifo_peer(argv[2], argv[3]);
    static const struct lab_program prog = {
        .number = 4,
        .title = "IPC: process queue, pipes, the five kinds",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l04_bench,
    };
    return lab_main(&prog, argc, argv);
}
