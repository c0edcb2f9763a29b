/* cmd_generate: `clae generate RUN`, an N x N grid of latent points decoded
 * into one picture: the learned manifold over the test-set codes' range, a
 * vae's prior manifold (--prior), or random draws from its prior
 * (--samples). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <limits.h>

#include "cli.h"
#include "runfolder.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae generate RUN_DIR -o FILE.png [--grid N] [--range auto | --range LO:HI | --prior]\n"
    "       clae generate RUN_DIR -o FILE.png --samples N [--seed S]\n"
    "                     [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  -o FILE.png          the picture to write (required; the run's own manifold.png, made\n"
    "                       with the defaults when training ends, stays as it is)\n"
    "  --grid N             N x N latent points, 2..%d (default %d)\n"
    "  --range auto         each axis from the 1st to the 99th percentile of the test-set codes\n"
    "                       in RUN_DIR/latent.csv (the default)\n"
    "  --range LO:HI        both axes from LO to HI (LO < HI)\n"
    "  --prior              a vae: z1 and z2 at the N(0, 1) quantiles Phi^-1((i + 0.5) / N),\n"
    "                       i = 0..N-1, z3..zK at 0: the prior's manifold\n"
    "  --samples N          a vae: N random draws z ~ N(0, I), 1..%d, decoded into one\n"
    "                       near-square grid (ceil(sqrt(N)) across, empty cells black)\n"
    "  --seed S             the draws' seed, 0..%lu (default: the run's [train] seed)\n"
    "  --device, --cl-dir   as for clae encode\n"
    "\n"
    "Decodes an N x N grid of latent points into one 8-bit gray PNG (RGB or RGBA for images\n"
    "of 3 or 4 channels) of (N*28) x (N*28) pixels for 28x28 images, without gaps: z1 grows\n"
    "left to right, z2 bottom to top (the top row has the highest z2, as in a plot), both\n"
    "ends included. With K > 2 latent values, z3..zK stay at their test-set mean (from\n"
    "latent.csv, needed then even with LO:HI). With K = 1 the picture is one row of N\n"
    "images, (N*28) x 28, z1 left to right.\n"
    "--prior and --samples decode points of a variational autoencoder's prior N(0, I), which\n"
    "its training pulls the codes towards; an autoencoder ([model] kind = ae) has no prior,\n"
    "and they refuse its runs.\n";

static void usage(void)
{
    printf(USAGE, INFER_GRID_MAX, INFER_GRID_DEFAULT, INFER_SAMPLES_MAX, ULONG_MAX);
}

/* --range LO:HI. */
static int parse_range(const char *s, float *lo, float *hi)
{
    char *end = NULL;
    double a = strtod(s, &end);
    if (end == s || *end != ':') return -1;
    const char *p = end + 1;
    double b = strtod(p, &end);
    if (end == p || *end || !isfinite(a) || !isfinite(b) || !(a < b) || fabs(a) > 3.4e38 ||
        fabs(b) > 3.4e38)
        return -1;
    *lo = (float)a;
    *hi = (float)b;
    return 0;
}

/* The run's test-set codes (n, k) from latent.csv, which --range auto and
 * K > 2 need. Returns 0, or -1 with err saying why. */
static int read_codes(const char *run, int k, int autorange, float **z, int *n, Err *err)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/latent.csv", run);
    if (stat(path, &st) != 0)
        return err_set(err, "%s: no such file: %s; a completed run writes it", path,
                       autorange ? "--range auto takes its bounds from the test-set codes there "
                                   "(or give --range LO:HI)"
                                 : "the coordinates after z2 are held at their test-set mean "
                                   "from it");
    int kk = k;
    if (runfolder_read_latent(path, &kk, z, NULL, n, err)) return -1;
    if (*n == 0) return err_set(err, "%s: no rows", path);
    return 0;
}

/* --seed S: digits only, 0..ULONG_MAX, as [train] seed. */
static int parse_seed(const char *s, unsigned long *out)
{
    if (!*s) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    errno = 0;
    unsigned long v = strtoul(s, NULL, 10);
    if (errno) return -1;
    *out = v;
    return 0;
}

/* --prior and --samples: the prior's points, for a vae only. */
static int generate_prior(const char *run, Infer *in, int grid, int samples,
                          const unsigned long *seed_arg, const char *out, Err *err)
{
    Model *m = &in->model;
    int K = m->dims[m->latent], channels = 0, rows = 0, cols = 0;
    const char *what = samples ? "--samples" : "--prior";
    if (m->kind != MODEL_VAE) {
        err_set(err, "%s: %s is an autoencoder ([model] kind = %s): its codes were never pulled "
                     "towards N(0, I), so the prior's points say nothing about it; use --range "
                     "auto or LO:HI (the test-set codes' range), or train with [model] kind = vae",
                what, run, config_kind_name(m->kind));
        return EXIT_USAGE;
    }
    if (infer_image_shape(m, &channels, &rows, &cols, err)) return EXIT_USAGE;
    unsigned long seed = seed_arg ? *seed_arg : in->cfg.seed;
    int n = samples ? samples : (K == 1 ? grid : grid * grid), across, down;
    if (samples) infer_layout(samples, &across, &down);
    else across = grid, down = K == 1 ? 1 : grid;
    float *z = util_malloc((size_t)n * (size_t)K * sizeof *z, err);
    if (!z) return EXIT_RUN_FAILED;
    if (samples) infer_prior_samples((uint64_t)seed, n, K, z);
    else infer_prior_codes(grid, K, z);
    int rc = infer_write_codes(m, z, n, across, down, out, err);
    free(z);
    if (rc) return EXIT_RUN_FAILED;
    printf("wrote %s (%dx%d): ", out, across * cols, down * rows);
    if (samples) {
        printf("%d draws of z ~ N(0, I) (seed %lu), %d across, %d down", samples, seed, across,
               down);
    } else {
        double q = infer_normal_quantile(0.5 / grid);
        printf("the N(0, 1) quantiles %g..%g of z1 left to right", q, -q);
        if (K >= 2) printf(", of z2 bottom to top");
        if (K == 3) printf(", z3 at 0");
        if (K > 3) printf(", z3..z%d at 0", K);
    }
    printf("\n");
    return EXIT_OK;
}

