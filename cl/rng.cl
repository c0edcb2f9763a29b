/* rng.cl: counter-based random numbers on the device, Philox4x32-10
 * (Salmon et al., SC 2011; the Random123 reference). OpenCL C 1.2.
 *
 * The same function as src/util/philox.c, which is its host reference: a
 * number depends only on (seed, purpose, step, index), so a step can be
 * redrawn exactly and work-items draw independently. Counter = (index, step
 * low, step high, purpose), key = the seed's two 32-bit halves. Included
 * ahead of the files that draw numbers (kernels.c builds them together). */

uint4 philox4x32_10(uint4 c, uint2 k)
{
    for (int r = 0; r < 10; r++) {
        if (r > 0) k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
        uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

uint4 philox_block(uint2 seed, uint purpose, uint2 step, uint index)
{
    return philox4x32_10((uint4)(index, step.x, step.y, purpose), seed);
}

/* [0, 1): the top 24 bits times 2^-24. */
float philox_uniform(uint x)
{
    return (float)(x >> 8) * 0x1p-24f;
}

/* Standard normal, Box-Muller's cosine branch, u1 in (0, 1). */
float philox_normal(uint x0, uint x1)
{
    float u1 = ((float)(x0 >> 8) + 0.5f) * 0x1p-24f, u2 = philox_uniform(x1);
    return sqrt(-2.0f * log(u1)) * cos(6.2831853f * u2);
}

/* out[i] = the stream's i-th uniform (kind 0) or normal (kind 1): for the
 * selftest's comparison with the host reference. */
__kernel void rng_fill(__global float *out, int n, uint seed_lo, uint seed_hi, uint purpose,
                       uint step_lo, uint step_hi, int kind)
{
    int i = get_global_id(0);
    if (i >= n) return;
    uint4 b = philox_block((uint2)(seed_lo, seed_hi), purpose, (uint2)(step_lo, step_hi), (uint)i);
    out[i] = kind ? philox_normal(b.x, b.y) : philox_uniform(b.x);
}

/* ---- the variational autoencoder's sampling (src/engine/model.h) ---- */

/* The code of a vae, for element i = r K + j of a (rows, K) batch, from the
 * encoder's output stats (rows, 2K): mu = stats[r, j], lv = stats[r, K + j].
 *   eps[i] = the stream's normal at index i when drawing (a training step),
 *            else 0 (evaluation: z = mu);
 *   z[i]   = mu + exp(lv / 2) eps[i]   (the reparameterisation);
 *   kl[i]  = 0.5 (mu^2 + exp(lv) - 1 - lv), this value's KL divergence of
 *            N(mu, exp(lv)) from N(0, 1).
 * The same numbers as rng_fill's normals of (seed, purpose, step). */
__kernel void vae_sample(__global const float *stats, __global float *z, __global float *eps,
                         __global float *kl, int rows, int K, int draw, uint seed_lo,
                         uint seed_hi, uint purpose, uint step_lo, uint step_hi)
{
    int i = get_global_id(0);
    if (i >= rows * K) return;
    int r = i / K, j = i - r * K;
    float mu = stats[r * 2 * K + j], lv = stats[r * 2 * K + K + j];
    float e = 0.0f;
    if (draw) {
        uint4 b = philox_block((uint2)(seed_lo, seed_hi), purpose, (uint2)(step_lo, step_hi),
                               (uint)i);
        e = philox_normal(b.x, b.y);
    }
    eps[i] = e;
    z[i] = mu + exp(0.5f * lv) * e;
    kl[i] = 0.5f * (mu * mu + exp(lv) - 1.0f - lv);
}

/* The gradient at the encoder's output d (rows, 2K) from the gradient at the
 * code dz (rows, K), through vae_sample's z = mu + exp(lv / 2) eps, plus
 * kl_scale (= kl_weight / (batch D)) times the KL term's own gradient:
 *   d[r, j]     = dz[i] + kl_scale mu
 *   d[r, K + j] = dz[i] eps[i] exp(lv / 2) / 2 + kl_scale (exp(lv) - 1) / 2 */
__kernel void vae_backward(__global const float *dz, __global const float *stats,
                           __global const float *eps, __global float *d, int rows, int K,
                           float kl_scale)
{
    int i = get_global_id(0);
    if (i >= rows * K) return;
    int r = i / K, j = i - r * K;
    float mu = stats[r * 2 * K + j], lv = stats[r * 2 * K + K + j];
    float g = dz[i];
    d[r * 2 * K + j] = g + kl_scale * mu;
    d[r * 2 * K + K + j] = 0.5f * (g * eps[i] * exp(0.5f * lv) + kl_scale * (exp(lv) - 1.0f));
}

/* Denoising: out (n) = x (n) corrupted, element i drawn from the Philox
 * block of index i in the stream (seed, purpose, step); the trainer passes
 * purpose PHILOX_NOISE and the optimizer's step count, so a step's noise is
 * redrawn exactly on resume. Gaussian: out = x + sd z, z the block's normal
 * (philox_normal), not clipped (inputs need not be pixels). */
__kernel void noise_gaussian(__global const float *x, __global float *out, int n, uint seed_lo,
                             uint seed_hi, uint purpose, uint step_lo, uint step_hi, float sd)
{
    int i = get_global_id(0);
    if (i >= n) return;
    uint4 b = philox_block((uint2)(seed_lo, seed_hi), purpose, (uint2)(step_lo, step_hi), (uint)i);
    out[i] = x[i] + sd * philox_normal(b.x, b.y);
}

/* Masking noise (Vincent et al. 2008): out = 0 where the block's uniform
 * is below p (probability p), else x; no rescaling. */
__kernel void noise_mask(__global const float *x, __global float *out, int n, uint seed_lo,
                         uint seed_hi, uint purpose, uint step_lo, uint step_hi, float p)
{
    int i = get_global_id(0);
    if (i >= n) return;
    uint4 b = philox_block((uint2)(seed_lo, seed_hi), purpose, (uint2)(step_lo, step_hi), (uint)i);
    out[i] = philox_uniform(b.x) < p ? 0.0f : x[i];
}
