/* config: see config.h.
 *
 * One table, KEYS, holds every [section] key: its default (in file syntax),
 * its kind and its range. Everything else is driven by it: config_defaults
 * runs each default through the same parser as the file (so a default can
 * never be out of range), the inih handler and --set look keys up in it, the
 * "did you mean" suggestions and key lists come from it, and config_write
 * walks it. Adding a key is one row plus its Config field. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "parse.h"

#define LAYER_MAX 65536   /* units in one layer */
#define INDEX_MAX 9999    /* platform or device index */
#define NAME_LEN_MAX 128  /* [output] name; it becomes part of a folder name */
#define DIGITS 10         /* [data] digits: labels 0-9 */
#define LABEL_NAME_MAX 40 /* characters in one of [data] label_names */
/* Text values stay short enough that config_write's "platform = VALUE" line
 * fits in inih's fixed line buffer, so every written file can be read back. */
#define TEXT_MAX 180
_Static_assert(sizeof "platform = " - 1 + TEXT_MAX + 2 <= INI_MAX_LINE,
               "a written text key must fit in one inih line");
_Static_assert(TEXT_MAX < CONFIG_STR && NAME_LEN_MAX < CONFIG_STR, "values fit in Config");

typedef enum {
    K_TEXT,     /* free text (a path) */
    K_SELECTOR, /* all digits = index 0..INDEX_MAX, else a name substring */
    K_NAME,     /* [A-Za-z0-9._=-], 1..NAME_LEN_MAX characters */
    K_ENUM,     /* one of `names`, case-insensitive */
    K_INT,      /* int in [lo, hi] */
    K_LONG,     /* long in [lo, hi] */
    K_ULONG,    /* unsigned long, any */
    K_DOUBLE,   /* finite double in lo..hi, ends open per F_LO_OPEN / F_HI_OPEN */
    K_CLASSES,  /* [data] classes (spelled digits: 0-9 only) */
    K_NAMES,    /* [data] label_names */
    K_ENCODER,  /* [model] encoder */
    K_DECODER,  /* [model] decoder */
    K_INIT,     /* [model] init */
    K_NOISE,    /* [train] noise */
    K_SCHEDULE, /* [train] schedule */
    K_SIZE      /* auto (0) or a byte count with K, M, G or T (powers of 1024) */
} Kind;

enum {
    F_EMPTY_OK = 1, /* text may be empty */
    F_LO_OPEN = 2,  /* lo itself is not allowed */
    F_HI_OPEN = 4   /* hi itself is not allowed */
};

typedef struct {
    const char *name;
    int value;
} EnumName;

typedef struct {
    const char *section;
    const char *key;
    const char *def;       /* default, written as in a file */
    Kind kind;
    size_t off;            /* offsetof(Config, field) for the kinds that share code */
    double lo, hi;         /* K_INT, K_LONG, K_DOUBLE range */
    int flags;             /* F_* */
    const EnumName *names; /* K_ENUM: accepted names, NULL-terminated */
    const char *accepts;   /* what is accepted, for kinds whose text is not generated */
} KeyDef;

static const char *const SECTIONS[] = {"device", "data", "model", "train", "output"};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

static const EnumName DEVTYPES[] = {{"gpu", DEVTYPE_GPU},
                                    {"cpu", DEVTYPE_CPU},
                                    {"accelerator", DEVTYPE_ACCELERATOR},
                                    {"any", DEVTYPE_ANY},
                                    {NULL, 0}};
/* The latent layer is always linear and the output has its own key, so
 * hidden layers take only the non-linear activations. */
static const EnumName HIDDEN_ACTS[] = {{"tanh", ACT_TANH},
                                       {"relu", ACT_RELU},
                                       {"sigmoid", ACT_SIGMOID},
                                       {"leaky_relu", ACT_LEAKY_RELU},
                                       {NULL, 0}};
static const EnumName OUTPUT_ACTS[] = {{"linear", ACT_LINEAR}, {"sigmoid", ACT_SIGMOID}, {NULL, 0}};
static const EnumName OPTIMIZERS[] = {
    {"adam", OPT_ADAM}, {"sgd", OPT_SGD}, {"momentum", OPT_MOMENTUM}, {NULL, 0}};
static const EnumName LOSSES[] = {{"mse", LOSS_MSE}, {"bce", LOSS_BCE}, {NULL, 0}};
static const EnumName KINDS[] = {{"ae", MODEL_AE}, {"vae", MODEL_VAE}, {NULL, 0}};
static const EnumName FORMATS[] = {{"idx", DATA_IDX}, {"npy", DATA_NPY}, {NULL, 0}};
static const EnumName LAYOUTS[] = {{"nhwc", LAYOUT_NHWC}, {"nchw", LAYOUT_NCHW}, {NULL, 0}};

#define OFF(field) offsetof(Config, field)

