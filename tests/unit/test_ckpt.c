/* test_ckpt: checkpoints round-trip bit for bit for every optimizer and
 * both model kinds; the bytes on disk follow the table in ckpt.h (checked
 * here by hand, not with the reader), version 2 with the kind, and a
 * version 1 file (made here by hand from a version 2 one) still reads as an
 * ae; every truncation, every flipped bit and every absurd header value is
 * an error with the expected message and never a partial load; and
 * ckpt_check_shape names the first difference from a configured model, the
 * model kind first. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "ckpt.h"

static char dir[64];

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set_le32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (8 * i));
}

/* Recomputes the trailing CRC after a deliberate edit, so that the header
 * checks, not the CRC, must catch it. */
static void fix_crc(unsigned char *b, size_t len)
{
    set_le32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
}


/* A Ckpt of m's shape for optimizer opt with arrays full of awkward bit
 * patterns (negative zero, NaN payloads, infinities, subnormals), so that a
 * round trip through anything but raw bits would show. Free with ckpt_free. */
static void make_ckpt(Ckpt *c, const ConfigNet *m, Optimizer opt, uint32_t seed)
{
    memset(c, 0, sizeof *c);
    c->n_layers = m->n_layers;
    memcpy(c->dims, m->dims, sizeof c->dims);
    memcpy(c->act, m->act, sizeof c->act);
    memcpy(c->layer, m->layer, sizeof c->layer);
    c->input = m->input;
    c->latent = m->latent;
    c->loss = m->loss;
    c->kind = m->kind;
    c->optimizer = opt;
    c->step = 123456789012L + seed;
    c->epoch = 7 + (int)seed;
    c->rng[0] = 0x0123456789abcdefULL ^ seed;
    c->rng[1] = 0xfedcba9876543210ULL;
    c->rng[2] = UINT64_MAX;
    c->rng[3] = 1;
    c->n_params = m->n_params;
    /* seed 0 is an epoch boundary; others stop mid-epoch with per-step sums */
    c->steps_in_epoch = (int)seed;
    if (seed) {
        c->step_sums = malloc(seed * sizeof *c->step_sums);
        for (uint32_t i = 0; i < seed; i++) c->step_sums[i] = 0.25f * (float)(i + 1) + 1e-7f;
        if (m->kind == MODEL_VAE) {
            c->step_kl = malloc(seed * sizeof *c->step_kl);
            for (uint32_t i = 0; i < seed; i++) c->step_kl[i] = -0.5f * (float)(i + 3);
        }
    }
    float **arrays[3] = {&c->params, &c->m, &c->v};
    int n = 1 + ckpt_state_count(opt);
    uint32_t x = 2463534242u + seed;
    for (int a = 0; a < n; a++) {
        float *p = malloc(c->n_params * sizeof *p);
        for (size_t i = 0; i < c->n_params; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32: any bit pattern */
            uint32_t u = i == 0 ? 0x80000000u : i == 1 ? 0x7fc01234u : i == 2 ? 0xff800000u
                       : i == 3 ? 0x00000001u : x;
            memcpy(&p[i], &u, 4);
        }
        *arrays[a] = p;
    }
}

/* The network of the defaults plus overrides (NULL-ended) on items of
 * shape in. */
static void shape_in(ConfigNet *m, Shape3 in, const char *const *sets)
{
    Config cfg;
    Err err = {{0}};
    config_defaults(&cfg);
    for (int i = 0; sets && sets[i]; i++)
        CHECK(config_set(&cfg, sets[i], &err) == 0, "%s", err.msg);
    CHECK(config_net(&cfg, in, m, &err) == 0, "%s", err.msg);
}

/* shape_in on vectors of 784 values. */
static void shape_of(ConfigNet *m, const char *const *sets)
{
    shape_in(m, (Shape3){784, 1, 1}, sets);
}

/* The conv network of docs/models.md's example on MNIST's 1x28x28. */
static const char *const CONV_156[] = {"model.encoder=conv:16:3:2,conv:32:3:2", NULL};
#define MNIST_SHAPE ((Shape3){1, 28, 28})

/* The header length of version 3: H = 112 + 40 L. */
static size_t hdr_len(int n_layers)
{
    return 112 + 40 * (size_t)n_layers;
}

