/* data: see data.h.
 *
 * Both formats go through one path: an IDX file is viewed as the uint8
 * array it is, a .npy file is mapped as one, and from_arrays turns arrays
 * into a Dataset, taking the array itself (no copy) when every item is
 * kept in the file's order and already in (C, H, W) order. */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"

/* The largest label; labels are stored in a byte. */
#define LABEL_MAX (CONFIG_LABELS - 1)

void dataset_free(Dataset *d)
{
    if (!d) return;
    free(d->own);
    npy_free(&d->src);
    free(d->y);
    memset(d, 0, sizeof *d);
}

size_t data_row_bytes(const Dataset *d)
{
    return (size_t)d->dim * (d->u8 ? 1 : sizeof(float));
}

/* The one conversion of a byte: the gather kernels (cl/data.cl) compute
 * the same product, so host and device values are the same floats. */
static float byte_value(unsigned char b) { return (float)b * (1.0f / 255.0f); }

float data_value(const Dataset *d, size_t i)
{
    return d->u8 ? byte_value(((const unsigned char *)d->x)[i]) : ((const float *)d->x)[i];
}

void data_rows_float(const Dataset *d, size_t first, size_t n, float *out)
{
    size_t at = first * (size_t)d->dim, count = n * (size_t)d->dim;
    if (!d->u8) {
        memcpy(out, (const float *)d->x + at, count * sizeof *out);
        return;
    }
    for (size_t i = 0; i < count; i++) out[i] = byte_value(((const unsigned char *)d->x)[at + i]);
}

void data_gather(const Dataset *d, const int *idx, int n, void *out)
{
    size_t row = data_row_bytes(d);
    for (int r = 0; r < n; r++)
        memcpy((unsigned char *)out + (size_t)r * row,
               (const unsigned char *)d->x + (size_t)idx[r] * row, row);
}

void data_release_pages(const Dataset *d)
{
    if (d && !d->own) npy_release_pages(&d->src);
}

void data_shape_str(const Dataset *d, char *buf, size_t len)
{
    if (d->rows > 0 && d->channels > 1)
        snprintf(buf, len, "%dx%dx%d images", d->channels, d->rows, d->cols);
    else if (d->rows > 0) snprintf(buf, len, "%dx%d images", d->rows, d->cols);
    else snprintf(buf, len, "%d values (not images)", d->dim);
}

/* "(60000, 28, 28)" */
static void shape_str(const NpyArray *a, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < a->ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", i ? ", " : "", a->shape[i]);
    if (used < len) snprintf(buf + used, len - used, a->ndim == 1 ? ",)" : ")");
}

/* Label i of labels (an integer array) into *out, or an error naming it. */
static int label_at(const NpyArray *labels, const char *path, size_t i, int *out, Err *err)
{
    int64_t v = 0;
    npy_get_int(labels, i, &v);
    if (v < 0 || v > LABEL_MAX)
        return err_set(err, "%s: label %lld of item %zu is outside 0-%d (clae takes labels 0-%d)",
                       path, (long long)v, i, LABEL_MAX, LABEL_MAX);
    *out = (int)v;
    return 0;
}

/* 1 for the channel counts clae draws: gray, RGB, RGBA. */
static int channels_ok(size_t c) { return c == 1 || c == 3 || c == 4; }

/* The channels, rows and cols of a 4-D image array as layout reads it, or
 * an error: the layout the shape contradicts (its channel axis holds no
 * channel count clae takes, the other one does: say which key fixes it),
 * else a channel count other than 1, 3 or 4. */
