/* optim.cl: parameter updates over the whole parameter buffer at once
 * (all weights and biases live in one buffer). OpenCL C 1.2, float32. */

/* Adam (Kingma & Ba 2015) with bias correction: bc1 = 1 - beta1^t and
 * bc2 = 1 - beta2^t are computed on the host for step t. */
__kernel void adam_step(__global float *p, __global const float *g, __global float *m,
                        __global float *v, int n, float lr, float beta1, float beta2, float eps,
                        float bc1, float bc2)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}

/* Plain SGD: p -= lr g. */
__kernel void sgd_step(__global float *p, __global const float *g, int n, float lr)
{
    int i = get_global_id(0);
    if (i >= n) return;
    p[i] -= lr * g[i];
}

/* Heavy-ball momentum: vel = mu vel + g; p -= lr vel. */
__kernel void momentum_step(__global float *p, __global const float *g, __global float *vel,
                            int n, float lr, float mu)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float vi = mu * vel[i] + g[i];
    vel[i] = vi;
    p[i] -= lr * vi;
}
