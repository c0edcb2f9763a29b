/* model: the fully-connected autoencoder on the device, plain or
 * variational.
 *
 * Owns: the layer shapes, the one parameter buffer (every W and b at an
 * offset, which CLBlast and the optimizer take as a whole), the gradient
 * buffer of the same layout, the activation and backward scratch buffers
 * sized for the largest batch, and the forward, loss and backward passes.
 *
 * A vae ([model] kind = vae) differs in one place: the encoder's last layer
 * has 2K outputs, the means mu and log-variances lv of the K latent values
 * (in `stats`), and the code is z = mu + exp(lv / 2) eps, with eps ~ N(0, I)
 * drawn on the device from the counter-based Philox stream (seed,
 * PHILOX_VAE, step) when training, and eps = 0 (z = mu) when evaluating. Its
 * loss adds kl_weight times the KL divergence of N(mu, exp(lv)) from
 * N(0, I), 0.5 sum_j (mu_j^2 + exp(lv_j) - 1 - lv_j) per image, which
 * model_kl sums and model_backward differentiates. Normalisation: both
 * terms are divided by batch x D (D = pixels per image), so that the
 * reconstruction term is today's mean per pixel, the KL term the KL per
 * image per pixel, and kl_weight = 1 gives the usual negative ELBO per
 * pixel (up to the Gaussian likelihood's constant and scale).
 * Every matrix product is a CLBlast SGEMM (gemm.h); everything else is a
 * kernel from kernels.h. Nothing here waits for the device except the
 * explicit host copies (model_get_*, model_set_params). */
#ifndef CLAE_MODEL_H
#define CLAE_MODEL_H

#include "clctx.h"
#include "config.h"
#include "gemm.h"
#include "kernels.h"
#include "rng.h"
#include "util.h"

#define MODEL_MAX_LAYERS CONFIG_MAX_LAYERS

typedef struct {
    int n_layers;                       /* L weight layers */
    int dims[MODEL_MAX_LAYERS + 1];     /* dims[0] input, ..., dims[L] output (= input) */
    Activation act[MODEL_MAX_LAYERS];   /* act[l]: applied after layer l; latent is linear */
    int latent;                         /* index into dims/acts of the latent code */
    ModelKind kind;
    int width[MODEL_MAX_LAYERS];        /* layer l's outputs: dims[l+1], or 2 dims[latent] for a
                                           vae's encoder output (config_width) */
    size_t w_off[MODEL_MAX_LAYERS];     /* W_l (dims[l], width[l]) row-major, in params */
    size_t b_off[MODEL_MAX_LAYERS];     /* b_l (width[l]), in params */
    size_t n_params;
    int max_batch;
    Loss loss;
    double kl_weight;                   /* vae: the KL term's weight ([train] kl_weight) */
    int image_rows, image_cols;         /* the input as an image, rows x cols = dims[0], for
                                           pictures; 0 x 0: not an image. model_shape takes
                                           a square dims[0] for one; the trainer and infer.h
                                           set the data's own shape */
    int image_channels;                 /* 3 (RGB) or 4 (RGBA): the input is channels x rows
                                           x cols = dims[0], (C, H, W); 0 or 1: gray */

    cl_mem params;                      /* (n_params); owned */
    cl_mem grads;                       /* (n_params) same layout; owned */
    cl_mem x;                           /* (max_batch, dims[0]) gathered training batch; owned */
    cl_mem acts[MODEL_MAX_LAYERS + 1];  /* acts[l] (max_batch, dims[l]) for l >= 1; acts[0] unused;
                                           acts[latent] is the code z, also in a vae */
    cl_mem delta[2];                    /* (max_batch, max width) backward ping-pong; owned */
    cl_mem elem;                        /* (max_batch, dims[L]) per-element loss; owned */
    cl_mem stats;                       /* vae: (max_batch, 2K) encoder output, per row K means
                                           then K log-variances; owned; NULL for an ae */
    cl_mem eps;                         /* vae: (max_batch, K) the last forward's draws (0 when
                                           evaluating); owned */
    cl_mem kl_elem;                     /* vae: (max_batch, K) per-element KL; owned */
    Gemm gemm;                          /* products and their shared temporary */
    char gemm_name[MODEL_MAX_LAYERS][3][64]; /* profile labels: forward, dW, dX */
    Kernels *k;                         /* borrowed */
    ClCtx *ctx;                         /* borrowed */
} Model;

