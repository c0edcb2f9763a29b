/* act.cl: bias plus activation (forward) and the activation derivative
 * (backward). OpenCL C 1.2, float32.
 *
 * One kernel per activation, bias_act_<name> and act_backward_<name> (the
 * names config.h's activations have): with the activation chosen at run
 * time by a switch, PoCL's compiler could not vectorise the work-item loop
 * around tanh, and the forward pass's activations took 5x longer (measured
 * on PoCL 3.1, 256 x 500 tanh: 652 us with the switch, 119 us without).
 * Derivatives are taken from the layer's output y = f(z), which is all the
 * backward pass keeps: tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' =
 * [y > 0], leaky_relu' = y > 0 ? 1 : LEAKY_SLOPE.
 *
 * LEAKY_SLOPE comes with the build options (-DLEAKY_SLOPE=0.01f), from
 * KERNELS_LEAKY_SLOPE in src/engine/kernels.h, which the host reference
 * (src/engine/ref.c) uses too. */

#ifndef LEAKY_SLOPE
#error "LEAKY_SLOPE is a build option (src/engine/kernels.c builds with it)"
#endif

/* y(rows, cols) = f(y + b) in place, b = p[b_off .. b_off + cols), launched
 * over (cols, rows); d(n) *= f'(y) in place, y the layer's output.
 * For maps, b = p[b_off .. b_off + F) one bias per channel, launched over
 * (P, B F) (P = H W values a channel): bias_act_cnhw reads a convolution's
 * product z (F, B, P), channels first as the GEMM gives it, and writes the
 * layer's output y (B, F, P) in NCHW; bias_act_nchw works in place on y
 * (B, F, P), a transposed convolution's col2im output. */
#define ACTIVATION(NAME, F_OF_Z, DF_OF_Y)                                                        \
    __kernel void bias_act_##NAME(__global float *y, int rows, int cols, __global const float *p, \
                                  int b_off)                                                     \
    {                                                                                            \
        int c = get_global_id(0), r = get_global_id(1);                                          \
        if (c >= cols || r >= rows) return;                                                      \
        int i = r * cols + c;                                                                    \
        float z = y[i] + p[b_off + c];                                                           \
        y[i] = (F_OF_Z);                                                                         \
    }                                                                                            \
    __kernel void act_backward_##NAME(__global float *d, __global const float *y, int n)        \
    {                                                                                            \
        int i = get_global_id(0);                                                                \
        if (i >= n) return;                                                                      \
        float yi = y[i];                                                                         \
        d[i] *= (DF_OF_Y);                                                                       \
    }                                                                                            \
    __kernel void bias_act_cnhw_##NAME(__global const float *zin, __global float *y, int B,       \
                                       int F, int P, __global const float *p, int b_off)          \
    {                                                                                            \
        int q = get_global_id(0), r = get_global_id(1);                                          \
        if (q >= P || r >= B * F) return;                                                        \
        int f = r % F, b = r / F;                                                                \
        float z = zin[(size_t)(f * B + b) * (size_t)P + (size_t)q] + p[b_off + f];               \
        y[(size_t)r * (size_t)P + (size_t)q] = (F_OF_Z);                                         \
    }                                                                                            \
    __kernel void bias_act_nchw_##NAME(__global float *y, int B, int F, int P,                    \
                                       __global const float *p, int b_off)                        \
    {                                                                                            \
        int q = get_global_id(0), r = get_global_id(1);                                          \
        if (q >= P || r >= B * F) return;                                                        \
        size_t i = (size_t)r * (size_t)P + (size_t)q;                                            \
        float z = y[i] + p[b_off + r % F];                                                       \
        y[i] = (F_OF_Z);                                                                         \
    }

ACTIVATION(linear, z, 1.0f)
ACTIVATION(tanh, tanh(z), 1.0f - yi * yi)
ACTIVATION(relu, z > 0.0f ? z : 0.0f, yi > 0.0f ? 1.0f : 0.0f)
ACTIVATION(sigmoid, 1.0f / (1.0f + exp(-z)), yi * (1.0f - yi))
ACTIVATION(leaky_relu, z > 0.0f ? z : LEAKY_SLOPE * z, yi > 0.0f ? 1.0f : LEAKY_SLOPE)
