/* data.cl: moving rows and summing columns. OpenCL C 1.2, float32. */

/* dst(rows, cols) = src rows idx[idx_off + r]: the minibatch gather, so that
 * shuffled batches are built on the device from the resident data set.
 * Launched over (cols, rows). */
__kernel void gather_rows(__global const float *src, __global const int *idx, int idx_off,
                          __global float *dst, int rows, int cols)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    dst[r * cols + c] = src[(size_t)idx[idx_off + r] * (size_t)cols + (size_t)c];
}

/* out[out_off + c] = sum over r of d(rows, cols)[r, c]: the bias gradient.
 * One work item per column, rows in order, so the result is reproducible. */
__kernel void col_sum(__global const float *d, int rows, int cols, __global float *out,
                      int out_off)
{
    int c = get_global_id(0);
    if (c >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += d[r * cols + c];
    out[out_off + c] = s;
}
