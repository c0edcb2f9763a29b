/* test_config: the experiment file. Every key parsed, the defaults, each
 * error message (file:line, key, value, suggestion, what is accepted), --set
 * and --device overrides, decoder mirroring, the cross-key checks, and the
 * config_write round trip. Fixtures are written to a fresh temporary folder. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char dir[64];

/* Writes text to dir/name; returns the path (static buffer, one at a time). */
static const char *fixture(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(EXIT_FAILURE);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text as dir/name; returns config_load's result. */
static int load_text(Config *cfg, const char *name, const char *text, Err *err)
{
    err->msg[0] = '\0';
    return config_load(cfg, fixture(name, text), err);
}

/* Expects loading text to fail with a message holding every fragment. */
#define EXPECT_LOAD_ERROR(name, text, ...)                                                     \
    do {                                                                                       \
        Config c_;                                                                             \
        Err e_;                                                                                \
        CHECK(load_text(&c_, name, text, &e_) == -1, "%s should not load", name);              \
        const char *frags_[] = {__VA_ARGS__};                                                  \
        for (size_t i_ = 0; i_ < sizeof frags_ / sizeof frags_[0]; i_++)                       \
            CHECK_CONTAINS(e_.msg, frags_[i_]);                                                \
        CHECK(!strchr(e_.msg, '\n'), "one line: %s", e_.msg);                                  \
    } while (0)

/* Expects config_set to fail with a message holding every fragment. */
#define EXPECT_SET_ERROR(assign, ...)                                                          \
    do {                                                                                       \
        Config c_;                                                                             \
        Err e_ = {{0}};                                                                        \
        config_defaults(&c_);                                                                  \
        Config before_ = c_;                                                                   \
        CHECK(config_set(&c_, assign, &e_) == -1, "--set %s should fail", assign);             \
        CHECK(memcmp(&before_, &c_, sizeof c_) == 0, "--set %s changed cfg on error", assign); \
        const char *frags_[] = {__VA_ARGS__};                                                  \
        for (size_t i_ = 0; i_ < sizeof frags_ / sizeof frags_[0]; i_++)                       \
            CHECK_CONTAINS(e_.msg, frags_[i_]);                                                \
    } while (0)

/* Names the first field where a and b differ (source_path aside), or NULL. */
static const char *config_diff(const Config *a, const Config *b)
{
#define SAME_STR(f) if (strcmp(a->f, b->f) != 0) return #f
#define SAME(f) if (a->f != b->f) return #f
    SAME_STR(platform);
    SAME_STR(device);
    SAME(type);
    SAME_STR(data_dir);
    SAME(data_format);
    SAME_STR(train_images);
    SAME_STR(train_labels);
    SAME_STR(test_images);
    SAME_STR(test_labels);
    if (memcmp(a->classes, b->classes, sizeof a->classes) != 0) return "classes";
    SAME(classes_as_digits);
    SAME_STR(label_names);
    SAME(n_label_names);
    SAME(train_limit);
    SAME(device_memory);
    SAME(kind);
    SAME(n_encoder);
    for (int i = 0; i < a->n_encoder; i++)
        if (memcmp(&a->encoder[i], &b->encoder[i], sizeof a->encoder[i]) != 0) return "encoder";
    SAME(latent);
    SAME(n_decoder);
    for (int i = 0; i < a->n_decoder; i++)
        if (memcmp(&a->decoder[i], &b->decoder[i], sizeof a->decoder[i]) != 0) return "decoder";
    SAME(decoder_mirror);
    SAME(activation);
    SAME(output);
    SAME(init);
    SAME(init_std);
    SAME(epochs);
    SAME(batch_size);
    SAME(optimizer);
    SAME(learning_rate);
    SAME(beta1);
    SAME(beta2);
    SAME(epsilon);
    SAME(momentum);
    SAME(loss);
    SAME(kl_weight);
    SAME(seed);
    SAME(noise);
    SAME(noise_level);
    SAME(schedule);
    SAME(schedule_every);
    SAME(schedule_gamma);
    SAME(warmup);
    SAME(weight_decay);
    SAME(patience);
    SAME_STR(root);
    SAME_STR(name);
    SAME(recon_every);
    SAME(recon_count);
    SAME(checkpoint_every);
    SAME(heartbeat);
    return NULL;
#undef SAME
#undef SAME_STR
}

/* 1 when every label is selected ([data] classes = all). */
static int all_classes(const Config *c)
{
    for (int l = 0; l < CONFIG_LABELS; l++)
        if (!c->classes[l]) return 0;
    return 1;
}

/* 1 when exactly the labels of the comma list `want` are selected. */
static int classes_are(const Config *c, const char *want)
{
    unsigned char set[CONFIG_LABELS] = {0};
    for (const char *p = want; *p;) {
        set[atoi(p)] = 1;
        p += strcspn(p, ",");
        if (*p) p++;
    }
    return memcmp(set, c->classes, sizeof set) == 0;
}

/* The network of c for items of shape in, as layers_net_str writes it
 * ("784-500-300-2-300-500-784"), or the error. */
static const char *net_of(const Config *c, Shape3 in)
{
    static char buf[1024];
    ConfigNet net;
    Err err = {{0}};
    if (config_net(c, in, &net, &err)) {
        util_fmt(buf, sizeof buf, "error: %s", err.msg);
        return buf;
    }
    layers_net_str(net.layer, net.n_layers, buf, sizeof buf);
    return buf;
}

/* 1 when c's encoder is the dense widths w (n of them). */
static int widths_are(const LayerItem *items, int n_items, const int *w, int n)
{
    if (n_items != n) return 0;
    for (int i = 0; i < n; i++)
        if (items[i].kind != LAYER_DENSE || items[i].n != w[i]) return 0;
    return 1;
}
#define WIDTHS(items, n_items, ...)                                                         \
    widths_are(items, n_items, (const int[]){__VA_ARGS__},                                  \
               (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))
#define VEC(n) ((Shape3){(n), 1, 1})

static void test_defaults(void)
{
    Config c;
    config_defaults(&c);
    CHECK(strcmp(c.platform, "") == 0, "platform '%s'", c.platform);
    CHECK(strcmp(c.device, "0") == 0, "device '%s'", c.device);
    CHECK(c.type == DEVTYPE_ANY, "type %d", c.type);
    CHECK(strcmp(c.data_dir, "data/mnist") == 0, "dir '%s'", c.data_dir);
    CHECK(all_classes(&c) && !c.classes_as_digits, "classes = all");
    CHECK(c.data_format == DATA_IDX && !c.train_images[0] && !c.train_labels[0] &&
              !c.test_images[0] && !c.test_labels[0],
          "format idx, no .npy files");
    CHECK(!c.label_names[0] && c.n_label_names == 0, "no label names");
    CHECK(c.train_limit == 0, "train_limit %ld", c.train_limit);
    CHECK(c.device_memory == 0, "device_memory auto");
    CHECK(WIDTHS(c.encoder, c.n_encoder, 500, 300), "encoder");
    CHECK(c.latent == 2, "latent %d", c.latent);
    CHECK(c.decoder_mirror == 1 && c.n_decoder == 0, "decoder mirror");
    CHECK(strcmp(net_of(&c, VEC(784)), "784-500-300-2-300-500-784") == 0, "mirrored: %s",
          net_of(&c, VEC(784)));
    CHECK(c.activation == ACT_TANH, "activation");
    CHECK(c.output == ACT_LINEAR, "output");
    CHECK(c.init == INIT_NORMAL && c.init_std == 0.1, "init");
    CHECK(c.epochs == 10, "epochs %d", c.epochs);
    CHECK(c.batch_size == 50, "batch_size %d", c.batch_size);
    CHECK(c.optimizer == OPT_ADAM, "optimizer");
    CHECK(c.learning_rate == 1e-4, "learning_rate %g", c.learning_rate);
    CHECK(c.beta1 == 0.9 && c.beta2 == 0.999 && c.epsilon == 1e-8, "adam constants");
    CHECK(c.momentum == 0.9, "momentum");
    CHECK(c.loss == LOSS_MSE, "loss");
    CHECK(c.kind == MODEL_AE && c.kl_weight == 1.0, "kind ae, kl_weight 1");
    CHECK(c.seed == 1, "seed %lu", c.seed);
    CHECK(strcmp(c.root, "results") == 0, "root '%s'", c.root);
    CHECK(c.name[0], "name set");
    CHECK(c.recon_every == 1 && c.recon_count == 10, "recon");
    CHECK(c.heartbeat == 30, "heartbeat %d", c.heartbeat);
    CHECK(c.source_path[0] == '\0', "no source path");
    Err err = {{0}};
    CHECK(config_validate(&c, &err) == 0, "defaults validate: %s", err.msg);

    /* an empty file is all defaults, named after its stem */
    Config e;
    CHECK(load_text(&e, "empty.ini", "", &err) == 0, "empty file: %s", err.msg);
    CHECK(strcmp(e.name, "empty") == 0, "name from stem: '%s'", e.name);
    CHECK(strstr(e.source_path, "empty.ini") != NULL, "source_path '%s'", e.source_path);
    strcpy(c.name, e.name);
    const char *d = config_diff(&c, &e);
    CHECK(d == NULL, "empty file differs from defaults in %s", d ? d : "");

    /* stems: last extension dropped, odd characters replaced */
    CHECK(load_text(&e, "my run (2).v1.ini", "", &err) == 0, "%s", err.msg);
    CHECK(strcmp(e.name, "my_run__2_.v1") == 0, "sanitised stem '%s'", e.name);
    CHECK(load_text(&e, "noext", "; only a comment\n# and another\n\n", &err) == 0, "%s", err.msg);
    CHECK(strcmp(e.name, "noext") == 0, "stem without extension '%s'", e.name);
}

static const char EVERY_KEY[] =
    "\xEF\xBB\xBF; every key set to something other than its default\n"
    "[device]\n"
    "platform = Portable\n"
    "device = 3\n"
    "type = GPU ; enums are case-insensitive; inline comments start with ' ;'\n"
    "\n"
    "[data]\n"
    "dir = /tmp/some data\n"
    "format = NPY\n"
    "train_images = train x.npy\n"
    "train_labels = /abs/train_y.npy\n"
    "test_images = test_x.npy\n"
    "test_labels = test_y.npy\n"
    "classes = 1, 5,6\n"
    "label_names = T-shirt/top, Trouser , Pullover,Dress,Coat,Sandal,Shirt\n"
    "train_limit = 1234\n"
    "device_memory = 512m\n"
    "\n"
    "# decoder before encoder: order does not matter\n"
    "[model]\n"
    "kind = VAE\n"
    "decoder = 64,128,256\n"
    "encoder = 256 , 64\n"
    "latent = 3\n"
    "activation = leaky_relu\n"
    "output = sigmoid\n"
    "init = normal:0.05\n"
    "\n"
    "[train]\n"
    "epochs = 7\n"
    "batch_size = 32\n"
    "optimizer = momentum\n"
    "learning_rate = 0.003\n"
    "beta1 = 0.8\n"
    "beta2 = 0.99\n"
    "epsilon = 1e-7\n"
    "momentum = 0.5\n"
    "loss = bce\n"
    "kl_weight = 0.25\n"
    "seed = 18446744073709551615\n"
    "noise = Gaussian: 0.25\n"
    "schedule = step:5:0.5\n"
    "warmup = 2\n"
    "weight_decay = 1e-4\n"
    "patience = 3\n"
    "\n"
    "[output]\n"
    "root = out/runs\n"
    "name = my-exp_1.0\n"
    "recon_every = 0\n"
    "recon_count = 100\n"
    "checkpoint_every = 5\n"
    "heartbeat = 7\n";

static void check_every_key(const Config *c)
{
    CHECK(strcmp(c->platform, "Portable") == 0, "platform '%s'", c->platform);
    CHECK(strcmp(c->device, "3") == 0, "device '%s'", c->device);
    CHECK(c->type == DEVTYPE_GPU, "type %d", c->type);
    CHECK(strcmp(c->data_dir, "/tmp/some data") == 0, "dir '%s'", c->data_dir);
    CHECK(c->data_format == DATA_NPY, "format %d", c->data_format);
    CHECK(strcmp(c->train_images, "train x.npy") == 0 &&
              strcmp(c->train_labels, "/abs/train_y.npy") == 0 &&
              strcmp(c->test_images, "test_x.npy") == 0 && strcmp(c->test_labels, "test_y.npy") == 0,
          "the .npy files");
    CHECK(classes_are(c, "1,5,6") && !c->classes_as_digits, "classes 1,5,6");
    CHECK(strcmp(c->label_names, "T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt") == 0 &&
              c->n_label_names == 7,
          "label_names '%s' (%d)", c->label_names, c->n_label_names);
    CHECK(c->train_limit == 1234, "train_limit %ld", c->train_limit);
    CHECK(c->device_memory == 512ULL << 20, "device_memory %llu", c->device_memory);
    CHECK(WIDTHS(c->encoder, c->n_encoder, 256, 64), "encoder");
    CHECK(c->latent == 3, "latent %d", c->latent);
    CHECK(!c->decoder_mirror && WIDTHS(c->decoder, c->n_decoder, 64, 128, 256),
          "explicit decoder kept when encoder follows it");
    CHECK(c->activation == ACT_LEAKY_RELU, "activation %d", c->activation);
    CHECK(c->output == ACT_SIGMOID, "output %d", c->output);
    CHECK(c->init == INIT_NORMAL && c->init_std == 0.05, "init %d %g", c->init, c->init_std);
    CHECK(c->epochs == 7, "epochs %d", c->epochs);
    CHECK(c->batch_size == 32, "batch_size %d", c->batch_size);
    CHECK(c->optimizer == OPT_MOMENTUM, "optimizer %d", c->optimizer);
    CHECK(c->learning_rate == 0.003, "learning_rate %g", c->learning_rate);
    CHECK(c->beta1 == 0.8 && c->beta2 == 0.99, "betas %g %g", c->beta1, c->beta2);
    CHECK(c->epsilon == 1e-7, "epsilon %g", c->epsilon);
    CHECK(c->momentum == 0.5, "momentum %g", c->momentum);
    CHECK(c->loss == LOSS_BCE, "loss %d", c->loss);
    CHECK(c->kind == MODEL_VAE, "kind %d", c->kind);
    CHECK(c->kl_weight == 0.25, "kl_weight %g", c->kl_weight);
    CHECK(c->seed == ULONG_MAX, "seed %lu", c->seed);
    CHECK(c->noise == NOISE_GAUSSIAN && c->noise_level == 0.25, "noise %d %g", c->noise,
          c->noise_level);
    CHECK(c->schedule == SCHEDULE_STEP && c->schedule_every == 5 && c->schedule_gamma == 0.5,
          "schedule %d %d %g", c->schedule, c->schedule_every, c->schedule_gamma);
    CHECK(c->warmup == 2, "warmup %d", c->warmup);
    CHECK(c->weight_decay == 1e-4, "weight_decay %g", c->weight_decay);
    CHECK(c->patience == 3, "patience %d", c->patience);
    CHECK(strcmp(c->root, "out/runs") == 0, "root '%s'", c->root);
    CHECK(strcmp(c->name, "my-exp_1.0") == 0, "name '%s'", c->name);
    CHECK(c->recon_every == 0, "recon_every %d", c->recon_every);
    CHECK(c->recon_count == 100, "recon_count %d", c->recon_count);
    CHECK(c->checkpoint_every == 5, "checkpoint_every %d", c->checkpoint_every);
    CHECK(c->heartbeat == 7, "heartbeat %d", c->heartbeat);
}

static void test_every_key(void)
{
    Config c;
    Err err = {{0}};
    CHECK(load_text(&c, "every.ini", EVERY_KEY, &err) == 0, "every.ini: %s", err.msg);
    check_every_key(&c);
    CHECK(config_validate(&c, &err) == 0, "every.ini validates: %s", err.msg);

    /* the same with Windows line ends */
    char crlf[2 * sizeof EVERY_KEY];
    size_t n = 0;
    for (const char *s = EVERY_KEY; *s; s++) {
        if (*s == '\n') crlf[n++] = '\r';
        crlf[n++] = *s;
    }
    crlf[n] = '\0';
    CHECK(load_text(&c, "crlf.ini", crlf, &err) == 0, "crlf.ini: %s", err.msg);
    check_every_key(&c);

    /* the other enum values, init forms, and zero hidden layers */
    CHECK(load_text(&c, "more.ini",
                    "[device]\ntype = cpu\n[model]\nencoder = none\nactivation = relu\n"
                    "init = Xavier\n[train]\noptimizer = sgd\n",
                    &err) == 0,
          "more.ini: %s", err.msg);
    CHECK(c.type == DEVTYPE_CPU && c.activation == ACT_RELU && c.init == INIT_XAVIER &&
              c.optimizer == OPT_SGD,
          "cpu/relu/xavier/sgd");
    CHECK(c.n_encoder == 0 && c.n_decoder == 0 && c.decoder_mirror, "no hidden layers");
    CHECK(load_text(&c, "more2.ini",
                    "[device]\ntype = accelerator\n[model]\nencoder =\ndecoder = none\n"
                    "activation = sigmoid\ninit = he\n[data]\ndigits = all\n",
                    &err) == 0,
          "more2.ini: %s", err.msg);
    CHECK(c.type == DEVTYPE_ACCELERATOR && c.activation == ACT_SIGMOID && c.init == INIT_HE,
          "accelerator/sigmoid/he");
    CHECK(c.n_encoder == 0 && c.n_decoder == 0 && !c.decoder_mirror, "explicit none decoder");
    CHECK(all_classes(&c) && c.classes_as_digits, "digits = all");
    /* init = torch, the other noise and schedule forms, their bounds */
    CHECK(load_text(&c, "recipe.ini",
                    "[model]\ninit = Torch\n[train]\nnoise = mask:0.5\nschedule = COSINE\n"
                    "warmup = 0\nweight_decay = 0\npatience = 0\n",
                    &err) == 0,
          "recipe.ini: %s", err.msg);
    CHECK(c.init == INIT_TORCH && c.noise == NOISE_MASK && c.noise_level == 0.5 &&
              c.schedule == SCHEDULE_COSINE && c.warmup == 0 && c.weight_decay == 0 &&
              c.patience == 0,
          "torch/mask/cosine");
    CHECK(load_text(&c, "recipe2.ini",
                    "[train]\nnoise = gaussian:0\nschedule = step: 1 :1\nepochs = 1000000\n"
                    "warmup = 999999\npatience = 1000000\n",
                    &err) == 0,
          "recipe2.ini: %s", err.msg);
    CHECK(c.noise == NOISE_GAUSSIAN && c.noise_level == 0 && c.schedule == SCHEDULE_STEP &&
              c.schedule_every == 1 && c.schedule_gamma == 1 && c.warmup == 999999 &&
              c.patience == 1000000,
          "recipe bounds");
    CHECK(config_validate(&c, &err) == 0, "warmup < epochs validates: %s", err.msg);
    CHECK(load_text(&c, "recipe3.ini", "[train]\nnoise = mask:0\nschedule = constant\n",
                    &err) == 0 &&
              c.noise == NOISE_MASK && c.noise_level == 0 && c.schedule == SCHEDULE_CONSTANT,
          "mask:0, constant: %s", err.msg);
    /* the largest sizes and counts accepted */
    CHECK(load_text(&c, "big.ini",
                    "[model]\nencoder = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,65536\n"
                    "[data]\ntrain_limit = 1000000000\n[train]\nepochs = 1000000\n"
                    "batch_size = 1\nseed = 0\n",
                    &err) == 0,
          "big.ini: %s", err.msg);
    CHECK(c.n_encoder == 16 && c.encoder[15].n == 65536 && c.decoder_mirror, "16 layers");
    CHECK(strncmp(net_of(&c, VEC(3)), "3-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-65536-2-65536-15-",
                  55) == 0,
          "16 layers mirrored: %s", net_of(&c, VEC(3)));
    CHECK(c.train_limit == 1000000000 && c.epochs == 1000000 && c.seed == 0, "upper bounds");
}

static void test_file_errors(void)
{
    Err err;
    Config c;
    /* cannot open */
    CHECK(config_load(&c, "nope.ini", &err) == -1, "missing file");
    CHECK(strcmp(err.msg, "nope.ini: cannot open: No such file or directory") == 0, "%s",
          err.msg);
    CHECK(config_load(&c, dir, &err) == -1, "a folder is not a file");
    CHECK_CONTAINS(err.msg, "cannot read");

    /* unknown section: the header's own line, a suggestion, the list */
    EXPECT_LOAD_ERROR("section.ini", "[trian]\nepochs = 2\n", "section.ini:1: ",
                      "unknown section [trian]; did you mean [train]? sections: device, data, "
                      "model, train, output");
    EXPECT_LOAD_ERROR("section2.ini", "[train]\nepochs = 2\n\n[bogus]\n", "section2.ini:4: ",
                      "unknown section [bogus]; sections: device, data, model, train, output");
    CHECK(load_text(&c, "section3.ini", "[bogus]\n", &err) == -1 &&
              strstr(err.msg, "section3.ini:1: unknown section [bogus]") != NULL,
          "an empty unknown section is caught too: %s", err.msg);
    /* unknown key: its line, a suggestion when close, else the section's keys */
    EXPECT_LOAD_ERROR("typo.ini", "[train]\nepochs = 2\nlearnig_rate = 0.1\n",
                      "typo.ini:3: unknown key 'learnig_rate' in [train]; did you mean "
                      "'learning_rate'?");
    EXPECT_LOAD_ERROR("typo2.ini", "[train]\nbatchsize = 5\n", "typo2.ini:2: ",
                      "did you mean 'batch_size'?");
    EXPECT_LOAD_ERROR("typo3.ini", "[train]\nwhatever = 5\n", "typo3.ini:2: ",
                      "unknown key 'whatever' in [train]; keys: epochs, batch_size, optimizer, "
                      "learning_rate, beta1, beta2, epsilon, momentum, loss, kl_weight, seed, "
                      "noise, schedule, warmup, weight_decay, patience");
    EXPECT_LOAD_ERROR("typo5.ini", "[train]\nkl_wieght = 1\n", "typo5.ini:2: ",
                      "unknown key 'kl_wieght' in [train]; did you mean 'kl_weight'?");
    EXPECT_LOAD_ERROR("typo6.ini", "[train]\nkind = vae\n", "typo6.ini:2: ",
                      "unknown key 'kind' in [train]; it belongs in [model]");
    EXPECT_LOAD_ERROR("typo4.ini", "[model]\n\nepochs = 5\n", "typo4.ini:3: ",
                      "unknown key 'epochs' in [model]; it belongs in [train]");
    EXPECT_LOAD_ERROR("nosection.ini", "; comment\nepochs = 5\n", "nosection.ini:2: ",
                      "'epochs' comes before any [section] header; it belongs in [train]");
    /* bad values: the key, the value, what is accepted */
    EXPECT_LOAD_ERROR("value.ini", "[model]\nactivation = swish\n",
                      "value.ini:2: [model] activation = 'swish': expected one of tanh, relu, "
                      "sigmoid, leaky_relu");
    EXPECT_LOAD_ERROR("linear.ini", "[model]\nactivation = linear\n", "linear.ini:2",
                      "'linear'", "expected one of tanh");
    EXPECT_LOAD_ERROR("output.ini", "[model]\noutput = tanh\n", "output.ini:2",
                      "[model] output = 'tanh': expected one of linear, sigmoid");
    EXPECT_LOAD_ERROR("epochs.ini", "[train]\nepochs = 0\n",
                      "epochs.ini:2: [train] epochs = '0': expected a whole number 1..1000000");
    EXPECT_LOAD_ERROR("junk.ini", "[train]\n\n\nepochs = 5x\n", "junk.ini:4:", "'5x'",
                      "1..1000000");
    EXPECT_LOAD_ERROR("hash.ini", "[train]\nepochs = 5 # five\n", "hash.ini:2:",
                      "'5 # five'", "starts with ' ;'");
    EXPECT_LOAD_ERROR("float.ini", "[train]\nbatch_size = 2.5\n", "float.ini:2:",
                      "[train] batch_size = '2.5': expected a whole number 1..65536");
    EXPECT_LOAD_ERROR("lr.ini", "[train]\nlearning_rate = 0\n", "lr.ini:2:",
                      "[train] learning_rate = '0': expected a number > 0");
    EXPECT_LOAD_ERROR("lr2.ini", "[train]\nlearning_rate = nan\n", "'nan'", "a number > 0");
    EXPECT_LOAD_ERROR("lr3.ini", "[train]\nlearning_rate = inf\n", "'inf'", "a number > 0");
    EXPECT_LOAD_ERROR("beta.ini", "[train]\nbeta2 = 1\n",
                      "[train] beta2 = '1': expected a number in [0, 1)");
    EXPECT_LOAD_ERROR("mom.ini", "[train]\nmomentum = -0.1\n", "[train] momentum = '-0.1'",
                      "[0, 1)");
    EXPECT_LOAD_ERROR("eps.ini", "[train]\nepsilon = 0\n", "[train] epsilon = '0'", "> 0");
    EXPECT_LOAD_ERROR("seed.ini", "[train]\nseed = -1\n", "[train] seed = '-1'",
                      "a whole number 0..18446744073709551615");
    EXPECT_LOAD_ERROR("seed2.ini", "[train]\nseed = 18446744073709551616\n", "seed", "0..");
    EXPECT_LOAD_ERROR("opt.ini", "[train]\noptimizer = rmsprop\n", "'rmsprop'",
                      "one of adam, sgd, momentum");
    EXPECT_LOAD_ERROR("loss.ini", "[train]\nloss = l1\n", "[train] loss = 'l1'",
                      "one of mse, bce");
    EXPECT_LOAD_ERROR("kind.ini", "[model]\nkind = gan\n",
                      "kind.ini:2: [model] kind = 'gan': expected one of ae, vae");
    EXPECT_LOAD_ERROR("kind2.ini", "[model]\nkind =\n", "[model] kind = ''", "one of ae, vae");
    EXPECT_LOAD_ERROR("klw.ini", "[train]\nkl_weight = -0.5\n",
                      "klw.ini:2: [train] kl_weight = '-0.5': expected a number >= 0");
    EXPECT_LOAD_ERROR("klw2.ini", "[train]\nkl_weight = nan\n", "'nan'", "a number >= 0");
    EXPECT_LOAD_ERROR("klw3.ini", "[train]\nkl_weight = 1e999\n", "'1e999'", "a number >= 0");
    EXPECT_LOAD_ERROR("klw4.ini", "[train]\nkl_weight = one\n", "'one'", "a number >= 0");
    EXPECT_LOAD_ERROR("type.ini", "[device]\ntype = fpga\n", "[device] type = 'fpga'",
                      "one of gpu, cpu, accelerator, any");
    EXPECT_LOAD_ERROR("devidx.ini", "[device]\ndevice = 123456\n", "'123456'", "0..9999");
    EXPECT_LOAD_ERROR("devempty.ini", "[device]\ndevice =\n", "[device] device = ''",
                      "must not be empty");
    EXPECT_LOAD_ERROR("dir.ini", "[data]\ndir =\n", "[data] dir = ''", "must not be empty");
    EXPECT_LOAD_ERROR("limit.ini", "[data]\ntrain_limit = -5\n", "'-5'", "0..1000000000");
    /* [data] device_memory: auto or a size above 0, K M G T powers of 1024 */
    EXPECT_LOAD_ERROR("dm0.ini", "[data]\ndevice_memory = 0\n", "dm0.ini:2:",
                      "[data] device_memory = '0': expected auto", "0 bytes leave no room");
    EXPECT_LOAD_ERROR("dm1.ini", "[data]\ndevice_memory = 0G\n", "'0G'", "0 bytes leave no room");
    const char *bad_sizes[] = {"-1", "12X", "1.5G", "5KB", "G", "2 G", "autoo", "1P",
                               "9999999999999999999", "10000000T"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        Config c;
        Err e = {{0}};
        config_defaults(&c);
        char assign[64], want[64];
        snprintf(assign, sizeof assign, "data.device_memory=%s", bad_sizes[i]);
        snprintf(want, sizeof want, "[data] device_memory = '%s': expected auto", bad_sizes[i]);
        CHECK(config_set(&c, assign, &e) == -1 && strstr(e.msg, want) &&
                  strstr(e.msg, "such as 512M or 2G") && c.device_memory == 0,
              "device_memory = %s refused: %s", bad_sizes[i], e.msg);
    }
    {
        static const struct {
            const char *in, *out;
            unsigned long long bytes;
        } sizes[] = {{"auto", "auto", 0},         {"AUTO", "auto", 0},
                     {"1", "1", 1},                {"1000", "1000", 1000},
                     {"1024", "1K", 1024},         {"64k", "64K", 64 << 10},
                     {"512M", "512M", 512ULL << 20}, {"2048M", "2G", 2ULL << 30},
                     {"2g", "2G", 2ULL << 30},     {"3T", "3T", 3ULL << 40},
                     {"1536K", "1536K", 1536ULL << 10}};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            Config c;
            Err e = {{0}};
            config_defaults(&c);
            char assign[64], text[32];
            snprintf(assign, sizeof assign, "data.device_memory=%s", sizes[i].in);
            int rc = config_set(&c, assign, &e);
            config_size_str(c.device_memory, text, sizeof text);
            CHECK(rc == 0 && c.device_memory == sizes[i].bytes && strcmp(text, sizes[i].out) == 0,
                  "device_memory = %s: %llu bytes, written %s (%s)", sizes[i].in, c.device_memory,
                  text, e.msg);
        }
    }
    EXPECT_LOAD_ERROR("digits.ini", "[data]\ndigits = 1,12\n", "digits.ini:2:",
                      "[data] digits = '1,12': expected all, or a comma list of digits 0-9");
    EXPECT_LOAD_ERROR("digits2.ini", "[data]\ndigits =\n", "digits2.ini:2:",
                      "[data] digits = ''", "expected all");
    EXPECT_LOAD_ERROR("digits3.ini", "[data]\ndigits = 1,,5\n", "'1,,5'");
    EXPECT_LOAD_ERROR("enc.ini", "[model]\nencoder = 500,0\n", "enc.ini:2:",
                      "[model] encoder = '500,0': expected a comma list of at most 16 layers",
                      "'0': a width must be 1..65536");
    EXPECT_LOAD_ERROR("enc2.ini", "[model]\nencoder = 500,65537\n", "'65537'");
    EXPECT_LOAD_ERROR("enc3.ini", "[model]\nencoder = 500,\n", "'500,'");
    EXPECT_LOAD_ERROR("enc4.ini", "[model]\nencoder = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
                      "more than 16 layers");
    EXPECT_LOAD_ERROR("dec.ini", "[model]\ndecoder = mirrored\n", "[model] decoder = 'mirrored'",
                      "expected mirror");
    EXPECT_LOAD_ERROR("latent.ini", "[model]\nlatent = 0\n", "1..65536");
    EXPECT_LOAD_ERROR("init.ini", "[model]\ninit = uniform\n", "[model] init = 'uniform'",
                      "normal:STDDEV", "xavier", "he");
    EXPECT_LOAD_ERROR("init2.ini", "[model]\ninit = normal:-1\n", "'normal:-1'", "(0, 100]");
    EXPECT_LOAD_ERROR("init3.ini", "[model]\ninit = normal\n", "'normal'", "normal:STDDEV");
    EXPECT_LOAD_ERROR("init4.ini", "[model]\ninit = pytorch\n", "init4.ini:2: ",
                      "[model] init = 'pytorch'", "xavier, he, or torch");
    /* [train] noise: unknown kinds, bad numbers, negative SD, P outside [0, 1) */
    EXPECT_LOAD_ERROR("noise.ini", "[train]\nnoise = salt:0.1\n", "noise.ini:2: ",
                      "[train] noise = 'salt:0.1': expected none, gaussian:SD with SD >= 0 (such "
                      "as gaussian:0.3), or mask:P with P in [0, 1) (such as mask:0.25)");
    EXPECT_LOAD_ERROR("noise2.ini", "[train]\nnoise = gaussian:-0.1\n",
                      "[train] noise = 'gaussian:-0.1'", "cannot be negative");
    EXPECT_LOAD_ERROR("noise3.ini", "[train]\nnoise = mask:1\n", "[train] noise = 'mask:1'",
                      "P in [0, 1)", "probability");
    EXPECT_LOAD_ERROR("noise4.ini", "[train]\nnoise = mask:-0.5\n", "'mask:-0.5'", "probability");
    EXPECT_LOAD_ERROR("noise5.ini", "[train]\nnoise = gaussian\n", "'gaussian'", "gaussian:SD");
    EXPECT_LOAD_ERROR("noise6.ini", "[train]\nnoise = gaussian:nan\n", "'gaussian:nan'");
    EXPECT_LOAD_ERROR("noise7.ini", "[train]\nnoise = mask:0.1x\n", "'mask:0.1x'");
    EXPECT_LOAD_ERROR("noise8.ini", "[train]\nnoise =\n", "[train] noise = ''");
    /* [train] schedule */
    EXPECT_LOAD_ERROR("sched.ini", "[train]\nschedule = linear\n", "sched.ini:2: ",
                      "[train] schedule = 'linear': expected constant, step:EVERY:GAMMA with EVERY "
                      "1..1000000 epochs and GAMMA in (0, 1] (such as step:10:0.5), or cosine");
    EXPECT_LOAD_ERROR("sched2.ini", "[train]\nschedule = step:10\n", "'step:10'");
    EXPECT_LOAD_ERROR("sched3.ini", "[train]\nschedule = step:0:0.5\n", "'step:0:0.5'");
    EXPECT_LOAD_ERROR("sched4.ini", "[train]\nschedule = step:10:1.5\n", "'step:10:1.5'",
                      "GAMMA multiplies");
    EXPECT_LOAD_ERROR("sched5.ini", "[train]\nschedule = step:10:0\n", "'step:10:0'", "(0, 1]");
    EXPECT_LOAD_ERROR("sched6.ini", "[train]\nschedule = step:2.5:0.5\n", "'step:2.5:0.5'");
    EXPECT_LOAD_ERROR("sched7.ini", "[train]\nschedule = step:10:0.5:2\n", "'step:10:0.5:2'");
    EXPECT_LOAD_ERROR("sched8.ini", "[train]\nschedule = cosine:10\n", "'cosine:10'");
    /* warmup, weight_decay, patience */
    EXPECT_LOAD_ERROR("warmup.ini", "[train]\nwarmup = -1\n", "[train] warmup = '-1'",
                      "0..1000000");
    EXPECT_LOAD_ERROR("wd.ini", "[train]\nweight_decay = -1e-4\n",
                      "[train] weight_decay = '-1e-4': expected a number >= 0");
    EXPECT_LOAD_ERROR("wd2.ini", "[train]\nweight_decay = inf\n", "'inf'");
    EXPECT_LOAD_ERROR("patience.ini", "[train]\npatience = 2.5\n", "[train] patience = '2.5'",
                      "0..1000000");
    EXPECT_LOAD_ERROR("patience2.ini", "[train]\npatiense = 2\n", "did you mean 'patience'?");
    EXPECT_LOAD_ERROR("noise9.ini", "[model]\nnoise = none\n",
                      "unknown key 'noise' in [model]; it belongs in [train]");
    EXPECT_LOAD_ERROR("name.ini", "[output]\nname = a/b\n", "[output] name = 'a/b'",
                      "A-Z a-z 0-9 . _ -");
    EXPECT_LOAD_ERROR("name2.ini", "[output]\nname =\n", "[output] name = ''");
    EXPECT_LOAD_ERROR("recon.ini", "[output]\nrecon_count = 101\n", "'101'", "1..100");
    EXPECT_LOAD_ERROR("recon2.ini", "[output]\nrecon_every = -1\n", "'-1'", "0..1000000");
    EXPECT_LOAD_ERROR("beat.ini", "[output]\nheartbeat = 0\n", "heartbeat = '0'", "1..86400");
    EXPECT_LOAD_ERROR("beat2.ini", "[output]\nheartbeat = 86401\n", "'86401'", "1..86400");
    EXPECT_LOAD_ERROR("beat3.ini", "[output]\nheartbeat = 2.5\n", "'2.5'", "1..86400");
    EXPECT_LOAD_ERROR("beat4.ini", "[output]\nheartbeat = 30s\n", "'30s'", "1..86400");
    /* a key twice, even across two headers of one section */
    EXPECT_LOAD_ERROR("dup.ini", "[train]\nepochs = 2\n[model]\nlatent = 3\n[train]\nepochs = 3\n",
                      "dup.ini:6: [train] epochs is set twice (first on line 2)");
    /* lines inih cannot read as a key or a header */
    EXPECT_LOAD_ERROR("syntax.ini", "[train]\nepochs 5\n",
                      "syntax.ini:2: not a 'key = value' line or [section] header");
    EXPECT_LOAD_ERROR("syntax2.ini", "[train\nepochs = 5\n", "syntax2.ini:1:", "without ']'");
    /* the first error wins, whether inih's or ours */
    EXPECT_LOAD_ERROR("first.ini", "[train]\njunk\nepochs = abc\n", "first.ini:2:");
    EXPECT_LOAD_ERROR("first2.ini", "[train]\nepochs = abc\njunk\n", "first2.ini:2:", "'abc'");
    /* an indented line after a key is inih's multi-line value: say so */
    EXPECT_LOAD_ERROR("indent.ini", "[train]\nepochs = 2\n  batch_size = 5\n", "indent.ini:3:",
                      "indented line", "[train] epochs");
    /* a line too long for inih's buffer is not split silently */
    char longline[400];
    snprintf(longline, sizeof longline, "[data]\ndir = /%0300d\n", 0);
    EXPECT_LOAD_ERROR("long.ini", longline, "long.ini:2:", "line longer than");
}

