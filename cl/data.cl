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

/* gather_rows of bytes: dst(rows, cols) = src rows idx[idx_off + r] scaled
 * to floats by 1/255, the data set held on the device as the file's bytes
 * (a quarter of the floats). (float)b * (1.0f / 255.0f) is the product
 * data.c's byte_value computes on the host, so the values are the same
 * floats. Launched over (cols, rows). */
__kernel void gather_rows_u8(__global const uchar *src, __global const int *idx, int idx_off,
                             __global float *dst, int rows, int cols)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    dst[r * cols + c] =
        (float)src[(size_t)idx[idx_off + r] * (size_t)cols + (size_t)c] * (1.0f / 255.0f);
}

/* dst(rows, cols) = src rows first .. first + rows - 1 scaled by 1/255:
 * test batches and streamed batches (already in order) of byte data.
 * Launched over (cols, rows). */
__kernel void rows_u8(__global const uchar *src, int first, __global float *dst, int rows,
                      int cols)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    dst[r * cols + c] = (float)src[((size_t)first + (size_t)r) * (size_t)cols + (size_t)c] *
                        (1.0f / 255.0f);
}

/* out[out_off + c] = sum over r of d(rows, cols)[r, c]: the bias gradient.
 * Each column summed over the rows in order, so the result is reproducible
 * and the same on every path. A work-item takes `chunk` columns: 1 on GPUs
 * (adjacent work-items, adjacent columns), COL_CHUNK on CPUs, where a
 * work-item per column ran the guard as masked loads under AVX2 code (see
 * act.cl): a full chunk keeps its COL_CHUNK sums in registers and reads each
 * row's COL_CHUNK values with plain vector loads; a chunk cut by the last
 * column goes one column at a time. */
#define COL_CHUNK 32
__kernel void col_sum(__global const float *d, int rows, int cols, __global float *out,
                      int out_off, int chunk)
{
    int c0 = get_global_id(0) * chunk;
    if (c0 >= cols) return;
    if (chunk == COL_CHUNK && c0 + COL_CHUNK <= cols) {
        float s[COL_CHUNK];
        for (int j = 0; j < COL_CHUNK; j++) s[j] = 0.0f;
        for (int r = 0; r < rows; r++) {
            __global const float *dr = d + (size_t)r * (size_t)cols + c0;
            for (int j = 0; j < COL_CHUNK; j++) s[j] += dr[j];
        }
        for (int j = 0; j < COL_CHUNK; j++) out[out_off + c0 + j] = s[j];
        return;
    }
    int c1 = min(c0 + chunk, cols);
    for (int c = c0; c < c1; c++) {
        float s = 0.0f;
        for (int r = 0; r < rows; r++) s += d[(size_t)r * (size_t)cols + c];
        out[out_off + c] = s;
    }
}
