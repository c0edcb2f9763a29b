/* test_infer: using a trained model (infer.h) on the OpenCL device.
 *
 * On a written 28x28 fixture (150 training, 300 test images), one complete
 * run through train_run, then:
 * - the run folder has manifold.png, (15*28) x (15*28), and infer_open opens it;
 * - model_forward_range over [0, latent) then [latent, L) equals
 *   model_forward bit for bit, and so does infer_decode(infer_encode(x))
 *   (the same kernels on the same batches of 256 and 44 rows: the codes only
 *   go through host memory, which copies floats exactly);
 * - infer_encode of the test images equals the run's latent.csv within
 *   2e-6 relative + 1e-6 (latent.csv has 7 significant digits, and training
 *   encoded in batches of 16, where the SGEMM may choose another kernel);
 * - infer_write_grid's picture is the decoded grid codes, cell by cell, as
 *   pngio_gray converts them; K = 1 gives one row, K = 3 a square;
 * - percentiles and bounds against a host sort; grid codes: first and last
 *   cells exactly at the bounds, z1 growing across, z2 falling downwards;
 * - the prior's points: Phi^-1 against known values and erfc round trips,
 *   the quantile grid, seeded draws (reproducible, N(0, 1) moments), the
 *   near-square layout, and infer_write_codes' cells (decoded codes, black
 *   past n);
 * - a vae's forward ranges: [0, latent) then [latent, L) equals its
 *   evaluation bit for bit, and the codes are its means;
 * - infer_open's errors: no folder, no checkpoint, a config of another
 *   shape, an unknown device; runfolder_read_latent's errors. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "data.h"
#include "idx.h"
#include "infer.h"
#include "pngio.h"
#include "runfolder.h"
#include "rng.h"
#include "train.h"


static void small_config(Config *cfg, const char *dir, int latent)
{
    config_defaults(cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", dir);
    snprintf(cfg->root, sizeof cfg->root, "%s/results", dir);
    snprintf(cfg->name, sizeof cfg->name, "fixture");
    cfg->n_encoder = 1;
    cfg->encoder[0] = (LayerItem){.kind = LAYER_DENSE, .n = 64};
    cfg->latent = latent;
    cfg->n_decoder = 1;
    cfg->decoder[0] = (LayerItem){.kind = LAYER_DENSE, .n = 64};
    cfg->batch_size = 16;
    cfg->learning_rate = 1e-3;
    cfg->epochs = 2;
    cfg->recon_every = 0;
    const char *dev = getenv("CLAE_DEVICE");
    Err err = {{0}};
    if (dev && *dev && config_set_device(cfg, dev, "CLAE_DEVICE", &err))
        fprintf(stderr, "%s\n", err.msg);
}

static int copy_file(const char *from, const char *to)
{
    Err err = {{0}};
    size_t len = 0;
    char *data = util_read_file(from, &len, &err);
    int rc = data ? util_write_file_atomic(to, data, len, &err) : -1;
    if (rc) fprintf(stderr, "copy %s: %s\n", from, err.msg);
    free(data);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void check_percentiles(void)
{
    float v[101];
    for (int i = 0; i <= 100; i++) v[i] = (float)i;
    CHECK(infer_percentile(v, 101, 0.01) == 1.0 && infer_percentile(v, 101, 0.99) == 99.0,
          "0..100: 1st %g, 99th %g", infer_percentile(v, 101, 0.01), infer_percentile(v, 101, 0.99));
    CHECK(infer_percentile(v, 101, 0) == 0 && infer_percentile(v, 101, 1) == 100, "ends");
    CHECK(infer_percentile(v, 1, 0.5) == 0, "one value");
    CHECK(fabs(infer_percentile(v, 4, 0.5) - 1.5) < 1e-12, "between ranks: %g",
          infer_percentile(v, 4, 0.5));

    /* bounds of one column of (n, 3) against a host sort of that column */
    Rng rng;
    rng_seed(&rng, 3);
    int sizes[3] = {1, 7, 1001};
    for (int si = 0; si < 3; si++) {
        int n = sizes[si];
        float *z = malloc((size_t)n * 3 * sizeof *z), *col = malloc((size_t)n * sizeof *col);
        for (int i = 0; i < n * 3; i++) z[i] = (float)(5 * rng_normal(&rng));
        for (int i = 0; i < n; i++) col[i] = z[i * 3 + 1];
        qsort(col, (size_t)n, sizeof *col, cmp_float);
        double p = 0.01 * (n - 1), q = 0.99 * (n - 1);
        int i = (int)p, j = (int)q;
        double want_lo = i + 1 < n ? col[i] + (p - i) * (col[i + 1] - col[i]) : col[i];
        double want_hi = j + 1 < n ? col[j] + (q - j) * (col[j + 1] - col[j]) : col[j];
        float lo, hi;
        Err err = {{0}};
        CHECK(infer_bounds(z, n, 3, 1, &lo, &hi, &err) == 0, "%s", err.msg);
        CHECK(fabs(lo - want_lo) <= 1e-6 * (1 + fabs(want_lo)) &&
                  fabs(hi - want_hi) <= 1e-6 * (1 + fabs(want_hi)),
              "n %d: bounds %g %g, host sort %g %g", n, lo, hi, want_lo, want_hi);
        CHECK(lo <= hi && lo >= col[0] && hi <= col[n - 1], "n %d: inside the data", n);
        float mean[3];
        infer_mean(z, n, 3, mean);
        double s = 0;
        for (int r = 0; r < n; r++) s += z[r * 3 + 2];
        CHECK(fabs(mean[2] - s / n) < 1e-5, "mean %g vs %g", mean[2], s / n);
        free(z);
        free(col);
    }
    Err err = {{0}};
    float lo, hi;
    CHECK(infer_bounds(v, 0, 1, 0, &lo, &hi, &err) == -1, "no codes is an error");
}

