/* philox: see philox.h. */
#include "philox.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* the golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void philox_block(uint64_t seed, uint32_t purpose, uint64_t step, uint32_t index, uint32_t out[4])
{
    const uint32_t ctr[4] = {index, (uint32_t)step, (uint32_t)(step >> 32), purpose};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    philox4x32_10(ctr, key, out);
}

float philox_uniform(uint32_t x)
{
    return (float)(x >> 8) * 0x1p-24f;
}

double philox_normal(uint32_t x0, uint32_t x1)
{
    double u1 = ((double)(x0 >> 8) + 0.5) * 0x1p-24, u2 = (double)philox_uniform(x1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
