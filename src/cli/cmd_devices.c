/* cmd_devices: `clae devices`, every OpenCL platform and device. */
#include <stdio.h>

#include "clctx.h"
#include "cli.h"

static const char USAGE[] =
    "usage: clae devices\n"
    "\n"
    "Lists every OpenCL platform and device: indices (for --device P:D), type, vendor, name,\n"
    "compute units, global memory, max work-group size and OpenCL C version.\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

int cmd_devices(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *device = NULL, *cl_dir = NULL; /* taken, as by every command, and unused */
    int n_pos = 0;
    const CliOpt opts[] = {CLI_DEVICE_OPTS(&device, &cl_dir)};
    CliSpec spec = {"devices", usage, opts, CLI_COUNT(opts), NULL, 0, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    Err err = {{0}};
    if (clctx_list(stdout, &err)) {
        fprintf(stderr, "clae: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    return EXIT_OK;
}
