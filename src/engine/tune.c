/* tune: see tune.h.
 *
 * The search, in phases, each within the budget:
 *   0. the baseline: CLBlast's own parameters, nothing overridden;
 *   1. seeds: complete parameter sets known to be good somewhere (CLBlast's
 *      defaults, its vendor defaults, sets measured on PoCL CPUs), the
 *      device type's own first;
 *   2. the direct/indirect threshold: values that send the step's smallest
 *      products to the direct kernel, or none;
 *   3. pattern search on Xgemm (and on XgemmDirect when the threshold sends
 *      products to it): one parameter one step at a time through CLBlast's
 *      tuner values, repeating a move that paid, the parameters that matter
 *      most on the device first; a move CLBlast's constraints rule out is
 *      repaired by a step of one coupled parameter;
 *   4. the helper kernels (pad, transpose, copy) the same way.
 * A set is evaluated once (a hash of its values), in both layouts (the
 * layout needs no recompile).
 * Candidates go in batches, one per compile process (tunepool.h): the
 * processes build the batch together (PoCL's compiler is single-threaded,
 * so two cores build two), then this process checks and measures each
 * while nothing compiles, its builds hits in PoCL's kernel cache. The
 * pattern search's batch is the next neighbours of the best in its order,
 * as if none improved; when one does, the search goes on from it. Sets that break CLBlast's rules or the
 * device's limits are never compiled; sets that fail to compile or give
 * wrong products are skipped and counted. */
#define _POSIX_C_SOURCE 200809L
#include "tune.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clctx.h"
#include "exitcode.h"
#include "gemm.h"
#include "data.h"
#include "layer.h"
#include "model.h"
#include "rng.h"
#include "trainer.h"
#include "tunepool.h"
#include "tuning.h"

#define MAX_SHAPES (2 * 3 * MODEL_MAX_LAYERS) /* a step's products, at two batch sizes */
#define MAX_TRIED 4096
#define IMPROVE 0.01 /* a move must gain 1 % to count: below that is noise */
/* Candidates a batch holds per compile process. One: measured on the
 * 2-core machine, two a process (less idle time at a batch's end) gave no
 * more sets a minute, and a longer batch guesses further from the best. */
#ifndef BATCH_PER_JOB
#define BATCH_PER_JOB 1
#endif
#define BATCH_MAX (BATCH_PER_JOB * TUNEPOOL_MAX)
/* The finals: the best FINALISTS by the objective, and what the device ran
 * before, each trains FINAL_ROUNDS times for about FINAL_SECONDS. */
#define FINALISTS 3
#define FINAL_ROUNDS 3
#define FINAL_SECONDS 1.0

typedef struct {
    GemmShape s;
    int partial;       /* belongs to the epoch's last, partial batch */
    char label[64];    /* "fwd 784->500 B=50", "fwd conv 1x28x28->16x14x14 B=50" */
    cl_mem c;          /* (M, N) device result; owned */
    float *ref;        /* (M, N) host result, double accumulation; owned */
    float *tol;        /* (M, N) allowed |error|; owned */
} TShape;

/* What one parameter set gave. */
typedef struct {
    int status;          /* 0 ok, 1 ruled out, 2 failed to compile or run, 3 wrong results */
    double ms[2];        /* objective per layout (row, col), ms per step; INFINITY if none */
    char why[256];       /* for status 1..3 */
} Eval;

typedef struct {
    Tuning t;            /* the set, every kernel section present */
    double ms;           /* its objective in its best layout */
    char what[120];      /* how the search found it, for the finals' lines */
} Point;

typedef struct {
    ClCtx ctx;
    Gemm gemm;
    cl_mem a, b;                 /* inputs, large enough for every shape's op(A), op(B) */
    float *ha, *hb;              /* the same on the host */
    TShape sh[MAX_SHAPES];
    int n, n_full;               /* sh[0..n_full) the full step, sh[n_full..n) the partial */
    int steps;                   /* steps per epoch */
    int batch, last;             /* batch size and the last batch's rows */
    double t_start, budget;
    int tried, ruled_out, failed, wrong;
    uint64_t seen[MAX_TRIED];
    int n_seen;
    Point best;
    Point top[FINALISTS];        /* the best sets by the objective, fastest first */
    int n_top;
    uint64_t current_hash;       /* the set the device ran before the search (0: none) */
    Point current;               /* ... and what it gave, once evaluated (ms finite) */
    char finals_note[512];       /* what the finals kept, for the file's comments */
    double default_ms;           /* the baseline; INFINITY when CLBlast's own fail here */
    char first_failure[256];     /* why the first failed or wrong set was, for the summary */
    int tty, quiet;
    const char *phase;
    TunePool pool;               /* compile processes; pool.n == 0 when building here */
} Tuner;

/* One candidate of a batch, and what it gave. */
typedef struct {
    Tuning t;
    char what[120];
    int q;         /* climb: the move it makes (dimension * 2 + direction) */
    int improved;  /* it beat the best before its batch by more than IMPROVE */
    double ms;     /* its objective; INFINITY if none */
} Cand;

/* Ctrl-C: the one piece of process-wide state, since a handler reaches
 * nothing else; read between evaluations. */
static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- CLBlast's starting points --------------------------------------------- */

/* Complete parameter sets in tuning_kernel() order: GemmRoutine, Xgemm,
 * XgemmDirect, Copy, Pad, Transpose, Padtranspose. The CLBlast rows are
 * CLBlast 1.5.3's own database defaults (src/database/kernels). */
typedef struct {
    const char *name;
    int type;                       /* 0 any, 1 CPU, 2 GPU: tried first on that type */
    const char *vendor;             /* tried first when CL_DEVICE_VENDOR holds it, or NULL */
    size_t v[TK_COUNT][TUNING_MAX_PARAMS];
} Seed;

#define HELPERS_DEFAULT {16, 16, 4, 2}, {32, 8, 2, 1}, {8, 0, 1, 4}, {0, 8, 4}
#define DIRECT_DEFAULT {2, 8, 8, 8, 8, 1, 1, 1, 1, 16}
static const Seed SEEDS[] = {
    /* Measured on PoCL's CPU device: the indirect kernel everywhere, 64 x 64
     * tiles, 8-wide vectors, no local memory (the starting point). */
    {"pocl-cpu-64x64-vw8", 1, NULL,
     {{0}, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}, DIRECT_DEFAULT, HELPERS_DEFAULT}},
    {"pocl-cpu-64x64-vw4", 1, NULL,
     {{0}, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}, DIRECT_DEFAULT, HELPERS_DEFAULT}},
    {"clblast-cpu-intel-indirect", 1, NULL,
     {{0}, {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}, {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
      {32, 16, 8, 2}, {32, 8, 4, 2}, {4, 0, 0, 8}, {0, 8, 4}}},
    /* The 2-D register-tiling kernel (GEMMK 1) of CLBlast's i9-9980HK entry. */
    {"clblast-cpu-gemmk1", 1, NULL,
     {{0}, {1, 2, 1, 1, 16, 16, 64, 4, 4, 64, 0, 0, 0, 0, 1, 1}, DIRECT_DEFAULT, HELPERS_DEFAULT}},
    {"clblast-gpu-nvidia", 2, "NVIDIA",
     {{768}, {0, 1, 32, 2, 8, 8, 32, 32, 32, 64, 0, 0, 0, 0, 1, 2}, {2, 16, 8, 32, 16, 1, 1, 1, 1, 32},
      {16, 8, 4, 1}, {32, 8, 4, 1}, {16, 1, 1, 2}, {1, 16, 2}}},
    {"clblast-gpu-amd", 2, "Advanced Micro Devices",
     {{320}, {0, 1, 32, 2, 8, 8, 16, 16, 16, 64, 1, 1, 0, 0, 1, 2}, {2, 8, 8, 32, 32, 1, 1, 2, 1, 32},
      {8, 8, 4, 8}, {32, 8, 2, 2}, {16, 0, 1, 4}, {1, 8, 4}}},
    {"clblast-gpu-intel", 2, "Intel",
     {{128}, {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 1, 1, 0, 0, 4, 4}, {2, 8, 8, 8, 8, 1, 1, 1, 1, 8},
      {8, 8, 2, 1}, {32, 8, 4, 2}, {16, 0, 0, 4}, {1, 16, 2}}},
    {"clblast-default", 0, NULL,
     {{896}, {0, 1, 32, 2, 8, 8, 32, 16, 16, 32, 1, 1, 0, 0, 4, 2}, DIRECT_DEFAULT, HELPERS_DEFAULT}},
    {"clblast-default-indirect", 0, NULL,
     {{0}, {0, 1, 32, 2, 8, 8, 32, 16, 16, 32, 1, 1, 0, 0, 4, 2}, DIRECT_DEFAULT, HELPERS_DEFAULT}},
};
#define N_SEEDS (sizeof SEEDS / sizeof SEEDS[0])

