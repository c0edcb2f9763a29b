/* main: argv to subcommand, nothing more. Each command is one cmd_<name>.c
 * (its options, usage text and what it calls); what they share is cli.h. */
#define _POSIX_C_SOURCE 200809L /* unsetenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static const CliCommand COMMANDS[] = {
    {"devices", "", "list OpenCL platforms and devices with their indices", cmd_devices},
    {"train", "CONFIG...", "train an autoencoder per file; write a timestamped results folder",
     cmd_train},
    {"sweep", "FILE", "run, list or submit the jobs of a sweep file", cmd_sweep},
    {"selftest", "",
     "check every kernel and CLBlast SGEMM against the host, and the\n"
     "gradients against finite differences, on the chosen device",
     cmd_selftest},
    {"bench", "CONFIG", "measure training speed (images/s, GFLOP/s, per-kernel times)", cmd_bench},
    {"tune", "CONFIG",
     "find the CLBlast parameters that make CONFIG's training step\n"
     "fastest on its device, and save them for every later run",
     cmd_tune},
    {"compare", "ROOT", "the runs under a results folder side by side, best test loss first",
     cmd_compare},
    {"report", "[ROOT]", "HTML pages of the runs under a results folder (ROOT/index.html)",
     cmd_report},
    {"encode", "RUN IMAGES", "a trained run's latent codes of the images of an IDX file (CSV, .npy)",
     cmd_encode},
    {"decode", "RUN Z1,Z2,...", "the image a trained run decodes from one latent point (PNG)",
     cmd_decode},
    {"generate", "RUN", "an N x N grid of decoded latent points: the learned manifold (PNG)",
     cmd_generate},
    {"export", "RUN",
     "a trained run's parameters for PyTorch (.safetensors), or with\n"
     "--torch the Python code of the model they load into",
     cmd_export},
    {"plot", "RUN [latent|loss]",
     "a run's latent scatter or loss curves drawn again, as PNG, SVG or PDF",
     cmd_plot},
};
#define N_COMMANDS (int)(sizeof COMMANDS / sizeof COMMANDS[0])

/* `clae --help`: the table, a summary's later lines under its first. */
static void usage(FILE *f)
{
    fputs("usage: clae COMMAND [OPTIONS]\n\ncommands:\n", f);
    for (int i = 0; i < N_COMMANDS; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", COMMANDS[i].name, COMMANDS[i].args[0] ? " " : "",
                 COMMANDS[i].args);
        fprintf(f, "  %-24s", head);
        for (const char *p = COMMANDS[i].summary; *p; p++) {
            fputc(*p, f);
            if (*p == '\n') fprintf(f, "%26s", "");
        }
        fputc('\n', f);
    }
    fprintf(f, "\noptions: clae COMMAND --help; clae --version; clae --keys (every experiment "
               "key, as --set takes it)\n"
               "exit codes: %d success, %d run failed, %d usage or config error\n",
            EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--keys") == 0) {
        /* one SECTION.KEY a line, in file order: what shell completion of
         * --set offers, and a quick reference */
        for (int i = 0; i < config_key_count(); i++)
            printf("%s.%s\n", config_key_section(i), config_key_name(i));
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("clae %s (CLBlast %s)\n", CLAE_VERSION, CLAE_CLBLAST_VERSION);
        return EXIT_OK;
    }
    /* PoCL aborts on an empty POCL_CACHE_DIR (an assertion); empty means
     * unset here, as kcache.h reads it. */
    const char *pocl_cache = getenv("POCL_CACHE_DIR");
    if (pocl_cache && !*pocl_cache) unsetenv("POCL_CACHE_DIR");
    static char cmdline[8192];
    cli_join_argv(argc, argv, cmdline, sizeof cmdline);
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, COMMANDS[i].name) == 0) return COMMANDS[i].run(argc - 2, argv + 2, cmdline);
    fprintf(stderr, "clae: unknown command '%s'; expected ", cmd);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, "%s%s", COMMANDS[i].name,
                i + 2 < N_COMMANDS ? ", " : i + 1 < N_COMMANDS ? " or " : "");
    fprintf(stderr, " (see clae --help)\n");
    return EXIT_USAGE;
}