static int same_ckpt(const Ckpt *a, const Ckpt *b)
{
    int n = 1 + ckpt_state_count(a->optimizer);
    const float *pa[3] = {a->params, a->m, a->v}, *pb[3] = {b->params, b->m, b->v};
    int same = a->n_layers == b->n_layers && a->latent == b->latent && a->loss == b->loss &&
               a->kind == b->kind &&
               a->optimizer == b->optimizer && a->step == b->step && a->epoch == b->epoch &&
               memcmp(a->rng, b->rng, sizeof a->rng) == 0 && a->n_params == b->n_params &&
               memcmp(a->dims, b->dims, sizeof(int) * (size_t)(a->n_layers + 1)) == 0 &&
               memcmp(a->act, b->act, sizeof(Activation) * (size_t)a->n_layers) == 0 &&
               a->steps_in_epoch == b->steps_in_epoch &&
               (a->steps_in_epoch == 0
                    ? b->step_sums == NULL
                    : memcmp(a->step_sums, b->step_sums,
                             sizeof(float) * (size_t)a->steps_in_epoch) == 0) &&
               (a->kind != MODEL_VAE || a->steps_in_epoch == 0
                    ? b->step_kl == NULL
                    : memcmp(a->step_kl, b->step_kl,
                             sizeof(float) * (size_t)a->steps_in_epoch) == 0);
    for (int i = 0; i < 3 && same; i++)
        same = i < n ? pb[i] && memcmp(pa[i], pb[i], a->n_params * sizeof(float)) == 0
                     : pb[i] == NULL;
    return same;
}

static void check_round_trip(void)
{
    const Optimizer opts[3] = {OPT_ADAM, OPT_MOMENTUM, OPT_SGD};
    char path[4200];
    snprintf(path, sizeof path, "%s/rt.ckpt", dir);
    for (int vae = 0; vae < 2; vae++) {
        ConfigNet m;
        shape_of(&m, (const char *const[]){"model.encoder=20,10", "model.latent=3",
                                           vae ? "model.kind=vae" : "model.kind=ae", NULL});
        for (int i = 0; i < 3; i++) {
            Ckpt c, back;
            Err err = {{0}};
            make_ckpt(&c, &m, opts[i], (uint32_t)i);
            CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
            CHECK(test_count(dir, ".tmp") == 0, "no temporary file left after a write");
            CHECK(ckpt_read(path, &back, &err) == 0, "%s", err.msg);
            CHECK(same_ckpt(&c, &back), "%s %s round trip bit for bit", vae ? "vae" : "ae",
                  config_optimizer_name(opts[i]));
            CHECK(back.kind == (vae ? MODEL_VAE : MODEL_AE), "kind read back");
            struct stat st;
            /* H = 112 + 40 L; a vae's unfinished epoch keeps T KL sums too */
            size_t want = hdr_len(m.n_layers) +
                          4 * m.n_params * (size_t)(1 + ckpt_state_count(opts[i])) +
                          4 * (size_t)i * (vae ? 2 : 1) + 4;
            CHECK(stat(path, &st) == 0 && (size_t)st.st_size == want,
                  "%s %s file size %lld, want %zu", vae ? "vae" : "ae",
                  config_optimizer_name(opts[i]), (long long)st.st_size, want);
            ckpt_free(&c);
            ckpt_free(&back);
            ckpt_free(&back); /* twice is harmless */
        }
    }
    ConfigNet m;
    shape_of(&m, (const char *const[]){"model.encoder=20,10", "model.latent=3", NULL});

    /* A failed write names the path, returns -1 and leaves nothing. */
    Ckpt c;
    Err err = {{0}};
    make_ckpt(&c, &m, OPT_ADAM, 9);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/missing/model.ckpt", dir);
    CHECK(ckpt_write(bad, &c, &err) == -1, "write into a missing folder");
    CHECK_CONTAINS(err.msg, bad);
    snprintf(bad, sizeof bad, "%s/missing", dir);
    CHECK(access(bad, F_OK) != 0, "nothing created for a failed write");
    CHECK(test_count(dir, ".tmp") == 0, "no temporary file left after a failed write");

    /* Inconsistent input is refused before anything is written. */
    snprintf(bad, sizeof bad, "%s/inconsistent.ckpt", dir);
    c.n_params++;
    CHECK(ckpt_write(bad, &c, &err) == -1, "n_params that does not match dims");
    CHECK_CONTAINS(err.msg, "n_params");
    c.n_params--;
    float *v = c.v;
    c.v = NULL;
    CHECK(ckpt_write(bad, &c, &err) == -1, "adam without v");
    CHECK_CONTAINS(err.msg, "adam v is missing");
    c.v = v;
    CHECK(access(bad, F_OK) != 0 && test_count(dir, ".tmp") == 0, "refused writes leave nothing");
    ckpt_free(&c);
    /* a vae stopped mid-epoch needs its KL sums */
    ConfigNet mv;
    shape_of(&mv, (const char *const[]){"model.latent=3", "model.encoder=8", "model.kind=vae",
                                        NULL});
    make_ckpt(&c, &mv, OPT_SGD, 2);
    free(c.step_kl);
    c.step_kl = NULL;
    CHECK(ckpt_write(bad, &c, &err) == -1, "vae without step_kl");
    CHECK_CONTAINS(err.msg, "step_kl is missing");
    c.kind = MODEL_AE; /* the same parameters are too many for an ae */
    CHECK(ckpt_write(bad, &c, &err) == -1, "vae parameters as an ae");
    CHECK_CONTAINS(err.msg, "n_params");
    ckpt_free(&c);
    Ckpt zero;
    memset(&zero, 0, sizeof zero);
    ckpt_free(&zero);
    ckpt_free(NULL);
}