static const KeyDef KEYS[] = {
    {.section = "device", .key = "platform", .def = "", .kind = K_SELECTOR, .off = OFF(platform),
     .flags = F_EMPTY_OK,
     .accepts = "a platform index 0..9999, a platform-name substring, or nothing (the first "
                "platform that has a device of [device] type)"},
    {.section = "device", .key = "device", .def = "0", .kind = K_SELECTOR, .off = OFF(device),
     .accepts = "a device index 0..9999 (among the platform's devices of [device] type) or a "
                "device-name substring"},
    {.section = "device", .key = "type", .def = "any", .kind = K_ENUM, .off = OFF(type),
     .names = DEVTYPES},
    {.section = "device", .key = "tuning", .def = "auto", .kind = K_TEXT, .off = OFF(tuning),
     .accepts = "auto (the file clae tune made for this device, else a shipped one for its "
                "class), none (CLBlast's own parameters), or the path of a tuning file"},

    {.section = "data", .key = "dir", .def = "data/mnist", .kind = K_TEXT, .off = OFF(data_dir),
     .accepts = "a folder with the four MNIST IDX files (format = idx), or the folder the .npy "
                "paths are relative to (format = npy)"},
    {.section = "data", .key = "format", .def = "idx", .kind = K_ENUM, .off = OFF(data_format),
     .names = FORMATS},
    {.section = "data", .key = "train_images", .def = "", .kind = K_TEXT,
     .off = OFF(train_images), .flags = F_EMPTY_OK,
     .accepts = "the .npy file of the training images (format = npy), or nothing"},
    {.section = "data", .key = "train_labels", .def = "", .kind = K_TEXT,
     .off = OFF(train_labels), .flags = F_EMPTY_OK,
     .accepts = "the .npy file of the training labels (format = npy), or nothing"},
    {.section = "data", .key = "test_images", .def = "", .kind = K_TEXT, .off = OFF(test_images),
     .flags = F_EMPTY_OK, .accepts = "the .npy file of the test images (format = npy), or nothing"},
    {.section = "data", .key = "test_labels", .def = "", .kind = K_TEXT, .off = OFF(test_labels),
     .flags = F_EMPTY_OK, .accepts = "the .npy file of the test labels (format = npy), or nothing"},
    {.section = "data", .key = "layout", .def = "nhwc", .kind = K_ENUM, .off = OFF(data_layout),
     .names = LAYOUTS},
    {.section = "data", .key = "classes", .def = "all", .kind = K_CLASSES,
     .accepts = "all, or a comma list of labels 0-255 such as 1,5,6"},
    {.section = "data", .key = "label_names", .def = "", .kind = K_NAMES, .off = OFF(label_names),
     .flags = F_EMPTY_OK,
     .accepts = "nothing, or a comma list of the names of labels 0, 1, 2, ... (such as "
                "T-shirt/top, Trouser, Pullover), each 1..40 characters, no two the same"},
    {.section = "data", .key = "train_limit", .def = "0", .kind = K_LONG, .off = OFF(train_limit),
     .lo = 0, .hi = 1e9},
    {.section = "data", .key = "device_memory", .def = "auto", .kind = K_SIZE,
     .off = OFF(device_memory),
     .accepts = "auto (half the device's global memory, each set within its largest buffer) "
                "or a size above 0 such as 512M or 2G (K, M, G, T: powers of 1024; a bare "
                "number is bytes)"},

    {.section = "model", .key = "kind", .def = "ae", .kind = K_ENUM, .off = OFF(kind),
     .names = KINDS},
    {.section = "model", .key = "encoder", .def = "500,300", .kind = K_ENCODER,
     .accepts = "a comma list of at most 16 layers: conv:F:K:S items (F output channels, a K x K "
                "kernel with K odd, stride S) first, then widths 1..65536, such as 500,300 or "
                "conv:16:3:2,conv:32:3:2; or none"},
    {.section = "model", .key = "latent", .def = "2", .kind = K_INT, .off = OFF(latent), .lo = 1,
     .hi = LAYER_MAX},
    {.section = "model", .key = "decoder", .def = "mirror", .kind = K_DECODER,
     .accepts = "mirror (the encoder's exact inverse), or a comma list of at most 16 layers: "
                "widths 1..65536 first, then deconv:F:K:S:OP items (F output channels, K odd, "
                "stride S, output padding OP < S), the last of which gives the data's shape; or "
                "none"},
    {.section = "model", .key = "activation", .def = "tanh", .kind = K_ENUM,
     .off = OFF(activation), .names = HIDDEN_ACTS},
    {.section = "model", .key = "output", .def = "linear", .kind = K_ENUM, .off = OFF(output),
     .names = OUTPUT_ACTS},
    {.section = "model", .key = "init", .def = "normal:0.1", .kind = K_INIT,
     .accepts = "normal:STDDEV with STDDEV in (0, 100] (such as normal:0.1), xavier, he, or "
                "torch"},

    {.section = "train", .key = "epochs", .def = "10", .kind = K_INT, .off = OFF(epochs), .lo = 1,
     .hi = 1e6},
    {.section = "train", .key = "batch_size", .def = "50", .kind = K_INT, .off = OFF(batch_size),
     .lo = 1, .hi = LAYER_MAX},
    {.section = "train", .key = "optimizer", .def = "adam", .kind = K_ENUM, .off = OFF(optimizer),
     .names = OPTIMIZERS},
    {.section = "train", .key = "learning_rate", .def = "1e-4", .kind = K_DOUBLE,
     .off = OFF(learning_rate), .lo = 0, .hi = INFINITY, .flags = F_LO_OPEN},
    {.section = "train", .key = "beta1", .def = "0.9", .kind = K_DOUBLE, .off = OFF(beta1),
     .lo = 0, .hi = 1, .flags = F_HI_OPEN},
    {.section = "train", .key = "beta2", .def = "0.999", .kind = K_DOUBLE, .off = OFF(beta2),
     .lo = 0, .hi = 1, .flags = F_HI_OPEN},
    {.section = "train", .key = "epsilon", .def = "1e-8", .kind = K_DOUBLE, .off = OFF(epsilon),
     .lo = 0, .hi = INFINITY, .flags = F_LO_OPEN},
    {.section = "train", .key = "momentum", .def = "0.9", .kind = K_DOUBLE, .off = OFF(momentum),
     .lo = 0, .hi = 1, .flags = F_HI_OPEN},
    {.section = "train", .key = "loss", .def = "mse", .kind = K_ENUM, .off = OFF(loss),
     .names = LOSSES},
    {.section = "train", .key = "kl_weight", .def = "1", .kind = K_DOUBLE, .off = OFF(kl_weight),
     .lo = 0, .hi = INFINITY},
    {.section = "train", .key = "seed", .def = "1", .kind = K_ULONG, .off = OFF(seed)},
    {.section = "train", .key = "noise", .def = "none", .kind = K_NOISE,
     .accepts = "none, gaussian:SD with SD >= 0 (such as gaussian:0.3), or mask:P with P in "
                "[0, 1) (such as mask:0.25)"},
    {.section = "train", .key = "schedule", .def = "constant", .kind = K_SCHEDULE,
     .accepts = "constant, step:EVERY:GAMMA with EVERY 1..1000000 epochs and GAMMA in (0, 1] "
                "(such as step:10:0.5), or cosine"},
    {.section = "train", .key = "warmup", .def = "0", .kind = K_INT, .off = OFF(warmup), .lo = 0,
     .hi = 1e6},
    {.section = "train", .key = "weight_decay", .def = "0", .kind = K_DOUBLE,
     .off = OFF(weight_decay), .lo = 0, .hi = INFINITY},
    {.section = "train", .key = "patience", .def = "0", .kind = K_INT, .off = OFF(patience),
     .lo = 0, .hi = 1e6},

    {.section = "output", .key = "root", .def = "results", .kind = K_TEXT, .off = OFF(root),
     .accepts = "a folder for the run folders"},
    /* "run" only when there is no file; config_load puts the file's stem here. */
    {.section = "output", .key = "name", .def = "run", .kind = K_NAME, .off = OFF(name),
     .accepts = "1..128 characters from A-Z a-z 0-9 . _ - ="},
    {.section = "output", .key = "recon_every", .def = "1", .kind = K_INT, .off = OFF(recon_every),
     .lo = 0, .hi = 1e6},
    {.section = "output", .key = "recon_count", .def = "10", .kind = K_INT, .off = OFF(recon_count),
     .lo = 1, .hi = 100},
    {.section = "output", .key = "checkpoint_every", .def = "0", .kind = K_INT,
     .off = OFF(checkpoint_every), .lo = 0, .hi = 1e6},
    /* seconds between a running run's heartbeats (heartbeat.h); a day at most */
    {.section = "output", .key = "heartbeat", .def = "30", .kind = K_INT, .off = OFF(heartbeat),
     .lo = 1, .hi = 86400},
};
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

/* Other names of a key: read like the key, written back as spelled (the
 * Config remembers it). [data] digits is MNIST's name for classes. */
typedef struct {
    const char *section, *alias, *key;
    const char *accepts; /* what the alias accepts, when it differs */
} KeyAlias;
static const KeyAlias ALIASES[] = {
    {"data", "digits", "classes", "all, or a comma list of digits 0-9 such as 1,5,6"},
};
#define N_ALIASES (sizeof ALIASES / sizeof ALIASES[0])

/* ---- small string helpers ---- */

/* '=' is allowed so that sweep jobs can be named "mnist-156_lr=3e-4". */
static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '=';
}

/* ---- the table ---- */

static int section_known(const char *section)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], section) == 0) return 1;
    return 0;
}

/* The row of [section] key, or of the key it is another name of (then
 * *alias is set to that name's entry; otherwise NULL). */
static const KeyDef *key_lookup(const char *section, const char *key, const KeyAlias **alias)
{
    if (alias) *alias = NULL;
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].key, key) == 0) return &KEYS[i];
    for (size_t a = 0; a < N_ALIASES; a++) {
        if (strcmp(ALIASES[a].section, section) != 0 || strcmp(ALIASES[a].alias, key) != 0)
            continue;
        if (alias) *alias = &ALIASES[a];
        return key_lookup(section, ALIASES[a].key, NULL);
    }
    return NULL;
}

static const KeyDef *key_find(const char *section, const char *key)
{
    return key_lookup(section, key, NULL);
}

