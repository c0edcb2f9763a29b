/* data: the items a run trains and tests on, read as the [data] keys say.
 *
 * Owns: Dataset (the items as rows of floats, their image shape or none,
 * their labels or none); loading the training and test sets in either
 * format ([data] format = idx: the four IDX files of [data] dir, via idx.h;
 * npy: the .npy files [data] train_images, train_labels, test_images,
 * test_labels name, via npy.h); turning an array of images (uint8, scaled
 * by 1/255, or float32, as it is; (N, D), (N, H, W), or 4-D images of 1, 3
 * or 4 channels, (N, H, W, C) or (N, C, H, W) as [data] layout says) and
 * one of labels (any integer type, 0-255) into rows of C x H x W values
 * (PyTorch's NCHW order: a channel's whole plane, then the next), held as
 * compactly as the file holds them (uint8 stays bytes, a quarter of the
 * floats) and, where no item is dropped or reordered, not copied at all (a
 * .npy file is mapped, npy_map; an IDX file's bytes are kept); the class
 * filter, train_limit, and every check that needs the data: counts of
 * images and labels, a layout the array contradicts, the channel count,
 * training against test shapes, labels in range and named, classes with no
 * item. Host only. */
#ifndef CLAE_DATA_H
#define CLAE_DATA_H

#include "config.h"
#include "npy.h"
#include "util.h"

typedef struct {
    int n;            /* items */
    int channels;     /* 1 (gray: IDX files, (N, H, W) arrays), 3 (RGB) or 4 (RGBA); 0 when
                         the items are not images */
    int rows, cols;   /* image shape, 28 x 28 for MNIST; 0 x 0 when the items are not
                         images (an (N, D) array): no picture is drawn of them */
    int dim;          /* values per item: channels * rows * cols for images */
    int u8;           /* 1: the values are held as the file's bytes (IDX, uint8 .npy), value
                         = (float)byte * (1.0f / 255.0f), the one conversion clae makes (on
                         the host in data_value, on the device in the gather); 0: floats
                         (float32 .npy) */
    const void *x;    /* (n, dim) row-major, an item's values in (C, H, W) order: bytes when
                         u8, else floats; in own, or in src (not copied) */
    void *own;        /* the rows when they were copied (a class filter, train_limit, an
                         (N, H, W, C) array of several channels); NULL when x lies in src */
    NpyArray src;     /* the array x lies in when it was not copied: a mapped .npy file
                         (src.map) or an IDX file's bytes; owned */
    unsigned char *y; /* (n) labels 0-255; owned; NULL when the data has no labels */
} Dataset;

/* Which items to keep, what their labels must satisfy, and how a 4-D image
 * array orders its axes. A zeroed DataKeep keeps everything and reads
 * (N, H, W, C), as a NULL one does. */
typedef struct {
    const unsigned char *classes; /* (CONFIG_LABELS) 1 = keep that label; NULL keeps all and
                                     skips the checks of listed classes */
    const char *classes_text;     /* the filter as the file says it, "classes = 1,5,6", for
                                     messages */
    int n_names;                  /* > 0: every label kept must be below it ([data]
                                     label_names) */
    long limit;                   /* > 0: at most this many items, after the filter */
    DataLayout layout;            /* a 4-D image array: LAYOUT_NHWC (N, H, W, C), transposed
                                     to C x H x W per item, or LAYOUT_NCHW (N, C, H, W) ([data]
                                     layout) */
} DataKeep;

/* Loads cfg's training set (train_limit applied) and test set (never cut),
 * keeping the labels of [data] classes. Returns 0; -1 when the run fails
 * (format = idx: a missing or damaged IDX file, which scripts/get-mnist.sh
 * or [data] dir fix; out of memory); -2 when the config's data is at fault
 * (exit code 2): any problem with a .npy file it names (missing, not .npy,
 * an unsupported dtype, Fortran order, truncated, a shape that does not fit,
 * a 4-D shape that [data] layout contradicts, other than 1, 3 or 4
 * channels, images and labels of different counts, training and test items
 * of different shapes, labels outside 0-255), a listed class with no training
 * item, a label without a name in [data] label_names, no item left. The
 * message is one line naming the key or file. On failure both are empty. */
int data_load(const Config *cfg, Dataset *train, Dataset *test, Err *err);

/* The items of an array of images, (N, D) (not images), (N, H, W) (gray),
 * or (N, H, W, C) / (N, C, H, W) as keep->layout says (C = 1, 3 or 4; the
 * items C x H x W either way), uint8 (scaled by 1/255) or float32 (as they
 * are, which must be finite), with
 * labels (N) or (N, 1) of any integer type, 0-255, or none (labels NULL:
 * out->y NULL, and keep->classes must be NULL), kept as keep says (NULL:
 * all). The paths name the arrays in errors. Returns 0 or -1; out is empty
 * on failure. */
int data_from_arrays(Dataset *out, const NpyArray *images, const char *images_path,
                     const NpyArray *labels, const char *labels_path, const DataKeep *keep,
                     Err *err);

/* data_from_arrays of an IDX image file (3-D, gzip or plain) and label file
 * (1-D; or NULL). Returns 0; -1 for a file that cannot be read as IDX; -2
 * for what keep refuses. */
int data_load_idx(Dataset *out, const char *images_path, const char *labels_path,
                  const DataKeep *keep, Err *err);

/* data_from_arrays of .npy files (labels_path may be NULL), mapped
 * (npy_map): the images are not copied when every item is kept in the
 * file's order. Returns 0 or -1. */
int data_load_npy(Dataset *out, const char *images_path, const char *labels_path,
                  const DataKeep *keep, Err *err);

/* Every item of an image file and its labels (labels_path may be NULL),
 * each either .npy (told by its magic) or IDX: what `clae encode` reads. A
 * 4-D array is read as layout says: `clae encode` passes the run's own
 * [data] layout, so that an array is read as the run's training read its
 * arrays (a shape that fits both layouts, such as (N, 4, 4, 3), would
 * otherwise be guessed, and the guess could be wrong without a word). */
int data_read_files(Dataset *out, const char *images_path, const char *labels_path,
                    DataLayout layout, Err *err);

/* Bytes per item as held: dim, or 4 dim for floats. */
size_t data_row_bytes(const Dataset *d);

/* Value i of the (n, dim) rows as a float (a byte scaled by 1/255). */
float data_value(const Dataset *d, size_t i);

/* Rows first .. first + n - 1 as floats into out (n, dim). */
void data_rows_float(const Dataset *d, size_t first, size_t n, float *out);

/* Rows idx[0 .. n) as held (bytes or floats, data_row_bytes each) into
 * out, one after another: a streamed batch's gather on the host. */
void data_gather(const Dataset *d, const int *idx, int n, void *out);

/* Lets the kernel drop the pages of a mapped file from the resident set
 * (npy_release_pages) after a pass over it; nothing for copied rows. */
void data_release_pages(const Dataset *d);

/* "28x28 images" (one channel), "3x32x32 images" (C x H x W) or "37 values
 * (not images)", for messages. */
void data_shape_str(const Dataset *d, char *buf, size_t len);

/* The items' shape as the network takes it (layers.h): C x H x W for
 * images, D x 1 x 1 for items that are not images. */
Shape3 data_item_shape(const Dataset *d);

/* Refuses cfg's conv layers when d's items are not images, naming [model]
 * encoder and the data's shape (config_check_images). */
int data_check_layers(const Config *cfg, const Dataset *d, Err *err);

/* Frees (or unmaps) a Dataset's arrays and zeroes it; NULL is fine. */
void dataset_free(Dataset *d);

#endif
