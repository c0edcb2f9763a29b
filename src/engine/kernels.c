/* kernels: see kernels.h. */
#define _DEFAULT_SOURCE
#include "kernels.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLAE_SOURCE_CL_DIR
#error "CLAE_SOURCE_CL_DIR must be defined by the build (the source tree's cl/ folder)"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

/* OpenCL C 1.2 is what every vendor accepts; no fast-math, so that results
 * stay comparable with the host reference. The constants the .cl files
 * share with the host follow. */
static const char BUILD_OPTIONS[] = "-cl-std=CL1.2 -DLEAKY_SLOPE=" STR(KERNELS_LEAKY_SLOPE) "f";

static const char *const PROGRAM_FILES[PROG_COUNT] = {
#define X(id, file) [id] = file,
    KERNELS_PROGRAMS(X)
#undef X
};

/* Where each kernel goes: its name, its Kern (a family's first) in Kernels,
 * its program. */
typedef struct {
    const char *name;
    size_t offset;
    KernelsProgram program;
} KernelRow;

static const KernelRow KERNEL_ROWS[] = {
#define X(name, prog) {#name, offsetof(Kernels, name), prog},
    KERNELS_TABLE(X)
#undef X
};

static const KernelRow FAMILY_ROWS[KERNELS_FAMILY_COUNT] = {
#define X(name, prog) {#name, offsetof(Kernels, name), prog},
    KERNELS_PER_ACTIVATION(X)
#undef X
};

#define N_KERNEL_ROWS (sizeof KERNEL_ROWS / sizeof KERNEL_ROWS[0])

/* The Kern at row's offset in k, plus i (a family's activation). */
static Kern *kern_at(Kernels *k, const KernelRow *row, int i)
{
    return (Kern *)((char *)k + row->offset) + i;
}

static int has_kernels(const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/act.cl", dir) >= (int)sizeof path) return 0;
    return access(path, R_OK) == 0;
}

int kernels_find_dir(const char *explicit_dir, char *dir, size_t len, const char **source,
                     Err *err)
{
    const char *env = getenv("CLAE_CL_DIR");
    const char *given = explicit_dir ? explicit_dir : (env && *env ? env : NULL);
    if (given) {
        *source = explicit_dir ? "--cl-dir" : "CLAE_CL_DIR";
        if (!has_kernels(given))
            return err_set(err, "%s %s: no act.cl there; expected the clae kernel folder (cl/ in "
                                "the source tree, share/clae/cl when installed)",
                           *source, given);
        snprintf(dir, len, "%s", given);
        return 0;
    }
    /* Installed layout: <prefix>/bin/clae and <prefix>/share/clae/cl. */
    char inst[4200];
    if (util_share_dir("cl", inst, sizeof inst) == 0 && has_kernels(inst)) {
        char real[PATH_MAX];
        snprintf(dir, len, "%s", realpath(inst, real) ? real : inst);
        *source = "installed";
        return 0;
    }
    if (has_kernels(CLAE_SOURCE_CL_DIR)) {
        snprintf(dir, len, "%s", CLAE_SOURCE_CL_DIR);
        *source = "source tree";
        return 0;
    }
    return err_set(err, "cannot find the clae kernels (act.cl): not in <exe>/../share/clae/cl nor "
                        "in %s; pass --cl-dir DIR or set CLAE_CL_DIR",
                   CLAE_SOURCE_CL_DIR);
}

