/* model: see model.h. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"

int model_shape(Model *m, const Config *cfg, int input_dim, Err *err)
{
    memset(m, 0, sizeof *m);
    ConfigNet net;
    if (config_net(cfg, input_dim, &net, err)) return -1;
    m->n_layers = net.n_layers;
    memcpy(m->dims, net.dims, sizeof m->dims);
    memcpy(m->act, net.act, sizeof m->act);
    m->latent = net.latent;
    m->kind = net.kind;
    for (int l = 0; l < m->n_layers; l++) {
        m->width[l] = config_width(m->kind, m->dims, m->latent, l);
        m->w_off[l] = m->n_params;
        m->n_params += (size_t)m->dims[l] * (size_t)m->width[l];
        m->b_off[l] = m->n_params;
        m->n_params += (size_t)m->width[l];
    }
    m->loss = net.loss;
    m->kl_weight = cfg->kl_weight;
    int side = (int)lround(sqrt((double)input_dim));
    if (side * side == input_dim) m->image_rows = m->image_cols = side;
    return 0;
}

/* A device buffer of `floats` floats. */
static cl_mem make_buffer(ClCtx *ctx, size_t floats, Err *err)
{
    return clctx_buffer(ctx, floats * sizeof(float), NULL, err);
}

int model_create(Model *m, ClCtx *ctx, Kernels *k, const Config *cfg, int input_dim,
                 int max_batch, Err *err)
{
    if (model_shape(m, cfg, input_dim, err)) return -1;
    m->ctx = ctx;
    m->k = k;
    m->max_batch = max_batch;
    gemm_init(&m->gemm, ctx);
    m->gemm.prof = k->prof;
    int maxd = m->dims[0];
    for (int l = 0; l < m->n_layers; l++)
        if (m->width[l] > maxd) maxd = m->width[l];
    size_t B = (size_t)max_batch;
    if (!(m->params = make_buffer(ctx, m->n_params, err))) goto fail;
    if (!(m->grads = make_buffer(ctx, m->n_params, err))) goto fail;
    if (!(m->x = make_buffer(ctx, B * (size_t)m->dims[0], err))) goto fail;
    for (int l = 1; l <= m->n_layers; l++)
        if (!(m->acts[l] = make_buffer(ctx, B * (size_t)m->dims[l], err))) goto fail;
    for (int i = 0; i < 2; i++)
        if (!(m->delta[i] = make_buffer(ctx, B * (size_t)maxd, err))) goto fail;
    if (!(m->elem = make_buffer(ctx, B * (size_t)m->dims[m->n_layers], err))) goto fail;
    if (m->kind == MODEL_VAE) {
        size_t K = (size_t)m->dims[m->latent];
        if (!(m->stats = make_buffer(ctx, B * 2 * K, err)) ||
            !(m->eps = make_buffer(ctx, B * K, err)) || !(m->kl_elem = make_buffer(ctx, B * K, err)))
            goto fail;
    }
    for (int l = 0; l < m->n_layers; l++) {
        size_t in = (size_t)m->dims[l], out = (size_t)m->width[l];
        if (gemm_reserve(&m->gemm, 0, 0, B, out, in, err) ||
            gemm_reserve(&m->gemm, 1, 0, in, out, B, err) ||
            (l > 0 && gemm_reserve(&m->gemm, 0, 1, B, in, out, err)))
            goto fail;
        snprintf(m->gemm_name[l][0], sizeof m->gemm_name[l][0], "sgemm fwd %d->%d", m->dims[l],
                 m->width[l]);
        snprintf(m->gemm_name[l][1], sizeof m->gemm_name[l][1], "sgemm dW  %d->%d", m->dims[l],
                 m->width[l]);
        snprintf(m->gemm_name[l][2], sizeof m->gemm_name[l][2], "sgemm dX  %d->%d", m->dims[l],
                 m->width[l]);
    }
    if (gemm_alloc(&m->gemm, err)) goto fail;
    return 0;
fail:
    model_destroy(m);
    return -1;
}

void model_destroy(Model *m)
{
    if (!m) return;
    cl_mem *all[] = {&m->params, &m->grads,   &m->x,     &m->delta[0], &m->delta[1],
                     &m->elem,   &m->stats,   &m->eps,   &m->kl_elem};
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
        double fan_in = m->dims[l], fan_out = m->width[l];
        size_t n = (size_t)m->dims[l] * (size_t)m->width[l];
        if (cfg->init == INIT_TORCH) {
            /* torch.nn.Linear's reset_parameters: W by kaiming_uniform_(a =
             * sqrt(5)), whose bound is 1/sqrt(fan_in), and b uniform in the
             * same bound. W first, then b, layer by layer. */
            double bound = 1.0 / sqrt(fan_in);
            for (size_t i = 0; i < n; i++)
                h[m->w_off[l] + i] = (float)(bound * (2.0 * rng_uniform(rng) - 1.0));
            for (int i = 0; i < m->width[l]; i++)
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
    size_t B = (size_t)batch;
    for (int l = first; l < end; l++) {
        size_t K = (size_t)m->dims[l], N = (size_t)m->width[l];
        cl_mem A = l == first ? in : m->acts[l];
        size_t a_off = l == first ? in_row * K : 0;
        /* a vae's encoder output goes to stats, and the code z to acts[latent] after it */
        int sample = m->kind == MODEL_VAE && l + 1 == m->latent;
        cl_mem Y = sample ? m->stats : m->acts[l + 1];
        /* Y (B, N) = A (B, K) . W_l (K, N) */
        if (gemm_run(&m->gemm, m->gemm_name[l][0], 0, 0, B, N, K, 1.0f, A, a_off, K, m->params,
                     m->w_off[l], N, 0.0f, Y, 0, N, err))
            return -1;
        if (kern_bias_act(m->k, Y, batch, (int)N, m->params, m->b_off[l], m->act[l], err))
            return -1;
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
    size_t B = (size_t)batch;
    int cur = 0; /* delta[cur] holds dL/d(output of layer l) */
    for (int l = m->n_layers - 1; l >= 0; l--) {
        size_t K = (size_t)m->dims[l], N = (size_t)m->width[l];
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
            kern_act_backward(m->k, m->delta[cur], m->acts[l + 1], (int)(B * N), m->act[l], err))
            return -1;
        cl_mem A = l == 0 ? in : m->acts[l];
        size_t a_off = l == 0 ? in_row * K : 0;
        /* dW_l (K, N) = A^T (K, B) . delta (B, N) */
        if (gemm_run(&m->gemm, m->gemm_name[l][1], 1, 0, K, N, B, 1.0f, A, a_off, K, m->delta[cur],
                     0, N, 0.0f, m->grads, m->w_off[l], N, err))
            return -1;
        /* db_l (N) = column sums of delta */
        if (kern_col_sum(m->k, m->delta[cur], batch, (int)N, m->grads, m->b_off[l], err)) return -1;
        if (l > 0) {
            /* delta' (B, K) = delta (B, N) . W_l^T (N, K) */
            if (gemm_run(&m->gemm, m->gemm_name[l][2], 0, 1, B, K, N, 1.0f, m->delta[cur], 0, N,
                         m->params, m->w_off[l], N, 0.0f, m->delta[1 - cur], 0, K, err))
                return -1;
            cur = 1 - cur;
        }
    }
    return 0;
}

double model_train_flops_per_image(const Model *m)
{
    double f = 0;
    for (int l = 0; l < m->n_layers; l++) {
        double io = (double)m->dims[l] * (double)m->width[l];
        f += 2.0 * io * (l > 0 ? 3.0 : 2.0);
    }
    return f;
}
