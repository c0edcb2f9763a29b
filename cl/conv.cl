/* conv.cl: the data movement of convolutions and the bias gradient of maps.
 * OpenCL C 1.2, float32.
 *
 * Every product of a convolution is one CLBlast GEMM over the whole batch
 * (src/engine/layer.c); these kernels only move values into and out of the
 * layouts those products take. Layouts, all row-major:
 *   a batch of maps      (B, C, H, W): NCHW, what the layers read and write
 *   channels first       (C, B, H, W): "CNHW", a (C, B H W) matrix
 *   a column matrix      (C K K, B OH OW): row (c, kh, kw), column (b, oh, ow)
 * A convolution of stride S and padding P reads x[b, c, oh S - P + kh,
 * ow S - P + kw] for output (oh, ow) and kernel tap (kh, kw); taps outside
 * the image read 0. Indices are int (the host keeps every buffer below
 * 2^31 elements) but products of two of them are taken in size_t. */

/* col (C K K, B OH OW) from x (B, C, H, W) at element x_off: each column
 * holds the input values one output position reads. One work-item per
 * row segment: tap (c, kh, kw) of one output row (b, oh), OW values, so
 * that the index arithmetic (integer division, which CPUs do not vectorise)
 * is paid once per OW values and the writes are contiguous. Launched over
 * (B OH, C K K). */
__kernel void im2col(__global const float *x, int x_off, __global float *col, int B, int C,
                     int H, int W, int K, int S, int P, int OH, int OW)
{
    int t = get_global_id(0), r = get_global_id(1);
    if (t >= B * OH || r >= C * K * K) return;
    int oh = t % OH, b = t / OH;
    int kw = r % K, t2 = r / K, kh = t2 % K, c = t2 / K;
    int h = oh * S - P + kh;
    __global float *dst = col + (size_t)r * (size_t)(B * OH * OW) + (size_t)t * (size_t)OW;
    if (h < 0 || h >= H) {
        for (int ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
        return;
    }
    __global const float *src = x + (size_t)x_off + ((size_t)(b * C + c) * (size_t)H + (size_t)h) * (size_t)W;
    for (int ow = 0; ow < OW; ow++) {
        int w = ow * S - P + kw;
        dst[ow] = w >= 0 && w < W ? src[w] : 0.0f;
    }
}

/* x (B, C, H, W) = im2col's adjoint of col (C K K, B OH OW): each value is
 * the sum of the column entries that im2col reads from it, taken in a
 * fixed order (kh, then kw) by one work-item, so the result does not depend
 * on scheduling. A convolution's input gradient, and a transposed
 * convolution's forward pass. One work-item per row (b, c, h) of W values:
 * the taps that read x[.., h, w] are kh = (h + P) mod S + m S (output row
 * (h + P - kh) / S), and likewise for w, stepped without dividing.
 * Launched over B C H. */
__kernel void col2im(__global const float *col, __global float *x, int B, int C, int H, int W,
                     int K, int S, int P, int OH, int OW)
{
    int t = get_global_id(0);
    if (t >= B * C * H) return;
    int h = t % H, t2 = t / H, c = t2 % C, b = t2 / C;
    size_t N = (size_t)B * (size_t)OH * (size_t)OW;
    int kh0 = (h + P) % S, oh0 = (h + P) / S;
    int kw0 = P % S, ow0 = P / S; /* for w = 0; stepped with w */
    __global float *dst = x + (size_t)t * (size_t)W;
    for (int w = 0; w < W; w++) {
        float s = 0.0f;
        for (int kh = kh0, oh = oh0; kh < K && oh >= 0; kh += S, oh--) {
            if (oh >= OH) continue;
            __global const float *row =
                col + (size_t)((c * K + kh) * K) * N + (size_t)((b * OH + oh) * OW);
            for (int kw = kw0, ow = ow0; kw < K && ow >= 0; kw += S, ow--)
                if (ow < OW) s += row[(size_t)kw * N + (size_t)ow];
        }
        dst[w] = s;
        if (++kw0 == S) kw0 = 0, ow0++;
    }
}

/* out (B1, A1, P) = in (A1, B1, P) from element in_off, the first two axes
 * swapped: NCHW (B, C, H W) to channels first (C, B, H W) with A1 = B,
 * B1 = C, and back with A1 = C, B1 = B. Launched over (P, A1 B1), one
 * output row of P values per (b, a). */
__kernel void swap_axes(__global const float *in, int in_off, __global float *out, int A1, int B1,
                        int P)
{
    int p = get_global_id(0), r = get_global_id(1);
    if (p >= P || r >= A1 * B1) return;
    int a = r % A1, b = r / A1;
    out[(size_t)r * (size_t)P + (size_t)p] =
        in[(size_t)in_off + (size_t)(a * B1 + b) * (size_t)P + (size_t)p];
}

/* out[out_off + f] = the sum over b and p of d (B, F, P)[b, f, p]: the bias
 * gradient of a map layer. One work-item per channel, summing in a fixed
 * order, so that runs are reproducible. */
__kernel void map_bias_grad(__global const float *d, int B, int F, int P, __global float *out,
                            int out_off)
{
    int f = get_global_id(0);
    if (f >= F) return;
    float s = 0.0f;
    for (int b = 0; b < B; b++) {
        __global const float *row = d + (size_t)(b * F + f) * (size_t)P;
        for (int p = 0; p < P; p++) s += row[p];
    }
    out[out_off + f] = s;
}
