/* compare: `clae compare ROOT`, the runs of a results root side by side.
 *
 * Owns: the compare command: its options and usage text, the table of runs
 * (status, the config keys whose values differ between them, final losses),
 * the --by grouping (mean, std and best test loss per value of one key), and
 * printing either as aligned text or as CSV with runs.csv's quoting. Reads
 * run folders through runs.h and their config.ini through config.h; writes
 * no file. */
#ifndef CLAE_COMPARE_H
#define CLAE_COMPARE_H

/* Runs `clae compare` on argv (the arguments after "compare"), printing the
 * table on stdout and any error on stderr. Returns the exit code: 0, 1 when
 * ROOT cannot be read, 2 for a usage error (bad option, unknown --by key,
 * missing ROOT). */
int compare_main(int argc, char **argv);

#endif
