/* test_export: the PyTorch model of a clae network (run/export), without a
 * device: the state_dict names and shapes of the seed network, conv-156
 * and a conv vae; dense weights transposed to nn.Linear's (out, in) and
 * conv and deconv weights as they are; the reshapes at their indices
 * (nn.Flatten after the convs, nn.Unflatten before the first deconv, also
 * as the decoder's first module, and at the end of a conv network whose
 * decoder is dense); the --torch text's modules and methods. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "check.h"
#include "export.h"

/* The network of the defaults with sets applied, on items of shape in. */
static int net_of(ConfigNet *net, Shape3 in, const char *const *sets)
{
    Config cfg;
    Err err = {{0}};
    config_defaults(&cfg);
    for (int i = 0; sets[i]; i++) CHECK(config_set(&cfg, sets[i], &err) == 0, "%s", err.msg);
    int rc = config_net(&cfg, in, net, &err);
    CHECK(rc == 0, "%s", err.msg);
    return rc;
}

/* The tensors as "name=D0xD1..." joined by spaces. */
static void names(const ConfigNet *net, char *out, size_t len, float **buf, SafeTensor *t, int *n)
{
    ExportPlan p;
    export_plan(net, &p);
    float *params = calloc(net->n_params, sizeof *params);
    for (size_t i = 0; params && i < net->n_params; i++) params[i] = (float)i;
    Err err = {{0}};
    CHECK(params && export_tensors(net, &p, params, t, n, buf, &err) == 0, "%s", err.msg);
    free(params);
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < *n; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%s=", i ? " " : "", t[i].name);
        for (int d = 0; d < t[i].ndim; d++)
            used += (size_t)snprintf(out + used, len - used, "%s%zu", d ? "x" : "", t[i].shape[d]);
    }
}

/* The --torch text of net. */
static char *torch_text(const ConfigNet *net)
{
    Ckpt c;
    memset(&c, 0, sizeof c);
    c.version = 3;
    c.epoch = 2;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    export_torch("/nonexistent/run", &c, net, f);
    fclose(f);
    return text;
}

