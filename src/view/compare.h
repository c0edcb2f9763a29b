/* compare: `clae compare ROOT`, the runs of a results root side by side.
 *
 * Owns: what `clae compare` prints: the table of runs
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

/* `clae compare ROOT`: prints the table of the runs in root (only those of
 * sweep `sweep` unless NULL; grouped by the config key `by`,
 * "section.key", unless NULL; as CSV with csv) on stdout, what to do about
 * stale runs and any error on stderr. Returns the exit code: 0, 1 when root
 * cannot be read, 2 for an unknown --by key or a missing root. */
int compare_print(const char *root, const char *by, const char *sweep, int csv);

#endif
