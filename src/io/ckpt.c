/* ckpt: see ckpt.h for the format. Every field goes through put_/get_
 * helpers byte by byte, so the file is the same on any host. */
#define _POSIX_C_SOURCE 200809L
#include "ckpt.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* The file stores these numbers; a reordered enum must not change what an
 * old checkpoint means. Adding a value at the end needs its *_COUNT here. */
_Static_assert(ACT_LINEAR == 0 && ACT_TANH == 1 && ACT_RELU == 2 && ACT_SIGMOID == 3 &&
                   ACT_LEAKY_RELU == 4,
               "Activation numbers are part of the checkpoint format");
_Static_assert(OPT_ADAM == 0 && OPT_SGD == 1 && OPT_MOMENTUM == 2,
               "Optimizer numbers are part of the checkpoint format");
_Static_assert(LOSS_MSE == 0 && LOSS_BCE == 1, "Loss numbers are part of the checkpoint format");
_Static_assert(MODEL_AE == 0 && MODEL_VAE == 1, "ModelKind numbers are part of the checkpoint format");
_Static_assert(sizeof(float) == 4 && FLT_MANT_DIG == 24 && FLT_MAX_EXP == 128,
               "parameters are stored as IEEE-754 binary32");
#define ACT_COUNT 5
#define OPT_COUNT 3
#define LOSS_COUNT 2
#define KIND_COUNT 2

#define HDR_FIXED 92                                 /* bytes before dims */
#define LAY_FIELDS 8 /* version 3, per layer: kind, out C H W, K, S, op_h, op_w */
/* H in ckpt.h's table: version 2 adds the kind after the activations,
 * version 3 the input's shape and the layers after the kind. */
#define HDR_LEN(L, version)                                                                   \
    ((version) >= 3 ? 112u + 40u * (uint32_t)(L)                                              \
                    : 96u + 8u * (uint32_t)(L) + ((version) >= 2 ? 4u : 0u))
#define HDR_MAX HDR_LEN(CONFIG_MAX_LAYERS, CKPT_VERSION)
#define CHUNK 4096                                   /* floats per read/write */

/* The header as stored: raw unsigned values, so that a hostile file is judged
 * before any of it becomes an int. */
typedef struct {
    uint32_t version, hdr_len, n_layers, latent, loss, optimizer, n_state, epoch, steps_in_epoch,
        kind;
    uint64_t step, rng[4], n_params;
    uint32_t dims[CONFIG_MAX_LAYERS + 1], act[CONFIG_MAX_LAYERS];
    uint32_t in[3];                             /* the input's C, H, W */
    uint32_t lay[CONFIG_MAX_LAYERS][LAY_FIELDS]; /* per layer, as LAY_FIELDS says */
} Header;

static void put_u32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

int ckpt_state_count(Optimizer o)
{
    return o == OPT_ADAM ? 2 : o == OPT_MOMENTUM ? 1 : 0;
}

/* "784-500-2-500-784" into buf. */
static void format_dims(const uint32_t *dims, int n_layers, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int l = 0; l <= n_layers && at < len; l++) {
        int k = snprintf(buf + at, len - at, l ? "-%u" : "%u", (unsigned)dims[l]);
        if (k < 0) break;
        at += (size_t)k;
    }
}

/* The layers a header describes (checked raw values: every one is at most
 * CKPT_MAX_DIM, so each fits an int). */
static void header_layers(const Header *h, NetLayer *layers, Shape3 *input)
{
    *input = (Shape3){(int)h->in[0], (int)h->in[1], (int)h->in[2]};
    for (uint32_t l = 0; l < h->n_layers; l++) {
        const uint32_t *f = h->lay[l];
        NetLayer *nl = &layers[l];
        memset(nl, 0, sizeof *nl);
        nl->kind = (LayerKind)f[0];
        nl->in = l == 0 ? *input : layers[l - 1].out;
        nl->out = (Shape3){(int)f[1], (int)f[2], (int)f[3]};
        nl->k = (int)f[4];
        nl->s = (int)f[5];
        nl->pad = nl->k > 0 ? (nl->k - 1) / 2 : 0;
        nl->op_h = (int)f[6];
        nl->op_w = (int)f[7];
    }
}

