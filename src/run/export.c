/* export: see export.h. */
#define _DEFAULT_SOURCE /* realpath */
#include "export.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h" /* KERNELS_LEAKY_SLOPE */

/* ---- the plan ------------------------------------------------------------ */

static void add(ExportPlan *p, ExportModKind kind, ExportSide side, int *index, int layer)
{
    ExportModule *m = &p->mod[p->n++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->side = side;
    m->index = (*index)++;
    m->layer = layer;
}

void export_plan(const ConfigNet *net, ExportPlan *p)
{
    memset(p, 0, sizeof *p);
    p->takes_maps = net->layer[0].kind == LAYER_CONV;
    int index[2] = {0, 0};
    for (int l = 0; l < net->n_layers; l++) {
        const NetLayer *ly = &net->layer[l];
        ExportSide side = l < net->latent ? EXPORT_ENCODER : EXPORT_DECODER;
        LayerKind prev = l > 0 ? net->layer[l - 1].kind : LAYER_DENSE;
        if (ly->kind == LAYER_DENSE && prev == LAYER_CONV)
            add(p, EXPORT_FLATTEN, side, &index[side], -1);
        if (ly->kind == LAYER_DECONV && prev == LAYER_DENSE) {
            add(p, EXPORT_UNFLATTEN, side, &index[side], -1);
            p->mod[p->n - 1].shape = ly->in;
        }
        ExportModKind kind = ly->kind == LAYER_CONV     ? EXPORT_CONV
                             : ly->kind == LAYER_DECONV ? EXPORT_DECONV
                                                        : EXPORT_LINEAR;
        add(p, kind, side, &index[side], l);
        if (net->act[l] != ACT_LINEAR) {
            add(p, EXPORT_ACT, side, &index[side], -1);
            p->mod[p->n - 1].act = net->act[l];
        }
    }
    if (p->takes_maps && net->layer[net->n_layers - 1].kind == LAYER_DENSE) {
        add(p, EXPORT_UNFLATTEN, EXPORT_DECODER, &index[EXPORT_DECODER], -1);
        p->mod[p->n - 1].shape = net->input;
    }
}

static const char *side_name(ExportSide s)
{
    return s == EXPORT_ENCODER ? "encoder" : "decoder";
}

/* ---- the tensors ----------------------------------------------------------- */

int export_tensors(const ConfigNet *net, const ExportPlan *p, const float *params,
                   SafeTensor *t, int *n, float **buf, Err *err)
{
    *n = 0;
    *buf = util_malloc(net->n_params * sizeof **buf, err);
    if (!*buf) return -1;
    float *out = *buf;
    size_t off = 0;
    for (int i = 0; i < p->n; i++) {
        const ExportModule *m = &p->mod[i];
        if (m->layer < 0) continue;
        const NetLayer *ly = &net->layer[m->layer];
        int width = config_width(net->kind, net->dims, net->latent, m->layer);
        size_t nw = layers_weights(ly, width), nb = layers_biases(ly, width);
        SafeTensor *w = &t[(*n)++], *b = &t[(*n)++];
        memset(w, 0, sizeof *w);
        memset(b, 0, sizeof *b);
        snprintf(w->name, sizeof w->name, "%s.%d.weight", side_name(m->side), m->index);
        snprintf(b->name, sizeof b->name, "%s.%d.bias", side_name(m->side), m->index);
        if (ly->kind == LAYER_DENSE) {
            /* clae's W (n, N) row-major; nn.Linear's weight (N, n) */
            size_t in = layers_size(ly->in), wd = (size_t)width;
            for (size_t r = 0; r < in; r++)
                for (size_t c = 0; c < wd; c++) out[off + c * in + r] = params[off + r * wd + c];
            w->ndim = 2;
            w->shape[0] = wd;
            w->shape[1] = in;
        } else {
            /* conv (F, C, K, K) and deconv (C, F, K, K): PyTorch's layouts already */
            memcpy(out + off, params + off, nw * sizeof *out);
            w->ndim = 4;
            w->shape[0] = (size_t)(ly->kind == LAYER_CONV ? ly->out.c : ly->in.c);
            w->shape[1] = (size_t)(ly->kind == LAYER_CONV ? ly->in.c : ly->out.c);
            w->shape[2] = w->shape[3] = (size_t)ly->k;
        }
        w->data = out + off;
        off += nw;
        memcpy(out + off, params + off, nb * sizeof *out);
        b->ndim = 1;
        b->shape[0] = nb;
        b->data = out + off;
        off += nb;
    }
    return 0;
}

/* ---- the .safetensors file --------------------------------------------------- */

/* "(N, 1, 28, 28)" or "(N, 784)": what forward takes. */
static void forward_input(const ConfigNet *net, int takes_maps, char *buf, size_t len)
{
    if (takes_maps)
        util_fmt(buf, len, "(N, %d, %d, %d)", net->input.c, net->input.h, net->input.w);
    else
        util_fmt(buf, len, "(N, %d)", net->dims[0]);
}

int export_safetensors(const char *run_dir, const Config *cfg, const Ckpt *c,
                       const ConfigNet *net, const char *path, int *n_tensors, Err *err)
{
    ExportPlan *plan = util_malloc(sizeof *plan, err);
    if (!plan) return -1;
    export_plan(net, plan);
    SafeTensor t[EXPORT_MAX_TENSORS];
    float *buf = NULL;
    int n = 0, rc = -1;
    enum { FIXED = 11, VALUE = 4 * CONFIG_STR };
    int n_keys = config_key_count(), n_meta = 0;
    SafeMeta *meta = util_calloc((size_t)(FIXED + n_keys), sizeof *meta, err);
    char *text = util_calloc((size_t)(FIXED + n_keys), 2 * VALUE, err); /* key, value */
    if (!meta || !text || export_tensors(net, plan, c->params, t, &n, &buf, err)) goto out;
    char resolved[PATH_MAX];
    const char *run = realpath(run_dir, resolved) ? resolved : run_dir;
    char shape[64], fwd[64], net_str[1024], latent[16], epochs[32], steps[32], version[16];
    layers_shape_str(net->input, shape, sizeof shape);
    forward_input(net, plan->takes_maps, fwd, sizeof fwd);
    layers_net_str(net->layer, net->n_layers, net_str, sizeof net_str);
    snprintf(latent, sizeof latent, "%d", net->dims[net->latent]);
    snprintf(epochs, sizeof epochs, "%d", c->epoch);
    snprintf(steps, sizeof steps, "%ld", c->step);
    snprintf(version, sizeof version, "%d", c->version);
    const SafeMeta fixed[FIXED] = {
        {"format", "pt"},
        {"clae_version", CLAE_VERSION},
        {"kind", config_kind_name(net->kind)},
        {"latent", latent},
        {"input_shape", shape},
        {"forward_input", fwd},
        {"network", net_str},
        {"epochs", epochs},
        {"steps", steps},
        {"checkpoint_version", version},
        {"run", run},
    };
    for (int i = 0; i < FIXED; i++) meta[n_meta++] = fixed[i];
    for (int i = 0; i < n_keys; i++) {
        char *key = text + (size_t)i * 2 * VALUE, *value = key + VALUE;
        const char *sec = config_key_section(i), *name = config_key_name(i);
        if (config_get(cfg, sec, name, value, VALUE)) continue;
        snprintf(key, VALUE, "%s.%s", sec, name);
        meta[n_meta].key = key;
        meta[n_meta++].value = value;
    }
    rc = safetensors_write(path, t, n, meta, n_meta, err);
    *n_tensors = n;
out:
    free(buf);
    free(text);
    free(meta);
    free(plan);
    return rc;
}

/* ---- the Python code ---------------------------------------------------------- */

/* s with every control character (a newline would end a comment) as '?'. */
static void comment_safe(const char *s, char *buf, size_t len)
{
    util_fmt(buf, len, "%s", s);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

static void act_module(Activation a, char *buf, size_t len)
{
    switch (a) {
    case ACT_TANH: util_fmt(buf, len, "nn.Tanh()"); return;
    case ACT_RELU: util_fmt(buf, len, "nn.ReLU()"); return;
    case ACT_SIGMOID: util_fmt(buf, len, "nn.Sigmoid()"); return;
    case ACT_LEAKY_RELU: util_fmt(buf, len, "nn.LeakyReLU(%g)", KERNELS_LEAKY_SLOPE); return;
    case ACT_LINEAR:
    case ACT_COUNT: break;
    }
    util_fmt(buf, len, "nn.Identity()"); /* not in a plan: linear layers have no module */
}

/* One module's line: the constructor and a comment. */
static void module_line(const ConfigNet *net, const ExportModule *m, FILE *out)
{
    char code[160], what[200] = "", a[48], b[48], item[64];
    const NetLayer *ly = m->layer >= 0 ? &net->layer[m->layer] : NULL;
    switch (m->kind) {
    case EXPORT_LINEAR: {
        int width = config_width(net->kind, net->dims, net->latent, m->layer);
        util_fmt(code, sizeof code, "nn.Linear(%zu, %d)", layers_size(ly->in), width);
        if (m->layer + 1 == net->latent && net->kind == MODEL_VAE)
            util_fmt(what, sizeof what, ": the code, %d means then %d log-variances",
                     net->dims[net->latent], net->dims[net->latent]);
        else if (m->layer + 1 == net->latent)
            util_fmt(what, sizeof what, ": the code");
        break;
    }
    case EXPORT_CONV:
    case EXPORT_DECONV:
        if (m->kind == EXPORT_CONV)
            util_fmt(code, sizeof code, "nn.Conv2d(%d, %d, %d, %d, %d)", ly->in.c, ly->out.c,
                     ly->k, ly->s, ly->pad);
        else
            util_fmt(code, sizeof code,
                     "nn.ConvTranspose2d(%d, %d, %d, %d, %d, output_padding=(%d, %d))", ly->in.c,
                     ly->out.c, ly->k, ly->s, ly->pad, ly->op_h, ly->op_w);
        layers_layer_str(ly, item, sizeof item);
        layers_shape_str(ly->in, a, sizeof a);
        layers_shape_str(ly->out, b, sizeof b);
        util_fmt(what, sizeof what, ": %s, %s -> %s", item, a, b);
        break;
    case EXPORT_ACT: act_module(m->act, code, sizeof code); break;
    case EXPORT_FLATTEN: util_fmt(code, sizeof code, "nn.Flatten()"); break;
    case EXPORT_UNFLATTEN:
        util_fmt(code, sizeof code, "nn.Unflatten(1, (%d, %d, %d))", m->shape.c, m->shape.h,
                 m->shape.w);
        break;
    }
    fprintf(out, "            %s,  # %d%s\n", code, m->index, what);
}

void export_torch(const char *run_dir, const Ckpt *c, const ConfigNet *net, FILE *out)
{
    ExportPlan plan;
    export_plan(net, &plan);
    char run[4200], resolved[PATH_MAX], net_str[1024], fwd[64], shape[64];
    comment_safe(realpath(run_dir, resolved) ? resolved : run_dir, run, sizeof run);
    layers_net_str(net->layer, net->n_layers, net_str, sizeof net_str);
    forward_input(net, plan.takes_maps, fwd, sizeof fwd);
    layers_shape_str(net->input, shape, sizeof shape);
    int K = net->dims[net->latent], vae = net->kind == MODEL_VAE;
    fprintf(out,
            "# The model of the clae run %s\n"
            "# (`clae export RUN --torch`, clae %s): %s (kind %s) with a code of\n"
            "# K = %d values, network %s,\n"
            "# as its checkpoint (format %d) holds it after %d epoch%s.\n"
            "#\n",
            run, CLAE_VERSION, vae ? "a variational autoencoder" : "an autoencoder",
            config_kind_name(net->kind), K, net_str, c->version, c->epoch,
            c->epoch == 1 ? "" : "s");
    if (plan.takes_maps)
        fprintf(out, "# model(x) takes x of shape %s, float32: %s images (NCHW),\n", fwd, shape);
    else
        fprintf(out,
                "# model(x) takes x of shape %s, float32: each row one item's %d values, as\n"
                "# clae reads them (an image's C x H x W values flattened in C, H, W order),\n",
                fwd, net->dims[0]);
    fprintf(out,
            "# scaled as in training (8-bit pixels divided by 255; float32 .npy values as\n"
            "# they are), and returns the reconstruction%s; model.encode(x) gives the codes,\n"
            "# (N, %d), as `clae encode` writes them%s.\n"
            "#\n"
            "# The parameters: `clae export RUN -o FILE.safetensors`, then\n"
            "#   import safetensors.torch\n"
            "#   model.load_state_dict(safetensors.torch.load_file(\"FILE.safetensors\"), "
            "strict=True)\n"
            "import torch\n"
            "from torch import nn\n"
            "\n"
            "\n"
            "class ClaeModel(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.latent = %d\n",
            vae ? " of the means" : "", K, vae ? " (the means)" : "", K);
    for (int side = 0; side < 2; side++) {
        fprintf(out, "        self.%s = nn.Sequential(\n", side_name((ExportSide)side));
        for (int i = 0; i < plan.n; i++)
            if ((int)plan.mod[i].side == side) module_line(net, &plan.mod[i], out);
        fprintf(out, "        )\n");
    }
    fprintf(out,
            "\n"
            "    def encode(self, x):\n"
            "        \"\"\"The latent codes of x, (N, %d), as `clae encode` writes them%s.\"\"\"\n"
            "        return self.encoder(x)[:, : self.latent]\n"
            "\n",
            K, vae ? " (the means)" : "");
    if (vae)
        fprintf(out,
                "    def distribution(self, x):\n"
                "        \"\"\"The means and log-variances of the codes of x, each (N, %d).\"\"\"\n"
                "        h = self.encoder(x)\n"
                "        return h[:, : self.latent], h[:, self.latent :]\n"
                "\n",
                K);
    fprintf(out,
            "    def forward(self, x):\n"
            "        \"\"\"The reconstruction of x: decoder(encode(x))%s.\"\"\"\n"
            "        return self.decoder(self.encode(x))\n"
            "\n"
            "\n"
            "model = ClaeModel()\n",
            vae ? ", z = the means, as clae evaluates" : "");
}
