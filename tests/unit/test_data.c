/* test_data: the data module. .npy fixtures written here (npy_write, and
 * headers written by hand for what npy_write never makes) loaded through
 * data_load as [data] format = npy says: uint8 scaled by 1/255, float32 as
 * it is, (N, H, W) images and (N, D) items that are not images, labels of
 * several integer types as (N,) and (N, 1), none at all, paths relative to
 * [data] dir or absolute, classes, label_names and train_limit; images of
 * 1, 3 and 4 channels as (N, H, W, C) and (N, C, H, W) arrays ([data]
 * layout), uint8 and float32, all giving the same (C, H, W) items; and
 * every malformed case, each refused with -2 (exit 2) and one line naming
 * the key or file and the fault (a layout the array contradicts, 2 or 5
 * channels, training and test images of other channels). data_read_files
 * tells .npy from IDX by content, and reads 4-D arrays in the layout given.
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
              te.rows == H && te.dim == D && tr.channels == 1 && te.channels == 1,
          "shapes: %d %d %dx%dx%d %d", tr.n, te.n, tr.channels, tr.rows, tr.cols, tr.dim);
    int same = 1;
    for (int i = 0; tr.x && i < NTR * D; i++) same &= data_value(&tr, i) == (float)u8tr[i] * (1.0f / 255.0f);
    CHECK(same, "uint8 pixels scaled by 1/255, in order");
    CHECK(te.x && data_value(&te, 0) == 1.0f && data_value(&te, NTE * D - 1) == (float)(255 - (NTE * D - 1)) * (1.0f / 255.0f),
          "test pixels");
    CHECK(tr.y && tr.y[2] == 6 && tr.y[5] == 9 && te.y && te.y[3] == 0, "labels");
    dataset_free(&tr);
    dataset_free(&te);

    /* float32 (N, D), not images, labels as (N, 1) uint8 and int16, absolute paths */
    npy_config(&c, path_of("trf.npy"), path_of("trl-i16.npy"), "tef.npy", "tel-u8-col.npy");
    CHECK(data_load(&c, &tr, &te, &err) == 0, "%s", err.msg);
    CHECK(tr.rows == 0 && tr.cols == 0 && tr.channels == 0 && tr.dim == D && te.rows == 0,
          "(N, D): not images");
    same = 1;
    for (int i = 0; tr.x && i < NTR * D; i++) same &= data_value(&tr, i) == f32tr[i];
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
    CHECK(tr.x && data_value(&tr, D) == (float)u8tr[2 * D] * (1.0f / 255.0f), "the kept item's pixels");
    dataset_free(&tr);
    dataset_free(&te);

    /* data_read_files: .npy or IDX by content, every item */
    CHECK(data_read_files(&tr, path_of("tr.npy"), path_of("trl.npy"), LAYOUT_NHWC, &err) == 0 &&
              tr.n == NTR &&
              tr.rows == H && tr.y && tr.y[5] == 9,
          "encode reads .npy: %s", err.msg);
    dataset_free(&tr);
    unsigned char idx[16 + NTR * D];
    memcpy(idx, (unsigned char[16]){0, 0, 8, 3, 0, 0, 0, NTR, 0, 0, 0, H, 0, 0, 0, W}, 16);
    memcpy(idx + 16, u8tr, sizeof u8tr);
    FILE *f = fopen(path_of("tr.idx"), "wb");
    if (f) fwrite(idx, 1, sizeof idx, f), fclose(f);
    CHECK(data_read_files(&tr, path_of("tr.idx"), path_of("trl.npy"), LAYOUT_NCHW, &err) == 0 &&
              tr.n == NTR && tr.channels == 1 && tr.rows == H &&
              data_value(&tr, D + 1) == (float)u8tr[D + 1] * (1.0f / 255.0f) && tr.y[0] == 1,
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
    write_npy("flat.npy", NPY_U8, 1, (size_t[]){NTR * D}, u8tr);
    expect_bad("flat.npy", "trl.npy", "te.npy", "tel.npy", NULL,
               "flat.npy: shape (90,); expected (N, D) for items of D values, (N, H, W) for images "
               "of H x W pixels, or (N, H, W, C) or (N, C, H, W) for images of C channels ([data] "
               "layout)",
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

/* ---- images with channels ----------------------------------------------- */

/* Colour fixtures: NTR training and NTE test images of C x CH x CW for C =
 * 1, 3, 4, value (i, c, y, x) a byte that differs in each, saved as
 * (N, H, W, C) (nhwc-C-{tr,te}.npy) and (N, C, H, W) (nchw-C-...); CH = 2, so
 * that neither layout fits both shapes and a contradiction is told. */
enum { CH = 2, CW = 5, CMAX = 4 };

static unsigned char colour_value(int i, int c, int y, int x)
{
    return (unsigned char)((i * 37 + c * 61 + y * 5 + x * 11) % 256);
}

static void write_colour(const char *layout, int C, int n, const char *split, NpyType type)
{
    unsigned char u8[NTR * CMAX * CH * CW];
    float f32[NTR * CMAX * CH * CW];
    int nhwc = strcmp(layout, "nhwc") == 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < CH; y++)
                for (int x = 0; x < CW; x++) {
                    size_t at = nhwc ? (((size_t)i * CH + y) * CW + x) * C + c
                                     : (((size_t)i * C + c) * CH + y) * CW + x;
                    u8[at] = colour_value(i, c, y, x);
                    f32[at] = (float)u8[at] * (1.0f / 255.0f);
                }
    size_t nhwc_shape[4] = {(size_t)n, CH, CW, (size_t)C};
    size_t nchw_shape[4] = {(size_t)n, (size_t)C, CH, CW};
    char name[64];
    snprintf(name, sizeof name, "%s-%d-%s%s.npy", layout, C, split, type == NPY_F32 ? "-f" : "");
    write_npy(name, type, 4, nhwc ? nhwc_shape : nchw_shape, type == NPY_F32 ? (void *)f32 : u8);
}

/* The items of d hold colour_value in (C, H, W) order, scaled by 1/255. */
static int colour_items(const Dataset *d, int C, int n)
{
    if (d->n != n || d->channels != C || d->rows != CH || d->cols != CW || d->dim != C * CH * CW)
        return 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < CH; y++)
                for (int x = 0; x < CW; x++)
                    if (data_value(d, (((size_t)i * C + c) * CH + y) * CW + x) !=
                        (float)colour_value(i, c, y, x) * (1.0f / 255.0f))
                        return 0;
    return 1;
}