/* Weights and biases of the layers for that kind (config_width: a vae's
 * encoder output is twice the latent size); no overflow since every size is
 * <= CKPT_MAX_DIM and every kernel <= LAYERS_KERNEL_MAX. */
static uint64_t count_params(const Header *h, const NetLayer *layers)
{
    uint64_t n = 0;
    for (uint32_t l = 0; l < h->n_layers; l++) {
        const NetLayer *nl = &layers[l];
        uint64_t w = (uint64_t)h->dims[l + 1] * (h->kind == MODEL_VAE && l + 1 == h->latent ? 2 : 1);
        if (nl->kind == LAYER_DENSE) n += (uint64_t)h->dims[l] * w + w;
        else n += (uint64_t)nl->in.c * (uint64_t)nl->out.c * (uint64_t)nl->k * (uint64_t)nl->k +
                  (uint64_t)nl->out.c;
    }
    return n;
}

/* Version 1 and 2 files: every layer dense, on vectors of dims. */
static void header_dense(Header *h)
{
    h->in[0] = h->dims[0];
    h->in[1] = h->in[2] = 1;
    for (uint32_t l = 0; l < h->n_layers; l++) {
        memset(h->lay[l], 0, sizeof h->lay[l]);
        h->lay[l][1] = h->dims[l + 1];
        h->lay[l][2] = h->lay[l][3] = 1;
    }
}

