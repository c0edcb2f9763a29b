/* export: a trained run's model for PyTorch (`clae export`).
 *
 * Owns: the PyTorch model a clae network is (two nn.Sequential, encoder
 * and decoder, of PyTorch's own layers: the plan below), its parameters as
 * PyTorch's state_dict names and layouts them, the .safetensors file of
 * them with the run's config as metadata, and the Python code that defines
 * the model. One plan makes both, so the names agree. No device: the run
 * is read on the host (infer_load).
 *
 * The plan. The encoder is layers [0, latent) (for a vae its last layer
 * gives 2K values: the means, then the log-variances), the decoder
 * [latent, L). Each side is an nn.Sequential whose indices count every
 * module, parameterless ones too:
 *   dense    nn.Linear(n, N): weight (N, n) = clae's W (n, N) transposed
 *   conv     nn.Conv2d(C, F, K, S, (K-1)//2): weight (F, C, K, K) as clae's
 *   deconv   nn.ConvTranspose2d(C, F, K, S, (K-1)//2,
 *            output_padding=(op_h, op_w)): weight (C, F, K, K) as clae's
 *   then the layer's activation, unless linear: nn.Tanh(), nn.ReLU(),
 *   nn.Sigmoid(), nn.LeakyReLU(KERNELS_LEAKY_SLOPE);
 *   nn.Flatten() before a dense layer that follows a conv,
 *   nn.Unflatten(1, (C, H, W)) before a deconv that follows a dense layer,
 *   and at the end of the decoder of a network that takes maps (its first
 *   layer a conv) when its last layer is dense, so that the output has the
 *   input's shape.
 * A network whose first layer is a conv takes (N, C, H, W); a dense one
 * (N, D): clae's items are flat vectors of C x H x W values in C, H, W
 * order. Parameters are named "<side>.<index>.weight" and ".bias". */
#ifndef CLAE_EXPORT_H
#define CLAE_EXPORT_H

#include <stdio.h>

#include "ckpt.h"
#include "config.h"
#include "safetensors.h"
#include "util.h"

typedef enum {
    EXPORT_LINEAR, EXPORT_CONV, EXPORT_DECONV, EXPORT_ACT, EXPORT_FLATTEN, EXPORT_UNFLATTEN
} ExportModKind;

typedef enum { EXPORT_ENCODER, EXPORT_DECODER } ExportSide;

/* One module of an nn.Sequential. */
typedef struct {
    ExportModKind kind;
    ExportSide side;
    int index;      /* its index in its side's nn.Sequential */
    int layer;      /* EXPORT_LINEAR, _CONV, _DECONV: the clae layer; -1 otherwise */
    Activation act; /* EXPORT_ACT: which */
    Shape3 shape;   /* EXPORT_UNFLATTEN: the map it makes */
} ExportModule;

/* At most a reshape, the layer and its activation per layer, and a final
 * reshape. */
#define EXPORT_MAX_MODULES (3 * CONFIG_MAX_LAYERS + 1)
#define EXPORT_MAX_TENSORS (2 * CONFIG_MAX_LAYERS)

typedef struct {
    ExportModule mod[EXPORT_MAX_MODULES]; /* encoder's modules, then decoder's */
    int n;
    int takes_maps;                       /* 1: forward takes (N, C, H, W); 0: (N, D) */
} ExportPlan;

/* The PyTorch modules of net (the plan above). Never fails. */
void export_plan(const ConfigNet *net, ExportPlan *p);

/* The parameters as state_dict tensors, in state_dict order (each layer's
 * weight then bias, layer by layer): names and PyTorch shapes into
 * t[0..*n) (EXPORT_MAX_TENSORS), data pointing into *buf, a malloc'd copy of
 * params (n_params floats, the checkpoint's layout) with dense weights
 * transposed to (out, in). The caller frees *buf. */
int export_tensors(const ConfigNet *net, const ExportPlan *p, const float *params,
                   SafeTensor *t, int *n, float **buf, Err *err);

/* Writes the run's parameters (c's, for the network net of cfg) to path
 * as a .safetensors file (safetensors.h), atomically: the tensors of
 * export_tensors, and as "__metadata__" every config key as "section.key"
 * (the values run.json's "config" has) and "format" ("pt"), "clae_version",
 * "kind", "latent", "input_shape", "forward_input", "network", "epochs",
 * "steps", "checkpoint_version" and "run". *n_tensors gets the tensor count.
 * Returns 0; -2 when path cannot be created (safetensors_write); -1 when
 * writing fails. */
int export_safetensors(const char *run_dir, const Config *cfg, const Ckpt *c,
                       const ConfigNet *net, const char *path, int *n_tensors, Err *err);

/* Writes Python code to out that, run as it is, imports torch and defines
 * `model`: an nn.Module with `encoder` and `decoder` (the plan's
 * nn.Sequential), encode(x) (the codes, as clae encode writes them: for a
 * vae the means) and forward(x) = decoder(encode(x)); for a vae also
 * distribution(x) = (means, log-variances). run_dir and c name the run in
 * its comments. The caller checks out for write errors. */
void export_torch(const char *run_dir, const Ckpt *c, const ConfigNet *net, FILE *out);

#endif
