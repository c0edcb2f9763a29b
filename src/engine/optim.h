/* optim: the optimizer state and its update over the whole parameter
 * buffer (one kernel launch per step, since parameters are contiguous).
 *
 * adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *       p -= lr wd p  (decoupled weight decay, AdamW), then
 *       p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * sgd: p -= lr (g + wd p).   momentum: vel = mu vel + (g + wd p); p -= lr vel.
 * (L2 weight decay: g + wd p is the gradient of loss + wd/2 |p|^2.) Weight
 * decay applies to every parameter, weights and biases, as
 * torch.optim's does given model.parameters(). lr is the rate in effect:
 * the trainer sets it each epoch (schedule.h). */
#ifndef CLAE_OPTIM_H
#define CLAE_OPTIM_H

#include "clctx.h"
#include "config.h"
#include "kernels.h"
#include "util.h"

typedef struct {
    Optimizer kind;
    size_t n;        /* parameters */
    cl_mem m;        /* (n) adam first moment, or momentum velocity; owned */
    cl_mem v;        /* (n) adam second moment; owned; NULL otherwise */
    long step;       /* updates done; adam's t after the next step is step + 1 */
    double lr;       /* the learning rate of the next steps (the epoch's, schedule.h) */
    double beta1, beta2, eps, momentum;
    double wd;       /* [train] weight_decay */
    Kernels *k;      /* borrowed */
    ClCtx *ctx;      /* borrowed */
} Optim;

/* Creates zeroed state for n parameters with cfg's [train] settings. */
int optim_create(Optim *o, ClCtx *ctx, Kernels *k, const Config *cfg, size_t n, Err *err);

/* One update of params from grads (both (n) device buffers). */
int optim_step(Optim *o, cl_mem params, cl_mem grads, Err *err);

void optim_destroy(Optim *o);

#endif