/* Formats a fault into why; returns -1 for header_check's returns. */
__attribute__((format(printf, 3, 4))) static int why_set(char *why, size_t len, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Judges every header value after the version; on a fault writes one phrase
 * to why and returns -1. Order: what later checks rely on comes first. */
static int header_check(const Header *h, char *why, size_t len)
{
    if (h->n_layers < 2 || h->n_layers > CONFIG_MAX_LAYERS)
        return why_set(why, len, "n_layers %u is out of range 2..%d", (unsigned)h->n_layers,
                        CONFIG_MAX_LAYERS);
    if (h->hdr_len != HDR_LEN(h->n_layers, h->version))
        return why_set(why, len, "header length %u does not match n_layers %u (expected %u)",
                        (unsigned)h->hdr_len, (unsigned)h->n_layers,
                        (unsigned)HDR_LEN(h->n_layers, h->version));
    for (uint32_t l = 0; l <= h->n_layers; l++)
        if (h->dims[l] < 1 || h->dims[l] > CKPT_MAX_DIM)
            return why_set(why, len, "layer size dims[%u] = %u is out of range 1..%d",
                            (unsigned)l, (unsigned)h->dims[l], CKPT_MAX_DIM);
    if (h->dims[h->n_layers] != h->dims[0])
        return why_set(why, len, "output size %u differs from input size %u",
                        (unsigned)h->dims[h->n_layers], (unsigned)h->dims[0]);
    for (uint32_t l = 0; l < h->n_layers; l++)
        if (h->act[l] >= ACT_COUNT)
            return why_set(why, len, "activation %u of layer %u is not one of 0..%d",
                            (unsigned)h->act[l], (unsigned)l + 1, ACT_COUNT - 1);
    if (h->latent < 1 || h->latent >= h->n_layers)
        return why_set(why, len, "latent index %u is out of range 1..%u", (unsigned)h->latent,
                        (unsigned)h->n_layers - 1);
    if (h->kind >= KIND_COUNT)
        return why_set(why, len, "model kind %u is not one of 0 (ae), 1 (vae)", (unsigned)h->kind);
    if (h->loss >= LOSS_COUNT)
        return why_set(why, len, "loss %u is not one of 0..%d", (unsigned)h->loss,
                        LOSS_COUNT - 1);
    if (h->optimizer >= OPT_COUNT)
        return why_set(why, len, "optimizer %u is not one of 0..%d", (unsigned)h->optimizer,
                        OPT_COUNT - 1);
    Optimizer o = (Optimizer)h->optimizer;
    if (h->n_state != (uint32_t)ckpt_state_count(o))
        return why_set(why, len, "%u optimizer state arrays, but %s keeps %d",
                        (unsigned)h->n_state, config_optimizer_name(o), ckpt_state_count(o));
    if (h->step > (uint64_t)LONG_MAX)
        return why_set(why, len, "step %llu is out of range", (unsigned long long)h->step);
    if (h->epoch > (uint32_t)INT_MAX)
        return why_set(why, len, "epoch %u is out of range", (unsigned)h->epoch);
    if (h->steps_in_epoch > CKPT_MAX_STEPS)
        return why_set(why, len, "steps_in_epoch %u is out of range 0..%d",
                        (unsigned)h->steps_in_epoch, CKPT_MAX_STEPS);
    /* The layers: each field bounded before it becomes an int, then each
     * layer against its kind's rule and the sizes above. */
    uint64_t in_size = (uint64_t)h->in[0] * h->in[1] * h->in[2];
    for (int i = 0; i < 3; i++)
        if (h->in[i] < 1 || h->in[i] > CKPT_MAX_DIM)
            return why_set(why, len, "input shape %ux%ux%u is out of range", (unsigned)h->in[0],
                            (unsigned)h->in[1], (unsigned)h->in[2]);
    if (in_size != h->dims[0])
        return why_set(why, len, "input shape %ux%ux%u does not hold dims[0] = %u values",
                        (unsigned)h->in[0], (unsigned)h->in[1], (unsigned)h->in[2],
                        (unsigned)h->dims[0]);
    for (uint32_t l = 0; l < h->n_layers; l++) {
        const uint32_t *f = h->lay[l];
        if (f[0] >= LAYER_KIND_COUNT)
            return why_set(why, len, "layer %u has kind %u, not one of 0 (dense), 1 (conv), 2 "
                            "(deconv)", (unsigned)l + 1, (unsigned)f[0]);
        for (int i = 1; i < LAY_FIELDS; i++)
            if (f[i] > CKPT_MAX_DIM)
                return why_set(why, len, "layer %u: field %d = %u is out of range",
                                (unsigned)l + 1, i, (unsigned)f[i]);
        if ((uint64_t)f[1] * f[2] * f[3] != h->dims[l + 1])
            return why_set(why, len, "layer %u's output %ux%ux%u does not hold dims[%u] = %u "
                            "values", (unsigned)l + 1, (unsigned)f[1], (unsigned)f[2],
                            (unsigned)f[3], (unsigned)l + 1, (unsigned)h->dims[l + 1]);
    }
    NetLayer layers[CONFIG_MAX_LAYERS];
    Shape3 input;
    header_layers(h, layers, &input);
    for (uint32_t l = 0; l < h->n_layers; l++) {
        char what[256];
        if (layers_check(&layers[l], what, sizeof what))
            return why_set(why, len, "layer %u: %s", (unsigned)l + 1, what);
    }
    /* The latent layer is dense: a vae's means and log-variances are a vector. */
    if (layers[h->latent - 1].kind != LAYER_DENSE)
        return why_set(why, len, "the latent layer %u is not dense", (unsigned)h->latent);
    const NetLayer *last = &layers[h->n_layers - 1];
    if (last->kind != LAYER_DENSE &&
        (last->out.c != input.c || last->out.h != input.h || last->out.w != input.w))
        return why_set(why, len, "the last layer's output %dx%dx%d is not the input's shape "
                        "%dx%dx%d", last->out.c, last->out.h, last->out.w, input.c, input.h,
                        input.w);
    uint64_t want = count_params(h, layers);
    if (h->n_params != want) {
        char d[16 * (CONFIG_MAX_LAYERS + 1)];
        format_dims(h->dims, (int)h->n_layers, d, sizeof d);
        return why_set(why, len, "n_params %llu does not match layer sizes %s of %s (%llu "
                        "weights and biases)", (unsigned long long)h->n_params, d,
                        h->kind == MODEL_VAE ? "a vae" : "an ae", (unsigned long long)want);
    }
    return 0;
}

/* The header of c as it would be stored; out-of-range ints become values
 * that header_check rejects. */
static void header_from_ckpt(const Ckpt *c, Header *h)
{
    memset(h, 0, sizeof *h);
    h->version = CKPT_VERSION;
    int L = c->n_layers;
    h->n_layers = L < 0 ? UINT32_MAX : (uint32_t)L;
    h->hdr_len = HDR_LEN(L < 0 || L > CONFIG_MAX_LAYERS ? 0 : L, CKPT_VERSION);
    for (int l = 0; l <= L && l <= CONFIG_MAX_LAYERS; l++)
        h->dims[l] = c->dims[l] < 0 ? 0 : (uint32_t)c->dims[l];
    for (int l = 0; l < L && l < CONFIG_MAX_LAYERS; l++)
        h->act[l] = (unsigned)c->act[l] >= ACT_COUNT ? UINT32_MAX : (uint32_t)c->act[l];
    h->latent = c->latent < 0 ? UINT32_MAX : (uint32_t)c->latent;
    h->loss = (unsigned)c->loss >= LOSS_COUNT ? UINT32_MAX : (uint32_t)c->loss;
    h->kind = (unsigned)c->kind >= KIND_COUNT ? UINT32_MAX : (uint32_t)c->kind;
    h->optimizer = (unsigned)c->optimizer >= OPT_COUNT ? UINT32_MAX : (uint32_t)c->optimizer;
    h->n_state = h->optimizer < OPT_COUNT ? (uint32_t)ckpt_state_count(c->optimizer) : 0;
    h->epoch = c->epoch < 0 ? UINT32_MAX : (uint32_t)c->epoch;
    h->step = c->step < 0 ? UINT64_MAX : (uint64_t)c->step;
    h->steps_in_epoch = c->steps_in_epoch < 0 ? UINT32_MAX : (uint32_t)c->steps_in_epoch;
    memcpy(h->rng, c->rng, sizeof h->rng);
    h->n_params = c->n_params;
    /* negative values become ones that header_check rejects */
    const int in[3] = {c->input.c, c->input.h, c->input.w};
    for (int i = 0; i < 3; i++) h->in[i] = in[i] < 0 ? UINT32_MAX : (uint32_t)in[i];
    for (int l = 0; l < L && l < CONFIG_MAX_LAYERS; l++) {
        const NetLayer *nl = &c->layer[l];
        const int f[LAY_FIELDS] = {(int)nl->kind, nl->out.c, nl->out.h, nl->out.w,
                                   nl->k,         nl->s,     nl->op_h,  nl->op_w};
        for (int i = 0; i < LAY_FIELDS; i++) h->lay[l][i] = f[i] < 0 ? UINT32_MAX : (uint32_t)f[i];
    }
}

/* Encodes h (already checked) into buf; returns its length H. */
static size_t header_encode(const Header *h, unsigned char *buf)
{
    memcpy(buf, CKPT_MAGIC, 8);
    put_u32(buf + 8, h->version);
    put_u32(buf + 12, h->hdr_len);
    put_u32(buf + 16, h->n_layers);
    put_u32(buf + 20, h->latent);
    put_u32(buf + 24, h->loss);
    put_u32(buf + 28, h->optimizer);
    put_u32(buf + 32, h->n_state);
    put_u32(buf + 36, h->epoch);
    put_u64(buf + 40, h->step);
    for (int i = 0; i < 4; i++) put_u64(buf + 48 + 8 * i, h->rng[i]);
    put_u64(buf + 80, h->n_params);
    put_u32(buf + 88, h->steps_in_epoch);
    unsigned char *p = buf + HDR_FIXED;
    for (uint32_t l = 0; l <= h->n_layers; l++, p += 4) put_u32(p, h->dims[l]);
    for (uint32_t l = 0; l < h->n_layers; l++, p += 4) put_u32(p, h->act[l]);
    put_u32(p, h->kind); /* version 2 */
    p += 4;
    for (int i = 0; i < 3; i++, p += 4) put_u32(p, h->in[i]); /* version 3 */
    for (uint32_t l = 0; l < h->n_layers; l++)
        for (int i = 0; i < LAY_FIELDS; i++, p += 4) put_u32(p, h->lay[l][i]);
    return (size_t)(p - buf);
}

/* Writes n floats little-endian, adding them to *crc. */
static int write_floats(FILE *f, const float *a, size_t n, uLong *crc)
{
    unsigned char buf[4 * CHUNK];
    for (size_t i = 0; i < n;) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, &a[i + j], 4);
            put_u32(buf + 4 * j, u);
        }
        *crc = crc32(*crc, buf, (uInt)(4 * k));
        if (fwrite(buf, 1, 4 * k, f) != 4 * k) return -1;
        i += k;
    }
    return 0;
}