/* A conv network's checkpoint: its layer list round-trips exactly, kinds,
 * geometry and maps, and the file is the layout's size. */
static void check_conv_round_trip(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/conv.ckpt", dir);
    for (int vae = 0; vae < 2; vae++) {
        ConfigNet m;
        shape_in(&m, MNIST_SHAPE,
                 (const char *const[]){CONV_156[0], vae ? "model.kind=vae" : "model.kind=ae", NULL});
        /* 16*1*9+16 + 32*16*9+32 + 1568*2K+2K + 2*1568+1568 + 32*16*9+16 + 16*1*9+1 */
        size_t want_p = 160 + 4640 + (size_t)1568 * (vae ? 4 : 2) + (vae ? 4 : 2) + 3136 + 1568 +
                        4624 + 145;
        CHECK(m.n_params == want_p, "conv-156 %s: %zu parameters, want %zu", vae ? "vae" : "ae",
              m.n_params, want_p);
        Ckpt c, back;
        Err err = {{0}};
        make_ckpt(&c, &m, OPT_ADAM, 2);
        CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
        CHECK(ckpt_read(path, &back, &err) == 0, "%s", err.msg);
        CHECK(same_ckpt(&c, &back) && back.version == 3, "conv round trip");
        int same = back.input.c == 1 && back.input.h == 28 && back.input.w == 28;
        for (int l = 0; l < m.n_layers; l++)
            same &= memcmp(&back.layer[l], &m.layer[l], sizeof m.layer[l]) == 0;
        CHECK(same, "layer list read back as written");
        CHECK(back.layer[0].kind == LAYER_CONV && back.layer[4].kind == LAYER_DECONV &&
                  back.layer[4].op_h == 1 && back.layer[5].op_w == 1,
              "conv, deconv and output paddings");
        CHECK(ckpt_check_shape(&back, &m, OPT_ADAM, path, &err) == 0, "%s", err.msg);
        struct stat st;
        size_t want = hdr_len(m.n_layers) + 4 * m.n_params * 3 + 4 * 2 * (vae ? 2 : 1) + 4;
        CHECK(stat(path, &st) == 0 && (size_t)st.st_size == want, "conv file size %lld, want %zu",
              (long long)st.st_size, want);
        ckpt_free(&c);
        ckpt_free(&back);
    }
}

/* The layers of a dense network on vectors, from its dims. */
static void dense_layers(ConfigNet *m)
{
    m->input = (Shape3){m->dims[0], 1, 1};
    for (int l = 0; l < m->n_layers; l++) {
        memset(&m->layer[l], 0, sizeof m->layer[l]);
        m->layer[l].in = (Shape3){m->dims[l], 1, 1};
        m->layer[l].out = (Shape3){m->dims[l + 1], 1, 1};
    }
}

/* 3-2-3, the smallest autoencoder: P = 3*2+2 + 2*3+3 = 17, H = 112 + 80 =
 * 192; as a vae the encoder has 2 x 2 outputs: P = 3*4+4 + 2*3+3 = 25. */
static void tiny_kind(Ckpt *c, Optimizer opt, ModelKind kind)
{
    ConfigNet m;
    memset(&m, 0, sizeof m);
    m.n_layers = 2;
    m.dims[0] = 3, m.dims[1] = 2, m.dims[2] = 3;
    m.act[0] = ACT_LINEAR, m.act[1] = ACT_SIGMOID;
    dense_layers(&m);
    m.latent = 1;
    m.loss = LOSS_BCE;
    m.kind = kind;
    m.n_params = kind == MODEL_VAE ? 25 : 17;
    make_ckpt(c, &m, opt, 0);
    c->step = 0x0102030405060708L;
    c->epoch = 0x0a0b0c0d;
    c->params[0] = 1.0f;        /* 00 00 80 3f */
    if (c->m) c->m[0] = -2.0f;  /* 00 00 00 c0 */
    if (c->v) c->v[16] = 0.5f;  /* 00 00 00 3f, the last float (of an ae) */
}

