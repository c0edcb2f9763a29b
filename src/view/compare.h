/* compare: `clae compare ROOT`, the runs of a results root side by side.
 *
 * Owns: the compare command: its options and usage text, the table of runs
 * (status, the config keys whose values differ between them, final losses),
 * the --by grouping (mean, std and best test loss per value of one key), and
 * printing either as aligned text or as CSV with runs.csv's quoting. Owns too
 * the rule for which config keys tell runs apart (compare_differing_keys),
 * which the HTML index of report.h shares so that both show the same columns.
 * Reads run folders through runs.h and their config.ini through config.h;
 * writes no file. */
#ifndef CLAE_COMPARE_H
#define CLAE_COMPARE_H

#include "config.h"

/* The keys that tell runs apart: fills keys (room for config_key_count()
 * entries) with the indices, in key-table order, of the config keys that have
 * at least two values among cfg[0..n-1], skipping NULL entries (runs without
 * a readable config.ini) and [output] root and name (different in every run
 * by construction). Returns how many. */
int compare_differing_keys(const Config *const *cfg, int n, int *keys);

/* Runs `clae compare` on argv (the arguments after "compare"), printing the
 * table on stdout and any error on stderr. Returns the exit code: 0, 1 when
 * ROOT cannot be read, 2 for a usage error (bad option, unknown --by key,
 * missing ROOT). */
int compare_main(int argc, char **argv);

#endif
