/* layers: see layers.h. */
#include "layers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

static const char *const KIND_NAMES[LAYER_KIND_COUNT] = {"dense", "conv", "deconv"};

const char *layers_kind_name(LayerKind k)
{
    return (unsigned)k < LAYER_KIND_COUNT ? KIND_NAMES[k] : "?";
}

void layers_item_str(const LayerItem *it, char *buf, size_t len)
{
    switch (it->kind) {
    case LAYER_CONV: util_fmt(buf, len, "conv:%d:%d:%d", it->n, it->k, it->s); return;
    case LAYER_DECONV: util_fmt(buf, len, "deconv:%d:%d:%d:%d", it->n, it->k, it->s, it->op); return;
    case LAYER_DENSE: break;
    }
    util_fmt(buf, len, "%d", it->n);
}

void layers_format(const LayerItem *items, int n, char *buf, size_t len)
{
    if (len == 0) return;
    if (n == 0) {
        util_fmt(buf, len, "none");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        char item[64];
        layers_item_str(&items[i], item, sizeof item);
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", item);
        if (w < 0) break;
        used += (size_t)w;
    }
}

int layers_has_maps(const LayerItem *items, int n)
{
    for (int i = 0; i < n; i++)
        if (items[i].kind != LAYER_DENSE) return 1;
    return 0;
}

/* The numbers after "conv:" or "deconv:" in `fields` (colon-separated, blanks
 * around each allowed): exactly `want` whole numbers into v. */
static int split_fields(const char *fields, int want, long long *v)
{
    const char *p = fields;
    for (int i = 0; i < want; i++) {
        const char *colon = strchr(p, ':');
        const char *end = colon ? colon : p + strlen(p);
        if ((colon != NULL) != (i + 1 < want)) return -1; /* too few or too many */
        char num[24];
        if (parse_trimmed(num, sizeof num, p, end) || !parse_all_digits(num, num + strlen(num)) ||
            parse_whole(num, 0, 1e9, &v[i]))
            return -1;
        p = colon ? colon + 1 : end;
    }
    return 0;
}

/* One item (trimmed) of side into *it; on failure a note about it. */
static int parse_item(const char *item, LayersSide side, LayerItem *it, char *note, size_t len)
{
    memset(it, 0, sizeof *it);
    long long v[4];
    if (parse_all_digits(item, item + strlen(item))) {
        if (parse_whole(item, 1, LAYERS_WIDTH_MAX, &v[0])) {
            util_fmt(note, len, "'%s': a width must be 1..%d", item, LAYERS_WIDTH_MAX);
            return -1;
        }
        it->kind = LAYER_DENSE;
        it->n = (int)v[0];
        return 0;
    }
    int is_conv = strncasecmp(item, "conv:", 5) == 0;
    int is_deconv = strncasecmp(item, "deconv:", 7) == 0;
    if (!is_conv && !is_deconv) {
        util_fmt(note, len, "'%s' is not a layer: expected a width N or %s", item,
                 side == LAYERS_ENCODER ? "conv:F:K:S" : "deconv:F:K:S:OP");
        return -1;
    }
    if (is_conv && side == LAYERS_DECODER) {
        util_fmt(note, len, "'%s': the decoder takes transposed convolutions, deconv:F:K:S:OP, "
                            "not conv items", item);
        return -1;
    }
    if (is_deconv && side == LAYERS_ENCODER) {
        util_fmt(note, len, "'%s': the encoder takes convolutions, conv:F:K:S; deconv items "
                            "belong in [model] decoder", item);
        return -1;
    }
    int fields = is_conv ? 3 : 4;
    if (split_fields(item + (is_conv ? 5 : 7), fields, v)) {
        util_fmt(note, len, "'%s': expected %s, %d whole numbers after the colon", item,
                 is_conv ? "conv:F:K:S" : "deconv:F:K:S:OP", fields);
        return -1;
    }
    if (v[0] < 1 || v[0] > LAYERS_WIDTH_MAX) {
        util_fmt(note, len, "'%s': F, the output channels, must be 1..%d", item, LAYERS_WIDTH_MAX);
        return -1;
    }
    if (v[1] < 1 || v[1] > LAYERS_KERNEL_MAX || v[1] % 2 == 0) {
        util_fmt(note, len, "'%s': the kernel side K must be odd, 1..%d (the padding (K - 1) / 2 "
                            "centres it)", item, LAYERS_KERNEL_MAX);
        return -1;
    }
    if (v[2] < 1 || v[2] > LAYERS_STRIDE_MAX) {
        util_fmt(note, len, "'%s': the stride S must be 1..%d", item, LAYERS_STRIDE_MAX);
        return -1;
    }
    if (is_deconv && v[3] >= v[2]) {
        util_fmt(note, len, "'%s': the output padding OP must be below the stride S (0..%lld)",
                 item, v[2] - 1);
        return -1;
    }
    it->kind = is_conv ? LAYER_CONV : LAYER_DECONV;
    it->n = (int)v[0];
    it->k = (int)v[1];
    it->s = (int)v[2];
    it->op = is_deconv ? (int)v[3] : 0;
    return 0;
}

