/* test_data: the data module. .npy fixtures written here (npy_write, and
 * headers written by hand for what npy_write never makes) loaded through
 * data_load as [data] format = npy says: uint8 scaled by 1/255, float32 as
 * it is, (N, H, W) images and (N, D) items that are not images, labels of
 * several integer types as (N,) and (N, 1), none at all, paths relative to
 * [data] dir or absolute, classes, label_names and train_limit; and every
 * malformed case, each refused with -2 (exit 2) and one line naming the key
 * or file and the fault. data_read_files tells .npy from IDX by content.
 * Then the real data sets, where they are (skipped with a message when
 * not): MNIST in $MNIST_DIR and Fashion-MNIST from Debian's
 * dataset-fashion-mnist, counts per split and per class. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "data.h"
#include "npy.h"

static char dir[64];

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static const char *path_of(const char *name)
{
    static char p[4][4200];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

static void write_npy(const char *name, NpyType type, int ndim, const size_t *shape,
                      const void *data)
{
    Err err = {{0}};
    CHECK(npy_write(path_of(name), type, ndim, shape, data, &err) == 0, "%s", err.msg);
}

/* A version 1.0 .npy with the header dict given as text and len data bytes:
 * what npy_write never writes (Fortran order, big-endian, complex). */
static void write_raw(const char *name, const char *dict, const void *data, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");
    if (!f) {
        CHECK(0, "cannot write %s", name);
        return;
    }
    size_t hlen = strlen(dict) + 1;
    hlen += (64 - (10 + hlen) % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, sizeof pre, f);
    fputs(dict, f);
    for (size_t i = strlen(dict) + 1; i < hlen; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, len, f);
    fclose(f);
}

/* The fixture set: 6 training and 4 test images of 3x5 (uint8, pixel (i,
 * j) = (i * 40 + j) % 256) with int64 labels, the same 15 values as float32
 * items of shape (N, 15), labels of other types. */
enum { NTR = 6, NTE = 4, H = 3, W = 5, D = H * W };
static unsigned char u8tr[NTR * D], u8te[NTE * D];
static float f32tr[NTR * D];
static const int64_t ltr[NTR] = {1, 5, 6, 0, 1, 9}, lte[NTE] = {6, 1, 5, 0};

static void write_fixtures(void)
{
    for (int i = 0; i < NTR * D; i++) u8tr[i] = (unsigned char)((i / D * 40 + i % D) % 256);
    for (int i = 0; i < NTE * D; i++) u8te[i] = (unsigned char)(255 - i);
    for (int i = 0; i < NTR * D; i++) f32tr[i] = (float)i * 0.5f - 3.0f;
    write_npy("tr.npy", NPY_U8, 3, (size_t[]){NTR, H, W}, u8tr);
    write_npy("te.npy", NPY_U8, 3, (size_t[]){NTE, H, W}, u8te);
    write_npy("trl.npy", NPY_I64, 1, (size_t[]){NTR}, ltr);
    write_npy("tel.npy", NPY_I64, 1, (size_t[]){NTE}, lte);
    write_npy("trf.npy", NPY_F32, 2, (size_t[]){NTR, D}, f32tr);
    float f32te[NTE * D];
    for (int i = 0; i < NTE * D; i++) f32te[i] = 1.0f;
    write_npy("tef.npy", NPY_F32, 2, (size_t[]){NTE, D}, f32te);
    uint8_t lu8[NTE] = {6, 1, 5, 0};
    write_npy("tel-u8-col.npy", NPY_U8, 2, (size_t[]){NTE, 1}, lu8);
    int16_t li16[NTR] = {1, 5, 6, 0, 1, 9};
    write_npy("trl-i16.npy", NPY_I16, 1, (size_t[]){NTR}, li16);
}