int main(void)
{
    ConfigNet net;
    SafeTensor t[EXPORT_MAX_TENSORS];
    float *buf = NULL;
    int n = 0;
    char got[4096];
    const Shape3 mnist = {1, 28, 28};

    /* the seed network, 784-500-300-2-300-500-784 */
    if (net_of(&net, mnist, (const char *const[]){NULL}) == 0) {
        names(&net, got, sizeof got, &buf, t, &n);
        CHECK(strcmp(got, "encoder.0.weight=500x784 encoder.0.bias=500 encoder.2.weight=300x500 "
                          "encoder.2.bias=300 encoder.4.weight=2x300 encoder.4.bias=2 "
                          "decoder.0.weight=300x2 decoder.0.bias=300 decoder.2.weight=500x300 "
                          "decoder.2.bias=500 decoder.4.weight=784x500 decoder.4.bias=784") == 0,
              "seed network: %s", got);
        /* params[i] = i: clae's W (784, 500) row-major; nn.Linear's (500, 784) */
        CHECK(t[0].data[0] == 0 && t[0].data[1] == 500 && t[0].data[784] == 1 &&
                  t[0].data[499 * 784 + 783] == 783 * 500 + 499,
              "the first weight transposed");
        CHECK(t[1].data[0] == 784 * 500 && t[1].data[499] == 784 * 500 + 499, "its bias as it is");
        size_t off = 784 * 500 + 500;
        CHECK(t[2].data[0] == (float)off && t[2].data[1] == (float)(off + 300), "the second too");
        free(buf);
        char *py = torch_text(&net);
        CHECK(py && strstr(py, "            nn.Linear(784, 500),  # 0\n") &&
                  strstr(py, "            nn.Tanh(),  # 1\n") &&
                  strstr(py, "            nn.Linear(300, 2),  # 4: the code\n") &&
                  strstr(py, "model(x) takes x of shape (N, 784)") &&
                  strstr(py, "import torch\nfrom torch import nn\n") &&
                  strstr(py, "\nmodel = ClaeModel()\n") && !strstr(py, "distribution"),
              "seed network's code:\n%s", py ? py : "");
        free(py);
    }

    /* conv-156 */
    if (net_of(&net, mnist, (const char *const[]){"model.encoder=conv:16:3:2,conv:32:3:2",
                                                   "model.output=sigmoid", NULL}) == 0) {
        names(&net, got, sizeof got, &buf, t, &n);
        CHECK(strcmp(got, "encoder.0.weight=16x1x3x3 encoder.0.bias=16 encoder.2.weight=32x16x3x3 "
                          "encoder.2.bias=32 encoder.5.weight=2x1568 encoder.5.bias=2 "
                          "decoder.0.weight=1568x2 decoder.0.bias=1568 "
                          "decoder.3.weight=32x16x3x3 decoder.3.bias=16 "
                          "decoder.5.weight=16x1x3x3 decoder.5.bias=1") == 0,
              "conv-156: %s", got);
        CHECK(t[0].data[0] == 0 && t[0].data[143] == 143 && t[2].data[0] == 160,
              "conv weights as they are");
        free(buf);
        char *py = torch_text(&net);
        CHECK(py && strstr(py, "nn.Conv2d(1, 16, 3, 2, 1),  # 0: conv:16:3:2, 1x28x28 -> 16x14x14") &&
                  strstr(py, "nn.Flatten(),  # 4\n") && strstr(py, "nn.Linear(1568, 2),  # 5") &&
                  strstr(py, "nn.Unflatten(1, (32, 7, 7)),  # 2\n") &&
                  strstr(py, "nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=(1, 1)),  # 3") &&
                  strstr(py, "nn.Sigmoid(),  # 6\n") && strstr(py, "(N, 1, 28, 28)"),
              "conv-156's code:\n%s", py ? py : "");
        free(py);
    }

    /* a conv vae with leaky_relu: the latent layer gives 2K */
    if (net_of(&net, mnist, (const char *const[]){"model.encoder=conv:4:3:2", "model.kind=vae",
                                                   "model.latent=3", "model.activation=leaky_relu",
                                                   NULL}) == 0) {
        names(&net, got, sizeof got, &buf, t, &n);
        CHECK(strstr(got, "encoder.3.weight=6x784 encoder.3.bias=6 decoder.0.weight=784x3") != NULL,
              "conv vae: %s", got);
        free(buf);
        char *py = torch_text(&net);
        CHECK(py && strstr(py, "nn.LeakyReLU(0.01),  # 1") &&
                  strstr(py, "# 3: the code, 3 means then 3 log-variances") &&
                  strstr(py, "def distribution(self, x):") &&
                  strstr(py, "return self.encoder(x)[:, : self.latent]"),
              "conv vae's code:\n%s", py ? py : "");
        free(py);
    }

    /* the code straight into a deconv: nn.Unflatten first in the decoder */
    if (net_of(&net, mnist, (const char *const[]){"model.encoder=conv:1:3:4", "model.latent=49",
                                                   "model.decoder=deconv:1:3:4:3", NULL}) == 0) {
        names(&net, got, sizeof got, &buf, t, &n);
        CHECK(strcmp(got, "encoder.0.weight=1x1x3x3 encoder.0.bias=1 encoder.3.weight=49x49 "
                          "encoder.3.bias=49 decoder.1.weight=1x1x3x3 decoder.1.bias=1") == 0,
              "latent into a deconv: %s", got);
        free(buf);
        char *py = torch_text(&net);
        CHECK(py && strstr(py, "nn.Unflatten(1, (1, 7, 7)),  # 0") &&
                  strstr(py, "output_padding=(3, 3)),  # 1"),
              "latent into a deconv:\n%s", py ? py : "");
        free(py);
    }

    /* a conv encoder with a dense decoder: the output unflattened to 1x28x28 */
    if (net_of(&net, mnist, (const char *const[]){"model.encoder=conv:4:3:2", "model.decoder=64",
                                                   NULL}) == 0) {
        ExportPlan p;
        export_plan(&net, &p);
        const ExportModule *last = &p.mod[p.n - 1];
        CHECK(p.takes_maps && last->kind == EXPORT_UNFLATTEN && last->side == EXPORT_DECODER &&
                  last->index == 3 && last->shape.c == 1 && last->shape.h == 28,
              "the decoder ends with nn.Unflatten(1, (1, 28, 28)) at 3");
    }

    /* a dense network takes (N, D) whatever its items' shape */
    if (net_of(&net, (Shape3){3, 8, 8}, (const char *const[]){"model.encoder=16", NULL}) == 0) {
        ExportPlan p;
        export_plan(&net, &p);
        CHECK(!p.takes_maps && p.n == 6 && p.mod[p.n - 1].kind == EXPORT_LINEAR,
              "dense: no reshapes, %d modules", p.n);
    }
    return check_done("test_export");
}