/* Fills the shape fields (n_layers, dims, act, latent, kind, width,
 * offsets, n_params, loss, kl_weight) from cfg for input_dim inputs
 * (config_net's layers, with each W and b placed in the parameter buffer);
 * no device work. m is zeroed first. */
int model_shape(Model *m, const Config *cfg, int input_dim, Err *err);

/* model_shape, then allocates every device buffer for batches of up to
 * max_batch and sizes the GEMM temporary. Parameters are uninitialised:
 * call model_init_params or model_set_params. model_destroy frees. */
int model_create(Model *m, ClCtx *ctx, Kernels *k, const Config *cfg, int input_dim,
                 int max_batch, Err *err);
void model_destroy(Model *m);

/* Draws the initial weights on the host from rng ([model] init: normal with
 * the given stddev, xavier N(0, 2/(fan_in+fan_out)), he N(0, 2/fan_in),
 * biases 0; or torch, weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * as torch.nn.Linear) and uploads them: the same seed gives the same start
 * on every device. */
int model_init_params(Model *m, const Config *cfg, Rng *rng, Err *err);

/* Blocking copies between host (n_params floats) and device. */
int model_set_params(Model *m, const float *host, Err *err);
int model_get_params(Model *m, float *host, Err *err);
int model_get_grads(Model *m, float *host, Err *err);

/* Forward pass of `batch` rows of `in` starting at row offset in_row
 * (elements: in_row * dims[0]); leaves layer outputs in acts[1..L] (and a
 * vae's means and log-variances in stats, the code z = mu in acts[latent]).
 * Deterministic: what evaluation and inference use. */
int model_forward(Model *m, cl_mem in, size_t in_row, int batch, Err *err);

/* A training step's draw for a vae's reparameterisation: eps for element
 * (r, j) of the batch is the standard normal at index r K + j of the Philox
 * stream (seed, PHILOX_VAE, step) (util/philox.h's numbers), so that the
 * same seed and step give the same eps on any device and a resumed run
 * redraws exactly. The trainer takes the optimizer's step count as step. */
typedef struct {
    uint64_t seed;
    uint64_t step;
} ModelDraw;

/* model_forward, but a vae samples z = mu + exp(lv / 2) eps with draw's
 * eps (kept in m->eps for the backward pass). An ae ignores draw; NULL
 * draw is model_forward. */
int model_forward_draw(Model *m, cl_mem in, size_t in_row, int batch, const ModelDraw *draw,
                       Err *err);

/* Layers first..end-1 only (0 <= first < end <= L): `in` holds rows of
 * dims[first] (the input of layer `first`) from row in_row, and the outputs
 * go to acts[first+1..end]. [0, latent) encodes, leaving the codes in
 * acts[latent] (a vae's means); [latent, L) decodes codes given in `in`.
 * Each layer runs exactly as in model_forward, which is the range [0, L). */
int model_forward_range(Model *m, cl_mem in, size_t in_row, int batch, int first, int end,
                        Err *err);

/* Loss of acts[L] against rows t_row.. of target: the batch's summed
 * per-element loss goes to sums[sum_idx] (mean = sum / (batch * dim)); with
 * want_grad the gradient of the MEAN loss goes to delta[0]. */
int model_loss(Model *m, cl_mem target, size_t t_row, int batch, int want_grad, cl_mem sums,
               int sum_idx, Err *err);

/* sums[sum_idx] = a vae's KL term summed over the batch's images and latent
 * values, sum over rows and j of 0.5 (mu^2 + exp(lv) - 1 - lv), of the last
 * forward pass (its mean per pixel is sum / (batch * dims[L])). An error for
 * an ae. */
int model_kl(Model *m, int batch, cl_mem sums, int sum_idx, Err *err);

/* Backward pass after model_forward(_draw) and model_loss(want_grad): fills
 * grads for every W and b of the mean loss; for a vae of the mean loss plus
 * kl_weight times the KL term over batch * dims[L], through the sampling
 * with the forward pass's eps. `in`/in_row as given to the forward pass. */
int model_backward(Model *m, cl_mem in, size_t in_row, int batch, Err *err);

/* Floating-point operations of one training step per image: the three
 * products per layer (forward, dW, and dX for all but the first layer),
 * 2 flops per multiply-add; element-wise work is not counted. */
double model_train_flops_per_image(const Model *m);

#endif
