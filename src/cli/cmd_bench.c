/* cmd_bench: `clae bench`, the one place speed is measured. */
#include <stdio.h>

#include "bench.h"
#include "cli.h"
#include "gemm.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae bench CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--steps N]\n"
    "                         [--warmup N] [--compare] [--breakdown] [--cl-dir DIR]\n"
    "\n"
    "  --steps N            timed training steps (default %d)\n"
    "  --warmup N           untimed steps first, after kernel compilation (default %d)\n"
    "  --compare            CLBlast's own parameters first, then the tuning [device] tuning\n"
    "                       names (auto: the device's file), in one process, side by side\n"
    "  --breakdown          also the step's time split: GEMMs (and of them the products\n"
    "                       with a dimension below %d), clae's kernels, host and launch\n"
    "\n"
    "Prints images/s and GFLOP/s of the training step, then a per-command device-time\n"
    "breakdown from OpenCL profiling events (CLBlast SGEMM calls and clae kernels).\n";

static void usage(void)
{
    printf(USAGE, BENCH_DEFAULT_STEPS, BENCH_DEFAULT_WARMUP, GEMM_SMALL_DIM);
}

static int run(const Config *cfg, const void *b)
{
    return bench_run(cfg, b);
}

int cmd_bench(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    CliConfigArgs c;
    cli_config_args_init(&c);
    BenchOptions b = {.steps = BENCH_DEFAULT_STEPS, .warmup = BENCH_DEFAULT_WARMUP};
    const char *file = NULL;
    int n_pos = 0;
    const CliOpt opts[] = {
        CLI_CONFIG_OPTS(&c),
        {"--steps", CLI_INT, &b.steps, "a number", 0, 1000000, 0},
        {"--warmup", CLI_INT, &b.warmup, "a number", 0, 1000000, 0},
        {"--compare", CLI_FLAG, &b.compare, NULL, 0, 0, 0},
        {"--breakdown", CLI_FLAG, &b.breakdown, NULL, 0, 0, 0},
    };
    CliSpec spec = {"bench", usage, opts, CLI_COUNT(opts), &file, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!file) return cli_usage_error("bench", "%s", "missing CONFIG file");
    if (b.steps < 1) return cli_usage_error("bench", "%s", "--steps must be at least 1");
    b.cl_dir = c.cl_dir;
    return cli_run_config(&c, file, run, &b);
}