static void tiny(Ckpt *c, Optimizer opt) { tiny_kind(c, opt, MODEL_AE); }

static void check_layout(void)
{
    Ckpt c;
    Err err = {{0}};
    tiny(&c, OPT_ADAM);
    char path[4200];
    snprintf(path, sizeof path, "%s/tiny.ckpt", dir);
    CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
    size_t len = 0;
    unsigned char *b = (unsigned char *)test_slurp(path, &len);
    enum { H = 192, P = 17, SIZE = H + 4 * P * 3 + 4 };
    CHECK(b && len == SIZE, "tiny adam checkpoint is %d bytes (got %zu)", SIZE, len);
    if (b && len == SIZE) {
        static const unsigned char one[4] = {0, 0, 0x80, 0x3f}, m2[4] = {0, 0, 0, 0xc0},
                                   half[4] = {0, 0, 0, 0x3f};
        static const unsigned char step[8] = {8, 7, 6, 5, 4, 3, 2, 1};
        CHECK(memcmp(b, "CLAECKPT", 8) == 0, "magic at 0");
        CHECK(b[8] == 3 && b[9] == 0 && b[10] == 0 && b[11] == 0, "version 3 LE at 8");
        CHECK(le32(b + 12) == H, "header length %u at 12", le32(b + 12));
        CHECK(le32(b + 16) == 2, "n_layers at 16");
        CHECK(le32(b + 20) == 1, "latent at 20");
        CHECK(le32(b + 24) == 1, "loss bce = 1 at 24");
        CHECK(le32(b + 28) == 0, "optimizer adam = 0 at 28");
        CHECK(le32(b + 32) == 2, "2 state arrays at 32");
        CHECK(b[36] == 0x0d && b[37] == 0x0c && b[38] == 0x0b && b[39] == 0x0a, "epoch LE at 36");
        CHECK(memcmp(b + 40, step, 8) == 0, "step LE at 40");
        CHECK(b[48] == 0xef && b[55] == 0x01 && le32(b + 72) == 1 && le32(b + 76) == 0,
              "rng[0] and rng[3] LE at 48 and 72");
        CHECK(le32(b + 80) == P && le32(b + 84) == 0, "n_params u64 at 80");
        CHECK(le32(b + 88) == 0, "steps_in_epoch 0 at 88");
        CHECK(le32(b + 92) == 3 && le32(b + 96) == 2 && le32(b + 100) == 3, "dims at 92");
        CHECK(le32(b + 104) == 0 && le32(b + 108) == 3, "act linear, sigmoid at 104");
        CHECK(le32(b + 112) == 0, "kind ae = 0 at 112 = 96 + 8 L");
        CHECK(le32(b + 116) == 3 && le32(b + 120) == 1 && le32(b + 124) == 1,
              "input 3x1x1 at 116 = 100 + 8 L");
        /* the layers from 128 = 112 + 8 L, 32 bytes each: kind, out C H W, K, S, op_h, op_w */
        CHECK(le32(b + 128) == 0 && le32(b + 132) == 2 && le32(b + 136) == 1 &&
                  le32(b + 140) == 1 && le32(b + 144) == 0 && le32(b + 156) == 0,
              "layer 1: dense to 2x1x1 at 128");
        CHECK(le32(b + 160) == 0 && le32(b + 164) == 3, "layer 2: dense to 3x1x1 at 160");
        CHECK(memcmp(b + H, one, 4) == 0, "params[0] = 1.0f at H = %d", H);
        CHECK(memcmp(b + H + 4 * P, m2, 4) == 0, "m[0] = -2.0f at H + 4P");
        CHECK(memcmp(b + H + 8 * P + 4 * 16, half, 4) == 0, "v[16] = 0.5f at H + 8P + 64");
        CHECK(le32(b + SIZE - 4) == (uint32_t)crc32(0L, b, SIZE - 4),
              "CRC-32 of the rest at the end");
    }
    free(b);
    ckpt_free(&c);

    /* sgd stores no state arrays. */
    tiny(&c, OPT_SGD);
    CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
    b = (unsigned char *)test_slurp(path, &len);
    CHECK(b && len == H + 4 * P + 4 && le32(b + 28) == 1 && le32(b + 32) == 0,
          "tiny sgd checkpoint: %zu bytes, optimizer 1, no state", len);
    free(b);
    ckpt_free(&c);

    /* a vae: kind 1, 25 parameters (the encoder's 4 outputs), and mid-epoch the KL sums
     * after the reconstruction sums */
    enum { PV = 25, T = 2 };
    ConfigNet mv;
    memset(&mv, 0, sizeof mv);
    mv.n_layers = 2;
    mv.dims[0] = 3, mv.dims[1] = 2, mv.dims[2] = 3;
    mv.act[0] = ACT_LINEAR, mv.act[1] = ACT_SIGMOID;
    dense_layers(&mv);
    mv.latent = 1;
    mv.loss = LOSS_BCE;
    mv.kind = MODEL_VAE;
    mv.n_params = PV;
    make_ckpt(&c, &mv, OPT_SGD, T);
    c.params[24] = 1.0f;
    c.step_sums[1] = 0.5f;
    c.step_kl[0] = -2.0f;
    CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
    b = (unsigned char *)test_slurp(path, &len);
    enum { VSIZE = H + 4 * PV + 4 * T * 2 + 4 };
    CHECK(b && len == VSIZE, "tiny vae sgd checkpoint with T = 2 is %d bytes (got %zu)", VSIZE,
          len);
    if (b && len == VSIZE) {
        static const unsigned char one[4] = {0, 0, 0x80, 0x3f}, m2[4] = {0, 0, 0, 0xc0},
                                   half[4] = {0, 0, 0, 0x3f};
        CHECK(le32(b + 112) == 1, "kind vae = 1 at 112");
        CHECK(le32(b + 80) == PV && le32(b + 88) == T, "n_params 25, steps_in_epoch 2");
        CHECK(memcmp(b + H + 4 * 24, one, 4) == 0, "params[24] = 1.0f, the last parameter");
        CHECK(memcmp(b + H + 4 * PV + 4, half, 4) == 0, "step_sums[1] = 0.5f at H + 4P + 4");
        CHECK(memcmp(b + H + 4 * PV + 4 * T, m2, 4) == 0, "step_kl[0] = -2.0f at H + 4P + 4T");
        CHECK(le32(b + VSIZE - 4) == (uint32_t)crc32(0L, b, VSIZE - 4), "CRC-32 at the end");
    }
    free(b);
    ckpt_free(&c);
}