int ckpt_write(const char *path, const Ckpt *c, Err *err)
{
    Header h;
    header_from_ckpt(c, &h);
    char why[512];
    if (header_check(&h, why, sizeof why))
        return err_set(err, "%s: cannot write this checkpoint: %s", path, why);
    const float *arrays[3] = {c->params, c->m, c->v};
    const char *names[3] = {"params", "m", "v"};
    int n_arrays = 1 + (int)h.n_state;
    for (int i = 0; i < n_arrays; i++)
        if (!arrays[i])
            return err_set(err, "%s: cannot write this checkpoint: %s %s is missing", path,
                           config_optimizer_name(c->optimizer), names[i]);
    if (h.steps_in_epoch && !c->step_sums)
        return err_set(err, "%s: cannot write this checkpoint: step_sums is missing", path);
    int with_kl = h.steps_in_epoch && h.kind == MODEL_VAE;
    if (with_kl && !c->step_kl)
        return err_set(err, "%s: cannot write this checkpoint: step_kl is missing", path);

    unsigned char hdr[HDR_MAX];
    size_t hlen = header_encode(&h, hdr);
    char tmp[4096];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, hdr, (uInt)hlen);
    int bad = fwrite(hdr, 1, hlen, f) != hlen;
    for (int i = 0; i < n_arrays && !bad; i++)
        bad = write_floats(f, arrays[i], c->n_params, &crc) != 0;
    if (!bad && h.steps_in_epoch)
        bad = write_floats(f, c->step_sums, h.steps_in_epoch, &crc) != 0;
    if (!bad && with_kl) bad = write_floats(f, c->step_kl, h.steps_in_epoch, &crc) != 0;
    unsigned char tail[4];
    put_u32(tail, (uint32_t)crc);
    if (!bad) bad = fwrite(tail, 1, 4, f) != 4;
    /* Without the fsync a crash soon after the rename can leave an empty or
     * partial file under the final name on some file systems. */
    if (!bad) bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (bad) {
        int e = errno;
        util_atomic_abort(f, tmp);
        return err_set(err, "%s: write failed: %s", path, strerror(e));
    }
    return util_atomic_commit(f, tmp, path, err);
}

