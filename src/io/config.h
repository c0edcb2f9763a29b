/* config: the experiment file.
 *
 * Owns: the table of every [section] key with its default, parsing an INI
 * file (inih) with file:line errors and "did you mean" suggestions, --set
 * overrides validated exactly like the file, the --device / CLAE_DEVICE
 * shorthand, cross-key checks, and writing the fully resolved configuration
 * back as an INI that reproduces the run. Host only; no OpenCL here. */
#ifndef CLAE_CONFIG_H
#define CLAE_CONFIG_H

#include <stdio.h>

#include "layers.h"
#include "util.h"

#define CONFIG_MAX_HIDDEN LAYERS_MAX_SIDE /* hidden layers per side (encoder or decoder) */
#define CONFIG_STR 1024

typedef enum { DEVTYPE_ANY, DEVTYPE_GPU, DEVTYPE_CPU, DEVTYPE_ACCELERATOR } DevType;
typedef enum { ACT_LINEAR, ACT_TANH, ACT_RELU, ACT_SIGMOID, ACT_LEAKY_RELU, ACT_COUNT } Activation;
typedef enum { OPT_ADAM, OPT_SGD, OPT_MOMENTUM } Optimizer;
typedef enum { LOSS_MSE, LOSS_BCE } Loss;
/* [model] kind: a plain autoencoder, or a variational one whose encoder
 * outputs a mean and a log-variance per latent value. */
typedef enum { MODEL_AE, MODEL_VAE } ModelKind;
typedef enum { INIT_NORMAL, INIT_XAVIER, INIT_HE, INIT_TORCH } InitKind;
typedef enum { NOISE_NONE, NOISE_GAUSSIAN, NOISE_MASK } NoiseKind;
typedef enum { SCHEDULE_CONSTANT, SCHEDULE_STEP, SCHEDULE_COSINE } ScheduleKind;
typedef enum { DATA_IDX, DATA_NPY } DataFormat;
/* [data] layout: how a 4-D .npy image array orders its axes, (N, H, W, C) or
 * (N, C, H, W); items are C x H x W in clae either way. */
typedef enum { LAYOUT_NHWC, LAYOUT_NCHW } DataLayout;

/* Labels are whole numbers 0..CONFIG_LABELS-1 ([data] classes selects among
 * them; [data] label_names names them from 0 up). */
#define CONFIG_LABELS 256

