/* optim.cl: parameter updates over the whole parameter buffer at once
 * (all weights and biases live in one buffer). OpenCL C 1.2, float32.
 *
 * Each work-item updates `chunk` consecutive parameters in one loop, one
 * pass over parameters, gradients and moments: 1 on GPUs, 256 on CPUs
 * (KERNELS_CPU_CHUNK_FLAT), where LLVM vectorises that loop with plain
 * vector loads and stores; one parameter a work-item made PoCL vectorise
 * across work-items with masked loads and stores for the bounds check,
 * which AVX2 code does with vmaskmovps (microcoded on AMD's cores: Adam over
 * 1.1 M parameters 2.35 ms a step, 3.6x its AVX-512 code; see act.cl). */

/* Adam (Kingma & Ba 2015) with bias correction: bc1 = 1 - beta1^t and
 * bc2 = 1 - beta2^t are computed on the host for step t. Weight decay wd
 * is decoupled (AdamW, Loshchilov & Hutter 2019, as torch.optim.AdamW):
 * p -= lr wd p from the parameter before the step, outside the moments. */
__kernel void adam_step(__global float *p, __global const float *g, __global float *m,
                        __global float *v, int n, float lr, float beta1, float beta2, float eps,
                        float bc1, float bc2, float wd, int chunk)
{
    int i0 = get_global_id(0) * chunk, i1 = min(i0 + chunk, n);
    for (int i = i0; i < i1; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i];
        /* without decay (wd = 0), exactly the update of before */
        pi -= lr * wd * pi;
        p[i] = pi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
    }
}

/* Plain SGD with L2 weight decay: p -= lr (g + wd p). */
__kernel void sgd_step(__global float *p, __global const float *g, int n, float lr, float wd,
                       int chunk)
{
    int i0 = get_global_id(0) * chunk, i1 = min(i0 + chunk, n);
    for (int i = i0; i < i1; i++) p[i] -= lr * (g[i] + wd * p[i]);
}

/* Heavy-ball momentum with L2 weight decay (as torch.optim.SGD):
 * vel = mu vel + (g + wd p); p -= lr vel. */
__kernel void momentum_step(__global float *p, __global const float *g, __global float *vel,
                            int n, float lr, float mu, float wd, int chunk)
{
    int i0 = get_global_id(0) * chunk, i1 = min(i0 + chunk, n);
    for (int i = i0; i < i1; i++) {
        float vi = mu * vel[i] + (g[i] + wd * p[i]);
        vel[i] = vi;
        p[i] -= lr * vi;
    }
}