/* Builds one program; on a build failure prints path, options and log. */
static int build_program(Kernels *k, const char *file, cl_program *out, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", k->dir, file);
    size_t len = 0;
    char *src = util_read_file(path, &len, err);
    if (!src) return -1;
    cl_int rc = CL_SUCCESS;
    const char *srcs[1] = {src};
    *out = clCreateProgramWithSource(k->ctx->context, 1, srcs, &len, &rc);
    free(src);
    if (rc != CL_SUCCESS) {
        clctx_check(rc, "clCreateProgramWithSource", __FILE__, __LINE__, err);
        return err_prefix(err, "%s", path);
    }
    rc = clBuildProgram(*out, 1, &k->ctx->device, BUILD_OPTIONS, NULL, NULL);
    if (rc != CL_SUCCESS) {
        size_t log_len = 0;
        char *log = NULL;
        if (clGetProgramBuildInfo(*out, k->ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len) ==
                CL_SUCCESS &&
            (log = malloc(log_len + 1)) != NULL &&
            clGetProgramBuildInfo(*out, k->ctx->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL) ==
                CL_SUCCESS) {
            log[log_len] = '\0';
        } else if (log) {
            log[0] = '\0';
        }
        fprintf(stderr, "clae: building %s with options \"%s\" failed; build log:\n%s\n", path,
                BUILD_OPTIONS, log ? log : "(no build log)");
        free(log);
        clctx_check(rc, "clBuildProgram", __FILE__, __LINE__, err);
        return err_prefix(err, "%s (options \"%s\", build log above)", path, BUILD_OPTIONS);
    }
    return 0;
}

static int make_kernel(Kernels *k, cl_program prog, const char *name, Kern *out, Err *err)
{
    cl_int rc = CL_SUCCESS;
    out->name = name;
    out->k = clCreateKernel(prog, name, &rc);
    CL_CHECK(rc);
    size_t kwg = 0;
    CL_CHECK(clGetKernelWorkGroupInfo(out->k, k->ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg,
                                      &kwg, NULL));
    /* 256 is a size every vendor schedules well for element-wise work; the
     * device and the compiled kernel may allow less. */
    out->wg = kwg < 256 ? kwg : 256;
    if (out->wg > k->ctx->max_work_group) out->wg = k->ctx->max_work_group;
    if (out->wg == 0) out->wg = 1;
    out->wg_max = kwg < k->ctx->max_work_group ? kwg : k->ctx->max_work_group;
    if (out->wg_max < out->wg) out->wg_max = out->wg;
    return 0;
fail:
    return err_prefix(err, "kernel %s", name);
}

int kernels_create(Kernels *k, ClCtx *ctx, const char *dir, const char *dir_source, Err *err)
{
    memset(k, 0, sizeof *k);
    k->ctx = ctx;
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    k->dir_source = dir_source;
    for (int i = 0; i < PROG_COUNT; i++)
        if (build_program(k, PROGRAM_FILES[i], &k->programs[i], err)) goto fail;
    for (int a = 0; a < ACT_COUNT; a++)
        for (int f = 0; f < KERNELS_FAMILY_COUNT; f++) {
            const KernelRow *row = &FAMILY_ROWS[f];
            char *name = k->family_names[f][a];
            snprintf(name, sizeof k->family_names[f][a], "%s_%s", row->name,
                     config_activation_name((Activation)a));
            if (make_kernel(k, k->programs[row->program], name, kern_at(k, row, a), err))
                goto fail;
        }
    for (size_t i = 0; i < N_KERNEL_ROWS; i++) {
        const KernelRow *row = &KERNEL_ROWS[i];
        if (make_kernel(k, k->programs[row->program], row->name, kern_at(k, row, 0), err))
            goto fail;
    }
    int cpu = (ctx->type & CL_DEVICE_TYPE_CPU) != 0;
    k->chunk_row = cpu ? KERNELS_CPU_CHUNK_ROW : 1;
    k->chunk_flat = cpu ? KERNELS_CPU_CHUNK_FLAT : 1;
    k->chunk_col = cpu ? KERNELS_CPU_CHUNK_COL : 1;
    /* reduce_sum's tree needs a power-of-two group. */
    k->reduce_wg = 1;
    while (k->reduce_wg * 2 <= k->reduce_sum.wg) k->reduce_wg *= 2;
    return 0;
fail:
    kernels_destroy(k);
    return -1;
}

void kernels_destroy(Kernels *k)
{
    if (!k) return;
    for (size_t i = 0; i < N_KERNEL_ROWS; i++) {
        Kern *kern = kern_at(k, &KERNEL_ROWS[i], 0);
        if (kern->k) clReleaseKernel(kern->k), kern->k = NULL;
    }
    for (int f = 0; f < KERNELS_FAMILY_COUNT; f++)
        for (int a = 0; a < ACT_COUNT; a++) {
            Kern *kern = kern_at(k, &FAMILY_ROWS[f], a);
            if (kern->k) clReleaseKernel(kern->k), kern->k = NULL;
        }
    for (int i = 0; i < PROG_COUNT; i++)
        if (k->programs[i]) clReleaseProgram(k->programs[i]), k->programs[i] = NULL;
}