/* "unknown section [trian]; did you mean [train]? sections: device, ..." */
static void unknown_section_msg(const char *section, char *buf, size_t len)
{
    const char *best = NULL;
    int best_d = INT_MAX;
    for (size_t i = 0; i < N_SECTIONS; i++) {
        int d = parse_edit_distance(section, SECTIONS[i]);
        if (parse_is_close(section, SECTIONS[i]) && d < best_d) best = SECTIONS[i], best_d = d;
    }
    int n = snprintf(buf, len, "unknown section [%s]; ", section);
    if (best && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "did you mean [%s]? ", best);
    if (n >= 0 && (size_t)n < len) n += snprintf(buf + n, len - (size_t)n, "sections:");
    for (size_t i = 0; i < N_SECTIONS && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s %s", i ? "," : "", SECTIONS[i]);
}

/* "unknown key 'learnig_rate' in [train]; did you mean 'learning_rate'?", or
 * where the key lives when it is in another section, or the section's keys. */
static void unknown_key_msg(const char *section, const char *key, char *buf, size_t len)
{
    int n = snprintf(buf, len, "unknown key '%s' in [%s]; ", key, section);
    if (n < 0 || (size_t)n >= len) return;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(KEYS[i].key, key) == 0) {
            snprintf(buf + n, len - (size_t)n, "it belongs in [%s]", KEYS[i].section);
            return;
        }
    }
    for (size_t a = 0; a < N_ALIASES; a++) {
        if (strcmp(ALIASES[a].alias, key) == 0) {
            snprintf(buf + n, len - (size_t)n, "it belongs in [%s]", ALIASES[a].section);
            return;
        }
    }
    const char *best = NULL;
    int best_d = INT_MAX;
    for (size_t i = 0; i < N_KEYS + N_ALIASES; i++) {
        const char *sec = i < N_KEYS ? KEYS[i].section : ALIASES[i - N_KEYS].section;
        const char *name = i < N_KEYS ? KEYS[i].key : ALIASES[i - N_KEYS].alias;
        if (strcmp(sec, section) != 0) continue;
        int d = parse_edit_distance(key, name);
        if (parse_is_close(key, name) && d < best_d) best = name, best_d = d;
    }
    if (best) {
        snprintf(buf + n, len - (size_t)n, "did you mean '%s'?", best);
        return;
    }
    n += snprintf(buf + n, len - (size_t)n, "keys:");
    int first = 1;
    for (size_t i = 0; i < N_KEYS && n >= 0 && (size_t)n < len; i++) {
        if (strcmp(KEYS[i].section, section) != 0) continue;
        n += snprintf(buf + n, len - (size_t)n, "%s %s", first ? "" : ",", KEYS[i].key);
        first = 0;
    }
}

/* Each enum has its own type, so enum keys read and write their field here. */
static int enum_get(const Config *c, const KeyDef *k)
{
    switch (k->off) {
    case OFF(type): return (int)c->type;
    case OFF(activation): return (int)c->activation;
    case OFF(output): return (int)c->output;
    case OFF(optimizer): return (int)c->optimizer;
    case OFF(loss): return (int)c->loss;
    case OFF(kind): return (int)c->kind;
    case OFF(data_format): return (int)c->data_format;
    case OFF(data_layout): return (int)c->data_layout;
    }
    assert(!"enum key without a field");
    return 0;
}

static void enum_put(Config *c, const KeyDef *k, int v)
{
    switch (k->off) {
    case OFF(type): c->type = (DevType)v; return;
    case OFF(activation): c->activation = (Activation)v; return;
    case OFF(output): c->output = (Activation)v; return;
    case OFF(optimizer): c->optimizer = (Optimizer)v; return;
    case OFF(loss): c->loss = (Loss)v; return;
    case OFF(kind): c->kind = (ModelKind)v; return;
    case OFF(data_format): c->data_format = (DataFormat)v; return;
    case OFF(data_layout): c->data_layout = (DataLayout)v; return;
    }
    assert(!"enum key without a field");
}

static const char *enum_name(const EnumName *names, int v)
{
    for (; names->name; names++)
        if (names->value == v) return names->name;
    return NULL;
}

/* enum_name for the public config_*_name functions: "?" for a value the
 * table lacks. */
static const char *enum_text(const EnumName *names, int v)
{
    const char *name = enum_name(names, v);
    return name ? name : "?";
}

/* What key k accepts, as the message's "expected ..." part. */
static void describe(const KeyDef *k, char *buf, size_t len)
{
    switch (k->kind) {
    case K_INT:
    case K_LONG:
        snprintf(buf, len, "a whole number %lld..%lld", (long long)k->lo, (long long)k->hi);
        return;
    case K_ULONG:
        snprintf(buf, len, "a whole number 0..%lu", ULONG_MAX);
        return;
    case K_DOUBLE:
        if (isinf(k->hi))
            snprintf(buf, len, "a number %s %g", (k->flags & F_LO_OPEN) ? ">" : ">=", k->lo);
        else
            snprintf(buf, len, "a number in %c%g, %g%c", (k->flags & F_LO_OPEN) ? '(' : '[', k->lo,
                     k->hi, (k->flags & F_HI_OPEN) ? ')' : ']');
        return;
    case K_ENUM: {
        int n = snprintf(buf, len, "one of");
        for (const EnumName *e = k->names; e->name && n >= 0 && (size_t)n < len; e++)
            n += snprintf(buf + n, len - (size_t)n, "%s %s", e == k->names ? "" : ",", e->name);
        return;
    }
    default:
        snprintf(buf, len, "%s", k->accepts);
        return;
    }
}

/* ---- value parsers: each returns 0 and fills *out, or -1 ---- */

static int in_range(const KeyDef *k, double v)
{
    if ((k->flags & F_LO_OPEN) ? !(v > k->lo) : !(v >= k->lo)) return 0;
    if (isinf(k->hi)) return 1;
    return (k->flags & F_HI_OPEN) ? v < k->hi : v <= k->hi;
}

/* Text that config_write can write and inih read back unchanged: no control
 * characters, and no ';' at the start or after a blank (inih would take it
 * for a comment). The caller has trimmed surrounding blanks. */
