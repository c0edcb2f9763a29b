/* fuzz_idx: IDX files, gzip and plain, as [data] dir and `clae encode` read
 * them (idx_read, data_load_idx).
 *
 * Input: the file's bytes. They are read as an image file (3-D) and as a
 * label file (1-D), and through data_load_idx; when they are not gzip
 * already, the same bytes gzip-compressed are read too.
 *
 * Promises checked: an array that loads has the element count its header's
 * dimensions multiply to; the gzip and the plain file give the same answer,
 * byte for byte; data_load_idx's pixels lie in [0, 1]. */
#include "fuzz.h"

#include <zlib.h>

#include "data.h"
#include "idx.h"

/* idx_read of path as ndim; the array (or count 0 on error) into *a. */
static int read_as(const char *path, int ndim, IdxArray *a)
{
    Err err = {{0}};
    int rc = idx_read(path, ndim, a, &err);
    if (rc == 0) {
        size_t count = 1;
        for (int d = 0; d < ndim; d++) count *= (size_t)a->dims[d];
        FUZZ_ASSERT(a->ndim == ndim && a->count == count, "count %zu for dims product %zu",
                    a->count, count);
    } else {
        FUZZ_ASSERT(a->data == NULL && strchr(err.msg, '\n') == NULL, "failed read: %s",
                    err.msg);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char plain[4200], gz[4200];
    fuzz_write("data.idx", data, size, plain, sizeof plain);
    int is_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!is_gzip) {
        fuzz_path(gz, sizeof gz, "data.idx.gz");
        gzFile f = gzopen(gz, "wb");
        FUZZ_ASSERT(f && (size == 0 || gzwrite(f, data, (unsigned)size) == (int)size) &&
                        gzclose(f) == Z_OK, "cannot write %s", gz);
    }
    for (int ndim = 1; ndim <= 3; ndim += 2) {
        IdxArray a, b;
        int rc = read_as(plain, ndim, &a);
        if (!is_gzip) {
            int rc2 = read_as(gz, ndim, &b);
            FUZZ_ASSERT(rc == rc2, "plain %d, gzip %d", rc, rc2);
            FUZZ_ASSERT(rc != 0 || (a.count == b.count && memcmp(a.dims, b.dims, sizeof a.dims) == 0 &&
                                    memcmp(a.data, b.data, a.count) == 0),
                        "gzip and plain differ");
            idx_free(&b);
        }
        idx_free(&a);
    }
    Dataset d;
    Err err = {{0}};
    long limit = size ? data[size - 1] % 8 : 0;
    DataKeep keep = {.limit = limit};
    if (data_load_idx(&d, plain, NULL, &keep, &err) == 0) {
        FUZZ_ASSERT(d.dim == (long long)d.rows * d.cols && d.n >= 0 && (limit == 0 || d.n <= limit),
                    "n %d rows %d cols %d", d.n, d.rows, d.cols);
        for (size_t i = 0; i < (size_t)d.n * (size_t)d.dim; i++)
            FUZZ_ASSERT(data_value(&d, i) >= 0.0f && data_value(&d, i) <= 1.0f, "pixel %g",
                        data_value(&d, i));
        dataset_free(&d);
    }
    return 0;
}