/* The values CLBlast's tuners try for each parameter (their widest
 * variant), which is where the search steps. */
typedef struct {
    int k;
    const char *name;
    size_t dom[8];
    int n;
} Dim;

static const Dim DIMS_XGEMM0[] = {
    {TK_XGEMM, "VWM", {1, 2, 4, 8}, 4},     {TK_XGEMM, "VWN", {1, 2, 4, 8}, 4},
    {TK_XGEMM, "MWG", {16, 32, 64, 128}, 4}, {TK_XGEMM, "NWG", {16, 32, 64, 128}, 4},
    {TK_XGEMM, "MDIMC", {8, 16, 32}, 3},    {TK_XGEMM, "NDIMC", {8, 16, 32}, 3},
    {TK_XGEMM, "KWG", {16, 32}, 2},         {TK_XGEMM, "KWI", {1, 2, 8}, 3},
    {TK_XGEMM, "STRM", {0, 1}, 2},          {TK_XGEMM, "STRN", {0, 1}, 2},
    {TK_XGEMM, "SA", {0, 1}, 2},            {TK_XGEMM, "SB", {0, 1}, 2},
    {TK_XGEMM, "MDIMA", {8, 16, 32}, 3},    {TK_XGEMM, "NDIMB", {8, 16, 32}, 3},
};
static const Dim DIMS_XGEMM1[] = {
    {TK_XGEMM, "VWM", {1, 2, 4, 8}, 4},          {TK_XGEMM, "VWN", {1, 2, 4, 8}, 4},
    {TK_XGEMM, "MWG", {8, 16, 32, 64, 128}, 5},  {TK_XGEMM, "NWG", {8, 16, 32, 64, 128}, 5},
    {TK_XGEMM, "MDIMC", {2, 4, 8, 16, 32}, 5},   {TK_XGEMM, "NDIMC", {2, 4, 8, 16, 32}, 5},
    {TK_XGEMM, "KREG", {1, 2, 4, 8, 16}, 5},
};
static const Dim DIMS_DIRECT[] = {
    {TK_XGEMM_DIRECT, "VWMD", {1, 2, 4, 8}, 4},   {TK_XGEMM_DIRECT, "VWND", {1, 2, 4, 8}, 4},
    {TK_XGEMM_DIRECT, "WGD", {8, 16, 32, 64}, 4}, {TK_XGEMM_DIRECT, "MDIMCD", {8, 16, 32}, 3},
    {TK_XGEMM_DIRECT, "NDIMCD", {8, 16, 32}, 3},  {TK_XGEMM_DIRECT, "KWID", {2, 8, 16}, 3},
    {TK_XGEMM_DIRECT, "PADA", {0, 1}, 2},         {TK_XGEMM_DIRECT, "PADB", {0, 1}, 2},
    {TK_XGEMM_DIRECT, "MDIMAD", {8, 16, 32}, 3},  {TK_XGEMM_DIRECT, "NDIMBD", {8, 16, 32}, 3},
};
static const Dim DIMS_HELPERS[] = {
    {TK_PADTRANSPOSE, "PADTRA_TILE", {8, 16, 32, 64}, 4},
    {TK_PADTRANSPOSE, "PADTRA_WPT", {1, 2, 4, 8, 16}, 5},
    {TK_PAD, "PAD_DIMX", {8, 16, 32}, 3},
    {TK_PAD, "PAD_WPTX", {1, 2, 4}, 3},
    {TK_PAD, "PAD_DIMY", {8, 16, 32}, 3},
    {TK_PAD, "PAD_WPTY", {1, 2, 4}, 3},
    {TK_TRANSPOSE, "TRA_DIM", {4, 8, 16, 32, 64}, 5},
    {TK_TRANSPOSE, "TRA_WPT", {1, 2, 4, 8, 16}, 5},
    {TK_COPY, "COPY_VW", {1, 2, 4, 8}, 4},
    {TK_COPY, "COPY_WPT", {1, 2, 4, 8}, 4},
    {TK_PADTRANSPOSE, "PADTRA_PAD", {0, 1}, 2},
    {TK_TRANSPOSE, "TRA_PAD", {0, 1}, 2},
    {TK_TRANSPOSE, "TRA_SHUFFLE", {0, 1}, 2},
};
#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

static int pidx(int k, const char *name)
{
    const TuningKernelInfo *ki = tuning_kernel(k);
    for (int i = 0; i < ki->n_params; i++)
        if (strcmp(ki->params[i], name) == 0) return i;
    return -1;
}

static size_t *slot(Tuning *t, int k, const char *name) { return &t->value[k][pidx(k, name)]; }

/* ---- progress ---------------------------------------------------------------- */

static double elapsed(const Tuner *tu) { return util_now() - tu->t_start; }
static int time_left(const Tuner *tu) { return !stop_requested && elapsed(tu) < tu->budget; }

static void progress(Tuner *tu, const char *what, const Eval *e)
{
    if (tu->quiet) return;
    double left = tu->budget - elapsed(tu);
    if (left < 0) left = 0;
    char res[96];
    if (e->status == 0)
        snprintf(res, sizeof res, "%.3f ms/step (%s)", isfinite(e->ms[0]) ? e->ms[0] : e->ms[1],
                 isfinite(e->ms[0]) ? "row" : "col");
    else
        util_fmt(res, sizeof res, "%s", e->why);
    char best[96] = "none yet";
    if (isfinite(tu->best.ms) && isfinite(tu->default_ms))
        snprintf(best, sizeof best, "%.3f ms/step (%.2fx default)", tu->best.ms,
                 tu->default_ms / tu->best.ms);
    else if (isfinite(tu->best.ms))
        snprintf(best, sizeof best, "%.3f ms/step", tu->best.ms);
    if (tu->tty)
        fprintf(stderr, "\r\033[Ktune: %d tried (%d failed, %d wrong) | best %s | %.0f s left",
                tu->tried, tu->failed, tu->wrong, best, left);
    else
        fprintf(stderr, "tune: #%d %s [%s]: %s | best %s | %.0f s left\n", tu->tried, what,
                tu->phase, res, best, left);
    fflush(stderr);
}

/* ---- the products and their references ------------------------------------- */

static void add_shape(Tuner *tu, const GemmShape *g, int partial, const char *kind,
                      const char *desc)
{
    TShape *s = &tu->sh[tu->n++];
    memset(s, 0, sizeof *s);
    s->s = *g;
    s->partial = partial;
    util_fmt(s->label, sizeof s->label, "%s %s B=%d", kind, desc, partial ? tu->last : tu->batch);
}

/* The step's products in the order training issues them (model.c, and
 * each layer's kind in layer.h): every forward product, then from the last
 * layer down its dW and, but for the first layer, its dX. */
static void step_shapes(Tuner *tu, const Model *m, int B, int partial)
{
    static const char *const WHAT[LAYER_PRODUCTS] = {"fwd", "dW ", "dX "};
    GemmShape g[MODEL_MAX_LAYERS][LAYER_PRODUCTS];
    char desc[MODEL_MAX_LAYERS][40];
    for (int l = 0; l < m->n_layers; l++) {
        layer_ops(m->layer[l].kind)->products(&m->layer[l], m->width[l], (size_t)B, g[l]);
        if (m->layer[l].kind == LAYER_DENSE) {
            util_fmt(desc[l], sizeof desc[l], "%d->%d", m->dims[l], m->width[l]);
        } else {
            char a[16], b[16];
            layers_shape_str(m->layer[l].in, a, sizeof a);
            layers_shape_str(m->layer[l].out, b, sizeof b);
            util_fmt(desc[l], sizeof desc[l], "%s %s->%s", layers_kind_name(m->layer[l].kind), a,
                     b);
        }
    }
    for (int l = 0; l < m->n_layers; l++)
        add_shape(tu, &g[l][LAYER_FWD], partial, WHAT[LAYER_FWD], desc[l]);
    for (int l = m->n_layers - 1; l >= 0; l--) {
        add_shape(tu, &g[l][LAYER_DW], partial, WHAT[LAYER_DW], desc[l]);
        if (l > 0) add_shape(tu, &g[l][LAYER_DX], partial, WHAT[LAYER_DX], desc[l]);
    }
}

