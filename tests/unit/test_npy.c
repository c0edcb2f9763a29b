/* test_npy: NumPy .npy files (io/npy): what numpy.save writes in every
 * version and element type clae takes, round trips through npy_write, and
 * each malformed case with its one-line message. The fixtures are bytes
 * written here, laid out as numpy.lib.format documents them. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "npy.h"

/* A .npy image: preamble for `version`, the header padded as NumPy pads it,
 * then `data`. Returns its length; the bytes go to out. */
static size_t make(unsigned char *out, int version, const char *header, const void *data,
                   size_t data_len)
{
    size_t pre = version == 1 ? 10 : 12, n = strlen(header);
    size_t total = pre + n + 1, pad = (64 - total % 64) % 64, hlen = n + pad + 1;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)version;
    out[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) out[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(out + pre, header, n);
    memset(out + pre + n, ' ', pad);
    out[pre + n + pad] = '\n';
    if (data_len) memcpy(out + pre + hlen, data, data_len);
    return pre + hlen + data_len;
}

static void expect_bad(const unsigned char *b, size_t len, const char *frag)
{
    NpyArray a;
    Err err = {{0}};
    int rc = npy_parse(&a, b, len, "x.npy", &err);
    CHECK(rc != 0, "accepted (wanted '%s')", frag);
    if (rc == 0) {
        npy_free(&a);
        return;
    }
    CHECK_CONTAINS(err.msg, "x.npy");
    CHECK_CONTAINS(err.msg, frag);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
}

static unsigned char buf[1 << 16];

