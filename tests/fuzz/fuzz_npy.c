/* fuzz_npy: a NumPy .npy file, as [data] format = npy reads it (npy_parse,
 * then data_from_arrays as the images and as the labels).
 *
 * Input: the bytes of the file.
 *
 * Promises checked: a refused file gets one line naming it; an accepted one
 * has count = the product of its shape, every element reads, and written
 * back (npy_write, for 1 to 4 dimensions) it parses to the same type, shape
 * and bytes. As images, read in both layouts ([data] layout), it loads only
 * as (N, D), (N, H, W) or 4-D of 1, 3 or 4 channels on the layout's channel
 * axis, of uint8 (into [0, 1]) or finite float32, N x D values, D =
 * channels x rows x cols for images; as labels of N items only as integers
 * 0-255; every refusal one line naming the file. */
#include "fuzz.h"

#include <math.h>

#include "data.h"
#include "npy.h"

/* The array as images in one layout. */
static void as_images(const NpyArray *a, DataLayout layout)
{
    Dataset d;
    Err err = {{0}};
    DataKeep keep = {.layout = layout};
    if (data_from_arrays(&d, a, "f.npy", NULL, NULL, &keep, &err) == 0) {
        size_t c = a->ndim < 4 ? 1 : a->shape[layout == LAYOUT_NHWC ? 3 : 1];
        FUZZ_ASSERT((a->type == NPY_U8 || a->type == NPY_F32) && a->ndim >= 2 && a->ndim <= 4 &&
                        d.n == (int)a->shape[0] && (size_t)d.n * (size_t)d.dim == a->count &&
                        !d.y && (d.rows == 0) == (a->ndim == 2) &&
                        (d.channels == 0) == (a->ndim == 2) &&
                        (a->ndim == 2 || ((c == 1 || c == 3 || c == 4) && (size_t)d.channels == c &&
                                          (long long)d.dim ==
                                              (long long)d.channels * d.rows * d.cols)),
                    "accepted images: type %d ndim %d n %d dim %d = %d x %d x %d", a->type,
                    a->ndim, d.n, d.dim, d.channels, d.rows, d.cols);
        for (size_t i = 0; i < a->count; i++)
            FUZZ_ASSERT(isfinite(data_value(&d, i)) &&
                            (a->type != NPY_U8 || (data_value(&d, i) >= 0 && data_value(&d, i) <= 1)),
                        "value %zu: %g", i, data_value(&d, i));
        dataset_free(&d);
    } else {
        FUZZ_ASSERT(strncmp(err.msg, "f.npy", 5) == 0 && !strchr(err.msg, '\n'),
                    "images refused: %s", err.msg);
    }
}

/* The array as images (both layouts), and as the labels of as many
 * one-value items. */
static void as_data(const NpyArray *a)
{
    Dataset d;
    Err err = {{0}};
    as_images(a, LAYOUT_NHWC);
    as_images(a, LAYOUT_NCHW);
    if (a->ndim < 1 || a->shape[0] == 0 || a->shape[0] > 4096) return;
    size_t n = a->shape[0];
    unsigned char *px = calloc(n, 1);
    FUZZ_ASSERT(px != NULL, "out of memory");
    NpyArray im = {.type = NPY_U8, .ndim = 2, .shape = {n, 1}, .count = n, .data = px};
    if (data_from_arrays(&d, &im, "i.npy", a, "f.npy", NULL, &err) == 0) {
        FUZZ_ASSERT(d.n == (int)n && d.y && a->type != NPY_F32 && a->type != NPY_F64 &&
                        a->count == n,
                    "accepted labels: type %d ndim %d", a->type, a->ndim);
        for (size_t i = 0; i < n; i++) {
            int64_t v = -1;
            npy_get_int(a, i, &v);
            FUZZ_ASSERT(v == d.y[i], "label %zu: %lld read as %d", i, (long long)v, d.y[i]);
        }
        dataset_free(&d);
    } else {
        FUZZ_ASSERT(strstr(err.msg, "f.npy") && !strchr(err.msg, '\n'), "labels refused: %s",
                    err.msg);
    }
    free(px);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NpyArray a;
    Err err = {{0}};
    if (npy_parse(&a, data, size, "f.npy", &err) != 0) {
        FUZZ_ASSERT(strncmp(err.msg, "f.npy: ", 7) == 0, "error without the file: %s", err.msg);
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "two-line error: %s", err.msg);
        return 0;
    }
    size_t count = 1;
    for (int i = 0; i < a.ndim; i++) count *= a.shape[i];
    FUZZ_ASSERT(count == a.count, "count %zu, shape product %zu", a.count, count);
    double sum = 0;
    for (size_t i = 0; i < a.count && i < 4096; i++) sum += npy_get(&a, i);
    (void)sum;
    if (a.ndim >= 1) {
        char path[4200];
        fuzz_path(path, sizeof path, "back.npy");
        FUZZ_ASSERT(npy_write(path, a.type, a.ndim, a.shape, a.data, &err) == 0, "write: %s",
                    err.msg);
        NpyArray b;
        FUZZ_ASSERT(npy_read(&b, path, &err) == 0, "written file refused: %s", err.msg);
        FUZZ_ASSERT(b.type == a.type && b.ndim == a.ndim && b.count == a.count &&
                        !memcmp(b.shape, a.shape, sizeof a.shape) &&
                        !memcmp(b.data, a.data, a.count * npy_type_size(a.type)),
                    "round trip changed the array");
        npy_free(&b);
    }
    as_data(&a);
    npy_free(&a);
    return 0;
}
