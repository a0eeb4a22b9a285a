/* common/rng.h - reproducible random choices (random.randint of the notes), seeded by LAB_SEED.
 *
 * Each thread and each process draws from its own stream: stream k of seed s gives the same numbers
 * on every run and machine, whatever the other threads do.  lab_rand()/lab_randint() use the calling
 * thread's stream, which is picked by its registry number (MainThread is 0, Thread-N is N); a forked
 * child switches to stream 1000 + its Process number (lab_proc does this).  Explicit streams are
 * there for code that wants its own.
 */
#ifndef COMMON_RNG_H
#define COMMON_RNG_H

#include <stdint.h>

struct lab_rng { uint64_t s; };

/* The seed (from LAB_SEED, checked by lab_main; default 1). */
uint64_t lab_seed(void);
void lab_set_seed(uint64_t seed);

void lab_rng_init(struct lab_rng *r, uint64_t stream);
uint64_t lab_rng_next(struct lab_rng *r);
/* Uniform integer in [lo, hi], both included (lo <= hi). */
long long lab_rng_range(struct lab_rng *r, long long lo, long long hi);
/* Uniform double in [0, 1). */
double lab_rng_unit(struct lab_rng *r);

/* The calling thread's stream. */
long long lab_randint(long long lo, long long hi);
double lab_random(void);
/* Where a thread's stream number comes from the first time it draws (0 for every thread until set):
 * thread.c installs its registry number (MainThread 0, Thread-N N) when the registry starts, so
 * this module needs nothing above it. */
void lab_rand_set_stream_fn(uint64_t (*fn)(void));
/* Re-seed the calling thread's stream (after fork, or to replay). */
void lab_rand_reseed(uint64_t stream);

#endif
