/* rng: the seeded host random generator (xoshiro256** seeded through
 * splitmix64). Used for weight initialisation and the per-epoch shuffle, so
 * that a seed gives the same run on every device. State is explicit. */
#ifndef CLAE_RNG_H
#define CLAE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_next(Rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(Rng *r);
/* Standard normal (Box-Muller, one value per call). */
double rng_normal(Rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rng_below(Rng *r, uint64_t n);
/* Fisher-Yates shuffle of a[0..n). */
void rng_shuffle(Rng *r, int *a, int n);

#endif
