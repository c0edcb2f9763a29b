/* test_recipe: the training recipe in the trainer, on the OpenCL device
 * (PoCL in CI), on the written 28x28 fixture.
 *
 * - [train] noise: in the first step of epoch 2, the gathered batch (the
 *   target) is the clean rows, the network's input is the clean rows plus
 *   util/philox's noise for (seed, PHILOX_NOISE, the optimizer's step
 *   count), and the step's loss is the host
 *   reference's loss of the noisy input's output against the clean rows
 *   (1e-4 relative); the test loss is the clean test set's;
 * - the same seed gives bit-identical losses with noise, another seed or no
 *   noise other losses;
 * - a run with noise, a cosine schedule with warm-up and weight decay,
 *   checkpointed in the middle of an epoch and resumed into a fresh
 *   trainer, gives the uninterrupted run's losses bit for bit, each epoch
 *   at schedule_lr's rate;
 * - [model] init = torch: every weight and bias within +-1/sqrt(fan_in),
 *   with a uniform's mean and variance, in the seeded generator's order. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "philox.h"
#include "ref.h"
#include "rng.h"
#include "schedule.h"
#include "trainer.h"

/* Rows first .. first + n - 1 of d as floats (the values the device sees),
 * malloc'd: the host references' input. */
static float *test_rows(const Dataset *d, size_t first, size_t n)
{
    float *x = malloc(n * (size_t)d->dim * sizeof *x);
    if (x) data_rows_float(d, first, n, x);
    return x;
}

enum { EPOCHS = 4 };

static void small_config(Config *cfg, const char *dir, const char *noise)
{
    config_defaults(cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", dir);
    Err err = {{0}};
    char set[64];
    snprintf(set, sizeof set, "train.noise=%s", noise);
    if (config_set(cfg, "model.encoder=32", &err) || config_set(cfg, set, &err))
        fprintf(stderr, "%s\n", err.msg);
    cfg->batch_size = 16; /* 150 training images: 9 full batches and one of 6 */
    cfg->learning_rate = 1e-3;
    cfg->epochs = EPOCHS;
    const char *dev = getenv("CLAE_DEVICE");
    if (dev && *dev && config_set_device(cfg, dev, "CLAE_DEVICE", &err))
        fprintf(stderr, "%s\n", err.msg);
}

static int read_floats(Trainer *t, cl_mem b, float *h, size_t n)
{
    return clEnqueueReadBuffer(t->dev.ctx.queue, b, CL_TRUE, 0, n * sizeof *h, h, 0, NULL, NULL) ==
                   CL_SUCCESS
               ? 0
               : -1;
}

/* One noisy step: clean target, the input as util/philox says, the loss of
 * that input against the clean target; then the clean test loss. */
static void check_noisy_step(const char *dir, const char *noise)
{
    Config cfg;
    small_config(&cfg, dir, noise);
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    Model *m = &t.model;
    int B = cfg.batch_size, D = t.train.dim;
    size_t n = (size_t)B * (size_t)D;
    float *p0 = malloc(m->n_params * sizeof *p0), *x = malloc(n * sizeof *x);
    float *in = malloc(n * sizeof *in);
    double *pd = malloc(m->n_params * sizeof *pd), *out = malloc(n * sizeof *out);
    float sum = -1;
    /* the first step of epoch 2: the optimizer has made steps_per_epoch
     * steps, while the batch index is 0 again */
    int rc = trainer_shuffle(&t, &err);
    for (int s = 0; s < t.steps_per_epoch && rc == 0; s++) rc = trainer_step(&t, s, &err);
    trainer_finish_epoch(&t);
    long step = t.optim.step;
    CHECK(step == t.steps_per_epoch, "%ld steps made", step);
    rc = rc || model_get_params(m, p0, &err) || trainer_shuffle(&t, &err) ||
         trainer_step(&t, 0, &err) || read_floats(&t, m->x, x, n) ||
         read_floats(&t, t.noisy, in, n) || read_floats(&t, t.step_sums, &sum, 1);
    CHECK(rc == 0, "%s: steps: %s", noise, err.msg);
    if (rc == 0) {
        int clean = 1, zeros = 0;
        double noise_err = 0;
        for (int r = 0; r < B; r++)
            for (int i = 0; i < D; i++) {
                size_t k = (size_t)r * D + i;
                float want_x = data_value(&t.train, (size_t)t.host_perm[r] * D + i);
                if (x[k] != want_x) clean = 0;
                uint32_t blk[4];
                philox_block(cfg.seed, PHILOX_NOISE, (uint64_t)step, (uint32_t)k, blk);
                double want_in = cfg.noise == NOISE_MASK
                                     ? (philox_uniform(blk[0]) < (float)cfg.noise_level ? 0 : want_x)
                                     : want_x + cfg.noise_level * philox_normal(blk[0], blk[1]);
                zeros += in[k] == 0 && want_x != 0;
                double e = fabs(in[k] - want_in);
                if (!(e <= noise_err)) noise_err = e;
            }
        CHECK(clean, "%s: the target stays the clean gathered rows", noise);
        CHECK(cfg.noise == NOISE_MASK ? noise_err == 0 : noise_err <= 1e-5,
              "%s: the input is util/philox's noise for (seed, PHILOX_NOISE, optimizer step %ld): "
              "max error %g", noise, step, noise_err);
        if (cfg.noise == NOISE_MASK)
            CHECK(zeros > 0.4 * n && zeros < 0.6 * n, "%s: %d of %zu inputs masked", noise, zeros, n);
        /* the step's loss: the noisy input's output against the clean rows */
        for (size_t i = 0; i < m->n_params; i++) pd[i] = p0[i];
        ref_forward_loss(m, pd, in, B, out);
        double want = 0;
        for (size_t k = 0; k < n; k++) want += (out[k] - x[k]) * (out[k] - x[k]);
        CHECK(fabs(sum - want) / want < 1e-4, "%s: step loss %g, host %g (noisy in, clean target)",
              noise, sum, want);
        /* and the test loss is the clean test set's, with the parameters now */
        double test;
        float *p1 = malloc(m->n_params * sizeof *p1);
        rc = trainer_test_loss(&t, &test, &err) || model_get_params(m, p1, &err);
        CHECK(rc == 0, "%s", err.msg);
        for (size_t i = 0; i < m->n_params; i++) pd[i] = p1[i];
        float *rows = test_rows(&t.test, 0, (size_t)t.test.n);
        double want_test = ref_forward_loss(m, pd, rows, t.test.n, NULL);
        free(rows);
        CHECK(rc == 0 && fabs(test - want_test) / want_test < 1e-4,
              "%s: test loss %g, host on clean inputs %g", noise, test, want_test);
        free(p1);
    }
    free(p0), free(x), free(in), free(pd), free(out);
    trainer_destroy(&t);
}

/* Trains t's next epochs up to epoch `until`, the first from step
 * first_step; losses[2e], losses[2e+1] get epoch e+1's train and test
 * loss, lr[e] its rate. */
static int run_epochs(Trainer *t, int until, int first_step, double *losses, double *lr, Err *err)
{
    int rc = 0;
    for (int e = t->epochs_done; e < until && rc == 0; e++) {
        rc = trainer_shuffle(t, err);
        lr[e] = t->optim.lr;
        for (int s = first_step; s < t->steps_per_epoch && rc == 0; s++)
            rc = trainer_step(t, s, err);
        first_step = 0;
        rc = rc || trainer_train_loss(t, &losses[2 * e], err) ||
             trainer_test_loss(t, &losses[2 * e + 1], err);
        trainer_finish_epoch(t);
    }
    return rc;
}

static int train_losses(const Config *cfg, double *losses, double *lr)
{
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, cfg, NULL, &err)) {
        fprintf(stderr, "trainer_setup: %s\n", err.msg);
        return -1;
    }
    int rc = run_epochs(&t, cfg->epochs, 0, losses, lr, &err);
    if (rc) fprintf(stderr, "training: %s\n", err.msg);
    trainer_destroy(&t);
    return rc ? -1 : 0;
}

