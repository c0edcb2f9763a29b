/* model: see model.h. */
#include "model.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "layer.h"
#include "philox.h"

int model_shape(Model *m, const Config *cfg, Shape3 input, Err *err)
{
    memset(m, 0, sizeof *m);
    ConfigNet net;
    if (config_net(cfg, input, &net, err)) return -1;
    m->n_layers = net.n_layers;
    memcpy(m->dims, net.dims, sizeof m->dims);
    memcpy(m->act, net.act, sizeof m->act);
    memcpy(m->layer, net.layer, sizeof m->layer);
    m->input = net.input;
    m->latent = net.latent;
    m->kind = net.kind;
    for (int l = 0; l < m->n_layers; l++) {
        m->width[l] = config_width(m->kind, m->dims, m->latent, l);
        m->w_off[l] = m->n_params;
        m->n_params += layers_weights(&m->layer[l], m->width[l]);
        m->b_off[l] = m->n_params;
        m->n_params += layers_biases(&m->layer[l], m->width[l]);
    }
    m->loss = net.loss;
    m->kl_weight = cfg->kl_weight;
    if (input.h > 1 || input.w > 1) {
        m->image_channels = input.c;
        m->image_rows = input.h;
        m->image_cols = input.w;
    } else {
        /* a vector: a square one is taken for a gray image */
        int side = (int)lround(sqrt((double)input.c));
        if (side * side == input.c) m->image_rows = m->image_cols = side, m->image_channels = 1;
    }
    return 0;
}

/* The largest activation width (values an item) of any layer's input or
 * output: the backward pass's ping-pong buffers hold one. */
static int widest(const Model *m)
{
    int maxd = m->dims[0];
    for (int l = 0; l < m->n_layers; l++)
        if (m->width[l] > maxd) maxd = m->width[l];
    return maxd;
}

/* One buffer's bytes against the largest so far. */
static void account(ModelMemory *mem, size_t floats, const char *what, int layer)
{
    size_t bytes = floats * sizeof(float);
    mem->total += bytes;
    if (bytes > mem->largest) {
        mem->largest = bytes;
        mem->what = what;
        mem->layer = layer;
    }
}

void model_memory(const Model *m, int max_batch, ModelMemory *mem)
{
    memset(mem, 0, sizeof *mem);
    size_t B = (size_t)max_batch;
    account(mem, m->n_params, "the parameters", 0);
    account(mem, m->n_params, "the gradients", 0);
    account(mem, B * (size_t)m->dims[0], "the input batch", 0);
    for (int l = 1; l <= m->n_layers; l++)
        account(mem, B * (size_t)m->dims[l], "the output", l);
    for (int i = 0; i < 2; i++) account(mem, B * (size_t)widest(m), "a backward buffer", 0);
    account(mem, B * (size_t)m->dims[m->n_layers], "the loss buffer", 0);
    if (m->kind == MODEL_VAE)
        account(mem, 4 * B * (size_t)m->dims[m->latent], "the vae's buffers", m->latent);
    size_t col = 0, work = 0;
    int col_layer = 0, work_layer = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t c, w;
        layer_ops(m->layer[l].kind)->scratch(&m->layer[l], B, &c, &w);
        if (c > col) col = c, col_layer = l + 1;
        if (w > work) work = w, work_layer = l + 1;
    }
    if (col) account(mem, col, "the column buffer", col_layer);
    if (work) account(mem, work, "the channels-first buffer", work_layer);
}

/* "7.9 GB" */
static void fmt_bytes(char *buf, size_t len, double bytes)
{
    if (bytes >= 1e9) util_fmt(buf, len, "%.1f GB", bytes / 1e9);
    else util_fmt(buf, len, "%.1f MB", bytes / 1e6);
}

