/* test_rng: the seeded generator behind initialisation and shuffling. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "check.h"
#include "rng.h"

int main(void)
{
    Rng a, b;
    rng_seed(&a, 1);
    rng_seed(&b, 1);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_next(&a) == rng_next(&b);
    CHECK(same, "same seed must give the same stream");
    rng_seed(&b, 2);
    rng_seed(&a, 1);
    CHECK(rng_next(&a) != rng_next(&b), "different seeds must differ");

    /* uniform: mean 1/2, variance 1/12; normal: mean 0, variance 1 (n = 1e5,
     * standard errors ~1e-3 and ~5e-3, tolerances 5 sigma) */
    enum { N = 100000 };
    double s = 0, s2 = 0, n1 = 0, n2 = 0;
    int in_range = 1;
    for (int i = 0; i < N; i++) {
        double u = rng_uniform(&a);
        in_range &= u >= 0 && u < 1;
        s += u;
        s2 += u * u;
        double z = rng_normal(&a);
        n1 += z;
        n2 += z * z;
    }
    CHECK(in_range, "uniform outside [0,1)");
    CHECK(fabs(s / N - 0.5) < 5e-3, "uniform mean %g", s / N);
    CHECK(fabs(s2 / N - s / N * s / N - 1.0 / 12) < 3e-3, "uniform variance");
    CHECK(fabs(n1 / N) < 0.016, "normal mean %g", n1 / N);
    CHECK(fabs(n2 / N - 1) < 0.03, "normal variance %g", n2 / N);

    /* shuffle is a permutation, and every position is reachable */
    int p[10], seen_first[10] = {0};
    for (int trial = 0; trial < 2000; trial++) {
        for (int i = 0; i < 10; i++) p[i] = i;
        rng_shuffle(&a, p, 10);
        int mask = 0;
        for (int i = 0; i < 10; i++) mask |= 1 << p[i];
        CHECK(mask == 0x3FF, "shuffle lost an element");
        seen_first[p[0]]++;
    }
    for (int i = 0; i < 10; i++)
        CHECK(seen_first[i] > 120 && seen_first[i] < 290, "element %d first %d times of 2000", i,
              seen_first[i]);
    for (int i = 0; i < 1000; i++) CHECK(rng_below(&a, 7) < 7, "rng_below out of range");
    return check_done("test_rng");
}