int layers_parse(const char *text, LayersSide side, LayerItem *items, int *n, char *note,
                 size_t note_len)
{
    LayerItem got[LAYERS_MAX_SIDE];
    int count = 0;
    if (*text && strcasecmp(text, "none") != 0) {
        for (const char *p = text;;) {
            const char *comma = strchr(p, ',');
            const char *end = comma ? comma : p + strlen(p);
            char item[64];
            if (parse_trimmed(item, sizeof item, p, end)) {
                util_fmt(note, note_len, "'%.*s...' is not a layer", 40, p);
                return -1;
            }
            if (!item[0]) {
                util_fmt(note, note_len, "item %d is empty", count + 1);
                return -1;
            }
            if (count == LAYERS_MAX_SIDE) {
                util_fmt(note, note_len, "more than %d layers", LAYERS_MAX_SIDE);
                return -1;
            }
            LayerItem *it = &got[count];
            if (parse_item(item, side, it, note, note_len)) return -1;
            /* The maps come before the vectors in the encoder, after them in
             * the decoder: a flatten (or unflatten) happens once. */
            if (count > 0) {
                const LayerItem *prev = &got[count - 1];
                char a[64];
                layers_item_str(prev, a, sizeof a);
                if (side == LAYERS_ENCODER && it->kind == LAYER_CONV && prev->kind == LAYER_DENSE) {
                    util_fmt(note, note_len, "'%s' comes after the width %s: conv items come "
                                             "first, then widths", item, a);
                    return -1;
                }
                if (side == LAYERS_DECODER && it->kind == LAYER_DENSE &&
                    prev->kind == LAYER_DECONV) {
                    util_fmt(note, note_len, "the width %s comes after '%s': widths come first, "
                                             "then deconv items", item, a);
                    return -1;
                }
            }
            count++;
            if (!comma) break;
            p = comma + 1;
        }
    }
    memcpy(items, got, (size_t)count * sizeof *got);
    *n = count;
    return 0;
}

