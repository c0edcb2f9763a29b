/* ckpt: the checkpoint file (model.ckpt) of a training run.
 *
 * Owns: the binary format below, writing it atomically (temporary name,
 * fsync, rename), reading it back with every field checked (never a partial
 * load), and comparing a checkpoint's shape with the configured model. A
 * checkpoint holds enough to continue a run exactly (parameters, optimizer
 * state, step, epoch, RNG state) or to use the trained model. Host only: the
 * caller copies parameters and optimizer state to and from the device.
 *
 * Format, version 3. Every integer and float is little-endian whatever the
 * host; floats are IEEE-754 binary32 bit patterns. L = n_layers, P = n_params,
 * S = number of optimizer state arrays, T = steps_in_epoch, V = 1 for a vae
 * and 0 for an ae, H = 112 + 40 L (header length).
 *
 *   offset        size       field
 *   0             8          magic "CLAECKPT" (ASCII, no NUL)
 *   8             4          u32 format version = 2
 *   12            4          u32 header length H = 100 + 8 L (offset of the first parameter)
 *   16            4          u32 n_layers L, 2..CONFIG_MAX_LAYERS (weight layers)
 *   20            4          u32 latent: index into dims of the latent code, 1..L-1
 *   24            4          u32 loss: 0 mse, 1 bce
 *   28            4          u32 optimizer: 0 adam, 1 sgd, 2 momentum
 *   32            4          u32 S: state arrays, 2 for adam, 1 for momentum, 0 for sgd
 *   36            4          u32 epoch: epochs completed
 *   40            8          u64 step: optimizer updates done
 *   48            32         u64 rng[4]: xoshiro256** state (Rng.s) to continue with
 *   80            8          u64 P = sum over l of layer l's weights and biases (layers.h:
 *                            dense dims[l] w_l + w_l, w_l = dims[l+1] but 2 dims[latent]
 *                            for a vae's encoder output (l + 1 = latent); conv and deconv
 *                            C_in C_out K K + C_out)
 *   88            4          u32 T = steps_in_epoch: training steps done in the epoch after
 *                            `epoch` (0 at an epoch boundary), 0..CKPT_MAX_STEPS
 *   92            4 (L+1)    u32 dims[0..L]: layer sizes, 1..CKPT_MAX_DIM, dims[L] = dims[0]
 *   96 + 4 L      4 L        u32 act[0..L-1]: activation after layer l: 0 linear, 1 tanh,
 *                            2 relu, 3 sigmoid, 4 leaky_relu
 *   96 + 8 L      4          u32 kind: 0 ae, 1 vae ([model] kind)
 *   100 + 8 L     12         u32 input C, H, W: the items' shape (D, 1, 1 for vectors)
 *   112 + 8 L     32 L       per layer l: u32 layer kind (0 dense, 1 conv, 2 deconv),
 *                            output C, H, W (a dense layer's: the vector, D 1 1, or the
 *                            map it is reshaped to), K, S, output padding of the rows and
 *                            of the columns (0 but for a deconv; K = S = 0 for dense)
 *   H             4 P        f32 params: W_l then b_l layer by layer in layers.h's layouts
 *                            (dense W (dims[l], w_l) row-major; conv W (C_out, C_in, K, K);
 *                            deconv W (C_in, C_out, K, K)): model.h's buffer
 *   H + 4 P       4 P        f32 m (S >= 1): adam first moment, or momentum velocity
 *   H + 8 P       4 P        f32 v (S = 2): adam second moment
 *   H + 4 P (1+S) 4 T        f32 step_sums[0..T-1]: summed reconstruction loss of each step
 *                            done so far in the unfinished epoch (its train loss needs them)
 *   ... + 4 T     4 T V      f32 step_kl[0..T-1] (vae only): the same steps' summed KL terms
 *   ... + 4 T V   4          u32 CRC-32 (zlib's crc32) of every byte before it
 *
 * File size = H + 4 P (1 + S) + 4 T (1 + V) + 4. The default
 * 784-500-300-2-300-500-784 adam autoencoder at an epoch boundary (L = 6,
 * P = 1087586, S = 2, T = 0) gives 13051184 bytes.
 *
 * Versions 1 and 2 are read too. Version 2 (clae before conv layers) ends
 * its header after the kind (H = 100 + 8 L): every layer dense, the input a
 * vector of dims[0] values. Version 1 (before the vae) has no kind either
 * (H = 96 + 8 L): every model an ae. Files are always written as version 3.
 *
 * The rng state is the one the shuffle of the epoch after `epoch` starts
 * from; with T > 0 a resumed run redraws that epoch's order from it and
 * continues at step T, so it goes on exactly as if never stopped. The enum numbers are
 * those of config.h; ckpt.c asserts them at compile time, so reordering an
 * enum cannot silently change what old files mean. */
