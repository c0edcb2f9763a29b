/* layers: the layers of [model] encoder and decoder, their grammar and the
 * shape rules that turn the lists and the data's shape into a network.
 *
 * Owns: the item syntax of a list (a width N; conv:F:K:S; deconv:F:K:S:OP),
 * parsing a list and writing it back, the shape rule of each kind, the
 * mirror of an encoder, the parameter count and layout of each kind, and
 * building the network layer by layer (its kind, geometry and the maps it
 * reads and writes). Host only; the engine's layer table (engine/layer.h)
 * runs what is built here.
 *
 * Shapes (C x H x W, PyTorch's NCHW per item, flattened in C, H, W order):
 *   dense    n values -> N values (a map is flattened first, as nn.Flatten)
 *   conv     C x H x W -> F x OH x OW, OH = floor((H + 2P - K) / S) + 1,
 *            P = (K - 1) / 2: nn.Conv2d(C, F, K, S, P)
 *   deconv   C x H x W -> F x OH x OW, OH = (H - 1) S - 2P + K + OP:
 *            nn.ConvTranspose2d(C, F, K, S, P, output_padding=OP)
 * Conv items come first in the encoder, then widths; the latent layer is a
 * dense layer. A decoder's widths come first, then its deconv items; the
 * input of its first deconv is the layer before it reshaped to the map of
 * the encoder's last conv (nn.Unflatten), and its last deconv is the output
 * layer, which must give the data's shape. `mirror` is the exact inverse of
 * the encoder: its widths reversed, a dense layer to the flattened last
 * map, then one deconv per conv in reverse order with the output padding
 * that restores each conv's input size.
 *
 * Parameters (model.h's buffer holds each layer's W then b):
 *   dense    W (n, N) row-major, b (N)
 *   conv     W (F, C, K, K) row-major (nn.Conv2d's weight), b (F)
 *   deconv   W (C, F, K, K) row-major (nn.ConvTranspose2d's), b (F) */
#ifndef CLAE_LAYERS_H
#define CLAE_LAYERS_H

#include <stddef.h>

#include "util.h"

#define LAYERS_MAX_SIDE 16                    /* items in one list (encoder or decoder) */
#define LAYERS_MAX (2 * LAYERS_MAX_SIDE + 2)  /* weight layers of a network */
#define LAYERS_WIDTH_MAX 65536                /* a width, or a conv's filters */
#define LAYERS_KERNEL_MAX 31                  /* a kernel's side */
#define LAYERS_STRIDE_MAX 16

typedef enum { LAYER_DENSE, LAYER_CONV, LAYER_DECONV } LayerKind;
#define LAYER_KIND_COUNT 3

/* One item of a list as written. */
typedef struct {
    LayerKind kind;
    int n;  /* dense: the width N; conv and deconv: F, the output channels */
    int k;  /* kernel side K (odd); 0 for dense */
    int s;  /* stride S; 0 for dense */
    int op; /* deconv: output padding OP (< S); 0 otherwise */
} LayerItem;

/* c maps of h x w values; a vector of n values is n x 1 x 1. */
typedef struct {
    int c, h, w;
} Shape3;

/* One weight layer of a network. */
typedef struct {
    LayerKind kind;
    Shape3 in, out;   /* the maps it reads and writes (a dense layer's output is a vector,
                         or the map the next deconv takes) */
    int k, s, pad;    /* conv, deconv: kernel side, stride, padding (k - 1) / 2 */
    int op_h, op_w;   /* deconv: output padding of the rows and of the columns */
} NetLayer;

/* Which list a text is: the encoder takes conv items, the decoder deconv
 * items. */
typedef enum { LAYERS_ENCODER, LAYERS_DECODER } LayersSide;

/* The lists of [model] as a config holds them (borrowed). */
typedef struct {
    const LayerItem *encoder;
    int n_encoder;
    int latent;                /* K, the code's size */
    const LayerItem *decoder;  /* ignored when mirror */
    int n_decoder;
    int mirror;
} LayersSpec;

/* Parses a comma list (blanks around items allowed; "" or "none": no
 * items) of one side into items (LAYERS_MAX_SIDE at most). On failure
 * returns -1 with note saying what is wrong with which item (the caller
 * names the key). */
int layers_parse(const char *text, LayersSide side, LayerItem *items, int *n, char *note,
                 size_t note_len);

/* Writes a list as layers_parse reads it back ("conv:16:3:2,conv:32:3:2,128";
 * "none" for no items). */
void layers_format(const LayerItem *items, int n, char *buf, size_t len);

/* One item as written ("500", "conv:16:3:2", "deconv:1:3:2:1"). */
void layers_item_str(const LayerItem *it, char *buf, size_t len);

/* 1 when a list has conv or deconv items. */
int layers_has_maps(const LayerItem *items, int n);

/* c * h * w. */
size_t layers_size(Shape3 s);

/* "1x28x28", or "784" for a vector (h = w = 1). */
void layers_shape_str(Shape3 s, char *buf, size_t len);

/* The layer as an item of a list ("500", "conv:16:3:2", "deconv:1:3:2:1";
 * a deconv whose row and column output paddings differ shows both,
 * "deconv:1:3:2:1/0"). */
void layers_layer_str(const NetLayer *l, char *buf, size_t len);

/* The weights of a layer that outputs `width` values (a dense vae latent
 * layer's width is 2K; any other layer's is out's size), and its biases. */
size_t layers_weights(const NetLayer *l, int width);
size_t layers_biases(const NetLayer *l, int width);

/* Fan-in and fan-out of a layer's weight as PyTorch's
 * _calculate_fan_in_and_fan_out computes them: dense n and N; conv C K K
 * and F K K; deconv F K K and C K K (its weight's second dimension is the
 * output channels). */
void layers_fans(const NetLayer *l, int width, double *fan_in, double *fan_out);

/* The network of spec for items of shape input: layers[0..*n_layers)
 * (LAYERS_MAX at most) with the code after layer *latent - 1. Checks every
 * shape: the decoder must end at input (naming the layer and both shapes),
 * a decoder's deconv items need the encoder's conv items and a layer before
 * them of the last map's size. Errors name the [model] key and its value. */
int layers_build(const LayersSpec *spec, Shape3 input, NetLayer *layers, int *n_layers,
                 int *latent, Err *err);

/* Checks one layer read from a file against its kind's rule: positive
 * shapes, K odd 1..LAYERS_KERNEL_MAX, S 1..LAYERS_STRIDE_MAX, output
 * paddings below S, and out as the rule gives it from in (a dense layer's
 * in and out only need positive sizes; its K, S and paddings must be 0).
 * On a fault writes one phrase to why and returns -1. */
int layers_check(const NetLayer *l, char *why, size_t len);

/* 1 when a and b are the same layer: kind, and for conv and deconv the
 * geometry and both maps; for dense only the sizes of in and out (a
 * vector and a map of as many values are the same to a dense layer). */
int layers_same(const NetLayer *a, const NetLayer *b);

/* The shapes of a network joined by '-': "784-500-300-2-300-500-784" for a
 * dense one, "1x28x28-16x14x14-32x7x7-2-32x7x7-16x14x14-1x28x28" when it
 * has maps. */
void layers_net_str(const NetLayer *layers, int n_layers, char *buf, size_t len);

/* The name of a kind: "dense", "conv", "deconv". */
const char *layers_kind_name(LayerKind k);

#endif