static void check_grid_codes(void)
{
    float lo[2] = {-1.3f, -2.7f}, hi[2] = {3.1f, 4.9f}, mean[3] = {9, 9, 0.5f};
    int g = 5, k = 3;
    float z[25 * 3];
    CHECK(infer_grid_codes(g, k, lo, hi, mean, z) == 25, "5 x 5 cells");
    const float *first = z, *top_right = z + 4 * k, *bottom_left = z + 20 * k, *last = z + 24 * k;
    CHECK(first[0] == lo[0] && first[1] == hi[1], "top-left cell at (lo1, hi2): %g %g", first[0],
          first[1]);
    CHECK(top_right[0] == hi[0] && top_right[1] == hi[1], "top-right at (hi1, hi2)");
    CHECK(bottom_left[0] == lo[0] && bottom_left[1] == lo[1], "bottom-left at (lo1, lo2)");
    CHECK(last[0] == hi[0] && last[1] == lo[1], "bottom-right at (hi1, lo2): %g %g", last[0], last[1]);
    int across = 1, down = 1, rest = 1;
    for (int r = 0; r < g; r++)
        for (int c = 0; c < g; c++) {
            const float *p = z + (r * g + c) * k;
            if (c + 1 < g) across &= p[k] > p[0] && p[k + 1] == p[1];
            if (r + 1 < g) down &= p[g * k + 1] < p[1] && p[g * k] == p[0];
            rest &= p[2] == 0.5f;
        }
    CHECK(across, "z1 grows left to right, z2 constant along a row");
    CHECK(down, "z2 falls from top to bottom, z1 constant down a column");
    CHECK(rest, "z3 at the mean");
    CHECK(fabs(z[2 * k] - 0.9) < 1e-6, "middle column z1 = (lo + hi) / 2: %g", z[2 * k]);
    float z1[5];
    CHECK(infer_grid_codes(g, 1, lo, hi, NULL, z1) == 5, "K = 1: one row");
    CHECK(z1[0] == lo[0] && z1[4] == hi[0] && z1[1] < z1[2], "K = 1: lo..hi");
}

