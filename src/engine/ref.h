/* ref: plain-C host references for everything the device computes, written
 * for clarity and double-precision accumulation, never for speed. selftest
 * and the tests compare the device against these. */
#ifndef CLAE_REF_H
#define CLAE_REF_H

#include "config.h"
#include "model.h"

/* C = alpha op(A) op(B) + beta C, row-major; op(A) is M x K, op(B) K x N. */
void ref_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

double ref_act(double z, Activation a);
double ref_act_deriv_from_output(double y, Activation a);

/* Mean loss (over batch x dim) of the network whose shape is m (only the
 * shape fields are used; each layer by its kind's host loops, layer.h) with parameters p in m's layout, on the rows of x
 * (batch, dims[0]), reconstructing x itself. Double precision throughout.
 * If out is not NULL it receives the output (batch, dims[L]). For a vae the
 * code is z = mu (ref_forward_loss_draw with eps NULL), and the loss adds
 * its KL term. */
double ref_forward_loss(const Model *m, const double *p, const float *x, int batch, double *out);

/* The loss a training step minimises, model.h's normalisation: the mean
 * reconstruction loss, plus for a vae kl_weight times the KL term summed
 * over the batch and the latent values, over batch x dims[L]. A vae's code
 * is z = mu + exp(lv / 2) eps with eps (batch, K) as given, or z = mu when
 * eps is NULL. recon and kl (may be NULL) receive the two terms (kl 0 for
 * an ae, and per pixel as in loss.csv); out as for ref_forward_loss. */
double ref_forward_loss_draw(const Model *m, const double *p, const float *x, int batch,
                             const double *eps, double *out, double *recon, double *kl);

#endif