static void check_determinism(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir, "gaussian:0.3");
    double a[2 * EPOCHS], b[2 * EPOCHS], c[2 * EPOCHS], d[2 * EPOCHS], lr[EPOCHS];
    int ok = train_losses(&cfg, a, lr) == 0 && train_losses(&cfg, b, lr) == 0;
    cfg.seed = 2;
    ok = ok && train_losses(&cfg, c, lr) == 0;
    cfg.seed = 1;
    cfg.noise = NOISE_NONE;
    cfg.noise_level = 0;
    ok = ok && train_losses(&cfg, d, lr) == 0;
    CHECK(ok, "training failed");
    if (!ok) return;
    CHECK(memcmp(a, b, sizeof a) == 0, "noise: the same seed gives bit-identical losses");
    CHECK(memcmp(a, c, sizeof a) != 0, "noise: another seed, other losses");
    CHECK(memcmp(a, d, sizeof a) != 0, "noise changes the losses");
    CHECK(a[2 * EPOCHS - 1] < 0.8 * a[1], "with noise the clean test loss falls: %g -> %g", a[1],
          a[2 * EPOCHS - 1]);
}

/* Noise, cosine after a warm-up, weight decay: a checkpoint in epoch 3 and
 * a fresh trainer resumed from it go on exactly as the run that never
 * stopped. */
