/* test_safetensors: the .safetensors writer (io/safetensors) byte by byte:
 * the u64 little-endian header length, the header padded with spaces to a
 * multiple of 8 and parsed back with jansson (names in order, dtype, shapes,
 * offsets back to back from 0, metadata strings, non-UTF-8 bytes replaced),
 * the little-endian float data; a duplicate name and a bad rank refused;
 * a folder that does not exist refused as the request's (-2) with nothing
 * left; an existing file replaced whole. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "safetensors.h"

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static float lef32(const unsigned char *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int main(void)
{
    char dir[128], path[256], bad[256];
    test_tmpdir(dir, sizeof dir, "safetensors");
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    Err err = {{0}};

    float w[6] = {1, 2, 3, 4, 5, -0.5f}, b[2] = {0.25f, -7}, k[1 * 2 * 3 * 3];
    for (int i = 0; i < 18; i++) k[i] = (float)i / 8;
    SafeTensor t[3] = {
        {"encoder.0.weight", 2, {2, 3}, w},
        {"encoder.0.bias", 1, {2}, b},
        {"decoder.1.weight", 4, {1, 2, 3, 3}, k},
    };
    const SafeMeta meta[3] = {{"format", "pt"}, {"model.encoder", "conv:8:3:2, 64"},
                              {"odd", "caf\xe9 \xff"}};
    /* an existing file is replaced whole */
    test_spit_text(path, "an older file, longer than nothing");
    CHECK(safetensors_write(path, t, 3, meta, 3, &err) == 0, "%s", err.msg);
    CHECK(test_count(dir, ".tmp") == 0, "no temporary file left");
    size_t len = 0;
    unsigned char *f = (unsigned char *)test_slurp(path, &len);
    CHECK(f != NULL && len > 8, "read back %zu bytes", len);
    if (f && len > 8) {
        uint64_t n = le64(f);
        CHECK((8 + n) % 8 == 0, "8 + N = %llu, a multiple of 8", (unsigned long long)(8 + n));
        CHECK(len == 8 + n + 4 * (6 + 2 + 18), "file size %zu: header then 26 floats", len);
        CHECK(f[8] == '{' && f[8 + n - 1] != '\0', "the header is JSON text");
        json_error_t je;
        json_t *h = json_loadb((const char *)f + 8, (size_t)n, 0, &je);
        CHECK(h != NULL, "the header parses: %s", h ? "" : je.text);
        if (h) {
            const char *want[4] = {"__metadata__", "encoder.0.weight", "encoder.0.bias",
                                   "decoder.1.weight"};
            int i = 0;
            const char *key;
            json_t *v;
            json_object_foreach(h, key, v) {
                CHECK(i < 4 && strcmp(key, want[i]) == 0, "member %d is %s", i, key);
                i++;
            }
            CHECK(i == 4, "4 members, %d", i);
            json_t *md = json_object_get(h, "__metadata__");
            CHECK(json_object_size(md) == 3, "3 metadata entries");
            CHECK(strcmp(json_string_value(json_object_get(md, "format")), "pt") == 0, "format pt");
            CHECK(strcmp(json_string_value(json_object_get(md, "model.encoder")), "conv:8:3:2, 64") == 0,
                  "a config value as it is");
            const char *odd = json_string_value(json_object_get(md, "odd"));
            CHECK(odd && strcmp(odd, "caf? ?") == 0, "non-UTF-8 bytes as '?': %s", odd ? odd : "(none)");
            json_t *d = json_object_get(h, "decoder.1.weight");
            json_t *shape = json_object_get(d, "shape"), *off = json_object_get(d, "data_offsets");
            CHECK(strcmp(json_string_value(json_object_get(d, "dtype")), "F32") == 0, "dtype F32");
            CHECK(json_array_size(shape) == 4 && json_integer_value(json_array_get(shape, 3)) == 3,
                  "shape [1, 2, 3, 3]");
            CHECK(json_integer_value(json_array_get(off, 0)) == 32 &&
                      json_integer_value(json_array_get(off, 1)) == 104,
                  "offsets [32, 104]: after 6 + 2 floats");
            off = json_object_get(json_object_get(h, "encoder.0.weight"), "data_offsets");
            CHECK(json_integer_value(json_array_get(off, 0)) == 0 &&
                      json_integer_value(json_array_get(off, 1)) == 24,
                  "the first tensor at [0, 24]");
            json_decref(h);
        }
        const unsigned char *data = f + 8 + n;
        CHECK(lef32(data + 4 * 5) == -0.5f && lef32(data + 24) == 0.25f &&
                  lef32(data + 32 + 4 * 17) == 17.0f / 8,
              "the floats little-endian in header order");
    }
    free(f);

    /* refusals */
    SafeTensor dup[2] = {{"a", 1, {2}, b}, {"a", 1, {2}, b}};
    CHECK(safetensors_write(path, dup, 2, NULL, 0, &err) == -1, "a duplicate name");
    CHECK_CONTAINS(err.msg, "tensor a: the name is taken");
    CHECK_CONTAINS(err.msg, path);
    SafeTensor meta_name[1] = {{"__metadata__", 1, {2}, b}};
    CHECK(safetensors_write(path, meta_name, 1, NULL, 0, &err) == -1, "__metadata__ as a name");
    SafeTensor rank[1] = {{"r", 5, {1, 1, 1, 1}, b}};
    CHECK(safetensors_write(path, rank, 1, NULL, 0, &err) == -1, "5 dimensions");
    CHECK_CONTAINS(err.msg, "5 dimensions");
    snprintf(bad, sizeof bad, "%s/no/such/m.safetensors", dir);
    CHECK(safetensors_write(bad, t, 3, meta, 3, &err) == -2, "a missing folder: -2");
    CHECK_CONTAINS(err.msg, "cannot create");
    CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
    CHECK(test_count(dir, NULL) == 1, "nothing but m.safetensors in the folder");

    test_rmdir(dir);
    return check_done("test_safetensors");
}
