/* layer: see layer.h. One block per kind: its products, scratch, forward,
 * backward and host reference, then the table. */
#include "layer.h"

#include <string.h>

/* ---- dense: y (B, N) = act(x (B, K) W (K, N) + b) ---------------------------- */

static void dense_products(const NetLayer *l, int width, size_t B, GemmShape out[LAYER_PRODUCTS])
{
    size_t K = layers_size(l->in), N = (size_t)width;
    out[LAYER_FWD] = (GemmShape){0, 0, B, N, K}; /* y (B, N) = x (B, K) W (K, N) */
    out[LAYER_DW] = (GemmShape){1, 0, K, N, B};  /* dW (K, N) = x^T (K, B) dy (B, N) */
    out[LAYER_DX] = (GemmShape){0, 1, B, K, N};  /* dx (B, K) = dy (B, N) W^T (N, K) */
}

static void dense_scratch(const NetLayer *l, size_t B, size_t *col, size_t *work)
{
    (void)l, (void)B;
    *col = *work = 0;
}

static int dense_forward(Model *m, int l, cl_mem in, size_t in_off, cl_mem out, int batch,
                         Err *err)
{
    GemmShape g[LAYER_PRODUCTS];
    dense_products(&m->layer[l], m->width[l], (size_t)batch, g);
    const GemmShape *f = &g[LAYER_FWD];
    return gemm_run(&m->gemm, m->gemm_name[l][LAYER_FWD], 0, 0, f->M, f->N, f->K, 1.0f, in, in_off,
                    f->K, m->params, m->w_off[l], f->N, 0.0f, out, 0, f->N, err) ||
                   kern_bias_act(m->k, out, batch, (int)f->N, m->params, m->b_off[l], m->act[l],
                                 err)
               ? -1
               : 0;
}

static int dense_backward(Model *m, int l, cl_mem in, size_t in_off, cl_mem dy, cl_mem dx,
                          int batch, Err *err)
{
    GemmShape g[LAYER_PRODUCTS];
    dense_products(&m->layer[l], m->width[l], (size_t)batch, g);
    size_t B = (size_t)batch, K = g[LAYER_DW].M, N = g[LAYER_DW].N;
    if (gemm_run(&m->gemm, m->gemm_name[l][LAYER_DW], 1, 0, K, N, B, 1.0f, in, in_off, K, dy, 0, N,
                 0.0f, m->grads, m->w_off[l], N, err) ||
        kern_col_sum(m->k, dy, batch, (int)N, m->grads, m->b_off[l], err))
        return -1;
    if (!dx) return 0;
    return gemm_run(&m->gemm, m->gemm_name[l][LAYER_DX], 0, 1, B, K, N, 1.0f, dy, 0, N, m->params,
                    m->w_off[l], N, 0.0f, dx, 0, K, err);
}

static void dense_ref(const NetLayer *l, int width, const double *W, const double *b,
                      const double *x, double *z)
{
    size_t K = layers_size(l->in);
    for (int j = 0; j < width; j++) {
        double s = b[j];
        for (size_t k = 0; k < K; k++) s += x[k] * W[k * (size_t)width + (size_t)j];
        z[j] = s;
    }
}

/* ---- conv: C x H x W -> F x OH x OW ------------------------------------------ */

/* conv.cl's geometry of a convolution's batch: the image is the layer's
 * input, the columns its output positions. */
static KernConv conv_geom(const NetLayer *l, int B)
{
    return (KernConv){B, l->in.c, l->in.h, l->in.w, l->k, l->s, l->pad, l->out.h, l->out.w};
}

static void conv_products(const NetLayer *l, int width, size_t B, GemmShape out[LAYER_PRODUCTS])
{
    (void)width;
    size_t F = (size_t)l->out.c, CKK = (size_t)l->in.c * (size_t)l->k * (size_t)l->k;
    size_t BP = B * (size_t)l->out.h * (size_t)l->out.w;
    out[LAYER_FWD] = (GemmShape){0, 0, F, BP, CKK}; /* z (F, B P) = W (F, CKK) col (CKK, B P) */
    out[LAYER_DW] = (GemmShape){0, 1, F, CKK, BP};  /* dW (F, CKK) = dz (F, B P) col^T */
    out[LAYER_DX] = (GemmShape){1, 0, CKK, BP, F};  /* dcol (CKK, B P) = W^T dz (F, B P) */
}

static void conv_scratch(const NetLayer *l, size_t B, size_t *col, size_t *work)
{
    size_t BP = B * (size_t)l->out.h * (size_t)l->out.w;
    *col = (size_t)l->in.c * (size_t)l->k * (size_t)l->k * BP;
    *work = (size_t)l->out.c * BP;
}

