/* batch: many training runs from one command, and how each one went.
 *
 * Owns: running a list of resolved jobs (`clae train A.ini B.ini`, `clae
 * sweep`) one after another in this process, or J at a time as child
 * processes (`clae sweep --jobs J`, each child running `clae sweep FILE
 * --index I`, spread over --devices), skipping jobs whose completed run
 * already exists (--skip-done), stopping at the first failure (--fail-fast)
 * or at Ctrl-C, and the summary table at the end. */
#ifndef CLAE_BATCH_H
#define CLAE_BATCH_H

#include <stddef.h>

#include "config.h"
#include "util.h"

typedef struct {
    Config cfg;              /* resolved and validated */
    char overrides[2048];    /* "section.key=value ..." on top of the file, "" for none */
    int index;               /* the sweep job index, or -1 */
} BatchJob;

#define BATCH_MAX_DEVICES 64

typedef struct {
    int fail_fast;           /* no new job after a failure */
    int skip_done;           /* skip jobs with a completed run of the same config */
    int quiet;               /* no per-epoch lines */
    int jobs;                /* processes at once; 1 = one after another in this process */
    const char *devices[BATCH_MAX_DEVICES]; /* --devices: slot s uses devices[s % n] */
    int n_devices;
    const char *cl_dir;
    const char *command_line;
    const char *sweep_name;  /* for run.json when jobs are sweep jobs, else NULL */
    int sweep_count;
    /* jobs > 1: the child command, "clae sweep FILE [options]", to which
     * each child adds --index I --quiet [--device D]; NULL-terminated. */
    const char *const *child_argv;
} BatchOptions;

/* Runs the jobs and prints one summary line per job (name, status, final
 * test loss, folder). Returns 0 when every job completed or was skipped,
 * else 1. */
int batch_run(const BatchJob *jobs, int n, const BatchOptions *o);

/* Looks in cfg's [output] root for a completed run of the same experiment:
 * the same name and the same config.ini in every key but [device] (a sweep
 * re-run on other devices is the same experiment), or failing that one
 * still running (alive on this host, or with a fresh heartbeat on another;
 * runfolder.h). Returns 1 (completed) or 2 (still running) and the folder,
 * 0 when there is neither (a stale run does not count), -1 on error. */
int batch_find_done(const Config *cfg, char *folder, size_t len, Err *err);

#endif
