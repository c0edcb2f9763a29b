/* philox: the counter-based random numbers of the device, on the host.
 *
 * Owns: Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011; the Random123 reference), and the
 * way clae turns its output into uniform and normal floats. cl/rng.cl
 * computes the same on the device; this is its reference (tests, selftest).
 *
 * A number is a pure function of (seed, purpose, step, index): no state, so
 * any step can be redrawn exactly (a resumed run goes on as if never
 * stopped) and every work-item draws its own without coordination. The
 * counter is (index, step low, step high, purpose), the key the seed's two
 * 32-bit halves. */
#ifndef CLAE_PHILOX_H
#define CLAE_PHILOX_H

#include <stdint.h>

/* What a stream is for: the counter's fourth word, so that two uses never
 * share numbers. */
enum { PHILOX_NOISE = 1, PHILOX_VAE = 2, PHILOX_TEST = 3 };

/* out = Philox4x32-10(ctr, key). */
void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The block of `index` in stream (seed, purpose, step). */
void philox_block(uint64_t seed, uint32_t purpose, uint64_t step, uint32_t index, uint32_t out[4]);

/* A float in [0, 1): the top 24 bits of x times 2^-24 (exact in float). */
float philox_uniform(uint32_t x);

/* A standard normal from a block's first two words (Box-Muller, cosine
 * branch): sqrt(-2 ln u1) cos(2 pi u2), u1 = (x0's top 24 bits + 0.5) 2^-24
 * in (0, 1), u2 = philox_uniform(x1). In double here; the device computes
 * it in float, within a few ulp. */
double philox_normal(uint32_t x0, uint32_t x1);

#endif