/* Phi^-1, the quantile grid, the draws and the layout (host only). */
static void check_prior_math(void)
{
    CHECK(infer_normal_quantile(0.5) == 0.0, "Phi^-1(0.5) = %g", infer_normal_quantile(0.5));
    const double known[][2] = {{0.975, 1.959963984540054}, {0.001, -3.090232306167813},
                               {0.8413447460685429, 1.0}, {1e-10, -6.361340902404056}};
    for (int i = 0; i < 4; i++) {
        double x = infer_normal_quantile(known[i][0]);
        CHECK(fabs(x - known[i][1]) <= 1e-13 * fabs(known[i][1]) + 1e-15, "Phi^-1(%g) = %.17g, want %.17g",
              known[i][0], x, known[i][1]);
    }
    /* Phi(Phi^-1(p)) = p in both tails, Phi by erfc (either tail without
     * cancellation); the upper tail's probability 1 - q is exact for q >= 0.5 */
    double worst = 0;
    for (int e = 1; e <= 14; e++)
        for (int m = 1; m <= 9; m++) {
            double p = m * pow(10.0, -e), q = 1 - p;
            double lo = 0.5 * erfc(-infer_normal_quantile(p) / sqrt(2.0));
            double hi = 0.5 * erfc(infer_normal_quantile(q) / sqrt(2.0));
            double r = fmax(fabs(lo - p) / p, fabs(hi - (1 - q)) / (1 - q));
            if (!(r <= worst)) worst = r;
        }
    CHECK(worst < 1e-12, "Phi(Phi^-1(p)) = p for p and 1 - p, p = 1e-14..0.9: worst relative "
                         "error %g", worst);
    const double exact[] = {0.25, 0.125, 1.0 / 1024, 0.3125};
    for (int i = 0; i < 4; i++)
        CHECK(infer_normal_quantile(1 - exact[i]) == -infer_normal_quantile(exact[i]),
              "Phi^-1 is odd about 1/2 at %g", exact[i]);
    CHECK(isinf(infer_normal_quantile(0)) && infer_normal_quantile(0) < 0 &&
              isinf(infer_normal_quantile(1)) && isnan(infer_normal_quantile(1.5)),
          "Phi^-1 at 0, 1 and outside");

    int g = 5, k = 3;
    float z[25 * 3];
    CHECK(infer_prior_codes(g, k, z) == 25, "5 x 5 prior cells");
    int ok = 1;
    for (int r = 0; r < g; r++)
        for (int c = 0; c < g; c++) {
            const float *p = z + (r * g + c) * k;
            ok &= p[0] == (float)infer_normal_quantile((c + 0.5) / g) &&
                  p[1] == (float)infer_normal_quantile((g - r - 0.5) / g) && p[2] == 0.0f;
            ok &= p[0] == -z[(r * g + (g - 1 - c)) * k] && p[1] == -z[((g - 1 - r) * g + c) * k + 1];
        }
    CHECK(ok, "prior cell (r, c) at Phi^-1((c + .5) / 5), Phi^-1((4 - r + .5) / 5), 0; symmetric");
    CHECK(z[12 * k] == 0.0f && z[12 * k + 1] == 0.0f, "the middle cell is the origin");
    CHECK(z[1] > z[g * k + 1] && z[0] < z[k], "top row highest z2, z1 growing across");
    CHECK(fabsf(z[0] - -1.2815516f) < 1e-6f, "first column at Phi^-1(0.1) = %g", z[0]);
    float z1[4];
    CHECK(infer_prior_codes(4, 1, z1) == 4 && z1[0] < z1[1] && z1[1] == -z1[2],
          "K = 1: one row of quantiles");

    enum { N = 20000 };
    float *a = malloc(N * 2 * sizeof *a), *b = malloc(N * 2 * sizeof *b);
    infer_prior_samples(5, N, 2, a);
    infer_prior_samples(5, N, 2, b);
    CHECK(memcmp(a, b, N * 2 * sizeof *a) == 0, "the same seed draws the same points");
    infer_prior_samples(6, N, 2, b);
    CHECK(memcmp(a, b, N * 2 * sizeof *a) != 0, "another seed, other points");
    for (int j = 0; j < 2; j++) {
        double s = 0, s2 = 0, c = 0;
        for (int i = 0; i < N; i++) s += a[2 * i + j], s2 += (double)a[2 * i + j] * a[2 * i + j];
        for (int i = 0; i < N; i++) c += (double)a[2 * i] * a[2 * i + 1];
        double mean = s / N, var = s2 / N - mean * mean;
        /* 5 standard errors: 5 / sqrt(N) = 0.035 for the mean, 5 sqrt(2 / N) = 0.05 */
        CHECK(fabs(mean) < 0.035 && fabs(var - 1) < 0.05 && fabs(c / N) < 0.035,
              "draws of z%d: mean %g, variance %g, correlation with z1 %g", j + 1, mean, var, c / N);
    }
    free(a);
    free(b);

    const int layouts[][3] = {{1, 1, 1}, {2, 2, 1}, {10, 4, 3}, {16, 4, 4}, {17, 5, 4}, {10000, 100, 100}};
    for (int i = 0; i < 6; i++) {
        int across = 0, down = 0;
        infer_layout(layouts[i][0], &across, &down);
        CHECK(across == layouts[i][1] && down == layouts[i][2], "layout of %d: %d x %d, want %d x %d",
              layouts[i][0], across, down, layouts[i][1], layouts[i][2]);
    }
}

