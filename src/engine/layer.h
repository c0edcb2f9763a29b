/* layer: the table of layer kinds the model runs on the device: dense,
 * conv and deconv (io/layers.h has their grammar, shapes and parameter
 * layouts).
 *
 * Owns: one row per kind with
 *   products  the GEMMs a training step issues for the layer, in the order
 *             it issues them: forward, dW, dX (model_create reserves them,
 *             clae tune times them, bench names them, and the passes below
 *             run exactly these shapes);
 *   scratch   the column buffer and channels-first buffer a batch needs;
 *   forward   y = act(layer(x) + b) for a batch: one GEMM, then a bias and
 *             activation kernel;
 *   backward  from the gradient at the layer's pre-activation output: dW
 *             and db into the gradient buffer, and dX for every layer but
 *             the first;
 *   ref       the same forward for one item on the host in double, the
 *             independent reference that selftest and ref.c use.
 * Model and trainer loop over layers through this table; nothing else asks
 * what kind a layer is. Every product is a CLBlast SGEMM over the whole
 * batch (gemm.h); conv.cl's kernels only move data:
 *   conv    col (CKK, B P) = im2col(x); z (F, B P) = W (F, CKK) col;
 *           y (B, F, P) = act(z + b) (bias_act_cnhw)
 *           dW (F, CKK) = dz col^T; dcol (CKK, B P) = W^T dz; dx = col2im(dcol)
 *   deconv  x' (C, B HW) = swap(x); col (F KK, B HW) = W^T (F KK, C) x';
 *           y = act(col2im(col) + b) (a convolution's input gradient)
 *           col = im2col(dy); dW (C, F KK) = x' col^T; dx' = W col; dx = swap(dx')
 * with CKK = C K K, P = OH OW, and dz the output gradient in channels-first
 * order (swap_axes of dy). The column and channels-first buffers are the
 * model's, one each sized for its largest layer (the queue is in order, so
 * layers take turns). */
#ifndef CLAE_LAYER_H
#define CLAE_LAYER_H

#include "gemm.h"
#include "model.h"

/* The products of a layer, in issue order. */
enum { LAYER_FWD, LAYER_DW, LAYER_DX, LAYER_PRODUCTS };

typedef struct {
    /* out[LAYER_FWD..LAYER_DX]: the products of layer l (width its output
     * values per item, NetLayer its shapes) at batch B, row-major as
     * gemm_run takes them. */
    void (*products)(const NetLayer *l, int width, size_t B, GemmShape out[LAYER_PRODUCTS]);
    /* Floats of the column buffer and of the channels-first buffer a batch
     * of B needs (0 for a dense layer). */
    void (*scratch)(const NetLayer *l, size_t B, size_t *col, size_t *work);
    /* out (batch, width) = act(layer l of in (batch, dims[l]) from element
     * in_off, + b). */
    int (*forward)(Model *m, int l, cl_mem in, size_t in_off, cl_mem out, int batch, Err *err);
    /* From dy (batch, width), the gradient at the layer's pre-activation
     * output: dW and db of layer l into m->grads, and dx (batch, dims[l])
     * unless dx is NULL (the first layer). in/in_off as for forward. */
    int (*backward)(Model *m, int l, cl_mem in, size_t in_off, cl_mem dy, cl_mem dx, int batch,
                    Err *err);
    /* z (width) = the layer's pre-activation output for one item x
     * (dims[l]), on the host in double: W and b in the layer's layout. */
    void (*ref)(const NetLayer *l, int width, const double *W, const double *b, const double *x,
                double *z);
} LayerOps;

/* The row of kind k. */
const LayerOps *layer_ops(LayerKind k);

/* The floating-point operations of layer l's products at batch 1 (2 per
 * multiply-add; dX only when with_dx): the step's cost per image, since
 * every product grows linearly with the batch. */
double layer_flops(const NetLayer *l, int width, int with_dx);

#endif
