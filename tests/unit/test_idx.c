/* test_idx: IDX fixtures written here (gzip and plain) and every bad case a
 * user can hit: missing file, wrong magic, truncated or corrupt gzip, image
 * and label counts that differ, labels outside 0-9, images of the wrong
 * size, a digit subset with no image. Then the real MNIST in $MNIST_DIR
 * (skipped with a message when absent): counts per split and per digit. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
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

/* Loads images+labels from dir and returns the error message ("" if ok). */
static const char *load_err(const char *images, const char *labels, unsigned mask, int rows,
                            int cols)
{
    static Err err;
    char ip[4200], lp[4200];
    snprintf(ip, sizeof ip, "%s/%s", dir, images);
    snprintf(lp, sizeof lp, "%s/%s", dir, labels);
    Dataset d;
    err.msg[0] = '\0';
    if (dataset_load(&d, ip, lp, mask, 0, rows, cols, &err) == 0) {
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

    /* dataset_load: scaling, filter (file order kept), limit */
    Dataset d;
    Err err = {{0}};
    CHECK(dataset_load(&d, path_of("a-images.gz"), path_of("a-labels"), 1u << 1 | 1u << 5 | 1u << 6,
                       0, 28, 28, &err) == 0,
          "%s", err.msg);
    CHECK(d.n == 4 && d.rows == 28 && d.cols == 28 && d.dim == 784, "kept %d of 6", d.n);
    if (d.n == 4) {
        CHECK(d.y[0] == 1 && d.y[1] == 5 && d.y[2] == 6 && d.y[3] == 1, "labels in file order");
        /* the 4th kept image is item 4: pixel j = (4*31 + j) % 256 / 255 */
        CHECK(d.x[3 * 784 + 10] == (float)((4 * 31 + 10) % 256) / 255.0f, "pixel scaling");
        float lo = 1, hi = 0;
        for (int i = 0; i < 4 * 784; i++) lo = d.x[i] < lo ? d.x[i] : lo, hi = d.x[i] > hi ? d.x[i] : hi;
        CHECK(lo == 0.0f && hi == 1.0f, "pixels span [0,1]: %g..%g", lo, hi);
    }
    dataset_free(&d);
    CHECK(dataset_load(&d, path_of("a-images"), path_of("a-labels"), 0x3FF, 3, 28, 28, &err) == 0 &&
              d.n == 3 && d.y[2] == 6,
          "limit 3: n=%d", d.n);
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
    m = load_err("missing-images.gz", "a-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "missing-images.gz: cannot open: No such file");

    m = load_err("a-labels", "a-labels", 0x3FF, 28, 28); /* labels where images belong */
    CHECK_CONTAINS(m, "a-labels: not an IDX file of 3-D unsigned bytes: magic is 0x00000801");

    unsigned char bad[16 + 6 * 784];
    memcpy(bad, img, ni);
    bad[2] = 0x0D; /* float type */
    write_file("float-images", bad, ni);
    m = load_err("float-images", "a-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "magic is 0x00000d03, expected 0x00000803");

    write_file("short-images.gz", img, ni - 100);
    m = load_err("short-images.gz", "a-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "short-images.gz: truncated");
    CHECK_CONTAINS(m, "4704 bytes");

    write_file("short-header", img, 10);
    m = load_err("short-header", "a-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "short-header: truncated");

    /* a gzip file cut in the middle of its compressed stream */
    {
        char p[4200];
        snprintf(p, sizeof p, "%s/a-images.gz", dir);
        size_t len = 0;
        char *gzbytes = util_read_file(p, &len, &err);
        if (gzbytes) write_file("cut-images", (unsigned char *)gzbytes, len / 2);
        free(gzbytes);
        m = load_err("cut-images", "a-labels", 0x3FF, 28, 28);
        CHECK(strstr(m, "cut-images: truncated") || strstr(m, "cut-images: corrupt gzip"),
              "cut gzip: %s", m);
        /* corrupt: flip bytes inside the deflate stream */
        gzbytes = util_read_file(p, &len, &err);
        if (gzbytes) {
            for (size_t i = 20; i < 40 && i < len; i++) gzbytes[i] ^= 0x5A;
            write_file("corrupt-images", (unsigned char *)gzbytes, len);
        }
        free(gzbytes);
        m = load_err("corrupt-images", "a-labels", 0x3FF, 28, 28);
        CHECK_CONTAINS(m, "corrupt-images: corrupt gzip data");
    }

    unsigned char lab5[8 + 5];
    write_file("five-labels", lab5, make_labels(lab5, 5, labels));
    m = load_err("a-images", "five-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "a-images has 6 images but");
    CHECK_CONTAINS(m, "five-labels has 5 labels");

    const unsigned char badlabels[6] = {1, 5, 6, 12, 1, 9};
    write_file("bad-labels", lab, make_labels(lab, 6, badlabels));
    m = load_err("a-images", "bad-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "bad-labels: label 12 of item 3 is outside 0-9");

    static unsigned char small[16 + 6 * 20 * 20];
    write_file("small-images", small, make_images(small, 6, 20, 20));
    m = load_err("small-images", "a-labels", 0x3FF, 28, 28);
    CHECK_CONTAINS(m, "small-images: images are 20x20; the model expects 28x28 (784 inputs)");
    CHECK(*load_err("small-images", "a-labels", 0x3FF, 0, 0) == '\0', "any size when not expected");

    /* mnist_load: a subset with no training image is an error naming it */
    write_file("train-labels-idx1-ubyte", lab, make_labels(lab, 6, labels));
    write_file("t10k-images-idx3-ubyte", img, ni);
    write_file("t10k-labels-idx1-ubyte", lab, nl);
    Dataset tr, te;
    CHECK(mnist_load(dir, 1u << 1, 0, &tr, &te, &err) == 0 && tr.n == 2 && te.n == 2, "%s",
          err.msg);
    dataset_free(&tr);
    dataset_free(&te);
    CHECK(mnist_load(dir, 1u << 3, 0, &tr, &te, &err) != 0, "digit 3 absent");
    CHECK_CONTAINS(err.msg, "no image has a label in [data] digits = 3");
    CHECK(tr.x == NULL && te.x == NULL, "nothing left allocated");
}

static void check_real_mnist(void)
{
    const char *mdir = getenv("MNIST_DIR");
    char probe[4200];
    Err err = {{0}};
    if (!mdir || mnist_find(mdir, "train-images-idx3-ubyte", probe, sizeof probe, &err) != 0) {
        printf("skip: real MNIST not found in MNIST_DIR='%s' (CI has it in ../shared/data/mnist)\n",
               mdir ? mdir : "");
        return;
    }
    Dataset tr, te;
    CHECK(mnist_load(mdir, 0x3FF, 0, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.n == 19690 && te.n == 10000, "counts from the headers: %d train, %d test", tr.n, te.n);
    static const int want_test[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    int per[10] = {0};
    for (int i = 0; i < te.n; i++) per[te.y[i]]++;
    for (int d = 0; d < 10; d++) CHECK(per[d] == want_test[d], "test digit %d: %d", d, per[d]);
    dataset_free(&tr);
    dataset_free(&te);
    unsigned m156 = 1u << 1 | 1u << 5 | 1u << 6;
    CHECK(mnist_load(mdir, m156, 0, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.n == 5926 && te.n == 2985, "digits 1,5,6: %d train, %d test", tr.n, te.n);
    dataset_free(&tr);
    dataset_free(&te);
    CHECK(mnist_load(mdir, m156, 500, &tr, &te, &err) == 0 && tr.n == 500 && te.n == 2985,
          "train_limit 500 applies to training only: %d, %d", tr.n, te.n);
    dataset_free(&tr);
    dataset_free(&te);
}

int main(void)
{
    test_tmpdir(dir, sizeof dir, "idx");
    check_fixtures();
    check_real_mnist();
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_idx");
}
