/* safetensors: see safetensors.h. */
#define _POSIX_C_SOURCE 200809L
#include "safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of s; a string that is not valid UTF-8 gets every byte
 * above 0x7f replaced by '?' (jansson takes only UTF-8). NULL when out of
 * memory. */
static json_t *utf8_string(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    if (!copy) return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p > 0x7f) *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Sets obj[key] = value (value's reference taken, also on failure), the key
 * made UTF-8 as utf8_string does. */
static int set_utf8(json_t *obj, const char *key, json_t *value)
{
    if (!value) return -1;
    if (json_object_set_new(obj, key, value) == 0) return 0;
    char *copy = strdup(key);
    if (!copy) {
        json_decref(value);
        return -1;
    }
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p > 0x7f) *p = '?';
    int rc = json_object_set_new(obj, copy, value); /* steals value either way */
    free(copy);
    return rc;
}

static size_t tensor_count(const SafeTensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

char *safetensors_header(const SafeTensor *t, int n, const SafeMeta *meta, int n_meta,
                         size_t *len, Err *err)
{
    json_t *root = json_object(), *md = json_object();
    char *text = NULL, *padded = NULL;
    if (!root || !md) {
        json_decref(md);
        goto oom;
    }
    if (set_utf8(root, "__metadata__", md)) goto oom;
    for (int i = 0; i < n_meta; i++)
        if (set_utf8(md, meta[i].key, utf8_string(meta[i].value))) goto oom;
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].ndim < 1 || t[i].ndim > SAFETENSORS_MAX_DIMS) {
            err_set(err, "tensor %s: %d dimensions (1..%d)", t[i].name, t[i].ndim,
                    SAFETENSORS_MAX_DIMS);
            goto fail;
        }
        if (json_object_get(root, t[i].name) || strcmp(t[i].name, "__metadata__") == 0) {
            err_set(err, "tensor %s: the name is taken", t[i].name);
            goto fail;
        }
        json_t *desc = json_object(), *shape = json_array(), *offs = json_array();
        if (!desc || !shape || !offs) {
            json_decref(desc);
            json_decref(shape);
            json_decref(offs);
            goto oom;
        }
        size_t bytes = tensor_count(&t[i]) * sizeof(float);
        int bad = json_object_set_new(desc, "dtype", json_string("F32"));
        for (int d = 0; d < t[i].ndim; d++)
            bad |= json_array_append_new(shape, json_integer((json_int_t)t[i].shape[d]));
        bad |= json_array_append_new(offs, json_integer((json_int_t)offset));
        bad |= json_array_append_new(offs, json_integer((json_int_t)(offset + bytes)));
        bad |= json_object_set_new(desc, "shape", shape);
        bad |= json_object_set_new(desc, "data_offsets", offs);
        if (set_utf8(root, t[i].name, desc) || bad) goto oom;
        offset += bytes;
    }
    text = json_dumps(root, JSON_COMPACT);
    if (!text) goto oom;
    size_t raw = strlen(text), total = raw + (8 - raw % 8) % 8; /* 8 + total: a multiple of 8 */
    padded = util_malloc(total + 1, err);
    if (!padded) goto fail;
    memcpy(padded, text, raw);
    memset(padded + raw, ' ', total - raw);
    padded[total] = '\0';
    *len = total;
    free(text);
    json_decref(root);
    return padded;
oom:
    err_set(err, "out of memory making the safetensors header");
fail:
    free(text);
    json_decref(root);
    return NULL;
}

/* 1 on a little-endian host. */
static int host_is_le(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Writes count floats little-endian; 0 or -1 (the stream's error set). */
static int write_floats_le(FILE *f, const float *x, size_t count)
{
    if (host_is_le()) return fwrite(x, sizeof *x, count, f) == count ? 0 : -1;
    unsigned char buf[4096];
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        for (int k = 0; k < 4; k++) buf[used++] = (unsigned char)(u >> (8 * k));
        if (used == sizeof buf || i + 1 == count) {
            if (fwrite(buf, 1, used, f) != used) return -1;
            used = 0;
        }
    }
    return 0;
}

int safetensors_write(const char *path, const SafeTensor *t, int n, const SafeMeta *meta,
                      int n_meta, Err *err)
{
    size_t hlen = 0;
    char *header = safetensors_header(t, n, meta, n_meta, &hlen, err);
    if (!header) return err_prefix(err, "%s", path);
    char tmp[4300];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) {
        free(header);
        return -2;
    }
    unsigned char le[8];
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)((uint64_t)hlen >> (8 * k));
    int bad = fwrite(le, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen;
    free(header);
    for (int i = 0; i < n && !bad; i++) bad = write_floats_le(f, t[i].data, tensor_count(&t[i]));
    if (bad) {
        int e = errno ? errno : EIO;
        util_atomic_abort(f, tmp);
        return err_set(err, "%s: write failed: %s", path, strerror(e));
    }
    return util_atomic_commit(f, tmp, path, err);
}