static void test_set(void)
{
    Config c;
    Err err = {{0}};
    CHECK(load_text(&c, "base.ini", "[train]\nepochs = 5\n", &err) == 0, "%s", err.msg);
    CHECK(config_set(&c, "train.epochs=3", &err) == 0 && c.epochs == 3, "--set epochs");
    CHECK(config_set(&c, " train . epochs = 4 ", &err) == 0 && c.epochs == 4, "blanks trimmed");
    CHECK(config_set(&c, "train.epochs=6", &err) == 0 && c.epochs == 6, "the last --set wins");
    CHECK(config_set(&c, "train.learning_rate=1e12", &err) == 0 && c.learning_rate == 1e12,
          "no upper bound on the learning rate");
    CHECK(config_set(&c, "data.dir=/a/b=c.d", &err) == 0 && strcmp(c.data_dir, "/a/b=c.d") == 0,
          "'=' and '.' in the value: '%s'", c.data_dir);
    CHECK(config_set(&c, "model.activation=ReLU", &err) == 0 && c.activation == ACT_RELU,
          "case-insensitive enum");
    CHECK(config_set(&c, "output.name=x", &err) == 0 && strcmp(c.name, "x") == 0, "name");
    CHECK(config_set(&c, "device.platform=", &err) == 0 && c.platform[0] == '\0',
          "empty platform");

    EXPECT_SET_ERROR("train.epochs=abc",
                     "--set train.epochs=abc: [train] epochs = 'abc': expected a whole number "
                     "1..1000000");
    EXPECT_SET_ERROR("epochs", "--set epochs: expected SECTION.KEY=VALUE (for example --set "
                               "train.epochs=5)");
    EXPECT_SET_ERROR("epochs=5", "--set epochs=5: expected SECTION.KEY=VALUE");
    EXPECT_SET_ERROR("train.epochs", "expected SECTION.KEY=VALUE");
    EXPECT_SET_ERROR(".epochs=5", "expected SECTION.KEY=VALUE");
    EXPECT_SET_ERROR("train.=5", "expected SECTION.KEY=VALUE");
    EXPECT_SET_ERROR("train.batchsize=5",
                     "--set train.batchsize=5: unknown key 'batchsize' in [train]; did you mean "
                     "'batch_size'?");
    EXPECT_SET_ERROR("trian.epochs=5",
                     "--set trian.epochs=5: unknown section [trian]; did you mean [train]? "
                     "sections: device, data, model, train, output");
    EXPECT_SET_ERROR("data.digits=1,12", "--set data.digits=1,12: [data] digits = '1,12'",
                     "digits 0-9");
    EXPECT_SET_ERROR("data.dir=a ;b", "[data] dir = 'a ;b'", "starts a comment");
    EXPECT_SET_ERROR("data.dir=a\nb", "control characters");
    EXPECT_SET_ERROR("output.name=bad name", "[output] name = 'bad name'");
    EXPECT_SET_ERROR("model.kind=VAE2", "--set model.kind=VAE2: [model] kind = 'VAE2': expected "
                                        "one of ae, vae");
    EXPECT_SET_ERROR("train.kl_weight=-1", "--set train.kl_weight=-1: [train] kl_weight = '-1'",
                     ">= 0");
    CHECK(config_set(&c, "model.kind = vae", &err) == 0 && c.kind == MODEL_VAE &&
              config_set(&c, "train.kl_weight=0", &err) == 0 && c.kl_weight == 0.0 &&
              config_set(&c, "model.kind=ae", &err) == 0 && c.kind == MODEL_AE &&
              config_set(&c, "train.kl_weight=1", &err) == 0,
          "kind and kl_weight by --set, 0 allowed: %s", err.msg);
    EXPECT_SET_ERROR("train.noise=mask:1.5", "--set train.noise=mask:1.5: [train] noise = "
                                             "'mask:1.5'", "probability");
    EXPECT_SET_ERROR("train.schedule=step:3:2", "--set train.schedule=step:3:2: [train] "
                                                "schedule = 'step:3:2'");
    EXPECT_SET_ERROR("train.weight_decay=-1", "[train] weight_decay = '-1'");
    CHECK(config_set(&c, "train.noise=gaussian:0.3", &err) == 0 && c.noise == NOISE_GAUSSIAN &&
              c.noise_level == 0.3,
          "--set noise: %s", err.msg);
    CHECK(config_set(&c, "train.noise=none", &err) == 0 && c.noise == NOISE_NONE &&
              c.noise_level == 0,
          "--set noise back to none");
    CHECK(config_set(&c, "train.schedule=step:2:0.1", &err) == 0 &&
              config_set(&c, "train.schedule=cosine", &err) == 0 &&
              c.schedule == SCHEDULE_COSINE && c.schedule_every == 0 && c.schedule_gamma == 1,
          "--set schedule: step, then cosine resets its numbers");

    /* loss=bce is one key's valid value; the cross-key check is config_validate's */
    CHECK(config_set(&c, "train.loss=bce", &err) == 0, "bce parses");
    CHECK(config_validate(&c, &err) == -1, "bce with linear output");
    CHECK(strcmp(err.msg, "[train] loss = bce needs [model] output = sigmoid (now linear)") == 0,
          "%s", err.msg);
    CHECK(config_set(&c, "model.output=sigmoid", &err) == 0 && config_validate(&c, &err) == 0,
          "bce with sigmoid output: %s", err.msg);

    /* a long value is an error, not a silent truncation */
    char big[6000];
    memset(big, 'a', sizeof big);
    memcpy(big, "data.dir=", 9);
    big[sizeof big - 1] = '\0';
    CHECK(config_set(&c, big, &err) == -1, "huge value");
    memset(big + 9, 'a', 300);
    big[309] = '\0';
    CHECK(config_set(&c, big, &err) == -1 && strstr(err.msg, "too long"), "%s", err.msg);
}

