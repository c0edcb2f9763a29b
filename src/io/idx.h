/* idx: the IDX file format (LeCun's MNIST format), gzip or plain, via zlib.
 *
 * Owns: reading one IDX file of unsigned bytes (type 0x08) with its
 * dimensions taken from the big-endian header, and loading an MNIST-style
 * image/label pair into a Dataset with a digit filter. Host only. */
#ifndef CLAE_IDX_H
#define CLAE_IDX_H

#include <stddef.h>

#include "util.h"

#define IDX_MAX_DIMS 4

typedef struct {
    int ndim;                 /* 1 for labels, 3 for images */
    int dims[IDX_MAX_DIMS];   /* from the header, e.g. (n, 28, 28) */
    size_t count;             /* product of dims = bytes in data */
    unsigned char *data;      /* (dims...) row-major; owned, free with idx_free */
} IdxArray;

/* Reads path (gzip or plain; gzread handles both) into out. Checks the magic
 * (0x0000 08 ndim, with ndim == expect_ndim), the header, and that exactly
 * `count` bytes follow (a short or corrupt file is an error naming the path
 * and how many bytes were expected). */
int idx_read(const char *path, int expect_ndim, IdxArray *out, Err *err);

/* Frees out->data and zeroes out; NULL and zeroed arrays are fine. */
void idx_free(IdxArray *a);

typedef struct {
    int n;            /* images */
    int rows, cols;   /* 28, 28 for MNIST */
    int dim;          /* rows * cols */
    float *x;         /* (n, dim) row-major, pixels scaled to [0,1]; owned */
    unsigned char *y; /* (n) labels 0-9; owned */
} Dataset;

/* Loads an image file and its label file (either may be .gz or plain),
 * keeping only the digits whose bit is set in digit_mask, in file order, and
 * at most `limit` images when limit > 0. Errors: missing file (names the path
 * and says to run scripts/get-mnist.sh or set [data] dir), wrong magic,
 * truncated/corrupt gzip, count mismatch between images and labels, labels
 * outside 0-9, and image size other than expect_rows x expect_cols when
 * those are > 0. labels_path may be NULL: y is then all 0 and no filter is
 * applied. */
int dataset_load(Dataset *out, const char *images_path, const char *labels_path,
                 unsigned digit_mask, long limit, int expect_rows, int expect_cols, Err *err);

/* Finds the MNIST file called `base` (e.g. "train-images-idx3-ubyte") in dir,
 * trying base.gz then base, and writes the path found into path. Missing both
 * is an error that names dir/base.gz and says how to get MNIST. */
int mnist_find(const char *dir, const char *base, char *path, size_t len, Err *err);

/* Loads train and test sets from dir (the four standard names) with the
 * digit filter, 28x28 images, train_limit applied to the training set only. */
int mnist_load(const char *dir, unsigned digit_mask, long train_limit,
               Dataset *train, Dataset *test, Err *err);

/* Frees a Dataset's arrays and zeroes it; NULL is fine. */
void dataset_free(Dataset *d);

#endif
