/* act.cl: bias plus activation (forward) and the activation derivative
 * (backward). OpenCL C 1.2, float32.
 *
 * The activation codes match enum Activation in src/config.h. Derivatives are
 * taken from the layer's output y = f(z), which is all the backward pass
 * keeps: tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' = [y > 0],
 * leaky_relu' = y > 0 ? 1 : 0.01. */

#define ACT_LINEAR 0
#define ACT_TANH 1
#define ACT_RELU 2
#define ACT_SIGMOID 3
#define ACT_LEAKY_RELU 4
#define LEAKY_SLOPE 0.01f

float act_apply(float z, int act)
{
    switch (act) {
    case ACT_TANH: return tanh(z);
    case ACT_RELU: return z > 0.0f ? z : 0.0f;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-z));
    case ACT_LEAKY_RELU: return z > 0.0f ? z : LEAKY_SLOPE * z;
    default: return z;
    }
}

float act_deriv_from_output(float y, int act)
{
    switch (act) {
    case ACT_TANH: return 1.0f - y * y;
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : LEAKY_SLOPE;
    default: return 1.0f;
    }
}

/* y(rows, cols) = act(y + b) in place; b = p[b_off .. b_off + cols).
 * Launched over (cols, rows): no division per element. */
__kernel void bias_act(__global float *y, int rows, int cols, __global const float *p, int b_off,
                       int act)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    int i = r * cols + c;
    y[i] = act_apply(y[i] + p[b_off + c], act);
}

/* d(n) *= act'(y) in place, with y the layer's output. */
__kernel void act_backward(__global float *d, __global const float *y, int n, int act)
{
    int i = get_global_id(0);
    if (i >= n) return;
    d[i] *= act_deriv_from_output(y[i], act);
}