static void check_channels(void)
{
    static const char *layouts[2] = {"nhwc", "nchw"};
    static const int counts[3] = {1, 3, 4};
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 3; k++) {
            write_colour(layouts[l], counts[k], NTR, "tr", NPY_U8);
            write_colour(layouts[l], counts[k], NTE, "te", NPY_U8);
            write_colour(layouts[l], counts[k], NTR, "tr", NPY_F32);
        }
    Config c;
    Dataset tr, te;
    Err err = {{0}};
    char tri[64], tei[64], trf[64], set[64], shape[64], want[64];
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 3; k++) {
            int C = counts[k];
            snprintf(tri, sizeof tri, "%s-%d-tr.npy", layouts[l], C);
            snprintf(tei, sizeof tei, "%s-%d-te.npy", layouts[l], C);
            snprintf(trf, sizeof trf, "%s-%d-tr-f.npy", layouts[l], C);
            snprintf(set, sizeof set, "data.layout=%s", layouts[l]);
            /* uint8, labelled: every layout and channel count gives the same items */
            npy_config(&c, tri, "trl.npy", tei, "tel.npy");
            CHECK(config_set(&c, set, &err) == 0, "%s", err.msg);
            CHECK(data_load(&c, &tr, &te, &err) == 0, "%s %d channels: %s", layouts[l], C,
                  err.msg);
            CHECK(colour_items(&tr, C, NTR) && colour_items(&te, C, NTE),
                  "%s, %d channels: (C, H, W) items, %dx%dx%d", layouts[l], C, tr.channels,
                  tr.rows, tr.cols);
            CHECK(tr.y && tr.y[5] == 9, "labels with colour images");
            data_shape_str(&tr, shape, sizeof shape);
            if (C == 1) snprintf(want, sizeof want, "%dx%d images", CH, CW);
            else snprintf(want, sizeof want, "%dx%dx%d images", C, CH, CW);
            CHECK(strcmp(shape, want) == 0, "'%s', want '%s'", shape, want);
            dataset_free(&tr);
            dataset_free(&te);
            /* float32, no labels: the same values */
            npy_config(&c, trf, "", tei, "");
            CHECK(config_set(&c, set, &err) == 0 && data_load(&c, &tr, &te, &err) == 0,
                  "float32 %s %d: %s", layouts[l], C, err.msg);
            CHECK(colour_items(&tr, C, NTR) && !tr.y, "float32 %s, %d channels", layouts[l], C);
            dataset_free(&tr);
            dataset_free(&te);
            /* data_read_files: in the layout it is given */
            CHECK(data_read_files(&tr, path_of(tri), NULL,
                                  l == 0 ? LAYOUT_NHWC : LAYOUT_NCHW, &err) == 0 &&
                      colour_items(&tr, C, NTR),
                  "data_read_files %s %d: %s", layouts[l], C, err.msg);
            dataset_free(&tr);
        }
    /* a 4-D gray array is the (N, H, W) one */
    write_npy("tr-gray4.npy", NPY_U8, 4, (size_t[]){NTR, H, W, 1}, u8tr);
    npy_config(&c, "tr-gray4.npy", "trl.npy", "te.npy", "tel.npy");
    CHECK(data_load(&c, &tr, &te, &err) == 0 && tr.channels == 1 && tr.rows == H &&
              tr.cols == W && tr.dim == D,
          "(N, H, W, 1): %s", err.msg);
    int same = 1;
    for (int i = 0; tr.x && i < NTR * D; i++) same &= data_value(&tr, i) == (float)u8tr[i] * (1.0f / 255.0f);
    CHECK(same, "(N, H, W, 1) items are the (N, H, W) ones");
    dataset_free(&tr);
    dataset_free(&te);
    /* a gray (N, 1, H, W) read as nhwc: one channel, said so */
    expect_bad("nchw-1-tr.npy", "trl.npy", "nchw-1-te.npy", "tel.npy", NULL,
               "nchw-1-tr.npy: shape (6, 1, 2, 5) looks like (N, C, H, W), 1 channel of 2x5, but "
               "[data] layout = nhwc reads a 4-D array as (N, H, W, C), 5 channels",
               NULL);
    /* data_read_files with a layout the array contradicts: the same message */
    CHECK(data_read_files(&tr, path_of("nchw-3-tr.npy"), NULL, LAYOUT_NHWC, &err) == -1 &&
              !tr.x,
          "encode of an (N, C, H, W) array read as nhwc");
    CHECK_CONTAINS(err.msg, "set [data] layout = nchw");

    /* the errors */
    expect_bad("nchw-3-tr.npy", "trl.npy", "nchw-3-te.npy", "tel.npy", NULL,
               "nchw-3-tr.npy: shape (6, 3, 2, 5) looks like (N, C, H, W), 3 channels of 2x5, but "
               "[data] layout = nhwc reads a 4-D array as (N, H, W, C), 5 channels: set [data] "
               "layout = nchw",
               NULL);
    expect_bad("nhwc-4-tr.npy", "trl.npy", "nhwc-4-te.npy", "tel.npy", "data.layout=nchw",
               "nhwc-4-tr.npy: shape (6, 2, 5, 4) looks like (N, H, W, C), 4 channels of 2x5, but "
               "[data] layout = nchw reads a 4-D array as (N, C, H, W), 2 channels: set [data] "
               "layout = nhwc (the default)",
               NULL);
    /* the test set is checked as the training set is */
    expect_bad("nhwc-3-tr.npy", "trl.npy", "nchw-3-te.npy", "tel.npy", NULL,
               "nchw-3-te.npy: shape (4, 3, 2, 5) looks like (N, C, H, W)", NULL);
    unsigned char zeros[NTR * 5 * CH * CW] = {0};
    write_npy("five.npy", NPY_U8, 4, (size_t[]){NTR, CH, CW, 5}, zeros);
    expect_bad("five.npy", "trl.npy", "nhwc-3-te.npy", "tel.npy", NULL,
               "five.npy: shape (6, 2, 5, 5): images of 5 channels as [data] layout = nhwc reads "
               "them (axis 3); clae takes 1 (gray), 3 (RGB) or 4 (RGBA) channels",
               NULL);
    write_npy("five-nchw.npy", NPY_U8, 4, (size_t[]){NTR, 5, CH, CW}, zeros);
    expect_bad("five-nchw.npy", "trl.npy", "nchw-3-te.npy", "tel.npy", "data.layout=nchw",
               "five-nchw.npy: shape (6, 5, 2, 5): images of 5 channels as [data] layout = nchw "
               "reads them (axis 1); clae takes 1 (gray), 3 (RGB) or 4 (RGBA) channels",
               NULL);
    write_npy("two.npy", NPY_U8, 4, (size_t[]){NTR, CH, CW, 2}, zeros);
    expect_bad("two.npy", "trl.npy", "nhwc-3-te.npy", "tel.npy", NULL,
               "two.npy: shape (6, 2, 5, 2): images of 2 channels", "1 (gray), 3 (RGB) or 4 (RGBA)");
    /* training and test images of other channels, of other sizes with as many values */
    expect_bad("nhwc-3-tr.npy", "trl.npy", "nhwc-4-te.npy", "tel.npy", NULL,
               "[data] the training items are 3x2x5 images with labels, the test items 4x2x5 "
               "images with labels: both sets must have items of one shape",
               NULL);
    write_npy("gray-2x15.npy", NPY_U8, 3, (size_t[]){NTE, CH, 3 * CW}, zeros);
    expect_bad("nhwc-3-tr.npy", "trl.npy", "gray-2x15.npy", "tel.npy", NULL,
               "the training items are 3x2x5 images with labels, the test items 2x15 images", NULL);
    write_npy("rgb-5x2.npy", NPY_U8, 4, (size_t[]){NTE, CW, CH, 3}, zeros);
    expect_bad("nhwc-3-tr.npy", "trl.npy", "rgb-5x2.npy", "tel.npy", NULL,
               "the training items are 3x2x5 images with labels, the test items 3x5x2 images", NULL);
    /* a huge shape with no items: refused for its size, never wrapping round */
    write_raw("huge.npy",
              "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296, 3), }",
              zeros, 0);
    expect_bad("huge.npy", "", "nhwc-3-te.npy", "", NULL,
               "huge.npy: shape (0, 4294967296, 4294967296, 3): items of", "expected 1 to");
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
    check_channels();
    dataset_free(NULL);
    /* MNIST_DIR holds 19,690 training images in CI's copy (as test_idx had it) */
    static const int mnist[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    static const int fashion[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    check_real("MNIST", getenv("MNIST_DIR"), mnist, 19690);
    check_real("Fashion-MNIST (apt-get install dataset-fashion-mnist)", FASHION_DIR, fashion, 60000);
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_data");
}
