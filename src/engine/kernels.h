/* kernels: the project's own OpenCL kernels (the .cl files in cl/).
 *
 * Owns: finding the kernel folder, building each .cl file once at startup
 * (printing the path, options and the whole build log on failure), the
 * cl_kernel objects, and one typed wrapper per kernel. Every wrapper goes
 * through one launch helper that rounds the global size up to the work-group
 * size (taken from the device and kernel limits) and checks the enqueue.
 * Nothing here waits for the device.
 *
 * The tables below make the Kernels fields, their creation and their
 * release: adding a kernel is a row in KERNELS_TABLE (or a family in
 * KERNELS_PER_ACTIVATION), the kernel in its .cl file, and its typed
 * wrapper. Constants the .cl files share with the host come from here as
 * -D build options, never written twice. */
#ifndef CLAE_KERNELS_H
#define CLAE_KERNELS_H

#include "clctx.h"
#include "prof.h"
#include "util.h"

typedef struct {
    cl_kernel k;
    const char *name;
    size_t wg;     /* the usual work-group size: 256, or less where the device or kernel
                      allows less (reduce_sum's tree is sized from it) */
    size_t wg_max; /* the largest the kernel allows on this device (element-wise launches on
                      CPUs, see launch in kernels.c) */
} Kern;

/* Values one work-item does in a loop of its own in the chunked
 * element-wise kernels on a CPU (act.cl, optim.cl say why): a row's values
 * for bias_act (32: 256 x 500 tanh as fast as 64 and 128, measured on PoCL
 * 3.1), a flat buffer's for act_backward and the optimizer steps (256: Adam
 * over 1.1 M parameters 2-3x faster than one a work-item under AVX2 code,
 * as fast under AVX-512). GPUs do one a work-item. */
#define KERNELS_CPU_CHUNK_ROW 32
#define KERNELS_CPU_CHUNK_FLAT 256
/* Columns a work-item of col_sum sums on a CPU: must be data.cl's
 * COL_CHUNK, the one width whose sums stay in registers. */
#define KERNELS_CPU_CHUNK_COL 32

/* leaky_relu's slope for z < 0: act.cl gets it as -DLEAKY_SLOPE=<it>f, and
 * ref.c's host reference uses it too. */
#define KERNELS_LEAKY_SLOPE 0.01

/* The programs, one per .cl file, built in this order. */
#define KERNELS_PROGRAMS(X)                                                                      \
    X(PROG_ACT, "act.cl")                                                                        \
    X(PROG_LOSS, "loss.cl")                                                                      \
    X(PROG_DATA, "data.cl")                                                                      \
    X(PROG_OPTIM, "optim.cl")                                                                    \
    X(PROG_RNG, "rng.cl")                                                                        \
    X(PROG_CONV, "conv.cl")

/* Every kernel: its name in its .cl file (and its Kernels field) and its
 * program. */
#define KERNELS_TABLE(X)                                                                         \
    X(mse_loss, PROG_LOSS)                                                                       \
    X(bce_loss, PROG_LOSS)                                                                       \
    X(reduce_sum, PROG_LOSS)                                                                     \
    X(gather_rows, PROG_DATA)                                                                    \
    X(gather_rows_u8, PROG_DATA)                                                                 \
    X(rows_u8, PROG_DATA)                                                                        \
    X(col_sum, PROG_DATA)                                                                        \
    X(adam_step, PROG_OPTIM)                                                                     \
    X(sgd_step, PROG_OPTIM)                                                                      \
    X(momentum_step, PROG_OPTIM)                                                                 \
    X(rng_fill, PROG_RNG)                                                                        \
    X(vae_sample, PROG_RNG)                                                                      \
    X(vae_backward, PROG_RNG)                                                                    \
    X(noise_gaussian, PROG_RNG)                                                                  \
    X(noise_mask, PROG_RNG)                                                                      \
    X(im2col, PROG_CONV)                                                                         \
    X(col2im, PROG_CONV)                                                                         \
    X(swap_axes, PROG_CONV)                                                                      \
    X(map_bias_grad, PROG_CONV)