/* Reads n floats little-endian into a, adding the bytes to *crc. */
static int read_floats(FILE *f, float *a, size_t n, uLong *crc)
{
    unsigned char buf[4 * CHUNK];
    for (size_t i = 0; i < n;) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        if (fread(buf, 1, 4 * k, f) != 4 * k) return -1;
        *crc = crc32(*crc, buf, (uInt)(4 * k));
        for (size_t j = 0; j < k; j++) {
            uint32_t u = get_u32(buf + 4 * j);
            memcpy(&a[i + j], &u, 4);
        }
        i += k;
    }
    return 0;
}

/* ckpt_read's body on an open file; c is freed by the caller on error. */
static int read_open(FILE *f, const char *path, Ckpt *c, Err *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return err_set(err, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return err_set(err, "%s: not a regular file", path);
    uint64_t size = (uint64_t)st.st_size;

    unsigned char hdr[HDR_MAX];
    size_t want = size < HDR_FIXED ? (size_t)size : HDR_FIXED;
    if (fread(hdr, 1, want, f) != want) return err_set(err, "%s: read failed", path);
    /* A short file that starts like a checkpoint is reported as truncated;
     * anything else without the magic is not ours. */
    if (memcmp(hdr, CKPT_MAGIC, want < 8 ? want : 8) != 0)
        return err_set(err, "%s: not a clae checkpoint (it does not start with \"%s\")", path,
                       CKPT_MAGIC);
    Header h;
    memset(&h, 0, sizeof h);
    if (want >= 12) {
        h.version = get_u32(hdr + 8);
        if (h.version < 1 || h.version > CKPT_VERSION)
            return err_set(err, "%s: unsupported checkpoint format version %u (this clae reads "
                           "versions 1 to %d)", path, (unsigned)h.version, CKPT_VERSION);
    }
    if (want < HDR_FIXED)
        return err_set(err, "%s: truncated: expected at least %d bytes, the file has %llu",
                       path, HDR_FIXED, (unsigned long long)size);
    h.hdr_len = get_u32(hdr + 12);
    h.n_layers = get_u32(hdr + 16);
    h.latent = get_u32(hdr + 20);
    h.loss = get_u32(hdr + 24);
    h.optimizer = get_u32(hdr + 28);
    h.n_state = get_u32(hdr + 32);
    h.epoch = get_u32(hdr + 36);
    h.step = get_u64(hdr + 40);
    for (int i = 0; i < 4; i++) h.rng[i] = get_u64(hdr + 48 + 8 * i);
    h.n_params = get_u64(hdr + 80);
    h.steps_in_epoch = get_u32(hdr + 88);
    if (h.n_layers < 2 || h.n_layers > CONFIG_MAX_LAYERS)
        return err_set(err, "%s: n_layers %u is out of range 2..%d", path,
                       (unsigned)h.n_layers, CONFIG_MAX_LAYERS);
    uint32_t hlen = HDR_LEN(h.n_layers, h.version);
    if (size < hlen)
        return err_set(err, "%s: truncated: expected at least %u bytes, the file has %llu",
                       path, (unsigned)hlen, (unsigned long long)size);
    if (fread(hdr + HDR_FIXED, 1, hlen - HDR_FIXED, f) != hlen - HDR_FIXED)
        return err_set(err, "%s: read failed", path);
    const unsigned char *p = hdr + HDR_FIXED;
    for (uint32_t l = 0; l <= h.n_layers; l++, p += 4) h.dims[l] = get_u32(p);
    for (uint32_t l = 0; l < h.n_layers; l++, p += 4) h.act[l] = get_u32(p);
    h.kind = h.version >= 2 ? get_u32(p) : MODEL_AE; /* version 1 knew only the ae */
    p += 4;
    if (h.version >= 3) {
        for (int i = 0; i < 3; i++, p += 4) h.in[i] = get_u32(p);
        for (uint32_t l = 0; l < h.n_layers; l++)
            for (int i = 0; i < LAY_FIELDS; i++, p += 4) h.lay[l][i] = get_u32(p);
    } else {
        header_dense(&h); /* before conv layers: dense, on vectors */
    }
    char why[512];
    if (header_check(&h, why, sizeof why)) return err_set(err, "%s: %s", path, why);

    /* The exact size is known now; checking it first bounds every
     * allocation below by the file's real size. */
    if (h.n_params > SIZE_MAX / (4 * 3))
        return err_set(err, "%s: %llu parameters are too many for this host", path,
                       (unsigned long long)h.n_params);
    int with_kl = h.steps_in_epoch && h.kind == MODEL_VAE;
    uint64_t body = 4 * h.n_params * (1 + (uint64_t)h.n_state) +
                    4 * (uint64_t)h.steps_in_epoch * (with_kl ? 2 : 1);
    uint64_t expect = hlen + body + 4;
    if (size < expect)
        return err_set(err, "%s: truncated: expected %llu bytes, the file has %llu", path,
                       (unsigned long long)expect, (unsigned long long)size);
    if (size > expect)
        return err_set(err, "%s: trailing bytes after the checkpoint: expected %llu bytes, the "
                       "file has %llu", path, (unsigned long long)expect,
                       (unsigned long long)size);

    c->n_layers = (int)h.n_layers;
    for (uint32_t l = 0; l <= h.n_layers; l++) c->dims[l] = (int)h.dims[l];
    for (uint32_t l = 0; l < h.n_layers; l++) c->act[l] = (Activation)h.act[l];
    c->latent = (int)h.latent;
    header_layers(&h, c->layer, &c->input);
    c->version = (int)h.version;
    c->loss = (Loss)h.loss;
    c->kind = (ModelKind)h.kind;
    c->optimizer = (Optimizer)h.optimizer;
    c->step = (long)h.step;
    c->epoch = (int)h.epoch;
    c->steps_in_epoch = (int)h.steps_in_epoch;
    memcpy(c->rng, h.rng, sizeof c->rng);
    c->n_params = (size_t)h.n_params;
    float **arrays[3] = {&c->params, &c->m, &c->v};
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, hdr, (uInt)hlen);
    for (uint32_t i = 0; i < 1 + h.n_state; i++) {
        if (!(*arrays[i] = util_malloc(c->n_params * sizeof(float), err)))
            return err_prefix(err, "%s", path);
        if (read_floats(f, *arrays[i], c->n_params, &crc))
            return err_set(err, "%s: read failed (did the file change while it was read?)", path);
    }
    float **sums[2] = {&c->step_sums, &c->step_kl};
    for (int i = 0; i < (with_kl ? 2 : h.steps_in_epoch ? 1 : 0); i++) {
        if (!(*sums[i] = util_malloc(h.steps_in_epoch * sizeof(float), err)))
            return err_prefix(err, "%s", path);
        if (read_floats(f, *sums[i], h.steps_in_epoch, &crc))
            return err_set(err, "%s: read failed (did the file change while it was read?)", path);
    }
    unsigned char tail[4];
    if (fread(tail, 1, 4, f) != 4) return err_set(err, "%s: read failed", path);
    uint32_t stored = get_u32(tail);
    if (stored != (uint32_t)crc)
        return err_set(err, "%s: corrupt: CRC-32 %08x stored, %08x computed over the contents",
                       path, (unsigned)stored, (unsigned)crc);
    return 0;
}

