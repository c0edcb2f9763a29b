/* npy: see npy.h.
 *
 * The format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
 * version byte, the header length (little-endian u16 for 1.0, u32 for 2.0
 * and 3.0), then the header, a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 * padded with spaces and ended by '\n', then the raw elements. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise: posix_madvise's DONTNEED does nothing on glibc */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    char kind; /* 'u', 'i', 'f' */
    size_t size;
    NpyType type;
} TYPES[] = {{'u', 1, NPY_U8},  {'i', 1, NPY_I8},  {'u', 2, NPY_U16}, {'i', 2, NPY_I16},
             {'u', 4, NPY_U32}, {'i', 4, NPY_I32}, {'u', 8, NPY_U64}, {'i', 8, NPY_I64},
             {'f', 4, NPY_F32}, {'f', 8, NPY_F64}};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

const char *npy_type_descr(NpyType t)
{
    static const char *const DESCR[NPY_TYPE_COUNT] = {"|u1", "|i1", "<u2", "<i2", "<u4",
                                                      "<i4", "<u8", "<i8", "<f4", "<f8"};
    return t >= 0 && t < NPY_TYPE_COUNT ? DESCR[t] : "?";
}

size_t npy_type_size(NpyType t)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (TYPES[i].type == t) return TYPES[i].size;
    return 0;
}

/* ---- the header dict --------------------------------------------------------- */

typedef struct {
    const char *p, *end;
    const char *name;
    Err *err;
} Hdr;

static void skip_ws(Hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int hdr_fail(Hdr *h, const char *what)
{
    return err_set(h->err, "%s: not a valid .npy header: %s", h->name, what);
}

static int eat(Hdr *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 0;
    }
    return -1;
}

/* A quoted Python string ('...' or "...") without escapes, into out. */
static int py_string(Hdr *h, char *out, size_t cap)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return -1;
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || (unsigned char)*h->p < 0x20 || n + 1 >= cap) return -1;
        out[n++] = *h->p++;
    }
    if (h->p >= h->end) return -1;
    h->p++;
    out[n] = '\0';
    return 0;
}

static int parse_descr(Hdr *h, NpyType *t)
{
    char d[32];
    if (py_string(h, d, sizeof d)) return hdr_fail(h, "'descr' is not a string");
    char order = d[0];
    if (strlen(d) < 3 || strchr("<>|=", order) == NULL)
        return err_set(h->err, "%s: unsupported dtype '%s': expected uint8 or float32 images "
                               "('|u1', '<f4') and integer labels ('<i8', '|u1', ...)",
                       h->name, d);
    char kind = d[1];
    char *end = NULL;
    long size = strtol(d + 2, &end, 10);
    if (*end || size <= 0)
        return err_set(h->err, "%s: unsupported dtype '%s': a simple numeric type is expected",
                       h->name, d);
    for (size_t i = 0; i < N_TYPES; i++) {
        if (TYPES[i].kind != kind || TYPES[i].size != (size_t)size) continue;
        /* One-byte types have no byte order; '=' is native, which every
         * host clae builds on (x86-64, aarch64) has as little-endian. */
        if (order == '>' && size > 1)
            return err_set(h->err, "%s: dtype '%s' is big-endian: save the array little-endian "
                                   "(numpy: a.astype('<%c%ld'))",
                           h->name, d, kind, size);
        *t = TYPES[i].type;
        return 0;
    }
    return err_set(h->err, "%s: unsupported dtype '%s': expected uint8 or float32 images "
                           "('|u1', '<f4') and integer labels ('<i8', '|u1', ...)",
                   h->name, d);
}

static int parse_shape(Hdr *h, NpyArray *a)
{
    if (eat(h, '(')) return hdr_fail(h, "'shape' is not a tuple");
    a->ndim = 0;
    skip_ws(h);
    while (h->p < h->end && *h->p != ')') {
        skip_ws(h);
        if (h->p >= h->end || !isdigit((unsigned char)*h->p))
            return hdr_fail(h, "'shape' holds something other than whole numbers");
        if (a->ndim == NPY_MAX_DIMS)
            return err_set(h->err, "%s: more than %d dimensions; clae takes (N, D), (N, H, W) "
                                   "or (N,)",
                           h->name, NPY_MAX_DIMS);
        size_t v = 0;
        while (h->p < h->end && isdigit((unsigned char)*h->p)) {
            if (v > ((size_t)1 << 40)) return hdr_fail(h, "a dimension is too large");
            v = v * 10 + (size_t)(*h->p++ - '0');
        }
        /* NumPy writes Python ints, which may carry an 'L' on Python 2. */
        if (h->p < h->end && *h->p == 'L') h->p++;
        a->shape[a->ndim++] = v;
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') h->p++;
        else if (h->p < h->end && *h->p != ')') return hdr_fail(h, "'shape' is not a tuple");
        skip_ws(h);
    }
    if (eat(h, ')')) return hdr_fail(h, "'shape' is not closed");
    return 0;
}