/* Families of one kernel per Activation, <family>_<activation name> in the
 * .cl file (config_activation_name); the field is indexed by Activation. */
#define KERNELS_PER_ACTIVATION(X)                                                                \
    X(bias_act, PROG_ACT)                                                                        \
    X(act_backward, PROG_ACT)                                                                    \
    X(bias_act_cnhw, PROG_ACT)                                                                   \
    X(bias_act_nchw, PROG_ACT)

typedef enum {
#define X(id, file) id,
    KERNELS_PROGRAMS(X)
#undef X
    PROG_COUNT
} KernelsProgram;

enum {
#define X(name, prog) KERNELS_FAMILY_##name,
    KERNELS_PER_ACTIVATION(X)
#undef X
    KERNELS_FAMILY_COUNT
};

typedef struct {
    char dir[4096];          /* kernel folder used */
    const char *dir_source;  /* how it was found: "--cl-dir", "CLAE_CL_DIR", "installed", "source tree" */
    cl_program programs[PROG_COUNT]; /* owned */
#define X(name, prog) Kern name;
    KERNELS_TABLE(X)
#undef X
#define X(name, prog) Kern name[ACT_COUNT];
    KERNELS_PER_ACTIVATION(X)
#undef X
    char family_names[KERNELS_FAMILY_COUNT][ACT_COUNT][48]; /* the families' kernel names */
    size_t reduce_wg;        /* power-of-two group size for reduce_sum */
    int chunk_row, chunk_flat, chunk_col; /* values a work-item of the chunked kernels:
                                  KERNELS_CPU_CHUNK_* on CPUs, 1 elsewhere (kernels_create;
                                  selftest sets 1 too) */
    ClCtx *ctx;              /* borrowed */
    Prof *prof;              /* borrowed, may be NULL */
} Kernels;

/* Finds the kernel folder in the documented order: `explicit_dir` (from
 * --cl-dir) if not NULL, else $CLAE_CL_DIR, else the installed
 * <exe>/../share/clae/cl, else the source tree's cl/ compiled in. The first
 * that is given is used (and must contain act.cl); later ones only when the
 * earlier are absent. Never the current directory alone. */
int kernels_find_dir(const char *explicit_dir, char *dir, size_t len, const char **source,
                     Err *err);

/* Builds every program in dir for ctx's device and creates the kernels.
 * k is zeroed first; kernels_destroy frees it. */
int kernels_create(Kernels *k, ClCtx *ctx, const char *dir, const char *dir_source, Err *err);
void kernels_destroy(Kernels *k);

/* Typed wrappers; shapes as in the .cl files. Element offsets, not bytes. */
int kern_bias_act(Kernels *k, cl_mem y, int rows, int cols, cl_mem p, size_t b_off, int act,
                  Err *err);
int kern_act_backward(Kernels *k, cl_mem d, cl_mem y, int n, int act, Err *err);
int kern_loss(Kernels *k, int bce, cl_mem pred, cl_mem target, size_t t_off, cl_mem grad,
              cl_mem elem, int n, float scale, int want_grad, Err *err);
int kern_reduce_sum(Kernels *k, cl_mem x, int n, cl_mem out, int out_idx, Err *err);
int kern_gather_rows(Kernels *k, cl_mem src, cl_mem idx, int idx_off, cl_mem dst, int rows,
                     int cols, Err *err);
/* The byte data's gather: dst (rows, cols) floats = src (uchar) rows
 * idx[idx_off + r] / 255; and its rows first .. first + rows - 1 / 255. */
int kern_gather_rows_u8(Kernels *k, cl_mem src, cl_mem idx, int idx_off, cl_mem dst, int rows,
                        int cols, Err *err);