static void test_mirror(void)
{
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=400,200,100", &err) == 0, "%s", err.msg);
    CHECK(c.decoder_mirror && strcmp(net_of(&c, VEC(784)), "784-400-200-100-2-100-200-400-784") == 0,
          "mirror follows --set encoder: %s", net_of(&c, VEC(784)));
    CHECK(config_set(&c, "model.decoder=32", &err) == 0 && !c.decoder_mirror &&
              WIDTHS(c.decoder, c.n_decoder, 32),
          "explicit decoder");
    CHECK(config_set(&c, "model.encoder=10", &err) == 0 && WIDTHS(c.decoder, c.n_decoder, 32) &&
              strcmp(net_of(&c, VEC(784)), "784-10-2-32-784") == 0,
          "an explicit decoder does not follow the encoder: %s", net_of(&c, VEC(784)));
    CHECK(config_set(&c, "model.decoder=MIRROR", &err) == 0 && c.decoder_mirror &&
              strcmp(net_of(&c, VEC(784)), "784-10-2-10-784") == 0,
          "back to mirror: %s", net_of(&c, VEC(784)));
    CHECK(config_set(&c, "model.encoder=none", &err) == 0 &&
              strcmp(net_of(&c, VEC(784)), "784-2-784") == 0,
          "none mirrored: %s", net_of(&c, VEC(784)));

    /* in a file, decoder = mirror before encoder still mirrors the file's encoder */
    CHECK(load_text(&c, "mirror.ini", "[model]\ndecoder = mirror\nencoder = 7,8\n", &err) == 0,
          "%s", err.msg);
    CHECK(strcmp(net_of(&c, VEC(5)), "5-7-8-2-8-7-5") == 0, "file order: %s", net_of(&c, VEC(5)));
    /* and a file's mirror follows a later --set encoder */
    CHECK(config_set(&c, "model.encoder=1,2,3", &err) == 0 &&
              strcmp(net_of(&c, VEC(5)), "5-1-2-3-2-3-2-1-5") == 0,
          "file mirror, --set encoder: %s", net_of(&c, VEC(5)));
}

