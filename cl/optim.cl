/* optim.cl: parameter updates over the whole parameter buffer at once
 * (all weights and biases live in one buffer). OpenCL C 1.2, float32. */

/* Adam (Kingma & Ba 2015) with bias correction: bc1 = 1 - beta1^t and
 * bc2 = 1 - beta2^t are computed on the host for step t. Weight decay wd
 * is decoupled (AdamW, Loshchilov & Hutter 2019, as torch.optim.AdamW):
 * p -= lr wd p from the parameter before the step, outside the moments. */
__kernel void adam_step(__global float *p, __global const float *g, __global float *m,
                        __global float *v, int n, float lr, float beta1, float beta2, float eps,
                        float bc1, float bc2, float wd)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float pi = p[i];
    /* without decay, exactly the update of before */
    if (wd != 0.0f) pi -= lr * wd * pi;
    p[i] = pi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}

/* Plain SGD with L2 weight decay: p -= lr (g + wd p). */
__kernel void sgd_step(__global float *p, __global const float *g, int n, float lr, float wd)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    if (wd != 0.0f) gi += wd * p[i];
    p[i] -= lr * gi;
}

/* Heavy-ball momentum with L2 weight decay (as torch.optim.SGD):
 * vel = mu vel + (g + wd p); p -= lr vel. */
__kernel void momentum_step(__global float *p, __global const float *g, __global float *vel,
                            int n, float lr, float mu, float wd)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    if (wd != 0.0f) gi += wd * p[i];
    float vi = mu * vel[i] + gi;
    vel[i] = vi;
    p[i] -= lr * vi;
}