/* Refuses a model whose buffers the device cannot hold, before anything is
 * allocated: the largest buffer against CL_DEVICE_MAX_MEM_ALLOC_SIZE, all
 * of them (with the optimizer's state) against the global memory, and
 * every scratch buffer against the kernels' int indices. Names the buffer,
 * its layer and the largest batch size that would fit. Returns -2 then. */
static int check_fits(const Model *m, const ClCtx *ctx, Optimizer opt, int max_batch, Err *err)
{
    double state = (double)ckpt_state_count(opt) * (double)m->n_params * sizeof(float);
    double max_alloc = ctx->max_alloc ? (double)ctx->max_alloc : INFINITY;
    double global = ctx->global_mem ? (double)ctx->global_mem : INFINITY;
    double int_max = (double)INT_MAX * sizeof(float);
    ModelMemory mem;
    model_memory(m, max_batch, &mem);
    int over_alloc = (double)mem.largest > max_alloc, over_int = (double)mem.largest > int_max;
    int over_global = (double)mem.total + state > global;
    if (!over_alloc && !over_global && !over_int) return 0;
    /* the largest batch that fits all three (memory grows with the batch) */
    int lo = 0, hi = max_batch;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        ModelMemory t;
        model_memory(m, mid, &t);
        if ((double)t.largest <= max_alloc && (double)t.largest <= int_max &&
            (double)t.total + state <= global)
            lo = mid;
        else
            hi = mid - 1;
    }
    char what[160], size[32], limit[32], fit[96];
    if (mem.layer > 0) {
        char item[64], shape[48];
        layers_layer_str(&m->layer[mem.layer - 1], item, sizeof item);
        layers_shape_str(m->layer[mem.layer - 1].out, shape, sizeof shape);
        util_fmt(what, sizeof what, "%s of layer %d (%s, %s an item)", mem.what, mem.layer, item,
                 shape);
    } else {
        util_fmt(what, sizeof what, "%s", mem.what);
    }
    if (lo >= 1) util_fmt(fit, sizeof fit, "[train] batch_size = %d would fit", lo);
    else util_fmt(fit, sizeof fit, "no batch size fits: use smaller layers");
    if (over_alloc || over_int) {
        fmt_bytes(size, sizeof size, (double)mem.largest);
        fmt_bytes(limit, sizeof limit, over_alloc ? max_alloc : int_max);
        return err_set(err, "[train] batch_size = %d: %s takes %s, more than %s (%s); %s",
                       max_batch, what, size, limit,
                       over_alloc ? "this device's largest buffer, CL_DEVICE_MAX_MEM_ALLOC_SIZE"
                                  : "the 2^31 values the kernels can index",
                       fit),
               -2;
    }
    fmt_bytes(size, sizeof size, (double)mem.total + state);
    fmt_bytes(limit, sizeof limit, global);
    return err_set(err, "[train] batch_size = %d: the model's buffers take %s in all (the largest, "
                        "%s, %.1f MB), more than this device's global memory, %s "
                        "(CL_DEVICE_GLOBAL_MEM_SIZE); %s",
                   max_batch, size, what, (double)mem.largest / 1e6, limit, fit),
           -2;
}

/* A device buffer of `floats` floats. */
static cl_mem make_buffer(ClCtx *ctx, size_t floats, Err *err)
{
    return clctx_buffer(ctx, floats * sizeof(float), NULL, err);
}

/* "sgemm fwd 784->500" for a dense layer (the names bench has always
 * shown), "sgemm fwd conv 1x28x28->16x14x14" for a map layer. */
static void name_products(Model *m, int l)
{
    static const char *const WHAT[LAYER_PRODUCTS] = {"fwd", "dW ", "dX "};
    const NetLayer *L = &m->layer[l];
    char a[48], b[48];
    layers_shape_str(L->in, a, sizeof a);
    layers_shape_str(L->out, b, sizeof b);
    for (int i = 0; i < LAYER_PRODUCTS; i++) {
        if (L->kind == LAYER_DENSE)
            util_fmt(m->gemm_name[l][i], sizeof m->gemm_name[l][i], "sgemm %s %d->%d", WHAT[i],
                     m->dims[l], m->width[l]);
        else
            util_fmt(m->gemm_name[l][i], sizeof m->gemm_name[l][i], "sgemm %s %s %s->%s", WHAT[i],
                     layers_kind_name(L->kind), a, b);
    }
}

