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

static int check_activations(St *st, Err *err)
{
    enum { R = 7, C = 13 };
    float y[R * C], p[C + 3], d[R * C], res[R * C];
    double want[R * C];
    cl_mem by = NULL, bp = NULL;
    int rc = -1;
    for (size_t a = 0; a < sizeof ACTS / sizeof ACTS[0]; a++) {
        fill(st, y, R * C, -3, 3);
        fill(st, p, C + 3, -1, 1);
        if (!(by = upload(st, y, R * C, err)) || !(bp = upload(st, p, C + 3, err))) goto out;
        /* bias at offset 3 exercises the offset argument */
        if (kern_bias_act(st->k, by, R, C, bp, 3, ACTS[a], err) || download(st, by, res, R * C, err))
            goto out;
        for (int i = 0; i < R * C; i++) want[i] = ref_act((double)y[i] + p[3 + i % C], ACTS[a]);
        char what[64];
        snprintf(what, sizeof what, "bias_act %s", ACT_NAMES[a]);
        double e = max_abs_diff(res, want, R * C);
        report(st, e <= 1e-5, what, e, 1e-5);

        /* act_backward from the layer's output res */
        fill(st, d, R * C, -1, 1);
        clReleaseMemObject(bp);
        if (!(bp = upload(st, d, R * C, err))) goto out;
        if (kern_act_backward(st->k, bp, by, R * C, ACTS[a], err) || download(st, bp, y, R * C, err))
            goto out;
        for (int i = 0; i < R * C; i++) want[i] = d[i] * ref_act_deriv_from_output(res[i], ACTS[a]);
        snprintf(what, sizeof what, "act_backward %s", ACT_NAMES[a]);
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
    /* column sums of the gathered block, written at an offset */
    if (kern_col_sum(st->k, bdst, B, COLS, bsum, OFF, err) ||
        download(st, bsum, sums, OFF + COLS, err))
        goto out;
    for (int c = 0; c < COLS; c++) {
        double s = 0;
        for (int r = 0; r < B; r++) s += dst[r * COLS + c];
        want[c] = s;
    }
    e = max_abs_diff(sums + OFF, want, COLS);
    report(st, e <= 1e-5, "col_sum", e, 1e-5);
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
    float *got = calloc(N, sizeof *got); /* uploaded before the kernel fills it */
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

static int check_optimizers(St *st, Err *err)
{
    enum { N = 1000, STEPS = 3 };
    static const Optimizer KINDS[] = {OPT_ADAM, OPT_SGD, OPT_MOMENTUM};
    static const char *const NAMES[] = {"adam_step", "sgd_step", "momentum_step"};
    float p[N], g[N], res[N];
    double hp[N], hm[N], hv[N];
    cl_mem bp = NULL, bg = NULL;
    Optim o;
    memset(&o, 0, sizeof o);
    int rc = -1;
    for (int kind = 0; kind < 3; kind++) {
        Config cfg;
        config_defaults(&cfg);
        cfg.optimizer = KINDS[kind];
        cfg.learning_rate = 1e-2;
        fill(st, p, N, -1, 1);
        for (int i = 0; i < N; i++) hp[i] = p[i], hm[i] = hv[i] = 0;
        if (!(bp = upload(st, p, N, err)) || !(bg = upload(st, p, N, err)) ||
            optim_create(&o, st->ctx, st->k, &cfg, N, err))
            goto out;
        for (int t = 1; t <= STEPS; t++) {
            fill(st, g, N, -1, 1);
            cl_int crc = clEnqueueWriteBuffer(st->ctx->queue, bg, CL_TRUE, 0, sizeof g, g, 0, NULL,
                                              NULL);
            if (clctx_check(crc, "clEnqueueWriteBuffer", __FILE__, __LINE__, err)) goto out;
            if (optim_step(&o, bp, bg, err)) goto out;
            for (int i = 0; i < N; i++) {
                double lr = cfg.learning_rate;
                if (KINDS[kind] == OPT_ADAM) {
                    hm[i] = cfg.beta1 * hm[i] + (1 - cfg.beta1) * g[i];
                    hv[i] = cfg.beta2 * hv[i] + (1 - cfg.beta2) * (double)g[i] * g[i];
                    double mh = hm[i] / (1 - pow(cfg.beta1, t)), vh = hv[i] / (1 - pow(cfg.beta2, t));
                    hp[i] -= lr * mh / (sqrt(vh) + cfg.epsilon);
                } else if (KINDS[kind] == OPT_SGD) {
                    hp[i] -= lr * g[i];
                } else {
                    hm[i] = cfg.momentum * hm[i] + g[i];
                    hp[i] -= lr * hm[i];
                }
            }
        }
        if (download(st, bp, res, N, err)) goto out;
        char what[64];
        snprintf(what, sizeof what, "%s (%d steps)", NAMES[kind], STEPS);
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

static int check_gemm(St *st, Err *err)
{
    /* Odd sizes (no tile multiple), offsets, alpha and beta; then the
     * largest shape training uses. */
    static const int SHAPES[2][3] = {{37, 23, 51}, {50, 500, 784}};
    int rc = -1;
    Gemm g;
    gemm_init(&g, st->ctx);
    g.prof = st->k->prof;
    for (int s = 0; s < 2; s++) {
        int M = SHAPES[s][0], N = SHAPES[s][1], K = SHAPES[s][2];
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
            memcpy(Cw, C, nc * sizeof *C);
            float alpha = 0.75f, beta = s == 0 ? 0.5f : 0.0f;
            ref_gemm(ta, tb, M, N, K, alpha, A + OA, lda, Bm + OB, ldb, beta, Cw + OC, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double m = fabs(beta * C[OC + (size_t)i * N + j]);
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
                char what[64];
                snprintf(what, sizeof what, "CLBlastSgemm %c%c %dx%dx%d", ta ? 'T' : 'N',
                         tb ? 'T' : 'N', M, N, K);
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
    rc = 0;
out:
    gemm_destroy(&g);
    return rc;
}

/* Device backward vs central differences of the double host forward pass,
 * for every parameter tensor of a tiny 6-5-3-5-6 network. */
static int check_gradients(St *st, Activation act, Activation output, Loss loss, Err *err)
{
    enum { BATCH = 4, D = 6 };
    Config cfg;
    config_defaults(&cfg);
    cfg.n_encoder = 1;
    cfg.encoder[0] = 5;
    cfg.latent = 3;
    cfg.n_decoder = 1;
    cfg.decoder[0] = 5;
    cfg.activation = act;
    cfg.output = output;
    cfg.loss = loss;
    Model m;
    float x[BATCH * D];
    float *pf = NULL, *grad = NULL;
    double *pd = NULL;
    cl_mem sums = NULL, bx = NULL;
    int rc = -1;
    if (model_create(&m, st->ctx, st->k, &cfg, D, BATCH, err)) return -1;
    pf = malloc(m.n_params * sizeof *pf);
    grad = malloc(m.n_params * sizeof *grad);
    pd = malloc(m.n_params * sizeof *pd);
    if (!pf || !grad || !pd) {
        err_set(err, "selftest: out of memory");
        goto out;
    }
    fill(st, x, BATCH * D, 0.05, 0.95);
    fill(st, pf, m.n_params, -0.8, 0.8);
    float zero[1] = {0};
    if (!(sums = upload(st, zero, 1, err)) || !(bx = upload(st, x, BATCH * D, err)) ||
        model_set_params(&m, pf, err) || model_forward(&m, bx, 0, BATCH, err) ||
        model_loss(&m, bx, 0, BATCH, 1, sums, 0, err) || model_backward(&m, bx, 0, BATCH, err) ||
        model_get_grads(&m, grad, err))
        goto out;
    for (size_t i = 0; i < m.n_params; i++) pd[i] = pf[i];
    const double h = 1e-5;
    for (int l = 0; l < m.n_layers; l++) {
        for (int tensor = 0; tensor < 2; tensor++) {
            size_t off = tensor ? m.b_off[l] : m.w_off[l];
            size_t n = tensor ? (size_t)m.dims[l + 1] : (size_t)m.dims[l] * (size_t)m.dims[l + 1];
            double num2 = 0, den2 = 0;
            for (size_t i = off; i < off + n; i++) {
                double keep = pd[i];
                pd[i] = keep + h;
                double lp = ref_forward_loss(&m, pd, x, BATCH, NULL);
                pd[i] = keep - h;
                double lm = ref_forward_loss(&m, pd, x, BATCH, NULL);
                pd[i] = keep;
                double fd = (lp - lm) / (2 * h);
                num2 += (grad[i] - fd) * (grad[i] - fd);
                den2 += fd * fd + (double)grad[i] * grad[i];
            }
            double e = sqrt(num2) / (sqrt(den2) + 1e-12);
            char what[80];
            snprintf(what, sizeof what, "gradient %s/%s/%s %c%d (%d->%d)", ACT_NAMES[act],
                     ACT_NAMES[output], config_loss_name(loss), tensor ? 'b' : 'W', l, m.dims[l],
                     m.dims[l + 1]);
            report(st, e <= 1e-3, what, e, 1e-3);
        }
    }
    rc = 0;
out:
    if (sums) clReleaseMemObject(sums);
    if (bx) clReleaseMemObject(bx);
    free(pf);
    free(grad);
    free(pd);
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
        check_rng(&st, err) || check_optimizers(&st, err) || check_gemm(&st, err))
        return -1;
    static const Activation HIDDEN[] = {ACT_TANH, ACT_RELU, ACT_SIGMOID, ACT_LEAKY_RELU};
    for (int a = 0; a < 4; a++)
        if (check_gradients(&st, HIDDEN[a], ACT_LINEAR, LOSS_MSE, err)) return -1;
    if (check_gradients(&st, ACT_TANH, ACT_SIGMOID, LOSS_MSE, err) ||
        check_gradients(&st, ACT_TANH, ACT_SIGMOID, LOSS_BCE, err))
        return -1;
    fprintf(out, "%d passed, %d failed\n", st.ran - st.failed, st.failed);
    return st.failed;
}
