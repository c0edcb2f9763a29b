/* cmd_generate: `clae generate RUN`, an N x N grid of latent points decoded
 * into one picture: the learned manifold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "runfolder.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae generate RUN_DIR -o FILE.png [--grid N] [--range auto | --range LO:HI]\n"
    "                     [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  -o FILE.png          the picture to write (required; the run's own manifold.png, made\n"
    "                       with the defaults when training ends, stays as it is)\n"
    "  --grid N             N x N latent points, 2..%d (default %d)\n"
    "  --range auto         each axis from the 1st to the 99th percentile of the test-set codes\n"
    "                       in RUN_DIR/latent.csv (the default)\n"
    "  --range LO:HI        both axes from LO to HI (LO < HI)\n"
    "  --device, --cl-dir   as for clae encode\n"
    "\n"
    "Decodes an N x N grid of latent points into one 8-bit gray PNG of (N*28) x (N*28) pixels\n"
    "for 28x28 images, without gaps: z1 grows left to right, z2 bottom to top (the top row\n"
    "has the highest z2, as in a plot), both ends included. With K > 2 latent values, z3..zK\n"
    "stay at their test-set mean (from latent.csv, needed then even with LO:HI). With K = 1\n"
    "the picture is one row of N images, (N*28) x 28, z1 left to right.\n";

static void usage(void)
{
    printf(USAGE, INFER_GRID_MAX, INFER_GRID_DEFAULT);
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
    if (runfolder_read_latent(path, k, z, n, err)) return -1;
    if (*n == 0) return err_set(err, "%s: no rows", path);
    return 0;
}

int cmd_generate(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "generate", *run = NULL, *out = NULL, *device = NULL, *cl_dir = NULL;
    const char *range = "auto";
    int n_pos = 0, grid = INFER_GRID_DEFAULT;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--range", CLI_STR, &range, "a value", 0, 0, 0},
        {"--grid", CLI_INT, &grid, "a number", 2, INFER_GRID_MAX, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), &run, 1, &n_pos, 1};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!run) return cli_usage_error(cmd, "%s", "missing RUN_DIR");
    if (!out) return cli_usage_error(cmd, "%s", "missing -o FILE.png (where to write the picture)");
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
    int K = m->dims[m->latent], rows = 0, cols = 0, n = 0;
    float *z = NULL, *mean = NULL;
    rc = EXIT_USAGE;
    if (infer_image_shape(m, &rows, &cols, &err)) goto out;
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
    if (rc != EXIT_OK) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(z);
    free(mean);
    cli_close_run(in, &kc);
    return rc;
}
