/* infer: see infer.h. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include "infer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "idx.h"
#include "kcache.h"
#include "png.h"
#include "runfolder.h"
#include "exitcode.h"

/* ---- opening a run ------------------------------------------------------ */

/* Adds " (why)" to err's message; returns -1. */
static int err_note(Err *err, const char *why)
{
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, " (%s)", why);
    return -1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int infer_open(Infer *in, const char *run_dir, const char *device, const char *cl_dir, Err *err)
{
    memset(in, 0, sizeof *in);
    Ckpt c;
    memset(&c, 0, sizeof c);
    char cfg_path[4200], ckpt_path[4200];
    int rc = -2; /* until the device is open, every failure is the request's */
    if (util_copy(in->run_dir, sizeof in->run_dir, run_dir)) {
        err_set(err, "%s: path too long", run_dir);
        goto fail;
    }
    if (!util_is_dir(run_dir)) {
        err_set(err, "%s: no such run folder", run_dir);
        goto fail;
    }
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", run_dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/model.ckpt", run_dir);
    if (!file_exists(cfg_path)) {
        err_set(err, "%s: not a run folder: it has no config.ini", run_dir);
        goto fail;
    }
    if (config_load(&in->cfg, cfg_path, err)) goto fail;
    if (device && config_set_device(&in->cfg, device, "--device", err)) goto fail;
    /* The cheap checks of the checkpoint come before the device is opened. */
    if (!file_exists(ckpt_path)) {
        err_set(err, "%s: no such file: the run has no checkpoint (it may have failed before its "
                     "end). A run writes model.ckpt when it completes, when stopped with Ctrl-C "
                     "(then `clae train --resume %s` completes it) and every [output] "
                     "checkpoint_every epochs",
                ckpt_path, run_dir);
        goto fail;
    }
    if (ckpt_read(ckpt_path, &c, err)) goto fail;
    ConfigNet net;
    /* The optimizer is the checkpoint's own: it does not matter for using the model. */
    if (config_net(&in->cfg, c.dims[0], &net, err) ||
        ckpt_check_shape(&c, &net, c.optimizer, ckpt_path, err)) {
        err_note(err, "config.ini no longer describes this checkpoint");
        goto fail;
    }
    rc = device_open(&in->dev, &in->cfg, cl_dir, err); /* -2: no device matches the selection */
    if (rc) goto fail;
    in->open = 1;
    clctx_print_tuning(&in->dev.ctx, NULL, stderr);
    rc = -1;
    if (model_create(&in->model, &in->dev.ctx, &in->dev.k, &in->cfg, c.dims[0], INFER_MAX_BATCH,
                     err) ||
        model_set_params(&in->model, c.params, err))
        goto fail;
    in->epoch = c.epoch;
    int side = (int)lround(sqrt((double)c.dims[0]));
    in->side = side * side == c.dims[0] ? side : 0;
    ckpt_free(&c);
    return 0;
fail:
    ckpt_free(&c);
    infer_close(in);
    return rc;
}

void infer_close(Infer *in)
{
    if (!in || !in->open) return;
    if (in->dev.open) clFinish(in->dev.ctx.queue);
    model_destroy(&in->model);
    device_close(&in->dev);
    in->open = 0;
}

/* ---- batched passes ------------------------------------------------------ */

/* out (n, dims[end]) = layers [first, end) applied to in (n, dims[first]).
 * The reads are queued without waiting: the queue is in order, so each
 * batch's read finishes before the next batch overwrites acts[end]. */
static int run_range(Model *m, const float *in, int n, int first, int end, float *out, Err *err)
{
    if (n <= 0) return 0;
    size_t din = (size_t)m->dims[first], dout = (size_t)m->dims[end];
    cl_command_queue q = m->ctx->queue;
    cl_mem buf = clctx_buffer(m->ctx, (size_t)n * din * sizeof(float), in, err);
    if (!buf) return -1;
    int queued = 0;
    for (int done = 0; done < n; done += m->max_batch) {
        int b = n - done < m->max_batch ? n - done : m->max_batch;
        if (model_forward_range(m, buf, (size_t)done, b, first, end, err)) goto fail;
        CL_CHECK(clEnqueueReadBuffer(q, m->acts[end], CL_FALSE, 0, (size_t)b * dout * sizeof(float),
                                     out + (size_t)done * dout, 0, NULL, NULL));
        queued = 1;
    }
    CL_CHECK(clFinish(q));
    clReleaseMemObject(buf);
    return 0;
fail:
    /* Reads already queued must land before the caller frees `out`. */
    if (queued) clFinish(q);
    clReleaseMemObject(buf);
    return -1;
}

