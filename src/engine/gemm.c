/* gemm: see gemm.h. */
#include "gemm.h"

#include <clblast_c.h>
#include <string.h>

void gemm_init(Gemm *g, ClCtx *ctx)
{
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
}

static CLBlastTranspose tr(int t) { return t ? CLBlastTransposeYes : CLBlastTransposeNo; }

/* CLBlast's temporary size for one shape under the current layout. */
static int temp_size(Gemm *g, const GemmShape *s, size_t *bytes, Err *err)
{
    size_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N, ldc = s->N;
    *bytes = 0;
    if (g->ctx->gemm_layout == GEMM_COL_MAJOR)
        CL_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, tr(s->tb), tr(s->ta), s->N, s->M,
                                            s->K, 0, ldb, 0, lda, 0, ldc, &g->ctx->queue, bytes));
    else
        CL_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tr(s->ta), tr(s->tb), s->M, s->N,
                                            s->K, 0, lda, 0, ldb, 0, ldc, &g->ctx->queue, bytes));
    return 0;
fail:
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

int gemm_run(Gemm *g, const char *name, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
             cl_mem A, size_t a_off, size_t lda, cl_mem B, size_t b_off, size_t ldb, float beta,
             cl_mem C, size_t c_off, size_t ldc, Err *err)
{
    cl_event *ev = NULL;
    /* CLBlast's indirect path runs pad/transpose kernels before the
     * product and reports the last command only: time the whole span. */
    int small = M < GEMM_SMALL_DIM || N < GEMM_SMALL_DIM || K < GEMM_SMALL_DIM;
    if (prof_span(g->prof, g->ctx->queue, name, small ? 2 : 1,
                  2.0 * (double)M * (double)N * (double)K, &ev, err))
        return -1;
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
    return 0;
fail:
    return err_prefix(err, "%s (M=%zu N=%zu K=%zu)", name, M, N, K);
}

void gemm_destroy(Gemm *g)
{
    if (!g) return;
    if (g->tmp) clReleaseMemObject(g->tmp);
    g->tmp = NULL;
}
