/* sweep: a sweep file and the jobs it stands for.
 *
 * Owns: the meaning of a sweep file's [sweep] section (config.h reads the
 * lines), the job list it expands to, each job's resolved Config and its run
 * name. A sweep file is an experiment INI plus
 *
 *   [sweep]
 *   train.learning_rate = 1e-3, 3e-4, 1e-4   ; values: a comma list
 *   model.encoder = 500,300 | 256             ; '|' separates values that hold commas
 *   repeat = 2                                ; each job with seed, seed+1, ...
 *
 * The jobs are the cartesian product of the value lists. Job order is fixed
 * and documented: the first [sweep] key varies slowest, the last one fastest,
 * and repeats (seeds) fastest of all, like nested for-loops written in file
 * order. Job i of n is therefore the same job on every machine, which is
 * what --index and Slurm job arrays rely on. */
#ifndef CLAE_SWEEP_H
#define CLAE_SWEEP_H

#include "config.h"
#include "util.h"

#define SWEEP_MAX_VALUES 64 /* values per key */
#define SWEEP_MAX_JOBS 100000

typedef struct {
    char key[64];        /* "train.learning_rate" */
    char label[64];      /* its name in run names: "lr" */
    char value[SWEEP_MAX_VALUES][200]; /* as written, trimmed */
    int n_values;
    int line;            /* in the sweep file */
} SweepAxis;

typedef struct {
    char path[CONFIG_STR];   /* the sweep file */
    char stem[CONFIG_STR];   /* its stem: run.json's sweep.name */
    Config base;             /* the file without [sweep], before any option */
    SweepAxis axis[CONFIG_SWEEP_MAX];
    int n_axes;
    int repeat;              /* 1 = each job once */
    int n_jobs;              /* product of the value counts, times repeat */
} Sweep;

/* Command-line options applied to every job, in this order after the file
 * and the job's sweep values: CLAE_DEVICE (env), --device, each --set. */
typedef struct {
    const char *env_device;  /* CLAE_DEVICE or NULL */
    const char *device;      /* --device or NULL */
    const char *const *sets; /* --set values */
    int n_sets;
} SweepOptions;

/* Reads and checks a sweep file: every key must be a config key (or
 * `repeat`), every value must pass that key's validation, no list may be
 * empty, and every job must resolve (cross-key checks, run name). Errors name
 * path:line, the key and the value. s is large: allocate it on the heap. */
int sweep_load(Sweep *s, const char *path, const SweepOptions *o, Err *err);

/* Resolves job `index` (0 <= index < n_jobs): cfg gets the file, the job's
 * values, then the options; its [output] name becomes
 * "<name>_<label>=<value>..." (plus "_seed=N" with repeat > 1). overrides
 * gets "section.key=value ..." (the job's values, and train.seed with
 * repeat). */
int sweep_job(const Sweep *s, int index, const SweepOptions *o, Config *cfg, char *overrides,
              size_t overrides_len, Err *err);

#endif