static void test_device(void)
{
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    CHECK(config_set(&c, "device.type=gpu", &err) == 0, "%s", err.msg);
    CHECK(config_set_device(&c, "0:1", "--device", &err) == 0, "%s", err.msg);
    CHECK(strcmp(c.platform, "0") == 0 && strcmp(c.device, "1") == 0 && c.type == DEVTYPE_ANY,
          "P:D -> '%s' '%s' %d", c.platform, c.device, c.type);
    CHECK(config_set_device(&c, "gpu", "--device", &err) == 0, "%s", err.msg);
    CHECK(c.platform[0] == '\0' && strcmp(c.device, "0") == 0 && c.type == DEVTYPE_GPU, "gpu");
    CHECK(config_set_device(&c, "CPU", "CLAE_DEVICE", &err) == 0 && c.type == DEVTYPE_CPU, "cpu");
    CHECK(config_set_device(&c, "accelerator", "--device", &err) == 0 &&
              c.type == DEVTYPE_ACCELERATOR,
          "accelerator");
    CHECK(config_set_device(&c, "any", "--device", &err) == 0 && c.type == DEVTYPE_ANY, "any");
    CHECK(config_set_device(&c, "GeForce RTX", "--device", &err) == 0, "%s", err.msg);
    CHECK(c.platform[0] == '\0' && strcmp(c.device, "GeForce RTX") == 0 && c.type == DEVTYPE_ANY,
          "substring -> '%s'", c.device);
    CHECK(config_set_device(&c, "gfx90a:sramecc+:xnack-", "--device", &err) == 0 &&
              strcmp(c.device, "gfx90a:sramecc+:xnack-") == 0,
          "a name with ':' is a substring");

    Config before = c;
    CHECK(config_set_device(&c, "", "--device", &err) == -1, "empty spec");
    CHECK(strcmp(err.msg, "--device '': expected P:D (platform:device indices), gpu, cpu, "
                          "accelerator, any, or a device-name substring") == 0,
          "%s", err.msg);
    CHECK(config_set_device(&c, "  ", "CLAE_DEVICE", &err) == -1, "blank spec");
    CHECK_CONTAINS(err.msg, "CLAE_DEVICE '  ': expected P:D");
    CHECK(config_set_device(&c, "99999:0", "--device", &err) == -1, "index too large");
    CHECK_CONTAINS(err.msg, "--device '99999:0': [device] platform = '99999'");
    CHECK_CONTAINS(err.msg, "0..9999");
    CHECK(memcmp(&before, &c, sizeof c) == 0, "a bad spec leaves the config alone");

    /* a later --set still wins over --device */
    CHECK(config_set_device(&c, "1:2", "--device", &err) == 0 &&
              config_set(&c, "device.device=3", &err) == 0 && strcmp(c.device, "3") == 0,
          "--set after --device");
}