static int check_text(const KeyDef *k, const char *s, char *note, size_t note_len)
{
    size_t n = strlen(s), max = k->kind == K_NAME ? NAME_LEN_MAX : TEXT_MAX;
    if (n == 0 && !(k->flags & F_EMPTY_OK)) {
        snprintf(note, note_len, "it must not be empty");
        return -1;
    }
    if (n > max) {
        snprintf(note, note_len, "%zu characters is too long (at most %zu)", n, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (k->kind == K_NAME && !name_char(s[i])) return -1;
        if (iscntrl(c) && c != '\t') {
            snprintf(note, note_len, "control characters are not allowed");
            return -1;
        }
        if (c == ';' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
            snprintf(note, note_len, "';' at the start or after a blank starts a comment");
            return -1;
        }
    }
    return 0;
}

/* The number after "kind:" in v (blanks around it allowed) into *d. */
static int parse_after_colon(const char *v, size_t prefix, double *d)
{
    char num[64];
    return parse_trimmed(num, sizeof num, v + prefix, v + strlen(v)) || parse_double(num, d);
}

/* [train] noise: none, gaussian:SD (SD >= 0), mask:P (P in [0, 1)). */
static int parse_noise(Config *c, const char *v, char *note, size_t note_len)
{
    double d;
    if (strcasecmp(v, "none") == 0) {
        c->noise = NOISE_NONE;
        c->noise_level = 0;
        return 0;
    }
    if (strncasecmp(v, "gaussian:", 9) == 0) {
        if (parse_after_colon(v, 9, &d)) return -1;
        if (!(d >= 0)) {
            snprintf(note, note_len, "a standard deviation cannot be negative");
            return -1;
        }
        c->noise = NOISE_GAUSSIAN;
        c->noise_level = d;
        return 0;
    }
    if (strncasecmp(v, "mask:", 5) == 0) {
        if (parse_after_colon(v, 5, &d)) return -1;
        if (!(d >= 0 && d < 1)) {
            snprintf(note, note_len, "P is the probability that an input is set to 0");
            return -1;
        }
        c->noise = NOISE_MASK;
        c->noise_level = d;
        return 0;
    }
    return -1;
}

/* [train] schedule: constant, step:EVERY:GAMMA, cosine. */
static int parse_schedule(Config *c, const char *v, char *note, size_t note_len)
{
    if (strcasecmp(v, "constant") == 0 || strcasecmp(v, "cosine") == 0) {
        c->schedule = strcasecmp(v, "cosine") == 0 ? SCHEDULE_COSINE : SCHEDULE_CONSTANT;
        /* unused by these, but fixed so that equal files give equal Configs */
        c->schedule_every = 0;
        c->schedule_gamma = 1;
        return 0;
    }
    if (strncasecmp(v, "step:", 5) != 0) return -1;
    const char *colon = strchr(v + 5, ':');
    char every[32];
    long long n;
    double gamma;
    if (!colon || parse_trimmed(every, sizeof every, v + 5, colon) || parse_whole(every, 1, 1e6, &n) ||
        parse_after_colon(colon, 1, &gamma))
        return -1;
    if (!(gamma > 0 && gamma <= 1)) {
        snprintf(note, note_len, "GAMMA multiplies the learning rate every EVERY epochs");
        return -1;
    }
    c->schedule = SCHEDULE_STEP;
    c->schedule_every = (int)n;
    c->schedule_gamma = gamma;
    return 0;
}

/* [data] device_memory: auto (0), or digits with an optional K, M, G or T
 * (powers of 1024), above 0 and below 2^63 bytes. */
static int parse_size(const char *v, unsigned long long *out, char *note, size_t note_len)
{
    if (strcasecmp(v, "auto") == 0) {
        *out = 0;
        return 0;
    }
    size_t n = strlen(v), digits = 0;
    while (digits < n && isdigit((unsigned char)v[digits])) digits++;
    if (digits == 0 || digits > 18) return -1;
    const char *units = "KMGT", *u = NULL;
    if (digits + 1 == n && !(u = strchr(units, toupper((unsigned char)v[digits])))) return -1;
    if (digits + 1 < n) return -1;
    unsigned long long bytes = strtoull(v, NULL, 10);
    for (const char *p = units; u && p <= u; p++) {
        if (bytes > (1ULL << 53)) return -1;
        bytes *= 1024;
    }
    if (bytes == 0) {
        snprintf(note, note_len, "0 bytes leave no room for the data (auto picks a share)");
        return -1;
    }
    *out = bytes;
    return 0;
}

/* Parses `v` (trimmed) for key k, spelled as `alias` when that is not NULL,
 * into c; c is unchanged on failure, when note may say more than the key's
 * accepted values. */
static int parse_value(Config *c, const KeyDef *k, const KeyAlias *alias, const char *v,
                       char *note, size_t note_len)
{
    char *field = (char *)c + k->off;
    long long ll;
    double d;
    switch (k->kind) {
    case K_TEXT:
    case K_NAME:
    case K_SELECTOR:
        if (check_text(k, v, note, note_len)) return -1;
        /* An all-digits selector is an index; keep it small enough for atoi. */
        if (k->kind == K_SELECTOR && parse_all_digits(v, v + strlen(v)) && parse_whole(v, 0, INDEX_MAX, &ll))
            return -1;
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case K_ENUM:
        for (const EnumName *e = k->names; e->name; e++) {
            if (strcasecmp(e->name, v) == 0) {
                enum_put(c, k, e->value);
                return 0;
            }
        }
        return -1;
    case K_INT:
        if (parse_whole(v, k->lo, k->hi, &ll)) return -1;
        *(int *)(void *)field = (int)ll;
        return 0;
    case K_LONG:
        if (parse_whole(v, k->lo, k->hi, &ll)) return -1;
        *(long *)(void *)field = (long)ll;
        return 0;
    case K_ULONG: {
        /* strtoul would accept "-1" as ULONG_MAX: insist on digits only. */
        if (!parse_all_digits(v, v + strlen(v))) return -1;
        errno = 0;
        unsigned long u = strtoul(v, NULL, 10);
        if (errno) return -1;
        *(unsigned long *)(void *)field = u;
        return 0;
    }
    case K_DOUBLE:
        if (parse_double(v, &d) || !in_range(k, d)) return -1;
        *(double *)(void *)field = d;
        return 0;
    case K_CLASSES: {
        Config next; /* only its classes: config_classes_str's input */
        if (parse_labels(v, alias ? DIGITS - 1 : CONFIG_LABELS - 1, next.classes, CONFIG_LABELS))
            return -1;
        /* config_write's line must fit inih's buffer to read back */
        char written[CONFIG_STR];
        config_classes_str(&next, written, sizeof written);
        if (strlen(written) > TEXT_MAX) {
            snprintf(note, note_len, "the list is %zu characters written out, at most %d",
                     strlen(written), TEXT_MAX);
            return -1;
        }
        memcpy(c->classes, next.classes, sizeof next.classes);
        c->classes_as_digits = alias != NULL;
        return 0;
    }
    case K_NAMES: {
        char out[CONFIG_STR];
        int n;
        /* written back joined by ", ": that too must stay within TEXT_MAX */
        if (check_text(k, v, note, note_len) ||
            parse_names(v, CONFIG_LABELS, LABEL_NAME_MAX, out, TEXT_MAX + 1, &n, note, note_len))
            return -1;
        memcpy(c->label_names, out, sizeof out);
        c->n_label_names = n;
        return 0;
    }
    case K_ENCODER: {
        LayerItem items[CONFIG_MAX_HIDDEN];
        int n;
        if (layers_parse(v, LAYERS_ENCODER, items, &n, note, note_len)) return -1;
        memcpy(c->encoder, items, (size_t)n * sizeof *items);
        c->n_encoder = n;
        return 0;
    }
    case K_DECODER: {
        if (strcasecmp(v, "mirror") == 0) {
            /* built from the encoder with the data's shape (layers_build) */
            c->decoder_mirror = 1;
            c->n_decoder = 0;
            return 0;
        }
        LayerItem items[CONFIG_MAX_HIDDEN];
        int n;
        if (layers_parse(v, LAYERS_DECODER, items, &n, note, note_len)) return -1;
        memcpy(c->decoder, items, (size_t)n * sizeof *items);
        c->n_decoder = n;
        c->decoder_mirror = 0;
        return 0;
    }
    case K_INIT:
        if (strcasecmp(v, "xavier") == 0 || strcasecmp(v, "he") == 0 ||
            strcasecmp(v, "torch") == 0) {
            int first = tolower((unsigned char)v[0]);
            c->init = first == 'x' ? INIT_XAVIER : first == 'h' ? INIT_HE : INIT_TORCH;
            /* unused by these, but fixed so that equal files give equal Configs */
            c->init_std = 0.1;
            return 0;
        }
        if (strncasecmp(v, "normal:", 7) == 0) {
            char num[64];
            if (parse_trimmed(num, sizeof num, v + 7, v + strlen(v)) || parse_double(num, &d) ||
                !(d > 0 && d <= 100))
                return -1;
            c->init = INIT_NORMAL;
            c->init_std = d;
            return 0;
        }
        return -1;
    case K_NOISE: return parse_noise(c, v, note, note_len);
    case K_SCHEDULE: return parse_schedule(c, v, note, note_len);
    case K_SIZE: return parse_size(v, (unsigned long long *)(void *)field, note, note_len);
    }
    return -1;
}

/* Applies one value to key k, spelled as alias when that is not NULL; on
 * failure err says "[section] key = 'value': expected ...", which the
 * caller prefixes with where the value came from. */
static int apply_as(Config *c, const KeyDef *k, const KeyAlias *alias, const char *v, Err *err)
{
    char note[160] = "";
    if (parse_value(c, k, alias, v, note, sizeof note) == 0) return 0;
    char what[300];
    if (alias && alias->accepts) snprintf(what, sizeof what, "%s", alias->accepts);
    else describe(k, what, sizeof what);
    /* "epochs = 5 # five" is a common slip: inih only knows ';' comments. */
    if (!note[0] && (strstr(v, " #") || strstr(v, "\t#")))
        snprintf(note, sizeof note, "a comment after a value starts with ' ;', not '#'");
    return err_set(err, "[%s] %s = '%s': expected %s%s%s", k->section, alias ? alias->alias : k->key,
                   v, what, note[0] ? "; " : "", note);
}

static int apply(Config *c, const KeyDef *k, const char *v, Err *err)
{
    return apply_as(c, k, NULL, v, err);
}

static void format_double(double v, char *buf, size_t len)
{
    /* The shortest form that reads back to the same double. */
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* Writes key k's value as the file would say it. */
static void format_value(const Config *c, const KeyDef *k, char *buf, size_t len)
{
    const char *field = (const char *)c + k->off;
    switch (k->kind) {
    case K_TEXT:
    case K_NAME:
    case K_SELECTOR: snprintf(buf, len, "%s", field); return;
    case K_ENUM: {
        const char *name = enum_name(k->names, enum_get(c, k));
        snprintf(buf, len, "%s", name ? name : "?");
        return;
    }
    case K_INT: snprintf(buf, len, "%d", *(const int *)(const void *)field); return;
    case K_LONG: snprintf(buf, len, "%ld", *(const long *)(const void *)field); return;
    case K_ULONG: snprintf(buf, len, "%lu", *(const unsigned long *)(const void *)field); return;
    case K_DOUBLE: format_double(*(const double *)(const void *)field, buf, len); return;
    case K_CLASSES: config_classes_str(c, buf, len); return;
    case K_NAMES: snprintf(buf, len, "%s", c->label_names); return;
    case K_ENCODER: layers_format(c->encoder, c->n_encoder, buf, len); return;
    case K_DECODER:
        if (c->decoder_mirror) snprintf(buf, len, "mirror");
        else layers_format(c->decoder, c->n_decoder, buf, len);
        return;
    case K_INIT:
        if (c->init == INIT_XAVIER) snprintf(buf, len, "xavier");
        else if (c->init == INIT_HE) snprintf(buf, len, "he");
        else if (c->init == INIT_TORCH) snprintf(buf, len, "torch");
        else {
            char num[40];
            format_double(c->init_std, num, sizeof num);
            snprintf(buf, len, "normal:%s", num);
        }
        return;
    case K_NOISE: {
        char num[40];
        format_double(c->noise_level, num, sizeof num);
        if (c->noise == NOISE_NONE) snprintf(buf, len, "none");
        else snprintf(buf, len, "%s:%s", config_noise_name(c->noise), num);
        return;
    }
    case K_SCHEDULE: {
        char num[40];
        format_double(c->schedule_gamma, num, sizeof num);
        if (c->schedule == SCHEDULE_STEP) snprintf(buf, len, "step:%d:%s", c->schedule_every, num);
        else snprintf(buf, len, "%s", config_schedule_name(c->schedule));
        return;
    }
    case K_SIZE: config_size_str(*(const unsigned long long *)(const void *)field, buf, len);
        return;
    }
}

void config_size_str(unsigned long long bytes, char *buf, size_t len)
{
    /* the largest unit that divides it: 512M reads back as 512M */
    const char *units = "KMGT";
    int u = -1;
    while (u < 3 && bytes && bytes % 1024 == 0) bytes /= 1024, u++;
    if (bytes == 0 && u < 0) snprintf(buf, len, "auto");
    else if (u < 0) snprintf(buf, len, "%llu", bytes);
    else snprintf(buf, len, "%llu%c", bytes, units[u]);
}

/* ---- public API ---- */

void config_defaults(Config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        int rc = apply(cfg, &KEYS[i], KEYS[i].def, NULL);
        assert(rc == 0 && "every default parses");
        (void)rc;
    }
}

/* ---- reading a file with inih ---- */

/* State shared by the line reader and the key handler. inih parses each line
 * right after reading it, so `line` is always the line being handled. */
typedef struct {
    Config *cfg;
    const char *path;
    FILE *file;
    Err *err;
    int line;         /* lines read so far */
    int section_line; /* line of the current [section] header */
    int indented;     /* the current line is indented and not blank or a comment */
    int have_key;     /* a key line since the last header (inih's prev_name) */
    int failed_line;  /* line of our first error; 0 = none */
    int seen[N_KEYS]; /* line where each key was set; 0 = not yet */
    const char *seen_as[N_KEYS]; /* the name it was set by (a key or an alias) */
    ConfigSweep *sweep; /* collects [sweep] lines; NULL = [sweep] is an error */
} Parse;

static int parse_fail(Parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_fail(Parse *p, int line, const char *fmt, ...)
{
    char msg[ERR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->failed_line = line;
    return err_set(p->err, "%s:%d: %s", p->path, line, msg);
}

/* inih's line source: counts lines, rejects lines too long for inih's buffer
 * (it would silently split them), and checks [section] headers here because
 * inih never calls the handler for a header, so an unknown section with no
 * keys, or the header's own line number, would be lost otherwise. Returning
 * NULL ends the parse, which is how the first error stops it. */
static char *read_line(char *buf, int num, void *stream)
{
    Parse *p = stream;
    if (p->failed_line) return NULL;
    errno = 0;
    if (!fgets(buf, num, p->file)) {
        if (ferror(p->file)) {
            int e = errno;
            p->failed_line = p->line + 1;
            err_set(p->err, "%s: cannot read: %s", p->path, e ? strerror(e) : "read error");
        }
        return NULL;
    }
    p->line++;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] != '\n') {
        int next = getc(p->file);
        if (next != EOF && next != '\n') {
            parse_fail(p, p->line, "line longer than %d characters; shorten it", num - 1);
            return NULL;
        }
    }

    const char *s = buf;
    if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3; /* UTF-8 BOM */
    int starts_blank = *s == ' ' || *s == '\t';
    while (isspace((unsigned char)*s)) s++;
    p->indented = starts_blank && *s && *s != ';' && *s != '#';
    /* After a key, inih reads an indented line as that key's continuation,
     * even one that looks like a header; the handler reports it then. */
    if (*s == '[' && !(p->indented && p->have_key)) {
        const char *close = strchr(s, ']');
        if (!close) {
            parse_fail(p, p->line, "'[' without ']': expected a [section] header");
            return NULL;
        }
        char section[64];
        int is_sweep = parse_trimmed(section, sizeof section, s + 1, close) == 0 &&
                       strcmp(section, "sweep") == 0;
        if (is_sweep && !p->sweep) {
            parse_fail(p, p->line, "[sweep] makes this a sweep file: run it with `clae sweep %s` "
                                   "(or remove the section to train one run)", p->path);
            return NULL;
        }
        if (!is_sweep && (parse_trimmed(section, sizeof section, s + 1, close) ||
                          !section_known(section))) {
            char msg[ERR_MSG_LEN];
            int len = (int)(close - s - 1);
            char shown[64];
            snprintf(shown, sizeof shown, "%.*s", len < 63 ? len : 63, s + 1);
            unknown_section_msg(shown, msg, sizeof msg);
            parse_fail(p, p->line, "%s", msg);
            return NULL;
        }
        p->section_line = p->line;
        p->have_key = 0;
    }
    return buf;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    Parse *p = user;
    if (p->failed_line) return 0;
    char sec[64];
    if (parse_trimmed(sec, sizeof sec, section, section + strlen(section))) sec[0] = '\0';
    /* inih hands a continuation line over under the previous key's name. */
    if (p->indented && p->have_key)
        return !parse_fail(p, p->line,
                           "indented line: inih reads it as more of the value of [%s] %s "
                           "(multi-line values are not supported); start it at the beginning of "
                           "the line",
                           sec, name);
    p->have_key = 1;
    if (!section[0]) {
        for (size_t i = 0; i < N_KEYS; i++)
            if (strcmp(KEYS[i].key, name) == 0)
                return !parse_fail(p, p->line, "'%s' comes before any [section] header; it "
                                               "belongs in [%s]", name, KEYS[i].section);
        return !parse_fail(p, p->line, "'%s' comes before any [section] header; sections: "
                                       "device, data, model, train, output", name);
    }
    if (p->sweep && strcmp(sec, "sweep") == 0) {
        ConfigSweep *sw = p->sweep;
        for (int i = 0; i < sw->n; i++)
            if (strcmp(sw->key[i], name) == 0)
                return !parse_fail(p, p->line, "[sweep] %s is set twice (first on line %d); keep "
                                               "one", name, sw->line[i]);
        if (sw->n == CONFIG_SWEEP_MAX)
            return !parse_fail(p, p->line, "[sweep] has more than %d keys", CONFIG_SWEEP_MAX);
        if (strlen(name) >= sizeof sw->key[0] || strlen(value) >= sizeof sw->value[0])
            return !parse_fail(p, p->line, "[sweep] %s: key or value too long", name);
        memcpy(sw->key[sw->n], name, strlen(name) + 1);
        memcpy(sw->value[sw->n], value, strlen(value) + 1);
        sw->line[sw->n++] = p->line;
        return 1;
    }
    if (!section_known(sec)) { /* read_line checked headers; stay safe anyway */
        char msg[ERR_MSG_LEN];
        unknown_section_msg(sec, msg, sizeof msg);
        return !parse_fail(p, p->section_line, "%s", msg);
    }
    const KeyAlias *alias;
    const KeyDef *k = key_lookup(sec, name, &alias);
    if (!k) {
        char msg[ERR_MSG_LEN];
        unknown_key_msg(sec, name, msg, sizeof msg);
        return !parse_fail(p, p->line, "%s", msg);
    }
    size_t id = (size_t)(k - KEYS);
    const char *as = alias ? alias->alias : k->key;
    if (p->seen[id] && strcmp(p->seen_as[id], as) != 0)
        return !parse_fail(p, p->line, "[%s] %s and %s (line %d) are two names of one key; keep "
                                       "one", k->section, as, p->seen_as[id], p->seen[id]);
    if (p->seen[id])
        return !parse_fail(p, p->line, "[%s] %s is set twice (first on line %d); keep one",
                           k->section, as, p->seen[id]);
    p->seen[id] = p->line;
    p->seen_as[id] = as;
    if (apply_as(p->cfg, k, alias, value, p->err)) {
        p->failed_line = p->line;
        err_prefix(p->err, "%s:%d", p->path, p->line);
        return 0;
    }
    return 1;
}

/* The file's stem as a run name: "configs/mnist-156.ini" -> "mnist-156";
 * characters a folder name should not have become '_'. */
static void name_from_path(char *name, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n > NAME_LEN_MAX) n = NAME_LEN_MAX;
    for (size_t i = 0; i < n; i++) name[i] = name_char(base[i]) ? base[i] : '_';
    name[n] = '\0';
    if (n == 0) snprintf(name, CONFIG_STR, "run");
}