/* C = op(A) op(B) in double, and the bound on float's error: gamma_K times
 * sum |a||b| (Higham's bound for any summation order), with room to spare. */
static void reference(const TShape *s, const float *A, const float *B, float *ref, float *tol)
{
    size_t M = s->s.M, N = s->s.N, K = s->s.K;
    size_t lda = s->s.ta ? M : K, ldb = s->s.tb ? K : N;
    double *acc = malloc(N * sizeof *acc), *mag = malloc(N * sizeof *mag);
    if (!acc || !mag) abort();
    double gamma = 2.0 * (double)K * ldexp(1.0, -24);
    for (size_t i = 0; i < M; i++) {
        memset(acc, 0, N * sizeof *acc);
        memset(mag, 0, N * sizeof *mag);
        for (size_t k = 0; k < K; k++) {
            double a = s->s.ta ? A[k * lda + i] : A[i * lda + k];
            for (size_t j = 0; j < N; j++) {
                double b = s->s.tb ? B[j * ldb + k] : B[k * ldb + j];
                acc[j] += a * b;
                mag[j] += fabs(a * b);
            }
        }
        for (size_t j = 0; j < N; j++) {
            ref[i * N + j] = (float)acc[j];
            tol[i * N + j] = (float)(4.0 * gamma * mag[j] + 1e-30);
        }
    }
    free(acc);
    free(mag);
}

/* The step's products; no OpenCL yet (the compile processes fork after). */
static int plan(Tuner *tu, const Config *cfg, int n_train, Shape3 input, Err *err)
{
    Model shape;
    if (model_shape(&shape, cfg, input, err)) return -2;
    int B = cfg->batch_size;
    tu->batch = B;
    tu->steps = (n_train + B - 1) / B;
    tu->last = n_train - (tu->steps - 1) * B;
    step_shapes(tu, &shape, B, 0);
    tu->n_full = tu->n;
    if (tu->last != B) step_shapes(tu, &shape, tu->last, 1);
    return 0;
}

static int setup(Tuner *tu, Err *err)
{
    size_t max_a = 0, max_b = 0;
    for (int i = 0; i < tu->n; i++) {
        GemmShape *g = &tu->sh[i].s;
        if (g->M * g->K > max_a) max_a = g->M * g->K;
        if (g->K * g->N > max_b) max_b = g->K * g->N;
    }
    if (!(tu->ha = util_malloc(max_a * sizeof(float), err)) ||
        !(tu->hb = util_malloc(max_b * sizeof(float), err)))
        return -1;
    Rng r;
    rng_seed(&r, 12345);
    for (size_t i = 0; i < max_a; i++) tu->ha[i] = (float)(2.0 * rng_uniform(&r) - 1.0);
    for (size_t i = 0; i < max_b; i++) tu->hb[i] = (float)(2.0 * rng_uniform(&r) - 1.0);
    if (!(tu->a = clctx_buffer(&tu->ctx, max_a * sizeof(float), tu->ha, err)) ||
        !(tu->b = clctx_buffer(&tu->ctx, max_b * sizeof(float), tu->hb, err)))
        return -1;
    gemm_init(&tu->gemm, &tu->ctx);
    for (int i = 0; i < tu->n; i++) {
        TShape *s = &tu->sh[i];
        size_t mn = s->s.M * s->s.N;
        if (!(s->c = clctx_buffer(&tu->ctx, mn * sizeof(float), NULL, err)) ||
            !(s->ref = util_malloc(mn * sizeof(float), err)) ||
            !(s->tol = util_malloc(mn * sizeof(float), err)) ||
            gemm_reserve(&tu->gemm, s->s.ta, s->s.tb, s->s.M, s->s.N, s->s.K, err))
            return -1;
        reference(s, tu->ha, tu->hb, s->ref, s->tol);
    }
    return 0;
}

static void teardown(Tuner *tu)
{
    tunepool_stop(&tu->pool);
    if (tu->ctx.queue) clFinish(tu->ctx.queue);
    for (int i = 0; i < tu->n; i++) {
        if (tu->sh[i].c) clReleaseMemObject(tu->sh[i].c);
        free(tu->sh[i].ref);
        free(tu->sh[i].tol);
    }
    gemm_destroy(&tu->gemm);
    if (tu->a) clReleaseMemObject(tu->a);
    if (tu->b) clReleaseMemObject(tu->b);
    free(tu->ha);
    free(tu->hb);
    clctx_destroy(&tu->ctx);
}

/* ---- evaluating one parameter set ---------------------------------------------- */

static int run_one(Tuner *tu, const TShape *s, Err *err)
{
    const GemmShape *g = &s->s;
    return gemm_run(&tu->gemm, s->label, g->ta, g->tb, g->M, g->N, g->K, 1.0f, tu->a, 0,
                    g->ta ? g->M : g->K, tu->b, 0, g->tb ? g->K : g->N, 0.0f, s->c, 0, g->N, err);
}

/* Runs shapes [first, end) back to back, as a step does, and waits. */
static int run_seq(Tuner *tu, int first, int end, double *secs, Err *err)
{
    double t0 = util_now();
    for (int i = first; i < end; i++)
        if (run_one(tu, &tu->sh[i], err)) return -1;
    CL_CHECK(clFinish(tu->ctx.queue));
    *secs = util_now() - t0;
    return 0;
fail:
    return -1;
}

/* The fastest of a few repetitions (at least 3, until 0.1 s are spent,
 * at most 15): the minimum is what the kernels can do; other processes on
 * the machine only ever add time. */
static int best_time(Tuner *tu, int first, int end, double *best, Err *err)
{
    *best = INFINITY;
    double spent = 0;
    for (int r = 0; r < 15 && (r < 3 || spent < 0.1); r++) {
        double s;
        if (run_seq(tu, first, end, &s, err)) return -1;
        if (s < *best) *best = s;
        spent += s;
    }
    return 0;
}

/* Every product once, then each checked against the host. Returns 0, 1
 * for a wrong product (why says which), -1 for a CLBlast or OpenCL error. */
/* s's result (already run) against the host: 0 right, 1 wrong (why, len
 * bytes, says where), -1 error. */
static int check_shape(Tuner *tu, const TShape *s, char *why, size_t len, Err *err)
{
    size_t mn = s->s.M * s->s.N;
    float *got = util_malloc(mn * sizeof *got, err);
    if (!got) return -1;
    cl_int rc = clEnqueueReadBuffer(tu->ctx.queue, s->c, CL_TRUE, 0, mn * sizeof *got, got, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS) {
        free(got);
        return clctx_check(rc, "clEnqueueReadBuffer", __FILE__, __LINE__, err);
    }
    int wrong = 0;
    for (size_t j = 0; j < mn && !wrong; j++)
        if (!(fabs((double)got[j] - (double)s->ref[j]) <= s->tol[j])) {
            wrong = 1;
            snprintf(why, len, "wrong result in %s at (%zu,%zu): %g, host %g", s->label,
                     j / s->s.N, j % s->s.N, (double)got[j], (double)s->ref[j]);
        }
    free(got);
    return wrong;
}

static int check_products(Tuner *tu, char *why, size_t len, Err *err)
{
    for (int i = 0; i < tu->n; i++)
        if (run_one(tu, &tu->sh[i], err)) return -1;
    CL_CHECK(clFinish(tu->ctx.queue));
    for (int i = 0; i < tu->n; i++) {
        int c = check_shape(tu, &tu->sh[i], why, len, err);
        if (c) return c;
    }
    return 0;
fail:
    return -1;
}

/* The objective in the current layout: ms per step over an epoch. */
static int objective(Tuner *tu, double *ms, Err *err)
{
    double full, part = 0;
    if (best_time(tu, 0, tu->n_full, &full, err)) return -1;
    if (tu->n > tu->n_full && best_time(tu, tu->n_full, tu->n, &part, err)) return -1;
    double per_step = tu->n > tu->n_full ? ((tu->steps - 1) * full + part) / tu->steps : full;
    *ms = per_step * 1e3;
    return 0;
}

/* The layout that needs fewer of CLBlast's helper kernels for t's Xgemm:
 * kernel 0 wants A and C column-major (col), kernel 1 row-major (row).
 * Measured on PoCL, the other layout was never more than noise faster. */
static GemmLayout natural_layout(const Tuning *t)
{
    return t->value[TK_XGEMM][0] == 0 ? GEMM_COL_MAJOR : GEMM_ROW_MAJOR; /* [0] is GEMMK */
}