typedef struct {
    /* [device] */
    char platform[CONFIG_STR]; /* "" = first platform that has a device of `type`;
                                  all digits = index; else case-insensitive name substring */
    char device[CONFIG_STR];   /* all digits = index among the platform's devices of
                                  `type`; else case-insensitive name substring; default "0" */
    DevType type;              /* default DEVTYPE_ANY */
    char tuning[CONFIG_STR];   /* CLBlast parameters: "auto" (default: the file clae tune
                                  made for this device, else a shipped one for its class,
                                  else CLBlast's own), "none" (CLBlast's own), or a path */

    /* [data] */
    char data_dir[CONFIG_STR]; /* default "data/mnist" (relative to the working directory) */
    DataFormat data_format;    /* default DATA_IDX: the four IDX files in data_dir */
    /* format = npy: the .npy files, relative to data_dir unless absolute; "" = not given
     * (labels are optional: both or neither) */
    char train_images[CONFIG_STR], train_labels[CONFIG_STR];
    char test_images[CONFIG_STR], test_labels[CONFIG_STR];
    DataLayout data_layout;    /* default LAYOUT_NHWC: a 4-D image array is (N, H, W, C) */
    unsigned char classes[CONFIG_LABELS]; /* classes[l] = 1: items labelled l are used; all
                                             1 = "all"; some 1 after validation */
    int classes_as_digits;     /* the file said `digits` (MNIST's spelling of classes), which
                                  config_write then writes too; only labels 0-9 */
    char label_names[CONFIG_STR]; /* "" or the names of labels 0, 1, ... as written back:
                                     trimmed, joined by ", " */
    int n_label_names;         /* names in label_names */
    long train_limit;          /* 0 = all training images after filtering */
    unsigned long long device_memory; /* [data] device_memory: the budget in bytes for the
                                         data sets on the device (resident within it, else
                                         streamed); 0 = auto (trainer.h says what share) */

    /* [model] */
    ModelKind kind;                 /* default MODEL_AE */
    LayerItem encoder[CONFIG_MAX_HIDDEN]; /* hidden layers, input side first: conv items,
                                             then widths (layers.h); default 500,300 */
    int n_encoder;                  /* may be 0 (latent directly after input) */
    int latent;                     /* default 2 */
    LayerItem decoder[CONFIG_MAX_HIDDEN]; /* an explicit decoder: widths, then deconv items;
                                             unused (n_decoder 0) with mirror */
    int n_decoder;
    int decoder_mirror;             /* 1 if the file said "mirror" (default): layers_build
                                       makes the encoder's inverse for the data's shape */
    Activation activation;          /* hidden layers; default tanh; never ACT_LINEAR */
    Activation output;              /* ACT_LINEAR (default) or ACT_SIGMOID */
    InitKind init;                  /* default INIT_NORMAL; INIT_TORCH: U(+-1/sqrt(fan_in)) */
    double init_std;                /* for INIT_NORMAL; default 0.1 */

    /* [train] */
    int epochs;           /* default 10, >= 1 */
    int batch_size;       /* default 50, >= 1 */
    Optimizer optimizer;  /* default adam */
    double learning_rate; /* default 1e-4, > 0 */
    double beta1;         /* default 0.9, in [0,1) */
    double beta2;         /* default 0.999, in [0,1) */
    double epsilon;       /* default 1e-8, > 0 */
    double momentum;      /* default 0.9, in [0,1) */
    Loss loss;            /* default mse; bce needs output = sigmoid */
    double kl_weight;     /* default 1, >= 0: a vae's loss is recon + kl_weight KL */
    unsigned long seed;   /* default 1 */
    NoiseKind noise;      /* default NOISE_NONE: inputs corrupted each step (denoising) */
    double noise_level;   /* gaussian: SD >= 0; mask: P in [0, 1); 0 for none */
    ScheduleKind schedule;   /* default SCHEDULE_CONSTANT (schedule.h evaluates it) */
    int schedule_every;      /* step: epochs between decays, >= 1; 0 otherwise */
    double schedule_gamma;   /* step: the factor, in (0, 1]; 1 otherwise */
    int warmup;           /* default 0: epochs of linear learning-rate ramp, < epochs */
    double weight_decay;  /* default 0, >= 0: decoupled for adam, L2 for sgd and momentum */
    int patience;         /* default 0 (off): stop after this many epochs without a better
                             test loss */

    /* [output] */
    char root[CONFIG_STR]; /* default "results" */
    char name[CONFIG_STR]; /* default: the config file's stem ("mnist-156"); [A-Za-z0-9._=-] only */
    int recon_every;       /* default 1; 0 = only at the end */
    int recon_count;       /* default 10, 1..100 */
    int checkpoint_every;  /* default 0: model.ckpt only at the end (and on interrupt) */
    int heartbeat;         /* default 30: seconds between renewals of heartbeat.json, 1..86400 */

    char source_path[CONFIG_STR]; /* the file loaded, "" for defaults only */
} Config;

/* Weight layers at most: every hidden layer of both sides, the latent and the
 * output layer. */
#define CONFIG_MAX_LAYERS LAYERS_MAX

/* The network [model] (and [train] loss) describes for a given input size:
 * what a checkpoint records and the device model is built from. */
typedef struct {
    int n_layers;                      /* L weight layers */
    int dims[CONFIG_MAX_LAYERS + 1];   /* dims[0] input, ..., dims[L] output (= input): the
                                          values of each layer's output map */
    Activation act[CONFIG_MAX_LAYERS]; /* act[l]: applied after layer l; the latent is linear */
    NetLayer layer[CONFIG_MAX_LAYERS]; /* layer l's kind, geometry, input and output maps */
    Shape3 input;                      /* the items' shape (a vector: D x 1 x 1) */
    int latent;                        /* index into dims of the latent code */
    Loss loss;
    ModelKind kind;
    size_t n_params;                   /* sum over l of layers_weights + layers_biases of the
                                          layer's width, config_width(l) */
} ConfigNet;

/* The width of layer l's output in a network of that kind: dims[l+1], but
 * 2 dims[latent] for a vae's encoder output (l + 1 = latent), which holds
 * the K means and then the K log-variances of each row. */
static inline int config_width(ModelKind kind, const int *dims, int latent, int l)
{
    return kind == MODEL_VAE && l + 1 == latent ? 2 * dims[l + 1] : dims[l + 1];
}

/* The raw [sweep] section of a sweep file, in file order (sweep.h gives it
 * meaning). Values are as written, trimmed by inih. */
#define CONFIG_SWEEP_MAX 16
typedef struct {
    int n;
    char key[CONFIG_SWEEP_MAX][64];
    char value[CONFIG_SWEEP_MAX][200];
    int line[CONFIG_SWEEP_MAX];
} ConfigSweep;