static int image_axes(const NpyArray *im, const char *ipath, const char *shape,
                      DataLayout layout, size_t *c, size_t *h, size_t *w, Err *err)
{
    int nhwc = layout == LAYOUT_NHWC;
    size_t as_nhwc = im->shape[3], as_nchw = im->shape[1];
    *c = nhwc ? as_nhwc : as_nchw;
    *h = nhwc ? im->shape[1] : im->shape[2];
    *w = nhwc ? im->shape[2] : im->shape[3];
    if (channels_ok(*c)) return 0;
    if (nhwc && channels_ok(as_nchw))
        return err_set(err, "%s: shape %s looks like (N, C, H, W), %zu channel%s of %zux%zu, "
                            "but [data] layout = nhwc reads a 4-D array as (N, H, W, C), %zu "
                            "channels: set [data] layout = nchw",
                       ipath, shape, as_nchw, as_nchw == 1 ? "" : "s", im->shape[2],
                       im->shape[3], as_nhwc);
    if (!nhwc && channels_ok(as_nhwc))
        return err_set(err, "%s: shape %s looks like (N, H, W, C), %zu channel%s of %zux%zu, "
                            "but [data] layout = nchw reads a 4-D array as (N, C, H, W), %zu "
                            "channels: set [data] layout = nhwc (the default)",
                       ipath, shape, as_nhwc, as_nhwc == 1 ? "" : "s", im->shape[1],
                       im->shape[2], as_nchw);
    return err_set(err, "%s: shape %s: images of %zu channels as [data] layout = %s reads them "
                        "(axis %d); clae takes 1 (gray), 3 (RGB) or 4 (RGBA) channels",
                   ipath, shape, *c, config_layout_name(layout), nhwc ? 3 : 1);
}

/* The shapes of images and labels: n items of dim values, an image shape
 * (channels x rows x cols) or none (all three 0). */
static int check_shapes(const NpyArray *im, const char *ipath, const NpyArray *lb,
                        const char *lpath, DataLayout layout, size_t *n, int *channels,
                        int *rows, int *cols, Err *err)
{
    char shape[128];
    shape_str(im, shape, sizeof shape);
    if (im->type != NPY_U8 && im->type != NPY_F32)
        return err_set(err, "%s: images of dtype '%s'; expected uint8 ('|u1', scaled by 1/255) or "
                            "float32 ('<f4', used as they are): convert with "
                            "a.astype(np.float32)",
                       ipath, npy_type_descr(im->type));
    if (im->ndim < 2 || im->ndim > 4)
        return err_set(err, "%s: shape %s; expected (N, D) for items of D values, (N, H, W) for "
                            "images of H x W pixels, or (N, H, W, C) or (N, C, H, W) for images "
                            "of C channels ([data] layout)",
                       ipath, shape);
    size_t c = 0, h = 0, w = 0;
    if (im->ndim == 4 && image_axes(im, ipath, shape, layout, &c, &h, &w, err)) return -1;
    if (im->ndim == 3) c = 1, h = im->shape[1], w = im->shape[2];
    /* The values per item, counted in double: with N = 0 the file holds no
     * data, so the other axes may be anything, and their product must not
     * wrap round. */
    double values = 1;
    for (int i = 1; i < im->ndim; i++) values *= (double)im->shape[i];
    if (im->shape[0] > INT_MAX || values < 1 || values > INT_MAX)
        return err_set(err, "%s: shape %s: items of %.0f values; expected 1 to %d values, at most "
                            "%d items",
                       ipath, shape, values, INT_MAX, INT_MAX);
    *n = im->shape[0];
    *channels = (int)c;
    *rows = (int)h;
    *cols = (int)w;
    if (!lb) return 0;
    shape_str(lb, shape, sizeof shape);
    if (lb->type == NPY_F32 || lb->type == NPY_F64)
        return err_set(err, "%s: labels of dtype '%s'; expected an integer type (such as '<i8' "
                            "or '|u1'): convert with a.astype(np.int64)",
                       lpath, npy_type_descr(lb->type));
    if (lb->ndim != 1 && !(lb->ndim == 2 && lb->shape[1] == 1))
        return err_set(err, "%s: shape %s; expected (N,) or (N, 1): one label per item", lpath,
                       shape);
    if (lb->shape[0] != *n)
        return err_set(err, "%s has %zu items but %s has %zu labels; they must be a matching pair",
                       ipath, *n, lpath, lb->shape[0]);
    return 0;
}

/* What keep lets through, before the data is converted: labels in range
 * and named, every listed class present; *kept gets the count. */