/* Version 1 and 2 files: the version 3 file of a dense ae without the
 * input shape and layer list (version 2: header 100 + 8 L), and without
 * its kind field too (version 1: 96 + 8 L). Each reads as the same
 * checkpoint, an ae of dense layers on vectors; a version 1 file cannot
 * hold a vae's parameters. */
static void check_old_versions(void)
{
    char path[4200], old[4200];
    snprintf(path, sizeof path, "%s/v3.ckpt", dir);
    snprintf(old, sizeof old, "%s/old.ckpt", dir);
    for (int sums = 0; sums < 2; sums++) {
        ConfigNet m;
        shape_of(&m, (const char *const[]){"model.encoder=7", "model.latent=2", NULL});
        Ckpt c, back;
        Err err = {{0}};
        make_ckpt(&c, &m, OPT_ADAM, sums ? 3 : 0);
        CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
        size_t len = 0;
        unsigned char *b = (unsigned char *)test_slurp(path, &len);
        if (!b) return;
        size_t kind_at = 96 + 8 * (size_t)m.n_layers, extra = 12 + 32 * (size_t)m.n_layers;
        CHECK(le32(b + 12) == kind_at + 4 + extra && le32(b + kind_at) == 0,
              "v3: kind at 96 + 8 L, the layers after it");
        /* version 2: no input shape, no layer list */
        memmove(b + kind_at + 4, b + kind_at + 4 + extra, len - kind_at - 4 - extra);
        len -= extra;
        set_le32(b + 8, 2);
        set_le32(b + 12, (uint32_t)kind_at + 4);
        fix_crc(b, len);
        test_spit(old, b, len);
        CHECK(ckpt_read(old, &back, &err) == 0, "version 2 file reads: %s", err.msg);
        CHECK(same_ckpt(&c, &back) && back.kind == MODEL_AE && back.version == 2 &&
                  back.input.c == 784 && back.input.h == 1 && back.layer[1].kind == LAYER_DENSE &&
                  back.layer[1].out.c == 2,
              "version 2 file%s reads as the same dense ae on vectors",
              sums ? " stopped mid-epoch" : "");
        ckpt_free(&back);
        /* version 1: no kind either */
        memmove(b + kind_at, b + kind_at + 4, len - kind_at - 4);
        len -= 4;
        set_le32(b + 8, 1);
        set_le32(b + 12, (uint32_t)kind_at);
        fix_crc(b, len);
        test_spit(old, b, len);
        CHECK(ckpt_read(old, &back, &err) == 0, "version 1 file reads: %s", err.msg);
        CHECK(same_ckpt(&c, &back) && back.kind == MODEL_AE && back.version == 1,
              "version 1 file%s reads as the same ae checkpoint",
              sums ? " stopped mid-epoch" : "");
        ckpt_free(&back);
        if (sums) {
            /* claiming a vae's parameter count in a version 1 file */
            set_le32(b + 80, (uint32_t)(c.n_params + 7 * 2 + 2));
            fix_crc(b, len);
            test_spit(old, b, len);
            CHECK(ckpt_read(old, &back, &err) == -1, "v1 with a vae's n_params");
            CHECK_CONTAINS(err.msg, "of an ae");
            /* a version 1 header length in a version 2 file */
            set_le32(b + 8, 2);
            set_le32(b + 80, (uint32_t)c.n_params);
            fix_crc(b, len);
            test_spit(old, b, len);
            CHECK(ckpt_read(old, &back, &err) == -1, "v2 with a v1 header length");
            CHECK_CONTAINS(err.msg, "header length");
        }
        free(b);
        ckpt_free(&c);
    }
}