/* 1 (and e says why, counted) when CLBlast's rules or the device's limits
 * rule t out: it is never compiled. */
static int ruled_out(Tuner *tu, const Tuning *t, Eval *e)
{
    memset(e, 0, sizeof *e);
    e->ms[0] = e->ms[1] = INFINITY;
    Err err = {{0}};
    for (int k = 0; k < TK_COUNT; k++)
        if (t->has[k] && tuning_check_kernel(k, t->value[k], NULL, &err)) {
            e->status = 1;
            util_fmt(e->why, sizeof e->why, "ruled out: %s", err.msg);
            tu->ruled_out++;
            return 1;
        }
    if (clbtune_check(t, &tu->ctx.id, "candidate", &err)) {
        e->status = 1;
        util_fmt(e->why, sizeof e->why, "ruled out: %s", err.msg + strlen("candidate: "));
        tu->ruled_out++;
        return 1;
    }
    return 0;
}

/* Evaluates t in `layout` (or, with t == NULL, CLBlast's own parameters in
 * the row-major layout: the baseline). e->ms[layout] gets the time. build:
 * what a compile process made of t, or NULL when it was built here. */
static void evaluate(Tuner *tu, const Tuning *t, GemmLayout layout, const TuneBuild *build,
                     Eval *e)
{
    memset(e, 0, sizeof *e);
    e->ms[0] = e->ms[1] = INFINITY;
    if (t && ruled_out(tu, t, e)) return;
    Err err = {{0}};
    tu->tried++;
    if (build && !build->ok) {
        util_fmt(err.msg, sizeof err.msg, "%s", build->why);
        goto failed;
    }
    if (t && clbtune_apply(tu->ctx.device, t, &err)) goto failed;
    if (t) clctx_gemm_tuning(&tu->ctx, t);
    tu->ctx.gemm_layout = layout;
    if (gemm_alloc(&tu->gemm, &err)) goto failed;
    int c = check_products(tu, e->why, sizeof e->why, &err);
    if (c < 0) goto failed;
    if (c > 0) {
        e->status = 3;
        tu->wrong++;
        if (!tu->first_failure[0]) util_fmt(tu->first_failure, sizeof tu->first_failure, "%s", e->why);
        return;
    }
    if (objective(tu, &e->ms[layout], &err)) goto failed;
    return;
failed:
    e->status = 2;
    tu->failed++;
    util_fmt(e->why, sizeof e->why, "failed: %s", err.msg);
    if (!tu->first_failure[0]) util_fmt(tu->first_failure, sizeof tu->first_failure, "%s", err.msg);
    /* A failed enqueue can leave work queued; start the next one clean. If
     * the queue itself broke, the next evaluation reports it. */
    (void)clFinish(tu->ctx.queue);
}

static int seen(const Tuner *tu, const Tuning *t)
{
    uint64_t key = tuning_hash(t);
    for (int i = 0; i < tu->n_seen; i++)
        if (tu->seen[i] == key) return 1;
    return 0;
}

/* Keeps x among the finalists if it is one of the FINALISTS fastest so
 * far, and notes it when it is the set the device ran before. */
static void keep_top(Tuner *tu, const Cand *x)
{
    Point p;
    p.t = x->t;
    p.ms = x->ms;
    util_fmt(p.what, sizeof p.what, "%s", x->what);
    if (tu->current_hash && tuning_hash(&x->t) == tu->current_hash) tu->current = p;
    int i = tu->n_top < FINALISTS ? tu->n_top++ : FINALISTS;
    if (i == FINALISTS && !(p.ms < tu->top[FINALISTS - 1].ms)) return;
    if (i == FINALISTS) i = FINALISTS - 1;
    for (; i > 0 && p.ms < tu->top[i - 1].ms; i--) tu->top[i] = tu->top[i - 1];
    tu->top[i] = p;
}

/* The candidates a batch holds: BATCH_PER_JOB per compile process, else
 * one (compiled here). */
static int batch_size(const Tuner *tu)
{
    int n = tunepool_alive(&tu->pool);
    return n < 1 ? 1 : n * BATCH_PER_JOB;
}

/* Evaluates c[0..n) (n <= batch_size), each in its t.layout, but those
 * seen before, or all when the budget is spent: the compile processes build
 * them together, then each is checked and measured here, one by one, with
 * no compile running. Updates the best; c[i].improved when c[i] beat the
 * best from before the batch by more than IMPROVE. Returns how many were
 * evaluated (ruled out ones count: their verdict is known). */
static int try_batch(Tuner *tu, Cand *c, int n)
{
    Cand *go[BATCH_MAX];
    Tuning build_t[BATCH_MAX];
    TuneBuild built[BATCH_MAX];
    int m = 0, done = 0;
    double before = tu->best.ms;
    for (int i = 0; i < n; i++) {
        c[i].improved = 0;
        c[i].ms = INFINITY;
        if (!time_left(tu) || tu->n_seen == MAX_TRIED || seen(tu, &c[i].t) || m == BATCH_MAX)
            continue;
        tu->seen[tu->n_seen++] = tuning_hash(&c[i].t);
        done++;
        Eval e;
        if (ruled_out(tu, &c[i].t, &e)) {
            progress(tu, c[i].what, &e);
            continue;
        }
        build_t[m] = c[i].t;
        go[m++] = &c[i];
    }
    int pooled = m > 0 && tunepool_alive(&tu->pool) > 0;
    if (pooled) tunepool_build(&tu->pool, build_t, m, built);
    for (int i = 0; i < m; i++) {
        Cand *x = go[i];
        Eval e;
        evaluate(tu, &x->t, x->t.layout, pooled ? &built[i] : NULL, &e);
        if (e.status == 0) {
            x->ms = e.ms[x->t.layout];
            if (x->ms < before * (1.0 - IMPROVE) || !isfinite(before)) x->improved = 1;
            if (x->ms < tu->best.ms) {
                tu->best.t = x->t;
                tu->best.ms = x->ms;
                util_fmt(tu->best.what, sizeof tu->best.what, "%s", x->what);
            }
            keep_top(tu, x);
        }
        progress(tu, x->what, &e);
    }
    return done;
}

/* One candidate alone; as try_batch. Returns 1 if it became the best by
 * more than IMPROVE, 0 otherwise, -1 if it was seen or the budget is spent. */
static int try_point(Tuner *tu, Tuning *t, const char *what)
{
    Cand c;
    c.t = *t;
    c.q = 0;
    util_fmt(c.what, sizeof c.what, "%s", what);
    if (try_batch(tu, &c, 1) == 0) return -1;
    return c.improved;
}

/* ---- the search ---------------------------------------------------------------- */

static void seed_tuning(const Tuner *tu, const Seed *s, Tuning *t)
{
    tuning_init(t);
    memcpy(t->value, s->v, sizeof t->value);
    for (int k = 0; k < TK_COUNT; k++) t->has[k] = 1;
    snprintf(t->clblast, sizeof t->clblast, "%s", tu->ctx.id.clblast);
    snprintf(t->platform, sizeof t->platform, "%s", tu->ctx.id.platform);
    snprintf(t->device, sizeof t->device, "%s", tu->ctx.id.device);
    snprintf(t->driver, sizeof t->driver, "%s", tu->ctx.id.driver);
    t->layout = natural_layout(t);
}

/* 1 when the seed belongs to this device's type (and vendor, if it names one). */
static int seed_first(const Tuner *tu, const Seed *s, const char *vendor)
{
    int cpu = (tu->ctx.type & CL_DEVICE_TYPE_CPU) != 0;
    if (s->type == 0) return 0;
    if ((s->type == 1) != cpu) return 0;
    return !s->vendor || strstr(vendor, s->vendor) != NULL;
}