int infer_encode(Model *m, const float *x, int n, float *z, Err *err)
{
    return run_range(m, x, n, 0, m->latent, z, err);
}

int infer_decode(Model *m, const float *z, int n, float *x, Err *err)
{
    return run_range(m, z, n, m->latent, m->n_layers, x, err);
}

/* ---- ranges and grids ---------------------------------------------------- */

double infer_percentile(const float *sorted, int n, double p)
{
    double pos = p * (double)(n - 1);
    int i = (int)floor(pos);
    if (i < 0) return sorted[0];
    if (i >= n - 1) return sorted[n - 1];
    double f = pos - i;
    return (1.0 - f) * sorted[i] + f * sorted[i + 1];
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int infer_bounds(const float *z, int n, int k, int axis, float *lo, float *hi, Err *err)
{
    if (n < 1) return err_set(err, "no latent codes to take a range from");
    float *v = util_malloc((size_t)n * sizeof *v, err);
    if (!v) return -1;
    for (int i = 0; i < n; i++) v[i] = z[(size_t)i * (size_t)k + (size_t)axis];
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    *lo = (float)infer_percentile(v, n, INFER_PCT_LO);
    *hi = (float)infer_percentile(v, n, INFER_PCT_HI);
    free(v);
    return 0;
}

void infer_mean(const float *z, int n, int k, float *mean)
{
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += z[(size_t)i * (size_t)k + (size_t)j];
        mean[j] = (float)(s / n);
    }
}

/* a at t = 0, b at t = 1, exactly at both ends. */
static float lerp(float a, float b, double t) { return (float)((1.0 - t) * a + t * b); }

int infer_grid_codes(int grid, int k, const float lo[2], const float hi[2], const float *mean,
                     float *z)
{
    int down = k == 1 ? 1 : grid;
    for (int r = 0; r < down; r++)
        for (int c = 0; c < grid; c++) {
            float *p = z + ((size_t)r * (size_t)grid + (size_t)c) * (size_t)k;
            for (int j = 2; j < k; j++) p[j] = mean[j];
            p[0] = lerp(lo[0], hi[0], (double)c / (grid - 1));
            if (k >= 2) p[1] = lerp(hi[1], lo[1], (double)r / (grid - 1));
        }
    return down * grid;
}

/* side of a square input, or an error saying why the model has none. */
static int image_side(const Model *m, int *side, Err *err)
{
    int s = (int)lround(sqrt((double)m->dims[0]));
    if (s * s != m->dims[0])
        return err_set(err, "the model's input has %d values, not a square image (784 = 28x28 "
                            "for MNIST): there is no picture to draw", m->dims[0]);
    *side = s;
    return 0;
}

int infer_write_grid(Model *m, int grid, const float lo[2], const float hi[2], const float *mean,
                     const char *path, Err *err)
{
    int side = 0, k = m->dims[m->latent], D = m->dims[m->n_layers];
    if (image_side(m, &side, err)) return -1;
    if (grid < 2 || grid > INFER_GRID_MAX)
        return err_set(err, "grid %d: expected 2..%d", grid, INFER_GRID_MAX);
    int down = k == 1 ? 1 : grid;
    size_t cells = (size_t)grid * (size_t)down;
    float *z = util_malloc(cells * (size_t)k * sizeof *z, err);
    float *x = z ? util_malloc(cells * (size_t)D * sizeof *x, err) : NULL;
    int rc = -1;
    if (x) {
        infer_grid_codes(grid, k, lo, hi, mean, z);
        rc = infer_decode(m, z, (int)cells, x, err);
        if (rc == 0) rc = png_write_tiles(path, x, grid, down, side, side, 1, 0, err);
    }
    free(x);
    free(z);
    return rc;
}

int infer_manifold(Model *m, const float *z_test, int n, int grid, const char *path, Err *err)
{
    int k = m->dims[m->latent];
    float lo[2] = {0, 0}, hi[2] = {0, 0};
    float *mean = util_malloc((size_t)k * sizeof *mean, err);
    if (!mean) return -1;
    int rc = infer_bounds(z_test, n, k, 0, &lo[0], &hi[0], err);
    if (rc == 0 && k >= 2) rc = infer_bounds(z_test, n, k, 1, &lo[1], &hi[1], err);
    if (rc == 0) {
        infer_mean(z_test, n, k, mean);
        rc = infer_write_grid(m, grid, lo, hi, mean, path, err);
    }
    free(mean);
    return rc;
}

/* ---- the commands -------------------------------------------------------- */