static int count_kept(const NpyArray *lb, const char *lpath, size_t n, const DataKeep *keep,
                      int *kept, Err *err)
{
    int seen[CONFIG_LABELS] = {0};
    long k = 0;
    for (size_t i = 0; i < n; i++) {
        int l = 0;
        if (lb && label_at(lb, lpath, i, &l, err)) return -1;
        if (lb) seen[l] = 1;
        if (keep && keep->classes && !keep->classes[l]) continue;
        if (lb && keep && keep->n_names > 0 && l >= keep->n_names)
            return err_set(err, "%s: label %d (item %zu) has no name: [data] label_names has %d, "
                                "for labels 0-%d",
                           lpath, l, i, keep->n_names, keep->n_names - 1);
        if (!keep || keep->limit <= 0 || k < keep->limit) k++;
    }
    /* A listed class the file does not have is a typo or the wrong file. */
    int all = 1;
    for (int l = 0; keep && keep->classes && l < CONFIG_LABELS; l++) all &= keep->classes[l];
    for (int l = 0; lb && keep && keep->classes && !all && l < CONFIG_LABELS; l++)
        if (keep->classes[l] && !seen[l])
            return err_set(err, "%s: no item has label %d, which [data] %s lists", lpath, l,
                           keep->classes_text ? keep->classes_text : "classes");
    *kept = (int)k;
    return 0;
}

/* data_from_arrays; with take set, an array whose items are all kept, in
 * the file's order and already (C, H, W), is not copied: out takes it
 * (out->src = *im, *im zeroed, so the caller's npy_free does nothing). */
static int from_arrays(Dataset *out, NpyArray *im, const char *ipath, const NpyArray *lb,
                       const char *lpath, const DataKeep *keep, int take, Err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    int channels = 0, rows = 0, cols = 0, kept = 0;
    DataLayout layout = keep ? keep->layout : LAYOUT_NHWC;
    if (check_shapes(im, ipath, lb, lpath, layout, &n, &channels, &rows, &cols, err)) return -1;
    if (!lb && keep && keep->classes)
        return err_set(err, "%s: no labels to keep [data] %s by", ipath,
                       keep->classes_text ? keep->classes_text : "classes");
    if (count_kept(lb, lpath, n, keep, &kept, err)) return -1;
    if (kept == 0)
        return err_set(err, n ? "%s: no item has a label in [data] %s" : "%s: no items", ipath,
                       keep && keep->classes_text ? keep->classes_text : "classes");
    size_t dim = im->count / n;
    int u8 = im->type == NPY_U8;
    /* (H, W, C) items are stored (C, H, W): value j of an item (channel
     * j / HW, pixel j % HW) comes from pixel j % HW's channel j / HW. */
    size_t C = (size_t)channels, hw = (size_t)rows * (size_t)cols;
    int transpose = im->ndim == 4 && layout == LAYOUT_NHWC && C > 1;
    /* Floats are used in place when the host reads them as the file holds
     * them (little-endian, which npy.h assumes of every host) and aligned. */
    int in_place = take && (size_t)kept == n && !transpose &&
                   (u8 || (uintptr_t)im->data % sizeof(float) == 0);
    out->y = lb ? util_malloc((size_t)kept, err) : NULL;
    if (lb && !out->y) goto fail;
    unsigned char *own8 = NULL;
    float *ownf = NULL;
    if (!in_place) {
        out->own = util_malloc((size_t)kept * dim * (u8 ? 1 : sizeof(float)), err);
        if (!out->own) goto fail;
        own8 = out->own;
        ownf = out->own;
    }
    int k = 0;
    for (size_t i = 0; i < n && k < kept; i++) {
        int l = 0;
        if (lb) label_at(lb, lpath, i, &l, err); /* checked by count_kept */
        if (keep && keep->classes && !keep->classes[l]) continue;
        /* bytes used in place: nothing to copy or check */
        for (size_t j = 0; j < dim && !(in_place && u8); j++) {
            size_t s = transpose ? j % hw * C + j / hw : j; /* in the file's item */
            size_t at = (size_t)k * dim + j;
            if (u8) {
                own8[at] = ((const unsigned char *)im->data)[i * dim + s];
                continue;
            }
            float v = (float)npy_get(im, i * dim + s); /* little-endian on any host */
            if (!isfinite(v)) {
                err_set(err, "%s: item %zu holds %g at position %zu: every value must be finite",
                        ipath, i, v, s);
                goto fail;
            }
            if (ownf) ownf[at] = v;
        }
        if (lb) out->y[k] = (unsigned char)l;
        k++;
    }
    if (in_place) {
        out->src = *im;
        memset(im, 0, sizeof *im);
        /* the finiteness pass read every page of a mapped float file */
        if (!u8) npy_release_pages(&out->src);
    }
    out->x = in_place ? out->src.data : out->own;
    out->u8 = u8;
    out->n = kept;
    out->channels = channels;
    out->rows = rows;
    out->cols = cols;
    out->dim = (int)dim;
    return 0;
fail:
    dataset_free(out);
    return -1;
}

