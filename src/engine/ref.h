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
 * shape fields are used) with parameters p in m's layout, on the rows of x
 * (batch, dims[0]), reconstructing x itself. Double precision throughout.
 * If out is not NULL it receives the output (batch, dims[L]). */
double ref_forward_loss(const Model *m, const double *p, const float *x, int batch, double *out);

#endif
