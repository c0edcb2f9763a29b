/* exitcode: the exit codes of every clae command.
 *
 * 0 success; 1 the work failed (a device, data or I/O error, divergence, an
 * interruption); 2 the request is at fault (a bad option or value, an unknown
 * key, inconsistent keys, no device matching the selection, an unusable
 * input). The commands (cli/), the runs (run/), the tools that read results
 * (view/) and `clae tune` (engine/) all return these, so the header stands
 * apart at the bottom of the layers. */
#ifndef CLAE_EXITCODE_H
#define CLAE_EXITCODE_H

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#endif
