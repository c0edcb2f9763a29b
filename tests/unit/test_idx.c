/* test_idx: IDX fixtures written here (gzip and plain), read by idx_read and
 * loaded through data.h's data_load_idx, and every bad case a user can hit:
 * missing file, wrong magic, truncated or corrupt gzip, image and label
 * counts that differ, a class subset with no image, a listed class that no
 * item has. Images of any size load (20x20 here). The real data sets are
 * test_data's. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
#include "data.h"
#include "idx.h"

static char dir[64];

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Writes bytes as dir/name, gzip-compressed when name ends in .gz. */
static void write_file(const char *name, const unsigned char *b, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
        gzFile g = gzopen(path, "wb");
        if (!g || gzwrite(g, b, (unsigned)len) != (int)len) fprintf(stderr, "gzwrite %s\n", path);
        if (g) gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, len, f) != len) fprintf(stderr, "write %s\n", path);
        if (f) fclose(f);
    }
}

/* An image file of n rows x cols images; pixel (i, j) = (i * 31 + j) % 256. */
static size_t make_images(unsigned char *b, int n, int rows, int cols)
{
    be32(b, 0x803);
    be32(b + 4, (uint32_t)n);
    be32(b + 8, (uint32_t)rows);
    be32(b + 12, (uint32_t)cols);
    size_t dim = (size_t)rows * (size_t)cols;
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t j = 0; j < dim; j++) b[16 + i * dim + j] = (unsigned char)((i * 31 + j) % 256);
    return 16 + (size_t)n * dim;
}

static size_t make_labels(unsigned char *b, int n, const unsigned char *labels)
{
    be32(b, 0x801);
    be32(b + 4, (uint32_t)n);
    memcpy(b + 8, labels, (size_t)n);
    return 8 + (size_t)n;
}