static void check_resume(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir, "mask:0.25");
    Err err = {{0}};
    CHECK(config_set(&cfg, "train.schedule=cosine", &err) == 0 &&
              config_set(&cfg, "train.warmup=1", &err) == 0 &&
              config_set(&cfg, "train.weight_decay=0.01", &err) == 0 &&
              config_validate(&cfg, &err) == 0,
          "%s", err.msg);
    double want[2 * EPOCHS], want_lr[EPOCHS], got[2 * EPOCHS] = {0}, got_lr[EPOCHS] = {0};
    if (train_losses(&cfg, want, want_lr)) {
        CHECK(0, "uninterrupted run failed");
        return;
    }
    for (int e = 0; e < EPOCHS; e++)
        CHECK(want_lr[e] == schedule_lr(&cfg, e + 1), "epoch %d runs at schedule_lr's %g (%g)",
              e + 1, schedule_lr(&cfg, e + 1), want_lr[e]);
    CHECK(want_lr[0] == 1e-3 && want_lr[1] == 1e-3 && want_lr[2] < want_lr[1] &&
              want_lr[3] < want_lr[2],
          "warm-up 1, then cosine: %g %g %g %g", want_lr[0], want_lr[1], want_lr[2], want_lr[3]);

    char path[4200];
    snprintf(path, sizeof path, "%s/recipe.ckpt", dir);
    Trainer a, b;
    if (trainer_setup(&a, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    /* two epochs, then 5 steps of the third, then the checkpoint */
    int rc = run_epochs(&a, 2, 0, got, got_lr, &err) || trainer_shuffle(&a, &err);
    for (int s = 0; s < 5 && rc == 0; s++) rc = trainer_step(&a, s, &err);
    rc = rc || trainer_save(&a, path, &err);
    CHECK(rc == 0, "train and save: %s", err.msg);
    trainer_destroy(&a);

    Ckpt c;
    if (ckpt_read(path, &c, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    if (trainer_setup(&b, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        ckpt_free(&c);
        return;
    }
    rc = trainer_warmup(&b, &err) || trainer_load(&b, &c, path, &err) ||
         run_epochs(&b, EPOCHS, c.steps_in_epoch, got, got_lr, &err);
    CHECK(rc == 0, "resumed: %s", err.msg);
    CHECK(memcmp(got, want, sizeof got) == 0,
          "resumed in epoch 3: every loss equals the uninterrupted run's bit for bit (epoch 4 "
          "test %.9g vs %.9g)", got[2 * EPOCHS - 1], want[2 * EPOCHS - 1]);
    CHECK(memcmp(got_lr, want_lr, sizeof got_lr) == 0, "and every epoch's learning rate");
    ckpt_free(&c);
    trainer_destroy(&b);
}

static void check_init_torch(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir, "none");
    cfg.init = INIT_TORCH;
    cfg.seed = 42;
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    Model *m = &t.model;
    float *p = malloc(m->n_params * sizeof *p);
    CHECK(model_get_params(m, p, &err) == 0, "%s", err.msg);
    for (int l = 0; l < m->n_layers; l++) {
        double bound = 1 / sqrt((double)m->dims[l]);
        size_t nw = (size_t)m->dims[l] * (size_t)m->dims[l + 1];
        int inside = 1;
        double s = 0, s2 = 0;
        for (size_t i = 0; i < nw; i++) {
            double w = p[m->w_off[l] + i];
            inside &= fabs(w) <= bound;
            s += w, s2 += w * w;
        }
        int nonzero = 0;
        for (int j = 0; j < m->dims[l + 1]; j++) {
            double b = p[m->b_off[l] + j];
            inside &= fabs(b) <= bound;
            nonzero += b != 0;
        }
        /* U(-a, a): mean 0 and variance a^2/3, to 5 standard errors */
        double mean = s / nw, var = s2 / nw, se = bound * bound / sqrt((double)nw);
        CHECK(inside, "layer %d: weights and biases within +-1/sqrt(%d)", l, m->dims[l]);
        CHECK(fabs(mean) < 5 * bound / sqrt(3.0 * nw) && fabs(var - bound * bound / 3) < 5 * se,
              "layer %d: mean %g, variance %g vs a^2/3 = %g", l, mean, var, bound * bound / 3);
        CHECK(nonzero == m->dims[l + 1], "layer %d: biases drawn, not 0", l);
    }
    /* the seeded generator's order: layer 0's W row-major, then its b */
    Rng r;
    rng_seed(&r, 42);
    double a0 = 1 / sqrt(784.0);
    float w0 = (float)(a0 * (2 * rng_uniform(&r) - 1)), w1 = (float)(a0 * (2 * rng_uniform(&r) - 1));
    CHECK(p[m->w_off[0]] == w0 && p[m->w_off[0] + 1] == w1, "first weights from seed 42");
    free(p);
    trainer_destroy(&t);
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "recipe");
    Rng rng;
    rng_seed(&rng, 7);
    write_fixture(dir, "train", 150, &rng);
    write_fixture(dir, "t10k", 40, &rng);
    check_noisy_step(dir, "gaussian:0.4");
    check_noisy_step(dir, "mask:0.5");
    check_determinism(dir);
    check_resume(dir);
    check_init_torch(dir);
    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_recipe");
}
