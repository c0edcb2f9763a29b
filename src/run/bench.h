/* bench: `clae bench`, the only place clae measures speed.
 *
 * Trains for a fixed number of steps after a warm-up (kernel compilation
 * excluded) and prints images/s, GFLOP/s of the whole training step, and a
 * per-kernel time breakdown from OpenCL profiling events, CLBlast calls
 * included. */
#ifndef CLAE_BENCH_H
#define CLAE_BENCH_H

#include "config.h"
#include "exitcode.h"
#include "trainer.h"

#define BENCH_DEFAULT_STEPS 100 /* timed steps */
#define BENCH_DEFAULT_WARMUP 5  /* untimed steps before them */

typedef struct {
    int steps;   /* timed steps (default BENCH_DEFAULT_STEPS) */
    int warmup;  /* untimed steps before (default BENCH_DEFAULT_WARMUP) */
    int compare; /* CLBlast's own parameters first, then cfg's [device] tuning */
    int breakdown; /* also the step split into GEMMs, clae's kernels and host/launch time */
    const char *cl_dir; /* --cl-dir, or NULL for the documented search */
} BenchOptions;

/* Measures cfg's training step. Returns an exit code; prints its report to
 * stdout and errors to stderr. */
int bench_run(const Config *cfg, const BenchOptions *bopt);

#endif