int model_create(Model *m, ClCtx *ctx, Kernels *k, const Config *cfg, Shape3 input,
                 int max_batch, Err *err)
{
    if (model_shape(m, cfg, input, err)) return -1;
    int fits = check_fits(m, ctx, cfg->optimizer, max_batch, err);
    if (fits) {
        memset(m, 0, sizeof *m);
        return fits;
    }
    m->ctx = ctx;
    m->k = k;
    m->max_batch = max_batch;
    gemm_init(&m->gemm, ctx);
    m->gemm.prof = k->prof;
    size_t B = (size_t)max_batch;
    if (!(m->params = make_buffer(ctx, m->n_params, err))) goto fail;
    if (!(m->grads = make_buffer(ctx, m->n_params, err))) goto fail;
    if (!(m->x = make_buffer(ctx, B * (size_t)m->dims[0], err))) goto fail;
    for (int l = 1; l <= m->n_layers; l++)
        if (!(m->acts[l] = make_buffer(ctx, B * (size_t)m->dims[l], err))) goto fail;
    for (int i = 0; i < 2; i++)
        if (!(m->delta[i] = make_buffer(ctx, B * (size_t)widest(m), err))) goto fail;
    if (!(m->elem = make_buffer(ctx, B * (size_t)m->dims[m->n_layers], err))) goto fail;
    if (m->kind == MODEL_VAE) {
        size_t K = (size_t)m->dims[m->latent];
        if (!(m->stats = make_buffer(ctx, B * 2 * K, err)) ||
            !(m->eps = make_buffer(ctx, B * K, err)) || !(m->kl_elem = make_buffer(ctx, B * K, err)))
            goto fail;
    }
    /* One column buffer and one channels-first buffer, each of the layer
     * that needs the most: the layers use them in turn on the in-order
     * queue. */
    for (int l = 0; l < m->n_layers; l++) {
        size_t c, w;
        const LayerOps *ops = layer_ops(m->layer[l].kind);
        ops->scratch(&m->layer[l], B, &c, &w);
        if (c > m->col_floats) m->col_floats = c;
        if (w > m->work_floats) m->work_floats = w;
        GemmShape g[LAYER_PRODUCTS];
        ops->products(&m->layer[l], m->width[l], B, g);
        for (int i = 0; i < LAYER_PRODUCTS; i++)
            if ((i != LAYER_DX || l > 0) &&
                gemm_reserve(&m->gemm, g[i].ta, g[i].tb, g[i].M, g[i].N, g[i].K, err))
                goto fail;
        name_products(m, l);
    }
    if (m->col_floats && !(m->col = make_buffer(ctx, m->col_floats, err))) goto fail;
    if (m->work_floats && !(m->work = make_buffer(ctx, m->work_floats, err))) goto fail;
    if (gemm_alloc(&m->gemm, err)) goto fail;
    return 0;
fail:
    model_destroy(m);
    return -1;
}

void model_destroy(Model *m)
{
    if (!m) return;
    cl_mem *all[] = {&m->params, &m->grads, &m->x,       &m->delta[0], &m->delta[1], &m->elem,
                     &m->stats,  &m->eps,   &m->kl_elem, &m->col,      &m->work};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) clReleaseMemObject(*all[i]), *all[i] = NULL;
    for (int l = 0; l <= MODEL_MAX_LAYERS; l++)
        if (m->acts[l]) clReleaseMemObject(m->acts[l]), m->acts[l] = NULL;
    gemm_destroy(&m->gemm);
}