/* The group size of an element-wise launch over n items. A CPU runs a
 * work-group as one loop on one core, so fewer, larger groups cost less to
 * dispatch (measured on PoCL: Adam over 1.1 M parameters 1.7x faster in
 * groups of 4096 than of 256), down to the power of two that covers n, so
 * that small launches do not loop over empty items and a handful of sizes
 * compile, and to one group per core at least (a 500-column col_sum in one
 * group of 512 ran on one core). GPUs keep 256. */
static size_t elementwise_local(const Kernels *k, const Kern *kern, size_t n)
{
    if (!(k->ctx->type & CL_DEVICE_TYPE_CPU)) return kern->wg;
    size_t local = kern->wg_max < 4096 ? kern->wg_max : 4096;
    size_t cores = k->ctx->compute_units ? k->ctx->compute_units : 1;
    /* ... but at least one group per core while groups stay >= 64. */
    while (local / 2 >= 64 && (local / 2 >= n || n / local < cores)) local /= 2;
    return local;
}

/* Rows a 2-D element-wise group spans on a CPU: as many as fill it to
 * 4096 items, while every core still gets a group. A CPU runs a group as a
 * loop; one row of a short map (49 or 196 values of a conv layer's channel)
 * a group made thousands of tiny groups (measured on PoCL, a 50 x 16 x 196
 * bias-and-activation: 0.6 ms in groups of one row). GPUs keep one row. */
static size_t rows_per_group(const Kernels *k, const Kern *kern, size_t local, size_t rows)
{
    if (!(k->ctx->type & CL_DEVICE_TYPE_CPU) || rows <= 1) return 1;
    size_t cores = k->ctx->compute_units ? k->ctx->compute_units : 1;
    size_t cap = kern->wg_max < 4096 ? kern->wg_max : 4096;
    size_t r = cap / local;
    while (r > 1 && (rows + r - 1) / r < cores) r /= 2;
    if (r > rows) r = rows;
    return r ? r : 1;
}

/* The one launch path: 1-D over n items, or 2-D over (n, rows) when rows >
 * 0 (on a CPU several rows a group, rows_per_group); global rounded up to a
 * multiple of the group in both dimensions (kernels guard the tails),
 * `local` 0 for the element-wise choice, a profiling event when asked for. */
static int launch2(Kernels *k, Kern *kern, size_t n, size_t rows, size_t local, Err *err)
{
    if (local == 0) local = elementwise_local(k, kern, n);
    size_t per = rows ? rows_per_group(k, kern, local, rows) : 1;
    size_t global[2] = {(n + local - 1) / local * local, (rows + per - 1) / per * per},
           loc[2] = {local, per};
    if (global[0] == 0) global[0] = local;
    cl_event *ev = NULL;
    if (prof_slot(k->prof, kern->name, 0, &ev, err)) return -1;
    CL_CHECK(clEnqueueNDRangeKernel(k->ctx->queue, kern->k, rows ? 2 : 1, NULL, global, loc, 0,
                                    NULL, ev));
    return 0;
fail:
    return err_prefix(err, "kernel %s (global %zu x %zu, local %zu x %zu)", kern->name, global[0],
                      rows ? global[1] : 1, local, per);
}

static int launch(Kernels *k, Kern *kern, size_t n, size_t local, Err *err)
{
    return launch2(k, kern, n, 0, local, err);
}

/* A chunked kernel over n values, `chunk` a work-item, in (n, rows) when
 * rows > 0: ceil(n / chunk) work-items a row. With chunks a work-item is
 * already a loop of its own, so a row's few work-items (16 for 500 values)
 * get a group of the power of two that covers them, not the element-wise
 * minimum of 64, mostly empty; and a flat buffer's get groups of 64, enough
 * groups to share among the cores evenly (Adam over 1.1 M parameters in
 * 2048-item groups made 3 groups for 2 cores), smaller when that leaves a
 * core without one (col_sum's 10-25 work-items of 32 columns each, in one
 * group, all ran on one core: 0.28 against 0.16-0.21 ms a step at batch 256). */
