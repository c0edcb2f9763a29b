/* cmd_report: `clae report [ROOT]`, the HTML pages of a results root
 * (view/report.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae report [ROOT]\n"
    "\n"
    "  ROOT                 a results folder ([output] root) that holds run folders\n"
    "                       (default: results)\n"
    "\n"
    "Writes a page for every run folder (every subfolder of ROOT with a run.json), as\n"
    "ROOT/<run>/index.html: status, device, final numbers, the loss curve, the\n"
    "reconstructions per epoch, the latent plot and manifold when present, and the\n"
    "resolved config; it refreshes itself every %d s while the run is going. A run whose\n"
    "run.json says running but whose process is gone from this host, or (run on another\n"
    "host) whose heartbeat.json is too old or damaged, shows as stale, with the command\n"
    "that continues it. Then writes\n"
    "ROOT/index.html: one row per subfolder with its latent thumbnail, status, the\n"
    "config keys whose values differ between runs (as clae compare shows them), final\n"
    "losses, images/s and epochs; click a column header to sort by it. Last, rewrites\n"
    "ROOT/runs.csv from the run.json of every completed run. The pages are plain files\n"
    "(open ROOT/index.html in a browser); only the index's sorting uses JavaScript.\n"
    "Exit code %d; %d when a file cannot be written; %d for a usage error or a missing ROOT.\n";

static void usage(void)
{
    printf(USAGE, REPORT_REFRESH_SECONDS, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE);
}

int cmd_report(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *root = NULL;
    int n_pos = 0;
    CliSpec spec = {"report", usage, NULL, 0, &root, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!root) root = "results";
    if (strlen(root) >= 4096)
        return cli_usage_error("report", "ROOT '%.100s...' is too long", root);
    return report_root(root);
}