static int parse_header(Hdr *h, NpyArray *a)
{
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    if (eat(h, '{')) return hdr_fail(h, "it does not start with '{'");
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == '}') break;
        char key[32];
        if (py_string(h, key, sizeof key)) return hdr_fail(h, "a key is not a string");
        if (eat(h, ':')) return hdr_fail(h, "a key without ':'");
        if (strcmp(key, "descr") == 0 && !seen_descr++) {
            if (parse_descr(h, &a->type)) return -1;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_order++) {
            skip_ws(h);
            size_t left = (size_t)(h->end - h->p);
            if (left >= 5 && !memcmp(h->p, "False", 5)) {
                h->p += 5;
            } else if (left >= 4 && !memcmp(h->p, "True", 4)) {
                return err_set(h->err, "%s: Fortran-order data (fortran_order: True): save it in "
                                       "C order (numpy: np.save(f, np.ascontiguousarray(a)))",
                               h->name);
            } else {
                return hdr_fail(h, "'fortran_order' is neither True nor False");
            }
        } else if (strcmp(key, "shape") == 0 && !seen_shape++) {
            if (parse_shape(h, a)) return -1;
        } else {
            char msg[96];
            snprintf(msg, sizeof msg, "unexpected or repeated key '%s'", key);
            return hdr_fail(h, msg);
        }
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') h->p++;
        else if (h->p >= h->end || *h->p != '}') return hdr_fail(h, "entries not separated by ','");
    }
    h->p++;
    skip_ws(h);
    if (h->p != h->end) return hdr_fail(h, "text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape)
        return hdr_fail(h, !seen_descr ? "no 'descr'" : !seen_order ? "no 'fortran_order'"
                                                                     : "no 'shape'");
    return 0;
}

/* ---- the file ------------------------------------------------------------------ */

/* The header of the .npy file in b (len bytes) into a, every check of
 * npy_parse, and where the elements start (*start); a->data is left NULL. */
static int parse_file(NpyArray *a, const unsigned char *b, size_t len, const char *name,
                      size_t *data_start, Err *err)
{
    memset(a, 0, sizeof *a);
    static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (len < 10 || memcmp(b, MAGIC, 6) != 0)
        return err_set(err, "%s: not a .npy file (no \\x93NUMPY magic; save arrays with "
                            "numpy.save)",
                       name);
    int major = b[6], minor = b[7];
    size_t hlen, start;
    if (major == 1 && minor == 0) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        start = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (len < 12) return err_set(err, "%s: truncated in the .npy header", name);
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        start = 12;
    } else {
        return err_set(err, "%s: .npy format version %d.%d; clae reads 1.0, 2.0 and 3.0", name,
                       major, minor);
    }
    if (hlen > len - start)
        return err_set(err, "%s: truncated in the .npy header (it claims %zu bytes, the file "
                            "has %zu after the preamble)",
                       name, hlen, len - start);
    Hdr h = {(const char *)b + start, (const char *)b + start + hlen, name, err};
    if (memchr(h.p, '\0', hlen)) return hdr_fail(&h, "a NUL byte in it");
    if (parse_header(&h, a)) return -1;
    size_t count = 1, size = npy_type_size(a->type);
    for (int i = 0; i < a->ndim; i++) {
        if (a->shape[i] && count > (SIZE_MAX / size) / a->shape[i])
            return err_set(err, "%s: shape too large", name);
        count *= a->shape[i];
    }
    a->count = count;
    size_t have = len - start - hlen, want = count * size;
    if (have < want)
        return err_set(err, "%s: truncated: the shape (%zu elements of %s) needs %zu bytes of "
                            "data, the file has %zu",
                       name, count, npy_type_descr(a->type), want, have);
    if (have > want)
        return err_set(err, "%s: %zu bytes after the %zu elements the header announces", name,
                       have - want, count);
    *data_start = start + hlen;
    return 0;
}

