/* infer: using a trained model, from a run folder.
 *
 * Owns: opening a run folder for inference (its config.ini, a device, the
 * kernels, and a Model filled from its model.ckpt), batched encoding (layers
 * [0, latent)) and decoding (layers [latent, L)) of host arrays on the
 * device, the ranges and grid of latent points
 * that a manifold picture shows, a vae's prior (a grid of N(0, I) quantiles,
 * or seeded random draws), and drawing decoded images as PNGs (gray, or
 * RGB / RGBA for images of 3 / 4 channels):
 * what `clae encode`, `clae decode` and `clae generate` (cli/) do, and
 * train.c's RUN/manifold.png at the end of a completed run. */
#ifndef CLAE_INFER_H
#define CLAE_INFER_H

#include "ckpt.h"
#include "config.h"
#include "device.h"
#include "model.h"
#include "util.h"

#define INFER_MAX_BATCH 256  /* rows per device pass when encoding or decoding */
#define INFER_GRID_DEFAULT 15 /* clae generate's N x N, and every run's manifold.png */
#define INFER_GRID_MAX 100
#define INFER_SCALE_DEFAULT 4 /* clae decode: each pixel as 4 x 4 */
#define INFER_SCALE_MAX 32
#define INFER_PCT_LO 0.01    /* --range auto: the 1st ... */
#define INFER_PCT_HI 0.99    /* ... to the 99th percentile of the test-set codes */
#define INFER_SAMPLES_MAX 10000 /* clae generate --samples: at most 100 x 100 pictures */
#define INFER_PATH_MAX 4096   /* a run folder's path, its NUL included */

typedef struct {
    Config cfg;          /* the run's config.ini, device override applied */
    Device dev;
    Model model;         /* the checkpoint's shape and parameters; batches up to
                            INFER_MAX_BATCH */
    int epoch;           /* epochs the checkpoint had completed */
    char run_dir[INFER_PATH_MAX];
    int open;            /* dev and model hold device objects */
} Infer;

/* The host side of opening a trained run, without a device (what `clae
 * export` needs, and infer_open's first step): reads run_dir/config.ini
 * into cfg, applies `device` (a --device spec, origin "--device"; NULL
 * keeps the run's [device] keys), reads run_dir/model.ckpt into c and
 * checks it against the config: the items' shape the checkpoint records
 * (ckpt_input), the config's network for it into net (config_net), and the
 * network's kind, layers, activations and loss (ckpt_check_shape; old
 * formats 1 and 2 read as dense networks on vectors). Returns 0 with c
 * owning its arrays (ckpt_free); -2 (every failure is the request's: no
 * such run folder, no config.ini or model.ckpt, a bad config, a damaged
 * checkpoint, a shape mismatch) with c holding nothing and one line in err
 * naming the file. */
int infer_load(const char *run_dir, const char *device, Config *cfg, Ckpt *c, ConfigNet *net,
               Err *err);

/* Opens run_dir for inference: reads run_dir/config.ini (and the image
 * shape run.json records, where it does: a square input is taken for an
 * image otherwise), applies `device`
 * (a --device spec, origin "--device"; NULL keeps the run's [device] keys),
 * reads and checks run_dir/model.ckpt against that config's shape, opens the
 * device, builds the kernels (cl_dir as --cl-dir, NULL for the documented
 * search), creates the model and uploads the parameters. Returns 0; -2 when
 * the request is at fault (no such run folder, no config.ini or model.ckpt,
 * a damaged checkpoint, a shape mismatch, no matching device: exit code 2);
 * -1 on other failures. The message names the file. infer_close frees; on
 * failure in holds nothing. */
int infer_open(Infer *in, const char *run_dir, const char *device, const char *cl_dir, Err *err);

/* Releases what infer_open made; a zeroed or closed Infer is fine. */
void infer_close(Infer *in);

/* z (n, K) = the latent codes of x (n, dims[0]) row-major, K =
 * dims[latent]: one upload, then batches of m->max_batch through layers
 * [0, latent) whose codes are read back without waiting; one wait at the
 * end. n = 0 does nothing. */
int infer_encode(Model *m, const float *x, int n, float *z, Err *err);