int config_load(Config *cfg, const char *path, Err *err)
{
    return config_load_sweep(cfg, path, NULL, err);
}

int config_load_sweep(Config *cfg, const char *path, ConfigSweep *sweep, Err *err)
{
    config_defaults(cfg);
    if (sweep) memset(sweep, 0, sizeof *sweep);
    if (strlen(path) >= sizeof cfg->source_path)
        return err_set(err, "%s: path too long (at most %zu characters)", path,
                       sizeof cfg->source_path - 1);
    memcpy(cfg->source_path, path, strlen(path) + 1);
    name_from_path(cfg->name, path);
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    Parse p = {.cfg = cfg, .path = path, .file = f, .err = err, .sweep = sweep};
    int rc = ini_parse_stream(read_line, &p, on_key, &p);
    fclose(f);
    /* inih goes on after a syntax error and reports its first line; ours
     * stop the parse. Report whichever came first. */
    if (rc > 0 && (!p.failed_line || rc < p.failed_line))
        return err_set(err, "%s:%d: not a 'key = value' line or [section] header", path, rc);
    if (p.failed_line) return -1;
    if (rc < 0) return err_set(err, "%s: cannot parse (inih error %d)", path, rc);
    return 0;
}

int config_set(Config *cfg, const char *assignment, Err *err)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = eq ? memchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
    char sec[64], key[64], value[4 * CONFIG_STR];
    if (!dot || parse_trimmed(sec, sizeof sec, assignment, dot) ||
        parse_trimmed(key, sizeof key, dot + 1, eq) || !sec[0] || !key[0])
        return err_set(err, "--set %s: expected SECTION.KEY=VALUE (for example --set "
                            "train.epochs=5)", assignment);
    if (parse_trimmed(value, sizeof value, eq + 1, eq + strlen(eq)))
        return err_set(err, "--set %s: the value is longer than %zu characters", assignment,
                       sizeof value - 1);
    char msg[ERR_MSG_LEN];
    if (!section_known(sec)) {
        unknown_section_msg(sec, msg, sizeof msg);
        return err_set(err, "--set %s: %s", assignment, msg);
    }
    const KeyAlias *alias;
    const KeyDef *k = key_lookup(sec, key, &alias);
    if (!k) {
        unknown_key_msg(sec, key, msg, sizeof msg);
        return err_set(err, "--set %s: %s", assignment, msg);
    }
    if (apply_as(cfg, k, alias, value, err)) return err_prefix(err, "--set %s", assignment);
    return 0;
}

