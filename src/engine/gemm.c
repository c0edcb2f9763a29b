/* gemm: see gemm.h. */
#include "gemm.h"

#include <clblast_c.h>
#include <string.h>

void gemm_init(Gemm *g, ClCtx *ctx)
{
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    g->force = -1;
}

static CLBlastTranspose tr(int t) { return t ? CLBlastTransposeYes : CLBlastTransposeNo; }

static const char *MIN_INDIRECT[1] = {"XGEMM_MIN_INDIRECT_SIZE"};

/* CLBlast's GemmRoutine threshold to v (it goes direct when M*N*K < v^3).
 * CLBlast keeps one compiled program per parameter set, so the values clae
 * switches between are compiled once each. */
static int set_threshold(Gemm *g, size_t v, Err *err)
{
    CL_CHECK(CLBlastOverrideParameters(g->ctx->device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                       MIN_INDIRECT, &v));
    return 0;
fail:
    return -1;
}

/* The threshold a product of this shape must run under for its route: 0
 * when the tuning's is right (or unknown), else the one that forces it. */
static size_t forced_threshold(const Gemm *g, GemmRoute route, size_t M, size_t N, size_t K,
                               int *forced)
{
    *forced = 0;
    if ((route != ROUTE_DIRECT && route != ROUTE_INDIRECT) || !g->ctx->gemm_has_min_indirect)
        return 0;
    double t = (double)g->ctx->gemm_min_indirect;
    int direct_now = (double)M * (double)N * (double)K < t * t * t;
    if (route == ROUTE_DIRECT && !direct_now) *forced = 1;
    if (route == ROUTE_INDIRECT && direct_now) *forced = 1;
    return route == ROUTE_DIRECT ? GEMM_ALWAYS_DIRECT : 0;
}

/* CLBlast's temporary size for one shape under the current layout and its
 * route (none for gemv and direct). */
static int temp_size(Gemm *g, const GemmShape *s, size_t *bytes, Err *err)
{
    size_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N, ldc = s->N;
    *bytes = 0;
    GemmRoute route = gemm_route(g, s->ta, s->tb, s->M, s->N, s->K);
    if (route == ROUTE_GEMV) return 0;
    int forced = 0;
    size_t thr = forced_threshold(g, route, s->M, s->N, s->K, &forced);
    if (forced && set_threshold(g, thr, err)) goto fail;
    if (g->ctx->gemm_layout == GEMM_COL_MAJOR)
        CL_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, tr(s->tb), tr(s->ta), s->N, s->M,
                                            s->K, 0, ldb, 0, lda, 0, ldc, &g->ctx->queue, bytes));
    else
        CL_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tr(s->ta), tr(s->tb), s->M, s->N,
                                            s->K, 0, lda, 0, ldb, 0, ldc, &g->ctx->queue, bytes));
    if (forced && set_threshold(g, g->ctx->gemm_min_indirect, err)) goto fail;
    return 0;
fail:
    if (forced) {
        Err ignored = {{0}};
        (void)set_threshold(g, g->ctx->gemm_min_indirect, &ignored);
    }
    return err_prefix(err, "sizing GEMM %zux%zux%zu", s->M, s->N, s->K);
}

int gemm_reserve(Gemm *g, int ta, int tb, size_t M, size_t N, size_t K, Err *err)
{
    GemmShape s = {ta, tb, M, N, K};
    for (int i = 0; i < g->n_shapes; i++)
        if (!memcmp(&g->shape[i], &s, sizeof s)) return 0;
    if (g->n_shapes == GEMM_MAX_SHAPES)
        return err_set(err, "more than %d GEMM shapes reserved", GEMM_MAX_SHAPES);
    g->shape[g->n_shapes++] = s;
    return 0;
}