int main(void)
{
    Err err = {{0}};
    NpyArray a;

    /* uint8 images (N, H, W), version 1.0, exactly as numpy.save writes. */
    unsigned char px[2 * 2 * 3];
    for (int i = 0; i < 12; i++) px[i] = (unsigned char)(i * 20);
    size_t n = make(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", px,
                    sizeof px);
    CHECK(npy_parse(&a, buf, n, "img.npy", &err) == 0, "%s", err.msg);
    CHECK(a.type == NPY_U8 && a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 2 &&
              a.shape[2] == 3 && a.count == 12,
          "type %d ndim %d count %zu", a.type, a.ndim, a.count);
    CHECK(npy_get(&a, 5) == 100.0, "element 5 = %g", npy_get(&a, 5));
    npy_free(&a);

    /* float32 (N, D), version 2.0; int64 labels (N,), version 3.0; a key
     * order other than NumPy's and double quotes are fine too. */
    float fl[4] = {0.0f, 0.25f, -1.5f, 1e-3f};
    n = make(buf, 2, "{\"shape\": (2, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", fl,
             sizeof fl);
    CHECK(npy_parse(&a, buf, n, "f.npy", &err) == 0, "%s", err.msg);
    CHECK(a.type == NPY_F32 && a.ndim == 2 && npy_get(&a, 2) == -1.5 &&
              npy_get(&a, 3) == (double)1e-3f,
          "float32 values");
    int64_t v;
    CHECK(npy_get_int(&a, 0, &v) != 0, "float is not an integer type");
    npy_free(&a);
    int64_t lab[3] = {1, -5, 6};
    n = make(buf, 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", lab, sizeof lab);
    CHECK(npy_parse(&a, buf, n, "l.npy", &err) == 0, "%s", err.msg);
    CHECK(a.ndim == 1 && a.shape[0] == 3 && npy_get_int(&a, 1, &v) == 0 && v == -5, "int64 labels");
    npy_free(&a);
    /* Every integer type reads back. */
    const NpyType ints[] = {NPY_U8, NPY_I8, NPY_U16, NPY_I16, NPY_U32, NPY_I32, NPY_U64, NPY_I64};
    char root[] = "/tmp/clae-test-npy-XXXXXX";
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    char path[4200];
    snprintf(path, sizeof path, "%s/t.npy", root);
    for (size_t t = 0; t < sizeof ints / sizeof ints[0]; t++) {
        unsigned char raw[4 * 8];
        size_t sz = npy_type_size(ints[t]);
        memset(raw, 0, sizeof raw);
        for (int i = 0; i < 4; i++) raw[i * sz] = (unsigned char)(i + 1); /* 1..4 little-endian */
        size_t shape[1] = {4};
        CHECK(npy_write(path, ints[t], 1, shape, raw, &err) == 0, "%s", err.msg);
        CHECK(npy_read(&a, path, &err) == 0, "%s: %s", npy_type_descr(ints[t]), err.msg);
        CHECK(a.type == ints[t] && npy_get_int(&a, 3, &v) == 0 && v == 4, "%s: 4th = %lld",
              npy_type_descr(ints[t]), (long long)v);
        npy_free(&a);
    }
    /* npy_write's header: the 1.0 layout, 64-byte aligned, (n,) for 1-D. */
    char *text = util_read_file(path, NULL, &err);
    CHECK(text && strstr(text + 10, "'shape': (4,), }") && (10 + (unsigned char)text[8]) % 64 == 0,
          "header as NumPy writes it");
    free(text);
    size_t shape2[2] = {2, 2};
    CHECK(npy_write(path, NPY_F32, 2, shape2, fl, &err) == 0, "%s", err.msg);
    CHECK(npy_read(&a, path, &err) == 0 && a.shape[1] == 2 && npy_get(&a, 1) == 0.25, "2-D write");
    npy_free(&a);

    /* Malformed files. */
    expect_bad((const unsigned char *)"hello world, not numpy", 22, "not a .npy file");
    n = make(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", px, 11);
    expect_bad(buf, n, "truncated: the shape (12 elements of |u1) needs 12 bytes");
    n = make(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }", px, 12);
    expect_bad(buf, n, "4 bytes after the 8 elements");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", fl, sizeof fl);
    expect_bad(buf, n, "Fortran-order data");
    n = make(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", fl, sizeof fl);
    expect_bad(buf, n, "big-endian");
    n = make(buf, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", fl, 16);
    expect_bad(buf, n, "unsupported dtype '<c8'");
    n = make(buf, 1, "{'descr': '<U10', 'fortran_order': False, 'shape': (1,), }", fl, 16);
    expect_bad(buf, n, "unsupported dtype '<U10'");
    n = make(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", fl, 4);
    expect_bad(buf, n, "'descr' is not a string");
    n = make(buf, 1, "{'descr': '<f4', 'shape': (1,), }", fl, 4);
    expect_bad(buf, n, "no 'fortran_order'");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", fl, 4);
    expect_bad(buf, n, "unexpected or repeated key 'x'");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", fl, 4);
    expect_bad(buf, n, "'shape' holds something other than whole numbers");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", fl, 4);
    expect_bad(buf, n, "more than 4 dimensions");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", fl, 4);
    expect_bad(buf, n, "text after the closing '}'");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", fl, 4);
    buf[6] = 4;
    expect_bad(buf, n, "version 4.0");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", fl, 4);
    buf[8] = 0xff; /* the header claims more than the file holds */
    buf[9] = 0x7f;
    expect_bad(buf, n, "truncated in the .npy header");
    CHECK(npy_read(&a, "/nonexistent/x.npy", &err) != 0 && strstr(err.msg, "/nonexistent/x.npy"),
          "missing file: %s", err.msg);

    /* npy_map: the elements read in place from the file's mapping; the
     * file's size checked against the header before any element is read,
     * so that a short file is an error, never a SIGBUS. */
    {
        size_t shape[2] = {3, 5};
        unsigned char vals[15];
        for (int i = 0; i < 15; i++) vals[i] = (unsigned char)(i * 17);
        CHECK(npy_write(path, NPY_U8, 2, shape, vals, &err) == 0, "%s", err.msg);
        CHECK(npy_map(&a, path, &err) == 0, "map: %s", err.msg);
        CHECK(a.map != NULL && (unsigned char *)a.data >= (unsigned char *)a.map &&
                  (unsigned char *)a.data + 15 == (unsigned char *)a.map + a.map_len &&
                  a.count == 15 && memcmp(a.data, vals, 15) == 0,
              "mapped: the elements at the file's end, in place");
        npy_release_pages(&a);
        CHECK(memcmp(a.data, vals, 15) == 0, "released pages read back from the file");
        npy_free(&a);
        CHECK(a.map == NULL && a.data == NULL, "npy_free unmaps and zeroes");
        /* cut by 4 bytes: refused with both sizes, before the data is read */
        FILE *f = fopen(path, "r+b");
        long len = 0;
        if (f) fseek(f, 0, SEEK_END), len = ftell(f), fclose(f);
        CHECK(len > 4 && truncate(path, len - 4) == 0, "truncate the fixture");
        CHECK(npy_map(&a, path, &err) == -1 && a.map == NULL && a.data == NULL, "a cut file");
        CHECK_CONTAINS(err.msg, "truncated: the shape (15 elements of |u1) needs 15 bytes of data, "
                                "the file has 11");
        CHECK(truncate(path, 0) == 0 && npy_map(&a, path, &err) == -1, "an empty file");
        CHECK_CONTAINS(err.msg, "not a .npy file");
        CHECK(npy_map(&a, "/nonexistent/x.npy", &err) == -1, "missing");
        CHECK_CONTAINS(err.msg, "/nonexistent/x.npy: cannot open");
        CHECK(npy_map(&a, root, &err) == -1, "a folder");
        CHECK_CONTAINS(err.msg, "not a regular file");
    }

    unlink(path);
    rmdir(root);
    return check_done("test_npy");
}