/* infer_write_codes: 5 codes on 3 x 2 cells, each the decoded picture as
 * pngio_gray draws it, the sixth black; and a vae's forward ranges. */
static void check_write_codes(Infer *in, const char *dir)
{
    Model *m = &in->model;
    Err err = {{0}};
    int K = m->dims[m->latent];
    float z[5 * 2] = {-1, 0, 0.5f, 1, 2, 0.25f, 0, 1, 1, 3};
    float *x = malloc(5 * 784 * sizeof *x);
    char path[4200];
    snprintf(path, sizeof path, "%s/codes.png", dir);
    CHECK(K == 2, "K = 2");
    CHECK(infer_decode(m, z, 5, x, &err) == 0, "%s", err.msg);
    CHECK(infer_write_codes(m, z, 5, 3, 2, path, &err) == 0, "%s", err.msg);
    CHECK(infer_write_codes(m, z, 7, 3, 2, path, &err) == -1, "7 codes do not fit 3 x 2");
    unsigned char *pix = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0 && w == 84 && h == 56 && ch == 1,
          "codes.png %dx%d, want 84x56", w, h);
    int same = 1, black = 1;
    for (int cell = 0; pix && w == 84 && cell < 6; cell++)
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++) {
                unsigned char got = pix[(size_t)(cell / 3 * 28 + r) * 84 + cell % 3 * 28 + c];
                if (cell < 5) same &= got == pngio_gray(x[(size_t)cell * 784 + r * 28 + c]);
                else black &= got == 0;
            }
    CHECK(same, "each cell is its code's decoded picture");
    CHECK(black, "the cell past the codes is black");
    free(pix);
    free(x);

    /* a vae (random weights): [0, latent) then [latent, L) = model_forward, codes = means */
    Config cfg;
    small_config(&cfg, dir, 3);
    cfg.kind = MODEL_VAE;
    Model v;
    Rng rng;
    rng_seed(&rng, 3);
    if (model_create(&v, &in->dev.ctx, &in->dev.k, &cfg, (Shape3){784, 1, 1}, 8, &err) ||
        model_init_params(&v, &cfg, &rng, &err)) {
        CHECK(0, "vae model: %s", err.msg);
        return;
    }
    enum { B = 8, D = 784, KV = 3 };
    float *xs = malloc(B * D * sizeof *xs), *full = malloc(B * D * sizeof *full);
    float *split = malloc(B * D * sizeof *split), *codes = malloc(B * KV * sizeof *codes);
    float *stats = malloc(B * 2 * KV * sizeof *stats);
    for (int i = 0; i < B * D; i++) xs[i] = (float)rng_uniform(&rng);
    cl_command_queue q = in->dev.ctx.queue;
    cl_mem bx = clctx_buffer(&in->dev.ctx, B * D * sizeof(float), xs, &err);
    int rc = bx && model_forward(&v, bx, 0, B, &err) == 0 &&
             clEnqueueReadBuffer(q, v.acts[v.n_layers], CL_TRUE, 0, B * D * sizeof(float), full, 0,
                                 NULL, NULL) == CL_SUCCESS &&
             clEnqueueReadBuffer(q, v.stats, CL_TRUE, 0, B * 2 * KV * sizeof(float), stats, 0, NULL,
                                 NULL) == CL_SUCCESS &&
             infer_encode(&v, xs, B, codes, &err) == 0 && infer_decode(&v, codes, B, split, &err) == 0;
    CHECK(rc, "vae passes: %s", err.msg);
    if (rc) {
        CHECK(memcmp(full, split, B * D * sizeof *full) == 0,
              "vae: encode then decode equals the evaluation forward pass bit for bit");
        int means = 1;
        for (int r = 0; r < B; r++)
            for (int j = 0; j < KV; j++) means &= codes[r * KV + j] == stats[r * 2 * KV + j];
        CHECK(means, "vae: the codes are the encoder's means");
    }
    if (bx) clReleaseMemObject(bx);
    free(xs), free(full), free(split), free(codes), free(stats);
    model_destroy(&v);
}