static const char ENCODE_USAGE[] =
    "usage: clae encode RUN_DIR IMAGES [--labels LABELS] [-o FILE.csv] [--device SPEC]\n"
    "                   [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  IMAGES               an IDX file of 8-bit images, gzip or plain (such as\n"
    "                       t10k-images-idx3-ubyte.gz); rows x cols must be the model's input\n"
    "                       size; pixels are scaled by 1/255 as in training\n"
    "  --labels LABELS      an IDX label file with one label per image, for the label column\n"
    "                       (default: the column is empty)\n"
    "  -o FILE.csv          write the CSV there, atomically (default: stdout)\n"
    "  --device SPEC        as for clae train; over the run's [device] keys and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder, as for clae train\n"
    "\n"
    "Prints index,label,z1,...,zK: one row per image in file order, index from 0, the codes\n"
    "as latent.csv has them (%.7g). Images go through the encoder 256 at a time.\n";

static const char DECODE_USAGE[] =
    "usage: clae decode RUN_DIR Z1,Z2[,...] -o FILE.png [--scale S] [--device SPEC]\n"
    "                   [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  Z1,Z2,...            one latent point: exactly K numbers, K = the run's [model] latent;\n"
    "                       a leading minus is fine (clae decode RUN -1.5,0.3 -o a.png)\n"
    "  -o FILE.png          the picture to write (required); written atomically\n"
    "  --scale S            each pixel as S x S, nearest neighbour, 1..32 (default 4: 28x28\n"
    "                       becomes 112x112)\n"
    "  --device, --cl-dir   as for clae encode\n"
    "\n"
    "Writes the image the decoder makes of that point as an 8-bit gray PNG; a pixel is\n"
    "clamp(v, 0, 1) x 255 rounded, as in recon-epoch-NNN.png. The model's input must be a\n"
    "square image (784 = 28x28).\n";

static const char GENERATE_USAGE[] =
    "usage: clae generate RUN_DIR -o FILE.png [--grid N] [--range auto | --range LO:HI]\n"
    "                     [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  -o FILE.png          the picture to write (required; the run's own manifold.png, made\n"
    "                       with the defaults when training ends, stays as it is)\n"
    "  --grid N             N x N latent points, 2..100 (default 15)\n"
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

typedef struct {
    const char *pos[2];      /* RUN_DIR, then IMAGES or the latent point */
    int n_pos;
    const char *labels, *out, *device, *cl_dir, *range;
    int scale, grid;
} InferArgs;

static int usage_error(const char *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "clae %s: ", cmd);
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see clae %s --help)\n", cmd);
    return EXIT_USAGE;
}

static int parse_int(const char *cmd, const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "clae %s: %s '%s': expected a whole number %d..%d\n", cmd, opt, v, lo, hi);
        return EXIT_USAGE;
    }
    *out = (int)n;
    return 0;
}

/* Options common to the three commands and those of `cmd` ("encode",
 * "decode", "generate"); n_pos positional arguments are required. Returns
 * -1 to go on, or an exit code. */
static int parse(const char *cmd, int argc, char **argv, int n_pos, const char *help,
                 InferArgs *a)
{
    memset(a, 0, sizeof *a);
    a->scale = 4;
    a->grid = INFER_GRID_DEFAULT;
    a->range = "auto";
    int enc = cmd[0] == 'e', dec = cmd[0] == 'd', gen = cmd[0] == 'g';
    int options = 1;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        /* A latent point may start with a minus: "-1.5,0.3". */
        int number = s[0] == '-' && (isdigit((unsigned char)s[1]) || s[1] == '.');
        if (!options || s[0] != '-' || !s[1] || number) {
            if (a->n_pos == n_pos) return usage_error(cmd, "unexpected argument '%s'", s);
            a->pos[a->n_pos++] = s;
        } else if (strcmp(s, "--") == 0) {
            options = 0;
        } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(help, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--device") == 0 || strcmp(s, "--cl-dir") == 0 ||
                   strcmp(s, "-o") == 0 || (enc && strcmp(s, "--labels") == 0) ||
                   (gen && strcmp(s, "--range") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            const char **dst = s[1] == 'o' ? &a->out
                               : s[2] == 'd' ? &a->device
                               : s[2] == 'c' ? &a->cl_dir
                               : s[2] == 'l' ? &a->labels
                                             : &a->range;
            *dst = argv[++i];
        } else if (dec && strcmp(s, "--scale") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int rc = parse_int(cmd, s, argv[++i], 1, 32, &a->scale);
            if (rc) return rc;
        } else if (gen && strcmp(s, "--grid") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int rc = parse_int(cmd, s, argv[++i], 2, INFER_GRID_MAX, &a->grid);
            if (rc) return rc;
        } else {
            return usage_error(cmd, "unknown option '%s'", s);
        }
    }
    if (a->n_pos < n_pos)
        return usage_error(cmd, "%s", a->n_pos == 0 ? "missing RUN_DIR"
                                      : enc         ? "missing IMAGES (an IDX image file)"
                                                    : "missing the latent point Z1,Z2,...");
    if ((dec || gen) && !a->out)
        return usage_error(cmd, "%s", "missing -o FILE.png (where to write the picture)");
    return -1;
}

