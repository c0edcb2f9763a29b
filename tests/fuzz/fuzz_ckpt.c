/* fuzz_ckpt: model.ckpt, as `clae train --resume` and `clae encode/decode/
 * generate` read it (ckpt_read).
 *
 * Input: the file's bytes; read as they are, and again with the last four
 * bytes replaced by the right CRC-32, so that the fuzzer gets past the
 * checksum to every header and size check behind it.
 *
 * Promises checked: a checkpoint that loads is consistent (n_params from
 * its layers and kind, every layer true to its kind's shape rule, the
 * optimizer's state arrays present, a vae's KL sums with its step sums) and
 * writes back (ckpt_write) as exactly the bytes it was read from: the
 * format has one encoding. A version 2 file writes back as version 3: the
 * same bytes with the input shape (dims[0] x 1 x 1) and a dense layer list
 * on vectors inserted after the kind, the header length 12 + 32 L more and
 * a new CRC; a version 1 file likewise, with the kind (0, an ae) inserted
 * too. A refused one leaves the Ckpt empty. */
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
        int w = config_width(c.kind, c.dims, c.latent, l);
        char why[256];
        FUZZ_ASSERT(layers_check(&c.layer[l], why, sizeof why) == 0, "layer %d: %s", l + 1, why);
        FUZZ_ASSERT(layers_size(c.layer[l].out) == (size_t)c.dims[l + 1], "layer %d's size", l + 1);
        want += layers_weights(&c.layer[l], w) + layers_biases(&c.layer[l], w);
    }
    FUZZ_ASSERT(c.n_params == want, "n_params %zu, the layers and kind say %zu", c.n_params, want);
    int s = ckpt_state_count(c.optimizer);
    FUZZ_ASSERT((s >= 1) == (c.m != NULL) && (s == 2) == (c.v != NULL), "state arrays");
    FUZZ_ASSERT((c.steps_in_epoch > 0) == (c.step_sums != NULL) &&
                    (c.steps_in_epoch > 0 && c.kind == MODEL_VAE) == (c.step_kl != NULL),
                "step sums");
    /* What the file must write back as: itself, or a version 1 or 2 file as
     * version 3. */
    size_t L = (size_t)c.n_layers, extra = 12 + 32 * L + (data[8] == 1 ? 4 : 0);
    uint8_t *expect = malloc(size + extra);
    size_t expect_len = size;
    memcpy(expect, data, size);
    if (data[8] == 1) FUZZ_ASSERT(c.kind == MODEL_AE, "a version 1 file read as a vae");
    if (data[8] <= 2) {
        size_t at = 96 + 8 * L + (data[8] == 2 ? 4 : 0); /* after the kind, or where it goes */
        memmove(expect + at + extra, expect + at, size - at);
        uint8_t *p = expect + at;
        uint32_t ins[4 + 3 + 8 * CONFIG_MAX_LAYERS];
        size_t n = 0;
        if (data[8] == 1) ins[n++] = 0; /* the kind: an ae */
        ins[n++] = (uint32_t)c.dims[0], ins[n++] = 1, ins[n++] = 1;
        for (size_t l = 0; l < L; l++) {
            const uint32_t lay[8] = {0, (uint32_t)c.dims[l + 1], 1, 1, 0, 0, 0, 0};
            for (int i = 0; i < 8; i++) ins[n++] = lay[i];
        }
        for (size_t i = 0; i < n; i++)
            for (int b = 0; b < 4; b++) p[4 * i + (size_t)b] = (uint8_t)(ins[i] >> (8 * b));
        expect_len = size + extra;
        expect[8] = 3;
        uint32_t hlen = (uint32_t)(112 + 40 * L);
        for (int b = 0; b < 4; b++) expect[12 + b] = (uint8_t)(hlen >> (8 * b));
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
