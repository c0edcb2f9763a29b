/* tunepool: the compile processes of `clae tune`.
 *
 * Owns: a few child processes, each with its own OpenCL context on the
 * tuner's device, that build a candidate parameter set's CLBlast programs
 * (apply it, run every product of the step once, so that every kernel and
 * work-group size is compiled) and report whether that worked. The tuner
 * hands them the next candidates together and waits until all are built;
 * then it measures them in its own process, where each build is a hit in
 * the driver's kernel cache (PoCL's POCL_CACHE_DIR) instead of a compile.
 *
 * Why processes: PoCL compiles on one thread, and CLBlast's parameters are
 * process-wide (CLBlastOverrideParameters), so two candidates can only be
 * built at once in two processes. They are forked before the tuner's
 * process makes its first OpenCL call (a fork after it would copy PoCL's
 * state without its threads), and they never run while the tuner measures,
 * so the timings see no compile. A child that dies (a compiler crash) costs
 * its candidate, reported as failed, never the tuner. */
#ifndef CLAE_TUNEPOOL_H
#define CLAE_TUNEPOOL_H

#include <sys/types.h>

#include "config.h"
#include "gemm.h"
#include "tuning.h"
#include "util.h"

#define TUNEPOOL_MAX 8

typedef struct {
    pid_t pid;  /* 0 once it has exited or died */
    int fd;     /* our end of its socket pair; -1 when gone */
} TuneWorker;

typedef struct {
    TuneWorker w[TUNEPOOL_MAX];
    int n;      /* workers started */
} TunePool;

/* What building one candidate gave. */
typedef struct {
    int ok;          /* 1: every product ran under it */
    char why[256];   /* else the error (CLBlast's or OpenCL's, or the child's death) */
} TuneBuild;

/* The number of compile processes for this machine: its online cores, at
 * most TUNEPOOL_MAX (CLAE_TUNE_JOBS overrides: 0 builds in the tuner's own
 * process, as before). */
int tunepool_default_jobs(void);

/* Forks n workers for cfg's device (cfg->tuning must be "none") and the
 * shapes the step runs. Call before this process touches OpenCL. Returns
 * 0 (p->n may be below n if a fork failed), -1 when none could start. */
int tunepool_start(TunePool *p, int n, const Config *cfg, const GemmShape *shapes, int n_shapes,
                   Err *err);

/* The workers alive. */
int tunepool_alive(const TunePool *p);

/* Builds t[0..n), each on the next free live worker, and returns when all
 * are done; out[i] says how each went. */
void tunepool_build(TunePool *p, const Tuning *t, int n, TuneBuild *out);

/* Ends the workers and waits for them. */
void tunepool_stop(TunePool *p);

#endif