/* Claims the kernel cache (kcache.h) and opens the run: --device over
 * CLAE_DEVICE over the run's [device] keys. Returns 0 or an exit code. */
static int open_run(const char *cmd, const InferArgs *a, KCache *kc, Infer *in)
{
    Err err = {{0}};
    const char *dev = a->device, *env = getenv("CLAE_DEVICE");
    if (!dev && env && *env) {
        /* Checked here, so that a bad value is named as CLAE_DEVICE's. */
        Config *scratch = util_malloc(sizeof *scratch, &err);
        if (!scratch) goto failed;
        config_defaults(scratch);
        int bad = config_set_device(scratch, env, "CLAE_DEVICE", &err);
        free(scratch);
        if (bad) {
            fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
            return EXIT_USAGE;
        }
        dev = env;
    }
    if (kcache_claim(kc, &err)) goto failed;
    int rc = infer_open(in, a->pos[0], dev, a->cl_dir, &err);
    if (rc == 0) return 0;
    fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    return rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
failed:
    fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    return EXIT_RUN_FAILED;
}

static void finish(Infer *in, KCache *kc)
{
    infer_close(in);
    free(in);
    kcache_release(kc);
}

int infer_encode_main(int argc, char **argv)
{
    const char *cmd = "encode";
    InferArgs a;
    int rc = parse(cmd, argc, argv, 2, ENCODE_USAGE, &a);
    if (rc >= 0) return rc;
    KCache kc = {.fd = -1};
    Infer *in = calloc(1, sizeof *in);
    if (!in) return EXIT_RUN_FAILED;
    if ((rc = open_run(cmd, &a, &kc, in)) != 0) {
        finish(in, &kc);
        return rc;
    }
    Err err = {{0}};
    IdxArray img = {0}, lab = {0};
    float *x = NULL, *z = NULL;
    Model *m = &in->model;
    int D = m->dims[0], K = m->dims[m->latent];
    rc = EXIT_USAGE;
    if (idx_read(a.pos[1], 3, &img, &err)) goto out;
    int n = img.dims[0];
    if ((long)img.dims[1] * img.dims[2] != D) {
        char shape[64] = "not a square image";
        if (in->side) snprintf(shape, sizeof shape, "%dx%d images", in->side, in->side);
        err_set(&err, "%s: images of %dx%d = %ld pixels, but the model of %s takes %d inputs (%s)",
                a.pos[1], img.dims[1], img.dims[2], (long)img.dims[1] * img.dims[2], a.pos[0], D,
                shape);
        goto out;
    }
    if (a.labels) {
        if (idx_read(a.labels, 1, &lab, &err)) goto out;
        if (lab.dims[0] != n) {
            err_set(&err, "%s: %d labels, but %s has %d images", a.labels, lab.dims[0], a.pos[1],
                    n);
            goto out;
        }
    }
    rc = EXIT_RUN_FAILED;
    if (!(x = util_malloc((size_t)(n ? n : 1) * (size_t)D * sizeof *x, &err)) ||
        !(z = util_malloc((size_t)(n ? n : 1) * (size_t)K * sizeof *z, &err)))
        goto out;
    /* The same scaling as idx.c's dataset_load, so codes match training's. */
    for (size_t i = 0; i < (size_t)n * (size_t)D; i++) x[i] = (float)img.data[i] * (1.0f / 255.0f);
    if (infer_encode(m, x, n, z, &err)) goto out;
    if (a.out) {
        char tmp[4300];
        FILE *f = util_atomic_open(a.out, tmp, sizeof tmp, &err);
        if (!f) goto out;
        runfolder_latent_csv(f, z, a.labels ? lab.data : NULL, n, K);
        if (util_atomic_commit(f, tmp, a.out, &err)) goto out;
    } else {
        runfolder_latent_csv(stdout, z, a.labels ? lab.data : NULL, n, K);
        if (fflush(stdout) || ferror(stdout)) {
            err_set(&err, "writing to stdout failed: %s", strerror(errno));
            goto out;
        }
    }
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(x);
    free(z);
    idx_free(&img);
    idx_free(&lab);
    finish(in, &kc);
    return rc;
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

int infer_decode_main(int argc, char **argv)
{
    const char *cmd = "decode";
    InferArgs a;
    int rc = parse(cmd, argc, argv, 2, DECODE_USAGE, &a);
    if (rc >= 0) return rc;
    Err err = {{0}};
    float *z = NULL, *x = NULL;
    int given = 0;
    /* The syntax is checked before the device is opened; the count after. */
    if (parse_point(a.pos[1], &z, &given, &err)) {
        fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
        return EXIT_USAGE;
    }
    KCache kc = {.fd = -1};
    Infer *in = calloc(1, sizeof *in);
    if (!in) {
        free(z);
        return EXIT_RUN_FAILED;
    }
    if ((rc = open_run(cmd, &a, &kc, in)) != 0) goto out;
    Model *m = &in->model;
    int K = m->dims[m->latent], D = m->dims[m->n_layers], side = 0, S = a.scale;
    rc = EXIT_USAGE;
    if (given != K) {
        char names[64];
        snprintf(names, sizeof names, K == 1 ? "z1" : K == 2 ? "z1,z2" : "z1,...,z%d", K);
        err_set(&err, "latent point '%s' has %d number%s, but the model of %s has K = %d latent "
                      "values: give exactly %d (%s)",
                a.pos[1], given, given == 1 ? "" : "s", a.pos[0], K, K, names);
        goto out;
    }
    if (image_side(m, &side, &err)) goto out;
    rc = EXIT_RUN_FAILED;
    if (!(x = util_malloc((size_t)D * sizeof *x, &err))) goto out;
    if (infer_decode(m, z, 1, x, &err)) goto out;
    if (png_write_tiles(a.out, x, 1, 1, side, side, S, 0, &err)) goto out;
    printf("wrote %s (%dx%d)\n", a.out, side * S, side * S);
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK && err.msg[0]) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(x);
    free(z);
    finish(in, &kc);
    return rc;
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

int infer_generate_main(int argc, char **argv)
{
    const char *cmd = "generate";
    InferArgs a;
    int rc = parse(cmd, argc, argv, 1, GENERATE_USAGE, &a);
    if (rc >= 0) return rc;
    int autorange = strcmp(a.range, "auto") == 0;
    float lo[2] = {0, 0}, hi[2] = {0, 0};
    if (!autorange && parse_range(a.range, &lo[0], &hi[0])) {
        fprintf(stderr, "clae %s: --range '%s': expected auto or LO:HI with LO < HI, such as "
                        "-3:3\n", cmd, a.range);
        return EXIT_USAGE;
    }
    lo[1] = lo[0];
    hi[1] = hi[0];
    KCache kc = {.fd = -1};
    Infer *in = calloc(1, sizeof *in);
    if (!in) return EXIT_RUN_FAILED;
    if ((rc = open_run(cmd, &a, &kc, in)) != 0) {
        finish(in, &kc);
        return rc;
    }
    Err err = {{0}};
    Model *m = &in->model;
    int K = m->dims[m->latent], side = 0, n = 0;
    float *z = NULL, *mean = NULL;
    char path[4200];
    rc = EXIT_USAGE;
    if (image_side(m, &side, &err)) goto out;
    if (autorange || K > 2) {
        snprintf(path, sizeof path, "%s/latent.csv", a.pos[0]);
        if (!file_exists(path)) {
            err_set(&err, "%s: no such file: %s; a completed run writes it", path,
                    autorange ? "--range auto takes its bounds from the test-set codes there "
                                "(or give --range LO:HI)"
                              : "the coordinates after z2 are held at their test-set mean from it");
            goto out;
        }
        if (runfolder_read_latent(path, K, &z, &n, &err)) goto out;
        if (n == 0) {
            err_set(&err, "%s: no rows", path);
            goto out;
        }
    }
    rc = EXIT_RUN_FAILED;
    if (!(mean = util_calloc((size_t)K, sizeof *mean, &err))) goto out;
    if (z) infer_mean(z, n, K, mean);
    if (autorange && (infer_bounds(z, n, K, 0, &lo[0], &hi[0], &err) ||
                      (K >= 2 && infer_bounds(z, n, K, 1, &lo[1], &hi[1], &err))))
        goto out;
    if (infer_write_grid(m, a.grid, lo, hi, mean, a.out, &err)) goto out;
    int down = K == 1 ? 1 : a.grid;
    printf("wrote %s (%dx%d): z1 %g..%g left to right", a.out, a.grid * side, down * side, lo[0],
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
    finish(in, &kc);
    return rc;
}