int kern_rows_u8(Kernels *k, cl_mem src, int first, cl_mem dst, int rows, int cols, Err *err);
int kern_col_sum(Kernels *k, cl_mem d, int rows, int cols, cl_mem out, size_t out_off, Err *err);
int kern_adam_step(Kernels *k, cl_mem p, cl_mem g, cl_mem m, cl_mem v, int n, float lr,
                   float beta1, float beta2, float eps, float bc1, float bc2, float wd, Err *err);
int kern_sgd_step(Kernels *k, cl_mem p, cl_mem g, int n, float lr, float wd, Err *err);
/* out[i] = the i-th uniform (normal = 0) or standard normal (normal = 1) of
 * the Philox stream (seed, purpose, step), i < n: util/philox.h's numbers. */
int kern_rng_fill(Kernels *k, cl_mem out, int n, uint64_t seed, uint32_t purpose, uint64_t step,
                  int normal, Err *err);
int kern_momentum_step(Kernels *k, cl_mem p, cl_mem g, cl_mem vel, int n, float lr, float mu,
                       float wd, Err *err);
/* A vae's code (rng.cl): z, eps, kl (rows, K) from stats (rows, 2K) = the
 * means then the log-variances of each row; eps the Philox stream's normals
 * of (seed, purpose, step) at index r K + j when draw, else 0. */
int kern_vae_sample(Kernels *k, cl_mem stats, cl_mem z, cl_mem eps, cl_mem kl, int rows, int K,
                    int draw, uint64_t seed, uint32_t purpose, uint64_t step, Err *err);
/* d (rows, 2K) = the gradient at stats from dz (rows, K) at z, plus
 * kl_scale times the KL term's gradient (rng.cl's vae_backward). */
int kern_vae_backward(Kernels *k, cl_mem dz, cl_mem stats, cl_mem eps, cl_mem d, int rows, int K,
                      float kl_scale, Err *err);
/* The geometry of a convolution as conv.cl's kernels take it: a batch of B
 * maps C x H x W (the image side), K x K taps at stride S with padding P,
 * and OH x OW output positions (the column side). */
typedef struct {
    int B, C, H, W, K, S, P, OH, OW;
} KernConv;

/* col (C K K, B OH OW) = the taps of x (B, C, H, W) from element x_off. */
int kern_im2col(Kernels *k, cl_mem x, size_t x_off, cl_mem col, const KernConv *g, Err *err);
/* x (B, C, H, W) = the adjoint of im2col applied to col (C K K, B OH OW). */
int kern_col2im(Kernels *k, cl_mem col, cl_mem x, const KernConv *g, Err *err);
/* out (B1, A1, P) = in (A1, B1, P) from element in_off, axes 0 and 1 swapped. */
int kern_swap_axes(Kernels *k, cl_mem in, size_t in_off, cl_mem out, int A1, int B1, int P,
                   Err *err);
/* out[out_off + f] = sum over b, p of d (B, F, P)[b, f, p]. */
int kern_map_bias_grad(Kernels *k, cl_mem d, int B, int F, int P, cl_mem out, size_t out_off,
                       Err *err);
/* y (B, F, P) = act(z (F, B, P) + b) with b = p[b_off .. b_off + F), one per channel,
 * from channels first to NCHW (cnhw = 1); or y = act(y + b) in place on y (B, F, P)
 * (cnhw = 0, z unused). */
int kern_bias_act_map(Kernels *k, int cnhw, cl_mem z, cl_mem y, int B, int F, int P, cl_mem p,
                      size_t b_off, int act, Err *err);

/* out (n) = x (n) corrupted with the Philox stream (seed, purpose, step):
 * mask = 0, x + level z (gaussian, z standard normal); mask = 1, 0 with
 * probability level, else x (rng.cl; util/philox.h's numbers). */
int kern_noise(Kernels *k, int mask, cl_mem x, cl_mem out, int n, uint64_t seed, uint32_t purpose,
               uint64_t step, float level, Err *err);

#endif
