/* fixture: the small 28x28 IDX data set that device tests train on.
 *
 * write_fixture(dir, "train", n, rng) writes dir/train-images-idx3-ubyte and
 * dir/train-labels-idx1-ubyte, plain IDX (no gzip): n images whose label is
 * i % 10 and whose bright bar sits at a row that depends on the label, plus
 * uniform noise from rng, so that an autoencoder has something to learn. */
#ifndef CLAE_TEST_FIXTURE_H
#define CLAE_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

static inline void put_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    fwrite(b, 1, 4, f);
}

static inline void write_fixture(const char *dir, const char *prefix, int n, Rng *rng)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *fi = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fl = fopen(path, "wb");
    if (!fi || !fl) {
        fprintf(stderr, "cannot write fixture in %s\n", dir);
        exit(1);
    }
    put_be32(fi, 0x803);
    put_be32(fi, (uint32_t)n);
    put_be32(fi, 28);
    put_be32(fi, 28);
    put_be32(fl, 0x801);
    put_be32(fl, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        unsigned char label = (unsigned char)(i % 10);
        fputc(label, fl);
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++) {
                int bar = r >= 2 + 2 * label && r < 5 + 2 * label && c > 4 && c < 24;
                double v = (bar ? 200 : 10) + 40 * rng_uniform(rng);
                fputc((int)v, fi);
            }
    }
    fclose(fi);
    fclose(fl);
}

#endif
