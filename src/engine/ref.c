/* ref: see ref.h. */
#include "ref.h"

#include <math.h>
#include <stdlib.h>

#include "layer.h"

void ref_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                s += a * b;
            }
            C[i * ldc + j] = (float)(alpha * s + (beta != 0.0f ? beta * C[i * ldc + j] : 0.0));
        }
}

double ref_act(double z, Activation a)
{
    switch (a) {
    case ACT_TANH: return tanh(z);
    case ACT_RELU: return z > 0 ? z : 0;
    case ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case ACT_LEAKY_RELU: return z > 0 ? z : KERNELS_LEAKY_SLOPE * z;
    case ACT_LINEAR:
    case ACT_COUNT: break;
    }
    return z;
}

double ref_act_deriv_from_output(double y, Activation a)
{
    switch (a) {
    case ACT_TANH: return 1.0 - y * y;
    case ACT_RELU: return y > 0 ? 1.0 : 0.0;
    case ACT_SIGMOID: return y * (1.0 - y);
    case ACT_LEAKY_RELU: return y > 0 ? 1.0 : KERNELS_LEAKY_SLOPE;
    case ACT_LINEAR:
    case ACT_COUNT: break;
    }
    return 1.0;
}

double ref_forward_loss_draw(const Model *m, const double *p, const float *x, int batch,
                             const double *eps, double *out, double *recon, double *kl)
{
    int maxd = m->dims[0];
    for (int l = 0; l < m->n_layers; l++)
        if (m->width[l] > maxd) maxd = m->width[l];
    double *a = malloc(sizeof(double) * (size_t)maxd);
    double *b = malloc(sizeof(double) * (size_t)maxd);
    double total = 0, kl_sum = 0;
    int D = m->dims[m->n_layers], K = m->dims[m->latent];
    for (int r = 0; r < batch; r++) {
        for (int i = 0; i < m->dims[0]; i++) a[i] = x[(size_t)r * (size_t)m->dims[0] + (size_t)i];
        for (int l = 0; l < m->n_layers; l++) {
            /* b (width) = act(layer l of a): each kind's own host loops (layer.h) */
            layer_ops(m->layer[l].kind)->ref(&m->layer[l], m->width[l], p + m->w_off[l],
                                             p + m->b_off[l], a, b);
            for (int j = 0; j < m->width[l]; j++) b[j] = ref_act(b[j], m->act[l]);
            if (m->kind == MODEL_VAE && l + 1 == m->latent) {
                /* b = [mu | lv] (2K): the code and the KL term of this row */
                for (int j = 0; j < K; j++) {
                    double mu = b[j], lv = b[K + j];
                    double e = eps ? eps[(size_t)r * (size_t)K + (size_t)j] : 0.0;
                    a[j] = mu + exp(0.5 * lv) * e;
                    kl_sum += 0.5 * (mu * mu + exp(lv) - 1.0 - lv);
                }
                continue;
            }
            double *t = a;
            a = b;
            b = t;
        }
        for (int j = 0; j < D; j++) {
            double y = a[j], t = x[(size_t)r * (size_t)m->dims[0] + (size_t)j];
            if (out) out[(size_t)r * (size_t)D + (size_t)j] = y;
            if (m->loss == LOSS_BCE) {
                double pc = y < 1e-7 ? 1e-7 : y > 1 - 1e-7 ? 1 - 1e-7 : y;
                total += -(t * log(pc) + (1 - t) * log(1 - pc));
            } else {
                total += (y - t) * (y - t);
            }
        }
    }
    free(a);
    free(b);
    double per = (double)batch * (double)D;
    if (recon) *recon = total / per;
    if (kl) *kl = kl_sum / per;
    return total / per + (m->kind == MODEL_VAE ? m->kl_weight * kl_sum / per : 0.0);
}

double ref_forward_loss(const Model *m, const double *p, const float *x, int batch, double *out)
{
    return ref_forward_loss_draw(m, p, x, batch, NULL, out, NULL, NULL);
}
