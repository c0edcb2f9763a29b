/* npy: NumPy's .npy array files, for training on people's own data
 * ([data] format = npy).
 *
 * Owns: reading a .npy file (format versions 1.0, 2.0 and 3.0: the magic,
 * the header length, the header dict with 'descr', 'fortran_order' and
 * 'shape') into an array of one of the element types clae takes, every
 * malformed case refused with one line that names the file and what is
 * wrong (bad magic, an unsupported dtype or byte order, Fortran order, a
 * shape that does not fit, truncated or trailing data); mapping a .npy
 * file into memory instead (npy_map: the elements are read in place, only
 * the pages touched are resident, and the file's size is checked against
 * the header before any element is touched, so that a short file is an
 * error, never a SIGBUS); and writing a little-endian C-order .npy (for
 * tests and fixtures). Host only. */
#ifndef CLAE_NPY_H
#define CLAE_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define NPY_MAX_DIMS 4

/* Element types: images are uint8 or float32; labels any integer type. */
typedef enum {
    NPY_U8, NPY_I8, NPY_U16, NPY_I16, NPY_U32, NPY_I32, NPY_U64, NPY_I64, NPY_F32, NPY_F64,
    NPY_TYPE_COUNT
} NpyType;

typedef struct {
    NpyType type;
    int ndim;                    /* 0 (a scalar) .. NPY_MAX_DIMS */
    size_t shape[NPY_MAX_DIMS];  /* C order: the last index varies fastest */
    size_t count;                /* product of shape (1 for a scalar) */
    void *data;                  /* count elements of type, little-endian as on disk; owned,
                                    or inside map */
    void *map;                   /* npy_map: the whole file's read-only mapping, which data
                                    points into; NULL when data is a copy */
    size_t map_len;              /* bytes mapped */
} NpyArray;

/* The dtype as NumPy writes it ("<f4", "|u1", ...). */
const char *npy_type_descr(NpyType t);

/* Bytes per element. */
size_t npy_type_size(NpyType t);

/* Parses a whole .npy file held in memory (name starts every error). a is
 * zeroed first; npy_free frees it. */
int npy_parse(NpyArray *a, const unsigned char *bytes, size_t len, const char *name, Err *err);

/* npy_parse of the file at path. */
int npy_read(NpyArray *a, const char *path, Err *err);

/* The file at path mapped read-only, its header checked as npy_parse
 * checks it: a->data points into the mapping (a->map), nothing is copied.
 * The file's size is compared with what the header announces before any
 * element is read, so a truncated file is refused here with the sizes.
 * (A file cut short by someone else while it is mapped would raise SIGBUS
 * when a missing page is read; clae never writes the files it maps.)
 * npy_free unmaps it. */
int npy_map(NpyArray *a, const char *path, Err *err);

/* Lets the kernel drop a mapped array's pages from this process's
 * resident set (they stay in the page cache, and come back on the next
 * read): called after a pass over the whole array, so that the resident
 * set holds what is in use, not the file. A copied array is left alone. */
void npy_release_pages(const NpyArray *a);

/* Element i as a double (any type), and as an integer when the type is an
 * integer type (returns -1 for a float type). */
double npy_get(const NpyArray *a, size_t i);
int npy_get_int(const NpyArray *a, size_t i, int64_t *out);

/* Writes a version 1.0 .npy with the given type and shape (ndim 1..4) from
 * data (little-endian, C order), through a temporary file and rename. */
int npy_write(const char *path, NpyType type, int ndim, const size_t *shape, const void *data,
              Err *err);

/* Frees (or unmaps) the array and zeroes it; a zeroed array is fine. */
void npy_free(NpyArray *a);

#endif
