/* cmd_train: `clae train`: one run per experiment file (several make a
 * batch, batch.h), or --resume of a run folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "train.h"

#define MAX_CONFIGS 256

static const char USAGE[] =
    "usage: clae train CONFIG... [--set SECTION.KEY=VALUE]... [--device SPEC] [--cl-dir DIR]\n"
    "                  [--quiet] [--fail-fast] [--dry-run]\n"
    "       clae train --resume RUN_DIR [--set SECTION.KEY=VALUE]... [--device SPEC] [--quiet]\n"
    "\n"
    "  CONFIG...            experiment INI files (keys: docs/configuration.md), run one after\n"
    "                       another; every file is checked before the first run starts\n"
    "  --set S.K=V          override one key after the file, validated like it; repeatable\n"
    "  --device SPEC        P:D (platform:device indices), gpu, cpu, accelerator, any, or a\n"
    "                       device-name substring; overrides [device] and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder (default: $CLAE_CL_DIR, <exe>/../share/clae/cl,\n"
    "                       then the source tree's cl/)\n"
    "  --quiet              no per-epoch lines (nor the live line of a terminal); the\n"
    "                       results folder is still printed last\n"
    "  --fail-fast          with several files: stop at the first run that fails\n"
    "  --dry-run            check the files and options, print each resolved config; run\n"
    "                       nothing, write nothing\n"
    "  --resume RUN_DIR     continue that run in its folder from its model.ckpt (written at the\n"
    "                       end, on Ctrl-C, and every [output] checkpoint_every epochs), with\n"
    "                       its config.ini; --set train.epochs=N trains it further\n"
    "\n"
    "Precedence: file < CLAE_DEVICE < --device < --set (in the order given), for every file.\n"
    "Writes <root>/<YYYYmmdd-HHMMSS>-<name>/ with config.ini, loss.csv, recon-epoch-NNN.png,\n"
    "latent.csv, manifold.png and run.json, prints its path last, and appends a line to\n"
    "<root>/runs.csv.\n"
    "With several files a failed run does not stop the others (unless --fail-fast); a\n"
    "summary table ends the output; the exit code is 0 only if every run completed.\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

typedef struct {
    CliConfigArgs c;
    const char *configs[MAX_CONFIGS];
    int n_configs;
    const char *resume;       /* --resume RUN_DIR */
    int quiet, fail_fast, dry_run;
} TrainArgs;

static int run(const Config *cfg, const void *o)
{
    return train_run(cfg, o);
}

/* clae train --resume RUN_DIR: the run's config.ini, then the options. */
static int resume(const TrainArgs *a, const char *cmdline)
{
    char path[4200];
    if (!util_is_dir(a->resume)) {
        fprintf(stderr, "clae train: --resume %s: no such run folder\n", a->resume);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s/config.ini", a->resume);
    char overrides[2048];
    cli_join_sets(&a->c.sets, overrides, sizeof overrides);
    TrainOptions o = {.cl_dir = a->c.cl_dir, .quiet = a->quiet, .command_line = cmdline,
                      .overrides = a->c.sets.n ? overrides : NULL, .resume_dir = a->resume};
    return cli_run_config(&a->c, path, run, &o);
}

int cmd_train(int argc, char **argv, const char *cmdline)
{
    TrainArgs a = {0};
    cli_config_args_init(&a.c);
    const CliOpt opts[] = {
        CLI_CONFIG_OPTS(&a.c),
        {"--quiet", CLI_FLAG, &a.quiet, NULL, 0, 0, 0},
        {"--resume", CLI_STR, &a.resume, "a run folder", 0, 0, 0},
        {"--fail-fast", CLI_FLAG, &a.fail_fast, NULL, 0, 0, 0},
        {"--dry-run", CLI_FLAG, &a.dry_run, NULL, 0, 0, 0},
    };
    CliSpec spec = {"train", usage, opts, CLI_COUNT(opts), a.configs, MAX_CONFIGS, &a.n_configs, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (a.resume && a.n_configs)
        return cli_usage_error("train", "--resume takes no CONFIG: the run's own config.ini is "
                                        "used (got '%s'); change keys with --set", a.configs[0]);
    if (a.resume && a.dry_run)
        return cli_usage_error("train", "%s", "--resume and --dry-run do not go together");
    if (a.n_configs == 0 && !a.resume) return cli_usage_error("train", "%s", "missing CONFIG file");
    if (a.resume) return resume(&a, cmdline);
    int n = a.n_configs;
    BatchJob *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs) return EXIT_RUN_FAILED;
    char overrides[sizeof jobs[0].overrides];
    cli_join_sets(&a.c.sets, overrides, sizeof overrides);
    int bad = 0;
    /* Every file is checked before the first run starts. */
    for (int i = 0; i < n; i++) {
        if (cli_build_config(&a.c, a.configs[i], &jobs[i].cfg)) bad++;
        util_copy(jobs[i].overrides, sizeof jobs[i].overrides, overrides);
        jobs[i].index = -1;
    }
    KCache kc = {.fd = -1};
    if (bad) {
        if (n > 1)
            fprintf(stderr, "clae: %d of %d files have errors; nothing was run\n", bad, n);
        rc = EXIT_USAGE;
    } else if (a.dry_run) {
        for (int i = 0; i < n; i++) cli_print_resolved(a.configs[i], &jobs[i].cfg);
        printf("# %d run%s checked; nothing was run\n", n, n == 1 ? "" : "s");
        rc = EXIT_OK;
    } else if ((rc = cli_claim_cache(&kc, NULL)) != 0) {
        /* message printed */
    } else if (n == 1) {
        TrainOptions o = {.cl_dir = a.c.cl_dir, .quiet = a.quiet, .command_line = cmdline,
                          .overrides = overrides};
        rc = train_run(&jobs[0].cfg, &o);
    } else {
        BatchOptions o = {.fail_fast = a.fail_fast, .quiet = a.quiet, .jobs = 1,
                          .cl_dir = a.c.cl_dir, .command_line = cmdline};
        rc = batch_run(jobs, n, &o);
    }
    kcache_release(&kc);
    free(jobs);
    return rc;
}
