/* tune: `clae tune`, the search for the CLBlast parameters that make one
 * config's training step fastest on one device.
 *
 * Owns: the list of products the step issues (forward, dW and dX of every
 * layer at the config's batch size, and again at the epoch's last, partial
 * batch), their host references, the evaluation of one parameter set
 * (applied through CLBlast, every product checked against the host before
 * its time counts, then the step's GEMMs timed as training runs them), the
 * search over CLBlast's Xgemm, XgemmDirect, GemmRoutine and helper kernels
 * within a time budget, and the tuning file it writes.
 *
 * The objective is the GEMM time of one training step, averaged over an
 * epoch (its full batches and its last, partial one), through gemm.h: the
 * very calls training makes, in both layouts gemm.h knows. */
#ifndef CLAE_TUNE_H
#define CLAE_TUNE_H

#include "config.h"

/* Default search budget in seconds: on the 2-core PoCL machines it finds
 * most of the gain (docs/speed.md has the measured curve). */
#define TUNE_DEFAULT_BUDGET 120.0

typedef struct {
    double budget;      /* seconds of search after the baseline */
    const char *output; /* -o FILE, or NULL for the device's file in the tuning cache */
    int quiet;          /* no per-candidate lines, only the summary */
    const char *import_dir; /* --import DIR: no search; the JSON files of CLBlast's own tuners
                               there, checked and measured like a candidate */
    int jobs;           /* compile processes (tunepool.h); -1 for one per core, 0 for none */
    int for_class;      /* write a class file ([device] class = the device's class, as the
                           shipped files in tuning/ are) instead of one for this device */
} TuneOptions;

/* Runs the search for cfg on cfg's device and writes the tuning file.
 * Returns an exit code (0; 1 when nothing compiled or a device error; 2
 * for an unwritable output, a config or data error); prints its progress
 * to stderr and its summary to stdout. Ctrl-C ends the search early and
 * keeps the best found so far. */
int tune_run(const Config *cfg, const TuneOptions *opt);

#endif
