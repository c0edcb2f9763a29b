/* runs: the run folders of a results root, seen from outside.
 *
 * Owns: reading a run folder's run.json into a RunSummary, scanning a root
 * for its run folders, and ROOT/runs.csv, the one-line-per-completed-run
 * index that concurrent runs append to. Every access to runs.csv (append or
 * rewrite) holds an exclusive flock on ROOT/.runs.lock, so the file is
 * always whole CSV even when many processes, or hosts on a shared file
 * system, finish at once. This module is the only writer of that format. */
#ifndef CLAE_RUNS_H
#define CLAE_RUNS_H

#include <stdio.h>

#include "proc.h"
#include "util.h"

typedef struct {
    char folder[4096];     /* the run folder's path as found (root/id) */
    char id[256];          /* its last component: YYYYmmdd-HHMMSS-name[-N] */
    char name[256];        /* run.json "name" */
    char status[32];       /* run.json "status" (completed, running, failed, diverged,
                              interrupted); "stale" for a run.json that says running
                              whose process is gone from this host (killed, or its
                              machine restarted: see error); "not a run" when run.json
                              is missing or unreadable */
    char start[64], end[64]; /* ISO 8601 from run.json, "" when null */
    int epochs_done, epochs;
    double train_loss, test_loss;     /* final losses; NaN when none */
    double images_per_second, seconds; /* NaN when none */
    char device[256];      /* "P:D name" */
    char sweep[256];       /* run.json "sweep.name" (the sweep file's stem), "" if none */
    int sweep_index;       /* run.json "sweep.index", -1 if none */
    char overrides[2048];  /* run.json "overrides": "section.key=value" joined by ' ' */
    char error[1024];      /* run.json "error", or why it is "not a run" */
    int resumes;           /* run.json "resumes" (clae train --resume), 0 if none */
    ProcId process;        /* run.json "process": who writes the run; zeroed if none */
    char kernel_cache[1024]; /* run.json "kernel_cache", "" if none */
} RunSummary;

/* Reads folder/run.json into s. Returns 0, or -1 with s->status "not a run"
 * and the reason in err and s->error (no run.json, not our JSON). A run that
 * says "running" but whose process no longer exists on this host becomes
 * "stale", with s->error saying so and giving the command that continues it
 * (clae train --resume FOLDER, or a fresh start when it has no model.ckpt). */
int runs_read(const char *folder, RunSummary *s, Err *err);

/* Every subfolder of root (sorted by name; names starting with '.' and plain
 * files skipped), run or not; *out is malloc'd and freed by the caller. A
 * missing root is an error naming it. */
int runs_scan(const char *root, RunSummary **out, int *n, Err *err);

/* The runs.csv header and one row (RFC 4180 quoting where needed). Columns:
 * run,name,status,start_time,end_time,epochs_completed,epochs,
 * final_train_loss,final_test_loss,images_per_second,seconds,device,sweep,
 * sweep_index,overrides; numbers "%.9g", empty when NaN (or no sweep). */
void runs_csv_header(FILE *f);
void runs_csv_row(FILE *f, const RunSummary *s);

/* One CSV field as runs.csv writes it: quoted, with quotes doubled, when it
 * holds a comma, a quote, CR or LF; else as is. */
void runs_csv_field(FILE *f, const char *s);

/* One CSV number as runs.csv writes it: "%.9g", nothing for NaN. */
void runs_csv_num(FILE *f, double v);

/* Appends s to root/runs.csv under the lock, writing the header first when
 * the file is new or empty. When the file has a row for s->id already (a
 * report's reindex got there first, or the run was resumed), that row is
 * replaced instead: one row per run. */
int runs_append(const char *root, const RunSummary *s, Err *err);

/* Replaces root/runs.csv by the header and rows (n of them) under the lock,
 * through a temporary file and rename. */
int runs_rewrite(const char *root, const RunSummary *rows, int n, Err *err);

/* Rebuilds root/runs.csv from the run folders: scans root and rewrites the
 * file with every completed run (in folder order), all under the lock, so a
 * run that completes meanwhile is either in the scan or appends after.
 * *completed (may be NULL) gets the row count. */
int runs_reindex(const char *root, int *completed, Err *err);

#endif