/* Fills cfg with every default. Never fails. */
void config_defaults(Config *cfg);

/* Resets cfg to defaults, then reads the INI file at path over them. The
 * default output name becomes the file's stem. Errors name "path:line". Does
 * not run config_validate (so that --set can still fix things). */
int config_load(Config *cfg, const char *path, Err *err);

/* config_load that also accepts a [sweep] section and copies its lines into
 * *sweep (config_load rejects [sweep] with a hint to use `clae sweep`). */
int config_load_sweep(Config *cfg, const char *path, ConfigSweep *sweep, Err *err);

/* Applies one override "section.key=value", validated exactly like the file;
 * errors start with "--set section.key=value: ". */
int config_set(Config *cfg, const char *assignment, Err *err);

/* Applies a device shorthand ("0:1" platform:device, "gpu", "cpu",
 * "accelerator", "any", or a device-name substring) to the [device] keys.
 * `origin` ("--device" or "CLAE_DEVICE") starts the error message. */
int config_set_device(Config *cfg, const char *spec, const char *origin, Err *err);

/* Cross-key checks that need the whole file: bce needs output = sigmoid,
 * non-empty digit subset, ... Errors name the keys involved. */
int config_validate(const Config *cfg, Err *err);

/* Writes every key of every section (resolved values, defaults included) as
 * an INI that config_load reads back to an equal Config. */
void config_write(const Config *cfg, FILE *out);

/* The key table in file order: config_key_count() keys, the i-th being
 * [config_key_section(i)] config_key_name(i); NULL when i is out of range. */
int config_key_count(void);
const char *config_key_section(int i);
const char *config_key_name(int i);

/* Formats the value of [section] key as config_write would write it into
 * buf. Returns -1 if there is no such key. */
int config_get(const Config *cfg, const char *section, const char *key, char *buf, size_t len);

/* Sets key `dotted` ("train.learning_rate") to value, validated like the
 * file; the error says "[train] learning_rate = '-1': expected ..." (or what
 * is wrong with the key), for the caller to prefix with where it came from. */
int config_assign(Config *cfg, const char *dotted, const char *value, Err *err);

/* Checks that `dotted` ("train.learning_rate") names a key; the error says
 * what was meant, as for --set. */
int config_check_key(const char *dotted, Err *err);

/* 1 when the dotted names a and b are one key ("data.digits" and
 * "data.classes" are), 0 otherwise (or when either is no key). */
int config_same_key(const char *a, const char *b);

/* Fills net with the layers of cfg for items of shape input (C x H x W
 * for images, D x 1 x 1 for vectors): input, encoder, latent (linear),
 * decoder, output ([model] output); hidden layers take [model] activation
 * (layers_build: the shapes and their checks). A network with conv layers
 * needs images: the caller, who knows the data, refuses vectors first
 * (config_check_images). Errors name the [model] key and its value. */
int config_net(const Config *cfg, Shape3 input, ConfigNet *net, Err *err);

/* Refuses conv layers on items that are not images (images 0: an (N, D)
 * array), naming [model] encoder and what the data are (`what`, such as
 * "37 values (not images)"). */
int config_check_images(const Config *cfg, int images, const char *what, Err *err);

/* Names used in files and messages ("tanh", "adam", ...). */
const char *config_activation_name(Activation a);
const char *config_optimizer_name(Optimizer o);
const char *config_loss_name(Loss l);
const char *config_devtype_name(DevType t);
const char *config_kind_name(ModelKind k);
const char *config_noise_name(NoiseKind n);       /* "none", "gaussian", "mask" */
const char *config_schedule_name(ScheduleKind s); /* "constant", "step", "cosine" */

const char *config_format_name(DataFormat f);
const char *config_layout_name(DataLayout l); /* "nhwc", "nchw" */
/* [data] device_memory as the file says it: "auto" for 0, else the
 * largest unit that divides it ("512M", "2G", "1000" bytes). */
void config_size_str(unsigned long long bytes, char *buf, size_t len);

/* Writes [data] classes as the file would ("all" or "1,5,6") into buf. */
void config_classes_str(const Config *cfg, char *buf, size_t len);

/* The key's name as cfg spells it: "digits" or "classes". */
const char *config_classes_key(const Config *cfg);

/* [data] label_names split: name[l] is label l's name, l < n. The
 * pointers point into text. */
typedef struct {
    int n;
    const char *name[CONFIG_LABELS];
    char text[CONFIG_STR];
} ConfigLabelNames;
void config_label_names(const Config *cfg, ConfigLabelNames *out);

#endif
