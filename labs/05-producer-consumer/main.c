/* labs/05-producer-consumer/main.c - Lab 5: the producer-consumer model.
 *
 * Producers make items, consumers use them, and they never talk to each other directly: a
 * bounded buffer (the notes' 蒸笼, the steamer between the cook and the guests) sits in between.
 * The buffer must be safe (a lock), must make a consumer sleep while it is empty and a producer
 * while it is full (two condition variables), and the consumers must learn when production is over
 * (a sentinel, or a JoinableQueue whose join() waits for task_done()).  Get one of these wrong and
 * a consumer takes from an empty buffer, an item is lost or eaten twice, or a consumer waits
 * forever; every scenario here checks its books (ledger.c) and says so.
 *
 * Python (the notes' multiprocessing queue, producer-consumer and thread queue chapters) ↔ C:
 *   multiprocessing.Queue / JoinableQueue  ↔ lab_pq_* (common/pqueue.h: shared memory, robust mutex)
 *   q.put(None) as the end marker          ↔ a message of kind PC_STOP (C has no None)
 *   q.task_done(); q.join()                ↔ lab_pq_task_done(); lab_pq_join()
 *   c.daemon = True                        ↔ lab_proc_set_daemon() (SIGTERMed when the main code ends)
 *   queue.Queue between threads            ↔ a ring + pthread mutex + two condition variables
 *
 * Usage: lab05 [SCENARIO] [--producers=N] [--consumers=N] [--items=N] [--capacity=N]
 *        (0, the default, means the scenario's own value; no scenario: the guided demo, ~5 s)
 * What to watch for: the RESULT line's produced= consumed= duplicates= missing= checksum_ok=;
 * cv_if_bug --mode=if shows a consumer taking from an empty buffer, --mode=while does not.
 * This file holds the scenario and option tables and main() only.
 * See also: procs.c (the process scenarios), threads.c, cv_if_bug.c, bench.c, ledger.c, lab05.h,
 * README.md.
 */
#include "lab.h"
#include "lab05.h"

/* sentinel_variants --mode=one is the bad case: a watchdog finds two consumers stuck (exit 3). */
static int variants_status(int mode)
{
    return mode == VARIANTS_ONE ? LAB_EXIT_WATCHDOG : LAB_EXIT_OK;
}

/* Guided-demo order: the notes' process examples first, then the sentinel variants (bad case
 * first), then threads, and the condition-variable bug before its fix.  The .modes strings are in
 * the order of the enums in lab05.h. */
static const struct lab_scenario scenarios[] = {
    { .name = "sentinel",
      .summary = "10 producer processes, 2 consumers, one None-like stop message per consumer",
      .opts = "producers,consumers,items,capacity", .run = run_sentinel },
    { .name = "kitchen", .summary = "大厨/张桑 cook, 李四/王五 eat through one queue; two stop messages",
      .opts = "items,capacity", .run = run_kitchen },
    { .name = "joinable", .summary = "JoinableQueue: task_done + join, daemon consumers stopped when the main code ends",
      .opts = "items,capacity", .run = run_joinable },
    { .name = "sentinel_variants",
      .summary = "one stop message for 3 consumers (stuck), one per consumer, one passed on",
      .modes = "one,per_consumer,propagate", .opts = "producers,consumers,items,capacity",
      .run = run_sentinel_variants, .demo_status = variants_status },
    { .name = "threads", .summary = "bounded buffer between threads: a mutex and two condition variables",
      .opts = "producers,consumers,items,capacity", .run = run_threads },
    { .name = "cv_if_bug",
      .summary = "'if' around the wait + one shared condition variable: a consumer takes from an empty buffer",
      .modes = "if,while", .run = run_cv_if_bug },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "producers", .help = "producers (0: the scenario's own: sentinel 10, sentinel_variants 2, threads 2)",
      .def = 0, .min = 0, .max = L05_MAX_PRODUCERS },
    { .name = "consumers", .help = "consumers (0: the scenario's own: sentinel 2, sentinel_variants 3, threads 2)",
      .def = 0, .min = 0, .max = L05_MAX_CONSUMERS },
    { .name = "items",
      .help = "items per producer (0: the scenario's own: sentinel 1, kitchen/joinable 5, variants 3, threads 5)",
      .def = 0, .min = 0, .max = L05_MAX_ITEMS },
    { .name = "capacity", .help = "queue size (0: the scenario's own: the process queue 1024, threads 3)",
      .def = 0, .min = 0, .max = 1024 },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 5,
        .title = "producer-consumer",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l05_bench,
    };
    return lab_main(&prog, argc, argv);
}
