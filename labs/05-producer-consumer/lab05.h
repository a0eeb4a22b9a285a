/* labs/05-producer-consumer/lab05.h - what the files of lab 5 share: the ledger, the options, the
 * item of the thread buffers, the modes of the scenarios and the scenarios themselves.
 *
 * Every scenario of this lab promises the same invariants, so they are checked by one piece of
 * code, the ledger: each item (producer p, sequence s) has a slot that counts how often it was
 * consumed (exactly once is right), the sums of the item values on both sides (the checksum), and
 * an event stamp for "produced" and "consumed" (a consume never comes before its produce).  The
 * ledger lives in a MAP_SHARED anonymous mapping made before fork(), so producer and consumer
 * *processes* write into the memory the parent checks afterwards; every update is one atomic
 * operation, which works across processes and needs no lock a killed process could leave held.
 */
#ifndef LAB05_H
#define LAB05_H

#include "lab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define L05_MAX_PRODUCERS 64
#define L05_MAX_CONSUMERS 64
#define L05_MAX_ITEMS 10000        /* per producer (the --items range) */

/* ==== The ledger (shared memory, atomic updates) ==== */

struct l05_ledger {
    int producers, items;          /* items per producer */
    long produced, consumed;       /* counts (atomic) */
    long stops;                    /* stop messages (sentinels) received by consumers */
    long task_done;                /* task_done() calls that succeeded */
    long fifo_violations;          /* a consumer saw a producer's items out of order */
    long bad_items;                /* an item outside the expected range (garbage) */
    long events;                   /* the event clock of the stamps below */
    uint64_t sum_produced, sum_consumed;
    size_t bytes;                  /* size of the mapping */
    unsigned char *times;          /* per item: how often consumed */
    long *produced_at, *consumed_at;   /* per item: event stamps (0: never) */
};

/* A ledger for producers x items, zero-filled, in shared memory.  Free it with l05_ledger_free. */
struct l05_ledger *l05_ledger_new(int producers, int items);
void l05_ledger_free(struct l05_ledger *l);
/* The value an item carries (its payload; the checksum adds these up). */
uint64_t l05_value(int producer, int seq);
/* Record "item (p, s) with this value was produced / consumed". */
void l05_ledger_produced(struct l05_ledger *l, int p, int s, uint64_t value);
void l05_ledger_consumed(struct l05_ledger *l, int p, int s, uint64_t value);

/* One consumer's view of the order: the last sequence number it saw from each producer. */
struct l05_fifo { int last[L05_MAX_PRODUCERS]; };
void l05_fifo_init(struct l05_fifo *f);
/* Record that this consumer got (p, s); counts a violation in l if s is not after the last one. */
void l05_fifo_see(struct l05_fifo *f, struct l05_ledger *l, int p, int s);

/* The verdict. */
struct l05_check {
    long produced, consumed, duplicates, missing;
    bool checksum_ok, fifo_ok, produce_before_consume;
};
void l05_ledger_check(struct l05_ledger *l, struct l05_check *c);
/* "produced=10 consumed=10 duplicates=0 missing=0 checksum_ok=1 per_producer_fifo=1" */
void l05_check_fields(const struct l05_check *c, char *buf, size_t len);
/* True if every item was consumed exactly once, sums match, order kept. */
bool l05_check_ok(const struct l05_check *c);

/* ==== Helpers ==== */

/* An option whose 0 means "the scenario's own default". */
int l05_opt(const char *name, int scenario_default);
/* The name of the calling thread, for its lines ("consumer-1", "C1"). */
static inline const char *l05_me(void)
{
    return lab_thread_name(lab_current_thread());
}

/* An item in a thread buffer (threads.c, cv_if_bug.c); producer < 0 is the stop message (None in
 * the notes). */
struct l05_item {
    int producer, seq;
    uint64_t value;
};
/* The id of an item's --trace arrow from its put to its get (trace.h); 0 (no arrow) for a stop. */
#define L05_FLOW(it) ((it).producer < 0 ? 0 : ((uint64_t)5 << 48) | ((uint64_t)(it).producer << 24) | (uint64_t)(it).seq)

/* ==== The scenarios (the table is in main.c) ==== */

/* procs.c: producer and consumer processes around one process queue */
int run_sentinel(int mode);
int run_kitchen(int mode);
int run_joinable(int mode);
/* The modes of sentinel_variants, in the order of its .modes string "one,per_consumer,propagate". */
enum l05_variants_mode { VARIANTS_ONE, VARIANTS_PER_CONSUMER, VARIANTS_PROPAGATE };
int run_sentinel_variants(int mode);

/* threads.c: a bounded buffer between threads */
int run_threads(int mode);
/* Items/s through that buffer with np producer and nc consumer threads (for the bench). */
double l05_bench_buffer(int np, int nc, int per_producer, int cap);

/* cv_if_bug.c: the modes of cv_if_bug, in the order of its .modes string "if,while". */
enum l05_cv_mode { CV_IF, CV_WHILE };
int run_cv_if_bug(int mode);

/* bench.c: `lab05 --bench` */
int l05_bench(void);
/* procs.c: items/s through the process queue between two processes (for the bench). */
double l05_bench_pqueue(long n);

#endif