/* x (n, dims[L]) = the decoder's output for the codes z (n, K): as
 * infer_encode, through layers [latent, L). */
int infer_decode(Model *m, const float *z, int n, float *x, Err *err);

/* The p-quantile (0 <= p <= 1) of n >= 1 ascending values: linear
 * interpolation between the two values around position p (n - 1) (NumPy's
 * default method). */
double infer_percentile(const float *sorted, int n, double p);

/* *lo and *hi: the INFER_PCT_LO and INFER_PCT_HI quantiles of column `axis`
 * of z (n, k), n >= 1. Sorts a copy; z is not changed. */
int infer_bounds(const float *z, int n, int k, int axis, float *lo, float *hi, Err *err);

/* mean (k) = the column means of z (n, k), n >= 1, summed in double. */
void infer_mean(const float *z, int n, int k, float *mean);

/* The latent points of a manifold picture, in picture order (row-major
 * cells), into z (cells, k); returns the cell count. k >= 2: grid x grid
 * cells, cell (r, c) at z1 = lo[0] + (hi[0] - lo[0]) c / (grid - 1) (left to
 * right) and z2 = hi[1] - (hi[1] - lo[1]) r / (grid - 1) (top row highest,
 * as in a plot), both ends exact; z3..zk = mean[2..k-1]. k = 1: one row of
 * grid cells, z1 as above; lo[1], hi[1] and mean unused (mean may be NULL
 * when k <= 2). grid >= 2. */
int infer_grid_codes(int grid, int k, const float lo[2], const float hi[2], const float *mean,
                     float *z);

/* *channels x *rows x *cols = the model's input as an image (m->image_rows,
 * 28 x 28 for MNIST, 1 channel; 3 x 32 x 32 for RGB), which must be
 * dims[0] values, or an error saying that there is no picture to draw
 * (items that are not images). *channels is 1 for a model whose
 * image_channels is 0. */
int infer_image_shape(const Model *m, int *channels, int *rows, int *cols, Err *err);

/* Phi^-1(p): the standard normal's p-quantile, 0 < p < 1 (Acklam's rational
 * approximation refined by one Halley step on erfc: within a few ulp of
 * double). */
double infer_normal_quantile(double p);

/* The prior's manifold: as infer_grid_codes, but cell (r, c) at
 * z1 = Phi^-1((c + 0.5) / grid) (left to right) and z2 = Phi^-1((grid - r -
 * 0.5) / grid) (top row highest), z3..zk = 0: equal steps of N(0, 1)'s
 * probability, symmetric about 0. Returns the cell count. grid >= 2. */
int infer_prior_codes(int grid, int k, float *z);

/* z (n, k) = n independent draws from N(0, I_k), from the host generator
 * (rng.h) seeded with seed: the same seed gives the same points anywhere. */
void infer_prior_samples(uint64_t seed, int n, int k, float *z);

/* *across x *down: the near-square layout of n pictures, across =
 * ceil(sqrt(n)), down = ceil(n / across) (n >= 1). */
void infer_layout(int n, int *across, int *down);

/* Decodes the n codes z (n, K) and writes them to path as one PNG of
 * across x down cells of rows x cols (infer_image_shape) without gaps, gray,
 * RGB or RGBA as the images' channels are, code i in the cell of row i /
 * across and column i % across, cells past n black (and transparent in
 * RGBA). n <= across * down. Atomic. */
int infer_write_codes(Model *m, const float *z, int n, int across, int down, const char *path,
                      Err *err);

/* Decodes infer_grid_codes' points and writes them to path as one PNG (of
 * the images' channels, as infer_write_codes) of rows x cols cells without
 * gaps (infer_image_shape): (grid rows) x
 * (grid cols) pixels, or rows x (grid cols) for k = 1. Pixels as pngio_gray
 * converts them. Atomic. */
int infer_write_grid(Model *m, int grid, const float lo[2], const float hi[2], const float *mean,
                     const char *path, Err *err);

/* The manifold picture of a model whose test-set codes z_test (n, K) are at
 * hand (the trainer's, at the end of a run): bounds from infer_bounds per
 * axis, other coordinates at the test-set mean, then infer_write_grid. */
int infer_manifold(Model *m, const float *z_test, int n, int grid, const char *path, Err *err);

#endif