static int launch_chunked(Kernels *k, Kern *kern, size_t n, size_t rows, int chunk, Err *err)
{
    size_t items = (n + (size_t)chunk - 1) / (size_t)chunk, local = 0;
    if (chunk > 1) {
        local = 1;
        size_t want = rows > 0 ? items : 64;
        while (local < want && local * 2 <= kern->wg_max) local *= 2;
        size_t cores = k->ctx->compute_units ? k->ctx->compute_units : 1;
        while (rows == 0 && local > 1 && items / local < cores) local /= 2;
    }
    return launch2(k, kern, items ? items : 1, rows, local, err);
}

/* Argument setters: one checked clSetKernelArg each. */
#define ARG(kern, i, type, val)                                                            \
    do {                                                                                   \
        type v_ = (val);                                                                   \
        if (clctx_check(clSetKernelArg((kern)->k, (i), sizeof v_, &v_), "clSetKernelArg", \
                        __FILE__, __LINE__, err))                                          \
            return err_prefix(err, "kernel %s argument %d", (kern)->name, (i));            \
    } while (0)

/* Offsets and sizes go to kernels as int: check they fit. */
static int fits_int(size_t v, const char *what, Err *err)
{
    if (v > (size_t)INT_MAX) return err_set(err, "%s = %zu exceeds the kernels' int range", what, v);
    return 0;
}

/* The activation's kernel of a per-activation family. */
static Kern *act_kern(Kern *family, int act, Err *err)
{
    if (act < 0 || act >= ACT_COUNT) {
        err_set(err, "activation code %d: no such activation", act);
        return NULL;
    }
    return &family[act];
}

int kern_bias_act(Kernels *k, cl_mem y, int rows, int cols, cl_mem p, size_t b_off, int act,
                  Err *err)
{
    Kern *K = act_kern(k->bias_act, act, err);
    if (!K || fits_int(b_off, "bias offset", err)) return -1;
    ARG(K, 0, cl_mem, y);
    ARG(K, 1, cl_int, rows);
    ARG(K, 2, cl_int, cols);
    ARG(K, 3, cl_mem, p);
    ARG(K, 4, cl_int, (cl_int)b_off);
    ARG(K, 5, cl_int, k->chunk_row);
    return launch_chunked(k, K, (size_t)cols, (size_t)rows, k->chunk_row, err);
}

int kern_act_backward(Kernels *k, cl_mem d, cl_mem y, int n, int act, Err *err)
{
    Kern *K = act_kern(k->act_backward, act, err);
    if (!K) return -1;
    ARG(K, 0, cl_mem, d);
    ARG(K, 1, cl_mem, y);
    ARG(K, 2, cl_int, n);
    ARG(K, 3, cl_int, k->chunk_flat);
    return launch_chunked(k, K, (size_t)n, 0, k->chunk_flat, err);
}

int kern_loss(Kernels *k, int bce, cl_mem pred, cl_mem target, size_t t_off, cl_mem grad,
              cl_mem elem, int n, float scale, int want_grad, Err *err)
{
    Kern *K = bce ? &k->bce_loss : &k->mse_loss;
    if (fits_int(t_off, "target offset", err)) return -1;
    ARG(K, 0, cl_mem, pred);
    ARG(K, 1, cl_mem, target);
    ARG(K, 2, cl_int, (cl_int)t_off);
    ARG(K, 3, cl_mem, grad);
    ARG(K, 4, cl_mem, elem);
    ARG(K, 5, cl_int, n);
    ARG(K, 6, cl_float, scale);
    ARG(K, 7, cl_int, want_grad);
    return launch(k, K, (size_t)n, 0, err);
}

int kern_reduce_sum(Kernels *k, cl_mem x, int n, cl_mem out, int out_idx, Err *err)
{
    Kern *K = &k->reduce_sum;
    ARG(K, 0, cl_mem, x);
    ARG(K, 1, cl_int, n);
    ARG(K, 2, cl_mem, out);
    ARG(K, 3, cl_int, out_idx);
    if (clctx_check(clSetKernelArg(K->k, 4, k->reduce_wg * sizeof(cl_float), NULL),
                    "clSetKernelArg", __FILE__, __LINE__, err))
        return err_prefix(err, "kernel reduce_sum argument 4");
    return launch(k, K, k->reduce_wg, k->reduce_wg, err);
}