/* The trained model: forward ranges, encode/decode, latent.csv, pictures. */
static void check_model(Infer *in, const Dataset *test, const char *run)
{
    Model *m = &in->model;
    Err err = {{0}};
    int n = test->n, D = m->dims[0], K = m->dims[m->latent], L = m->n_layers;
    CHECK(n == 300 && K == 2 && D == 784 && in->model.image_rows == 28 &&
              in->model.image_cols == 28 && in->epoch == 2,
          "fixture: %d images, K %d, D %d, %dx%d, epoch %d", n, K, D, in->model.image_rows,
          in->model.image_cols, in->epoch);
    size_t nd = (size_t)n * (size_t)D;
    float *ref = calloc(nd, sizeof *ref), *split = calloc(nd, sizeof *split);
    float *dec = calloc(nd, sizeof *dec), *z = calloc((size_t)n * K, sizeof *z);
    float *tx = malloc(nd * sizeof *tx); /* the test images as floats */
    if (tx) data_rows_float(test, 0, (size_t)n, tx);
    cl_mem x = clctx_buffer(&in->dev.ctx, nd * sizeof(float), tx, &err);
    CHECK(x != NULL, "%s", err.msg);
    cl_command_queue q = in->dev.ctx.queue;
    for (int done = 0; x && done < n; done += INFER_MAX_BATCH) {
        int b = n - done < INFER_MAX_BATCH ? n - done : INFER_MAX_BATCH;
        size_t bytes = (size_t)b * D * sizeof(float);
        CHECK(model_forward(m, x, (size_t)done, b, &err) == 0, "%s", err.msg);
        CHECK(clEnqueueReadBuffer(q, m->acts[L], CL_TRUE, 0, bytes, ref + (size_t)done * D, 0, NULL,
                                  NULL) == CL_SUCCESS, "read");
        CHECK(model_forward_range(m, x, (size_t)done, b, 0, m->latent, &err) == 0, "%s", err.msg);
        CHECK(model_forward_range(m, m->acts[m->latent], 0, b, m->latent, L, &err) == 0, "%s",
              err.msg);
        CHECK(clEnqueueReadBuffer(q, m->acts[L], CL_TRUE, 0, bytes, split + (size_t)done * D, 0, NULL,
                                  NULL) == CL_SUCCESS, "read");
    }
    if (x) clReleaseMemObject(x);
    CHECK(memcmp(ref, split, nd * sizeof *ref) == 0,
          "forward [0,latent) then [latent,L) equals model_forward bit for bit");
    CHECK(model_forward_range(m, m->x, 0, 1, 2, 2, &err) == -1, "an empty range is refused");
    CHECK_CONTAINS(err.msg, "the model has layers 0..3");

    CHECK(infer_encode(m, tx, n, z, &err) == 0, "%s", err.msg);
    CHECK(infer_decode(m, z, n, dec, &err) == 0, "%s", err.msg);
    CHECK(memcmp(ref, dec, nd * sizeof *ref) == 0,
          "decode(encode(x)) equals the full forward pass bit for bit");
    CHECK(infer_encode(m, tx, 0, z, &err) == 0, "no images: nothing to do");

    /* The run's latent.csv: the same codes, up to its 7 digits and the
     * training batches of 16. */
    char path[4200];
    snprintf(path, sizeof path, "%s/latent.csv", run);
    float *zl = NULL;
    int nl = 0;
    CHECK(runfolder_read_latent(path, &(int){2}, &zl, NULL, &nl, &err) == 0, "%s", err.msg);
    CHECK(nl == n, "latent.csv rows %d, want %d", nl, n);
    double worst = 0;
    int exact = 0;
    for (int i = 0; zl && i < nl * K && nl == n; i++) {
        double d = fabs(zl[i] - z[i]) / (2e-6 * fabs(z[i]) + 1e-6);
        if (d > worst) worst = d;
        char a[32], b[32];
        snprintf(a, sizeof a, "%.7g", z[i]);
        snprintf(b, sizeof b, "%.7g", zl[i]);
        exact += strcmp(a, b) == 0;
    }
    printf("encode vs latent.csv: %d of %d values print the same; worst %.3g of the tolerance\n",
           exact, nl * K, worst);
    CHECK(worst <= 1, "encode vs latent.csv: %.3g times the tolerance", worst);
    free(zl);
    CHECK(runfolder_read_latent(path, &(int){3}, &zl, NULL, &nl, &err) == -1 && zl == NULL, "K = 3 reads a K = 2 file");
    CHECK_CONTAINS(err.msg, "latent.csv:1: header 'index,label,z1,z2': expected index,label,z1,...,z3");
    free(zl);

    /* The grid picture: each cell is its decoded point, as pngio_gray
     * converts it, in picture order. */
    int g = 3;
    float lo[2] = {-1, -2}, hi[2] = {1, 2}, gz[9 * 2], gx[9 * 784];
    snprintf(path, sizeof path, "%s/../grid.png", run);
    CHECK(infer_write_grid(m, g, lo, hi, NULL, path, &err) == 0, "%s", err.msg);
    infer_grid_codes(g, 2, lo, hi, NULL, gz);
    CHECK(infer_decode(m, gz, 9, gx, &err) == 0, "%s", err.msg);
    unsigned char *pix = NULL;
    int w = 0, h = 0, ch = 0, same = 1;
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == 84 && h == 84 && ch == 1, "3 x 3 grid: %dx%d, %d channels", w, h, ch);
    for (int y = 0; pix && w == 84 && y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            int cell = (y / 28) * 3 + xx / 28;
            same &= pix[y * w + xx] == pngio_gray(gx[cell * 784 + (y % 28) * 28 + xx % 28]);
        }
    CHECK(same, "grid pixels are the decoded cells, row-major from the top left");
    free(pix);
    free(ref), free(split), free(dec), free(z), free(tx);
}

