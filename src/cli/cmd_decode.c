/* cmd_decode: `clae decode RUN Z1,Z2,...`, the image a trained run's
 * decoder makes of one latent point. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "pngio.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae decode RUN_DIR Z1,Z2[,...] -o FILE.png [--scale S] [--device SPEC]\n"
    "                   [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  Z1,Z2,...            one latent point: exactly K numbers, K = the run's [model] latent;\n"
    "                       a leading minus is fine (clae decode RUN -1.5,0.3 -o a.png)\n"
    "  -o FILE.png          the picture to write (required); written atomically\n"
    "  --scale S            each pixel as S x S, nearest neighbour, 1..%d (default %d: 28x28\n"
    "                       becomes %dx%d)\n"
    "  --device, --cl-dir   as for clae encode\n"
    "\n"
    "Writes the image the decoder makes of that point as an 8-bit gray PNG (RGB or RGBA for\n"
    "images of 3 or 4 channels); a pixel (each channel of it) is clamp(v, 0, 1) x 255\n"
    "rounded, as in recon-epoch-NNN.png. The model's input must be a\n"
    "square image (784 = 28x28).\n";

static void usage(void)
{
    int side = 28 * INFER_SCALE_DEFAULT; /* an MNIST image at the default scale */
    printf(USAGE, INFER_SCALE_MAX, INFER_SCALE_DEFAULT, side, side);
}

/* Parses "Z1,Z2,..." into *z (malloc'd, *count values; the caller frees). */
static int parse_point(const char *s, float **z, int *count, Err *err)
{
    int n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    float *v = util_malloc((size_t)n * sizeof *v, err);
    if (!v) return -1;
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end = NULL;
        double x = strtod(p, &end);
        if (end == p || (*end != ',' && *end) || !isfinite(x) || fabs(x) > 3.4e38) {
            free(v);
            return err_set(err, "latent point '%s': expected numbers separated by commas, such "
                                "as 0.5,-1.2", s);
        }
        v[i] = (float)x;
        p = end + 1;
    }
    *z = v;
    *count = n;
    return 0;
}

int cmd_decode(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "decode", *pos[2], *out = NULL, *device = NULL, *cl_dir = NULL;
    int n_pos = 0, S = INFER_SCALE_DEFAULT;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--scale", CLI_INT, &S, "a number", 1, INFER_SCALE_MAX, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), pos, 2, &n_pos, 1};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (n_pos < 2)
        return cli_usage_error(cmd, "%s", n_pos == 0 ? "missing RUN_DIR"
                                                     : "missing the latent point Z1,Z2,...");
    if (!out) return cli_usage_error(cmd, "%s", "missing -o FILE.png (where to write the picture)");
    Err err = {{0}};
    float *z = NULL, *x = NULL;
    int given = 0;
    /* The syntax is checked before the device is opened; the count after. */
    if (parse_point(pos[1], &z, &given, &err)) {
        fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    KCache kc = {.fd = -1};
    Infer *in = cli_open_run(cmd, pos[0], device, cl_dir, &kc, &rc);
    if (!in) {
        free(z);
        return rc;
    }
    Model *m = &in->model;
    int K = m->dims[m->latent], D = m->dims[m->n_layers], channels = 0, rows = 0, cols = 0;
    rc = EXIT_USAGE;
    if (given != K) {
        char names[64];
        snprintf(names, sizeof names, K == 1 ? "z1" : K == 2 ? "z1,z2" : "z1,...,z%d", K);
        err_set(&err, "latent point '%s' has %d number%s, but the model of %s has K = %d latent "
                      "values: give exactly %d (%s)",
                pos[1], given, given == 1 ? "" : "s", pos[0], K, K, names);
        goto out;
    }
    if (infer_image_shape(m, &channels, &rows, &cols, &err)) goto out;
    rc = EXIT_RUN_FAILED;
    if (!(x = util_malloc((size_t)D * sizeof *x, &err))) goto out;
    if (infer_decode(m, z, 1, x, &err)) goto out;
    if (pngio_write_tiles(out, x, 1, 1, channels, rows, cols, S, 0, &err)) goto out;
    printf("wrote %s (%dx%d)\n", out, cols * S, rows * S);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK && err.msg[0]) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(x);
    free(z);
    cli_close_run(in, &kc);
    return rc;
}