int npy_parse(NpyArray *a, const unsigned char *b, size_t len, const char *name, Err *err)
{
    size_t start = 0;
    if (parse_file(a, b, len, name, &start, err)) return -1;
    size_t want = a->count * npy_type_size(a->type);
    if (!(a->data = util_malloc(want ? want : 1, err))) return -1;
    memcpy(a->data, b + start, want);
    return 0;
}

int npy_map(NpyArray *a, const char *path, Err *err)
{
    memset(a, 0, sizeof *a);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_set(err, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    if (len < 10) { /* too short for the preamble (and mmap refuses 0 bytes): its message */
        close(fd);
        return npy_read(a, path, err);
    }
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file */
    if (m == MAP_FAILED) return err_set(err, "%s: mmap of %zu bytes: %s", path, len, strerror(e));
    /* The header is checked against the size fstat gave before any element
     * is read: a truncated file is refused here, never met as a SIGBUS. */
    size_t start = 0;
    if (parse_file(a, m, len, path, &start, err)) {
        munmap(m, len);
        memset(a, 0, sizeof *a);
        return -1;
    }
    a->map = m;
    a->map_len = len;
    a->data = (unsigned char *)m + start;
    return 0;
}

void npy_release_pages(const NpyArray *a)
{
    /* MADV_DONTNEED on a private read-only file mapping only unmaps the
     * pages from this process; their contents come back from the file. */
    if (a && a->map) madvise(a->map, a->map_len, MADV_DONTNEED);
}

int npy_read(NpyArray *a, const char *path, Err *err)
{
    size_t len = 0;
    char *bytes = util_read_file(path, &len, err);
    if (!bytes) {
        memset(a, 0, sizeof *a);
        return -1;
    }
    int rc = npy_parse(a, (const unsigned char *)bytes, len, path, err);
    free(bytes);
    return rc;
}

/* Little-endian bytes to an unsigned value. */
static uint64_t le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--) v = v << 8 | p[i - 1];
    return v;
}

int npy_get_int(const NpyArray *a, size_t i, int64_t *out)
{
    size_t n = npy_type_size(a->type);
    uint64_t v = le((const unsigned char *)a->data + i * n, n);
    switch (a->type) {
    case NPY_U8: case NPY_U16: case NPY_U32: *out = (int64_t)v; return 0;
    case NPY_U64: *out = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v; return 0;
    case NPY_I8: *out = (int8_t)(uint8_t)v; return 0;
    case NPY_I16: *out = (int16_t)(uint16_t)v; return 0;
    case NPY_I32: *out = (int32_t)(uint32_t)v; return 0;
    case NPY_I64: *out = (int64_t)v; return 0;
    default: return -1;
    }
}

double npy_get(const NpyArray *a, size_t i)
{
    size_t n = npy_type_size(a->type);
    const unsigned char *p = (const unsigned char *)a->data + i * n;
    if (a->type == NPY_F32) {
        uint32_t bits = (uint32_t)le(p, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    if (a->type == NPY_F64) {
        uint64_t bits = le(p, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    int64_t v = 0;
    npy_get_int(a, i, &v);
    return (double)v;
}

int npy_write(const char *path, NpyType type, int ndim, const size_t *shape, const void *data,
              Err *err)
{
    if (ndim < 1 || ndim > NPY_MAX_DIMS || type < 0 || type >= NPY_TYPE_COUNT)
        return err_set(err, "%s: npy_write of %d dimensions, type %d", path, ndim, (int)type);
    char dict[256], dims[160] = "";
    size_t count = 1, used = 0;
    for (int i = 0; i < ndim; i++) {
        used += (size_t)snprintf(dims + used, sizeof dims - used, "%zu,%s", shape[i],
                                 ndim > 1 && i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    if (ndim > 1) dims[strlen(dims) - 1] = '\0'; /* (a, b) but (a,) */
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                     npy_type_descr(type), dims);
    /* Preamble + header padded to a multiple of 64, ending in '\n'. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    char tmp[4200];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, sizeof pre, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    if (count) fwrite(data, npy_type_size(type), count, f);
    return util_atomic_commit(f, tmp, path, err);
}

void npy_free(NpyArray *a)
{
    if (!a) return;
    if (a->map) munmap(a->map, a->map_len);
    else free(a->data);
    memset(a, 0, sizeof *a);
}
