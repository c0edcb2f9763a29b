/* loss.cl: reconstruction losses, their gradients and the deterministic sum.
 * OpenCL C 1.2, float32.
 *
 * Each loss kernel writes the per-element loss into elem (summed afterwards by
 * reduce_sum, always in the same order, so that runs are reproducible) and,
 * when want_grad is set, the gradient into grad. scale is 1 / (batch * dim):
 * the loss is the mean over pixels and images. */

/* mse: elem = (p - t)^2, grad = dL/dp = 2 (p - t) scale. */
__kernel void mse_loss(__global const float *pred, __global const float *target, int t_off,
                       __global float *grad, __global float *elem, int n, float scale,
                       int want_grad)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float diff = pred[i] - target[t_off + i];
    elem[i] = diff * diff;
    if (want_grad) grad[i] = 2.0f * diff * scale;
}

/* bce on a sigmoid output p: elem = -(t log p + (1 - t) log(1 - p)) with p
 * clamped to [1e-7, 1 - 1e-7] so that log stays finite. The gradient is taken
 * with respect to the sigmoid's input z, where it simplifies to (p - t) scale;
 * the trainer therefore skips the output layer's activation derivative. */
__kernel void bce_loss(__global const float *pred, __global const float *target, int t_off,
                       __global float *grad, __global float *elem, int n, float scale,
                       int want_grad)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float p = pred[i];
    float t = target[t_off + i];
    float pc = clamp(p, 1e-7f, 1.0f - 1e-7f);
    elem[i] = -(t * log(pc) + (1.0f - t) * log(1.0f - pc));
    if (want_grad) grad[i] = (p - t) * scale;
}

/* out[out_idx] = sum of x[0..n). Launched as ONE work-group whose size is a
 * power of two: each item sums a fixed stride, then a tree in local memory.
 * The order of additions depends only on n and the group size. */
__kernel void reduce_sum(__global const float *x, int n, __global float *out, int out_idx,
                         __local float *scratch)
{
    int lid = get_local_id(0);
    int size = get_local_size(0);
    float s = 0.0f;
    for (int i = lid; i < n; i += size) s += x[i];
    scratch[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = size / 2; span > 0; span /= 2) {
        if (lid < span) scratch[lid] += scratch[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[out_idx] = scratch[0];
}