int config_set_device(Config *cfg, const char *spec, const char *origin, Err *err)
{
    char s[CONFIG_STR];
    if (parse_trimmed(s, sizeof s, spec, spec + strlen(spec)) || !s[0])
        return err_set(err, "%s '%s': expected P:D (platform:device indices), gpu, cpu, "
                            "accelerator, any, or a device-name substring", origin, spec);
    /* Work on a copy so that a bad spec leaves cfg as it was. */
    Config next = *cfg;
    const KeyDef *platform = key_find("device", "platform");
    const KeyDef *device = key_find("device", "device");
    const KeyDef *type = key_find("device", "type");
    char *colon = strchr(s, ':');
    int rc;
    if (colon && parse_all_digits(s, colon) && parse_all_digits(colon + 1, colon + strlen(colon))) {
        *colon = '\0';
        rc = apply(&next, platform, s, err) || apply(&next, device, colon + 1, err) ||
             apply(&next, type, "any", err);
        *colon = ':';
    } else if (apply(&next, type, s, NULL) == 0) { /* gpu, cpu, accelerator, any */
        rc = apply(&next, platform, "", err) || apply(&next, device, "0", err);
    } else { /* a device-name substring (AMD names contain ':' too) */
        rc = apply(&next, platform, "", err) || apply(&next, device, s, err) ||
             apply(&next, type, "any", err);
    }
    if (rc) return err_prefix(err, "%s '%s'", origin, spec);
    *cfg = next;
    return 0;
}

