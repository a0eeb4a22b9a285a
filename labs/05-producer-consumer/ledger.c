/* labs/05-producer-consumer/ledger.c - the invariants of every producer-consumer run, checked.
 *
 * "It printed ten names" is not a proof that a producer-consumer program is right.  This file
 * keeps the books instead: every item is identified by (producer, sequence number) and carries a
 * value; producers record what they made, consumers what they got, and at the end the lab checks
 *   - every item produced was consumed exactly once   (duplicates=0 missing=0),
 *   - the values add up on both sides                 (checksum_ok=1),
 *   - each producer's items arrived in its own order  (per_producer_fifo=1),
 *   - no item was consumed before it was produced.
 * The records live in shared memory (lab_shared_alloc, made before fork) and each is a single
 * __atomic operation, so threads and processes use the same code.
 *
 * Python ↔ C: Python programs usually just print; here the books are the "assert" the notes
 * never wrote.  Usage: included by every scenario of lab05.
 * See also: lab05.h, procs.c (processes), threads.c (threads).
 */
#include "lab.h"
#include "lab05.h"

#include <inttypes.h>
#include <stdio.h>

/* ==== The ledger ==== */

struct l05_ledger *l05_ledger_new(int producers, int items)
{
    size_t n = (size_t)producers * (size_t)items;
    /* one mapping: header, then the stamps (8-byte aligned), then the counts */
    size_t head = (sizeof(struct l05_ledger) + 7) & ~(size_t)7;
    size_t bytes = head + 2 * n * sizeof(long) + n;
    char *base = lab_shared_alloc(bytes);
    struct l05_ledger *l = (struct l05_ledger *)base;
    l->producers = producers;
    l->items = items;
    l->bytes = bytes;
    l->produced_at = (long *)(base + head);
    l->consumed_at = l->produced_at + n;
    l->times = (unsigned char *)(l->consumed_at + n);
    return l;   /* the pointers stay valid in forked children: same addresses */
}

void l05_ledger_free(struct l05_ledger *l)
{
    if (l)
        lab_shared_free(l, l->bytes);
}

/* splitmix64 of (p, s): a value that differs for every item, so a swapped or repeated item shows
 * in the sum. */
uint64_t l05_value(int producer, int seq)
{
    uint64_t z = ((uint64_t)(uint32_t)producer << 32 | (uint32_t)seq) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool in_range(const struct l05_ledger *l, int p, int s)
{
    return p >= 0 && p < l->producers && s >= 0 && s < l->items;
}

void l05_ledger_produced(struct l05_ledger *l, int p, int s, uint64_t value)
{
    __atomic_fetch_add(&l->produced, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&l->sum_produced, value, __ATOMIC_SEQ_CST);   /* wraps: fine for a checksum */
    if (in_range(l, p, s))
        l->produced_at[(size_t)p * (size_t)l->items + (size_t)s] =
            __atomic_add_fetch(&l->events, 1, __ATOMIC_SEQ_CST);
}

void l05_ledger_consumed(struct l05_ledger *l, int p, int s, uint64_t value)
{
    __atomic_fetch_add(&l->consumed, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&l->sum_consumed, value, __ATOMIC_SEQ_CST);
    if (!in_range(l, p, s)) {
        __atomic_fetch_add(&l->bad_items, 1, __ATOMIC_SEQ_CST);
        return;
    }
    size_t i = (size_t)p * (size_t)l->items + (size_t)s;
    unsigned char old = __atomic_fetch_add(&l->times[i], 1, __ATOMIC_SEQ_CST);
    if (old == 255)                       /* never wrap back to "consumed once" */
        __atomic_store_n(&l->times[i], 255, __ATOMIC_SEQ_CST);
    long stamp = __atomic_add_fetch(&l->events, 1, __ATOMIC_SEQ_CST);
    if (old == 0)
        __atomic_store_n(&l->consumed_at[i], stamp, __ATOMIC_SEQ_CST);
}

void l05_fifo_init(struct l05_fifo *f)
{
    for (int i = 0; i < L05_MAX_PRODUCERS; i++)
        f->last[i] = -1;
}

void l05_fifo_see(struct l05_fifo *f, struct l05_ledger *l, int p, int s)
{
    if (p < 0 || p >= L05_MAX_PRODUCERS)
        return;
    if (s <= f->last[p])
        __atomic_fetch_add(&l->fifo_violations, 1, __ATOMIC_SEQ_CST);
    f->last[p] = s;
}

void l05_ledger_check(struct l05_ledger *l, struct l05_check *c)
{
    *c = (struct l05_check){ 0 };
    c->produced = __atomic_load_n(&l->produced, __ATOMIC_SEQ_CST);
    c->consumed = __atomic_load_n(&l->consumed, __ATOMIC_SEQ_CST);
    c->produce_before_consume = true;
    size_t n = (size_t)l->producers * (size_t)l->items;
    for (size_t i = 0; i < n; i++) {
        unsigned t = l->times[i];
        if (t == 0)
            c->missing++;
        else if (t > 1)
            c->duplicates += t - 1;
        if (t > 0 && l->consumed_at[i] <= l->produced_at[i])
            c->produce_before_consume = false;
    }
    c->duplicates += __atomic_load_n(&l->bad_items, __ATOMIC_SEQ_CST);
    c->checksum_ok = __atomic_load_n(&l->sum_produced, __ATOMIC_SEQ_CST) ==
                     __atomic_load_n(&l->sum_consumed, __ATOMIC_SEQ_CST);
    c->fifo_ok = __atomic_load_n(&l->fifo_violations, __ATOMIC_SEQ_CST) == 0;
}

void l05_check_fields(const struct l05_check *c, char *buf, size_t len)
{
    snprintf(buf, len, "produced=%ld consumed=%ld duplicates=%ld missing=%ld checksum_ok=%d per_producer_fifo=%d",
             c->produced, c->consumed, c->duplicates, c->missing, c->checksum_ok, c->fifo_ok);
}

bool l05_check_ok(const struct l05_check *c)
{
    return c->produced == c->consumed && c->duplicates == 0 && c->missing == 0 && c->checksum_ok &&
           c->fifo_ok && c->produce_before_consume;
}

/* ==== Options ==== */

int l05_opt(const char *name, int scenario_default)
{
    long long v = lab_opt(name);
    return v == 0 ? scenario_default : (int)v;
}
