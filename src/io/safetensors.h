/* safetensors: the safetensors file format (Hugging Face's), for handing a
 * trained model's parameters to PyTorch and other frameworks.
 *
 * Owns: writing named float32 tensors and string metadata as one
 * .safetensors file, atomically. The format:
 *
 *   offset   size   field
 *   0        8      u64 little-endian N: the header's length in bytes
 *   8        N      the header: a JSON object (UTF-8), padded with spaces to
 *                   make 8 + N a multiple of 8:
 *                     {"__metadata__": {"key": "value", ...},
 *                      "<name>": {"dtype": "F32", "shape": [d0, ...],
 *                                 "data_offsets": [begin, end]}, ...}
 *                   metadata values are strings only; begin and end are
 *                   byte offsets into the data, end - begin = 4 x the
 *                   product of the shape
 *   8 + N    ...    the data: each tensor's values, little-endian IEEE-754
 *                   binary32 in C order (the last index fastest), in the
 *                   order of the header, back to back from offset 0
 *
 * The header is written with jansson. Host only. */
#ifndef CLAE_SAFETENSORS_H
#define CLAE_SAFETENSORS_H

#include <stddef.h>

#include "util.h"

#define SAFETENSORS_MAX_DIMS 4
#define SAFETENSORS_NAME_MAX 128

/* One tensor to write. */
typedef struct {
    char name[SAFETENSORS_NAME_MAX]; /* "encoder.0.weight"; unique in a file */
    int ndim;                        /* 1..SAFETENSORS_MAX_DIMS */
    size_t shape[SAFETENSORS_MAX_DIMS];
    const float *data;               /* (shape...) C order, host byte order; borrowed */
} SafeTensor;

/* One entry of the header's "__metadata__" (both borrowed). */
typedef struct {
    const char *key;
    const char *value;
} SafeMeta;

/* The header's JSON text for these tensors and metadata, padded with
 * spaces so that 8 + *len is a multiple of 8 (not NUL-counted in *len).
 * Keys and values that are not valid UTF-8 get their stray bytes replaced
 * by '?'. Returns a malloc'd NUL-terminated string (the caller frees), or
 * NULL with err set (a duplicate name, a bad shape, out of memory). */
char *safetensors_header(const SafeTensor *t, int n, const SafeMeta *meta, int n_meta,
                         size_t *len, Err *err);

/* Writes the tensors t[0..n) with the metadata meta[0..n_meta) to path
 * through "path.tmp.PID" and rename, so path is either absent (or the file
 * it replaces) or complete. Returns 0; -2 when the temporary file cannot
 * be created (no such folder, no permission: the request's fault); -1 when
 * writing fails (a full disk) or the header cannot be made. The message
 * names the path. */
int safetensors_write(const char *path, const SafeTensor *t, int n, const SafeMeta *meta,
                      int n_meta, Err *err);

#endif