int ckpt_read(const char *path, Ckpt *c, Err *err)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = read_open(f, path, c, err);
    fclose(f);
    if (rc) ckpt_free(c);
    return rc;
}

void ckpt_free(Ckpt *c)
{
    if (!c) return;
    free(c->params);
    free(c->m);
    free(c->v);
    free(c->step_sums);
    free(c->step_kl);
    memset(c, 0, sizeof *c);
}

/* format_dims for int sizes (already known to be positive). */
static void format_int_dims(const int *dims, int n_layers, char *buf, size_t len)
{
    uint32_t u[CONFIG_MAX_LAYERS + 1];
    for (int l = 0; l <= n_layers && l <= CONFIG_MAX_LAYERS; l++) u[l] = (uint32_t)dims[l];
    format_dims(u, n_layers, buf, len);
}

/* 1 when a network has a conv or deconv layer. */
static int has_maps(const NetLayer *layers, int n)
{
    for (int l = 0; l < n; l++)
        if (layers[l].kind != LAYER_DENSE) return 1;
    return 0;
}

int ckpt_input(const Ckpt *c, const Config *cfg, const char *path, Shape3 *input, Err *err)
{
    int cfg_maps = layers_has_maps(cfg->encoder, cfg->n_encoder) ||
                   (!cfg->decoder_mirror && layers_has_maps(cfg->decoder, cfg->n_decoder));
    if (cfg_maps && !has_maps(c->layer, c->n_layers)) {
        char d[16 * (CONFIG_MAX_LAYERS + 1)], enc[CONFIG_STR];
        format_int_dims(c->dims, c->n_layers, d, sizeof d);
        layers_format(cfg->encoder, cfg->n_encoder, enc, sizeof enc);
        return err_set(err, "%s: holds a dense network (%s), but the config's [model] encoder = "
                            "%s has conv layers", path, d, enc);
    }
    *input = c->input;
    return 0;
}

