/* test_philox: the counter-based generator (util/philox), the host
 * reference of cl/rng.cl: Random123's known-answer vectors, and the
 * uniform and normal floats made from it (range, moments, independence of
 * streams, purity). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "check.h"
#include "philox.h"

int main(void)
{
    /* Random123's kat_vectors for philox4x32-10. */
    static const uint32_t KAT[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        philox4x32_10(KAT[t], KAT[t] + 4, out);
        CHECK(out[0] == KAT[t][6] && out[1] == KAT[t][7] && out[2] == KAT[t][8] &&
                  out[3] == KAT[t][9],
              "vector %d: %08x %08x %08x %08x", t, out[0], out[1], out[2], out[3]);
    }
    /* The stream layout: counter (index, step lo, step hi, purpose), key the
     * seed's halves. */
    uint32_t a[4], b[4];
    philox_block(0x0000000500000007ULL, 9, 0x0000000300000002ULL, 11, a);
    const uint32_t ctr[4] = {11, 2, 3, 9}, key[2] = {7, 5};
    philox4x32_10(ctr, key, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "philox_block lays out counter and key as documented");
    /* Pure: the same arguments, the same numbers; any change, others. */
    philox_block(1, PHILOX_NOISE, 10, 3, a);
    philox_block(1, PHILOX_NOISE, 10, 3, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "same stream, same block");
    philox_block(1, PHILOX_VAE, 10, 3, b);
    CHECK(memcmp(a, b, sizeof a) != 0, "another purpose, another block");
    philox_block(1, PHILOX_NOISE, 11, 3, b);
    CHECK(memcmp(a, b, sizeof a) != 0, "another step, another block");
    philox_block(2, PHILOX_NOISE, 10, 3, b);
    CHECK(memcmp(a, b, sizeof a) != 0, "another seed, another block");

    /* Uniforms in [0, 1) with mean 1/2 and variance 1/12; normals with mean 0,
     * variance 1 and no value beyond what Box-Muller can give (|z| <= 5.8
     * for u1 >= 2^-25). Tolerances: 5 standard errors over 10^6 draws. */
    const int n = 1000000;
    double su = 0, su2 = 0, sz = 0, sz2 = 0, sz4 = 0, zmax = 0, umin = 1, umax = 0;
    for (int i = 0; i < n; i++) {
        philox_block(12345, PHILOX_TEST, 77, (uint32_t)i, a);
        double u = philox_uniform(a[2]), z = philox_normal(a[0], a[1]);
        su += u, su2 += u * u, sz += z, sz2 += z * z, sz4 += z * z * z * z;
        if (fabs(z) > zmax) zmax = fabs(z);
        if (u < umin) umin = u;
        if (u > umax) umax = u;
    }
    double mu = su / n, vu = su2 / n - mu * mu, mz = sz / n, vz = sz2 / n - mz * mz;
    CHECK(umin >= 0 && umax < 1, "uniform range [%g, %g]", umin, umax);
    CHECK(fabs(mu - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", mu);
    CHECK(fabs(vu - 1.0 / 12) < 5 * sqrt(1.0 / 180 / n), "uniform variance %g", vu);
    CHECK(fabs(mz) < 5 * sqrt(1.0 / n), "normal mean %g", mz);
    CHECK(fabs(vz - 1) < 5 * sqrt(2.0 / n), "normal variance %g", vz);
    CHECK(fabs(sz4 / n - 3) < 5 * sqrt(96.0 / n), "normal fourth moment %g", sz4 / n);
    CHECK(zmax < 5.8, "max |z| = %g", zmax);
    CHECK(philox_uniform(0) == 0.0f && philox_uniform(0xffffffffu) == 1.0f - 0x1p-24f,
          "uniform ends");
    return check_done("test_philox");
}
