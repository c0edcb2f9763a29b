/* infer: see infer.h. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include "infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "pngio.h"
#include "rng.h"
#include "runfolder.h"

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

int infer_load(const char *run_dir, const char *device, Config *cfg, Ckpt *c, ConfigNet *net,
               Err *err)
{
    memset(c, 0, sizeof *c);
    char cfg_path[4200], ckpt_path[4200];
    if (strlen(run_dir) >= INFER_PATH_MAX) {
        err_set(err, "%s: path too long", run_dir);
        return -2;
    }
    if (!util_is_dir(run_dir)) {
        err_set(err, "%s: no such run folder", run_dir);
        return -2;
    }
    snprintf(cfg_path, sizeof cfg_path, "%s/config.ini", run_dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/model.ckpt", run_dir);
    if (!file_exists(cfg_path)) {
        err_set(err, "%s: not a run folder: it has no config.ini", run_dir);
        return -2;
    }
    if (config_load(cfg, cfg_path, err)) return -2;
    if (device && config_set_device(cfg, device, "--device", err)) return -2;
    if (!file_exists(ckpt_path)) {
        err_set(err, "%s: no such file: the run has no checkpoint (it may have failed before its "
                     "end). A run writes model.ckpt when it completes, when stopped with Ctrl-C "
                     "(then `clae train --resume %s` completes it) and every [output] "
                     "checkpoint_every epochs",
                ckpt_path, run_dir);
        return -2;
    }
    if (ckpt_read(ckpt_path, c, err)) return -2;
    Shape3 input;
    /* The optimizer is the checkpoint's own: it does not matter for using the model. */
    if (ckpt_input(c, cfg, ckpt_path, &input, err) || config_net(cfg, input, net, err) ||
        ckpt_check_shape(c, net, c->optimizer, ckpt_path, err)) {
        err_note(err, "config.ini no longer describes this checkpoint");
        ckpt_free(c);
        return -2;
    }
    return 0;
}

int infer_open(Infer *in, const char *run_dir, const char *device, const char *cl_dir, Err *err)
{
    memset(in, 0, sizeof *in);
    Ckpt c;
    ConfigNet net;
    memset(&c, 0, sizeof c);
    /* Until the device is open, every failure is the request's: the cheap
     * checks of the checkpoint come first. */
    int rc = infer_load(run_dir, device, &in->cfg, &c, &net, err);
    if (rc) goto fail;
    snprintf(in->run_dir, sizeof in->run_dir, "%s", run_dir);
    rc = device_open(&in->dev, &in->cfg, cl_dir, err); /* -2: no device matches the selection */
    if (rc) goto fail;
    in->open = 1;
    clctx_print_tuning(&in->dev.ctx, NULL, stderr);
    rc = -1;
    int rc_model = model_create(&in->model, &in->dev.ctx, &in->dev.k, &in->cfg, net.input,
                                INFER_MAX_BATCH, err);
    if (rc_model == -2) rc = -2; /* does not fit the device */
    if (rc_model || model_set_params(&in->model, c.params, err)) goto fail;
    in->epoch = c.epoch;
    /* The data's own shape (not images, or not square) where run.json has it. */
    RunRecord *rec = malloc(sizeof *rec);
    Err ignored = {{0}};
    if (rec && runfolder_read(run_dir, rec, &ignored) == 0 && rec->input_values == c.dims[0]) {
        in->model.image_rows = rec->image_rows;
        in->model.image_cols = rec->image_cols;
        in->model.image_channels = rec->image_channels;
    }
    free(rec);
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

int infer_image_shape(const Model *m, int *channels, int *rows, int *cols, Err *err)
{
    int c = m->image_channels > 1 ? m->image_channels : 1; /* 0: gray, as before colour */
    if (m->image_rows <= 0 || m->image_cols <= 0 ||
        (long)c * m->image_rows * m->image_cols != m->dims[0])
        return err_set(err, "the model's input is %d values, not an image (784 = 28x28 for "
                            "MNIST; a .npy of shape (N, D) holds items that are not images): "
                            "there is no picture to draw", m->dims[0]);
    *channels = c;
    *rows = m->image_rows;
    *cols = m->image_cols;
    return 0;
}

double infer_normal_quantile(double p)
{
    /* Acklam's coefficients: relative error below 1.15e-9 before the
     * refinement. */
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    if (!(p > 0 && p < 1)) return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    /* The upper half by symmetry: 1 - p is exact there, and the refinement
     * below keeps its relative accuracy only in the lower tail. */
    if (p > 0.5) return -infer_normal_quantile(1 - p);
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    /* One Halley step on Phi(x) - p, Phi(x) = erfc(-x / sqrt 2) / 2. */
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * 2.5066282746310002 * exp(x * x / 2); /* e / phi(x) */
    return x - u / (1 + x * u / 2);
}

int infer_prior_codes(int grid, int k, float *z)
{
    int down = k == 1 ? 1 : grid;
    for (int r = 0; r < down; r++)
        for (int c = 0; c < grid; c++) {
            float *p = z + ((size_t)r * (size_t)grid + (size_t)c) * (size_t)k;
            for (int j = 2; j < k; j++) p[j] = 0.0f;
            p[0] = (float)infer_normal_quantile((c + 0.5) / grid);
            if (k >= 2) p[1] = (float)infer_normal_quantile((grid - r - 0.5) / grid);
        }
    return down * grid;
}

void infer_prior_samples(uint64_t seed, int n, int k, float *z)
{
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) z[i] = (float)rng_normal(&r);
}

void infer_layout(int n, int *across, int *down)
{
    int a = 1;
    while (a * a < n) a++;
    *across = a;
    *down = (n + a - 1) / a;
}

int infer_write_codes(Model *m, const float *z, int n, int across, int down, const char *path,
                      Err *err)
{
    int channels = 0, rows = 0, cols = 0, D = m->dims[m->n_layers];
    if (infer_image_shape(m, &channels, &rows, &cols, err)) return -1;
    if (n < 1 || (size_t)n > (size_t)across * (size_t)down)
        return err_set(err, "%d pictures do not fit %d x %d cells", n, across, down);
    size_t cells = (size_t)across * (size_t)down;
    /* calloc: the cells past n stay 0, black */
    float *x = util_calloc(cells * (size_t)D, sizeof *x, err);
    if (!x) return -1;
    int rc = infer_decode(m, z, n, x, err);
    if (rc == 0) rc = pngio_write_tiles(path, x, across, down, channels, rows, cols, 1, 0, err);
    free(x);
    return rc;
}

int infer_write_grid(Model *m, int grid, const float lo[2], const float hi[2], const float *mean,
                     const char *path, Err *err)
{
    int k = m->dims[m->latent];
    if (grid < 2 || grid > INFER_GRID_MAX)
        return err_set(err, "grid %d: expected 2..%d", grid, INFER_GRID_MAX);
    int down = k == 1 ? 1 : grid;
    size_t cells = (size_t)grid * (size_t)down;
    float *z = util_malloc(cells * (size_t)k * sizeof *z, err);
    if (!z) return -1;
    infer_grid_codes(grid, k, lo, hi, mean, z);
    int rc = infer_write_codes(m, z, (int)cells, grid, down, path, err);
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
