/* cmd_selftest: `clae selftest`, the chosen device checked against the host. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "device.h"
#include "selftest.h"

static const char USAGE[] =
    "usage: clae selftest [--device SPEC] [--tuning auto|none|FILE] [--cl-dir DIR]\n"
    "\n"
    "Checks every kernel and CLBlast SGEMM (NN, NT, TN, TT) against plain C on the host and\n"
    "the backward pass against finite differences on a tiny network, on the chosen device\n"
    "(default: CLAE_DEVICE, else the first device), with the device's CLBlast tuning applied\n"
    "(--tuning, as [device] tuning; default auto). One line per check; exit 1 on any failure.\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

int cmd_selftest(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    CliConfigArgs c;
    cli_config_args_init(&c);
    const char *tuning = NULL;
    int n_pos = 0;
    const CliOpt opts[] = {
        CLI_DEVICE_OPTS(&c.device, &c.cl_dir),
        {"--tuning", CLI_STR, &tuning, "auto, none or a file", 0, 0, 0},
    };
    CliSpec spec = {"selftest", usage, opts, CLI_COUNT(opts), NULL, 0, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    KCache kc = {.fd = -1};
    Err err = {{0}};
    rc = cli_build_config(&c, NULL, cfg);
    if (rc == 0 && tuning) {
        char set[CONFIG_STR + 32];
        snprintf(set, sizeof set, "device.tuning=%.*s", CONFIG_STR - 1, tuning);
        if (config_set(cfg, set, &err)) {
            fprintf(stderr, "clae selftest: --tuning %s: %s\n", tuning, err.msg);
            rc = EXIT_USAGE;
        }
    }
    if (rc == 0) rc = cli_claim_cache(&kc, NULL);
    if (rc) {
        free(cfg);
        return rc;
    }
    Device dev;
    rc = EXIT_RUN_FAILED;
    int opened = device_open(&dev, cfg, c.cl_dir, &err);
    if (opened == 0) {
        printf("kernels: %s (%s)\n", dev.k.dir, dev.k.dir_source);
        clctx_print_tuning(&dev.ctx, stdout, stderr);
        int failed = selftest_run(&dev.ctx, &dev.k, stdout, &err);
        if (failed == 0) rc = EXIT_OK;
        else if (failed > 0) err_set(&err, "selftest: %d checks failed", failed);
        device_close(&dev);
    } else if (opened == -2) {
        rc = EXIT_USAGE;
    }
    if (rc != EXIT_OK) fprintf(stderr, "clae: %s\n", err.msg);
    kcache_release(&kc);
    free(cfg);
    return rc;
}
