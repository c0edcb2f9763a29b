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

int gemm_reserve(Gemm *g, int ta, int tb, size_t M, size_t N, size_t K, Err *err)
{
    size_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
    size_t bytes = 0;
    CL_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tr(ta), tr(tb), M, N, K, 0, lda, 0,
                                        ldb, 0, ldc, &g->ctx->queue, &bytes));
    if (bytes > g->tmp_bytes) g->tmp_bytes = bytes;
    return 0;
fail:
    return err_prefix(err, "sizing GEMM %zux%zux%zu", M, N, K);
}

int gemm_alloc(Gemm *g, Err *err)
{
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
    if (prof_slot(g->prof, name, 1, &ev, err)) return -1;
    CL_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, tr(ta), tr(tb), M, N, K, alpha, A,
                                        a_off, lda, B, b_off, ldb, beta, C, c_off, ldc,
                                        &g->ctx->queue, ev, g->tmp));
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