int data_from_arrays(Dataset *out, const NpyArray *im, const char *ipath, const NpyArray *lb,
                     const char *lpath, const DataKeep *keep, Err *err)
{
    NpyArray copy = *im; /* never taken: the caller keeps its array */
    return from_arrays(out, &copy, ipath, lb, lpath, keep, 0, err);
}

/* An IDX array as the uint8 NpyArray it is; data borrowed. */
static NpyArray idx_view(const IdxArray *a)
{
    NpyArray v;
    memset(&v, 0, sizeof v);
    v.type = NPY_U8;
    v.ndim = a->ndim;
    for (int i = 0; i < a->ndim; i++) v.shape[i] = (size_t)a->dims[i];
    v.count = a->count;
    v.data = a->data;
    return v;
}

int data_load_idx(Dataset *out, const char *ipath, const char *lpath, const DataKeep *keep,
                  Err *err)
{
    memset(out, 0, sizeof *out);
    IdxArray im = {0}, lb = {0};
    int rc = -1;
    if (idx_read(ipath, 3, &im, err) || (lpath && idx_read(lpath, 1, &lb, err))) goto out;
    NpyArray vi = idx_view(&im), vl = idx_view(&lb);
    rc = from_arrays(out, &vi, ipath, lpath ? &vl : NULL, lpath, keep, 1, err) ? -2 : 0;
    if (rc == 0 && !vi.data) im.data = NULL; /* the Dataset took the bytes (npy_free frees) */
out:
    idx_free(&im);
    idx_free(&lb);
    return rc;
}

int data_load_npy(Dataset *out, const char *ipath, const char *lpath, const DataKeep *keep,
                  Err *err)
{
    memset(out, 0, sizeof *out);
    NpyArray im, lb;
    memset(&lb, 0, sizeof lb);
    if (npy_map(&im, ipath, err)) return -1;
    int rc = -1;
    if (!lpath || npy_map(&lb, lpath, err) == 0)
        rc = from_arrays(out, &im, ipath, lpath ? &lb : NULL, lpath, keep, 1, err);
    npy_free(&im);
    npy_free(&lb);
    return rc;
}

/* 1 when the file at path starts with the .npy magic. */
static int is_npy(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char head[6] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    return got == sizeof head && memcmp(head, "\x93NUMPY", 6) == 0;
}

int data_read_files(Dataset *out, const char *ipath, const char *lpath, DataLayout layout,
                    Err *err)
{
    memset(out, 0, sizeof *out);
    /* Each file by its own content: images and labels may differ. */
    NpyArray im, lb;
    IdxArray iim = {0}, ilb = {0};
    memset(&im, 0, sizeof im);
    memset(&lb, 0, sizeof lb);
    int rc = -1;
    if (is_npy(ipath)) {
        if (npy_map(&im, ipath, err)) goto out;
    } else {
        if (idx_read(ipath, 3, &iim, err)) goto out;
        im = idx_view(&iim);
    }
    if (lpath && is_npy(lpath)) {
        if (npy_map(&lb, lpath, err)) goto out;
    } else if (lpath) {
        if (idx_read(lpath, 1, &ilb, err)) goto out;
        lb = idx_view(&ilb);
    }
    DataKeep all = {.layout = layout};
    rc = from_arrays(out, &im, ipath, lpath ? &lb : NULL, lpath, &all, 1, err);
    if (rc == 0 && iim.data && !im.data) iim.data = NULL; /* taken by out */
out:
    if (iim.data) idx_free(&iim);
    else npy_free(&im);
    if (ilb.data) idx_free(&ilb);
    else npy_free(&lb);
    return rc;
}

/* [data] dir / file, or file when it is absolute. */
static int npy_path(const Config *cfg, const char *key, const char *file, char *path, size_t len,
                    Err *err)
{
    int n = file[0] == '/' ? snprintf(path, len, "%s", file)
                           : snprintf(path, len, "%s/%s", cfg->data_dir, file);
    if (n < 0 || (size_t)n >= len) return err_set(err, "[data] %s = %s: path too long", key, file);
    return 0;
}

