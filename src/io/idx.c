/* idx: see idx.h.
 *
 * IDX layout (big-endian): two zero bytes, the element type (0x08 = unsigned
 * byte, the only one MNIST uses), the number of dimensions, then one 32-bit
 * size per dimension, then the elements in row-major order. gzread reads
 * gzip and plain files alike, so one path serves both. */
#define _POSIX_C_SOURCE 200809L
#include "idx.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>


/* Largest element count we accept: far above any MNIST-like set, and it keeps
 * (n * rows * cols) and float conversions within int/size_t comfortably. */
#define IDX_MAX_ELEMENTS ((size_t)1 << 31)
/* The first allocation for the data; it doubles as more arrives. */
#define IDX_FIRST_CHUNK ((size_t)1 << 20)

static const char GET_MNIST_HINT[] =
    "run scripts/get-mnist.sh (or MNIST_DIR=/path/to/mnist scripts/get-mnist.sh), "
    "or point [data] dir at a folder with the four IDX files";

/* Reads exactly len bytes; a short read is an error that says what was
 * expected (`what` needs `total` bytes of which `before` came in earlier
 * calls), and zlib's own message for a corrupt stream. */
static int read_exact(gzFile f, const char *path, void *buf, size_t len, const char *what,
                      size_t before, size_t total, Err *err)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        /* gzread takes an unsigned count; read in chunks well below that. */
        size_t chunk = len - done < (1u << 30) ? len - done : (1u << 30);
        int got = gzread(f, p + done, (unsigned)chunk);
        if (got < 0) {
            int zerr = Z_OK;
            const char *msg = gzerror(f, &zerr);
            return err_set(err, "%s: corrupt gzip data while reading the %s: %s", path, what,
                           zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (got == 0) {
            int zerr = Z_OK;
            const char *msg = gzerror(f, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return err_set(err, "%s: corrupt gzip data while reading the %s: %s", path, what,
                               msg);
            return err_set(err,
                           "%s: truncated: the %s needs %zu bytes, the file has only %zu "
                           "(re-download it)",
                           path, what, total, before + done);
        }
        done += (size_t)got;
    }
    return 0;
}

/* The out->count data bytes after the header into out->data. The buffer
 * grows as the data arrives instead of being allocated at the size the
 * header announces: a 16-byte file claiming two billion images is reported
 * as truncated, not answered with a 2 GB allocation. */
static int read_data(gzFile f, const char *path, IdxArray *out, Err *err)
{
    size_t count = out->count, cap = count < IDX_FIRST_CHUNK ? count : IDX_FIRST_CHUNK, done = 0;
    if (!(out->data = malloc(cap ? cap : 1)))
        return err_set(err, "%s: out of memory for %zu bytes", path, cap);
    while (done < count) {
        if (done == cap) {
            size_t grown = count - cap < cap ? count : 2 * cap;
            unsigned char *p = realloc(out->data, grown);
            if (!p) return err_set(err, "%s: out of memory for %zu bytes", path, grown);
            out->data = p;
            cap = grown;
        }
        if (read_exact(f, path, out->data + done, cap - done, "data its header announces", done,
                       count, err))
            return -1;
        done = cap;
    }
    return 0;
}

int idx_read(const char *path, int expect_ndim, IdxArray *out, Err *err)
{
    memset(out, 0, sizeof *out);
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return err_set(err, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "out of memory");
    unsigned char head[4];
    if (read_exact(f, path, head, 4, "IDX header", 0, 4, err)) goto fail;
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != expect_ndim) {
        err_set(err,
                "%s: not an IDX file of %d-D unsigned bytes: magic is 0x%02x%02x%02x%02x, "
                "expected 0x000008%02x (%s)",
                path, expect_ndim, head[0], head[1], head[2], head[3], expect_ndim,
                expect_ndim == 3 ? "an image file" : "a label file");
        goto fail;
    }
    if (expect_ndim < 1 || expect_ndim > IDX_MAX_DIMS) {
        err_set(err, "%s: %d dimensions; at most %d supported", path, expect_ndim, IDX_MAX_DIMS);
        goto fail;
    }
    out->ndim = expect_ndim;
    size_t count = 1;
    for (int d = 0; d < expect_ndim; d++) {
        unsigned char b[4];
        if (read_exact(f, path, b, 4, "IDX header", 4 + 4 * (size_t)d,
                       4 + 4 * (size_t)expect_ndim, err))
            goto fail;
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (v > (uint32_t)INT_MAX || (v > 0 && count > IDX_MAX_ELEMENTS / v)) {
            err_set(err, "%s: dimension %d is %lu: the data set would exceed %zu elements", path,
                    d, (unsigned long)v, IDX_MAX_ELEMENTS);
            goto fail;
        }
        out->dims[d] = (int)v;
        count *= v;
    }
    out->count = count;
    if (read_data(f, path, out, err)) goto fail;
    gzclose(f);
    return 0;
fail:
    gzclose(f);
    idx_free(out);
    return -1;
}

void idx_free(IdxArray *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

int mnist_find(const char *dir, const char *base, char *path, size_t len, Err *err)
{
    int n = snprintf(path, len, "%s/%s.gz", dir, base);
    if (n < 0 || (size_t)n >= len) return err_set(err, "[data] dir %s: path too long", dir);
    if (access(path, F_OK) == 0) return 0;
    snprintf(path, len, "%s/%s", dir, base);
    if (access(path, F_OK) == 0) return 0;
    return err_set(err, "%s/%s.gz: no such file (nor %s without .gz); %s", dir, base, base,
                   GET_MNIST_HINT);
}
