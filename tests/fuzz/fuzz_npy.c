/* fuzz_npy: a NumPy .npy file, as [data] format = npy reads it (npy_parse).
 *
 * Input: the bytes of the file.
 *
 * Promises checked: a refused file gets one line naming it; an accepted one
 * has count = the product of its shape, every element reads, and written
 * back (npy_write, for 1 to 4 dimensions) it parses to the same type, shape
 * and bytes. */
#include "fuzz.h"

#include "npy.h"

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
    npy_free(&a);
    return 0;
}