int model_init_params(Model *m, const Config *cfg, Rng *rng, Err *err)
{
    float *h = util_calloc(m->n_params, sizeof *h, err);
    if (!h) return -1;
    for (int l = 0; l < m->n_layers; l++) {
        double fan_in, fan_out;
        layers_fans(&m->layer[l], m->width[l], &fan_in, &fan_out);
        size_t n = layers_weights(&m->layer[l], m->width[l]);
        size_t nb = layers_biases(&m->layer[l], m->width[l]);
        if (cfg->init == INIT_TORCH) {
            /* reset_parameters of torch.nn.Linear, Conv2d and ConvTranspose2d:
             * W by kaiming_uniform_(a = sqrt(5)), whose bound is
             * 1/sqrt(fan_in), and b uniform in the same bound. W first, then
             * b, layer by layer. */
            double bound = 1.0 / sqrt(fan_in);
            for (size_t i = 0; i < n; i++)
                h[m->w_off[l] + i] = (float)(bound * (2.0 * rng_uniform(rng) - 1.0));
            for (size_t i = 0; i < nb; i++)
                h[m->b_off[l] + i] = (float)(bound * (2.0 * rng_uniform(rng) - 1.0));
            continue;
        }
        double sd = cfg->init == INIT_XAVIER ? sqrt(2.0 / (fan_in + fan_out))
                    : cfg->init == INIT_HE   ? sqrt(2.0 / fan_in)
                                             : cfg->init_std;
        for (size_t i = 0; i < n; i++) h[m->w_off[l] + i] = (float)(sd * rng_normal(rng));
        /* biases stay 0 */
    }
    int rc = model_set_params(m, h, err);
    free(h);
    return rc;
}

