/* cmd_tune: `clae tune`, the CLBlast parameters for one config's step. */
#include <stdio.h>

#include "cli.h"
#include "tune.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae tune CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--budget SECONDS]\n"
    "                        [-o FILE] [--class] [--quiet] [--import DIR] [--jobs N]\n"
    "\n"
    "Searches the CLBlast parameters (Xgemm, XgemmDirect, the direct/indirect threshold, the\n"
    "pad/transpose/copy kernels, and the layout clae hands products over in) that make the\n"
    "training step of CONFIG fastest on its device: every GEMM the step issues, at the batch\n"
    "size and at the epoch's last batch. Every candidate is checked against the host before\n"
    "its time counts. Then each small product (a dimension below 16) is timed by every\n"
    "CLBlast route that can run it (clblast, direct, indirect, gemv) and the fastest saved\n"
    "in the file's [routes]. Ctrl-C stops the search and keeps the best found so far.\n"
    "\n"
    "  --budget SECONDS     search time after the baseline (default %.0f)\n"
    "  -o FILE              where to write the tuning file (default: this device's file in\n"
    "                       $XDG_CACHE_HOME/clae/tuning/, which [device] tuning = auto uses)\n"
    "  --class              write a file for the device's class (pocl-cpu-avx2, ...) rather\n"
    "                       than for this device alone, as the files shipped in tuning/ are;\n"
    "                       needs -o\n"
    "  --quiet              no line per candidate, only the summary\n"
    "  --jobs N             compile processes that build the next N candidates at once while\n"
    "                       the tuner waits; it measures only when none compiles (default:\n"
    "                       one per core, at most 8; 0 compiles in the tuner's own process)\n"
    "  --import DIR         no search: take the parameters from the JSON files CLBlast's own\n"
    "                       tuners (clblast_tuner_xgemm, ...) wrote in DIR, check them against\n"
    "                       the host and measure them like a candidate, and write them\n"
    "  --set, --device      as for clae train\n";

static void usage(void)
{
    printf(USAGE, TUNE_DEFAULT_BUDGET);
}

static int run(const Config *cfg, const void *t)
{
    return tune_run(cfg, t);
}

int cmd_tune(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    CliConfigArgs c;
    cli_config_args_init(&c);
    TuneOptions t = {.budget = TUNE_DEFAULT_BUDGET, .jobs = -1};
    const char *file = NULL;
    int n_pos = 0;
    const CliOpt opts[] = {
        CLI_CONFIG_OPTS(&c),
        {"--budget", CLI_SECONDS, &t.budget, "a number of seconds", 1, 1000000, 0},
        {"-o", CLI_STR, &t.output, "a file", 0, 0, 0},
        {"--class", CLI_FLAG, &t.for_class, NULL, 0, 0, 0},
        {"--quiet", CLI_FLAG, &t.quiet, NULL, 0, 0, 0},
        {"--import", CLI_STR, &t.import_dir, "a folder", 0, 0, 0},
        {"--jobs", CLI_INT, &t.jobs, "a whole number 0..8", 0, 8, 0},
    };
    CliSpec spec = {"tune", usage, opts, CLI_COUNT(opts), &file, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!file) return cli_usage_error("tune", "%s", "missing CONFIG file");
    return cli_run_config(&c, file, run, &t);
}