int kern_gather_rows(Kernels *k, cl_mem src, cl_mem idx, int idx_off, cl_mem dst, int rows,
                     int cols, Err *err)
{
    Kern *K = &k->gather_rows;
    ARG(K, 0, cl_mem, src);
    ARG(K, 1, cl_mem, idx);
    ARG(K, 2, cl_int, idx_off);
    ARG(K, 3, cl_mem, dst);
    ARG(K, 4, cl_int, rows);
    ARG(K, 5, cl_int, cols);
    return launch2(k, K, (size_t)cols, (size_t)rows, 0, err);
}

int kern_gather_rows_u8(Kernels *k, cl_mem src, cl_mem idx, int idx_off, cl_mem dst, int rows,
                        int cols, Err *err)
{
    Kern *K = &k->gather_rows_u8;
    ARG(K, 0, cl_mem, src);
    ARG(K, 1, cl_mem, idx);
    ARG(K, 2, cl_int, idx_off);
    ARG(K, 3, cl_mem, dst);
    ARG(K, 4, cl_int, rows);
    ARG(K, 5, cl_int, cols);
    return launch2(k, K, (size_t)cols, (size_t)rows, 0, err);
}

int kern_rows_u8(Kernels *k, cl_mem src, int first, cl_mem dst, int rows, int cols, Err *err)
{
    Kern *K = &k->rows_u8;
    ARG(K, 0, cl_mem, src);
    ARG(K, 1, cl_int, first);
    ARG(K, 2, cl_mem, dst);
    ARG(K, 3, cl_int, rows);
    ARG(K, 4, cl_int, cols);
    return launch2(k, K, (size_t)cols, (size_t)rows, 0, err);
}

int kern_col_sum(Kernels *k, cl_mem d, int rows, int cols, cl_mem out, size_t out_off, Err *err)
{
    Kern *K = &k->col_sum;
    if (fits_int(out_off, "output offset", err)) return -1;
    ARG(K, 0, cl_mem, d);
    ARG(K, 1, cl_int, rows);
    ARG(K, 2, cl_int, cols);
    ARG(K, 3, cl_mem, out);
    ARG(K, 4, cl_int, (cl_int)out_off);
    ARG(K, 5, cl_int, k->chunk_col);
    return launch_chunked(k, K, (size_t)cols, 0, k->chunk_col, err);
}

/* The five arguments of a Philox stream, from argument `at`: rng.cl's
 * seed_lo, seed_hi, purpose, step_lo, step_hi. */
static int stream_args(Kern *K, int at, uint64_t seed, uint32_t purpose, uint64_t step,
                       Err *err)
{
    ARG(K, at, cl_uint, (cl_uint)seed);
    ARG(K, at + 1, cl_uint, (cl_uint)(seed >> 32));
    ARG(K, at + 2, cl_uint, purpose);
    ARG(K, at + 3, cl_uint, (cl_uint)step);
    ARG(K, at + 4, cl_uint, (cl_uint)(step >> 32));
    return 0;
}

int kern_rng_fill(Kernels *k, cl_mem out, int n, uint64_t seed, uint32_t purpose, uint64_t step,
                  int normal, Err *err)
{
    Kern *K = &k->rng_fill;
    ARG(K, 0, cl_mem, out);
    ARG(K, 1, cl_int, n);
    if (stream_args(K, 2, seed, purpose, step, err)) return -1;
    ARG(K, 7, cl_int, normal);
    return launch(k, K, (size_t)n, 0, err);
}

int kern_adam_step(Kernels *k, cl_mem p, cl_mem g, cl_mem m, cl_mem v, int n, float lr,
                   float beta1, float beta2, float eps, float bc1, float bc2, float wd, Err *err)
{
    Kern *K = &k->adam_step;
    ARG(K, 0, cl_mem, p);
    ARG(K, 1, cl_mem, g);
    ARG(K, 2, cl_mem, m);
    ARG(K, 3, cl_mem, v);
    ARG(K, 4, cl_int, n);
    ARG(K, 5, cl_float, lr);
    ARG(K, 6, cl_float, beta1);
    ARG(K, 7, cl_float, beta2);
    ARG(K, 8, cl_float, eps);
    ARG(K, 9, cl_float, bc1);
    ARG(K, 10, cl_float, bc2);
    ARG(K, 11, cl_float, wd);
    ARG(K, 12, cl_int, k->chunk_flat);
    return launch_chunked(k, K, (size_t)n, 0, k->chunk_flat, err);
}