size_t layers_size(Shape3 s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

void layers_shape_str(Shape3 s, char *buf, size_t len)
{
    if (s.h == 1 && s.w == 1) util_fmt(buf, len, "%d", s.c);
    else util_fmt(buf, len, "%dx%dx%d", s.c, s.h, s.w);
}

void layers_layer_str(const NetLayer *l, char *buf, size_t len)
{
    switch (l->kind) {
    case LAYER_CONV: util_fmt(buf, len, "conv:%d:%d:%d", l->out.c, l->k, l->s); return;
    case LAYER_DECONV:
        if (l->op_h == l->op_w)
            util_fmt(buf, len, "deconv:%d:%d:%d:%d", l->out.c, l->k, l->s, l->op_h);
        else
            util_fmt(buf, len, "deconv:%d:%d:%d:%d/%d", l->out.c, l->k, l->s, l->op_h, l->op_w);
        return;
    case LAYER_DENSE: break;
    }
    util_fmt(buf, len, "%zu", layers_size(l->out));
}

size_t layers_weights(const NetLayer *l, int width)
{
    size_t kk = (size_t)l->k * (size_t)l->k;
    switch (l->kind) {
    case LAYER_CONV:
    case LAYER_DECONV: return (size_t)l->in.c * (size_t)l->out.c * kk;
    case LAYER_DENSE: break;
    }
    return layers_size(l->in) * (size_t)width;
}

size_t layers_biases(const NetLayer *l, int width)
{
    return l->kind == LAYER_DENSE ? (size_t)width : (size_t)l->out.c;
}

void layers_fans(const NetLayer *l, int width, double *fan_in, double *fan_out)
{
    double kk = (double)l->k * (double)l->k;
    switch (l->kind) {
    case LAYER_CONV:
        *fan_in = l->in.c * kk;
        *fan_out = l->out.c * kk;
        return;
    case LAYER_DECONV:
        /* PyTorch reads a weight's dim 1 as its inputs: for nn.ConvTranspose2d,
         * whose weight is (C_in, C_out, K, K), that is the output channels. */
        *fan_in = l->out.c * kk;
        *fan_out = l->in.c * kk;
        return;
    case LAYER_DENSE: break;
    }
    *fan_in = (double)layers_size(l->in);
    *fan_out = width;
}

/* ---- building a network --------------------------------------------------- */

/* A vector of n values. */
static Shape3 vec(size_t n)
{
    return (Shape3){(int)n, 1, 1};
}

static int conv_side(int in, int k, int s)
{
    int pad = (k - 1) / 2;
    return (in + 2 * pad - k) / s + 1;
}

static int deconv_side(int in, int k, int s, int op)
{
    int pad = (k - 1) / 2;
    return (in - 1) * s - 2 * pad + k + op;
}

/* Appends a layer to the network being built. */
typedef struct {
    NetLayer *layers;
    int n;
    Err *err;
} Build;

static NetLayer *push(Build *b, LayerKind kind, Shape3 in, Shape3 out)
{
    if (b->n == LAYERS_MAX) {
        err_set(b->err, "[model] encoder, latent and decoder give more than %d layers",
                LAYERS_MAX);
        return NULL;
    }
    NetLayer *l = &b->layers[b->n++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->in = in;
    l->out = out;
    return l;
}

/* A conv of item it on map in; the map it gives in *out. */
static int push_conv(Build *b, const LayerItem *it, Shape3 in, Shape3 *out)
{
    Shape3 o = {it->n, conv_side(in.h, it->k, it->s), conv_side(in.w, it->k, it->s)};
    /* With the padding (K - 1) / 2 the padded input is never smaller than
     * the kernel, so every side is at least 1; kept as the rule's guard. */
    if (o.h < 1 || o.w < 1) {
        char item[64], shape[48];
        layers_item_str(it, item, sizeof item);
        layers_shape_str(in, shape, sizeof shape);
        return err_set(b->err, "[model] encoder: %s on %s: the kernel is larger than the padded "
                               "input", item, shape);
    }
    NetLayer *l = push(b, LAYER_CONV, in, o);
    if (!l) return -1;
    l->k = it->k;
    l->s = it->s;
    l->pad = (it->k - 1) / 2;
    *out = o;
    return 0;
}

static int push_deconv(Build *b, int f, int k, int s, int op_h, int op_w, Shape3 in, Shape3 *out)
{
    Shape3 o = {f, deconv_side(in.h, k, s, op_h), deconv_side(in.w, k, s, op_w)};
    NetLayer *l = push(b, LAYER_DECONV, in, o);
    if (!l) return -1;
    l->k = k;
    l->s = s;
    l->pad = (k - 1) / 2;
    l->op_h = op_h;
    l->op_w = op_w;
    *out = o;
    return 0;
}

int layers_build(const LayersSpec *spec, Shape3 input, NetLayer *layers, int *n_layers,
                 int *latent, Err *err)
{
    Build b = {layers, 0, err};
    char enc_text[512], dec_text[512], shape[48], want[48];
    layers_format(spec->encoder, spec->n_encoder, enc_text, sizeof enc_text);
    if (spec->mirror) util_fmt(dec_text, sizeof dec_text, "mirror");
    else layers_format(spec->decoder, spec->n_decoder, dec_text, sizeof dec_text);

    /* The encoder: its maps (input, after each conv), then its widths. */
    Shape3 maps[LAYERS_MAX_SIDE + 1];
    int n_conv = 0;
    Shape3 cur = input;
    maps[0] = input;
    for (int i = 0; i < spec->n_encoder; i++) {
        const LayerItem *it = &spec->encoder[i];
        if (it->kind == LAYER_CONV) {
            if (push_conv(&b, it, cur, &cur)) return -1;
            maps[++n_conv] = cur;
        } else {
            Shape3 o = vec((size_t)it->n);
            if (!push(&b, LAYER_DENSE, cur, o)) return -1;
            cur = o;
        }
    }
    /* The latent layer: dense and linear. */
    if (!push(&b, LAYER_DENSE, cur, vec((size_t)spec->latent))) return -1;
    cur = vec((size_t)spec->latent);
    *latent = b.n;

    if (spec->mirror) {
        /* The decoder's widths are the encoder's in reverse order: encoder
         * widths w1..wm give the decoder wm..w1 (the output layer, or the
         * dense layer to the last map, follows). */
        int first_dense = n_conv;
        for (int i = spec->n_encoder - 1; i >= first_dense; i--) {
            Shape3 o = vec((size_t)spec->encoder[i].n);
            if (!push(&b, LAYER_DENSE, cur, o)) return -1;
            cur = o;
        }
        if (n_conv == 0) {
            if (!push(&b, LAYER_DENSE, cur, input)) return -1;
        } else {
            /* a dense layer to the last map, then the convs undone in reverse */
            if (!push(&b, LAYER_DENSE, cur, maps[n_conv])) return -1;
            cur = maps[n_conv];
            for (int i = n_conv; i >= 1; i--) {
                const LayerItem *it = &spec->encoder[i - 1];
                Shape3 target = maps[i - 1];
                int op_h = target.h - deconv_side(cur.h, it->k, it->s, 0);
                int op_w = target.w - deconv_side(cur.w, it->k, it->s, 0);
                if (push_deconv(&b, target.c, it->k, it->s, op_h, op_w, cur, &cur)) return -1;
            }
        }
    } else {
        int n_deconv = 0;
        for (int i = 0; i < spec->n_decoder; i++) n_deconv += spec->decoder[i].kind == LAYER_DECONV;
        for (int i = 0; i < spec->n_decoder; i++) {
            const LayerItem *it = &spec->decoder[i];
            char item[64];
            layers_item_str(it, item, sizeof item);
            if (it->kind == LAYER_DENSE) {
                Shape3 o = vec((size_t)it->n);
                if (!push(&b, LAYER_DENSE, cur, o)) return -1;
                cur = o;
                continue;
            }
            if (i == 0 || spec->decoder[i - 1].kind == LAYER_DENSE) {
                /* The first deconv: the layer before it, reshaped to the
                 * encoder's last map. */
                if (n_conv == 0)
                    return err_set(err, "[model] decoder = %s: %s needs a map to start from: its "
                                        "input is the map of the encoder's last conv item, and "
                                        "[model] encoder = %s has none",
                                   dec_text, item, enc_text);
                Shape3 m = maps[n_conv];
                layers_shape_str(m, shape, sizeof shape);
                if (layers_size(cur) != layers_size(m))
                    return err_set(err, "[model] decoder = %s: %s starts from the encoder's last "
                                        "map, %s = %zu values, but the layer before it gives %zu; "
                                        "put a width of %zu before it",
                                   dec_text, item, shape, layers_size(m), layers_size(cur),
                                   layers_size(m));
                b.layers[b.n - 1].out = m;
                cur = m;
            }
            if (push_deconv(&b, it->n, it->k, it->s, it->op, it->op, cur, &cur)) return -1;
        }
        if (n_deconv == 0 && !push(&b, LAYER_DENSE, cur, input)) return -1;
        cur = b.layers[b.n - 1].out;
    }
    /* The output layer must give the data's shape. */
    const NetLayer *last = &b.layers[b.n - 1];
    if (last->kind != LAYER_DENSE &&
        (last->out.c != input.c || last->out.h != input.h || last->out.w != input.w)) {
        char item[64];
        layers_layer_str(last, item, sizeof item);
        layers_shape_str(last->out, shape, sizeof shape);
        layers_shape_str(input, want, sizeof want);
        return err_set(err, "[model] decoder = %s: the decoder ends at %s (its last layer, %s, "
                            "gives %s), the data are %s; the last deconv item must give the "
                            "data's channels and size",
                       dec_text, shape, item, shape, want);
    }
    /* Every map must have room: the kernels index with int. */
    for (int l = 0; l < b.n; l++)
        if (layers_size(b.layers[l].out) > (size_t)1 << 30) {
            layers_shape_str(b.layers[l].out, shape, sizeof shape);
            return err_set(err, "[model]: layer %d gives %s, more than 2^30 values an item", l + 1,
                           shape);
        }
    *n_layers = b.n;
    return 0;
}

int layers_check(const NetLayer *l, char *why, size_t len)
{
    const Shape3 *in = &l->in, *out = &l->out;
    if (in->c < 1 || in->h < 1 || in->w < 1 || out->c < 1 || out->h < 1 || out->w < 1) {
        util_fmt(why, len, "a shape is not positive (%dx%dx%d -> %dx%dx%d)", in->c, in->h, in->w,
                 out->c, out->h, out->w);
        return -1;
    }
    if (l->kind == LAYER_DENSE) {
        if (l->k || l->s || l->op_h || l->op_w) {
            util_fmt(why, len, "a dense layer has a kernel, stride or padding");
            return -1;
        }
        return 0;
    }
    if (l->kind != LAYER_CONV && l->kind != LAYER_DECONV) {
        util_fmt(why, len, "layer kind %d is not one of 0 (dense), 1 (conv), 2 (deconv)",
                 (int)l->kind);
        return -1;
    }
    if (l->k < 1 || l->k > LAYERS_KERNEL_MAX || l->k % 2 == 0 || l->s < 1 ||
        l->s > LAYERS_STRIDE_MAX || l->pad != (l->k - 1) / 2) {
        util_fmt(why, len, "%s kernel %d, stride %d: expected an odd kernel 1..%d and a stride "
                           "1..%d", layers_kind_name(l->kind), l->k, l->s, LAYERS_KERNEL_MAX,
                 LAYERS_STRIDE_MAX);
        return -1;
    }
    int oh, ow;
    if (l->kind == LAYER_CONV) {
        if (l->op_h || l->op_w) {
            util_fmt(why, len, "a conv layer has an output padding");
            return -1;
        }
        oh = conv_side(in->h, l->k, l->s);
        ow = conv_side(in->w, l->k, l->s);
    } else {
        if (l->op_h < 0 || l->op_h >= l->s || l->op_w < 0 || l->op_w >= l->s) {
            util_fmt(why, len, "deconv output padding %d/%d: expected 0..%d (below the stride)",
                     l->op_h, l->op_w, l->s - 1);
            return -1;
        }
        oh = deconv_side(in->h, l->k, l->s, l->op_h);
        ow = deconv_side(in->w, l->k, l->s, l->op_w);
    }
    if (out->h != oh || out->w != ow) {
        char a[48], b[48];
        layers_shape_str(*in, a, sizeof a);
        layers_shape_str(*out, b, sizeof b);
        util_fmt(why, len, "%s kernel %d stride %d takes %s to %dx%d, not to %s",
                 layers_kind_name(l->kind), l->k, l->s, a, oh, ow, b);
        return -1;
    }
    return 0;
}

static int same_shape(Shape3 a, Shape3 b)
{
    return a.c == b.c && a.h == b.h && a.w == b.w;
}

int layers_same(const NetLayer *a, const NetLayer *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == LAYER_DENSE)
        return layers_size(a->in) == layers_size(b->in) && layers_size(a->out) == layers_size(b->out);
    return same_shape(a->in, b->in) && same_shape(a->out, b->out) && a->k == b->k && a->s == b->s &&
           a->op_h == b->op_h && a->op_w == b->op_w;
}

void layers_net_str(const NetLayer *layers, int n_layers, char *buf, size_t len)
{
    int maps = 0;
    for (int l = 0; l < n_layers; l++) maps |= layers[l].kind != LAYER_DENSE;
    size_t used = 0;
    if (len == 0) return;
    buf[0] = '\0';
    for (int l = 0; l <= n_layers && used < len; l++) {
        Shape3 s = l == 0 ? layers[0].in : layers[l - 1].out;
        /* a map a conv or deconv reads or writes shows all three sides,
         * even 4x1x1 */
        int map = (l > 0 && layers[l - 1].kind != LAYER_DENSE) ||
                  (l < n_layers && layers[l].kind != LAYER_DENSE);
        char part[48];
        if (map) util_fmt(part, sizeof part, "%dx%dx%d", s.c, s.h, s.w);
        else if (maps) layers_shape_str(s, part, sizeof part);
        else util_fmt(part, sizeof part, "%zu", layers_size(s));
        int w = snprintf(buf + used, len - used, "%s%s", l ? "-" : "", part);
        if (w < 0) break;
        used += (size_t)w;
    }
}