int model_set_params(Model *m, const float *host, Err *err)
{
    CL_CHECK(clEnqueueWriteBuffer(m->ctx->queue, m->params, CL_TRUE, 0, m->n_params * sizeof(float),
                                  host, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

int model_get_params(Model *m, float *host, Err *err)
{
    CL_CHECK(clEnqueueReadBuffer(m->ctx->queue, m->params, CL_TRUE, 0, m->n_params * sizeof(float),
                                 host, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

int model_get_grads(Model *m, float *host, Err *err)
{
    CL_CHECK(clEnqueueReadBuffer(m->ctx->queue, m->grads, CL_TRUE, 0, m->n_params * sizeof(float),
                                 host, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

static int check_batch(const Model *m, int batch, Err *err)
{
    if (batch < 1 || batch > m->max_batch)
        return err_set(err, "batch of %d rows: the model was sized for 1..%d", batch, m->max_batch);
    return 0;
}

/* model_forward_range with a vae's draw (NULL: z = mu). */
static int forward_range(Model *m, cl_mem in, size_t in_row, int batch, int first, int end,
                         const ModelDraw *draw, Err *err)
{
    if (check_batch(m, batch, err)) return -1;
    if (first < 0 || end > m->n_layers || first >= end)
        return err_set(err, "layers %d..%d: the model has layers 0..%d", first, end - 1,
                       m->n_layers - 1);
    for (int l = first; l < end; l++) {
        cl_mem A = l == first ? in : m->acts[l];
        size_t a_off = l == first ? in_row * (size_t)m->dims[l] : 0;
        /* a vae's encoder output goes to stats, and the code z to acts[latent] after it */
        int sample = m->kind == MODEL_VAE && l + 1 == m->latent;
        cl_mem Y = sample ? m->stats : m->acts[l + 1];
        /* Y (B, width[l]) = act_l(layer l of A (B, dims[l])) */
        if (layer_ops(m->layer[l].kind)->forward(m, l, A, a_off, Y, batch, err)) return -1;
        /* acts[latent] (B, K) = mu + exp(lv / 2) eps, eps (B, K) drawn or 0; kl_elem (B, K) */
        if (sample && kern_vae_sample(m->k, m->stats, m->acts[l + 1], m->eps, m->kl_elem, batch,
                                      m->dims[l + 1], draw != NULL, draw ? draw->seed : 0,
                                      PHILOX_VAE, draw ? draw->step : 0, err))
            return -1;
    }
    return 0;
}

int model_forward_range(Model *m, cl_mem in, size_t in_row, int batch, int first, int end,
                        Err *err)
{
    return forward_range(m, in, in_row, batch, first, end, NULL, err);
}

int model_forward(Model *m, cl_mem in, size_t in_row, int batch, Err *err)
{
    return forward_range(m, in, in_row, batch, 0, m->n_layers, NULL, err);
}

int model_forward_draw(Model *m, cl_mem in, size_t in_row, int batch, const ModelDraw *draw,
                       Err *err)
{
    return forward_range(m, in, in_row, batch, 0, m->n_layers, draw, err);
}

int model_loss(Model *m, cl_mem target, size_t t_row, int batch, int want_grad, cl_mem sums,
               int sum_idx, Err *err)
{
    if (check_batch(m, batch, err)) return -1;
    int D = m->dims[m->n_layers];
    int n = batch * D;
    float scale = (float)(1.0 / ((double)batch * (double)D));
    if (kern_loss(m->k, m->loss == LOSS_BCE, m->acts[m->n_layers], target, t_row * (size_t)D,
                  m->delta[0], m->elem, n, scale, want_grad, err))
        return -1;
    return kern_reduce_sum(m->k, m->elem, n, sums, sum_idx, err);
}

int model_kl(Model *m, int batch, cl_mem sums, int sum_idx, Err *err)
{
    if (m->kind != MODEL_VAE) return err_set(err, "model_kl: the model is not a vae");
    if (check_batch(m, batch, err)) return -1;
    return kern_reduce_sum(m->k, m->kl_elem, batch * m->dims[m->latent], sums, sum_idx, err);
}

int model_backward(Model *m, cl_mem in, size_t in_row, int batch, Err *err)
{
    if (check_batch(m, batch, err)) return -1;
    int cur = 0; /* delta[cur] holds dL/d(output of layer l) */
    for (int l = m->n_layers - 1; l >= 0; l--) {
        if (m->kind == MODEL_VAE && l + 1 == m->latent) {
            /* delta' (B, 2K) = d loss / d (mu, lv) from delta (B, K) = d loss / dz, through
             * z = mu + exp(lv / 2) eps, plus kl_weight / (B D) times the KL term's gradient */
            float kl_scale =
                (float)(m->kl_weight / ((double)batch * (double)m->dims[m->n_layers]));
            if (kern_vae_backward(m->k, m->delta[cur], m->stats, m->eps, m->delta[1 - cur], batch,
                                  m->dims[m->latent], kl_scale, err))
                return -1;
            cur = 1 - cur;
        }
        /* bce_loss already gave the gradient at the sigmoid's input. */
        int skip_act = l == m->n_layers - 1 && m->loss == LOSS_BCE;
        if (!skip_act && m->act[l] != ACT_LINEAR &&
            kern_act_backward(m->k, m->delta[cur], m->acts[l + 1], batch * m->width[l], m->act[l],
                              err))
            return -1;
        cl_mem A = l == 0 ? in : m->acts[l];
        size_t a_off = l == 0 ? in_row * (size_t)m->dims[0] : 0;
        /* grads: dW_l, db_l from delta (B, width[l]); delta' (B, dims[l]) = dL/dA unless l = 0 */
        if (layer_ops(m->layer[l].kind)->backward(m, l, A, a_off, m->delta[cur],
                                                  l > 0 ? m->delta[1 - cur] : NULL, batch, err))
            return -1;
        if (l > 0) cur = 1 - cur;
    }
    return 0;
}

double model_train_flops_per_image(const Model *m)
{
    double f = 0;
    for (int l = 0; l < m->n_layers; l++) f += layer_flops(&m->layer[l], m->width[l], l > 0);
    return f;
}