/* A format = npy config over dir with the given files ("" = none). */
static void npy_config(Config *c, const char *tri, const char *trl, const char *tei,
                       const char *tel)
{
    config_defaults(c);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", dir);
    c->data_format = DATA_NPY;
    snprintf(c->train_images, sizeof c->train_images, "%s", tri);
    snprintf(c->train_labels, sizeof c->train_labels, "%s", trl);
    snprintf(c->test_images, sizeof c->test_images, "%s", tei);
    snprintf(c->test_labels, sizeof c->test_labels, "%s", tel);
}

static void check_loads(void)
{
    Config c;
    Dataset tr, te;
    Err err = {{0}};
    /* uint8 (N, H, W) with int64 labels: scaled, shaped, labelled */
    npy_config(&c, "tr.npy", "trl.npy", "te.npy", "tel.npy");
    CHECK(config_validate(&c, &err) == 0, "%s", err.msg);
    CHECK(data_load(&c, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.n == NTR && te.n == NTE && tr.rows == H && tr.cols == W && tr.dim == D &&
              te.rows == H && te.dim == D,
          "shapes: %d %d %dx%d %d", tr.n, te.n, tr.rows, tr.cols, tr.dim);
    int same = 1;
    for (int i = 0; tr.x && i < NTR * D; i++) same &= tr.x[i] == (float)u8tr[i] * (1.0f / 255.0f);
    CHECK(same, "uint8 pixels scaled by 1/255, in order");
    CHECK(te.x && te.x[0] == 1.0f && te.x[NTE * D - 1] == (float)(255 - (NTE * D - 1)) * (1.0f / 255.0f),
          "test pixels");
    CHECK(tr.y && tr.y[2] == 6 && tr.y[5] == 9 && te.y && te.y[3] == 0, "labels");
    dataset_free(&tr);
    dataset_free(&te);

    /* float32 (N, D), not images, labels as (N, 1) uint8 and int16, absolute paths */
    npy_config(&c, path_of("trf.npy"), path_of("trl-i16.npy"), "tef.npy", "tel-u8-col.npy");
    CHECK(data_load(&c, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.rows == 0 && tr.cols == 0 && tr.dim == D && te.rows == 0, "(N, D): not images");
    same = 1;
    for (int i = 0; tr.x && i < NTR * D; i++) same &= tr.x[i] == f32tr[i];
    CHECK(same, "float32 values as they are (negative ones too)");
    CHECK(tr.y && tr.y[5] == 9 && te.y && te.y[0] == 6, "int16 and (N, 1) uint8 labels");
    char shape[64];
    data_shape_str(&tr, shape, sizeof shape);
    CHECK(strcmp(shape, "15 values (not images)") == 0, "'%s'", shape);
    dataset_free(&tr);
    dataset_free(&te);

    /* no labels: y NULL, everything kept */
    npy_config(&c, "trf.npy", "", "tef.npy", "");
    CHECK(config_validate(&c, &err) == 0 && data_load(&c, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.n == NTR && !tr.y && !te.y, "unlabelled: %d items, no labels", tr.n);
    dataset_free(&tr);
    dataset_free(&te);

    /* classes, train_limit (training only), label names that cover them */
    npy_config(&c, "tr.npy", "trl.npy", "te.npy", "tel.npy");
    CHECK(config_set(&c, "data.classes=1,6", &err) == 0 &&
              config_set(&c, "data.train_limit=2", &err) == 0 &&
              config_set(&c, "data.label_names=a,b,c,d,e,f,g", &err) == 0,
          "%s", err.msg);
    CHECK(data_load(&c, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.n == 2 && tr.y[0] == 1 && tr.y[1] == 6 && te.n == 2 && te.y[0] == 6 && te.y[1] == 1,
          "classes 1,6, limit 2: %d train, %d test", tr.n, te.n);
    CHECK(tr.x && tr.x[D] == (float)u8tr[2 * D] * (1.0f / 255.0f), "the kept item's pixels");
    dataset_free(&tr);
    dataset_free(&te);

    /* data_read_files: .npy or IDX by content, every item */
    CHECK(data_read_files(&tr, path_of("tr.npy"), path_of("trl.npy"), &err) == 0 && tr.n == NTR &&
              tr.rows == H && tr.y && tr.y[5] == 9,
          "encode reads .npy: %s", err.msg);
    dataset_free(&tr);
    unsigned char idx[16 + NTR * D];
    memcpy(idx, (unsigned char[16]){0, 0, 8, 3, 0, 0, 0, NTR, 0, 0, 0, H, 0, 0, 0, W}, 16);
    memcpy(idx + 16, u8tr, sizeof u8tr);
    FILE *f = fopen(path_of("tr.idx"), "wb");
    if (f) fwrite(idx, 1, sizeof idx, f), fclose(f);
    CHECK(data_read_files(&tr, path_of("tr.idx"), path_of("trl.npy"), &err) == 0 && tr.n == NTR &&
              tr.x[D + 1] == (float)u8tr[D + 1] * (1.0f / 255.0f) && tr.y[0] == 1,
          "IDX images with .npy labels: %s", err.msg);
    dataset_free(&tr);
}

/* data_load of the config with one file replaced must fail with -2 and a
 * message holding every fragment, leaving both sets empty. */
static void expect_bad(const char *tri, const char *trl, const char *tei, const char *tel,
                       const char *set, const char *frag1, const char *frag2)
{
    Config c;
    Dataset tr, te;
    Err err = {{0}};
    npy_config(&c, tri, trl, tei, tel);
    if (set) CHECK(config_set(&c, set, &err) == 0, "%s", err.msg);
    int rc = data_load(&c, &tr, &te, &err);
    CHECK(rc == -2, "%s %s %s %s (%s): rc %d, want -2", tri, trl, tei, tel, set ? set : "", rc);
    CHECK_CONTAINS(err.msg, frag1);
    if (frag2) CHECK_CONTAINS(err.msg, frag2);
    CHECK(!strchr(err.msg, '\n'), "one line: %s", err.msg);
    CHECK(!tr.x && !tr.y && !te.x && !te.y && tr.n == 0 && te.n == 0, "nothing left allocated");
}

static void check_malformed(void)
{
    /* a file that is not there, not .npy, or cut short */
    expect_bad("none.npy", "trl.npy", "te.npy", "tel.npy", NULL, "[data] train_images: ",
               "none.npy: cannot open");
    FILE *f = fopen(path_of("text.npy"), "w");
    if (f) fputs("1,2,3\n4,5,6\n", f), fclose(f);
    expect_bad("tr.npy", "trl.npy", "text.npy", "tel.npy", NULL, "[data] test_images: ",
               "text.npy: not a .npy file (no \\x93NUMPY magic");
    size_t len = 0;
    Err err = {{0}};
    char *bytes = util_read_file(path_of("tr.npy"), &len, &err);
    if (bytes) {
        f = fopen(path_of("cut.npy"), "wb");
        if (f) fwrite(bytes, 1, len - 7, f), fclose(f);
        f = fopen(path_of("cut-header.npy"), "wb");
        if (f) fwrite(bytes, 1, 30, f), fclose(f);
    }
    free(bytes);
    expect_bad("cut.npy", "trl.npy", "te.npy", "tel.npy", NULL, "cut.npy: truncated",
               "needs 90 bytes of data, the file has 83");
    expect_bad("cut-header.npy", "trl.npy", "te.npy", "tel.npy", NULL, "cut-header.npy: truncated",
               NULL);
    /* dtypes: images only uint8 and float32, labels only integers; no
     * big-endian, no Fortran order, nothing but numbers */
    double f64[NTR * D] = {0};
    write_npy("f64.npy", NPY_F64, 2, (size_t[]){NTR, D}, f64);
    expect_bad("f64.npy", "trl.npy", "te.npy", "tel.npy", NULL,
               "f64.npy: images of dtype '<f8'; expected uint8 ('|u1'", "a.astype(np.float32)");
    float fl[NTR] = {1, 5, 6, 0, 1, 9};
    write_npy("float-labels.npy", NPY_F32, 1, (size_t[]){NTR}, fl);
    expect_bad("tr.npy", "float-labels.npy", "te.npy", "tel.npy", NULL,
               "float-labels.npy: labels of dtype '<f4'; expected an integer type", NULL);
    unsigned char raw[NTR * D * 8] = {0};
    write_raw("fortran.npy", "{'descr': '|u1', 'fortran_order': True, 'shape': (6, 3, 5), }", raw,
              NTR * D);
    expect_bad("fortran.npy", "trl.npy", "te.npy", "tel.npy", NULL,
               "fortran.npy: Fortran-order data (fortran_order: True)", "np.ascontiguousarray");
    write_raw("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (6, 15), }", raw,
              NTR * D * 4);
    expect_bad("big.npy", "trl.npy", "te.npy", "tel.npy", NULL, "big.npy: dtype '>f4' is big-endian",
               NULL);
    write_raw("complex.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (6, 15), }", raw,
              NTR * D * 8);
    expect_bad("complex.npy", "trl.npy", "te.npy", "tel.npy", NULL,
               "complex.npy: unsupported dtype '<c8'", NULL);
    write_raw("object.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", raw, 48);
    expect_bad("tr.npy", "object.npy", "te.npy", "tel.npy", NULL, "[data] train_labels: ",
               "object.npy: unsupported dtype '|O'");
    /* shapes */
    write_npy("four-d.npy", NPY_U8, 4, (size_t[]){NTR, H, W, 1}, u8tr);
    expect_bad("four-d.npy", "trl.npy", "te.npy", "tel.npy", NULL,
               "four-d.npy: shape (6, 3, 5, 1); expected (N, D) for items of D values or (N, H, W)",
               NULL);
    write_npy("flat.npy", NPY_U8, 1, (size_t[]){NTR * D}, u8tr);
    expect_bad("flat.npy", "trl.npy", "te.npy", "tel.npy", NULL, "flat.npy: shape (90,); expected",
               NULL);
    write_npy("pairs.npy", NPY_I64, 2, (size_t[]){NTR / 2, 2}, ltr);
    expect_bad("tr.npy", "pairs.npy", "te.npy", "tel.npy", NULL,
               "pairs.npy: shape (3, 2); expected (N,) or (N, 1)", NULL);
    write_npy("five-labels.npy", NPY_I64, 1, (size_t[]){5}, ltr);
    expect_bad("tr.npy", "five-labels.npy", "te.npy", "tel.npy", NULL,
               "tr.npy has 6 items but", "five-labels.npy has 5 labels; they must be a matching pair");
    write_npy("wide.npy", NPY_U8, 3, (size_t[]){NTE, 5, 3}, u8te); /* 15 values, 5x3 */
    expect_bad("tr.npy", "trl.npy", "wide.npy", "tel.npy", NULL,
               "the training items are 3x5 images with labels, the test items 5x3 images",
               "both sets must have items of one shape");
    expect_bad("tr.npy", "trl.npy", "tef.npy", "tel.npy", NULL,
               "the training items are 3x5 images with labels, the test items 15 values (not "
               "images)", NULL);
    write_npy("empty.npy", NPY_U8, 3, (size_t[]){0, H, W}, u8tr);
    expect_bad("empty.npy", "", "te.npy", "", NULL, "empty.npy: no items", NULL);
    write_npy("zero-d.npy", NPY_U8, 2, (size_t[]){NTR, 0}, u8tr);
    expect_bad("zero-d.npy", "", "te.npy", "", NULL, "zero-d.npy: shape (6, 0): items of 0 values",
               NULL);
    /* values */
    float bad[NTR * D];
    memcpy(bad, f32tr, sizeof bad);
    bad[2 * D + 4] = NAN;
    write_npy("nan.npy", NPY_F32, 2, (size_t[]){NTR, D}, bad);
    expect_bad("nan.npy", "", "tef.npy", "", NULL,
               "nan.npy: item 2 holds nan at position 4: every value must be finite", NULL);
    int64_t big[NTR] = {1, 5, 300, 0, 1, 9}, neg[NTE] = {6, -1, 5, 0};
    write_npy("label-300.npy", NPY_I64, 1, (size_t[]){NTR}, big);
    expect_bad("tr.npy", "label-300.npy", "te.npy", "tel.npy", NULL,
               "label-300.npy: label 300 of item 2 is outside 0-255", NULL);
    write_npy("label-neg.npy", NPY_I64, 1, (size_t[]){NTE}, neg);
    expect_bad("tr.npy", "trl.npy", "te.npy", "label-neg.npy", NULL,
               "label-neg.npy: label -1 of item 1 is outside 0-255", NULL);
    /* what the config says against what the data holds */
    expect_bad("tr.npy", "trl.npy", "te.npy", "tel.npy", "data.label_names=a,b,c,d,e,f,g",
               "trl.npy: label 9 (item 5) has no name: [data] label_names has 7, for labels 0-6",
               NULL);
    expect_bad("tr.npy", "trl.npy", "te.npy", "tel.npy", "data.classes=1,7",
               "trl.npy: no item has label 7, which [data] classes = 1,7 lists", NULL);
    expect_bad("tr.npy", "trl.npy", "te.npy", "tel.npy", "data.classes=9",
               "tel.npy: no item has label 9, which [data] classes = 9 lists", NULL);
}

/* The real data sets: counts per split and class, the filters. */
static void check_real(const char *what, const char *ddir, const int *test_counts, int n_train)
{
    if (!ddir || access(ddir, F_OK) != 0) {
        printf("skip: %s not found in '%s'\n", what, ddir ? ddir : "");
        return;
    }
    Config c;
    Dataset tr, te;
    Err err = {{0}};
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", ddir);
    CHECK(data_load(&c, &tr, &te, &err) == 0, "%s: %s", what, err.msg);
    CHECK(tr.n == n_train && te.n == 10000 && tr.rows == 28 && tr.cols == 28 && tr.dim == 784,
          "%s: %d train, %d test, %dx%d", what, tr.n, te.n, tr.rows, tr.cols);
    int per[10] = {0};
    for (int i = 0; te.y && i < te.n; i++) per[te.y[i] < 10 ? te.y[i] : 0]++;
    for (int l = 0; l < 10; l++)
        CHECK(per[l] == test_counts[l], "%s test label %d: %d", what, l, per[l]);
    dataset_free(&tr);
    dataset_free(&te);
    CHECK(config_set(&c, "data.classes=1,5,6", &err) == 0 &&
              config_set(&c, "data.train_limit=500", &err) == 0,
          "%s", err.msg);
    CHECK(data_load(&c, &tr, &te, &err) == 0 && tr.n == 500 &&
              te.n == test_counts[1] + test_counts[5] + test_counts[6],
          "%s classes 1,5,6, train_limit 500 (training only): %d, %d", what, tr.n, te.n);
    dataset_free(&tr);
    dataset_free(&te);
}

int main(void)
{
    test_tmpdir(dir, sizeof dir, "data");
    write_fixtures();
    check_loads();
    check_malformed();
    dataset_free(NULL);
    /* MNIST_DIR holds 19,690 training images in CI's copy (as test_idx had it) */
    static const int mnist[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    static const int fashion[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    check_real("MNIST", getenv("MNIST_DIR"), mnist, 19690);
    check_real("Fashion-MNIST (apt-get install dataset-fashion-mnist)", FASHION_DIR, fashion, 60000);
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_data");
}