/* Reads path expecting failure with `needle` in the message and nothing in c. */
static void expect_fail(const char *path, const char *needle, const char *what)
{
    Ckpt c;
    Err err = {{0}};
    c.params = (float *)&c; /* must be cleared, not freed */
    int rc = ckpt_read(path, &c, &err);
    CHECK(rc == -1 && c.params == NULL && c.m == NULL && c.n_layers == 0, "%s is an error", what);
    if (rc == 0) ckpt_free(&c);
    if (needle) CHECK_CONTAINS(err.msg, needle);
    CHECK_CONTAINS(err.msg, path);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
}

static void check_damage(void)
{
    Ckpt c;
    Err err = {{0}};
    tiny(&c, OPT_ADAM);
    char path[4200], bad[4200];
    snprintf(path, sizeof path, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    CHECK(ckpt_write(path, &c, &err) == 0, "%s", err.msg);
    ckpt_free(&c);
    size_t len = 0;
    unsigned char *b = (unsigned char *)test_slurp(path, &len);
    if (!b) return;

    int truncs = 0;
    for (size_t n = 0; n < len; n++) {
        test_spit(bad, b, n);
        Ckpt t;
        int rc = ckpt_read(bad, &t, &err);
        truncs += rc == -1 && t.params == NULL;
        if (rc == 0) ckpt_free(&t);
    }
    CHECK(truncs == (int)len, "every truncation 0..%zu is an error (%d were)", len - 1, truncs);
    test_spit(bad, b, len - 1);
    expect_fail(bad, "truncated: expected 400 bytes, the file has 399", "one byte short");
    test_spit(bad, b, 50);
    expect_fail(bad, "truncated: expected at least 92 bytes, the file has 50", "half a header");
    test_spit(bad, b, 0);
    expect_fail(bad, "truncated", "empty file");

    int flips = 0;
    for (size_t i = 0; i < len * 8; i++) {
        b[i / 8] ^= (unsigned char)(1u << (i % 8));
        test_spit(bad, b, len);
        b[i / 8] ^= (unsigned char)(1u << (i % 8));
        Ckpt t;
        int rc = ckpt_read(bad, &t, &err);
        flips += rc == -1 && t.params == NULL;
        if (rc == 0) ckpt_free(&t);
    }
    CHECK(flips == (int)len * 8, "every flipped bit is an error (%d of %zu were)", flips, len * 8);
    b[200] ^= 0x10;
    test_spit(bad, b, len);
    expect_fail(bad, "corrupt", "a flipped bit in the parameters");
    b[200] ^= 0x10;

    b[3] = 'X';
    test_spit(bad, b, len);
    expect_fail(bad, "not a clae checkpoint", "wrong magic");
    b[3] = 'E';
    test_spit(bad, (const unsigned char *)"PK", 2);
    expect_fail(bad, "not a clae checkpoint", "two bytes of something else");
    set_le32(b + 8, 4);
    test_spit(bad, b, len);
    expect_fail(bad, "unsupported checkpoint format version 4 (this clae reads versions 1 to 3)",
                "version 4");
    set_le32(b + 8, 0);
    test_spit(bad, b, len);
    expect_fail(bad, "unsupported checkpoint format version 0", "version 0");
    set_le32(b + 8, 3);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, b, len);
    longer[len] = 0;
    test_spit(bad, longer, len + 1);
    expect_fail(bad, "trailing bytes after the checkpoint: expected 400 bytes, the file has 401",
                "a trailing byte");
    free(longer);
    snprintf(bad, sizeof bad, "%s/no-such.ckpt", dir);
    expect_fail(bad, "cannot open", "a missing file");
    expect_fail(dir, "not a regular file", "a folder");
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);

    /* Absurd header values with a valid CRC: the header checks catch them. */
    const struct { size_t off; uint32_t value; const char *msg; } cases[] = {
        {16, 0, "n_layers 0 is out of range 2..34"},
        {16, 35, "n_layers 35 is out of range 2..34"},
        {12, 193, "header length 193 does not match n_layers 2 (expected 192)"},
        {12, 116, "header length 116 does not match n_layers 2 (expected 192)"},
        {112, 2, "model kind 2 is not one of 0 (ae), 1 (vae)"},
        {112, 1, "n_params 17 does not match layer sizes 3-2-3 of a vae (25 weights and biases)"},
        {92, 0, "dims[0] = 0 is out of range"},
        {96, 0x7fffffff, "dims[1] = 2147483647 is out of range"},
        {100, 4, "output size 4 differs from input size 3"},
        {88, 0x40000001u, "steps_in_epoch 1073741825 is out of range"},
        {108, 5, "activation 5 of layer 2 is not one of 0..4"},
        {20, 0, "latent index 0 is out of range 1..1"},
        {20, 2, "latent index 2 is out of range 1..1"},
        {24, 2, "loss 2 is not one of 0..1"},
        {28, 3, "optimizer 3 is not one of 0..2"},
        {28, 1, "2 optimizer state arrays, but sgd keeps 0"},
        {32, 1, "1 optimizer state arrays, but adam keeps 2"},
        {36, 0x80000000u, "epoch 2147483648 is out of range"},
        {44, 0x80000000u, "step 9223372036"},
        {80, 18, "n_params 18 does not match layer sizes 3-2-3 of an ae (17 weights and biases)"},
        {84, 1, "n_params 4294967313 does not match"},
        /* version 3's input shape and layer list */
        {116, 0, "input shape 0x1x1 is out of range"},
        {116, 4, "input shape 4x1x1 does not hold dims[0] = 3 values"},
        {120, 3, "input shape 3x3x1 does not hold dims[0] = 3 values"},
        {128, 3, "layer 1 has kind 3, not one of 0 (dense), 1 (conv), 2 (deconv)"},
        {128, 1, "layer 1: conv kernel 0, stride 0: expected an odd kernel 1..31"},
        {144, 3, "layer 1: a dense layer has a kernel, stride or padding"},
        {132, 1, "layer 1's output 1x1x1 does not hold dims[1] = 2 values"},
        {140, 0x01000001u, "layer 1: field 3 = 16777217 is out of range"},
        {164, 1, "layer 2's output 1x1x1 does not hold dims[2] = 3 values"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char saved[4];
        memcpy(saved, b + cases[i].off, 4);
        set_le32(b + cases[i].off, cases[i].value);
        fix_crc(b, len);
        test_spit(bad, b, len);
        expect_fail(bad, cases[i].msg, cases[i].msg);
        memcpy(b + cases[i].off, saved, 4);
    }
    fix_crc(b, len);
    test_spit(bad, b, len);
    CHECK(ckpt_read(bad, &c, &err) == 0, "restored file reads again: %s", err.msg);
    ckpt_free(&c);
    free(b);
}