static void test_validate(void)
{
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    memset(c.classes, 0, sizeof c.classes);
    CHECK(config_validate(&c, &err) == -1, "no class");
    CHECK_CONTAINS(err.msg, "[data] classes selects no class");
    c.classes_as_digits = 1;
    CHECK(config_validate(&c, &err) == -1, "no digit");
    CHECK_CONTAINS(err.msg, "[data] digits selects no digit");
    config_defaults(&c);
    c.loss = LOSS_BCE;
    c.output = ACT_LINEAR;
    CHECK(config_validate(&c, &err) == -1 && strstr(err.msg, "[model] output = sigmoid"),
          "bce: %s", err.msg);
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=65536", &err) == 0 &&
              config_set(&c, "train.batch_size=65536", &err) == 0,
          "%s", err.msg);
    CHECK(config_validate(&c, &err) == -1, "batch x layer too large for int indices");
    CHECK_CONTAINS(err.msg, "[train] batch_size = 65536");
    config_defaults(&c);
    CHECK(config_set(&c, "model.encoder=65536,65536", &err) == 0, "%s", err.msg);
    CHECK(config_validate(&c, &err) == -1, "too many parameters");
    CHECK_CONTAINS(err.msg, "parameters");
    /* a vae's encoder output is twice the latent size: it counts as the widest layer */
    config_defaults(&c);
    CHECK(config_set(&c, "model.latent=40000", &err) == 0 &&
              config_set(&c, "train.batch_size=30000", &err) == 0,
          "%s", err.msg);
    CHECK(config_validate(&c, &err) == 0, "ae: 30000 x 40000 fits: %s", err.msg);
    CHECK(config_set(&c, "model.kind=vae", &err) == 0, "%s", err.msg);
    CHECK(config_validate(&c, &err) == -1, "vae: 30000 x 80000 does not");
    CHECK_CONTAINS(err.msg, "the widest [model] layer (80000)");

    /* the network of each kind: a vae's encoder output holds K means and K log-variances */
    ConfigNet net;
    config_defaults(&c);
    CHECK(config_net(&c, VEC(784), &net, &err) == 0 && net.kind == MODEL_AE &&
              net.n_params == 1087586,
          "ae: %zu parameters", net.n_params);
    CHECK(config_width(net.kind, net.dims, net.latent, net.latent - 1) == 2, "ae latent width");
    c.kind = MODEL_VAE;
    CHECK(config_net(&c, VEC(784), &net, &err) == 0 && net.kind == MODEL_VAE &&
              net.n_params == 1087586 + 300 * 2 + 2 && net.dims[net.latent] == 2,
          "vae: %zu parameters (the 300x2 more weights and 2 more biases of the log-variances)",
          net.n_params);
    CHECK(config_width(net.kind, net.dims, net.latent, net.latent - 1) == 4 &&
              config_width(net.kind, net.dims, net.latent, net.latent) == 300,
          "vae widths: encoder output 2K, decoder as the ae");
    CHECK(strcmp(config_kind_name(MODEL_VAE), "vae") == 0 &&
              strcmp(config_kind_name(MODEL_AE), "ae") == 0,
          "kind names");

    /* a warm-up needs epochs after it */
    config_defaults(&c);
    CHECK(config_set(&c, "train.epochs=5", &err) == 0 && config_set(&c, "train.warmup=5", &err) == 0,
          "%s", err.msg);
    CHECK(config_validate(&c, &err) == -1, "warmup = epochs");
    CHECK(strcmp(err.msg, "[train] warmup = 5 needs more [train] epochs (now 5): the learning "
                          "rate ramps up over the first 5 epochs, then the schedule runs; use "
                          "warmup < epochs") == 0,
          "%s", err.msg);
    CHECK(config_set(&c, "train.warmup=4", &err) == 0 && config_validate(&c, &err) == 0,
          "warmup 4 of 5 epochs: %s", err.msg);

    /* names */
    CHECK(strcmp(config_noise_name(NOISE_MASK), "mask") == 0, "noise name");
    CHECK(strcmp(config_schedule_name(SCHEDULE_COSINE), "cosine") == 0, "schedule name");
    CHECK(strcmp(config_activation_name(ACT_LEAKY_RELU), "leaky_relu") == 0, "act name");
    CHECK(strcmp(config_activation_name(ACT_LINEAR), "linear") == 0, "linear name");
    CHECK(strcmp(config_optimizer_name(OPT_MOMENTUM), "momentum") == 0, "opt name");
    CHECK(strcmp(config_loss_name(LOSS_BCE), "bce") == 0, "loss name");
    CHECK(strcmp(config_devtype_name(DEVTYPE_ACCELERATOR), "accelerator") == 0, "type name");
    CHECK(strcmp(config_format_name(DATA_NPY), "npy") == 0, "format name");
    char buf[32];
    config_defaults(&c);
    config_classes_str(&c, buf, sizeof buf);
    CHECK(strcmp(buf, "all") == 0, "'%s'", buf);
    memset(c.classes, 0, sizeof c.classes);
    c.classes[1] = c.classes[5] = c.classes[6] = 1;
    config_classes_str(&c, buf, sizeof buf);
    CHECK(strcmp(buf, "1,5,6") == 0, "'%s'", buf);
    memset(c.classes, 0, sizeof c.classes);
    c.classes[0] = c.classes[255] = 1;
    config_classes_str(&c, buf, sizeof buf);
    CHECK(strcmp(buf, "0,255") == 0, "'%s'", buf);
}