/* One split of format = npy; errors start with the key of the file at
 * fault. */
static int load_npy_split(const Config *cfg, int train, const DataKeep *keep, Dataset *out,
                          Err *err)
{
    const char *ikey = train ? "train_images" : "test_images";
    const char *lkey = train ? "train_labels" : "test_labels";
    const char *ifile = train ? cfg->train_images : cfg->test_images;
    const char *lfile = train ? cfg->train_labels : cfg->test_labels;
    char ipath[4200], lpath[4200];
    if (npy_path(cfg, ikey, ifile, ipath, sizeof ipath, err) ||
        (lfile[0] && npy_path(cfg, lkey, lfile, lpath, sizeof lpath, err)))
        return -1;
    NpyArray im, lb;
    memset(&lb, 0, sizeof lb);
    if (npy_map(&im, ipath, err)) return err_prefix(err, "[data] %s", ikey);
    int rc = -1;
    if (lfile[0] && npy_map(&lb, lpath, err)) {
        err_prefix(err, "[data] %s", lkey);
    } else if (from_arrays(out, &im, ipath, lfile[0] ? &lb : NULL, lpath, keep, 1, err) == 0) {
        rc = 0;
    }
    npy_free(&im);
    npy_free(&lb);
    return rc;
}

/* One split of format = idx: the standard names in [data] dir. */
static int load_idx_split(const Config *cfg, int train, const DataKeep *keep, Dataset *out,
                          Err *err)
{
    char images[4200], labels[4200], ib[64], lb[64];
    const char *prefix = train ? "train" : "t10k";
    snprintf(ib, sizeof ib, "%s-images-idx3-ubyte", prefix);
    snprintf(lb, sizeof lb, "%s-labels-idx1-ubyte", prefix);
    if (mnist_find(cfg->data_dir, ib, images, sizeof images, err) ||
        mnist_find(cfg->data_dir, lb, labels, sizeof labels, err))
        return -1;
    return data_load_idx(out, images, labels, keep, err);
}

int data_load(const Config *cfg, Dataset *train, Dataset *test, Err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int all = 1;
    for (int l = 0; l < CONFIG_LABELS; l++) all &= cfg->classes[l];
    char classes[CONFIG_STR + 16], list[CONFIG_STR];
    config_classes_str(cfg, list, sizeof list);
    snprintf(classes, sizeof classes, "%s = %s", config_classes_key(cfg), list);
    DataKeep keep = {.classes = all ? NULL : cfg->classes, .classes_text = classes,
                     .n_names = cfg->n_label_names, .limit = cfg->train_limit,
                     .layout = cfg->data_layout};
    int npy = cfg->data_format == DATA_NPY, rc;
    rc = npy ? (load_npy_split(cfg, 1, &keep, train, err) ? -2 : 0)
             : load_idx_split(cfg, 1, &keep, train, err);
    if (rc) return rc;
    keep.limit = 0; /* the test set is never cut */
    rc = npy ? (load_npy_split(cfg, 0, &keep, test, err) ? -2 : 0)
             : load_idx_split(cfg, 0, &keep, test, err);
    if (rc) {
        dataset_free(train);
        return rc;
    }
    if (train->dim != test->dim || train->channels != test->channels ||
        train->rows != test->rows || train->cols != test->cols || !train->y != !test->y) {
        char a[64], b[64];
        data_shape_str(train, a, sizeof a);
        data_shape_str(test, b, sizeof b);
        err_set(err, "[data] the training items are %s%s, the test items %s%s: both sets must "
                     "have items of one shape",
                a, train->y ? " with labels" : "", b, test->y ? " with labels" : "");
        dataset_free(train);
        dataset_free(test);
        return -2;
    }
    return 0;
}

Shape3 data_item_shape(const Dataset *d)
{
    if (d->rows > 0 && d->cols > 0)
        return (Shape3){d->channels > 0 ? d->channels : 1, d->rows, d->cols};
    return (Shape3){d->dim, 1, 1};
}

int data_check_layers(const Config *cfg, const Dataset *d, Err *err)
{
    char what[64];
    data_shape_str(d, what, sizeof what);
    return config_check_images(cfg, d->rows > 0, what, err);
}