int kern_sgd_step(Kernels *k, cl_mem p, cl_mem g, int n, float lr, float wd, Err *err)
{
    Kern *K = &k->sgd_step;
    ARG(K, 0, cl_mem, p);
    ARG(K, 1, cl_mem, g);
    ARG(K, 2, cl_int, n);
    ARG(K, 3, cl_float, lr);
    ARG(K, 4, cl_float, wd);
    ARG(K, 5, cl_int, k->chunk_flat);
    return launch_chunked(k, K, (size_t)n, 0, k->chunk_flat, err);
}

int kern_momentum_step(Kernels *k, cl_mem p, cl_mem g, cl_mem vel, int n, float lr, float mu,
                       float wd, Err *err)
{
    Kern *K = &k->momentum_step;
    ARG(K, 0, cl_mem, p);
    ARG(K, 1, cl_mem, g);
    ARG(K, 2, cl_mem, vel);
    ARG(K, 3, cl_int, n);
    ARG(K, 4, cl_float, lr);
    ARG(K, 5, cl_float, mu);
    ARG(K, 6, cl_float, wd);
    ARG(K, 7, cl_int, k->chunk_flat);
    return launch_chunked(k, K, (size_t)n, 0, k->chunk_flat, err);
}

int kern_noise(Kernels *k, int mask, cl_mem x, cl_mem out, int n, uint64_t seed, uint32_t purpose,
               uint64_t step, float level, Err *err)
{
    Kern *K = mask ? &k->noise_mask : &k->noise_gaussian;
    ARG(K, 0, cl_mem, x);
    ARG(K, 1, cl_mem, out);
    ARG(K, 2, cl_int, n);
    if (stream_args(K, 3, seed, purpose, step, err)) return -1;
    ARG(K, 8, cl_float, level);
    return launch(k, K, (size_t)n, 0, err);
}

int kern_vae_sample(Kernels *k, cl_mem stats, cl_mem z, cl_mem eps, cl_mem kl, int rows, int K,
                    int draw, uint64_t seed, uint32_t purpose, uint64_t step, Err *err)
{
    Kern *Kn = &k->vae_sample;
    ARG(Kn, 0, cl_mem, stats);
    ARG(Kn, 1, cl_mem, z);
    ARG(Kn, 2, cl_mem, eps);
    ARG(Kn, 3, cl_mem, kl);
    ARG(Kn, 4, cl_int, rows);
    ARG(Kn, 5, cl_int, K);
    ARG(Kn, 6, cl_int, draw);
    if (stream_args(Kn, 7, seed, purpose, step, err)) return -1;
    return launch(k, Kn, (size_t)rows * (size_t)K, 0, err);
}

int kern_vae_backward(Kernels *k, cl_mem dz, cl_mem stats, cl_mem eps, cl_mem d, int rows, int K,
                      float kl_scale, Err *err)
{
    Kern *Kn = &k->vae_backward;
    ARG(Kn, 0, cl_mem, dz);
    ARG(Kn, 1, cl_mem, stats);
    ARG(Kn, 2, cl_mem, eps);
    ARG(Kn, 3, cl_mem, d);
    ARG(Kn, 4, cl_int, rows);
    ARG(Kn, 5, cl_int, K);
    ARG(Kn, 6, cl_float, kl_scale);
    return launch(k, Kn, (size_t)rows * (size_t)K, 0, err);
}

/* Sizes a conv kernel indexes with int must fit one. */
static int conv_fits(const KernConv *g, Err *err)
{
    double col = (double)g->C * g->K * g->K * g->B * g->OH * g->OW;
    double img = (double)g->B * g->C * g->H * g->W;
    if (col > INT_MAX || img > INT_MAX)
        return err_set(err, "convolution of %d maps %dx%dx%d (kernel %d, stride %d): %.0f column "
                            "values, more than the kernels' int range",
                       g->B, g->C, g->H, g->W, g->K, g->S, col);
    return 0;
}