#ifndef CLAE_CKPT_H
#define CLAE_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

#define CKPT_MAGIC "CLAECKPT"
#define CKPT_VERSION 3    /* written; versions 1 and 2 are read too */
#define CKPT_MAX_DIM (1 << 24) /* a sanity bound on one layer's size, far above config's */
#define CKPT_MAX_STEPS (1 << 30) /* a sanity bound on steps_in_epoch */

typedef struct {
    int n_layers;                     /* L weight layers */
    int dims[CONFIG_MAX_LAYERS + 1];   /* dims[0] input, ..., dims[L] output */
    Activation act[CONFIG_MAX_LAYERS]; /* act[l]: applied after layer l */
    int latent;                       /* index into dims of the latent code */
    NetLayer layer[CONFIG_MAX_LAYERS]; /* kind, geometry and maps of each layer (versions 1
                                         and 2: dense, on vectors) */
    Shape3 input;                     /* the items' shape (versions 1 and 2: dims[0] x 1 x 1) */
    int version;                      /* the file's format version (ckpt_read); ignored by
                                         ckpt_write, which writes CKPT_VERSION */
    Loss loss;
    ModelKind kind;                   /* ae (every version 1 file) or vae */
    Optimizer optimizer;
    long step;                        /* optimizer updates done (Optim.step) */
    int epoch;                        /* epochs completed */
    int steps_in_epoch;               /* steps done in epoch `epoch` + 1 */
    uint64_t rng[4];                  /* Rng.s before the shuffle of epoch `epoch` + 1 */
    size_t n_params;                  /* = weights + biases of dims and kind */
    float *params;                    /* (n_params) model.h layout */
    float *m;                         /* (n_params) adam m or momentum velocity; NULL for sgd */
    float *v;                         /* (n_params) adam v; NULL otherwise */
    float *step_sums;                 /* (steps_in_epoch) summed loss per step; NULL when 0 */
    float *step_kl;                   /* (steps_in_epoch) vae: summed KL per step; NULL when 0
                                         or for an ae */
} Ckpt;
/* After ckpt_read, params, m and v are owned by the Ckpt (ckpt_free); for
 * ckpt_write they are the caller's and only read. */

/* Number of optimizer state arrays a checkpoint holds for o: 2 adam, 1
 * momentum, 0 sgd. */
int ckpt_state_count(Optimizer o);

/* Writes c to path through "path.tmp.PID", fsync and rename, so path is
 * either the old file or the complete new one. c must be consistent (n_params
 * from dims, m and v present as the optimizer needs); errors name the path. */
int ckpt_write(const char *path, const Ckpt *c, Err *err);

/* Reads and checks path into c (zeroed first): magic, version, header
 * values, exact file size, CRC. On success c owns its arrays (ckpt_free); on
 * error c holds nothing and err has one line naming the path and the fault. */
int ckpt_read(const char *path, Ckpt *c, Err *err);

/* Frees c's arrays and zeroes it; NULL, zeroed or freed Ckpts are fine. */
void ckpt_free(Ckpt *c);

/* The items' shape to build cfg's network with for this checkpoint
 * (config_net): the shape it records. A checkpoint of a dense network
 * (every version 1 and 2 file) cannot hold cfg's conv layers: that is
 * refused here, naming both, before a network is built on a vector. */
int ckpt_input(const Ckpt *c, const Config *cfg, const char *path, Shape3 *input, Err *err);

/* Checks that c was trained with the network want (config_net: kind, layer
 * kinds, geometry and sizes, activations, latent index, loss) and with
 * optimizer opt. Fails with "path: <first difference>", such as
 * "run/model.ckpt: layer sizes 784-500-300-2-300-500-784 differ from the
 * config's 784-256-2-256-784", or for networks with maps "run/model.ckpt:
 * layer 2 is conv:32:3:2 (16x14x14 -> 32x7x7), the config's is conv:64:3:2
 * (16x14x14 -> 64x7x7)". */
int ckpt_check_shape(const Ckpt *c, const ConfigNet *want, Optimizer opt, const char *path,
                     Err *err);

#endif