static int conv_forward(Model *m, int l, cl_mem in, size_t in_off, cl_mem out, int batch,
                        Err *err)
{
    const NetLayer *L = &m->layer[l];
    GemmShape g[LAYER_PRODUCTS];
    conv_products(L, m->width[l], (size_t)batch, g);
    const GemmShape *f = &g[LAYER_FWD];
    KernConv geo = conv_geom(L, batch);
    int P = L->out.h * L->out.w;
    /* col (CKK, B P) = im2col(in); work (F, B P) = W col; out (B, F, P) = act(work + b) */
    return kern_im2col(m->k, in, in_off, m->col, &geo, err) ||
                   gemm_run(&m->gemm, m->gemm_name[l][LAYER_FWD], 0, 0, f->M, f->N, f->K, 1.0f,
                            m->params, m->w_off[l], f->K, m->col, 0, f->N, 0.0f, m->work, 0, f->N,
                            err) ||
                   kern_bias_act_map(m->k, 1, m->work, out, batch, L->out.c, P, m->params,
                                     m->b_off[l], m->act[l], err)
               ? -1
               : 0;
}

static int conv_backward(Model *m, int l, cl_mem in, size_t in_off, cl_mem dy, cl_mem dx,
                         int batch, Err *err)
{
    const NetLayer *L = &m->layer[l];
    GemmShape g[LAYER_PRODUCTS];
    conv_products(L, m->width[l], (size_t)batch, g);
    size_t F = g[LAYER_DW].M, CKK = g[LAYER_DW].N, BP = g[LAYER_DW].K;
    KernConv geo = conv_geom(L, batch);
    int P = L->out.h * L->out.w;
    /* work (F, B, P) = dy (B, F, P) channels first; db = its sums per channel; col again
     * (the forward's was overwritten by later layers); dW (F, CKK) = work col^T */
    if (kern_swap_axes(m->k, dy, 0, m->work, batch, L->out.c, P, err) ||
        kern_map_bias_grad(m->k, dy, batch, L->out.c, P, m->grads, m->b_off[l], err) ||
        kern_im2col(m->k, in, in_off, m->col, &geo, err) ||
        gemm_run(&m->gemm, m->gemm_name[l][LAYER_DW], 0, 1, F, CKK, BP, 1.0f, m->work, 0, BP,
                 m->col, 0, BP, 0.0f, m->grads, m->w_off[l], CKK, err))
        return -1;
    if (!dx) return 0;
    /* col (CKK, B P) = W^T work; dx (B, C, H, W) = col2im(col) */
    return gemm_run(&m->gemm, m->gemm_name[l][LAYER_DX], 1, 0, CKK, BP, F, 1.0f, m->params,
                    m->w_off[l], CKK, m->work, 0, BP, 0.0f, m->col, 0, BP, err) ||
                   kern_col2im(m->k, m->col, dx, &geo, err)
               ? -1
               : 0;
}

static void conv_ref(const NetLayer *l, int width, const double *W, const double *b,
                     const double *x, double *z)
{
    (void)width;
    int C = l->in.c, H = l->in.h, Wd = l->in.w, K = l->k, S = l->s, P = l->pad;
    for (int f = 0; f < l->out.c; f++)
        for (int oh = 0; oh < l->out.h; oh++)
            for (int ow = 0; ow < l->out.w; ow++) {
                double s = b[f];
                for (int c = 0; c < C; c++)
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            int h = oh * S - P + kh, w = ow * S - P + kw;
                            if (h < 0 || h >= H || w < 0 || w >= Wd) continue;
                            s += W[((size_t)(f * C + c) * K + kh) * K + kw] *
                                 x[((size_t)c * H + h) * Wd + w];
                        }
                z[((size_t)f * l->out.h + oh) * l->out.w + ow] = s;
            }
}

/* ---- deconv: C x H x W -> F x OH x OW, the adjoint of a convolution ---------- */

/* The convolution a deconv is the adjoint of: its image is the deconv's
 * output, its columns the deconv's input positions. */
static KernConv deconv_geom(const NetLayer *l, int B)
{
    return (KernConv){B, l->out.c, l->out.h, l->out.w, l->k, l->s, l->pad, l->in.h, l->in.w};
}

static void deconv_products(const NetLayer *l, int width, size_t B,
                            GemmShape out[LAYER_PRODUCTS])
{
    (void)width;
    size_t C = (size_t)l->in.c, FKK = (size_t)l->out.c * (size_t)l->k * (size_t)l->k;
    size_t BHW = B * (size_t)l->in.h * (size_t)l->in.w;
    out[LAYER_FWD] = (GemmShape){1, 0, FKK, BHW, C}; /* col (FKK, B HW) = W^T x' (C, B HW) */
    out[LAYER_DW] = (GemmShape){0, 1, C, FKK, BHW};  /* dW (C, FKK) = x' col^T */
    out[LAYER_DX] = (GemmShape){0, 0, C, BHW, FKK};  /* dx' (C, B HW) = W (C, FKK) col */
}

static void deconv_scratch(const NetLayer *l, size_t B, size_t *col, size_t *work)
{
    size_t BHW = B * (size_t)l->in.h * (size_t)l->in.w;
    *col = (size_t)l->out.c * (size_t)l->k * (size_t)l->k * BHW;
    *work = (size_t)l->in.c * BHW;
}

