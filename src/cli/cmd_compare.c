/* cmd_compare: `clae compare ROOT`, the runs of a results root side by side
 * (view/compare.h). */
#include <stdio.h>

#include "cli.h"
#include "compare.h"

static const char USAGE[] =
    "usage: clae compare ROOT [--by SECTION.KEY] [--sweep NAME] [--csv]\n"
    "\n"
    "  ROOT                 a results folder ([output] root) that holds run folders\n"
    "  --by S.K             one row per value of [S] K among completed runs: the number of\n"
    "                       runs, mean and sample std of their final test loss, the best one\n"
    "                       and its run; lowest mean first\n"
    "  --sweep NAME         only the runs of sweep NAME (run.json sweep.name)\n"
    "  --csv                the same columns as CSV (RFC 4180 quoting, numbers in full\n"
    "                       precision, empty when none)\n"
    "\n"
    "One row per subfolder of ROOT: run (the folder), status, the config.ini keys whose values\n"
    "differ between the rows shown (as section.key; [output] root and name aside), epochs\n"
    "completed, final train and test loss, and images/s. Lowest test loss first; rows without\n"
    "one (failed, running, not a run) follow in folder name order. A run whose run.json says\n"
    "running but whose process is gone from this host, or (another host's) whose\n"
    "heartbeat.json is too old or damaged, is \"stale\"; stderr says how to continue it. A\n"
    "ROOT without run folders prints \"no runs in ROOT\" on stderr and exits 0; a missing\n"
    "ROOT is an error (exit 2).\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

int cmd_compare(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *root = NULL, *by = NULL, *sweep = NULL;
    int csv = 0, n_pos = 0;
    const CliOpt opts[] = {
        {"--csv", CLI_FLAG, &csv, NULL, 0, 0, 0},
        {"--by", CLI_STR, &by, "a value", 0, 0, 0},
        {"--sweep", CLI_STR, &sweep, "a value", 0, 0, 0},
    };
    CliSpec spec = {"compare", usage, opts, CLI_COUNT(opts), &root, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!root) return cli_usage_error("compare", "%s", "missing ROOT folder");
    return compare_print(root, by, sweep, csv);
}
