/* train: one training run, from a validated Config to a results folder.
 *
 * Owns: the run around the trainer (engine/trainer.h): its folder and files
 * (io/runfolder.h: config.ini, loss.csv, the recon grids, latent.csv,
 * model.ckpt, run.json), its pictures and page (view/plot.h, report.h),
 * the manifold (infer.h), its runs.csv row (io/runs.h), --resume, SIGINT
 * and SIGTERM (finish the queued steps, checkpoint, "interrupted"),
 * divergence, and the console lines. A run goes through three stages:
 * begin (folder, files, warm-up), one epoch after another (the steps, then
 * that epoch's outputs), and finish (the final outputs and the outcome). */
#ifndef CLAE_TRAIN_H
#define CLAE_TRAIN_H

#include "config.h"
#include "exitcode.h"
#include "runfolder.h"

/* What became of one run, for batch summaries. */
typedef struct {
    char folder[4096];        /* the run folder, "" when none was made */
    RunStatus status;         /* run.json's status, or failed / config error before a folder */
    double test_loss;         /* final test loss, NaN when none */
    int epochs_done;
} TrainResult;

typedef struct {
    const char *cl_dir;       /* --cl-dir, or NULL for the documented search */
    int quiet;                /* no per-epoch lines */
    const char *command_line; /* recorded in run.json */
    const char *overrides;    /* "section.key=value ..." on top of the file, for run.json and
                                 runs.csv; NULL = none */
    const char *sweep_name;   /* set when run as a sweep job */
    int sweep_index, sweep_count;
    TrainResult *result;      /* filled in when not NULL */
    const char *resume_dir;   /* --resume: continue this run folder from its model.ckpt */
} TrainOptions;

/* The configuration as config.ini records it: [data] dir made absolute, so
 * that `clae train RUN/config.ini` finds the same data from any working
 * directory (a path too long to hold is kept as given). */
void train_recorded_config(const Config *cfg, Config *rec);

/* The whole `clae train` run for one validated config; returns an exit code
 * and prints its own messages. A completed run appends its line to
 * <root>/runs.csv (runs.h). */
int train_run(const Config *cfg, const TrainOptions *opt);

#endif
