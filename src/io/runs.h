/* runs: the run folders of a results root, seen from outside.
 *
 * Owns: scanning a root for its run folders (each read by
 * runfolder_read), and ROOT/runs.csv, the one-line-per-completed-run
 * index that concurrent runs append to. Every access to runs.csv (append or
 * rewrite) holds an exclusive flock on ROOT/.runs.lock, so the file is
 * always whole CSV even when many processes, or hosts on a shared file
 * system, finish at once. This module is the only writer of that format. */
#ifndef CLAE_RUNS_H
#define CLAE_RUNS_H

#include <stdio.h>

#include "runfolder.h"
#include "util.h"

/* Every subfolder of root (sorted by name; names starting with '.' and plain
 * files skipped), run or not; *out is malloc'd and freed by the caller. A
 * missing root is an error naming it. */
int runs_scan(const char *root, RunRecord **out, int *n, Err *err);

/* The runs.csv header and one row (RFC 4180 quoting where needed). Columns:
 * run,name,status,start_time,end_time,epochs_completed,epochs,
 * final_train_loss,final_test_loss,images_per_second,seconds,device,sweep,
 * sweep_index,overrides; numbers "%.9g", empty when NaN (or no sweep). */
void runs_csv_header(FILE *f);
void runs_csv_row(FILE *f, const RunRecord *s);

/* One CSV field as runs.csv writes it: quoted, with quotes doubled, when it
 * holds a comma, a quote, CR or LF; else as is. */
void runs_csv_field(FILE *f, const char *s);

/* One CSV number as runs.csv writes it: "%.9g", nothing for NaN. */
void runs_csv_num(FILE *f, double v);

/* Appends s to root/runs.csv under the lock, writing the header first when
 * the file is new or empty. When the file has a row for s->id already (a
 * report's reindex got there first, or the run was resumed), that row is
 * replaced instead: one row per run. */
int runs_append(const char *root, const RunRecord *s, Err *err);

/* Replaces root/runs.csv by the header and rows (n of them) under the lock,
 * through a temporary file and rename. */
int runs_rewrite(const char *root, const RunRecord *rows, int n, Err *err);

/* Rebuilds root/runs.csv from the run folders: scans root and rewrites the
 * file with every completed run (in folder order), all under the lock, so a
 * run that completes meanwhile is either in the scan or appends after.
 * *completed (may be NULL) gets the row count. */
int runs_reindex(const char *root, int *completed, Err *err);

#endif