static void check_shape(void)
{
    ConfigNet want, other;
    shape_of(&want, NULL);
    Ckpt c;
    Err err = {{0}};
    make_ckpt(&c, &want, OPT_ADAM, 0);
    const char *path = "run/model.ckpt";
    CHECK(ckpt_check_shape(&c, &want, OPT_ADAM, path, &err) == 0, "same shape: %s", err.msg);

    shape_of(&other, (const char *const[]){"model.encoder=256", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other layer sizes");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: layer sizes 784-500-300-2-300-500-784 differ from "
                            "the config's 784-256-2-256-784");
    shape_of(&other, (const char *const[]){"model.latent=3", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other latent size");
    CHECK_CONTAINS(err.msg, "784-500-300-3-300-500-784");
    shape_of(&other, (const char *const[]){"model.activation=relu", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other activation");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: layer 1 (784-500) was trained with activation tanh, "
                            "the config says relu");
    shape_of(&other, (const char *const[]){"model.output=sigmoid", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other output");
    CHECK_CONTAINS(err.msg, "layer 6 (500-784) was trained with activation linear, the config "
                            "says sigmoid");
    shape_of(&other, (const char *const[]){"train.loss=bce", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other loss");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: was trained with loss mse, the config says bce");
    CHECK(ckpt_check_shape(&c, &want, OPT_SGD, path, &err) == -1, "other optimizer");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: was trained with adam, the config says sgd");
    /* the kind comes first, whatever else differs */
    shape_of(&other, (const char *const[]){"model.kind=vae", "model.encoder=256", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_SGD, path, &err) == -1, "an ae for a vae config");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: is a plain autoencoder ([model] kind = ae), the "
                            "config says [model] kind = vae");
    Ckpt cv;
    shape_of(&other, (const char *const[]){"model.kind=vae", NULL});
    make_ckpt(&cv, &other, OPT_ADAM, 0);
    CHECK(ckpt_check_shape(&cv, &other, OPT_ADAM, path, &err) == 0, "vae, same shape: %s",
          err.msg);
    CHECK(ckpt_check_shape(&cv, &want, OPT_ADAM, path, &err) == -1, "a vae for an ae config");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: is a variational autoencoder ([model] kind = vae), "
                            "the config says [model] kind = ae");
    ckpt_free(&cv);

    /* The default model's file, for the size quoted in docs/reliability.md. */
    char file[4200];
    snprintf(file, sizeof file, "%s/default.ckpt", dir);
    CHECK(ckpt_write(file, &c, &err) == 0, "%s", err.msg);
    struct stat st;
    CHECK(stat(file, &st) == 0 && st.st_size == 13051388,
          "default adam checkpoint is 13051388 bytes (got %lld)", (long long)st.st_size);
    Ckpt back;
    CHECK(ckpt_read(file, &back, &err) == 0, "%s", err.msg);
    CHECK(same_ckpt(&c, &back), "default model round trip");
    CHECK(ckpt_check_shape(&back, &want, OPT_ADAM, file, &err) == 0, "%s", err.msg);
    ckpt_free(&back);
    ckpt_free(&c);

    /* Networks with maps: the first layer that differs is named, with its maps. */
    Config cfg;
    config_defaults(&cfg);
    CHECK(config_set(&cfg, CONV_156[0], &err) == 0, "%s", err.msg);
    shape_in(&want, MNIST_SHAPE, CONV_156);
    make_ckpt(&c, &want, OPT_ADAM, 0);
    CHECK(ckpt_check_shape(&c, &want, OPT_ADAM, path, &err) == 0, "conv: %s", err.msg);
    shape_in(&other, MNIST_SHAPE, (const char *const[]){"model.encoder=conv:16:3:2,conv:64:3:2", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other filters");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: layer 2 is conv conv:32:3:2 (16x14x14 -> 32x7x7), "
                            "the config's is conv conv:64:3:2 (16x14x14 -> 64x7x7)");
    shape_in(&other, MNIST_SHAPE, (const char *const[]){"model.encoder=conv:16:5:2,conv:32:3:2", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "other kernel");
    CHECK_CONTAINS(err.msg, "layer 1 is conv conv:16:3:2 (1x28x28 -> 16x14x14), the config's is "
                            "conv conv:16:5:2");
    shape_in(&other, MNIST_SHAPE, (const char *const[]){"model.encoder=conv:16:3:2,conv:32:3:2,64", NULL});
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "one more layer");
    CHECK_CONTAINS(err.msg, "layer 3 is dense 2 (32x7x7 -> 2), the config's is dense 64 (32x7x7 -> 64)");
    shape_in(&other, MNIST_SHAPE, NULL); /* the dense default on the same images */
    CHECK(ckpt_check_shape(&c, &other, OPT_ADAM, path, &err) == -1, "dense config");
    CHECK_CONTAINS(err.msg, "layer 1 is conv conv:16:3:2 (1x28x28 -> 16x14x14), the config's is "
                            "dense 500 (1x28x28 -> 500)");
    /* the input shape to build with: the checkpoint's; a dense one refuses conv layers */
    Shape3 in;
    CHECK(ckpt_input(&c, &cfg, path, &in, &err) == 0 && in.c == 1 && in.h == 28 && in.w == 28,
          "conv checkpoint's input: %s", err.msg);
    ckpt_free(&c);
    make_ckpt(&c, &other, OPT_ADAM, 0);
    CHECK(ckpt_input(&c, &cfg, path, &in, &err) == -1, "a dense checkpoint for a conv config");
    CHECK_CONTAINS(err.msg, "run/model.ckpt: holds a dense network (784-500-300-2-300-500-784), "
                            "but the config's [model] encoder = conv:16:3:2,conv:32:3:2 has conv "
                            "layers");
    ckpt_free(&c);
}

int main(void)
{
    test_tmpdir(dir, sizeof dir, "ckpt");
    check_round_trip();
    check_conv_round_trip();
    check_layout();
    check_old_versions();
    check_damage();
    check_shape();
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_ckpt");
}