static int deconv_forward(Model *m, int l, cl_mem in, size_t in_off, cl_mem out, int batch,
                          Err *err)
{
    const NetLayer *L = &m->layer[l];
    GemmShape g[LAYER_PRODUCTS];
    deconv_products(L, m->width[l], (size_t)batch, g);
    const GemmShape *f = &g[LAYER_FWD];
    KernConv geo = deconv_geom(L, batch);
    int HW = L->in.h * L->in.w;
    /* work (C, B, HW) = in channels first; col (FKK, B HW) = W^T work;
     * out (B, F, OH, OW) = act(col2im(col) + b) */
    return kern_swap_axes(m->k, in, in_off, m->work, batch, L->in.c, HW, err) ||
                   gemm_run(&m->gemm, m->gemm_name[l][LAYER_FWD], 1, 0, f->M, f->N, f->K, 1.0f,
                            m->params, m->w_off[l], f->M, m->work, 0, f->N, 0.0f, m->col, 0, f->N,
                            err) ||
                   kern_col2im(m->k, m->col, out, &geo, err) ||
                   kern_bias_act_map(m->k, 0, NULL, out, batch, L->out.c, L->out.h * L->out.w,
                                     m->params, m->b_off[l], m->act[l], err)
               ? -1
               : 0;
}

static int deconv_backward(Model *m, int l, cl_mem in, size_t in_off, cl_mem dy, cl_mem dx,
                           int batch, Err *err)
{
    const NetLayer *L = &m->layer[l];
    GemmShape g[LAYER_PRODUCTS];
    deconv_products(L, m->width[l], (size_t)batch, g);
    size_t C = g[LAYER_DW].M, FKK = g[LAYER_DW].N, BHW = g[LAYER_DW].K;
    KernConv geo = deconv_geom(L, batch);
    int HW = L->in.h * L->in.w;
    /* db = dy's sums per channel; col (FKK, B HW) = im2col(dy); work (C, B, HW) = in
     * channels first again; dW (C, FKK) = work col^T */
    if (kern_map_bias_grad(m->k, dy, batch, L->out.c, L->out.h * L->out.w, m->grads, m->b_off[l],
                           err) ||
        kern_im2col(m->k, dy, 0, m->col, &geo, err) ||
        kern_swap_axes(m->k, in, in_off, m->work, batch, L->in.c, HW, err) ||
        gemm_run(&m->gemm, m->gemm_name[l][LAYER_DW], 0, 1, C, FKK, BHW, 1.0f, m->work, 0, BHW,
                 m->col, 0, BHW, 0.0f, m->grads, m->w_off[l], FKK, err))
        return -1;
    if (!dx) return 0;
    /* work (C, B HW) = W col; dx (B, C, H W) = work with the batch first again */
    return gemm_run(&m->gemm, m->gemm_name[l][LAYER_DX], 0, 0, C, BHW, FKK, 1.0f, m->params,
                    m->w_off[l], FKK, m->col, 0, BHW, 0.0f, m->work, 0, BHW, err) ||
                   kern_swap_axes(m->k, m->work, 0, dx, L->in.c, batch, HW, err)
               ? -1
               : 0;
}

/* nn.ConvTranspose2d's definition: input (c, h, w) adds W[c, f, kh, kw] x to
 * output (f, h S - P + kh, w S - P + kw) where that lies in the output. */
static void deconv_ref(const NetLayer *l, int width, const double *W, const double *b,
                       const double *x, double *z)
{
    (void)width;
    int C = l->in.c, H = l->in.h, Wd = l->in.w, F = l->out.c, OH = l->out.h, OW = l->out.w;
    int K = l->k, S = l->s, P = l->pad;
    for (int f = 0; f < F; f++)
        for (int i = 0; i < OH * OW; i++) z[(size_t)f * OH * OW + i] = b[f];
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < Wd; w++) {
                double v = x[((size_t)c * H + h) * Wd + w];
                for (int f = 0; f < F; f++)
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            int oh = h * S - P + kh, ow = w * S - P + kw;
                            if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                            z[((size_t)f * OH + oh) * OW + ow] +=
                                W[((size_t)(c * F + f) * K + kh) * K + kw] * v;
                        }
            }
}

/* ---- the table ---------------------------------------------------------------- */

static const LayerOps OPS[LAYER_KIND_COUNT] = {
    [LAYER_DENSE] = {dense_products, dense_scratch, dense_forward, dense_backward, dense_ref},
    [LAYER_CONV] = {conv_products, conv_scratch, conv_forward, conv_backward, conv_ref},
    [LAYER_DECONV] = {deconv_products, deconv_scratch, deconv_forward, deconv_backward,
                      deconv_ref},
};

const LayerOps *layer_ops(LayerKind k)
{
    return (unsigned)k < LAYER_KIND_COUNT ? &OPS[k] : &OPS[LAYER_DENSE];
}

double layer_flops(const NetLayer *l, int width, int with_dx)
{
    GemmShape g[LAYER_PRODUCTS];
    layer_ops(l->kind)->products(l, width, 1, g);
    double f = 0;
    for (int i = 0; i < LAYER_PRODUCTS; i++)
        if (i != LAYER_DX || with_dx) f += 2.0 * (double)g[i].M * (double)g[i].N * (double)g[i].K;
    return f;
}
