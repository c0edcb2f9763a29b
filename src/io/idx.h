/* idx: the IDX file format (LeCun's MNIST format), gzip or plain, via zlib.
 *
 * Owns: reading one IDX file of unsigned bytes (type 0x08) with its
 * dimensions taken from the big-endian header, and finding the standard
 * MNIST file names in a folder. data.h turns the arrays into a Dataset.
 * Host only. */
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

/* Finds the MNIST file called `base` (e.g. "train-images-idx3-ubyte") in dir,
 * trying base.gz then base, and writes the path found into path. Missing both
 * is an error that names dir/base.gz and says how to get MNIST. */
int mnist_find(const char *dir, const char *base, char *path, size_t len, Err *err);

#endif
