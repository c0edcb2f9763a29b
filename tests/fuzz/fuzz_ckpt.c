/* fuzz_ckpt: model.ckpt, as `clae train --resume` and `clae encode/decode/
 * generate` read it (ckpt_read).
 *
 * Input: the file's bytes; read as they are, and again with the last four
 * bytes replaced by the right CRC-32, so that the fuzzer gets past the
 * checksum to every header and size check behind it.
 *
 * Promises checked: a checkpoint that loads is consistent (n_params from
 * dims, the optimizer's state arrays present) and writes back (ckpt_write)
 * as exactly the bytes it was read from: the format has one encoding. A
 * refused one leaves the Ckpt empty. */
#include "fuzz.h"

#include <zlib.h>

#include "ckpt.h"

static void check(const uint8_t *data, size_t size)
{
    char path[4200], again[4200];
    fuzz_write("model.ckpt", data, size, path, sizeof path);
    Ckpt c;
    Err err = {{0}};
    if (ckpt_read(path, &c, &err) != 0) {
        FUZZ_ASSERT(c.params == NULL && c.m == NULL && c.v == NULL && c.step_sums == NULL,
                    "a refused checkpoint left arrays behind");
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "message: %s", err.msg);
        return;
    }
    size_t want = 0;
    for (int l = 0; l < c.n_layers; l++)
        want += (size_t)c.dims[l] * (size_t)c.dims[l + 1] + (size_t)c.dims[l + 1];
    FUZZ_ASSERT(c.n_params == want, "n_params %zu, dims say %zu", c.n_params, want);
    int s = ckpt_state_count(c.optimizer);
    FUZZ_ASSERT((s >= 1) == (c.m != NULL) && (s == 2) == (c.v != NULL), "state arrays");
    fuzz_path(again, sizeof again, "again.ckpt");
    FUZZ_ASSERT(ckpt_write(again, &c, &err) == 0, "an accepted checkpoint cannot be written: %s",
                err.msg);
    size_t len = 0;
    char *back = fuzz_slurp(again, &len);
    FUZZ_ASSERT(back && len == size && memcmp(back, data, size) == 0,
                "written back as %zu different bytes from %zu", len, size);
    free(back);
    ckpt_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size >= 4) {
        uint8_t *fixed = malloc(size);
        memcpy(fixed, data, size);
        uLong crc = crc32(crc32(0L, Z_NULL, 0), fixed, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        if (memcmp(fixed, data, size) != 0) check(fixed, size);
        free(fixed);
    }
    return 0;
}