/* dir/name in one of four rotating buffers, so that one call can take two. */
static char *path_of(const char *name)
{
    static char p[4][4200];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

/* A DataKeep of the labels whose bit is set in mask (0x3FF: every digit, no
 * filter), at most limit items. */
static DataKeep keep_of(unsigned mask, long limit)
{
    static unsigned char set[CONFIG_LABELS];
    memset(set, 0, sizeof set);
    for (int l = 0; l < 10; l++) set[l] = mask >> l & 1u;
    return (DataKeep){.classes = mask == 0x3FF ? NULL : set, .classes_text = "digits = ...",
                      .limit = limit};
}

/* Loads images+labels from dir and returns the error message ("" if ok). */
static const char *load_err(const char *images, const char *labels, unsigned mask)
{
    static Err err;
    char ip[4200], lp[4200];
    snprintf(ip, sizeof ip, "%s/%s", dir, images);
    snprintf(lp, sizeof lp, "%s/%s", dir, labels);
    Dataset d;
    err.msg[0] = '\0';
    DataKeep keep = keep_of(mask, 0);
    if (data_load_idx(&d, ip, lp, &keep, &err) == 0) {
        dataset_free(&d);
        return "";
    }
    CHECK(d.x == NULL && d.y == NULL && d.n == 0, "a failed load leaves an empty Dataset");
    return err.msg;
}

static void check_fixtures(void)
{
    static unsigned char img[16 + 6 * 28 * 28], lab[8 + 6];
    const unsigned char labels[6] = {1, 5, 6, 0, 1, 9};
    size_t ni = make_images(img, 6, 28, 28), nl = make_labels(lab, 6, labels);
    write_file("a-images.gz", img, ni);
    write_file("a-labels.gz", lab, nl);
    write_file("a-images", img, ni);
    write_file("a-labels", lab, nl);

    /* idx_read: header dims and bytes, gzip and plain alike */
    for (int gz = 0; gz < 2; gz++) {
        IdxArray a;
        Err err = {{0}};
        CHECK(idx_read(path_of(gz ? "a-images.gz" : "a-images"), 3, &a, &err) == 0, "%s", err.msg);
        CHECK(a.ndim == 3 && a.dims[0] == 6 && a.dims[1] == 28 && a.dims[2] == 28 && a.count == 6 * 784,
              "dims %d %d %d count %zu", a.dims[0], a.dims[1], a.dims[2], a.count);
        CHECK(a.data && memcmp(a.data, img + 16, 6 * 784) == 0, "bytes as written (gz=%d)", gz);
        idx_free(&a);
        idx_free(&a); /* harmless twice */
    }

    /* data_load_idx: scaling, filter (file order kept), limit */
    Dataset d;
    Err err = {{0}};
    DataKeep k156 = keep_of(1u << 1 | 1u << 5 | 1u << 6, 0);
    CHECK(data_load_idx(&d, path_of("a-images.gz"), path_of("a-labels"), &k156, &err) == 0, "%s",
          err.msg);
    CHECK(d.n == 4 && d.rows == 28 && d.cols == 28 && d.dim == 784, "kept %d of 6", d.n);
    if (d.n == 4) {
        CHECK(d.y[0] == 1 && d.y[1] == 5 && d.y[2] == 6 && d.y[3] == 1, "labels in file order");
        /* the 4th kept image is item 4: pixel j = (4*31 + j) % 256 / 255 */
        CHECK(data_value(&d, 3 * 784 + 10) == (float)((4 * 31 + 10) % 256) / 255.0f, "pixel scaling");
        float lo = 1, hi = 0;
        for (int i = 0; i < 4 * 784; i++) lo = data_value(&d, i) < lo ? data_value(&d, i) : lo, hi = data_value(&d, i) > hi ? data_value(&d, i) : hi;
        CHECK(lo == 0.0f && hi == 1.0f, "pixels span [0,1]: %g..%g", lo, hi);
    }
    dataset_free(&d);
    DataKeep k3 = keep_of(0x3FF, 3);
    CHECK(data_load_idx(&d, path_of("a-images"), path_of("a-labels"), &k3, &err) == 0 && d.n == 3 &&
              d.y[2] == 6,
          "limit 3: n=%d", d.n);
    dataset_free(&d);
    CHECK(data_load_idx(&d, path_of("a-images"), NULL, NULL, &err) == 0 && d.n == 6 && !d.y,
          "no label file: every image, no labels");
    dataset_free(&d);
    dataset_free(NULL);

    /* mnist_find: .gz first, then plain; neither is an error with the hint */
    write_file("train-images-idx3-ubyte", img, ni);
    char found[4200];
    CHECK(mnist_find(dir, "train-images-idx3-ubyte", found, sizeof found, &err) == 0, "%s", err.msg);
    CHECK(strcmp(found, path_of("train-images-idx3-ubyte")) == 0, "found %s", found);
    write_file("train-images-idx3-ubyte.gz", img, ni);
    CHECK(mnist_find(dir, "train-images-idx3-ubyte", found, sizeof found, &err) == 0 &&
              strcmp(found, path_of("train-images-idx3-ubyte.gz")) == 0,
          ".gz preferred: %s", found);
    CHECK(mnist_find(dir, "t10k-images-idx3-ubyte", found, sizeof found, &err) != 0, "missing");
    CHECK_CONTAINS(err.msg, "t10k-images-idx3-ubyte.gz");
    CHECK_CONTAINS(err.msg, "scripts/get-mnist.sh");
    CHECK_CONTAINS(err.msg, "[data] dir");

    /* Every bad case: the message names the file and the fault. */
    const char *m;
    m = load_err("missing-images.gz", "a-labels", 0x3FF);
    CHECK_CONTAINS(m, "missing-images.gz: cannot open: No such file");

    m = load_err("a-labels", "a-labels", 0x3FF); /* labels where images belong */
    CHECK_CONTAINS(m, "a-labels: not an IDX file of 3-D unsigned bytes: magic is 0x00000801");

    unsigned char bad[16 + 6 * 784];
    memcpy(bad, img, ni);
    bad[2] = 0x0D; /* float type */
    write_file("float-images", bad, ni);
    m = load_err("float-images", "a-labels", 0x3FF);
    CHECK_CONTAINS(m, "magic is 0x00000d03, expected 0x00000803");

    write_file("short-images.gz", img, ni - 100);
    m = load_err("short-images.gz", "a-labels", 0x3FF);
    CHECK_CONTAINS(m, "short-images.gz: truncated");
    CHECK_CONTAINS(m, "4704 bytes");

    write_file("short-header", img, 10);
    m = load_err("short-header", "a-labels", 0x3FF);
    CHECK_CONTAINS(m, "short-header: truncated");

    /* a gzip file cut in the middle of its compressed stream */
    {
        char p[4200];
        snprintf(p, sizeof p, "%s/a-images.gz", dir);
        size_t len = 0;
        char *gzbytes = util_read_file(p, &len, &err);
        if (gzbytes) write_file("cut-images", (unsigned char *)gzbytes, len / 2);
        free(gzbytes);
        m = load_err("cut-images", "a-labels", 0x3FF);
        CHECK(strstr(m, "cut-images: truncated") || strstr(m, "cut-images: corrupt gzip"),
              "cut gzip: %s", m);
        /* corrupt: flip bytes inside the deflate stream */
        gzbytes = util_read_file(p, &len, &err);
        if (gzbytes) {
            for (size_t i = 20; i < 40 && i < len; i++) gzbytes[i] ^= 0x5A;
            write_file("corrupt-images", (unsigned char *)gzbytes, len);
        }
        free(gzbytes);
        m = load_err("corrupt-images", "a-labels", 0x3FF);
        CHECK_CONTAINS(m, "corrupt-images: corrupt gzip data");
    }

    unsigned char lab5[8 + 5];
    write_file("five-labels", lab5, make_labels(lab5, 5, labels));
    m = load_err("a-images", "five-labels", 0x3FF);
    CHECK_CONTAINS(m, "a-images has 6 items but");
    CHECK_CONTAINS(m, "five-labels has 5 labels");

    /* labels above 9 are labels too (EMNIST has 47 classes) */
    const unsigned char biglabels[6] = {1, 5, 6, 12, 1, 9};
    write_file("big-labels", lab, make_labels(lab, 6, biglabels));
    CHECK(data_load_idx(&d, path_of("a-images"), path_of("big-labels"), NULL, &err) == 0 &&
              d.n == 6 && d.y[3] == 12,
          "label 12: %s", err.msg);
    dataset_free(&d);

    static unsigned char small[16 + 6 * 20 * 20];
    write_file("small-images", small, make_images(small, 6, 20, 20));
    CHECK(data_load_idx(&d, path_of("small-images"), path_of("a-labels"), NULL, &err) == 0 &&
              d.rows == 20 && d.cols == 20 && d.dim == 400,
          "20x20 images: %s", err.msg);
    dataset_free(&d);

    /* a subset with no image, and a listed class that no item has */
    m = load_err("a-images", "a-labels", 1u << 3);
    CHECK_CONTAINS(m, "a-labels: no item has label 3, which [data] digits = ... lists");
    m = load_err("a-images", "a-labels", 1u << 1 | 1u << 3);
    CHECK_CONTAINS(m, "no item has label 3");
}

int main(void)
{
    test_tmpdir(dir, sizeof dir, "idx");
    check_fixtures();
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_idx");
}
