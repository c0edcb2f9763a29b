/* cmd_plot: `clae plot RUN [latent|loss] -o FILE`, a run's latent scatter or
 * loss curves drawn again from its latent.csv or loss.csv, as PNG, SVG or
 * PDF by the file's extension: the same routine (plot.h) that drew the
 * run's own pictures, so a PDF for a paper matches latent.png. No device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "plot.h"
#include "runfolder.h"

static const char USAGE[] =
    "usage: clae plot RUN_DIR [latent|loss] -o FILE [--force]\n"
    "\n"
    "  RUN_DIR     a run folder (a running run's too: the rows so far)\n"
    "  latent      (the default) the test set's latent codes in RUN_DIR/latent.csv, z1\n"
    "              across and z2 up, coloured by label with the names of the run's\n"
    "              [data] label_names, each class's centroid and a legend\n"
    "  loss        train and test loss per epoch from RUN_DIR/loss.csv, and for a vae\n"
    "              the KL term below\n"
    "  -o FILE     where to write it, atomically; the extension picks the format:\n"
    "              .png, .svg or .pdf\n"
    "  --force     replace FILE when it exists (default: refused)\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

/* The run's config.ini when it reads (for the title and the label names),
 * else a warning and defaults: the title is then the folder's name and
 * labels show as numbers. */
static void run_config(const char *dir, Config *cfg, ConfigLabelNames *ln, char *title, size_t len)
{
    char path[4200];
    Err err = {{0}};
    snprintf(path, sizeof path, "%s/config.ini", dir);
    memset(ln, 0, sizeof *ln);
    if (config_load(cfg, path, &err) == 0) {
        config_label_names(cfg, ln);
        snprintf(title, len, "%s", cfg->name);
        return;
    }
    fprintf(stderr, "clae plot: warning: %s; the legend shows label numbers\n", err.msg);
    const char *base = strrchr(dir, '/');
    while (base && base[1] == '\0' && base > dir) { /* "results/run/" */
        const char *p = base - 1;
        while (p > dir && *p != '/') p--;
        base = *p == '/' ? p : NULL;
    }
    snprintf(title, len, "%s", base ? base + 1 : dir);
    title[strcspn(title, "/")] = '\0';
}

static int plot_latent(const char *dir, const char *out, PlotFormat fmt, Err *err)
{
    Config *cfg = util_malloc(sizeof *cfg, err);
    ConfigLabelNames *ln = cfg ? util_malloc(sizeof *ln, err) : NULL;
    if (!ln) {
        free(cfg);
        return EXIT_RUN_FAILED;
    }
    char title[CONFIG_STR + 64], path[4200];
    run_config(dir, cfg, ln, title, sizeof title);
    snprintf(path, sizeof path, "%s/latent.csv", dir);
    float *z = NULL;
    unsigned char *labels = NULL;
    int n = 0, k = 0, rc = EXIT_USAGE;
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set(err, "%s: no such file; a run writes it when it completes (or is stopped)", path);
    } else if (runfolder_read_latent(path, &k, &z, &labels, &n, err) == 0) {
        PlotNames names = {ln->n, ln->name};
        PlotLatent pl = {.n = n, .k = k, .z = z, .labels = labels, .names = &names, .title = title};
        rc = plot_write_latent(out, fmt, &pl, err) ? EXIT_RUN_FAILED : EXIT_OK;
        if (rc == EXIT_OK) printf("wrote %s (%d points, z1 and %s)\n", out, n, k == 1 ? "index" : "z2");
    }
    free(z);
    free(labels);
    free(ln);
    free(cfg);
    return rc;
}

static int plot_loss(const char *dir, const char *out, PlotFormat fmt, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/loss.csv", dir);
    size_t len = 0;
    char *text = util_read_file(path, &len, err);
    if (!text) return EXIT_USAGE;
    LossRows l;
    int rc = runfolder_loss_parse(text, len, &l, err) ? EXIT_RUN_FAILED : EXIT_OK;
    free(text);
    if (rc != EXIT_OK) return rc;
    PlotLoss pl = {.n = l.n, .epoch = l.epoch, .train = l.train, .test = l.test,
                   .train_kl = l.train_kl, .test_kl = l.test_kl};
    rc = plot_write_loss(out, fmt, &pl, err) ? EXIT_RUN_FAILED : EXIT_OK;
    if (rc == EXIT_OK)
        printf("wrote %s (%d epoch%s%s)\n", out, l.n, l.n == 1 ? "" : "s",
               l.skipped ? ", some lines of loss.csv left out" : "");
    runfolder_loss_free(&l);
    return rc;
}

int cmd_plot(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "plot", *pos[2], *out = NULL;
    int n_pos = 0, force = 0;
    const CliOpt opts[] = {
        {"-o", CLI_STR, &out, "-o needs a file name (FILE.png, FILE.svg or FILE.pdf)", 0, 0, 0},
        {"--force", CLI_FLAG, &force, NULL, 0, 0, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), pos, 2, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (n_pos < 1) return cli_usage_error(cmd, "%s", "missing RUN_DIR");
    const char *what = n_pos > 1 ? pos[1] : "latent";
    if (strcmp(what, "latent") != 0 && strcmp(what, "loss") != 0)
        return cli_usage_error(cmd, "'%s': expected latent or loss", what);
    if (!out) return cli_usage_error(cmd, "%s", "missing -o FILE (.png, .svg or .pdf)");
    Err err = {{0}};
    PlotFormat fmt;
    struct stat st;
    rc = EXIT_USAGE;
    if (plot_format_of(out, &fmt, &err)) goto out;
    if (stat(pos[0], &st) != 0 || !S_ISDIR(st.st_mode)) {
        err_set(&err, "%s: not a run folder", pos[0]);
        goto out;
    }
    if (!force && stat(out, &st) == 0) {
        err_set(&err, "%s: exists; --force replaces it", out);
        goto out;
    }
    if (cli_check_output(cmd, out)) return EXIT_USAGE; /* printed */
    rc = strcmp(what, "loss") == 0 ? plot_loss(pos[0], out, fmt, &err) : plot_latent(pos[0], out, fmt, &err);
out:
    if (rc != EXIT_OK && err.msg[0]) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    return rc;
}
