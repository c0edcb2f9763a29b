/* slurm: the Slurm job array of a sweep (`clae sweep FILE --slurm`).
 *
 * Owns: the script that runs job i of the sweep as array task i (see
 * docs/clusters.md, "Running on a cluster"): its #SBATCH lines from the options, each
 * value checked against what Slurm's own syntax for it allows (nothing else
 * goes into the script verbatim), the PoCL thread count from the task's
 * CPUs, and the `clae sweep FILE --index $SLURM_ARRAY_TASK_ID` line with
 * the options every task gets. Every path in it is absolute. Nothing is
 * submitted. */
#ifndef CLAE_SLURM_H
#define CLAE_SLURM_H

#include "sweep.h"

typedef struct {
    const char *output;       /* -o FILE, or NULL for ./sweep.sbatch */
    const char *partition, *time, *gpus, *mem; /* #SBATCH values, or NULL */
    int cpus_per_task;        /* #SBATCH --cpus-per-task, 0 for none */
    int max_running;          /* the array's %K throttle, 0 for none */
    const char *const *sbatch_lines; /* more #SBATCH lines, verbatim, in order */
    int n_sbatch_lines;
    /* passed on to every task */
    const char *const *sets;  /* --set values */
    int n_sets;
    const char *device, *cl_dir; /* --device, --cl-dir, or NULL */
    int skip_done, quiet;
} SlurmOptions;

/* Checks the options, writes the script for sw atomically and prints how to
 * submit it. Returns an exit code (exitcode.h): 2 for a value Slurm would
 * not take (said in one line; nothing written), 1 when the script cannot
 * be written. */
int slurm_write(const Sweep *sw, const SlurmOptions *o);

#endif