/* The cross-key checks of [data]: the keys of the other format unset, the
 * .npy files named, labels both or neither, a class filter only with
 * labels, a name for every class selected. */
static int data_validate(const Config *c, int n_classes, int top, Err *err)
{
    const char *const files[4] = {c->train_images, c->train_labels, c->test_images,
                                  c->test_labels};
    static const char *const keys[4] = {"train_images", "train_labels", "test_images",
                                        "test_labels"};
    for (int i = 0; i < 4; i++) {
        if (c->data_format == DATA_IDX && files[i][0])
            return err_set(err, "[data] %s = %s is for format = npy; with format = idx the data "
                                "are the four IDX files in [data] dir (set format = npy, or "
                                "remove %s)", keys[i], files[i], keys[i]);
        if (c->data_format == DATA_NPY && (i == 0 || i == 2) && !files[i][0])
            return err_set(err, "[data] format = npy needs [data] %s: the .npy file of the %s "
                                "images", keys[i], i == 0 ? "training" : "test");
    }
    int labelled = c->data_format == DATA_IDX || c->train_labels[0] || c->test_labels[0];
    if (c->data_format == DATA_NPY && !c->train_labels[0] != !c->test_labels[0])
        return err_set(err, "[data] %s is set but %s is not: give both label files, or neither "
                            "(unlabelled data)", c->train_labels[0] ? "train_labels" : "test_labels",
                       c->train_labels[0] ? "test_labels" : "train_labels");
    char list[CONFIG_STR];
    config_classes_str(c, list, sizeof list);
    if (!labelled && n_classes < CONFIG_LABELS)
        return err_set(err, "[data] %s = %s needs labels to filter by: set [data] train_labels "
                            "and test_labels, or %s = all", config_classes_key(c), list,
                       config_classes_key(c));
    if (c->n_label_names && n_classes < CONFIG_LABELS && top >= c->n_label_names)
        return err_set(err, "[data] %s = %s selects label %d, but [data] label_names names only "
                            "labels 0-%d (%d names): give a name to every label from 0 to the "
                            "highest one used", config_classes_key(c), list, top,
                       c->n_label_names - 1, c->n_label_names);
    return 0;
}

int config_validate(const Config *c, Err *err)
{
    if (c->loss == LOSS_BCE && c->output != ACT_SIGMOID)
        return err_set(err, "[train] loss = bce needs [model] output = sigmoid (now %s)",
                       config_activation_name(c->output));
    /* The schedule starts after the warm-up (schedule.h): a warm-up as long
     * as the run would leave no epoch at the learning rate asked for. */
    if (c->warmup > 0 && c->warmup >= c->epochs)
        return err_set(err, "[train] warmup = %d needs more [train] epochs (now %d): the "
                            "learning rate ramps up over the first %d epochs, then the schedule "
                            "runs; use warmup < epochs",
                       c->warmup, c->epochs, c->warmup);
    int n_classes = 0, top = -1; /* classes selected, the highest */
    for (int l = 0; l < CONFIG_LABELS; l++)
        if (c->classes[l]) n_classes++, top = l;
    if (n_classes == 0 || (c->classes_as_digits && n_classes < CONFIG_LABELS && top >= DIGITS))
        return err_set(err, c->classes_as_digits
                                ? "[data] digits selects no digit: expected all, or a comma list "
                                  "of digits 0-9 such as 1,5,6"
                                : "[data] classes selects no class: expected all, or a comma list "
                                  "of labels 0-255 such as 1,5,6");
    if (data_validate(c, n_classes, top, err)) return -1;
    /* deconv items start from the encoder's last map: without conv items
     * there is none (the same check as layers_build's, before any data). */
    if (!c->decoder_mirror && layers_has_maps(c->decoder, c->n_decoder) &&
        !layers_has_maps(c->encoder, c->n_encoder)) {
        char enc[CONFIG_STR], dec[CONFIG_STR];
        layers_format(c->encoder, c->n_encoder, enc, sizeof enc);
        layers_format(c->decoder, c->n_decoder, dec, sizeof dec);
        return err_set(err, "[model] decoder = %s: deconv items start from the map of the "
                            "encoder's last conv item, and [model] encoder = %s has none; add "
                            "conv items to the encoder or use widths only",
                       dec, enc);
    }
    /* The kernels index elements with int: every activation buffer
     * (batch x layer) and the parameter block must stay below 2^31. The
     * input's shape comes from the data, so only the widths are judged
     * here; config_net judges the maps. */
    int dims[2 * CONFIG_MAX_HIDDEN + 1], n = 0, widest = 0, latent_at = 0;
    long long params = 0;
    for (int i = 0; i < c->n_encoder; i++)
        if (c->encoder[i].kind == LAYER_DENSE) dims[n++] = c->encoder[i].n;
    latent_at = n;
    dims[n++] = c->latent;
    if (c->decoder_mirror) {
        for (int i = c->n_encoder - 1; i >= 0; i--)
            if (c->encoder[i].kind == LAYER_DENSE) dims[n++] = c->encoder[i].n;
    } else {
        for (int i = 0; i < c->n_decoder; i++)
            if (c->decoder[i].kind == LAYER_DENSE) dims[n++] = c->decoder[i].n;
    }
    for (int i = 0; i < n; i++) {
        /* a vae's encoder output holds a mean and a log-variance per latent value */
        long long w = c->kind == MODEL_VAE && i == latent_at ? 2LL * dims[i] : dims[i];
        if (w > widest) widest = (int)w;
        if (i > 0) params += (long long)dims[i - 1] * w + w;
    }
    if ((long long)c->batch_size * widest > INT_MAX)
        return err_set(err, "[train] batch_size = %d times the widest [model] layer (%d) is %lld "
                            "values, more than the %d the kernels can index; use a smaller batch "
                            "or layer", c->batch_size, widest,
                       (long long)c->batch_size * widest, INT_MAX);
    if (params > INT_MAX)
        return err_set(err, "[model] encoder, latent and decoder need %lld parameters between "
                            "hidden layers alone, more than the %d the kernels can index; use "
                            "smaller layers", params, INT_MAX);
    return 0;
}

void config_write(const Config *cfg, FILE *out)
{
    fputs("# clae experiment: the fully resolved configuration, every key included.\n"
          "# `clae train` on this file reproduces the run.\n",
          out);
    if (cfg->source_path[0]) {
        /* a comment must stay on one line, whatever the path holds */
        fputs("# read from: ", out);
        for (const char *s = cfg->source_path; *s; s++)
            fputc(iscntrl((unsigned char)*s) ? '?' : *s, out);
        fputc('\n', out);
    }
    const char *section = "";
    for (size_t i = 0; i < N_KEYS; i++) {
        const KeyDef *k = &KEYS[i];
        if (strcmp(k->section, section) != 0) {
            section = k->section;
            fprintf(out, "\n[%s]\n", section);
        }
        char v[CONFIG_STR];
        format_value(cfg, k, v, sizeof v);
        const char *name = k->kind == K_CLASSES ? config_classes_key(cfg) : k->key;
        fprintf(out, v[0] ? "%s = %s\n" : "%s =%s\n", name, v);
    }
}

int config_key_count(void)
{
    return (int)N_KEYS;
}

const char *config_key_section(int i)
{
    return i >= 0 && (size_t)i < N_KEYS ? KEYS[i].section : NULL;
}