/* Writes c, loads it back, and compares every field. */
static void round_trip(const Config *c, const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "%s/written-%s.ini", dir, what);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "open %s", path);
    if (!f) return;
    config_write(c, f);
    fclose(f);
    Config back;
    Err err = {{0}};
    CHECK(config_load(&back, path, &err) == 0, "%s: written config loads: %s", what, err.msg);
    const char *d = config_diff(c, &back);
    CHECK(d == NULL, "%s: round trip changed %s", what, d ? d : "");
    CHECK(strcmp(back.source_path, path) == 0, "source_path");
}

static void test_round_trip(void)
{
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    round_trip(&c, "defaults");

    CHECK(load_text(&c, "every2.ini", EVERY_KEY, &err) == 0, "%s", err.msg);
    round_trip(&c, "every");

    /* awkward doubles, the largest seed, xavier, no hidden layers, overrides */
    CHECK(load_text(&c, "odd.ini", "[model]\nencoder = none\ninit = he\n", &err) == 0, "%s",
          err.msg);
    c.learning_rate = 0.1 + 0.2;
    c.beta1 = 1.0 / 3.0;
    c.epsilon = 5e-324 * 1e10;
    c.momentum = nextafter(1.0, 0.0);
    c.seed = ULONG_MAX;
    c.kl_weight = 1.0 / 3.0;
    round_trip(&c, "odd");
    CHECK(config_set(&c, "model.init=normal:0.0123456789", &err) == 0 &&
              config_set(&c, "model.decoder=none", &err) == 0 &&
              config_set(&c, "data.digits=0,9", &err) == 0 &&
              config_set(&c, "device.platform=NVIDIA CUDA", &err) == 0 &&
              config_set_device(&c, "gpu", "--device", &err) == 0,
          "%s", err.msg);
    round_trip(&c, "overrides");
    /* the recipe keys with awkward numbers */
    CHECK(config_set(&c, "model.init=torch", &err) == 0 &&
              config_set(&c, "train.noise=mask:0.30000000000000004", &err) == 0 &&
              config_set(&c, "train.schedule=step:7:0.1", &err) == 0 &&
              config_set(&c, "train.warmup=3", &err) == 0 &&
              config_set(&c, "train.weight_decay=3.3e-5", &err) == 0 &&
              config_set(&c, "train.patience=12", &err) == 0,
          "%s", err.msg);
    c.schedule_gamma = 1.0 / 3.0;
    round_trip(&c, "recipe");
    CHECK(config_set(&c, "train.noise=gaussian:1e-300", &err) == 0 &&
              config_set(&c, "train.schedule=cosine", &err) == 0,
          "%s", err.msg);
    round_trip(&c, "recipe2");

    /* the written file: every section, every key, a comment header */
    config_defaults(&c);
    char path[128];
    snprintf(path, sizeof path, "%s/look.ini", dir);
    FILE *f = fopen(path, "w+");
    if (!f) return;
    config_write(&c, f);
    rewind(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    CHECK(text[0] == '#', "starts with a comment");
    const char *expect[] = {"[device]\n",       "platform =\n",       "device = 0\n",
                            "type = any\n",     "[data]\n",           "dir = data/mnist\n",
                            "classes = all\n",  "train_limit = 0\n",
                            "format = idx\n",   "train_images =\n",  "test_labels =\n",
                            "label_names =\n",  "[model]\n",         "kind = ae\n",
                            "encoder = 500,300\n", "latent = 2\n",    "decoder = mirror\n",
                            "activation = tanh\n", "output = linear\n", "init = normal:0.1\n",
                            "[train]\n",        "epochs = 10\n",      "batch_size = 50\n",
                            "optimizer = adam\n", "learning_rate = 0.0001\n", "beta1 = 0.9\n",
                            "beta2 = 0.999\n",  "epsilon = 1e-08\n",  "momentum = 0.9\n",
                            "loss = mse\n",     "kl_weight = 1\n",    "seed = 1\n",  "noise = none\n",
                            "schedule = constant\n", "warmup = 0\n",  "weight_decay = 0\n",
                            "patience = 0\n",   "[output]\n",
                            "root = results\n", "name = run\n",       "recon_every = 1\n",
                            "recon_count = 10\n", "checkpoint_every = 0\n"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) CHECK_CONTAINS(text, expect[i]);
}

/* [data] classes and its MNIST spelling digits, label_names, format and the
 * .npy files: parsing, bad values, the spelling written back, and the
 * cross-key checks. */
static void test_data_keys(void)
{
    Config c;
    Err err = {{0}};
    /* digits is classes, written back as spelled */
    CHECK(load_text(&c, "d.ini", "[data]\ndigits = 6, 1,5\n", &err) == 0, "%s", err.msg);
    CHECK(classes_are(&c, "1,5,6") && c.classes_as_digits, "digits = 6, 1,5");
    char v[64];
    CHECK(config_get(&c, "data", "digits", v, sizeof v) == 0 && strcmp(v, "1,5,6") == 0 &&
              config_get(&c, "data", "classes", v, sizeof v) == 0 && strcmp(v, "1,5,6") == 0,
          "config_get by either name: '%s'", v);
    char path[128];
    snprintf(path, sizeof path, "%s/digits-written.ini", dir);
    FILE *f = fopen(path, "w+");
    if (f) {
        config_write(&c, f);
        rewind(f);
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        CHECK(strstr(text, "\ndigits = 1,5,6\n") && !strstr(text, "classes ="),
              "written as digits, once");
    }
    round_trip(&c, "digits");
    CHECK(load_text(&c, "c.ini", "[data]\nclasses = 0,9,10,255\n", &err) == 0, "%s", err.msg);
    CHECK(classes_are(&c, "0,9,10,255") && !c.classes_as_digits, "classes up to 255");
    round_trip(&c, "classes");
    CHECK(config_set(&c, "data.digits=3", &err) == 0 && classes_are(&c, "3") && c.classes_as_digits,
          "--set data.digits over classes: %s", err.msg);
    CHECK(config_assign(&c, "data.classes", "all", &err) == 0 && all_classes(&c) &&
              !c.classes_as_digits,
          "config_assign data.classes");
    CHECK(config_check_key("data.digits", &err) == 0, "data.digits is a key: %s", err.msg);
    CHECK(config_same_key("data.digits", "data.classes") && config_same_key("train.seed", "train.seed") &&
              !config_same_key("data.digits", "data.dir") && !config_same_key("x.y", "x.y"),
          "config_same_key: a sweep of data.digits and --set data.classes collide");

    EXPECT_LOAD_ERROR("c1.ini", "[data]\nclasses = 1,256\n", "c1.ini:2:",
                      "[data] classes = '1,256': expected all, or a comma list of labels 0-255");
    EXPECT_LOAD_ERROR("c2.ini", "[data]\nclasses = one\n", "[data] classes = 'one'");
    EXPECT_LOAD_ERROR("c3.ini", "[data]\nclasses = -1\n", "'-1'");
    EXPECT_LOAD_ERROR("c4.ini", "[data]\ndigits = 10\n", "[data] digits = '10'", "digits 0-9");
    EXPECT_LOAD_ERROR("c5.ini", "[data]\ndigits = 1\nclasses = 2\n", "c5.ini:3:",
                      "[data] classes and digits (line 2) are two names of one key; keep one");
    EXPECT_LOAD_ERROR("c6.ini", "[data]\ndigits = 1\ndigits = 2\n", "c6.ini:3:",
                      "[data] digits is set twice (first on line 2)");
    EXPECT_LOAD_ERROR("c7.ini", "[data]\ndigit = 1\n", "did you mean 'digits'?");
    EXPECT_LOAD_ERROR("c8.ini", "[train]\nclasses = 1\n", "unknown key 'classes' in [train]; it "
                      "belongs in [data]");
    EXPECT_LOAD_ERROR("c9.ini", "[model]\ndigits = 1\n", "it belongs in [data]");
    EXPECT_SET_ERROR("data.classes=1,x", "--set data.classes=1,x: [data] classes = '1,x'");
    /* a list config_write could not write on one line that inih reads back */
    char set[1200] = "data.classes=";
    for (int l = 0; l < 100; l++) snprintf(set + strlen(set), 8, "%s%d", l ? "," : "", l);
    EXPECT_SET_ERROR(set, "the list is 289 characters written out, at most 180");
    EXPECT_SET_ERROR("data.clases=1", "did you mean 'classes'?");

    /* label_names */
    CHECK(load_text(&c, "n.ini", "[data]\nlabel_names = a b , c/d,e\n", &err) == 0, "%s", err.msg);
    CHECK(strcmp(c.label_names, "a b, c/d, e") == 0 && c.n_label_names == 3, "'%s' %d",
          c.label_names, c.n_label_names);
    ConfigLabelNames ln;
    config_label_names(&c, &ln);
    CHECK(ln.n == 3 && strcmp(ln.name[0], "a b") == 0 && strcmp(ln.name[1], "c/d") == 0 &&
              strcmp(ln.name[2], "e") == 0,
          "split: %d", ln.n);
    round_trip(&c, "names");
    CHECK(config_set(&c, "data.label_names=", &err) == 0 && c.n_label_names == 0, "cleared");
    config_label_names(&c, &ln);
    CHECK(ln.n == 0, "no names: %d", ln.n);
    EXPECT_LOAD_ERROR("n1.ini", "[data]\nlabel_names = a,,b\n", "the name of label 1 is empty");
    EXPECT_LOAD_ERROR("n2.ini", "[data]\nlabel_names = a,b,a\n",
                      "labels 0 and 2 are both named 'a'");
    EXPECT_LOAD_ERROR("n3.ini",
                      "[data]\nlabel_names = a,0123456789012345678901234567890123456789x\n",
                      "the name of label 1 is longer than 40 characters");
    EXPECT_SET_ERROR("data.label_names=a, ;b", "starts a comment");
    EXPECT_LOAD_ERROR("n5.ini", "[data]\nlabel_names = a,\n", "the name of label 1 is empty");
    char names[256] = "[data]\nlabel_names = ";
    for (int l = 0; l < 60; l++)
        snprintf(names + strlen(names), 8, "%s%c%c", l ? "," : "", 'a' + l / 26, 'a' + l % 26);
    strcat(names, "\n");
    EXPECT_LOAD_ERROR("n6.ini", names, "more than 180 characters written out as 'a, b, ...'");

    /* format and the .npy files */
    EXPECT_LOAD_ERROR("f1.ini", "[data]\nformat = csv\n", "[data] format = 'csv': expected one of "
                      "idx, npy");
    static const struct {
        const char *text, *error;
    } BAD[] = {
        {"[data]\nformat = npy\n", "[data] format = npy needs [data] train_images"},
        {"[data]\nformat = npy\ntrain_images = a.npy\n", "needs [data] test_images"},
        {"[data]\ntrain_images = a.npy\n", "[data] train_images = a.npy is for format = npy"},
        {"[data]\ntest_labels = b.npy\n", "[data] test_labels = b.npy is for format = npy"},
        {"[data]\nformat = npy\ntrain_images = a\ntest_images = b\ntrain_labels = c\n",
         "[data] train_labels is set but test_labels is not"},
        {"[data]\nformat = npy\ntrain_images = a\ntest_images = b\nclasses = 1,2\n",
         "[data] classes = 1,2 needs labels to filter by"},
        {"[data]\nlabel_names = x,y,z\nclasses = 1,5\n",
         "selects label 5, but [data] label_names names only labels 0-2 (3 names)"},
        {"[data]\nlabel_names = x,y,z\ndigits = 1,5\n", "[data] digits = 1,5 selects label 5"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        CHECK(load_text(&c, "v.ini", BAD[i].text, &err) == 0, "%s", err.msg);
        CHECK(config_validate(&c, &err) == -1, "refused: %s", BAD[i].text);
        CHECK_CONTAINS(err.msg, BAD[i].error);
    }
    static const char *const GOOD[] = {
        "[data]\nformat = npy\ntrain_images = a\ntest_images = b\n",
        "[data]\nformat = npy\ntrain_images = a\ntest_images = b\ntrain_labels = c\ntest_labels = d\n"
        "classes = 2\nlabel_names = x,y,z\n",
        "[data]\nlabel_names = x,y,z\nclasses = 0,2\n",
        "[data]\nlabel_names = x\n", /* all: the data decides; test_data checks it */
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        CHECK(load_text(&c, "g.ini", GOOD[i], &err) == 0 && config_validate(&c, &err) == 0,
              "%s: %s", GOOD[i], err.msg);
        round_trip(&c, "good");
    }
}

/* Removes the fixture folder (flat: files only). */
static void remove_fixtures(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0) perror(path);
    }
    closedir(d);
    if (rmdir(dir) != 0) perror(dir);
}

int main(void)
{
    test_tmpdir(dir, sizeof dir, "config");
    test_defaults();
    test_every_key();
    test_file_errors();
    test_set();
    test_mirror();
    test_device();
    test_validate();
    test_round_trip();
    test_data_keys();
    remove_fixtures();
    return check_done("test_config");
}
