/* test_layers: the layer grammar of [model] encoder and decoder, the shape
 * rules of dense, conv and deconv layers against PyTorch's formulas, the
 * mirror, the networks built for the data's shape, and every error, each
 * checked for the item, the key and the shapes it names. Host only. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp in check.h */
#include <string.h>

#include "check.h"
#include "config.h"
#include "layers.h"

/* The items of text, or NULL with note filled. */
static int parse(const char *text, LayersSide side, LayerItem *items, int *n, char *note)
{
    return layers_parse(text, side, items, n, note, 256);
}

static void test_grammar(void)
{
    LayerItem it[LAYERS_MAX_SIDE];
    int n = -1;
    char note[256] = "", back[512];
    CHECK(parse("conv:16:3:2, conv:32:3:2 ,128", LAYERS_ENCODER, it, &n, note) == 0, "%s", note);
    CHECK(n == 3 && it[0].kind == LAYER_CONV && it[0].n == 16 && it[0].k == 3 && it[0].s == 2 &&
              it[1].n == 32 && it[2].kind == LAYER_DENSE && it[2].n == 128,
          "conv, conv, width");
    layers_format(it, n, back, sizeof back);
    CHECK(strcmp(back, "conv:16:3:2,conv:32:3:2,128") == 0, "written back: %s", back);
    CHECK(parse("CONV:8:5:1", LAYERS_ENCODER, it, &n, note) == 0 && n == 1 && it[0].k == 5,
          "case-insensitive: %s", note);
    CHECK(parse("1568, deconv:16:3:2:1, deconv:1:3:2:1", LAYERS_DECODER, it, &n, note) == 0, "%s",
          note);
    CHECK(n == 3 && it[0].kind == LAYER_DENSE && it[1].kind == LAYER_DECONV && it[1].op == 1 &&
              it[2].n == 1,
          "width, deconv, deconv");
    layers_format(it, n, back, sizeof back);
    CHECK(strcmp(back, "1568,deconv:16:3:2:1,deconv:1:3:2:1") == 0, "written back: %s", back);
    CHECK(parse("none", LAYERS_ENCODER, it, &n, note) == 0 && n == 0, "none");
    CHECK(parse("", LAYERS_DECODER, it, &n, note) == 0 && n == 0, "empty");
    layers_format(it, 0, back, sizeof back);
    CHECK(strcmp(back, "none") == 0, "no items written as none");
    CHECK(parse("conv:1:1:1,conv:65536:31:16", LAYERS_ENCODER, it, &n, note) == 0 && n == 2,
          "the bounds: %s", note);

    /* every malformed item: the item and what is wrong with it */
    static const struct {
        const char *text;
        LayersSide side;
        const char *note;
    } bad[] = {
        {"conv:16:3", LAYERS_ENCODER, "'conv:16:3': expected conv:F:K:S, 3 whole numbers"},
        {"conv:16:3:2:1", LAYERS_ENCODER, "'conv:16:3:2:1': expected conv:F:K:S"},
        {"conv:0:3:2", LAYERS_ENCODER, "'conv:0:3:2': F, the output channels, must be 1..65536"},
        {"conv:65537:3:2", LAYERS_ENCODER, "F, the output channels, must be 1..65536"},
        {"conv:16:4:2", LAYERS_ENCODER, "'conv:16:4:2': the kernel side K must be odd, 1..31"},
        {"conv:16:33:2", LAYERS_ENCODER, "the kernel side K must be odd, 1..31"},
        {"conv:16:3:0", LAYERS_ENCODER, "'conv:16:3:0': the stride S must be 1..16"},
        {"conv:16:3:17", LAYERS_ENCODER, "the stride S must be 1..16"},
        {"conv:16:-3:2", LAYERS_ENCODER, "expected conv:F:K:S, 3 whole numbers"},
        {"conv:16: 3x:2", LAYERS_ENCODER, "expected conv:F:K:S"},
        {"128,conv:8:3:2", LAYERS_ENCODER,
         "'conv:8:3:2' comes after the width 128: conv items come first, then widths"},
        {"deconv:1:3:2:1", LAYERS_ENCODER, "the encoder takes convolutions, conv:F:K:S"},
        {"conv:1:3:2", LAYERS_DECODER, "the decoder takes transposed convolutions, deconv:F:K:S:OP"},
        {"deconv:1:3:2", LAYERS_DECODER, "expected deconv:F:K:S:OP, 4 whole numbers"},
        {"deconv:1:3:2:2", LAYERS_DECODER,
         "'deconv:1:3:2:2': the output padding OP must be below the stride S (0..1)"},
        {"deconv:1:3:1:1", LAYERS_DECODER, "below the stride S (0..0)"},
        {"deconv:8:3:2:1,64", LAYERS_DECODER,
         "the width 64 comes after 'deconv:8:3:2:1': widths come first, then deconv items"},
        {"500,0", LAYERS_ENCODER, "'0': a width must be 1..65536"},
        {"500,,300", LAYERS_ENCODER, "item 2 is empty"},
        {"pool:2", LAYERS_ENCODER, "'pool:2' is not a layer: expected a width N or conv:F:K:S"},
        {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", LAYERS_ENCODER, "more than 16 layers"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        note[0] = '\0';
        n = -7;
        it[0].n = 99;
        CHECK(parse(bad[i].text, bad[i].side, it, &n, note) == -1, "'%s' refused", bad[i].text);
        CHECK(n == -7 && it[0].n == 99, "'%s': nothing written on failure", bad[i].text);
        CHECK_CONTAINS(note, bad[i].note);
    }
}

/* The network of [model] lists for items of shape in, as layers_net_str
 * writes it, or "error: ..." */
static const char *net_str(const char *enc, const char *dec, int latent, Shape3 in)
{
    static char buf[1024];
    LayerItem e[LAYERS_MAX_SIDE], d[LAYERS_MAX_SIDE];
    int ne = 0, nd = 0;
    char note[256];
    CHECK(layers_parse(enc, LAYERS_ENCODER, e, &ne, note, sizeof note) == 0, "%s", note);
    int mirror = strcmp(dec, "mirror") == 0;
    if (!mirror) CHECK(layers_parse(dec, LAYERS_DECODER, d, &nd, note, sizeof note) == 0, "%s", note);
    LayersSpec spec = {e, ne, latent, d, nd, mirror};
    NetLayer layers[LAYERS_MAX];
    int n = 0, at = 0;
    Err err = {{0}};
    if (layers_build(&spec, in, layers, &n, &at, &err)) {
        util_fmt(buf, sizeof buf, "error: %s", err.msg);
        return buf;
    }
    for (int l = 0; l < n; l++) {
        char why[256];
        CHECK(layers_check(&layers[l], why, sizeof why) == 0, "layer %d of %s: %s", l + 1, enc, why);
    }
    layers_net_str(layers, n, buf, sizeof buf);
    return buf;
}

#define IMG(c, h, w) ((Shape3){(c), (h), (w)})
#define EXPECT_NET(enc, dec, latent, in, want)                                                 \
    do {                                                                                       \
        const char *got_ = net_str(enc, dec, latent, in);                                      \
        CHECK(strcmp(got_, want) == 0, "%s / %s: %s, want %s", enc, dec, got_, want);          \
    } while (0)

static void test_shapes(void)
{
    /* the example and the dense seed network */
    EXPECT_NET("conv:16:3:2,conv:32:3:2", "mirror", 2, IMG(1, 28, 28),
               "1x28x28-16x14x14-32x7x7-2-32x7x7-16x14x14-1x28x28");
    EXPECT_NET("500,300", "mirror", 2, IMG(1, 28, 28), "784-500-300-2-300-500-784");
    EXPECT_NET("500,300", "mirror", 2, IMG(784, 1, 1), "784-500-300-2-300-500-784");
    /* widths after convs: mirrored before the map */
    EXPECT_NET("conv:8:3:2,64", "mirror", 3, IMG(3, 32, 32),
               "3x32x32-8x16x16-64-3-64-8x16x16-3x32x32");
    /* nn.Conv2d: floor((H + 2P - K) / S) + 1 for odd sides, strides 1..3, kernels 1..7 */
    static const struct {
        int h, k, s, out;
    } conv[] = {{28, 3, 2, 14}, {7, 3, 2, 4}, {29, 5, 3, 10}, {5, 7, 1, 5}, {1, 3, 2, 1},
                {6, 1, 2, 3},   {2, 3, 3, 1}};
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        char enc[64], want[128];
        snprintf(enc, sizeof enc, "conv:4:%d:%d", conv[i].k, conv[i].s);
        snprintf(want, sizeof want, "2x%dx%d-4x%dx%d-5-4x%dx%d-2x%dx%d", conv[i].h, conv[i].h,
                 conv[i].out, conv[i].out, conv[i].out, conv[i].out, conv[i].h, conv[i].h);
        /* the mirror restores every input side exactly (output padding < S) */
        EXPECT_NET(enc, "mirror", 5, IMG(2, conv[i].h, conv[i].h), want);
    }
    /* unequal sides: the mirror's output paddings differ by rows and columns */
    LayerItem e[1];
    int ne;
    char note[256];
    CHECK(layers_parse("conv:3:3:2", LAYERS_ENCODER, e, &ne, note, sizeof note) == 0, "%s", note);
    LayersSpec spec = {e, ne, 2, NULL, 0, 1};
    NetLayer L[LAYERS_MAX];
    int n, at;
    Err err = {{0}};
    CHECK(layers_build(&spec, IMG(1, 8, 5), L, &n, &at, &err) == 0, "%s", err.msg);
    CHECK(n == 4 && at == 2 && L[0].out.h == 4 && L[0].out.w == 3 && L[3].kind == LAYER_DECONV &&
              L[3].op_h == 1 && L[3].op_w == 0 && L[3].out.h == 8 && L[3].out.w == 5,
          "1x8x5: op_h %d, op_w %d", L[3].op_h, L[3].op_w);
    char s[64];
    layers_layer_str(&L[3], s, sizeof s);
    CHECK(strcmp(s, "deconv:1:3:2:1/0") == 0, "both paddings shown: %s", s);
    /* parameters: nn.Conv2d (F, C, K, K) + F; nn.ConvTranspose2d (C, F, K, K) + F */
    CHECK(layers_weights(&L[0], 0) == 3 * 1 * 9 && layers_biases(&L[0], 0) == 3, "conv params");
    CHECK(layers_weights(&L[3], 0) == 3 * 1 * 9 && layers_biases(&L[3], 0) == 1, "deconv params");
    CHECK(layers_weights(&L[1], 2) == 36 * 2 && layers_biases(&L[1], 2) == 2, "dense params");
    double fi, fo;
    layers_fans(&L[0], 0, &fi, &fo);
    CHECK(fi == 9 && fo == 27, "conv fans C K K = %g, F K K = %g", fi, fo);
    layers_fans(&L[3], 0, &fi, &fo);
    CHECK(fi == 9 && fo == 27, "deconv fans: PyTorch's fan-in is the weight's dim 1 (the output "
                               "channels) K K = %g, fan-out %g", fi, fo);

    /* an explicit decoder: a width of the last map's size, reshaped to it */
    EXPECT_NET("conv:16:3:2,conv:32:3:2", "1568,deconv:16:3:2:1,deconv:1:3:2:1", 2,
               IMG(1, 28, 28), "1x28x28-16x14x14-32x7x7-2-32x7x7-16x14x14-1x28x28");
    EXPECT_NET("conv:16:3:2,conv:32:3:2", "64,1568,deconv:1:5:4:3", 2, IMG(1, 28, 28),
               "1x28x28-16x14x14-32x7x7-2-64-32x7x7-1x28x28");
    EXPECT_NET("conv:16:3:2", "300,100", 2, IMG(1, 28, 28), "1x28x28-16x14x14-2-300-100-1x28x28");
}