/* Pictures of untrained models with K = 1 and K = 3 on the open device. */
static void check_shapes(Infer *in, const char *dir)
{
    int ks[2] = {1, 3}, grids[2] = {5, 4}, want_w[2] = {140, 112}, want_h[2] = {28, 112};
    for (int i = 0; i < 2; i++) {
        Config cfg;
        small_config(&cfg, dir, ks[i]);
        Model m;
        Rng rng;
        rng_seed(&rng, 1);
        Err err = {{0}};
        if (model_create(&m, &in->dev.ctx, &in->dev.k, &cfg, (Shape3){784, 1, 1}, 8, &err) ||
            model_init_params(&m, &cfg, &rng, &err)) {
            CHECK(0, "model: %s", err.msg);
            continue;
        }
        float zt[4 * 3] = {-1, 0, 0.5f, 1, 2, 0.25f, 0, 1, 1, 3, -1, 0}; /* (4, K) */
        char path[4200];
        snprintf(path, sizeof path, "%s/k%d.png", dir, ks[i]);
        /* batches of 8 on a 16-image grid: decoding goes round twice */
        CHECK(infer_manifold(&m, zt, 4, grids[i], path, &err) == 0, "K %d: %s", ks[i], err.msg);
        unsigned char *pix = NULL;
        int w = 0, h = 0, ch = 0;
        CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
        CHECK(w == want_w[i] && h == want_h[i] && ch == 1, "K %d grid %d: %dx%d, want %dx%d", ks[i],
              grids[i], w, h, want_w[i], want_h[i]);
        free(pix);
        CHECK(infer_write_grid(&m, 1, (float[2]){0, 0}, (float[2]){1, 1}, NULL, path, &err) == -1,
              "grid 1 refused");
        model_destroy(&m);
    }
    /* A model whose input is not a square image has no picture. */
    Config cfg;
    small_config(&cfg, dir, 2);
    Model m;
    Err err = {{0}};
    if (model_create(&m, &in->dev.ctx, &in->dev.k, &cfg, (Shape3){780, 1, 1}, 4, &err) == 0) {
        float zt[2] = {0, 0};
        CHECK(infer_manifold(&m, zt, 1, 3, "never.png", &err) == -1, "780 inputs");
        CHECK_CONTAINS(err.msg, "780 values, not an image");
        /* the same 780 inputs as 26x30 images (what a (N, 26, 30) .npy gives) */
        m.image_rows = 26;
        m.image_cols = 30;
        char path[4200];
        snprintf(path, sizeof path, "%s/wide.png", dir);
        CHECK(infer_manifold(&m, zt, 1, 3, path, &err) == 0, "26x30: %s", err.msg);
        unsigned char *pix = NULL;
        int w = 0, h = 0, ch = 0;
        CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0 && w == 90 && h == 78,
              "3x3 grid of 26x30 images: %dx%d, want 90x78", w, h);
        free(pix);
        /* ... and as 3x13x20 RGB images: an RGB grid; channels that do not
         * multiply up to the input are no image */
        m.image_channels = 3;
        m.image_rows = 13;
        m.image_cols = 20;
        int c = 0, r = 0, cl = 0;
        CHECK(infer_image_shape(&m, &c, &r, &cl, &err) == 0 && c == 3 && r == 13 && cl == 20,
              "3x13x20: %d %d %d %s", c, r, cl, err.msg);
        CHECK(infer_manifold(&m, zt, 1, 3, path, &err) == 0, "3x13x20: %s", err.msg);
        CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0 && w == 60 && h == 39 && ch == 3,
              "3x3 grid of 3x13x20 images: %dx%dx%d, want 60x39x3", w, h, ch);
        free(pix);
        m.image_channels = 4;
        CHECK(infer_image_shape(&m, &c, &r, &cl, &err) == -1, "4x13x20 is not 780 values");
        CHECK_CONTAINS(err.msg, "780 values, not an image");
        model_destroy(&m);
    } else {
        CHECK(0, "model: %s", err.msg);
    }
}

