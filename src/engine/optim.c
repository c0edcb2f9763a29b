/* optim: see optim.h. */
#include "optim.h"

#include <math.h>
#include <string.h>

/* A device buffer of n zeros: the moments start at 0. */
static cl_mem zeroed(Optim *o, Err *err)
{
    cl_float zero = 0.0f;
    cl_mem b = clctx_buffer(o->ctx, o->n * sizeof(float), NULL, err);
    if (!b) return NULL;
    CL_CHECK(clEnqueueFillBuffer(o->ctx->queue, b, &zero, sizeof zero, 0, o->n * sizeof(float), 0,
                                 NULL, NULL));
    return b;
fail:
    clReleaseMemObject(b);
    return NULL;
}

int optim_create(Optim *o, ClCtx *ctx, Kernels *k, const Config *cfg, size_t n, Err *err)
{
    memset(o, 0, sizeof *o);
    o->kind = cfg->optimizer;
    o->n = n;
    o->lr = cfg->learning_rate;
    o->beta1 = cfg->beta1;
    o->beta2 = cfg->beta2;
    o->eps = cfg->epsilon;
    o->momentum = cfg->momentum;
    o->wd = cfg->weight_decay;
    o->k = k;
    o->ctx = ctx;
    if (o->kind != OPT_SGD && !(o->m = zeroed(o, err))) goto fail;
    if (o->kind == OPT_ADAM && !(o->v = zeroed(o, err))) goto fail;
    return 0;
fail:
    optim_destroy(o);
    return err_prefix(err, "optimizer state");
}

int optim_step(Optim *o, cl_mem params, cl_mem grads, Err *err)
{
    int n = (int)o->n;
    o->step++;
    switch (o->kind) {
    case OPT_ADAM: {
        /* Bias corrections in double on the host: 1 - beta^t loses digits
         * in float for beta2 = 0.999 and small t. */
        double bc1 = 1.0 - pow(o->beta1, (double)o->step);
        double bc2 = 1.0 - pow(o->beta2, (double)o->step);
        return kern_adam_step(o->k, params, grads, o->m, o->v, n, (float)o->lr, (float)o->beta1,
                              (float)o->beta2, (float)o->eps, (float)bc1, (float)bc2,
                              (float)o->wd, err);
    }
    case OPT_SGD: return kern_sgd_step(o->k, params, grads, n, (float)o->lr, (float)o->wd, err);
    case OPT_MOMENTUM:
        return kern_momentum_step(o->k, params, grads, o->m, n, (float)o->lr, (float)o->momentum,
                                  (float)o->wd, err);
    }
    return err_set(err, "unknown optimizer %d", (int)o->kind);
}

void optim_destroy(Optim *o)
{
    if (!o) return;
    if (o->m) clReleaseMemObject(o->m);
    if (o->v) clReleaseMemObject(o->v);
    o->m = o->v = NULL;
}
