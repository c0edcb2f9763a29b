/* fuzz_ckpt: model.ckpt, as `clae train --resume` and `clae encode/decode/
 * generate` read it (ckpt_read).
 *
 * Input: the file's bytes; read as they are, and again with the last four
 * bytes replaced by the right CRC-32, so that the fuzzer gets past the
 * checksum to every header and size check behind it.
 *
 * Promises checked: a checkpoint that loads is consistent (n_params from
 * dims and kind, the optimizer's state arrays present, a vae's KL sums with
 * its step sums) and writes back (ckpt_write) as exactly the bytes it was
 * read from: the format has one encoding. A version 1 file writes back as
 * version 2: the same bytes with the kind (0, an ae) inserted after the
 * activations, the header length 4 more and a new CRC. A refused one leaves
 * the Ckpt empty. */
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
        FUZZ_ASSERT(c.params == NULL && c.m == NULL && c.v == NULL && c.step_sums == NULL &&
                        c.step_kl == NULL,
                    "a refused checkpoint left arrays behind");
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "message: %s", err.msg);
        return;
    }
    size_t want = 0;
    for (int l = 0; l < c.n_layers; l++) {
        size_t w = (size_t)config_width(c.kind, c.dims, c.latent, l);
        want += (size_t)c.dims[l] * w + w;
    }
    FUZZ_ASSERT(c.n_params == want, "n_params %zu, dims and kind say %zu", c.n_params, want);
    int s = ckpt_state_count(c.optimizer);
    FUZZ_ASSERT((s >= 1) == (c.m != NULL) && (s == 2) == (c.v != NULL), "state arrays");
    FUZZ_ASSERT((c.steps_in_epoch > 0) == (c.step_sums != NULL) &&
                    (c.steps_in_epoch > 0 && c.kind == MODEL_VAE) == (c.step_kl != NULL),
                "step sums");
    /* What the file must write back as: itself, or a version 1 file as version 2. */
    uint8_t *expect = malloc(size + 4);
    size_t expect_len = size;
    memcpy(expect, data, size);
    if (data[8] == 1) {
        FUZZ_ASSERT(c.kind == MODEL_AE, "a version 1 file read as a vae");
        size_t at = 96 + 8 * (size_t)c.n_layers;
        memmove(expect + at + 4, expect + at, size - at);
        memset(expect + at, 0, 4);
        expect_len = size + 4;
        expect[8] = 2;
        expect[12] = (uint8_t)(at + 4), expect[13] = (uint8_t)((at + 4) >> 8);
        uLong crc = crc32(crc32(0L, Z_NULL, 0), expect, (uInt)(expect_len - 4));
        for (int i = 0; i < 4; i++) expect[expect_len - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    fuzz_path(again, sizeof again, "again.ckpt");
    FUZZ_ASSERT(ckpt_write(again, &c, &err) == 0, "an accepted checkpoint cannot be written: %s",
                err.msg);
    size_t len = 0;
    char *back = fuzz_slurp(again, &len);
    FUZZ_ASSERT(back && len == expect_len && memcmp(back, expect, expect_len) == 0,
                "written back as %zu different bytes from %zu", len, expect_len);
    free(back);
    free(expect);
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