static void phase_seeds(Tuner *tu)
{
    tu->phase = "seeds";
    const char *vendor = tu->ctx.id.vendor;
    Cand c[N_SEEDS + 1];
    int own[N_SEEDS + 1], n = 0;
    /* What the device runs today ([device] tuning = auto: its cache file or
     * its class's shipped one) first: a search never ends below it. */
    TuningUse use;
    Err e = {{0}};
    if (clbtune_resolve("auto", &tu->ctx.id, &c[0].t, &use, &e) == 0 && use.path[0]) {
        int complete = 1;
        for (int k = 0; k < TK_COUNT; k++) complete &= c[0].t.has[k];
        if (complete) {
            Tuning *t = &c[0].t;
            snprintf(t->platform, sizeof t->platform, "%s", tu->ctx.id.platform);
            snprintf(t->device, sizeof t->device, "%s", tu->ctx.id.device);
            snprintf(t->driver, sizeof t->driver, "%s", tu->ctx.id.driver);
            t->device_class[0] = '\0';
            const char *base = strrchr(use.path, '/');
            util_fmt(c[0].what, sizeof c[0].what, "seed %s (%s)", base ? base + 1 : use.path,
                     use.source);
            tu->current_hash = tuning_hash(t);
            own[n++] = 1;
        }
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < N_SEEDS; i++) {
            if (seed_first(tu, &SEEDS[i], vendor) != (pass == 0)) continue;
            seed_tuning(tu, &SEEDS[i], &c[n].t);
            snprintf(c[n].what, sizeof c[n].what, "seed %s", SEEDS[i].name);
            own[n++] = pass == 0;
        }
    int w = batch_size(tu);
    for (int i = 0; i < n && time_left(tu); i += w) {
        /* The other seeds, after the type's own, only while a quarter of
         * the budget is not spent: they rarely win off their type. */
        if (!own[i] && i > 0 && !own[i - 1] && elapsed(tu) > tu->budget / 4) return;
        try_batch(tu, &c[i], i + w <= n ? w : n - i);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Thresholds that split the step's products between the direct and the
 * indirect kernel at each gap in their sizes (CLBlast goes direct when
 * M*N*K < threshold^3). */
static void phase_threshold(Tuner *tu)
{
    tu->phase = "threshold";
    size_t sizes[MAX_SHAPES];
    for (int i = 0; i < tu->n; i++) {
        double v = (double)tu->sh[i].s.M * (double)tu->sh[i].s.N * (double)tu->sh[i].s.K;
        sizes[i] = (size_t)floor(cbrt(v)) + 1;
    }
    qsort(sizes, (size_t)tu->n, sizeof sizes[0], cmp_size);
    size_t cand[MAX_SHAPES + 1];
    int nc = 0;
    cand[nc++] = 0;
    for (int i = 0; i < tu->n; i++)
        if (nc == 0 || sizes[i] != cand[nc - 1]) cand[nc++] = sizes[i];
    /* Small first: the smallest products are where direct can win; past
     * the small gaps, direct only loses on big products. */
    if (nc > 4) nc = 4;
    Cand c[4];
    int w = batch_size(tu);
    for (int i = 0; i < nc && time_left(tu); i += w) {
        int m = i + w <= nc ? w : nc - i;
        for (int j = 0; j < m; j++) {
            c[j].t = tu->best.t;
            *slot(&c[j].t, TK_GEMM_ROUTINE, "XGEMM_MIN_INDIRECT_SIZE") = cand[i + j];
            snprintf(c[j].what, sizeof c[j].what, "XGEMM_MIN_INDIRECT_SIZE=%zu", cand[i + j]);
        }
        try_batch(tu, c, m);
    }
}

/* A valid neighbour of t: parameter d moved by `dir` steps in its domain,
 * repaired (when the rules break) by one step of another parameter of the
 * same kernel. Returns 0 and fills out, or -1. */
static int neighbour(const Tuner *tu, const Tuning *t, const Dim *dims, int nd, int d, int dir,
                     Tuning *out)
{
    const Dim *D = &dims[d];
    size_t cur = t->value[D->k][pidx(D->k, D->name)];
    int at = -1;
    for (int i = 0; i < D->n; i++)
        if (D->dom[i] == cur) at = i;
    int to = at < 0 ? (dir > 0 ? 0 : D->n - 1) : at + dir;
    if (to < 0 || to >= D->n) return -1;
    *out = *t;
    *slot(out, D->k, D->name) = D->dom[to];
    int gemmk1 = D->k == TK_XGEMM && out->value[TK_XGEMM][pidx(TK_XGEMM, "GEMMK")] == 1;
    if (gemmk1) { /* kernel 1 keeps its A/B reshape equal to its thread counts */
        *slot(out, TK_XGEMM, "MDIMA") = *slot(out, TK_XGEMM, "MDIMC");
        *slot(out, TK_XGEMM, "NDIMB") = *slot(out, TK_XGEMM, "NDIMC");
    }
    out->layout = natural_layout(out);
    Err e = {{0}};
    if (tuning_check_kernel(D->k, out->value[D->k], NULL, &e) == 0 &&
        clbtune_check(out, &tu->ctx.id, "candidate", &e) == 0)
        return 0;
    for (int r = 0; r < nd; r++) {
        if (r == d || dims[r].k != D->k) continue;
        for (int rd = -1; rd <= 1; rd += 2) {
            Tuning fix;
            const Dim *R = &dims[r];
            size_t rc = out->value[R->k][pidx(R->k, R->name)];
            int ra = -1;
            for (int i = 0; i < R->n; i++)
                if (R->dom[i] == rc) ra = i;
            if (ra < 0 || ra + rd < 0 || ra + rd >= R->n) continue;
            fix = *out;
            *slot(&fix, R->k, R->name) = R->dom[ra + rd];
            if (gemmk1) {
                *slot(&fix, TK_XGEMM, "MDIMA") = *slot(&fix, TK_XGEMM, "MDIMC");
                *slot(&fix, TK_XGEMM, "NDIMB") = *slot(&fix, TK_XGEMM, "NDIMC");
            }
            fix.layout = natural_layout(&fix);
            if (tuning_check_kernel(D->k, fix.value[D->k], NULL, &e) == 0 &&
                clbtune_check(&fix, &tu->ctx.id, "candidate", &e) == 0) {
                *out = fix;
                return 0;
            }
        }
    }
    return -1;
}

/* Pattern search over dims from the best point: try each parameter one step
 * down and up, most important first; after a move that paid, try the same
 * move again before anything else. Ends at a point no single move improves,
 * or when the budget is spent. The moves go in batches (try_batch): the
 * next ones from the best, in order, as if none paid; when one pays, the
 * search goes on from the new best with that move again. */
static void climb(Tuner *tu, const Dim *dims, int nd, const char *phase)
{
    tu->phase = phase;
    int w = batch_size(tu), q = 0, paid = 0;
    while (time_left(tu)) {
        if (q >= 2 * nd) { /* a pass over every move: again if one paid */
            if (!paid) return;
            paid = 0;
            q = 0;
        }
        Cand c[BATCH_MAX];
        int n = 0;
        for (; q < 2 * nd && n < w; q++) {
            int d = q / 2, dir = q % 2 ? 1 : -1;
            Tuning t;
            if (neighbour(tu, &tu->best.t, dims, nd, d, dir, &t) || seen(tu, &t)) continue;
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= tuning_hash(&c[j].t) == tuning_hash(&t);
            if (dup) continue;
            c[n].t = t;
            c[n].q = q;
            snprintf(c[n].what, sizeof c[n].what, "%s %s %zu -> %zu",
                     tuning_kernel(dims[d].k)->name, dims[d].name,
                     tu->best.t.value[dims[d].k][pidx(dims[d].k, dims[d].name)],
                     t.value[dims[d].k][pidx(dims[d].k, dims[d].name)]);
            n++;
        }
        if (n == 0) continue;
        try_batch(tu, c, n);
        int win = -1;
        for (int j = 0; j < n; j++)
            if (c[j].improved && (win < 0 || c[j].ms < c[win].ms)) win = j;
        if (win >= 0) { /* the same move again, from the new best */
            paid = 1;
            q = c[win].q;
        }
    }
}

static int uses_direct(const Tuner *tu)
{
    size_t thr = tu->best.t.value[TK_GEMM_ROUTINE][0];
    for (int i = 0; i < tu->n; i++) {
        double v = (double)tu->sh[i].s.M * (double)tu->sh[i].s.N * (double)tu->sh[i].s.K;
        if (v < (double)thr * (double)thr * (double)thr) return 1;
    }
    return 0;
}

static void search(Tuner *tu)
{
    phase_seeds(tu);
    if (!isfinite(tu->best.ms)) return; /* nothing compiled */
    phase_threshold(tu);
    for (int round = 0; round < 4 && time_left(tu); round++) {
        if (tu->best.t.value[TK_XGEMM][pidx(TK_XGEMM, "GEMMK")] == 0)
            climb(tu, DIMS_XGEMM0, COUNT(DIMS_XGEMM0), "Xgemm");
        else
            climb(tu, DIMS_XGEMM1, COUNT(DIMS_XGEMM1), "Xgemm (GEMMK 1)");
        if (uses_direct(tu)) climb(tu, DIMS_DIRECT, COUNT(DIMS_DIRECT), "XgemmDirect");
        climb(tu, DIMS_HELPERS, COUNT(DIMS_HELPERS), "helpers");
    }
    /* The layout was chosen by rule; check the rule once on the best. */
    tu->phase = "layout";
    Tuning other = tu->best.t;
    other.layout = other.layout == GEMM_COL_MAJOR ? GEMM_ROW_MAJOR : GEMM_COL_MAJOR;
    try_point(tu, &other, other.layout == GEMM_COL_MAJOR ? "layout col" : "layout row");
}

/* ---- the finals ---------------------------------------------------------------- */

/* The objective runs the step's products back to back on inputs that stay
 * in the CPU's caches; the step itself runs them between clae's kernels, on
 * activations that do not. The two can rank parameter sets differently: a
 * re-tune that beat the shipped AVX2 file on the objective ran the batch-256
 * step 38 % slower. So the finalists (the best FINALISTS by the objective,
 * and the set the device ran before, so that a re-tune never ends below it)
 * meet in the training step itself: each trains the same first steps of an
 * epoch, FINAL_ROUNDS times, the finalists interleaved, and the fastest
 * step (the minimum over rounds, as the objective takes) wins. Their
 * [routes] are left out: the routes step picks them for the winner. */

/* Applies p (without routes) to the trainer's device and context. */
static int final_apply(Trainer *tr, const Point *p, Err *err)
{
    Tuning t = p->t;
    t.n_routes = 0;
    if (clbtune_apply(tr->dev.ctx.device, &t, err)) return -1;
    clctx_gemm_tuning(&tr->dev.ctx, &t);
    return gemm_alloc(&tr->model.gemm, err);
}

/* steps steps from an epoch's start in seconds, after an untimed warm-up of
 * every product and kernel the step runs under the parameters now applied. */
static int final_time(Trainer *tr, int steps, double *secs, Err *err)
{
    long pos = 0, images = 0;
    if (trainer_warmup(tr, err)) return -1;
    double t0 = util_now();
    if (trainer_run_steps(tr, steps, &pos, &images, err)) return -1;
    CL_CHECK(clFinish(tr->dev.ctx.queue));
    *secs = util_now() - t0;
    return 0;
fail:
    return -1;
}

static double slowest(const double *ms, int n)
{
    double m = ms[0];
    for (int i = 1; i < n; i++)
        if (ms[i] > m) m = ms[i];
    return m;
}

/* Runs the finals and makes the winner the best. Returns 0, or -1 when the
 * step could not be set up or run (err says why; the best is unchanged). */
static int finals(Tuner *tu, const Config *cfg, Err *err)
{
    Point f[FINALISTS + 1];
    int n = 0;
    if (isfinite(tu->current.ms)) f[n++] = tu->current;
    for (int i = 0; i < tu->n_top; i++)
        if (!isfinite(tu->current.ms) || tuning_hash(&tu->top[i].t) != tu->current_hash)
            f[n++] = tu->top[i];
    if (n < 2 || stop_requested) return 0;
    Trainer *tr = calloc(1, sizeof *tr);
    if (!tr) {
        err_set(err, "out of memory");
        return -1;
    }
    int rc = -1;
    double step_ms[FINALISTS + 1];
    if (trainer_setup(tr, cfg, NULL, err)) {
        free(tr);
        return -1;
    }
    /* Steps a round: about FINAL_SECONDS at the first finalist's speed, at
     * most an epoch (its last, partial batch included then). */
    int per_epoch = tr->steps_per_epoch, steps = per_epoch < 4 ? per_epoch : 4;
    double secs;
    if (final_apply(tr, &f[0], err) || final_time(tr, steps, &secs, err)) goto done;
    steps = (int)(FINAL_SECONDS / (secs / steps));
    steps = steps < 4 ? 4 : steps > per_epoch ? per_epoch : steps;
    for (int i = 0; i < n; i++) step_ms[i] = INFINITY;
    for (int r = 0; r < FINAL_ROUNDS && !stop_requested; r++)
        for (int i = 0; i < n; i++) {
            if (final_apply(tr, &f[i], err) || final_time(tr, steps, &secs, err)) goto done;
            if (secs * 1e3 / steps < step_ms[i]) step_ms[i] = secs * 1e3 / steps;
        }
    int win = 0;
    for (int i = 1; i < n; i++)
        if (step_ms[i] < step_ms[win]) win = i;
    if (!tu->quiet) {
        printf("tune: finals, the training step itself (steps 1-%d of an epoch, fastest of %d "
               "rounds):\n", steps, FINAL_ROUNDS);
        for (int i = 0; i < n; i++)
            printf("  %-48.48s GEMMs %8.3f ms  step %8.3f ms%s\n", f[i].what, f[i].ms, step_ms[i],
                   i == win ? "  <- kept" : "");
    }
    util_fmt(tu->finals_note, sizeof tu->finals_note,
             "Finals, the training step itself (steps 1-%d, fastest of %d rounds): kept %s, "
             "%.3f ms a step, of %d finalists (the slowest %.3f ms).",
             steps, FINAL_ROUNDS, f[win].what, step_ms[win], n, slowest(step_ms, n));
    tu->best = f[win];
    rc = 0;
done:
    trainer_destroy(tr);
    free(tr);
    return rc;
}

/* ---- small products' routes ------------------------------------------------------ */

/* Under the best parameters, each small product of the step (a dimension
 * below GEMM_SMALL_DIM) timed alone by every route gemm.h can run it by,
 * each checked against the host; the fastest goes into the best tuning's
 * [routes]. A line per product says what each route took. */
static int tune_routes(Tuner *tu, Err *err)
{
    Tuning *t = &tu->best.t;
    t->n_routes = 0;
    if (clbtune_apply(tu->ctx.device, t, err)) return -1;
    clctx_gemm_tuning(&tu->ctx, t);
    int printed = 0;
    char why[256]; /* a wrong route is only marked "wrong"; the place is not printed */
    for (int i = 0; i < tu->n && t->n_routes < TUNING_MAX_ROUTES; i++) {
        TShape *s = &tu->sh[i];
        const GemmShape *g = &s->s;
        if (g->M >= GEMM_SMALL_DIM && g->N >= GEMM_SMALL_DIM && g->K >= GEMM_SMALL_DIM) continue;
        if (tuning_route_of(t->route, t->n_routes, g->ta, g->tb, g->M, g->N, g->K) !=
                ROUTE_CLBLAST ||
            stop_requested)
            continue;
        double ms[ROUTE_COUNT], best = INFINITY;
        GemmRoute pick = ROUTE_CLBLAST;
        for (int r = 0; r < ROUTE_COUNT; r++) {
            ms[r] = NAN;
            if (tuning_route_check(g->ta, g->tb, g->M, g->N, g->K, (GemmRoute)r, NULL) ||
                ((r == ROUTE_DIRECT || r == ROUTE_INDIRECT) && !tu->ctx.gemm_has_min_indirect))
                continue;
            tu->gemm.force = r;
            double secs;
            if (gemm_alloc(&tu->gemm, err) || run_seq(tu, i, i + 1, &secs, err)) goto fail;
            int c = check_shape(tu, s, why, sizeof why, err);
            if (c < 0) goto fail;
            if (c > 0) {
                ms[r] = INFINITY; /* wrong: never picked */
                continue;
            }
            if (best_time(tu, i, i + 1, &secs, err)) goto fail;
            ms[r] = secs * 1e3;
            if (ms[r] < best) best = ms[r], pick = (GemmRoute)r;
        }
        tu->gemm.force = -1;
        TuningRoute *o = &t->route[t->n_routes++];
        *o = (TuningRoute){g->ta, g->tb, g->M, g->N, g->K, pick};
        if (!tu->quiet) {
            if (!printed++) printf("tune: small products, ms alone by route (clblast direct "
                                   "indirect gemv):\n");
            printf("  %-22s %c%c %5zux%5zux%5zu ", s->label, g->ta ? 'T' : 'N', g->tb ? 'T' : 'N',
                   g->M, g->N, g->K);
            for (int r = 0; r < ROUTE_COUNT; r++)
                if (isnan(ms[r])) printf(" %8s", "-");
                else if (isinf(ms[r])) printf(" %8s", "wrong");
                else printf(" %8.3f", ms[r]);
            printf("  -> %s\n", tuning_route_name(pick));
        }
    }
    clctx_gemm_tuning(&tu->ctx, t);
    return gemm_alloc(&tu->gemm, err);
fail:
    tu->gemm.force = -1;
    return -1;
}

/* ---- the report ---------------------------------------------------------------- */

/* ms of each product alone (fastest of a few), in the current parameters
 * and layout. */
static int per_shape(Tuner *tu, double *ms, Err *err)
{
    if (gemm_alloc(&tu->gemm, err)) return -1;
    for (int i = 0; i < tu->n; i++) {
        double best;
        if (run_seq(tu, i, i + 1, &best, err) || best_time(tu, i, i + 1, &best, err)) return -1;
        ms[i] = best * 1e3;
    }
    return 0;
}

/* Parameter sets compiled and measured (or failed) per minute of search:
 * what the compile processes are for. */
static double per_minute(const Tuner *tu)
{
    double s = elapsed(tu);
    return s > 0 ? tu->tried * 60.0 / s : 0;
}

static double gflops(const GemmShape *g, double ms)
{
    return 2.0 * (double)g->M * (double)g->N * (double)g->K / (ms * 1e-3) * 1e-9;
}

/* The file's comments: what was tuned, how, and what it gained. */
static void write_comments(const Tuner *tu, const Config *cfg, const double *dms,
                           const double *tms, char *head, size_t hlen, char *kern, size_t klen)
{
    char builders[64];
    if (tu->pool.n)
        snprintf(builders, sizeof builders, "%d compile process%s", tu->pool.n,
                 tu->pool.n == 1 ? "" : "es");
    else snprintf(builders, sizeof builders, "compiles in the tuner's process");
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    /* Flops of a step averaged over the epoch, as the objective is. */
    double full = 0, part = 0;
    for (int i = 0; i < tu->n; i++) {
        double f = 2.0 * (double)tu->sh[i].s.M * (double)tu->sh[i].s.N * (double)tu->sh[i].s.K;
        if (tu->sh[i].partial) part += f;
        else full += f;
    }
    double flops = tu->n > tu->n_full ? ((tu->steps - 1) * full + part) / tu->steps : full;
    char base[160];
    if (isfinite(tu->default_ms))
        snprintf(base, sizeof base, "%.3f ms with CLBlast's own parameters (%.1f GFLOP/s)",
                 tu->default_ms, flops / (tu->default_ms * 1e-3) * 1e-9);
    else
        snprintf(base, sizeof base, "CLBlast's own parameters failed on this device");
    char gain[48] = "";
    if (isfinite(tu->default_ms)) snprintf(gain, sizeof gain, ", %.2fx", tu->default_ms / tu->best.ms);
    int n = snprintf(head, hlen,
                     "clae tuning file, written by clae tune on %s.\n"
                     "Tuned for the training step of %s: batch %d (last batch %d), %d steps an "
                     "epoch.\n"
                     "Search: %d parameter sets in %.0f s, %.1f a minute with %s (%d failed to "
                     "compile or run, %d gave wrong products, %d ruled out by CLBlast's rules or "
                     "the device's limits).\n"
                     "GEMM time per step, over an epoch: %s; tuned %.3f ms (%.1f GFLOP/s)%s.\n"
                     "Per product, GFLOP/s with CLBlast's own parameters -> tuned:",
                     date, cfg->name, tu->batch, tu->last, tu->steps, tu->tried, elapsed(tu),
                     per_minute(tu), builders, tu->failed, tu->wrong, tu->ruled_out, base, tu->best.ms,
                     flops / (tu->best.ms * 1e-3) * 1e-9, gain);
    for (int i = 0; i < tu->n && n > 0 && (size_t)n < hlen; i++) {
        const GemmShape *g = &tu->sh[i].s;
        n += snprintf(head + n, hlen - (size_t)n, "\n  %-20s %c%c %5zux%5zux%5zu %7.1f -> %7.1f",
                      tu->sh[i].label, g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', g->M, g->N, g->K,
                      gflops(g, dms[i]), gflops(g, tms[i]));
    }
    snprintf(kern, klen, "CLBlast runs a product of M*N*K multiply-adds on Xgemm (with the "
                         "helper kernels) when M*N*K >= XGEMM_MIN_INDIRECT_SIZE^3, else on "
                         "XgemmDirect");
}

/* An output path must be writable before minutes of search go into it. */
static int check_output(const char *path, Err *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if (slash && dir[0] && util_make_dirs(dir, err)) return -1;
    char tmp[4200];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    util_atomic_abort(f, tmp);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --import DIR: the JSON files of CLBlast's tuners in dir (single precision,
 * this device) as one Tuning; kernels no file tunes keep CLBlast's own.
 * When several files tune one kernel (xgemm_1 and xgemm_2, say), the one
 * whose best result was fastest wins. note gets what came from where.
 * Returns 0, or -2 for files that are not for this device or unreadable. */
static int import_dir(const Tuner *tu, const char *dir, Tuning *t, char *note, size_t nlen,
                      Err *err)
{
    tuning_init(t);
    snprintf(t->clblast, sizeof t->clblast, "%s", tu->ctx.id.clblast);
    snprintf(t->platform, sizeof t->platform, "%s", tu->ctx.id.platform);
    snprintf(t->device, sizeof t->device, "%s", tu->ctx.id.device);
    snprintf(t->driver, sizeof t->driver, "%s", tu->ctx.id.driver);
    DIR *d = opendir(dir);
    if (!d) {
        err_set(err, "--import %s: cannot open: %s", dir, strerror(errno));
        return -2;
    }
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0 && e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    double best[TK_COUNT];
    for (int k = 0; k < TK_COUNT; k++) best[k] = INFINITY;
    int rc = 0, used = 0;
    size_t at = 0;
    note[0] = '\0';
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        Tuning one;
        tuning_init(&one);
        TuningImport what;
        if (names[i] == NULL || tuning_import_json(&one, path, &what, err)) {
            rc = -2;
            break;
        }
        if (what.kernel < 0) continue; /* another precision or kernel */
        if (what.device[0] && strcmp(what.device, tu->ctx.id.device) != 0) {
            err_set(err, "%s: tuned on \"%s\", not on this device (%s)", path, what.device,
                    tu->ctx.id.device);
            rc = -2;
            break;
        }
        int k = what.kernel;
        double time = isnan(what.time) ? INFINITY : what.time;
        if (t->has[k] && !(time < best[k])) continue;
        memcpy(t->value[k], one.value[k], sizeof t->value[k]);
        t->has[k] = 1;
        best[k] = time;
        used++;
        int w = snprintf(note + at, nlen - at, "%s[%s] from %s", at ? "; " : "",
                         tuning_kernel(k)->name, names[i]);
        if (w > 0 && (size_t)w < nlen - at) at += (size_t)w;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    if (rc == 0 && used == 0) {
        err_set(err, "--import %s: no single-precision file of CLBlast's tuners for a GEMM kernel "
                     "(clblast_xgemm_*_32.json, clblast_xgemm_direct_*_32.json, ...)",
                dir);
        rc = -2;
    }
    t->layout = t->has[TK_XGEMM] ? natural_layout(t) : GEMM_ROW_MAJOR;
    return rc;
}

int tune_run(const Config *cfg_in, const TuneOptions *opt)
{
    Err errbuf = {{0}};
    Err *err = &errbuf;
    int code = EXIT_RUN_FAILED;
    Tuner *tu = calloc(1, sizeof *tu);
    Config *cfg = malloc(sizeof *cfg);
    if (!tu || !cfg) {
        free(tu);
        free(cfg);
        fprintf(stderr, "clae: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    *cfg = *cfg_in;
    /* The baseline is CLBlast's own: nothing may be applied before it. */
    snprintf(cfg->tuning, sizeof cfg->tuning, "none");
    tu->best.ms = tu->current.ms = INFINITY;
    tu->quiet = opt->quiet;
    tu->tty = isatty(STDERR_FILENO);
    Dataset train = {0}, test = {0};
    char out[4096];
    double *dms = NULL, *tms = NULL;
    struct sigaction old_int;
    int handler = 0;

    int rc_data = data_load(cfg, &train, &test, err);
    if (rc_data) {
        if (rc_data == -2) code = EXIT_USAGE;
        goto done;
    }
    int n_train = train.n;
    Shape3 input = data_item_shape(&train);
    if (data_check_layers(cfg, &train, err)) {
        code = EXIT_USAGE;
        goto done;
    }
    dataset_free(&train);
    dataset_free(&test);
    if (cfg->batch_size > n_train) {
        err_set(err, "[train] batch_size = %d is larger than the %d training images", cfg->batch_size,
                n_train);
        code = EXIT_USAGE;
        goto done;
    }
    int rc_plan = plan(tu, cfg, n_train, input, err);
    if (rc_plan) {
        if (rc_plan == -2) code = EXIT_USAGE; /* a network that does not fit the data */
        goto done;
    }
    /* The compile processes fork now, before this process's first OpenCL
     * call; an import measures one set and needs none. */
    int jobs = opt->import_dir ? 0 : opt->jobs < 0 ? tunepool_default_jobs() : opt->jobs;
    if (jobs > 0) {
        GemmShape shapes[MAX_SHAPES];
        for (int i = 0; i < tu->n; i++) shapes[i] = tu->sh[i].s;
        Err perr = {{0}};
        if (tunepool_start(&tu->pool, jobs, cfg, shapes, tu->n, &perr))
            fprintf(stderr, "tune: no compile process (%s); compiling here, one at a time\n",
                    perr.msg);
    }
    int rc_ctx = clctx_create(&tu->ctx, cfg, 0, err);
    if (rc_ctx) {
        if (rc_ctx == -2) code = EXIT_USAGE;
        goto done;
    }
    if (opt->for_class && !tu->ctx.id.device_class[0]) {
        err_set(err, "--class: %s has no device class (classes are for PoCL's CPU device); "
                     "tune it without --class", tu->ctx.device_name);
        code = EXIT_USAGE;
        goto done;
    }
    if (opt->for_class && !opt->output) {
        err_set(err, "--class needs -o FILE (the class files ship in the source tree's tuning/)");
        code = EXIT_USAGE;
        goto done;
    }
    if (opt->output) snprintf(out, sizeof out, "%s", opt->output);
    else if (clbtune_cache_path(&tu->ctx.id, out, sizeof out, err)) goto done;
    if (check_output(out, err)) {
        err_prefix(err, "clae tune: cannot write the tuning file");
        code = EXIT_USAGE;
        goto done;
    }
    printf("tune: %s on %s / %s, CLBlast %s\n", cfg->name, tu->ctx.platform_name,
           tu->ctx.device_name, tu->ctx.id.clblast);
    if (setup(tu, err)) goto done;
    printf("tune: %d products a step at batch %d", tu->n_full, tu->batch);
    if (tu->n > tu->n_full) printf(", %d more at the last batch of %d", tu->n - tu->n_full, tu->last);
    if (opt->import_dir) printf("; importing %s; output %s\n", opt->import_dir, out);
    else printf("; budget %.0f s; output %s\n", opt->budget, out);
    fflush(stdout);

    /* The baseline: CLBlast's own parameters, row-major as clae runs without
     * a tuning. Its compile time is not the search's. */
    Eval base;
    tu->budget = INFINITY;
    tu->t_start = util_now();
    tu->phase = "baseline";
    evaluate(tu, NULL, GEMM_ROW_MAJOR, NULL, &base);
    if (!(dms = util_calloc((size_t)tu->n, sizeof *dms, err)) ||
        !(tms = util_calloc((size_t)tu->n, sizeof *tms, err)))
        goto done;
    tu->default_ms = base.ms[0];
    if (base.status == 0) {
        tu->ctx.gemm_layout = GEMM_ROW_MAJOR;
        if (per_shape(tu, dms, err)) goto done;
    } else {
        /* Other parameters may well run where CLBlast's own do not. */
        for (int i = 0; i < tu->n; i++) dms[i] = INFINITY;
        fprintf(stderr, "tune: CLBlast's own parameters do not run here (%s); searching anyway\n",
                base.why);
    }
    progress(tu, "CLBlast's own parameters", &base);
    tu->tried = tu->failed = tu->wrong = tu->ruled_out = 0; /* the baseline is not a candidate */
    tu->first_failure[0] = '\0';

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    handler = sigaction(SIGINT, &sa, &old_int) == 0;
    tu->t_start = util_now();
    tu->budget = opt->budget;
    char imported[2048] = "";
    if (opt->import_dir) {
        Tuning t;
        int irc = import_dir(tu, opt->import_dir, &t, imported, sizeof imported, err);
        if (irc) {
            code = irc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
            goto done;
        }
        tu->phase = "import";
        try_point(tu, &t, "imported");
        printf("tune: imported %s\n", imported);
    } else {
        search(tu);
    }
    if (tu->tty && !tu->quiet) fputc('\n', stderr);
    if (stop_requested) fprintf(stderr, "tune: stopped by Ctrl-C; keeping the best found so far\n");
    if (!isfinite(tu->best.ms)) {
        if (opt->import_dir)
            err_set(err, "the imported parameters do not run correctly here: %s; no tuning file "
                         "written", tu->first_failure[0] ? tu->first_failure : "ruled out");
        else
        err_set(err, "nothing compiled and ran correctly on %s: %d parameter sets tried (%d failed "
                     "to compile or run, %d gave wrong products, %d ruled out); the first failure: "
                     "%s; no tuning file written",
                tu->ctx.device_name, tu->tried, tu->failed, tu->wrong, tu->ruled_out,
                tu->first_failure[0] ? tu->first_failure : "none");
        goto done;
    }
    /* The finals (a search's), the small products' routes, then the best,
     * measured again product by product for the file's comments. */
    if (!opt->import_dir && finals(tu, cfg, err)) {
        fprintf(stderr, "tune: no finals (%s); keeping the best by GEMM time\n", err->msg);
        err->msg[0] = '\0';
    }
    if (tune_routes(tu, err)) goto done;
    if (clbtune_apply(tu->ctx.device, &tu->best.t, err)) goto done;
    clctx_gemm_tuning(&tu->ctx, &tu->best.t);
    if (per_shape(tu, tms, err)) goto done;
    char head[8192], kern[512];
    write_comments(tu, cfg, dms, tms, head, sizeof head, kern, sizeof kern);
    if (tu->finals_note[0]) {
        size_t hn = strlen(head);
        snprintf(head + hn, sizeof head - hn, "\n%s", tu->finals_note);
    }
    if (opt->import_dir) {
        size_t hn = strlen(head);
        snprintf(head + hn, sizeof head - hn, "\nImported from CLBlast's tuners in %s: %s.",
                 opt->import_dir, imported);
    }
    const char *kc[TK_COUNT] = {NULL};
    kc[TK_GEMM_ROUTINE] = kern;
    if (opt->for_class) {
        /* A class file: any device of the class finds it (clbtune.h); the
         * device it was measured on goes into the comments. */
        size_t n = strlen(head);
        snprintf(head + n, sizeof head - n, "\nMeasured on %s / %s, driver %s.",
                 tu->ctx.id.platform, tu->ctx.id.device, tu->ctx.id.driver);
        tu->best.t.platform[0] = tu->best.t.device[0] = tu->best.t.driver[0] = '\0';
        snprintf(tu->best.t.device_class, sizeof tu->best.t.device_class, "%s",
                 tu->ctx.id.device_class);
    }
    if (tuning_write(&tu->best.t, out, head, kc, err)) goto done;
    printf("tune: %d parameter sets in %.0f s (%d failed to compile or run, %d gave wrong "
           "products, %d ruled out)\n",
           tu->tried, elapsed(tu), tu->failed, tu->wrong, tu->ruled_out);
    printf("tune: %.1f parameter sets a minute, %d compile process%s\n", per_minute(tu),
           tu->pool.n, tu->pool.n == 1 ? "" : "es");
    printf("  %-22s %-17s %12s %12s %8s\n", "product", "M x N x K", "default", "tuned", "speedup");
    for (int i = 0; i < tu->n; i++) {
        const GemmShape *g = &tu->sh[i].s;
        char mnk[40];
        snprintf(mnk, sizeof mnk, "%c%c %zux%zux%zu", g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', g->M,
                 g->N, g->K);
        printf("  %-22s %-17s %7.1f GF/s %7.1f GF/s %7.2fx\n", tu->sh[i].label, mnk,
               gflops(g, dms[i]), gflops(g, tms[i]), dms[i] / tms[i]);
    }
    printf("GEMM time per step: %.3f ms default, %.3f ms tuned (%.2fx), layout %s\n",
           tu->default_ms, tu->best.ms, tu->default_ms / tu->best.ms,
           tu->best.t.layout == GEMM_COL_MAJOR ? "col" : "row");
    printf("wrote %s (hash %016llx)\n", out, (unsigned long long)tuning_hash(&tu->best.t));
    code = EXIT_OK;
done:
    if (handler) sigaction(SIGINT, &old_int, NULL);
    if (code != EXIT_OK) fprintf(stderr, "clae: %s\n", err->msg);
    free(dms);
    free(tms);
    teardown(tu);
    free(tu);
    free(cfg);
    return code;
}