static void test_shape_errors(void)
{
    const char *got;
    /* a decoder that ends elsewhere: the layer and both shapes */
    got = net_str("conv:16:3:2,conv:32:3:2", "1568,deconv:16:3:2:0,deconv:1:3:2:1", 2,
                  IMG(1, 28, 28));
    CHECK_CONTAINS(got, "[model] decoder = 1568,deconv:16:3:2:0,deconv:1:3:2:1: the decoder ends "
                        "at 1x26x26 (its last layer, deconv:1:3:2:1, gives 1x26x26), the data are "
                        "1x28x28");
    got = net_str("conv:16:3:2,conv:32:3:2", "1568,deconv:16:3:2:1,deconv:3:3:2:1", 2,
                  IMG(1, 28, 28));
    CHECK_CONTAINS(got, "the decoder ends at 3x28x28");
    got = net_str("conv:16:3:2,conv:32:3:2", "1568,deconv:16:3:2:1,deconv:1:3:2:0", 2,
                  IMG(1, 28, 28));
    CHECK_CONTAINS(got, "the decoder ends at 1x27x27");
    CHECK_CONTAINS(got, "the data are 1x28x28");
    /* the layer before the first deconv must give the last map's values */
    got = net_str("conv:16:3:2,conv:32:3:2", "100,deconv:16:3:2:1,deconv:1:3:2:1", 2,
                  IMG(1, 28, 28));
    CHECK_CONTAINS(got, "deconv:16:3:2:1 starts from the encoder's last map, 32x7x7 = 1568 "
                        "values, but the layer before it gives 100; put a width of 1568 before it");
    got = net_str("500", "deconv:1:3:2:1", 2, IMG(1, 28, 28));
    CHECK_CONTAINS(got, "[model] decoder = deconv:1:3:2:1: deconv:1:3:2:1 needs a map to start "
                        "from");
    CHECK_CONTAINS(got, "[model] encoder = 500 has none");

    /* config level: the checks that need no data, and conv layers on vectors */
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    CHECK(config_set(&c, "model.decoder=64,deconv:1:3:2:1", &err) == 0, "%s", err.msg);
    CHECK(config_validate(&c, &err) == -1, "deconv items without conv items");
    CHECK_CONTAINS(err.msg, "[model] decoder = 64,deconv:1:3:2:1: deconv items start from the map "
                            "of the encoder's last conv item, and [model] encoder = 500,300 has "
                            "none");
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=conv:16:3:2", &err) == 0, "%s", err.msg);
    CHECK(config_validate(&c, &err) == 0, "a conv encoder validates: %s", err.msg);
    CHECK(config_check_images(&c, 0, "37 values (not images)", &err) == -1, "conv on vectors");
    CHECK_CONTAINS(err.msg, "[model] encoder = conv:16:3:2: conv layers need images, and the data "
                            "are 37 values (not images)");
    CHECK(config_check_images(&c, 1, "28x28 images", &err) == 0, "conv on images");
    config_defaults(&c);
    CHECK(config_check_images(&c, 0, "37 values", &err) == 0, "dense on vectors");
    /* --set's message names the key, the value and the item */
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=conv:16:4:2", &err) == -1, "even kernel via --set");
    CHECK_CONTAINS(err.msg, "--set model.encoder=conv:16:4:2: [model] encoder = 'conv:16:4:2': "
                            "expected a comma list of at most 16 layers");
    CHECK_CONTAINS(err.msg, "the kernel side K must be odd");
    CHECK(config_set(&c, "model.decoder=deconv:1:3:2:2", &err) == -1, "op >= stride via --set");
    CHECK_CONTAINS(err.msg, "the output padding OP must be below the stride S");
    /* the written config reads back to the same items */
    CHECK(config_set(&c, "model.encoder=conv:8:5:1, conv:16:3:2, 64", &err) == 0, "%s", err.msg);
    char v[256];
    CHECK(config_get(&c, "model", "encoder", v, sizeof v) == 0 &&
              strcmp(v, "conv:8:5:1,conv:16:3:2,64") == 0,
          "config_get: %s", v);
    /* the network's maps count in the int-range check that needs the data */
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=conv:4096:3:1", &err) == 0 &&
              config_set(&c, "train.batch_size=65536", &err) == 0,
          "%s", err.msg);
    ConfigNet net;
    CHECK(config_net(&c, IMG(1, 28, 28), &net, &err) == -1, "a 65536 x 4096x28x28 batch");
    CHECK_CONTAINS(err.msg, "[train] batch_size = 65536 times the largest layer output");
}

int main(void)
{
    test_grammar();
    test_shapes();
    test_shape_errors();
    return check_done("test_layers");
}