/* The nine geometry arguments from argument `at`: B, C, H, W, K, S, P, OH, OW. */
static int conv_args(Kern *K, int at, const KernConv *g, Err *err)
{
    const int v[9] = {g->B, g->C, g->H, g->W, g->K, g->S, g->P, g->OH, g->OW};
    for (int i = 0; i < 9; i++) ARG(K, at + i, cl_int, v[i]);
    return 0;
}

int kern_im2col(Kernels *k, cl_mem x, size_t x_off, cl_mem col, const KernConv *g, Err *err)
{
    Kern *K = &k->im2col;
    if (conv_fits(g, err) || fits_int(x_off, "input offset", err)) return -1;
    ARG(K, 0, cl_mem, x);
    ARG(K, 1, cl_int, (cl_int)x_off);
    ARG(K, 2, cl_mem, col);
    if (conv_args(K, 3, g, err)) return -1;
    return launch2(k, K, (size_t)g->B * (size_t)g->OH, (size_t)g->C * (size_t)g->K * (size_t)g->K,
                   0, err);
}

int kern_col2im(Kernels *k, cl_mem col, cl_mem x, const KernConv *g, Err *err)
{
    Kern *K = &k->col2im;
    if (conv_fits(g, err)) return -1;
    ARG(K, 0, cl_mem, col);
    ARG(K, 1, cl_mem, x);
    if (conv_args(K, 2, g, err)) return -1;
    return launch(k, K, (size_t)g->B * (size_t)g->C * (size_t)g->H, 0, err);
}

int kern_swap_axes(Kernels *k, cl_mem in, size_t in_off, cl_mem out, int A1, int B1, int P,
                   Err *err)
{
    Kern *K = &k->swap_axes;
    if (fits_int(in_off, "input offset", err) ||
        fits_int((size_t)A1 * (size_t)B1 * (size_t)P, "swapped values", err))
        return -1;
    ARG(K, 0, cl_mem, in);
    ARG(K, 1, cl_int, (cl_int)in_off);
    ARG(K, 2, cl_mem, out);
    ARG(K, 3, cl_int, A1);
    ARG(K, 4, cl_int, B1);
    ARG(K, 5, cl_int, P);
    return launch2(k, K, (size_t)P, (size_t)A1 * (size_t)B1, 0, err);
}

int kern_map_bias_grad(Kernels *k, cl_mem d, int B, int F, int P, cl_mem out, size_t out_off,
                       Err *err)
{
    Kern *K = &k->map_bias_grad;
    if (fits_int(out_off, "output offset", err)) return -1;
    ARG(K, 0, cl_mem, d);
    ARG(K, 1, cl_int, B);
    ARG(K, 2, cl_int, F);
    ARG(K, 3, cl_int, P);
    ARG(K, 4, cl_mem, out);
    ARG(K, 5, cl_int, (cl_int)out_off);
    return launch(k, K, (size_t)F, 0, err);
}

int kern_bias_act_map(Kernels *k, int cnhw, cl_mem z, cl_mem y, int B, int F, int P, cl_mem p,
                      size_t b_off, int act, Err *err)
{
    Kern *K = act_kern(cnhw ? k->bias_act_cnhw : k->bias_act_nchw, act, err);
    if (!K || fits_int(b_off, "bias offset", err) ||
        fits_int((size_t)B * (size_t)F * (size_t)P, "map values", err))
        return -1;
    /* bias_act_cnhw reads z first; bias_act_nchw has no z */
    int a = cnhw ? 1 : 0;
    if (cnhw) ARG(K, 0, cl_mem, z);
    ARG(K, a, cl_mem, y);
    ARG(K, a + 1, cl_int, B);
    ARG(K, a + 2, cl_int, F);
    ARG(K, a + 3, cl_int, P);
    ARG(K, a + 4, cl_mem, p);
    ARG(K, a + 5, cl_int, (cl_int)b_off);
    return launch2(k, K, (size_t)P, (size_t)B * (size_t)F, 0, err);
}