static void check_open_errors(const char *dir, const char *run)
{
    Infer in;
    Err err = {{0}};
    char path[4200], from[4200], to[4400];
    snprintf(path, sizeof path, "%s/nowhere", dir);
    CHECK(infer_open(&in, path, NULL, NULL, &err) == -2, "no folder");
    CHECK_CONTAINS(err.msg, "nowhere: no such run folder");

    /* config.ini without model.ckpt */
    snprintf(path, sizeof path, "%s/nockpt", dir);
    mkdir(path, 0777);
    snprintf(from, sizeof from, "%s/config.ini", run);
    snprintf(to, sizeof to, "%s/config.ini", path);
    CHECK(copy_file(from, to) == 0, "copy");
    CHECK(infer_open(&in, path, NULL, NULL, &err) == -2, "no checkpoint");
    CHECK_CONTAINS(err.msg, "nockpt/model.ckpt: no such file: the run has no checkpoint");
    CHECK_CONTAINS(err.msg, "clae train --resume");

    /* a checkpoint with a config of another shape */
    Config cfg;
    CHECK(config_load(&cfg, from, &err) == 0 && config_set(&cfg, "model.latent=3", &err) == 0, "%s",
          err.msg);
    FILE *f = fopen(to, "w");
    if (f) config_write(&cfg, f), fclose(f);
    snprintf(from, sizeof from, "%s/model.ckpt", run);
    snprintf(to, sizeof to, "%s/model.ckpt", path);
    CHECK(copy_file(from, to) == 0, "copy");
    CHECK(infer_open(&in, path, NULL, NULL, &err) == -2, "latent 3 vs 2");
    CHECK_CONTAINS(err.msg, "model.ckpt: layer sizes 784-64-2-64-784 differ from the config's "
                            "784-64-3-64-784 (config.ini no longer describes this checkpoint)");

    CHECK(infer_open(&in, run, "7:7", NULL, &err) == -2, "no device 7:7");
    CHECK_CONTAINS(err.msg, "available:");

    /* a damaged latent.csv row is named */
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    f = fopen(path, "w");
    if (f) fputs("index,label,z1,z2\n0,1,0.5,0.25\n1,2,0.5,x\n", f), fclose(f);
    float *z = NULL;
    int n = 0;
    CHECK(runfolder_read_latent(path, &(int){2}, &z, NULL, &n, &err) == -1, "bad row");
    CHECK_CONTAINS(err.msg, "bad.csv:3: expected index,label and 2 finite numbers");
    free(z);
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "infer");
    Rng rng;
    rng_seed(&rng, 7);
    write_fixture(dir, "train", 150, &rng);
    write_fixture(dir, "t10k", 300, &rng);

    check_percentiles();
    check_grid_codes();
    check_prior_math();

    Config cfg;
    small_config(&cfg, dir, 2);
    TrainResult res;
    TrainOptions opt = {.quiet = 1, .result = &res};
    int rc = train_run(&cfg, &opt);
    CHECK(rc == EXIT_OK && res.status == RUN_COMPLETED, "train_run: %d %s", rc,
          runfolder_status_name(res.status));
    if (rc == EXIT_OK) {
        char path[4200];
        snprintf(path, sizeof path, "%s/manifold.png", res.folder);
        unsigned char *pix = NULL;
        int w = 0, h = 0, ch = 0;
        Err err = {{0}};
        CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
        CHECK(w == 420 && h == 420 && ch == 1, "manifold.png %dx%dx%d, want 420x420 gray", w, h, ch);
        free(pix);

        Infer *in = calloc(1, sizeof *in);
        Dataset train = {0}, test = {0};
        CHECK(data_load(&cfg, &train, &test, &err) == 0, "%s", err.msg);
        rc = infer_open(in, res.folder, NULL, NULL, &err);
        CHECK(rc == 0, "infer_open: %s", err.msg);
        if (rc == 0) {
            check_model(in, &test, res.folder);
            check_shapes(in, dir);
            check_write_codes(in, dir);
        }
        infer_close(in);
        infer_close(in); /* harmless twice */
        free(in);
        dataset_free(&train);
        dataset_free(&test);
        check_open_errors(dir, res.folder);
    }

    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_infer");
}