/* "conv:32:3:2 (16x14x14 -> 32x7x7)" */
static void layer_desc(const NetLayer *l, char *buf, size_t len)
{
    char item[64], a[48], b[48];
    layers_layer_str(l, item, sizeof item);
    layers_shape_str(l->in, a, sizeof a);
    layers_shape_str(l->out, b, sizeof b);
    util_fmt(buf, len, "%s %s (%s -> %s)", layers_kind_name(l->kind), item, a, b);
}

int ckpt_check_shape(const Ckpt *c, const ConfigNet *want, Optimizer opt, const char *path,
                     Err *err)
{
    /* First: the other kind's parameters do not even have the same layout. */
    if (c->kind != want->kind)
        return err_set(err, "%s: is %s ([model] kind = %s), the config says [model] kind = %s",
                       path, c->kind == MODEL_VAE ? "a variational autoencoder" : "a plain autoencoder",
                       config_kind_name(c->kind), config_kind_name(want->kind));
    if (has_maps(c->layer, c->n_layers) || has_maps(want->layer, want->n_layers)) {
        /* Layer by layer, naming the first that differs. */
        int n = c->n_layers < want->n_layers ? c->n_layers : want->n_layers;
        for (int l = 0; l < n; l++)
            if (!layers_same(&c->layer[l], &want->layer[l])) {
                char a[160], b[160];
                layer_desc(&c->layer[l], a, sizeof a);
                layer_desc(&want->layer[l], b, sizeof b);
                return err_set(err, "%s: layer %d is %s, the config's is %s", path, l + 1, a, b);
            }
        if (c->n_layers != want->n_layers)
            return err_set(err, "%s: has %d layers, the config's network %d (the first %d agree)",
                           path, c->n_layers, want->n_layers, n);
    }
    int same = c->n_layers == want->n_layers;
    for (int l = 0; same && l <= c->n_layers; l++) same = c->dims[l] == want->dims[l];
    if (!same) {
        char a[16 * (CONFIG_MAX_LAYERS + 1)], b[16 * (CONFIG_MAX_LAYERS + 1)];
        format_int_dims(c->dims, c->n_layers, a, sizeof a);
        format_int_dims(want->dims, want->n_layers, b, sizeof b);
        return err_set(err, "%s: layer sizes %s differ from the config's %s", path, a, b);
    }
    /* Same sizes can still put the latent code elsewhere (e.g. 8-2-2-8). */
    if (c->latent != want->latent)
        return err_set(err, "%s: the latent code is dims[%d], the config's is dims[%d]", path,
                       c->latent, want->latent);
    for (int l = 0; l < c->n_layers; l++)
        if (c->act[l] != want->act[l])
            return err_set(err, "%s: layer %d (%d-%d) was trained with activation %s, the "
                           "config says %s", path, l + 1, c->dims[l], c->dims[l + 1],
                           config_activation_name(c->act[l]), config_activation_name(want->act[l]));
    if (c->loss != want->loss)
        return err_set(err, "%s: was trained with loss %s, the config says %s", path,
                       config_loss_name(c->loss), config_loss_name(want->loss));
    if (c->optimizer != opt)
        return err_set(err, "%s: was trained with %s, the config says %s", path,
                       config_optimizer_name(c->optimizer), config_optimizer_name(opt));
    return 0;
}
