/* bench: `clae bench`, the only place clae measures speed.
 *
 * Trains for a fixed number of steps after a warm-up (kernel compilation
 * excluded) and prints images/s, GFLOP/s of the whole training step, and a
 * per-kernel time breakdown from OpenCL profiling events, CLBlast calls
 * included. */
#ifndef CLAE_BENCH_H
#define CLAE_BENCH_H

#include "config.h"
#include "train.h"

typedef struct {
    int steps;   /* timed steps (default 100) */
    int warmup;  /* untimed steps before (default 5) */
    int compare; /* CLBlast's own parameters first, then cfg's [device] tuning */
} BenchOptions;

/* Returns an exit code; prints its report to stdout and errors to stderr. */
int bench_run(const Config *cfg, const TrainOptions *topt, const BenchOptions *bopt);

#endif
