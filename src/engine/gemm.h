/* gemm: every matrix product in clae, through CLBlast's SGEMM.
 *
 * Owns: the one temporary buffer that all products share on the in-order
 * queue. Without it CLBlast's indirect GEMM path allocates and frees a
 * temporary on every call (measured: about 5 ms a call at batch 256 on PoCL).
 * Callers first declare every product shape they will run (gemm_reserve),
 * then allocate once (gemm_alloc). Row-major throughout for the callers;
 * what CLBlast sees is the device's tuning's choice (ctx->gemm_layout):
 * the row-major call as it is, or the same product as the column-major
 * C^T = op(B)^T op(A)^T with the operands swapped, which spares CLBlast's
 * indirect kernel (GEMMK 0) a transpose of C and of one operand.
 *
 * Small products (the latent layer's, 2 wide) are routed per shape by the
 * tuning's [routes] (clae tune measures each route): CLBlast's own choice,
 * its direct GEMM kernel (no pad or transpose helpers), its indirect one,
 * or one CLBlastSgemv per row or column of C when M or N is 1 or 2. A
 * tuning without [routes] gets gemm_route_default. Forcing direct or
 * indirect moves CLBlast's XGEMM_MIN_INDIRECT_SIZE for that one call and
 * puts the tuning's back. */
#ifndef CLAE_GEMM_H
#define CLAE_GEMM_H

#include "clctx.h"
#include "prof.h"
#include "util.h"

#define GEMM_MAX_SHAPES 128

/* A product with M, N or K below this is small (the latent layer's, 2
 * wide): `clae bench --breakdown` counts those apart. */
#define GEMM_SMALL_DIM 16

/* Without a [routes] section: products with M or N at most
 * TUNING_GEMV_MAX_DIM go this way, the others ROUTE_CLBLAST. */
#define GEMM_DEFAULT_SMALL_ROUTE ROUTE_GEMV

/* The threshold that sends every product to the direct kernel (its cube
 * still fits a 64-bit size_t). */
#define GEMM_ALWAYS_DIRECT ((size_t)1 << 20)

typedef struct {
    int ta, tb;
    size_t M, N, K;
} GemmShape;

typedef struct {
    cl_mem tmp;       /* CLBlast temporary; owned */
    size_t tmp_bytes; /* the largest size any reserved product needs */
    GemmShape shape[GEMM_MAX_SHAPES]; /* every product reserved, to size tmp again when the
                                         tuning changes (gemm_alloc) */
    int n_shapes;
    ClCtx *ctx;       /* borrowed */
    Prof *prof;       /* borrowed, may be NULL */
    int force;        /* a GemmRoute every product it can run takes (tune, selftest), or -1:
                         the tuning's routes */
} Gemm;

/* Zeroes g and remembers ctx. */
void gemm_init(Gemm *g, ClCtx *ctx);

/* Declares that C(M,N) = op(A) op(B) with the given transposes (ta, tb: 0
 * or 1) and tight leading dimensions will run. */
int gemm_reserve(Gemm *g, int ta, int tb, size_t M, size_t N, size_t K, Err *err);

/* (Re)allocates the temporary buffer for everything reserved so far, sized
 * under the tuning and layout in effect now: call it again after
 * clctx_tune. */
int gemm_alloc(Gemm *g, Err *err);

/* C = alpha op(A) op(B) + beta C, row-major, with element offsets and leading
 * dimensions; op(A) is M x K, op(B) is K x N. `name` labels it in profiles. */
int gemm_run(Gemm *g, const char *name, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
             cl_mem A, size_t a_off, size_t lda, cl_mem B, size_t b_off, size_t ldb, float beta,
             cl_mem C, size_t c_off, size_t ldc, Err *err);

/* The route a product of that shape takes now: g->force where it can run
 * it, else the tuning's [routes], else gemm_route_default. */
GemmRoute gemm_route(const Gemm *g, int ta, int tb, size_t M, size_t N, size_t K);

/* The route of a shape when the tuning has no [routes]. */
GemmRoute gemm_route_default(int ta, int tb, size_t M, size_t N, size_t K);

void gemm_destroy(Gemm *g);

#endif
