/* common/rng.c - seeded streams (splitmix64 to seed, xorshift64* to draw); see rng.h. */
#include "rng.h"

#include <stdbool.h>

static uint64_t seed = 1;

uint64_t lab_seed(void) { return seed; }
void lab_set_seed(uint64_t s) { seed = s; }

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void lab_rng_init(struct lab_rng *r, uint64_t stream)
{
    r->s = splitmix64(seed ^ splitmix64(stream + 0x5eed));
    if (r->s == 0)
        r->s = 0x2545f4914f6cdd1dULL;
}

uint64_t lab_rng_next(struct lab_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

long long lab_rng_range(struct lab_rng *r, long long lo, long long hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    /* Rejection sampling: no modulo bias. */
    uint64_t limit = span ? UINT64_MAX - UINT64_MAX % span : 0;
    uint64_t x;
    do
        x = lab_rng_next(r);
    while (span && x >= limit);
    return lo + (long long)(span ? x % span : x);
}

double lab_rng_unit(struct lab_rng *r) { return (double)(lab_rng_next(r) >> 11) * 0x1.0p-53; }

static __thread struct lab_rng tls_rng;
static __thread bool tls_ready;
static uint64_t (*stream_of_thread)(void);

void lab_rand_set_stream_fn(uint64_t (*fn)(void)) { stream_of_thread = fn; }

static struct lab_rng *mine(void)
{
    if (!tls_ready) {
        lab_rng_init(&tls_rng, stream_of_thread ? stream_of_thread() : 0);
        tls_ready = true;
    }
    return &tls_rng;
}

long long lab_randint(long long lo, long long hi) { return lab_rng_range(mine(), lo, hi); }
double lab_random(void) { return lab_rng_unit(mine()); }

void lab_rand_reseed(uint64_t stream)
{
    lab_rng_init(&tls_rng, stream);
    tls_ready = true;
}