const char *config_key_name(int i)
{
    return i >= 0 && (size_t)i < N_KEYS ? KEYS[i].key : NULL;
}

int config_get(const Config *cfg, const char *section, const char *key, char *buf, size_t len)
{
    const KeyDef *k = key_find(section, key);
    if (!k) return -1;
    format_value(cfg, k, buf, len);
    return 0;
}

int config_assign(Config *cfg, const char *dotted, const char *value, Err *err)
{
    if (config_check_key(dotted, err)) return -1;
    const char *dot = strchr(dotted, '.');
    char sec[64], key[64], v[4 * CONFIG_STR];
    parse_trimmed(sec, sizeof sec, dotted, dot);
    parse_trimmed(key, sizeof key, dot + 1, dot + strlen(dot));
    if (parse_trimmed(v, sizeof v, value, value + strlen(value)))
        return err_set(err, "[%s] %s: the value is longer than %zu characters", sec, key,
                       sizeof v - 1);
    const KeyAlias *alias;
    const KeyDef *k = key_lookup(sec, key, &alias);
    return apply_as(cfg, k, alias, v, err);
}

int config_check_key(const char *dotted, Err *err)
{
    const char *dot = strchr(dotted, '.');
    char sec[64], key[64], msg[ERR_MSG_LEN];
    if (!dot || parse_trimmed(sec, sizeof sec, dotted, dot) ||
        parse_trimmed(key, sizeof key, dot + 1, dot + strlen(dot)) || !sec[0] || !key[0])
        return err_set(err, "'%s': expected SECTION.KEY (for example train.learning_rate)",
                       dotted);
    if (!section_known(sec)) {
        unknown_section_msg(sec, msg, sizeof msg);
        return err_set(err, "'%s': %s", dotted, msg);
    }
    if (!key_find(sec, key)) {
        unknown_key_msg(sec, key, msg, sizeof msg);
        return err_set(err, "'%s': %s", dotted, msg);
    }
    return 0;
}

/* The row of a dotted name, or NULL. */
static const KeyDef *dotted_key(const char *dotted)
{
    const char *dot = strchr(dotted, '.');
    char sec[64], key[64];
    if (!dot || parse_trimmed(sec, sizeof sec, dotted, dot) ||
        parse_trimmed(key, sizeof key, dot + 1, dot + strlen(dot)))
        return NULL;
    return key_find(sec, key);
}

int config_same_key(const char *a, const char *b)
{
    const KeyDef *ka = dotted_key(a);
    return ka && ka == dotted_key(b);
}

const char *config_activation_name(Activation a)
{
    const char *name = enum_name(HIDDEN_ACTS, (int)a);
    if (!name) name = enum_name(OUTPUT_ACTS, (int)a);
    return name ? name : "?";
}

const char *config_optimizer_name(Optimizer o)
{
    return enum_text(OPTIMIZERS, (int)o);
}

const char *config_loss_name(Loss l)
{
    return enum_text(LOSSES, (int)l);
}

const char *config_devtype_name(DevType t)
{
    return enum_text(DEVTYPES, (int)t);
}

const char *config_kind_name(ModelKind k)
{
    return enum_text(KINDS, (int)k);
}

const char *config_noise_name(NoiseKind n)
{
    return n == NOISE_GAUSSIAN ? "gaussian" : n == NOISE_MASK ? "mask" : "none";
}

const char *config_schedule_name(ScheduleKind s)
{
    return s == SCHEDULE_STEP ? "step" : s == SCHEDULE_COSINE ? "cosine" : "constant";
}

const char *config_format_name(DataFormat f)
{
    return enum_text(FORMATS, (int)f);
}

const char *config_layout_name(DataLayout l)
{
    return enum_text(LAYOUTS, (int)l);
}

void config_classes_str(const Config *cfg, char *buf, size_t len)
{
    if (len == 0) return;
    buf[0] = '\0';
    int all = 1;
    for (int l = 0; l < CONFIG_LABELS; l++) all &= cfg->classes[l];
    /* `digits = all` reads back as every label, whatever it was spelled */
    if (all) {
        snprintf(buf, len, "all");
        return;
    }
    size_t used = 0;
    for (int l = 0; l < CONFIG_LABELS && used < len; l++) {
        if (!cfg->classes[l]) continue;
        int n = snprintf(buf + used, len - used, "%s%d", used ? "," : "", l);
        if (n < 0) break;
        used += (size_t)n;
    }
}

const char *config_classes_key(const Config *cfg)
{
    return cfg->classes_as_digits ? "digits" : "classes";
}

void config_label_names(const Config *cfg, ConfigLabelNames *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->text, cfg->label_names, sizeof out->text);
    out->text[sizeof out->text - 1] = '\0';
    if (!out->text[0]) return;
    /* config_write's form: names joined by ", ", none holding a comma */
    for (char *p = out->text; p && out->n < CONFIG_LABELS;) {
        out->name[out->n++] = p;
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
            p = comma + 2;
        } else {
            p = NULL;
        }
    }
}

int config_check_images(const Config *cfg, int images, const char *what, Err *err)
{
    if (images || !layers_has_maps(cfg->encoder, cfg->n_encoder)) return 0;
    char enc[CONFIG_STR];
    layers_format(cfg->encoder, cfg->n_encoder, enc, sizeof enc);
    return err_set(err, "[model] encoder = %s: conv layers need images, and the data are %s; use "
                        "widths only for such items", enc, what);
}

int config_net(const Config *cfg, Shape3 input, ConfigNet *net, Err *err)
{
    memset(net, 0, sizeof *net);
    if (input.c < 1 || input.h < 1 || input.w < 1)
        return err_set(err, "the items' shape %dx%dx%d is not positive", input.c, input.h, input.w);
    LayersSpec spec = {.encoder = cfg->encoder,
                       .n_encoder = cfg->n_encoder,
                       .latent = cfg->latent,
                       .decoder = cfg->decoder,
                       .n_decoder = cfg->n_decoder,
                       .mirror = cfg->decoder_mirror};
    if (layers_build(&spec, input, net->layer, &net->n_layers, &net->latent, err)) return -1;
    net->input = input;
    net->dims[0] = (int)layers_size(input);
    long long widest = 0;
    for (int l = 0; l < net->n_layers; l++) {
        net->dims[l + 1] = (int)layers_size(net->layer[l].out);
        /* Hidden layers use [model] activation; the latent code is linear;
         * the output uses [model] output. */
        if (l + 1 == net->n_layers) net->act[l] = cfg->output;
        else if (l + 1 == net->latent) net->act[l] = ACT_LINEAR;
        else net->act[l] = cfg->activation;
    }
    for (int l = 0; l < net->n_layers; l++) {
        int w = config_width(cfg->kind, net->dims, net->latent, l);
        net->n_params += layers_weights(&net->layer[l], w) + layers_biases(&net->layer[l], w);
        if (w > widest) widest = w;
    }
    if (net->dims[0] > widest) widest = net->dims[0];
    /* The kernels index a batch of a layer's outputs and the parameter block
     * with int (config_validate judged the widths alone). */
    if ((long long)cfg->batch_size * widest > INT_MAX)
        return err_set(err, "[train] batch_size = %d times the largest layer output (%lld values "
                            "an item) is more than the %d values the kernels can index; use a "
                            "smaller batch or layer",
                       cfg->batch_size, widest, INT_MAX);
    if (net->n_params > INT_MAX)
        return err_set(err, "[model] encoder, latent and decoder need %zu parameters for these "
                            "items, more than the %d the kernels can index; use smaller layers",
                       net->n_params, INT_MAX);
    net->loss = cfg->loss;
    net->kind = cfg->kind;
    return 0;
}