int cmd_generate(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "generate", *run = NULL, *out = NULL, *device = NULL, *cl_dir = NULL;
    const char *range = NULL, *seed = NULL;
    int n_pos = 0, grid = 0, prior = 0, samples = 0;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--range", CLI_STR, &range, "a value", 0, 0, 0},
        {"--grid", CLI_INT, &grid, "a number", 2, INFER_GRID_MAX, 0},
        {"--prior", CLI_FLAG, &prior, NULL, 0, 0, 0},
        {"--samples", CLI_INT, &samples, "a number", 1, INFER_SAMPLES_MAX, 0},
        {"--seed", CLI_STR, &seed, "a value", 0, 0, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), &run, 1, &n_pos, 1};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!run) return cli_usage_error(cmd, "%s", "missing RUN_DIR");
    if (!out) return cli_usage_error(cmd, "%s", "missing -o FILE.png (where to write the picture)");
    /* What goes together: --prior takes --grid; --samples N draws N points of its own. */
    if (prior && range)
        return cli_usage_error(cmd, "%s", "--prior and --range exclude each other: --prior places "
                                          "the grid at the N(0, 1) quantiles, --range over the "
                                          "test-set codes or LO:HI");
    if (samples && (prior || range || grid))
        return cli_usage_error(cmd, "%s", "--samples N draws its own N points: it takes no "
                                          "--grid, --range or --prior");
    if (seed && !samples)
        return cli_usage_error(cmd, "%s", "--seed goes with --samples N (the draws' seed)");
    unsigned long seed_value = 0;
    if (seed && parse_seed(seed, &seed_value)) {
        fprintf(stderr, "clae %s: --seed '%s': expected a whole number 0..%lu\n", cmd, seed,
                ULONG_MAX);
        return EXIT_USAGE;
    }
    if (!grid) grid = INFER_GRID_DEFAULT;
    if (!range) range = "auto";
    int autorange = strcmp(range, "auto") == 0;
    float lo[2] = {0, 0}, hi[2] = {0, 0};
    if (!autorange && parse_range(range, &lo[0], &hi[0])) {
        fprintf(stderr, "clae %s: --range '%s': expected auto or LO:HI with LO < HI, such as "
                        "-3:3\n", cmd, range);
        return EXIT_USAGE;
    }
    lo[1] = lo[0];
    hi[1] = hi[0];
    KCache kc = {.fd = -1};
    Infer *in = cli_open_run(cmd, run, device, cl_dir, &kc, &rc);
    if (!in) return rc;
    Err err = {{0}};
    Model *m = &in->model;
    int K = m->dims[m->latent], channels = 0, rows = 0, cols = 0, n = 0;
    float *z = NULL, *mean = NULL;
    if (prior || samples) {
        rc = generate_prior(run, in, grid, samples, seed ? &seed_value : NULL, out, &err);
        goto out;
    }
    rc = EXIT_USAGE;
    if (infer_image_shape(m, &channels, &rows, &cols, &err)) goto out;
    if ((autorange || K > 2) && read_codes(run, K, autorange, &z, &n, &err)) goto out;
    rc = EXIT_RUN_FAILED;
    if (!(mean = util_calloc((size_t)K, sizeof *mean, &err))) goto out;
    if (z) infer_mean(z, n, K, mean);
    if (autorange && (infer_bounds(z, n, K, 0, &lo[0], &hi[0], &err) ||
                      (K >= 2 && infer_bounds(z, n, K, 1, &lo[1], &hi[1], &err))))
        goto out;
    if (infer_write_grid(m, grid, lo, hi, mean, out, &err)) goto out;
    int down = K == 1 ? 1 : grid;
    printf("wrote %s (%dx%d): z1 %g..%g left to right", out, grid * cols, down * rows, lo[0],
           hi[0]);
    if (K >= 2) printf(", z2 %g..%g bottom to top", lo[1], hi[1]);
    if (K == 3) printf(", z3 at the test-set mean");
    if (K > 3) printf(", z3..z%d at the test-set mean", K);
    printf("\n");
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK && err.msg[0]) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(z);
    free(mean);
    cli_close_run(in, &kc);
    return rc;
}
