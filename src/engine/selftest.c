/* selftest: see selftest.h.
 *
 * Tolerances: element-wise kernels agree with the double-precision host to
 * 1e-5 (float32 rounding of tanh/exp is ~1e-7); SGEMM to 1e-4 relative to
 * the sum of |a||b| per element (float accumulation over K terms); gradients
 * to 1e-3 relative L2 error per tensor against central differences of the
 * double-precision host forward pass (h = 1e-5), where an error in the
 * backward pass shows as O(1). */
#include "selftest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "layer.h"
#include "model.h"
#include "optim.h"
#include "philox.h"
#include "ref.h"
#include "rng.h"

typedef struct {
    ClCtx *ctx;
    Kernels *k;
    FILE *out;
    Rng rng;
    int failed;
    int ran;
} St;

static void report(St *st, int ok, const char *what, double err_val, double tol)
{
    st->ran++;
    if (!ok) st->failed++;
    fprintf(st->out, "%-4s %-44s err=%.3g (tol %.0e)\n", ok ? "ok" : "FAIL", what, err_val, tol);
}

static cl_mem upload(St *st, const float *h, size_t n, Err *err)
{
    return clctx_buffer(st->ctx, n * sizeof(float), h, err);
}

static int download(St *st, cl_mem b, float *h, size_t n, Err *err)
{
    CL_CHECK(clEnqueueReadBuffer(st->ctx->queue, b, CL_TRUE, 0, n * sizeof(float), h, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

static void fill(St *st, float *h, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) h[i] = (float)(lo + (hi - lo) * rng_uniform(&st->rng));
}

static double max_abs_diff(const float *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static const Activation ACTS[] = {ACT_LINEAR, ACT_TANH, ACT_RELU, ACT_SIGMOID, ACT_LEAKY_RELU};
static const char *const ACT_NAMES[] = {"linear", "tanh", "relu", "sigmoid", "leaky_relu"};

/* Each activation's bias_act and act_backward on R x C, the chunk of
 * values a work-item (kernels.h) as the device runs them (tag "") or one a
 * work-item as on GPUs (tag " (1 a work-item)"). */
static int check_activations_shape(St *st, int R, int C, const char *tag, Err *err)
{
    float *y = malloc(sizeof(float) * (size_t)(R * C)), *p = malloc(sizeof(float) * (size_t)(C + 3));
    float *d = malloc(sizeof(float) * (size_t)(R * C)), *res = malloc(sizeof(float) * (size_t)(R * C));
    double *want = malloc(sizeof(double) * (size_t)(R * C));
    cl_mem by = NULL, bp = NULL;
    int rc = -1;
    if (!y || !p || !d || !res || !want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    for (size_t a = 0; a < sizeof ACTS / sizeof ACTS[0]; a++) {
        fill(st, y, R * C, -3, 3);
        fill(st, p, C + 3, -1, 1);
        if (!(by = upload(st, y, R * C, err)) || !(bp = upload(st, p, C + 3, err))) goto out;
        /* bias at offset 3 exercises the offset argument */
        if (kern_bias_act(st->k, by, R, C, bp, 3, ACTS[a], err) || download(st, by, res, R * C, err))
            goto out;
        for (int i = 0; i < R * C; i++) want[i] = ref_act((double)y[i] + p[3 + i % C], ACTS[a]);
        char what[64];
        snprintf(what, sizeof what, "bias_act %s %dx%d%s", ACT_NAMES[a], R, C, tag);
        double e = max_abs_diff(res, want, R * C);
        report(st, e <= 1e-5, what, e, 1e-5);

        /* act_backward from the layer's output res */
        fill(st, d, R * C, -1, 1);
        clReleaseMemObject(bp);
        if (!(bp = upload(st, d, R * C, err))) goto out;
        if (kern_act_backward(st->k, bp, by, R * C, ACTS[a], err) || download(st, bp, y, R * C, err))
            goto out;
        for (int i = 0; i < R * C; i++) want[i] = d[i] * ref_act_deriv_from_output(res[i], ACTS[a]);
        snprintf(what, sizeof what, "act_backward %s %dx%d%s", ACT_NAMES[a], R, C, tag);
        e = max_abs_diff(y, want, R * C);
        report(st, e <= 1e-5, what, e, 1e-5);
        clReleaseMemObject(by);
        clReleaseMemObject(bp);
        by = bp = NULL;
    }
    rc = 0;
out:
    if (by) clReleaseMemObject(by);
    if (bp) clReleaseMemObject(bp);
    free(y);
    free(p);
    free(d);
    free(res);
    free(want);
    return rc;
}

/* tanh (act.cl's clae_tanh, a rational approximation) against tanh in
 * double over 200,001 values from -12 to 12, tiny ones, and both sides of
 * its switch to z at 0.0004 and of its clamp at 7.9053: relative error
 * (measured on the host over every 7th positive float: 2.9e-7). */
static int check_tanh_accuracy(St *st, Err *err)
{
    enum { N = 200001 + 8 };
    static const float EXTRA[8] = {1e-30f, -1e-20f, 3.9999e-4f, 4.0001e-4f, -4.0001e-4f,
                                   7.9053f, -7.9054f, 20.0f};
    float *z = malloc(N * sizeof *z), *zero = calloc(N, sizeof *zero); /* the biases */
    cl_mem bz = NULL, bb = NULL;
    int rc = -1;
    if (!z || !zero) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    for (int i = 0; i < N - 8; i++) z[i] = (float)(-12.0 + 24.0 * i / (N - 9));
    for (int i = 0; i < 8; i++) z[N - 8 + i] = EXTRA[i];
    float *want = malloc(N * sizeof *want);
    if (!want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    for (int i = 0; i < N; i++) want[i] = z[i];
    if (!(bz = upload(st, z, N, err)) || !(bb = upload(st, zero, N, err)) ||
        kern_bias_act(st->k, bz, 1, N, bb, 0, ACT_TANH, err) || download(st, bz, z, N, err)) {
        free(want);
        goto out;
    }
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double r = tanh((double)want[i]), e = fabs((double)z[i] - r) / (fabs(r) > 1e-37 ? fabs(r) : 1e-37);
        if (!(e <= worst)) worst = e;
    }
    free(want);
    report(st, worst <= 5e-7, "tanh relative error, |z| <= 20", worst, 5e-7);
    rc = 0;
out:
    if (bz) clReleaseMemObject(bz);
    if (bb) clReleaseMemObject(bb);
    free(z);
    free(zero);
    return rc;
}

static int check_activations(St *st, Err *err)
{
    if (check_activations_shape(st, 7, 13, "", err) ||
        check_activations_shape(st, 3, 1001, "", err) || check_tanh_accuracy(st, err))
        return -1;
    /* GPUs run one value a work-item: the same kernels with chunk 1 */
    int row = st->k->chunk_row, flat = st->k->chunk_flat;
    if (row == 1 && flat == 1) return 0;
    st->k->chunk_row = st->k->chunk_flat = 1;
    int rc = check_activations_shape(st, 7, 13, " (1 a work-item)", err);
    st->k->chunk_row = row;
    st->k->chunk_flat = flat;
    return rc;
}

static int check_losses(St *st, Err *err)
{
    enum { N = 3001, OFF = 5 }; /* N not a multiple of any group size */
    float *pred = malloc(N * sizeof *pred), *tgt = malloc((N + OFF) * sizeof *tgt);
    float *grad = malloc(N * sizeof *grad);
    double *want = malloc(N * sizeof *want);
    cl_mem bp = NULL, bt = NULL, bg = NULL, be = NULL, bs = NULL;
    int rc = -1;
    if (!pred || !tgt || !grad || !want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    for (int bce = 0; bce <= 1; bce++) {
        fill(st, pred, N, bce ? 0.001 : -1, bce ? 0.999 : 2);
        fill(st, tgt, N + OFF, 0, 1);
        float sums[2] = {0, 0};
        if (!(bp = upload(st, pred, N, err)) || !(bt = upload(st, tgt, N + OFF, err)) ||
            !(bg = upload(st, pred, N, err)) || !(be = upload(st, pred, N, err)) ||
            !(bs = upload(st, sums, 2, err)))
            goto out;
        float scale = 1.0f / N;
        if (kern_loss(st->k, bce, bp, bt, OFF, bg, be, N, scale, 1, err) ||
            kern_reduce_sum(st->k, be, N, bs, 1, err) || download(st, bg, grad, N, err) ||
            download(st, bs, sums, 2, err))
            goto out;
        double total = 0;
        for (int i = 0; i < N; i++) {
            double p = pred[i], t = tgt[OFF + i];
            if (bce) {
                total += -(t * log(p) + (1 - t) * log(1 - p));
                want[i] = (p - t) * scale;
            } else {
                total += (p - t) * (p - t);
                want[i] = 2 * (p - t) * scale;
            }
        }
        char what[64];
        snprintf(what, sizeof what, "%s_loss gradient", bce ? "bce" : "mse");
        double e = max_abs_diff(grad, want, N) * N; /* relative to the 1/N scale */
        report(st, e <= 1e-5, what, e, 1e-5);
        snprintf(what, sizeof what, "%s_loss + reduce_sum (n=%d)", bce ? "bce" : "mse", N);
        e = fabs(sums[1] - total) / fabs(total);
        report(st, e <= 1e-5, what, e, 1e-5);
        cl_mem *all[] = {&bp, &bt, &bg, &be, &bs};
        for (int i = 0; i < 5; i++) clReleaseMemObject(*all[i]), *all[i] = NULL;
    }
    rc = 0;
out:
    if (bp) clReleaseMemObject(bp);
    if (bt) clReleaseMemObject(bt);
    if (bg) clReleaseMemObject(bg);
    if (be) clReleaseMemObject(be);
    if (bs) clReleaseMemObject(bs);
    free(pred);
    free(tgt);
    free(grad);
    free(want);
    return rc;
}

static int check_data_kernels(St *st, Err *err)
{
    enum { ROWS = 20, COLS = 33, B = 9, OFF = 4 };
    float src[ROWS * COLS], dst[B * COLS], sums[OFF + COLS];
    double want[B * COLS];
    int idx[B + 2];
    cl_mem bsrc = NULL, bidx = NULL, bdst = NULL, bsum = NULL;
    int rc = -1;
    cl_int crc = CL_SUCCESS;
    fill(st, src, ROWS * COLS, -1, 1);
    for (int i = 0; i < B + 2; i++) idx[i] = (int)rng_below(&st->rng, ROWS);
    if (!(bsrc = upload(st, src, ROWS * COLS, err)) || !(bdst = upload(st, dst, B * COLS, err)) ||
        !(bsum = upload(st, sums, OFF + COLS, err)))
        goto out;
    bidx = clCreateBuffer(st->ctx->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof idx,
                          idx, &crc);
    if (clctx_check(crc, "clCreateBuffer", __FILE__, __LINE__, err)) goto out;
    /* gather rows idx[2..2+B) */
    if (kern_gather_rows(st->k, bsrc, bidx, 2, bdst, B, COLS, err) ||
        download(st, bdst, dst, B * COLS, err))
        goto out;
    for (int r = 0; r < B; r++)
        for (int c = 0; c < COLS; c++) want[r * COLS + c] = src[idx[2 + r] * COLS + c];
    double e = max_abs_diff(dst, want, B * COLS);
    report(st, e == 0, "gather_rows", e, 0);
    /* column sums of the gathered block, written at an offset: a full
     * chunk of columns and a cut one on CPUs, then one column a work-item
     * as GPUs run it */
    for (int c = 0; c < COLS; c++) {
        double s = 0;
        for (int r = 0; r < B; r++) s += dst[r * COLS + c];
        want[c] = s;
    }
    int col = st->k->chunk_col;
    for (int pass = 0; pass < (col > 1 ? 2 : 1); pass++) {
        /* NaN where the sums go: a path that writes nothing fails */
        for (int c = 0; c < OFF + COLS; c++) sums[c] = NAN;
        crc = clEnqueueWriteBuffer(st->ctx->queue, bsum, CL_TRUE, 0, sizeof sums, sums, 0, NULL,
                                   NULL);
        if (clctx_check(crc, "clEnqueueWriteBuffer", __FILE__, __LINE__, err)) goto out;
        st->k->chunk_col = pass ? 1 : col;
        int bad = kern_col_sum(st->k, bdst, B, COLS, bsum, OFF, err) ||
                  download(st, bsum, sums, OFF + COLS, err);
        st->k->chunk_col = col;
        if (bad) goto out;
        e = max_abs_diff(sums + OFF, want, COLS);
        report(st, e <= 1e-5, pass ? "col_sum (1 a work-item)" : "col_sum", e, 1e-5);
    }
    rc = 0;
out:
    if (bsrc) clReleaseMemObject(bsrc);
    if (bidx) clReleaseMemObject(bidx);
    if (bdst) clReleaseMemObject(bdst);
    if (bsum) clReleaseMemObject(bsum);
    return rc;
}

/* The device's counter-based generator against util/philox: uniforms bit
 * for bit (integer arithmetic, one exact conversion), normals within float
 * rounding of log, sqrt and cos (2e-5 absolute for |z| < 6). */
static int check_rng(St *st, Err *err)
{
    enum { N = 4099 };
    float *got = calloc(N, sizeof *got); /* zeroed: it is uploaded before the device fills it */
    double *want = malloc(N * sizeof *want);
    cl_mem b = NULL;
    int rc = -1;
    if (!got || !want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    if (!(b = upload(st, got, N, err))) goto out;
    const uint64_t seed = 0x123456789abcdefULL, step = 0x100000003ULL;
    for (int normal = 0; normal < 2; normal++) {
        if (kern_rng_fill(st->k, b, N, seed, PHILOX_TEST, step, normal, err) ||
            download(st, b, got, N, err))
            goto out;
        for (int i = 0; i < N; i++) {
            uint32_t blk[4];
            philox_block(seed, PHILOX_TEST, step, (uint32_t)i, blk);
            want[i] = normal ? philox_normal(blk[0], blk[1]) : philox_uniform(blk[0]);
        }
        double e = max_abs_diff(got, want, N);
        report(st, normal ? e <= 2e-5 : e == 0, normal ? "rng_fill normal (Philox4x32-10)"
                                                       : "rng_fill uniform (Philox4x32-10)",
               e, normal ? 2e-5 : 0);
    }
    rc = 0;
out:
    if (b) clReleaseMemObject(b);
    free(got);
    free(want);
    return rc;
}

/* The denoising noise (rng.cl's noise_gaussian and noise_mask) against
 * util/philox on the host for one seed and step: which inputs a mask zeroes
 * bit for bit, the gaussian's x + sd z within float rounding of z (2e-5
 * sd) and of the sum. */
static int check_noise(St *st, Err *err)
{
    enum { N = 4099 };
    const uint64_t seed = 0xfeedbeef12345ULL, step = 0x200000007ULL;
    const float sd = 0.3f, p = 0.25f;
    float *x = malloc(N * sizeof *x), *got = malloc(N * sizeof *got);
    double *want = malloc(N * sizeof *want);
    cl_mem bx = NULL, bout = NULL;
    int rc = -1;
    if (!x || !got || !want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    fill(st, x, N, 0, 1);
    if (!(bx = upload(st, x, N, err)) || !(bout = upload(st, x, N, err))) goto out;
    for (int mask = 0; mask < 2; mask++) {
        if (kern_noise(st->k, mask, bx, bout, N, seed, PHILOX_NOISE, step, mask ? p : sd, err) ||
            download(st, bout, got, N, err))
            goto out;
        int zeroed = 0;
        for (int i = 0; i < N; i++) {
            uint32_t blk[4];
            philox_block(seed, PHILOX_NOISE, step, (uint32_t)i, blk);
            want[i] = mask ? (philox_uniform(blk[0]) < p ? 0.0 : x[i])
                           : x[i] + sd * philox_normal(blk[0], blk[1]);
            zeroed += mask && want[i] == 0;
        }
        double e = max_abs_diff(got, want, N);
        char what[64];
        if (mask)
            snprintf(what, sizeof what, "noise_mask %.2f (%d of %d zeroed)", p, zeroed, N);
        else
            snprintf(what, sizeof what, "noise_gaussian sd %.1f", sd);
        report(st, mask ? e == 0 : e <= 1e-5, what, e, mask ? 0 : 1e-5);
    }
    rc = 0;
out:
    if (bx) clReleaseMemObject(bx);
    if (bout) clReleaseMemObject(bout);
    free(x);
    free(got);
    free(want);
    return rc;
}

/* Each update rule against its host formula (optim.h) over 3 steps, without
 * and with weight decay, the learning rate changing between steps as a
 * schedule changes it between epochs. */
static int check_optimizers_chunk(St *st, const char *tag, Err *err)
{
    enum { N = 1000, STEPS = 3 }; /* N not a multiple of any chunk */
    static const Optimizer KINDS[] = {OPT_ADAM, OPT_SGD, OPT_MOMENTUM};
    static const char *const NAMES[] = {"adam_step", "sgd_step", "momentum_step"};
    static const double LR[STEPS] = {1e-2, 5e-3, 2e-2};
    float p[N], g[N], res[N];
    double hp[N], hm[N], hv[N];
    cl_mem bp = NULL, bg = NULL;
    Optim o;
    memset(&o, 0, sizeof o);
    int rc = -1;
    for (int kind = 0; kind < 3; kind++)
        for (int decay = 0; decay < 2; decay++) {
            Config cfg;
            config_defaults(&cfg);
            cfg.optimizer = KINDS[kind];
            cfg.weight_decay = decay ? 0.1 : 0;
            fill(st, p, N, -1, 1);
            for (int i = 0; i < N; i++) hp[i] = p[i], hm[i] = hv[i] = 0;
            if (!(bp = upload(st, p, N, err)) || !(bg = upload(st, p, N, err)) ||
                optim_create(&o, st->ctx, st->k, &cfg, N, err))
                goto out;
            for (int t = 1; t <= STEPS; t++) {
                fill(st, g, N, -1, 1);
                cl_int crc = clEnqueueWriteBuffer(st->ctx->queue, bg, CL_TRUE, 0, sizeof g, g, 0,
                                                  NULL, NULL);
                if (clctx_check(crc, "clEnqueueWriteBuffer", __FILE__, __LINE__, err)) goto out;
                double lr = o.lr = LR[t - 1], wd = cfg.weight_decay;
                if (optim_step(&o, bp, bg, err)) goto out;
                for (int i = 0; i < N; i++) {
                    if (KINDS[kind] == OPT_ADAM) {
                        hm[i] = cfg.beta1 * hm[i] + (1 - cfg.beta1) * g[i];
                        hv[i] = cfg.beta2 * hv[i] + (1 - cfg.beta2) * (double)g[i] * g[i];
                        double mh = hm[i] / (1 - pow(cfg.beta1, t));
                        double vh = hv[i] / (1 - pow(cfg.beta2, t));
                        hp[i] -= lr * wd * hp[i]; /* decoupled: AdamW */
                        hp[i] -= lr * mh / (sqrt(vh) + cfg.epsilon);
                    } else if (KINDS[kind] == OPT_SGD) {
                        hp[i] -= lr * (g[i] + wd * hp[i]); /* L2 */
                    } else {
                        hm[i] = cfg.momentum * hm[i] + g[i] + wd * hp[i];
                        hp[i] -= lr * hm[i];
                    }
                }
            }
            if (download(st, bp, res, N, err)) goto out;
            char what[64];
            snprintf(what, sizeof what, "%s (%d steps%s)%s", NAMES[kind], STEPS,
                     decay ? ", weight_decay 0.1" : "", tag);
            double e = max_abs_diff(res, hp, N);
            report(st, e <= 1e-5, what, e, 1e-5);
            optim_destroy(&o);
            clReleaseMemObject(bp);
            clReleaseMemObject(bg);
            bp = bg = NULL;
        }
    rc = 0;
out:
    optim_destroy(&o);
    if (bp) clReleaseMemObject(bp);
    if (bg) clReleaseMemObject(bg);
    return rc;
}

static int check_optimizers(St *st, Err *err)
{
    if (check_optimizers_chunk(st, "", err)) return -1;
    int flat = st->k->chunk_flat;
    if (flat == 1) return 0;
    st->k->chunk_flat = 1;
    int rc = check_optimizers_chunk(st, " 1 a work-item", err);
    st->k->chunk_flat = flat;
    return rc;
}

static int check_gemm(St *st, Err *err)
{
    /* Odd sizes (no tile multiple), offsets, alpha and beta; then the
     * largest shape training uses; then products with a dimension of 1 or 2
     * (the latent layer's) under every route gemm.h has (-1: the tuning's). */
    static const int SHAPES[][4] = {
        {37, 23, 51, -1},   {50, 500, 784, -1},
        {50, 2, 300, ROUTE_CLBLAST}, {50, 2, 300, ROUTE_DIRECT}, {50, 2, 300, ROUTE_INDIRECT},
        {50, 2, 300, ROUTE_GEMV},    {2, 300, 50, ROUTE_CLBLAST}, {2, 300, 50, ROUTE_DIRECT},
        {2, 300, 50, ROUTE_INDIRECT}, {2, 300, 50, ROUTE_GEMV},  {50, 300, 2, ROUTE_CLBLAST},
        {50, 300, 2, ROUTE_DIRECT},  {50, 300, 2, ROUTE_INDIRECT}, {37, 1, 23, ROUTE_DIRECT},
        {37, 1, 23, ROUTE_INDIRECT}, {37, 1, 23, ROUTE_GEMV},    {1, 29, 23, ROUTE_GEMV}};
    int rc = -1;
    Gemm g;
    gemm_init(&g, st->ctx);
    g.prof = st->k->prof;
    for (int s = 0; s < (int)(sizeof SHAPES / sizeof SHAPES[0]); s++) {
        int M = SHAPES[s][0], N = SHAPES[s][1], K = SHAPES[s][2];
        g.force = SHAPES[s][3];
        size_t OA = 3, OB = 5, OC = 7;
        size_t na = OA + (size_t)M * K, nb = OB + (size_t)K * N, nc = OC + (size_t)M * N;
        float *A = malloc(na * sizeof *A), *Bm = malloc(nb * sizeof *Bm);
        float *C = malloc(nc * sizeof *C), *Cw = malloc(nc * sizeof *Cw), *Cd = malloc(nc * sizeof *Cd);
        double *want = malloc((size_t)M * N * sizeof *want), *mag = malloc((size_t)M * N * sizeof *mag);
        cl_mem bA = NULL, bB = NULL, bC = NULL;
        int ok = A && Bm && C && Cw && Cd && want && mag;
        if (!ok) err_set(err, "selftest: out of memory");
        for (int t = 0; ok && t < 4; t++) {
            int ta = t & 1, tb = (t >> 1) & 1;
            int lda = ta ? M : K, ldb = tb ? K : N;
            fill(st, A, na, -1, 1);
            fill(st, Bm, nb, -1, 1);
            fill(st, C, nc, -1, 1);
            /* The routed products also with beta = 0 over a C of NaN: BLAS
             * ignores C then (a GEMV computing 0 * C would not). */
            float alpha = 0.75f, beta = s == 1 || (s >= 2 && (t & 1)) ? 0.0f : 0.5f;
            if (s >= 2 && beta == 0.0f)
                for (size_t i = 0; i < nc; i++) C[i] = NAN;
            memcpy(Cw, C, nc * sizeof *C);
            ref_gemm(ta, tb, M, N, K, alpha, A + OA, lda, Bm + OB, ldb, beta, Cw + OC, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double m = beta != 0.0f ? fabs(beta * C[OC + (size_t)i * N + j]) : 0.0;
                    for (int kk = 0; kk < K; kk++)
                        m += fabs(alpha * (ta ? A[OA + (size_t)kk * lda + i] : A[OA + (size_t)i * lda + kk]) *
                                  (tb ? Bm[OB + (size_t)j * ldb + kk] : Bm[OB + (size_t)kk * ldb + j]));
                    mag[(size_t)i * N + j] = m;
                    want[(size_t)i * N + j] = Cw[OC + (size_t)i * N + j];
                }
            g.tmp_bytes = 0;
            ok = gemm_reserve(&g, ta, tb, M, N, K, err) == 0 && gemm_alloc(&g, err) == 0 &&
                 (bA = upload(st, A, na, err)) && (bB = upload(st, Bm, nb, err)) &&
                 (bC = upload(st, C, nc, err)) &&
                 gemm_run(&g, "sgemm", ta, tb, M, N, K, alpha, bA, OA, lda, bB, OB, ldb, beta, bC,
                          OC, N, err) == 0 &&
                 download(st, bC, Cd, nc, err) == 0;
            if (ok) {
                double e = 0;
                for (size_t i = 0; i < (size_t)M * N; i++) {
                    double r = fabs(Cd[OC + i] - want[i]) / (mag[i] + 1e-30);
                    if (!(r <= e)) e = r;
                }
                char what[96];
                snprintf(what, sizeof what, "CLBlastSgemm %c%c %dx%dx%d%s%s", ta ? 'T' : 'N',
                         tb ? 'T' : 'N', M, N, K, g.force >= 0 ? " route " : "",
                         g.force >= 0 ? tuning_route_name(gemm_route(&g, ta, tb, (size_t)M,
                                                                      (size_t)N, (size_t)K))
                                      : "");
                report(st, e <= 1e-4, what, e, 1e-4);
            }
            if (bA) clReleaseMemObject(bA);
            if (bB) clReleaseMemObject(bB);
            if (bC) clReleaseMemObject(bC);
            bA = bB = bC = NULL;
        }
        free(A), free(Bm), free(C), free(Cw), free(Cd), free(want), free(mag);
        if (!ok) goto out;
    }
    /* The forced routes reach the kernel they name: CLBlast's direct path
     * needs no temporary buffer, its indirect one pads a 2-wide operand
     * into one (only where the tuning's threshold can be put back). */
    if (st->ctx->gemm_has_min_indirect) {
        size_t bytes[2] = {0, 0};
        for (int r = 0; r < 2; r++) {
            Gemm one;
            gemm_init(&one, st->ctx);
            one.force = r ? ROUTE_INDIRECT : ROUTE_DIRECT;
            int fail = gemm_reserve(&one, 0, 0, 50, 2, 300, err) || gemm_alloc(&one, err);
            bytes[r] = one.tmp_bytes;
            gemm_destroy(&one);
            if (fail) goto out;
        }
        report(st, bytes[0] == 0 && bytes[1] > 0,
               "routes: direct temp 0 B, indirect > 0 (err=B)", (double)bytes[1], 0);
    }
    rc = 0;
out:
    gemm_destroy(&g);
    return rc;
}

/* The tiny 6-5-K-5-6 network of the gradient checks (a vae's encoder
 * output 2K wide), on vectors of 6 values (TINY_INPUT). */
#define TINY_INPUT ((Shape3){6, 1, 1})
static void tiny_config(Config *cfg, ModelKind kind, Activation act, Activation output, Loss loss)
{
    config_defaults(cfg);
    cfg->kind = kind;
    cfg->n_encoder = 1;
    cfg->encoder[0] = (LayerItem){.kind = LAYER_DENSE, .n = 5};
    cfg->latent = 3;
    cfg->decoder_mirror = 1;
    cfg->activation = act;
    cfg->output = output;
    cfg->loss = loss;
}

/* The tiny conv network of the checks on maps (TINY_MAP_INPUT): 2x8x5 ->
 * conv:3:3:2 -> 3x4x3 -> conv:4:3:1 -> 4x4x3 -> K = 3 -> 48 -> deconv
 * (4 -> 3, stride 1) -> 3x4x3 -> deconv (3 -> 2, stride 2, output padding
 * 1 for the rows and 0 for the columns) -> 2x8x5: odd and unequal sides,
 * two channels in, both strides and both paddings. */
#define TINY_MAP_INPUT ((Shape3){2, 8, 5})
static void tiny_conv_config(Config *cfg, ModelKind kind, Activation act, Activation output,
                             Loss loss)
{
    tiny_config(cfg, kind, act, output, loss);
    cfg->n_encoder = 2;
    cfg->encoder[0] = (LayerItem){.kind = LAYER_CONV, .n = 3, .k = 3, .s = 2};
    cfg->encoder[1] = (LayerItem){.kind = LAYER_CONV, .n = 4, .k = 3, .s = 1};
}

/* d/dp[i] of the host's double-precision training loss
 * (ref_forward_loss_draw with eps; NULL: z = mu) plus wd/2 p[i]^2, by
 * central differences; pd is left as it was. The other parameters' wd/2
 * p^2 cancel in the difference, so they are left out. */
static double central_diff(const Model *m, double *pd, size_t i, const float *x, int batch,
                           const double *eps, double wd)
{
    const double h = 1e-5, keep = pd[i];
    pd[i] = keep + h;
    double lp = ref_forward_loss_draw(m, pd, x, batch, eps, NULL, NULL, NULL)
                + wd / 2 * pd[i] * pd[i];
    pd[i] = keep - h;
    double lm = ref_forward_loss_draw(m, pd, x, batch, eps, NULL, NULL, NULL)
                + wd / 2 * pd[i] * pd[i];
    pd[i] = keep;
    return (lp - lm) / (2 * h);
}

/* The device's backward pass against central differences of the host's
 * double-precision loss, for every parameter tensor of the tiny network
 * (tiny_config). A vae's (kind MODEL_VAE) goes through the sampling, with
 * the eps the device drew recomputed on the host by util/philox, and
 * through the KL term weighted by kl_weight; its loss terms are checked
 * against the host's too. */
static int check_gradients(St *st, const Config *cfg, Shape3 input, Err *err)
{
    enum { BATCH = 4 };
    const uint64_t seed = 0x5eedULL, step = 0x100000007ULL;
    const int vae = cfg->kind == MODEL_VAE;
    Model m;
    float *x = NULL, sums[2] = {0, 0};
    double *eps = NULL;
    float *pf = NULL, *grad = NULL;
    double *pd = NULL;
    cl_mem bsums = NULL, bx = NULL;
    int rc = -1;
    if (model_create(&m, st->ctx, st->k, cfg, input, BATCH, err)) return -1;
    int D = m.dims[0], K = m.dims[m.latent];
    x = malloc((size_t)BATCH * (size_t)D * sizeof *x);
    eps = malloc((size_t)BATCH * (size_t)K * sizeof *eps);
    pf = malloc(m.n_params * sizeof *pf);
    grad = malloc(m.n_params * sizeof *grad);
    pd = malloc(m.n_params * sizeof *pd);
    if (!x || !eps || !pf || !grad || !pd) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    fill(st, x, (size_t)BATCH * (size_t)D, 0.05, 0.95);
    fill(st, pf, m.n_params, -0.8, 0.8);
    for (int i = 0; i < BATCH * K; i++) {
        uint32_t blk[4];
        philox_block(seed, PHILOX_VAE, step, (uint32_t)i, blk);
        eps[i] = philox_normal(blk[0], blk[1]);
    }
    ModelDraw draw = {.seed = seed, .step = step};
    if (!(bsums = upload(st, sums, 2, err)) || !(bx = upload(st, x, (size_t)BATCH * D, err)) ||
        model_set_params(&m, pf, err) || model_forward_draw(&m, bx, 0, BATCH, &draw, err) ||
        model_loss(&m, bx, 0, BATCH, 1, bsums, 0, err) ||
        (vae && model_kl(&m, BATCH, bsums, 1, err)) || model_backward(&m, bx, 0, BATCH, err) ||
        model_get_grads(&m, grad, err) || download(st, bsums, sums, 2, err))
        goto out;
    for (size_t i = 0; i < m.n_params; i++) pd[i] = pf[i];
    char what[128], net[16];
    const char *name = config_loss_name(cfg->loss);
    const char *act = ACT_NAMES[cfg->activation], *output = ACT_NAMES[cfg->output];
    int maps = layers_has_maps(cfg->encoder, cfg->n_encoder);
    util_fmt(net, sizeof net, "%s", maps ? "conv " : "");
    if (vae) {
        double recon, kl, per = (double)BATCH * D;
        ref_forward_loss_draw(&m, pd, x, BATCH, eps, NULL, &recon, &kl);
        double e = fmax(fabs(sums[0] / per - recon) / recon, fabs(sums[1] / per - kl) / kl);
        snprintf(what, sizeof what, "%svae loss terms %s/%s/%s (recon, KL)", net, act, output,
                 name);
        report(st, e <= 1e-4, what, e, 1e-4);
    }
    for (int l = 0; l < m.n_layers; l++) {
        for (int tensor = 0; tensor < 2; tensor++) {
            size_t off = tensor ? m.b_off[l] : m.w_off[l];
            size_t n = tensor ? layers_biases(&m.layer[l], m.width[l])
                              : layers_weights(&m.layer[l], m.width[l]);
            double num2 = 0, den2 = 0;
            for (size_t i = off; i < off + n; i++) {
                double fd = central_diff(&m, pd, i, x, BATCH, vae ? eps : NULL, 0);
                num2 += (grad[i] - fd) * (grad[i] - fd);
                den2 += fd * fd + (double)grad[i] * grad[i];
            }
            double e = sqrt(num2) / (sqrt(den2) + 1e-12);
            char vae_what[40] = "", shape[96];
            if (vae) snprintf(vae_what, sizeof vae_what, "vae kl_weight %g ", cfg->kl_weight);
            if (m.layer[l].kind == LAYER_DENSE) {
                util_fmt(shape, sizeof shape, "%d->%d", m.dims[l], m.width[l]);
            } else {
                char item[48], a[32], b[32];
                layers_layer_str(&m.layer[l], item, sizeof item);
                layers_shape_str(m.layer[l].in, a, sizeof a);
                layers_shape_str(m.layer[l].out, b, sizeof b);
                util_fmt(shape, sizeof shape, "%s %s->%s", item, a, b);
            }
            util_fmt(what, sizeof what, "gradient %s%s%s/%s/%s %c%d (%s)", net, vae_what, act,
                     output, name, tensor ? 'b' : 'W', l, shape);
            report(st, e <= 1e-3, what, e, 1e-3);
        }
    }
    rc = 0;
out:
    if (bsums) clReleaseMemObject(bsums);
    if (bx) clReleaseMemObject(bx);
    free(x);
    free(eps);
    free(pf);
    free(grad);
    free(pd);
    model_destroy(&m);
    return rc;
}

/* check_gradients of the tiny dense network (tiny_config). */
static int check_dense_gradients(St *st, ModelKind kind, Activation act, Activation output,
                                 Loss loss, double kl_weight, Err *err)
{
    Config cfg;
    tiny_config(&cfg, kind, act, output, loss);
    cfg.kl_weight = kl_weight;
    return check_gradients(st, &cfg, TINY_INPUT, err);
}

/* check_gradients of the tiny conv network (tiny_conv_config). */
static int check_conv_gradients(St *st, ModelKind kind, Activation act, Activation output,
                                Loss loss, double kl_weight, Err *err)
{
    Config cfg;
    tiny_conv_config(&cfg, kind, act, output, loss);
    cfg.kl_weight = kl_weight;
    return check_gradients(st, &cfg, TINY_MAP_INPUT, err);
}

/* The vae's sampling and its backward kernel against the host: eps bit for
 * bit the Philox normals of util/philox (2e-5, as rng_fill), z and the KL
 * terms, and the gradient at the encoder's output, within 1e-5 relative. */
static int check_vae_kernels(St *st, Err *err)
{
    enum { R = 7, K = 5, N = R * K };
    const uint64_t seed = 0xfeedfacecafeULL, step = 41;
    const float kl_scale = 0.37f;
    float stats[R * 2 * K], dz[N], z[N] = {0}, eps[N] = {0}, kl[N] = {0}, d[R * 2 * K] = {0};
    double wz[N], weps[N], wkl[N], wd[R * 2 * K];
    cl_mem bs = NULL, bz = NULL, be = NULL, bk = NULL, bdz = NULL, bd = NULL;
    int rc = -1;
    fill(st, stats, R * 2 * K, -2, 2);
    fill(st, dz, N, -1, 1);
    if (!(bs = upload(st, stats, R * 2 * K, err)) || !(bz = upload(st, z, N, err)) ||
        !(be = upload(st, eps, N, err)) || !(bk = upload(st, kl, N, err)) ||
        !(bdz = upload(st, dz, N, err)) || !(bd = upload(st, d, R * 2 * K, err)))
        goto out;
    for (int draw = 1; draw >= 0; draw--) {
        if (kern_vae_sample(st->k, bs, bz, be, bk, R, K, draw, seed, PHILOX_VAE, step, err) ||
            kern_vae_backward(st->k, bdz, bs, be, bd, R, K, kl_scale, err) ||
            download(st, bz, z, N, err) || download(st, be, eps, N, err) ||
            download(st, bk, kl, N, err) || download(st, bd, d, R * 2 * K, err))
            goto out;
        for (int i = 0; i < N; i++) {
            int r = i / K, j = i % K;
            double mu = stats[r * 2 * K + j], lv = stats[r * 2 * K + K + j];
            uint32_t blk[4];
            philox_block(seed, PHILOX_VAE, step, (uint32_t)i, blk);
            weps[i] = draw ? philox_normal(blk[0], blk[1]) : 0.0;
            /* from the device's eps, so that z and d judge their own arithmetic */
            wz[i] = mu + exp(0.5 * lv) * eps[i];
            wkl[i] = 0.5 * (mu * mu + exp(lv) - 1 - lv);
            wd[r * 2 * K + j] = dz[i] + kl_scale * mu;
            wd[r * 2 * K + K + j] = 0.5 * (dz[i] * eps[i] * exp(0.5 * lv) + kl_scale * (exp(lv) - 1));
        }
        char what[64];
        double e = max_abs_diff(eps, weps, N);
        snprintf(what, sizeof what, "vae_sample eps (%s)", draw ? "Philox, PHILOX_VAE" : "none: 0");
        report(st, draw ? e <= 2e-5 : e == 0, what, e, draw ? 2e-5 : 0);
        double ez = 0, ek = 0, ed = 0;
        for (int i = 0; i < N; i++) {
            double a = fabs(z[i] - wz[i]) / (fabs(wz[i]) + 1), b = fabs(kl[i] - wkl[i]) / (fabs(wkl[i]) + 1);
            if (!(a <= ez)) ez = a;
            if (!(b <= ek)) ek = b;
        }
        for (int i = 0; i < R * 2 * K; i++) {
            double a = fabs(d[i] - wd[i]) / (fabs(wd[i]) + 1);
            if (!(a <= ed)) ed = a;
        }
        snprintf(what, sizeof what, "vae_sample z = mu + exp(lv/2) eps%s", draw ? "" : " (z = mu)");
        report(st, ez <= 1e-5, what, ez, 1e-5);
        snprintf(what, sizeof what, "vae_sample KL terms%s", draw ? "" : " (z = mu)");
        report(st, ek <= 1e-5, what, ek, 1e-5);
        snprintf(what, sizeof what, "vae_backward%s", draw ? "" : " (eps = 0)");
        report(st, ed <= 1e-5, what, ed, 1e-5);
    }
    rc = 0;
out:;
    cl_mem all[] = {bs, bz, be, bk, bdz, bd};
    for (int i = 0; i < 6; i++)
        if (all[i]) clReleaseMemObject(all[i]);
    return rc;
}

/* L2 weight decay is gradient descent on loss + wd/2 |p|^2: one sgd (and
 * one momentum, whose first step is the same) step of lr 1 from the
 * device's backward pass moves the parameters of the tiny 6-5-3-5-6
 * network by exactly that sum's gradient, checked against its central
 * differences over every parameter (host, double). */
static int check_weight_decay(St *st, Err *err)
{
    enum { BATCH = 4, D = 6 };
    const double wd = 0.3;
    _Static_assert(D == 6, "the tiny network's input, TINY_INPUT");
    Config cfg;
    tiny_config(&cfg, MODEL_AE, ACT_TANH, ACT_LINEAR, LOSS_MSE);
    Model m;
    Optim o;
    memset(&o, 0, sizeof o);
    float x[BATCH * D];
    float *pf = NULL, *after = NULL;
    double *pd = NULL;
    cl_mem sums = NULL, bx = NULL;
    int rc = -1;
    if (model_create(&m, st->ctx, st->k, &cfg, TINY_INPUT, BATCH, err)) return -1;
    pf = malloc(m.n_params * sizeof *pf);
    after = malloc(m.n_params * sizeof *after);
    pd = malloc(m.n_params * sizeof *pd);
    if (!pf || !after || !pd) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    fill(st, x, BATCH * D, 0.05, 0.95);
    for (int kind = 0; kind < 2; kind++) {
        cfg.optimizer = kind ? OPT_MOMENTUM : OPT_SGD;
        cfg.learning_rate = 1;
        cfg.weight_decay = wd;
        fill(st, pf, m.n_params, -0.8, 0.8);
        float zero[1] = {0};
        if (!(sums = upload(st, zero, 1, err)) || !(bx = upload(st, x, BATCH * D, err)) ||
            model_set_params(&m, pf, err) || model_forward(&m, bx, 0, BATCH, err) ||
            model_loss(&m, bx, 0, BATCH, 1, sums, 0, err) ||
            model_backward(&m, bx, 0, BATCH, err) ||
            optim_create(&o, st->ctx, st->k, &cfg, m.n_params, err) ||
            optim_step(&o, m.params, m.grads, err) || model_get_params(&m, after, err))
            goto out;
        for (size_t i = 0; i < m.n_params; i++) pd[i] = pf[i];
        double num2 = 0, den2 = 0;
        for (size_t i = 0; i < m.n_params; i++) {
            double fd = central_diff(&m, pd, i, x, BATCH, NULL, wd);
            double step = (double)pf[i] - after[i];
            num2 += (step - fd) * (step - fd);
            den2 += fd * fd + step * step;
        }
        double e = sqrt(num2) / (sqrt(den2) + 1e-12);
        char what[80];
        snprintf(what, sizeof what, "%s weight_decay %g = d(loss + wd/2 |p|^2)",
                 kind ? "momentum" : "sgd", wd);
        report(st, e <= 1e-3, what, e, 1e-3);
        optim_destroy(&o);
        clReleaseMemObject(sums);
        clReleaseMemObject(bx);
        sums = bx = NULL;
    }
    rc = 0;
out:
    optim_destroy(&o);
    if (sums) clReleaseMemObject(sums);
    if (bx) clReleaseMemObject(bx);
    free(pf);
    free(after);
    free(pd);
    model_destroy(&m);
    return rc;
}

/* ---- conv and deconv ----------------------------------------------------- */

/* im2col of x (B, C, H, W) at x_off on the host: conv.cl's layout. */
static void host_im2col(const float *x, const KernConv *g, float *col)
{
    size_t N = (size_t)g->B * g->OH * g->OW;
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < g->K; kh++)
            for (int kw = 0; kw < g->K; kw++)
                for (int b = 0; b < g->B; b++)
                    for (int oh = 0; oh < g->OH; oh++)
                        for (int ow = 0; ow < g->OW; ow++) {
                            int h = oh * g->S - g->P + kh, w = ow * g->S - g->P + kw;
                            size_t r = (size_t)(c * g->K + kh) * g->K + kw;
                            size_t n = ((size_t)b * g->OH + oh) * g->OW + ow;
                            col[r * N + n] = h < 0 || h >= g->H || w < 0 || w >= g->W
                                                 ? 0.0f
                                                 : x[(((size_t)b * g->C + c) * g->H + h) * g->W + w];
                        }
}

/* col2im on the host: every column entry added to the value im2col read it
 * from (the scatter form, in double). */
static void host_col2im(const float *col, const KernConv *g, double *x)
{
    size_t N = (size_t)g->B * g->OH * g->OW;
    memset(x, 0, (size_t)g->B * g->C * g->H * g->W * sizeof *x);
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < g->K; kh++)
            for (int kw = 0; kw < g->K; kw++)
                for (int b = 0; b < g->B; b++)
                    for (int oh = 0; oh < g->OH; oh++)
                        for (int ow = 0; ow < g->OW; ow++) {
                            int h = oh * g->S - g->P + kh, w = ow * g->S - g->P + kw;
                            if (h < 0 || h >= g->H || w < 0 || w >= g->W) continue;
                            size_t r = (size_t)(c * g->K + kh) * g->K + kw;
                            size_t n = ((size_t)b * g->OH + oh) * g->OW + ow;
                            x[(((size_t)b * g->C + c) * g->H + h) * g->W + w] += col[r * N + n];
                        }
}

/* conv.cl's kernels against host loops: im2col (exact: it only moves
 * values) and col2im (1e-5: sums of up to K K terms) for odd sizes,
 * strides 1, 2 and 3 and an input offset; swap_axes (exact); the bias
 * gradient of maps (1e-5 relative); and the map bias-and-activation
 * kernels of every activation (1e-5). */
static int check_conv_kernels(St *st, Err *err)
{
    static const KernConv GEOS[3] = {
        {3, 2, 7, 5, 3, 2, 1, 4, 3}, /* stride 2, odd and unequal sides */
        {2, 3, 6, 6, 5, 1, 2, 6, 6}, /* stride 1, a 5 x 5 kernel */
        {2, 1, 8, 4, 3, 3, 1, 3, 2}, /* stride 3 */
    };
    enum { OFF = 7 };
    int rc = -1;
    cl_mem bx = NULL, bcol = NULL, bout = NULL;
    float *x = NULL, *col = NULL, *got = NULL;
    double *want = NULL;
    for (int gi = 0; gi < 3; gi++) {
        const KernConv *g = &GEOS[gi];
        size_t nx = (size_t)g->B * g->C * g->H * g->W;
        size_t ncol = (size_t)g->C * g->K * g->K * g->B * g->OH * g->OW;
        x = malloc((OFF + nx) * sizeof *x);
        col = malloc(ncol * sizeof *col);
        got = malloc((ncol > nx ? ncol : nx) * sizeof *got);
        want = malloc((ncol > nx ? ncol : nx) * sizeof *want);
        if (!x || !col || !got || !want) {
            err_set(err, "selftest: out of memory");
            goto out;
        }
        fill(st, x, OFF + nx, -1, 1);
        host_im2col(x + OFF, g, col);
        for (size_t i = 0; i < ncol; i++) want[i] = col[i];
        memset(got, 0, ncol * sizeof *got);
        if (!(bx = upload(st, x, OFF + nx, err)) || !(bcol = upload(st, got, ncol, err)) ||
            kern_im2col(st->k, bx, OFF, bcol, g, err) || download(st, bcol, got, ncol, err))
            goto out;
        char what[96];
        double e = max_abs_diff(got, want, ncol);
        snprintf(what, sizeof what, "im2col %dx%dx%dx%d k%d s%d -> %dx%d", g->B, g->C, g->H, g->W,
                 g->K, g->S, g->OH, g->OW);
        report(st, e == 0, what, e, 0);
        fill(st, col, ncol, -1, 1);
        host_col2im(col, g, want);
        clReleaseMemObject(bcol);
        bcol = NULL;
        if (!(bcol = upload(st, col, ncol, err)) || kern_col2im(st->k, bcol, bx, g, err) ||
            download(st, bx, got, nx, err))
            goto out;
        e = max_abs_diff(got, want, nx);
        snprintf(what, sizeof what, "col2im %dx%dx%dx%d k%d s%d <- %dx%d", g->B, g->C, g->H, g->W,
                 g->K, g->S, g->OH, g->OW);
        report(st, e <= 1e-5, what, e, 1e-5);
        /* swap_axes of the column values read as (A1, B1, P) = (C K K, 2, rest) */
        int A1 = g->C * g->K * g->K, B1 = g->B, P = g->OH * g->OW;
        if (!(bout = upload(st, col, ncol, err)) ||
            kern_swap_axes(st->k, bcol, 0, bout, A1, B1, P, err) ||
            download(st, bout, got, ncol, err))
            goto out;
        for (int a = 0; a < A1; a++)
            for (int b = 0; b < B1; b++)
                for (int p = 0; p < P; p++)
                    want[((size_t)b * A1 + a) * P + p] = col[((size_t)a * B1 + b) * P + p];
        e = max_abs_diff(got, want, ncol);
        snprintf(what, sizeof what, "swap_axes %dx%dx%d", A1, B1, P);
        report(st, e == 0, what, e, 0);
        clReleaseMemObject(bx);
        clReleaseMemObject(bcol);
        clReleaseMemObject(bout);
        bx = bcol = bout = NULL;
        free(x), free(col), free(got), free(want);
        x = col = got = NULL;
        want = NULL;
    }
    /* the maps' bias gradient and bias-and-activation kernels on (B, F, P) */
    enum { B = 3, F = 5, P = 13, N = B * F * P, BOFF = 2 };
    float z[N], y[N], p[BOFF + F], res[N];
    double wantd[N];
    fill(st, z, N, -2, 2);
    fill(st, p, BOFF + F, -1, 1);
    if (!(bx = upload(st, z, N, err)) || !(bcol = upload(st, p, BOFF + F, err)) ||
        kern_map_bias_grad(st->k, bx, B, F, P, bcol, BOFF, err) ||
        download(st, bcol, res, BOFF + F, err))
        goto out;
    double e = 0;
    for (int f = 0; f < F; f++) {
        double sum = 0, mag = 0;
        for (int b = 0; b < B; b++)
            for (int q = 0; q < P; q++) sum += z[(b * F + f) * P + q], mag += fabs(z[(b * F + f) * P + q]);
        double d = fabs(res[BOFF + f] - sum) / mag;
        if (!(d <= e)) e = d;
    }
    report(st, e <= 1e-5, "map_bias_grad 3x5x13", e, 1e-5);
    clReleaseMemObject(bcol);
    bcol = NULL;
    if (!(bcol = upload(st, p, BOFF + F, err)) || !(bout = upload(st, z, N, err))) goto out;
    for (size_t a = 0; a < sizeof ACTS / sizeof ACTS[0]; a++)
        for (int cnhw = 1; cnhw >= 0; cnhw--) {
            /* cnhw: z is (F, B, P), the output (B, F, P); else in place on (B, F, P) */
            cl_int crc = clEnqueueWriteBuffer(st->ctx->queue, bout, CL_TRUE, 0, sizeof z, z, 0,
                                              NULL, NULL);
            if (clctx_check(crc, "clEnqueueWriteBuffer", __FILE__, __LINE__, err) ||
                kern_bias_act_map(st->k, cnhw, bx, bout, B, F, P, bcol, BOFF, ACTS[a], err) ||
                download(st, bout, y, N, err))
                goto out;
            for (int b = 0; b < B; b++)
                for (int f = 0; f < F; f++)
                    for (int q = 0; q < P; q++) {
                        double zz = cnhw ? z[(f * B + b) * P + q] : z[(b * F + f) * P + q];
                        wantd[(b * F + f) * P + q] = ref_act(zz + p[BOFF + f], ACTS[a]);
                    }
            char what[64];
            snprintf(what, sizeof what, "bias_act_%s %s", cnhw ? "cnhw" : "nchw", ACT_NAMES[a]);
            double d = max_abs_diff(y, wantd, N);
            report(st, d <= 1e-5, what, d, 1e-5);
        }
    rc = 0;
out:
    if (bx) clReleaseMemObject(bx);
    if (bcol) clReleaseMemObject(bcol);
    if (bout) clReleaseMemObject(bout);
    free(x);
    free(col);
    free(got);
    free(want);
    return rc;
}

/* Each layer of the tiny conv network (tiny_conv_config: conv, conv,
 * dense, dense, deconv, deconv) on the device against its kind's host loops
 * (layer.h's ref) and the activation, in double, from the same input the
 * device layer read: 1e-5 relative to 1 + |value|. */
static int check_map_layers(St *st, Err *err)
{
    enum { BATCH = 3 };
    Config cfg;
    tiny_conv_config(&cfg, MODEL_AE, ACT_TANH, ACT_LINEAR, LOSS_MSE);
    Model m;
    if (model_create(&m, st->ctx, st->k, &cfg, TINY_MAP_INPUT, BATCH, err)) return -1;
    int rc = -1, maxd = m.dims[0];
    for (int l = 0; l < m.n_layers; l++)
        if (m.width[l] > maxd) maxd = m.width[l];
    float *pf = malloc(m.n_params * sizeof *pf), *in = malloc((size_t)BATCH * maxd * sizeof *in);
    float *dev = malloc((size_t)BATCH * maxd * sizeof *dev);
    double *pd = malloc(m.n_params * sizeof *pd), *xin = malloc((size_t)maxd * sizeof *xin);
    double *want = malloc((size_t)BATCH * maxd * sizeof *want);
    cl_mem bx = NULL;
    if (!pf || !in || !dev || !pd || !xin || !want) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    fill(st, in, (size_t)BATCH * m.dims[0], 0, 1);
    fill(st, pf, m.n_params, -0.5, 0.5);
    for (size_t i = 0; i < m.n_params; i++) pd[i] = pf[i];
    if (!(bx = upload(st, in, (size_t)BATCH * m.dims[0], err)) || model_set_params(&m, pf, err) ||
        model_forward(&m, bx, 0, BATCH, err))
        goto out;
    for (int l = 0; l < m.n_layers; l++) {
        /* in = the layer's input as the device had it; dev = its output */
        if (l > 0 && download(st, m.acts[l], in, (size_t)BATCH * m.dims[l], err)) goto out;
        if (download(st, m.acts[l + 1], dev, (size_t)BATCH * m.width[l], err)) goto out;
        const NetLayer *L = &m.layer[l];
        for (int r = 0; r < BATCH; r++) {
            for (int i = 0; i < m.dims[l]; i++) xin[i] = in[(size_t)r * m.dims[l] + i];
            double *z = want + (size_t)r * m.width[l];
            layer_ops(L->kind)->ref(L, m.width[l], pd + m.w_off[l], pd + m.b_off[l], xin, z);
            for (int j = 0; j < m.width[l]; j++) z[j] = ref_act(z[j], m.act[l]);
        }
        double e = 0;
        for (size_t i = 0; i < (size_t)BATCH * m.width[l]; i++) {
            double d = fabs(dev[i] - want[i]) / (1 + fabs(want[i]));
            if (!(d <= e)) e = d;
        }
        char what[96], item[48], a[32], b[32];
        layers_layer_str(L, item, sizeof item);
        layers_shape_str(L->in, a, sizeof a);
        layers_shape_str(L->out, b, sizeof b);
        util_fmt(what, sizeof what, "forward %s %s %s->%s (%s)", layers_kind_name(L->kind), item,
                 a, b, ACT_NAMES[m.act[l]]);
        report(st, e <= 1e-5, what, e, 1e-5);
    }
    rc = 0;
out:
    if (bx) clReleaseMemObject(bx);
    free(pf);
    free(in);
    free(dev);
    free(pd);
    free(xin);
    free(want);
    model_destroy(&m);
    return rc;
}

int selftest_run(ClCtx *ctx, Kernels *k, FILE *out, Err *err)
{
    St st = {.ctx = ctx, .k = k, .out = out};
    rng_seed(&st.rng, 12345);
    fprintf(out, "selftest on %s / %s (%s)\n", ctx->platform_name, ctx->device_name,
            ctx->device_version);
    if (check_activations(&st, err) || check_losses(&st, err) || check_data_kernels(&st, err) ||
        check_rng(&st, err) || check_noise(&st, err) || check_optimizers(&st, err) ||
        check_gemm(&st, err))
        return -1;
    static const Activation HIDDEN[] = {ACT_TANH, ACT_RELU, ACT_SIGMOID, ACT_LEAKY_RELU};
    for (int a = 0; a < 4; a++)
        if (check_dense_gradients(&st, MODEL_AE, HIDDEN[a], ACT_LINEAR, LOSS_MSE, 0, err))
            return -1;
    if (check_dense_gradients(&st, MODEL_AE, ACT_TANH, ACT_SIGMOID, LOSS_MSE, 0, err) ||
        check_dense_gradients(&st, MODEL_AE, ACT_TANH, ACT_SIGMOID, LOSS_BCE, 0, err) ||
        check_weight_decay(&st, err))
        return -1;
    /* the vae: the reparameterisation alone (kl_weight 0), with the KL term,
     * and with the KL term dominating a bce reconstruction */
    if (check_vae_kernels(&st, err) ||
        check_dense_gradients(&st, MODEL_VAE, ACT_TANH, ACT_LINEAR, LOSS_MSE, 0.0, err) ||
        check_dense_gradients(&st, MODEL_VAE, ACT_TANH, ACT_LINEAR, LOSS_MSE, 1.0, err) ||
        check_dense_gradients(&st, MODEL_VAE, ACT_RELU, ACT_SIGMOID, LOSS_BCE, 5.0, err))
        return -1;
    /* conv and deconv: the data-movement kernels and each layer's forward
     * pass against host loops, then the gradients of a tiny conv ae and
     * conv vae through both kinds */
    if (check_conv_kernels(&st, err) || check_map_layers(&st, err) ||
        check_conv_gradients(&st, MODEL_AE, ACT_TANH, ACT_LINEAR, LOSS_MSE, 0, err) ||
        check_conv_gradients(&st, MODEL_AE, ACT_LEAKY_RELU, ACT_SIGMOID, LOSS_BCE, 0, err) ||
        check_conv_gradients(&st, MODEL_VAE, ACT_TANH, ACT_LINEAR, LOSS_MSE, 1.0, err))
        return -1;
    fprintf(out, "%d passed, %d failed\n", st.ran - st.failed, st.failed);
    return st.failed;
}