int gemm_alloc(Gemm *g, Err *err)
{
    g->tmp_bytes = 0;
    for (int i = 0; i < g->n_shapes; i++) {
        size_t bytes = 0;
        if (temp_size(g, &g->shape[i], &bytes, err)) return -1;
        if (bytes > g->tmp_bytes) g->tmp_bytes = bytes;
    }
    cl_int rc = CL_SUCCESS;
    /* The direct path needs no temporary at all, but a buffer must exist. */
    size_t bytes = g->tmp_bytes ? g->tmp_bytes : 16;
    if (g->tmp) clReleaseMemObject(g->tmp);
    g->tmp = clCreateBuffer(g->ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    CL_CHECK(rc);
    return 0;
fail:
    g->tmp = NULL;
    return err_prefix(err, "GEMM temporary buffer of %zu bytes", bytes);
}

GemmRoute gemm_route(const Gemm *g, int ta, int tb, size_t M, size_t N, size_t K)
{
    const ClCtx *c = g->ctx;
    GemmRoute r = c->gemm_n_routes
                      ? tuning_route_of(c->gemm_route, c->gemm_n_routes, ta, tb, M, N, K)
                      : gemm_route_default(ta, tb, M, N, K);
    if (g->force >= 0 && tuning_route_check(ta, tb, M, N, K, (GemmRoute)g->force, NULL) == 0)
        r = (GemmRoute)g->force;
    return r;
}

GemmRoute gemm_route_default(int ta, int tb, size_t M, size_t N, size_t K)
{
    (void)ta, (void)tb, (void)K;
    return M <= TUNING_GEMV_MAX_DIM || N <= TUNING_GEMV_MAX_DIM ? GEMM_DEFAULT_SMALL_ROUTE
                                                                : ROUTE_CLBLAST;
}

/* One CLBlastSgemv per column of C (N small) or per row (M small), row-major
 * as the caller's; only the last one carries the profiling event. */
static int run_gemv(Gemm *g, int ta, int tb, size_t M, size_t N, size_t K, float alpha, cl_mem A,
                    size_t a_off, size_t lda, cl_mem B, size_t b_off, size_t ldb, float beta,
                    cl_mem C, size_t c_off, size_t ldc, cl_event *ev, Err *err)
{
    cl_command_queue *q = &g->ctx->queue;
    if (beta == 0.0f) {
        /* BLAS's beta = 0 ignores C, but CLBlast's GEMV computes 0 * C,
         * which is NaN where C holds NaN or garbage: zero C first. */
        const float zero = 0.0f;
        if (ldc == N)
            CL_CHECK(clEnqueueFillBuffer(*q, C, &zero, sizeof zero, c_off * sizeof zero,
                                         M * N * sizeof zero, 0, NULL, NULL));
        else
            for (size_t i = 0; i < M; i++)
                CL_CHECK(clEnqueueFillBuffer(*q, C, &zero, sizeof zero,
                                             (c_off + i * ldc) * sizeof zero, N * sizeof zero, 0,
                                             NULL, NULL));
    }
    int by_col = N <= TUNING_GEMV_MAX_DIM && (N <= M || M > TUNING_GEMV_MAX_DIM);
    if (by_col) {
        /* C[:, j] = alpha op(A) op(B)[:, j] + beta C[:, j] */
        for (size_t j = 0; j < N; j++) {
            size_t xo = tb ? b_off + j * ldb : b_off + j, xi = tb ? 1 : ldb;
            CL_CHECK(CLBlastSgemv(CLBlastLayoutRowMajor, tr(ta), ta ? K : M, ta ? M : K, alpha, A,
                                  a_off, lda, B, xo, xi, beta, C, c_off + j, ldc, q,
                                  j + 1 == N ? ev : NULL));
        }
    } else {
        /* C[i, :] = alpha op(B)^T op(A)[i, :] + beta C[i, :] */
        for (size_t i = 0; i < M; i++) {
            size_t xo = ta ? a_off + i : a_off + i * lda, xi = ta ? lda : 1;
            CL_CHECK(CLBlastSgemv(CLBlastLayoutRowMajor, tr(!tb), tb ? N : K, tb ? K : N, alpha, B,
                                  b_off, ldb, A, xo, xi, beta, C, c_off + i * ldc, 1, q,
                                  i + 1 == M ? ev : NULL));
        }
    }
    return 0;
fail:
    return -1;
}

int gemm_run(Gemm *g, const char *name, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
             cl_mem A, size_t a_off, size_t lda, cl_mem B, size_t b_off, size_t ldb, float beta,
             cl_mem C, size_t c_off, size_t ldc, Err *err)
{
    cl_event *ev = NULL;
    /* CLBlast's indirect path runs pad/transpose kernels before the
     * product and reports the last command only: time the whole span. */
    int small = M < GEMM_SMALL_DIM || N < GEMM_SMALL_DIM || K < GEMM_SMALL_DIM;
    int forced = 0;
    if (prof_span(g->prof, g->ctx->queue, name, small ? 2 : 1,
                  2.0 * (double)M * (double)N * (double)K, &ev, err))
        return -1;
    GemmRoute route = gemm_route(g, ta, tb, M, N, K);
    if (route == ROUTE_GEMV) {
        if (run_gemv(g, ta, tb, M, N, K, alpha, A, a_off, lda, B, b_off, ldb, beta, C, c_off, ldc,
                     ev, err))
            goto fail;
        return 0;
    }
    size_t thr = forced_threshold(g, route, M, N, K, &forced);
    if (forced && set_threshold(g, thr, err)) goto fail;
    if (g->ctx->gemm_layout == GEMM_COL_MAJOR) {
        /* Row-major C (M x N) is column-major C^T (N x M) = op(B)^T op(A)^T:
         * a row-major matrix with leading dimension ld is its transpose in
         * column-major with the same ld. */
        CL_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutColMajor, tr(tb), tr(ta), N, M, K, alpha,
                                            B, b_off, ldb, A, a_off, lda, beta, C, c_off, ldc,
                                            &g->ctx->queue, ev, g->tmp));
    } else {
        CL_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, tr(ta), tr(tb), M, N, K, alpha,
                                            A, a_off, lda, B, b_off, ldb, beta, C, c_off, ldc,
                                            &g->ctx->queue, ev, g->tmp));
    }
    if (forced && set_threshold(g, g->ctx->gemm_min_indirect, err)) goto fail;
    return 0;
fail:
    if (forced) {
        Err ignored = {{0}};
        (void)set_threshold(g, g->ctx->gemm_min_indirect, &ignored);
    }
    return err_prefix(err, "%s (M=%zu N=%zu K=%zu, route %s)", name, M, N, K,
                      tuning_route_name(route));
}

void gemm_destroy(Gemm *g)
{
    if (!g) return;
    if (g->tmp) clReleaseMemObject(g->tmp);
    g->tmp = NULL;
}
