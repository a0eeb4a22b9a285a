/* labs/05-producer-consumer/pc.h - what the files of lab 5 share: the ledger and the options.
 *
 * Every scenario of this lab promises the same invariants, so they are checked by one piece of
 * code, the ledger: each item (producer p, sequence s) has a slot that counts how often it was
 * consumed (exactly once is right), the sums of the item values on both sides (the checksum), and
 * an event stamp for "produced" and "consumed" (a consume never comes before its produce).  The
 * ledger lives in a MAP_SHARED anonymous mapping made before fork(), so producer and consumer
 * *processes* write into the memory the parent checks afterwards; every update is one atomic
 * operation, which works across processes and needs no lock a killed process could leave held.
 */
#ifndef LAB05_PC_H
#define LAB05_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_MAX_PRODUCERS 64
#define PC_MAX_CONSUMERS 64
#define PC_MAX_ITEMS 10000        /* per producer (the --items range) */

/* ==== The ledger (shared memory, atomic updates) ==== */

struct pc_ledger {
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

/* A ledger for producers x items, zero-filled, in shared memory.  Free it with pc_ledger_free. */
struct pc_ledger *pc_ledger_new(int producers, int items);
void pc_ledger_free(struct pc_ledger *l);
/* The value an item carries (its payload; the checksum adds these up). */
uint64_t pc_value(int producer, int seq);
/* Record "item (p, s) with this value was produced / consumed". */
void pc_ledger_produced(struct pc_ledger *l, int p, int s, uint64_t value);
void pc_ledger_consumed(struct pc_ledger *l, int p, int s, uint64_t value);

/* One consumer's view of the order: the last sequence number it saw from each producer. */
struct pc_fifo { int last[PC_MAX_PRODUCERS]; };
void pc_fifo_init(struct pc_fifo *f);
/* Record that this consumer got (p, s); counts a violation in l if s is not after the last one. */
void pc_fifo_see(struct pc_fifo *f, struct pc_ledger *l, int p, int s);

/* The verdict. */
struct pc_check {
    long produced, consumed, duplicates, missing;
    bool checksum_ok, fifo_ok, produce_before_consume;
};
void pc_ledger_check(struct pc_ledger *l, struct pc_check *c);
/* "produced=10 consumed=10 duplicates=0 missing=0 checksum_ok=1 per_producer_fifo=1" */
void pc_check_fields(const struct pc_check *c, char *buf, size_t len);
/* True if every item was consumed exactly once, sums match, order kept. */
bool pc_check_ok(const struct pc_check *c);

/* ==== Helpers ==== */

/* An option whose 0 means "the scenario's own default". */
int pc_opt(const char *name, int scenario_default);
/* A bound for waits that should end by themselves: generous, in real milliseconds. */
double pc_budget_ms(double units);
/* Shared, zero-filled memory that forked children inherit: common/shm.h. */

/* ==== The scenarios ==== */

int run_sentinel(int mode_index);
int run_kitchen(int mode_index);
int run_joinable(int mode_index);
int run_sentinel_variants(int mode_index);
int run_threads(int mode_index);
int run_cv_if_bug(int mode_index);
int pc_bench(void);

#endif
