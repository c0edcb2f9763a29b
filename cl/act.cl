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
 * Row kernels (bias_act, act_backward) take `chunk`, the values one
 * work-item does in a loop of its own: the host passes 1 on GPUs (adjacent
 * work-items, adjacent values) and KERNELS_CPU_CHUNK on CPUs. On a CPU PoCL
 * vectorises the work-item loop, and the guard every kernel needs (the
 * global size is rounded up to the group) becomes masked loads and stores;
 * AVX2 code has only vmaskmovps for them, which AMD's cores run in
 * microcode (measured on PoCL 3.1 with its AVX2 kernel library, 256 x 500:
 * every guarded kernel 2-7x slower than its AVX-512 code). The loop over a
 * chunk is vectorised by LLVM's loop vectoriser instead, with plain vector
 * loads and a scalar remainder, on every CPU class.
 *
 * tanh is clae_tanh below, not the library's: PoCL 3.1's AVX2 library
 * returns tanh through a type the vectoriser cannot widen ("instruction
 * return type cannot be vectorized"), so every tanh ran scalar (0.78 ms
 * per 256 x 500 call, 9x its AVX-512 code).
 *
 * LEAKY_SLOPE comes with the build options (-DLEAKY_SLOPE=0.01f), from
 * KERNELS_LEAKY_SLOPE in src/engine/kernels.h, which the host reference
 * (src/engine/ref.c) uses too. */

#ifndef LEAKY_SLOPE
#error "LEAKY_SLOPE is a build option (src/engine/kernels.c builds with it)"
#endif

/* tanh(z) as Eigen's rational approximation (a degree 13/6 odd/even minimax
 * fit on [-7.9053, 7.9053], beyond which tanh rounds to +-1 within 2.4e-7;
 * z itself below 0.0004, where tanh(z) = z (1 - z^2/3) within 5.3e-8
 * relative): multiplies, adds and one divide, which vectorise on every CPU.
 * Error against tanh in double, over every 7th positive float (odd, so the
 * same below zero): at most 2.8e-7 absolute and 2.9e-7 relative (4.6 ulp);
 * selftest checks it to 5e-7 relative. */
inline float clae_tanh(float z)
{
    float x = clamp(z, -7.90531110763549805f, 7.90531110763549805f);
    float x2 = x * x;
    float p = fma(x2, -2.76076847742355e-16f, 2.00018790482477e-13f);
    p = fma(x2, p, -8.60467152213735e-11f);
    p = fma(x2, p, 5.12229709037114e-08f);
    p = fma(x2, p, 1.48572235717979e-05f);
    p = fma(x2, p, 6.37261928875436e-04f);
    p = fma(x2, p, 4.89352455891786e-03f);
    float q = fma(x2, 1.19825839466702e-06f, 1.18534705686654e-04f);
    q = fma(x2, q, 2.26843463243900e-03f);
    q = fma(x2, q, 4.89352518554385e-03f);
    return fabs(x) < 0.0004f ? x : x * p / q;
}

/* y(rows, cols) = f(y + b) in place, b = p[b_off .. b_off + cols), launched
 * over (ceil(cols / chunk), rows), each work-item columns [c chunk, c chunk
 * + chunk) of its row; d(n) *= f'(y) in place, y the layer's output,
 * launched over ceil(n / chunk).
 * For maps, b = p[b_off .. b_off + F) one bias per channel, launched over
 * (P, B F) (P = H W values a channel): bias_act_cnhw reads a convolution's
 * product z (F, B, P), channels first as the GEMM gives it, and writes the
 * layer's output y (B, F, P) in NCHW; bias_act_nchw works in place on y
 * (B, F, P), a transposed convolution's col2im output. */
#define ACTIVATION(NAME, F_OF_Z, DF_OF_Y)                                                        \
    __kernel void bias_act_##NAME(__global float *y, int rows, int cols, __global const float *p, \
                                  int b_off, int chunk)                                          \
    {                                                                                            \
        int c0 = get_global_id(0) * chunk, r = get_global_id(1);                                 \
        if (r >= rows) return;                                                                   \
        int c1 = min(c0 + chunk, cols);                                                          \
        __global float *yr = y + (size_t)r * (size_t)cols;                                       \
        __global const float *b = p + b_off;                                                     \
        for (int c = c0; c < c1; c++) {                                                          \
            float z = yr[c] + b[c];                                                              \
            yr[c] = (F_OF_Z);                                                                    \
        }                                                                                        \
    }                                                                                            \
    __kernel void act_backward_##NAME(__global float *d, __global const float *y, int n,        \
                                      int chunk)                                                 \
    {                                                                                            \
        int i0 = get_global_id(0) * chunk, i1 = min(i0 + chunk, n);                              \
        for (int i = i0; i < i1; i++) {                                                          \
            float yi = y[i];                                                                     \
            d[i] *= (DF_OF_Y);                                                                   \
        }                                                                                        \
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
ACTIVATION(tanh, clae_tanh(z), 1.0f - yi * yi)
ACTIVATION(relu, z > 0.0f ? z : 0.0f, yi > 0.0f ? 1.0f : 0.0f)
ACTIVATION(sigmoid, 1.0f / (1.0f + exp(-z)), yi * (1.0f - yi))
ACTIVATION(leaky_relu, z > 0.0f ? z : LEAKY_SLOPE * z, yi > 0.0f ? 1.0f : LEAKY_SLOPE)
