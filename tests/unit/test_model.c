/* test_model: the model and trainer on the OpenCL device (PoCL in CI).
 *
 * - forward pass and loss of a small network against the double-precision
 *   host reference (ref.c), for a full and a partial batch: 1e-4 relative;
 * - a few epochs on a written 28x28 fixture: the loss falls, the same seed
 *   gives bit-identical losses, another seed does not;
 * - the whole test set's latent codes equal a forward pass of each row;
 * - a vae ([model] kind = vae): its evaluation (z = mu) against the host
 *   reference, its first training step's reconstruction and KL sums against
 *   the host with eps from util/philox for (seed, PHILOX_VAE, step 0) on the
 *   rows of the shuffled batch, the loss terms of an epoch (total = recon +
 *   kl_weight kl), bit-identical losses for the same seed, others for
 *   another seed, falling losses, and a mid-epoch resume bit for bit.
 * Kernel-by-kernel and gradient checks are `clae selftest` (test "selftest"). */
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
#include "trainer.h"

/* Rows first .. first + n - 1 of d as floats (the values the device sees),
 * malloc'd: the host references' input. */
static float *test_rows(const Dataset *d, size_t first, size_t n)
{
    float *x = malloc(n * (size_t)d->dim * sizeof *x);
    if (x) data_rows_float(d, first, n, x);
    return x;
}


static void small_config(Config *cfg, const char *dir)
{
    config_defaults(cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", dir);
    cfg->n_encoder = 2;
    cfg->encoder[0] = (LayerItem){.kind = LAYER_DENSE, .n = 64};
    cfg->encoder[1] = (LayerItem){.kind = LAYER_DENSE, .n = 32};
    cfg->latent = 2;
    cfg->n_decoder = 2;
    cfg->decoder[0] = (LayerItem){.kind = LAYER_DENSE, .n = 32};
    cfg->decoder[1] = (LayerItem){.kind = LAYER_DENSE, .n = 64};
    cfg->batch_size = 16; /* 150 training images: 9 full batches and one of 6 */
    cfg->learning_rate = 1e-3;
    cfg->epochs = 4;
    const char *dev = getenv("CLAE_DEVICE");
    Err err = {{0}};
    if (dev && *dev && config_set_device(cfg, dev, "CLAE_DEVICE", &err))
        fprintf(stderr, "%s\n", err.msg);
}

/* Trains `epochs` epochs; losses[e] gets (train, test) of each epoch, and
 * terms (when not NULL) each epoch's TrainerLoss of train and test. */
static int train_terms(const Config *cfg, double *losses, TrainerLoss *terms)
{
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, cfg, NULL, &err)) {
        fprintf(stderr, "trainer_setup: %s\n", err.msg);
        return -1;
    }
    int rc = 0;
    for (int e = 0; e < cfg->epochs && rc == 0; e++) {
        rc |= trainer_shuffle(&t, &err);
        for (int s = 0; s < t.steps_per_epoch && rc == 0; s++) rc |= trainer_step(&t, s, &err);
        TrainerLoss tr = {0, 0, 0}, te = {0, 0, 0};
        rc = rc || trainer_train_losses(&t, &tr, &err) || trainer_test_losses(&t, &te, &err);
        trainer_finish_epoch(&t);
        losses[2 * e] = tr.total, losses[2 * e + 1] = te.total;
        if (terms) terms[2 * e] = tr, terms[2 * e + 1] = te;
    }
    if (rc) fprintf(stderr, "training: %s\n", err.msg);
    trainer_destroy(&t);
    return rc ? -1 : 0;
}

static int train_losses(const Config *cfg, double *losses)
{
    return train_terms(cfg, losses, NULL);
}

static void check_forward(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir);
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    Model *m = &t.model;
    CHECK(m->n_layers == 6 && m->dims[0] == 784 && m->dims[3] == 2 && m->dims[6] == 784,
          "shape 784-64-32-2-32-64-784");
    CHECK(m->act[0] == ACT_TANH && m->act[2] == ACT_LINEAR && m->act[5] == ACT_LINEAR,
          "activations: tanh hidden, linear latent and output");
    float *pf = malloc(m->n_params * sizeof *pf);
    double *pd = malloc(m->n_params * sizeof *pd);
    double *out = malloc((size_t)16 * 784 * sizeof *out);
    float *dev_out = malloc((size_t)16 * 784 * sizeof *dev_out);
    float *z = malloc((size_t)t.test.n * 2 * sizeof *z);
    CHECK(model_get_params(m, pf, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < m->n_params; i++) pd[i] = pf[i];

    /* initial weights: N(0, 0.1) by default, biases 0 */
    double s = 0, s2 = 0;
    size_t nw = (size_t)784 * 64;
    for (size_t i = 0; i < nw; i++) s += pf[m->w_off[0] + i], s2 += (double)pf[m->w_off[0] + i] * pf[m->w_off[0] + i];
    CHECK(fabs(s / nw) < 0.003 && fabs(sqrt(s2 / nw) - 0.1) < 0.003, "init mean %g std %g", s / nw,
          sqrt(s2 / nw));
    CHECK(pf[m->b_off[0]] == 0.0f, "biases start at 0");

    int batches[2] = {16, 5}; /* full and partial */
    for (int bi = 0; bi < 2; bi++) {
        int b = batches[bi];
        int first = 3; /* rows 3.. of the test set, read in place by offset */
        CHECK(trainer_test_outputs(&t, first, b, m->n_layers, dev_out, &err) == 0, "%s", err.msg);
        float *rows = test_rows(&t.test, (size_t)first, (size_t)b);
        double want = ref_forward_loss(m, pd, rows, b, out);
        double maxrel = 0;
        for (size_t i = 0; i < (size_t)b * 784; i++) {
            double r = fabs(dev_out[i] - out[i]) / (fabs(out[i]) + 1e-3);
            if (!(r <= maxrel)) maxrel = r;
        }
        CHECK(maxrel < 1e-4, "batch %d: device output vs host: max relative error %g", b, maxrel);
        /* the device loss of the same rows */
        cl_int rc = CL_SUCCESS;
        cl_mem sums = clCreateBuffer(t.dev.ctx.context, CL_MEM_READ_WRITE, sizeof(float), NULL, &rc);
        float got = -1;
        /* the rows as floats at an offset: CLBlast reads them in place */
        float *pad = calloc((size_t)(first + b) * 784, sizeof *pad);
        if (pad && rows) memcpy(pad + (size_t)first * 784, rows, (size_t)b * 784 * sizeof *pad);
        cl_mem xs = clctx_buffer(&t.dev.ctx, (size_t)(first + b) * 784 * sizeof(float), pad, &err);
        CHECK(xs != NULL, "%s", err.msg);
        CHECK(model_forward(m, xs, (size_t)first, b, &err) == 0, "%s", err.msg);
        CHECK(model_loss(m, xs, (size_t)first, b, 0, sums, 0, &err) == 0, "%s", err.msg);
        clEnqueueReadBuffer(t.dev.ctx.queue, sums, CL_TRUE, 0, sizeof got, &got, 0, NULL, NULL);
        clReleaseMemObject(sums);
        if (xs) clReleaseMemObject(xs);
        free(pad);
        free(rows);
        double dev_loss = got / ((double)b * 784);
        CHECK(fabs(dev_loss - want) / want < 1e-4, "batch %d: loss %g vs host %g", b, dev_loss, want);
    }

    /* latent codes of the whole test set equal per-row forward passes */
    CHECK(trainer_test_outputs(&t, 0, t.test.n, m->latent, z, &err) == 0, "%s", err.msg);
    double maxerr = 0;
    for (int r = 0; r < t.test.n; r += 7) {
        double zz[2];
        /* host latent: run the encoder part by hand */
        double a[784], bb[784];
        for (int i = 0; i < 784; i++) a[i] = data_value(&t.test, (size_t)r * 784 + i);
        for (int l = 0; l < m->latent; l++) {
            for (int j = 0; j < m->dims[l + 1]; j++) {
                double acc = pd[m->b_off[l] + j];
                for (int k = 0; k < m->dims[l]; k++) acc += a[k] * pd[m->w_off[l] + (size_t)k * m->dims[l + 1] + j];
                bb[j] = ref_act(acc, m->act[l]);
            }
            memcpy(a, bb, sizeof(double) * (size_t)m->dims[l + 1]);
        }
        zz[0] = a[0], zz[1] = a[1];
        for (int j = 0; j < 2; j++) {
            double e = fabs(z[r * 2 + j] - zz[j]) / (fabs(zz[j]) + 1e-3);
            if (!(e <= maxerr)) maxerr = e;
        }
    }
    CHECK(maxerr < 1e-4, "latent codes vs host encoder: max relative error %g", maxerr);
    free(pf), free(pd), free(out), free(dev_out), free(z);
    trainer_destroy(&t);
}

/* A checkpoint taken in the middle of epoch 2 and loaded into a fresh
 * trainer: the same parameters and outputs bit for bit, and the rest of the
 * run gives the same losses, bit for bit, as the uninterrupted run `want`
 * (train_losses: 4 epochs). */
/* small_config with a conv encoder: 1x28x28 -> conv:4:3:2 -> 4x14x14 ->
 * conv:8:3:2 -> 8x7x7 -> 2, and its mirror back, PyTorch's init. */
static void conv_config(Config *cfg, const char *dir)
{
    small_config(cfg, dir);
    Err err = {{0}};
    CHECK(config_set(cfg, "model.encoder=conv:4:3:2,conv:8:3:2", &err) == 0 &&
              config_set(cfg, "model.init=torch", &err) == 0,
          "%s", err.msg);
}

/* Trains one epoch and 4 steps, saves, reloads into a new trainer and
 * trains on: epochs 2-4 must equal want's bit for bit (the small config,
 * conv_config's with conv set). */
static void check_resume(const char *dir, const double *want, ModelKind kind, int conv)
{
    Config cfg;
    if (conv) conv_config(&cfg, dir);
    else small_config(&cfg, dir);
    cfg.kind = kind;
    Trainer a, b;
    Err err = {{0}};
    char path[4200];
    snprintf(path, sizeof path, "%s/mid.ckpt", dir);
    if (trainer_setup(&a, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    int rc = trainer_shuffle(&a, &err);
    for (int s = 0; s < a.steps_per_epoch && rc == 0; s++) rc = trainer_step(&a, s, &err);
    double tr, te;
    rc = rc || trainer_train_loss(&a, &tr, &err) || trainer_test_loss(&a, &te, &err);
    trainer_finish_epoch(&a);
    rc = rc || trainer_shuffle(&a, &err);
    for (int s = 0; s < 4 && rc == 0; s++) rc = trainer_step(&a, s, &err);
    rc = rc || trainer_save(&a, path, &err);
    CHECK(rc == 0, "train and save: %s", err.msg);
    size_t n = a.model.n_params;
    float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    float *oa = malloc((size_t)a.test.n * 784 * sizeof *oa), *ob = malloc((size_t)a.test.n * 784 * sizeof *ob);
    CHECK(model_get_params(&a.model, pa, &err) == 0, "%s", err.msg);
    CHECK(trainer_test_outputs(&a, 0, a.test.n, a.model.n_layers, oa, &err) == 0, "%s", err.msg);
    trainer_destroy(&a);

    Ckpt c;
    CHECK(ckpt_read(path, &c, &err) == 0, "%s", err.msg);
    CHECK(c.epoch == 1 && c.steps_in_epoch == 4, "checkpoint at epoch 1 + 4 steps: %d + %d", c.epoch,
          c.steps_in_epoch);
    CHECK(c.kind == kind && (kind == MODEL_VAE) == (c.step_kl != NULL),
          "the checkpoint's kind, and a vae's KL sums of the unfinished epoch");
    if (trainer_setup(&b, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        ckpt_free(&c);
        free(pa), free(pb), free(oa), free(ob);
        return;
    }
    rc = trainer_warmup(&b, &err) || trainer_load(&b, &c, path, &err);
    CHECK(rc == 0, "load: %s", err.msg);
    CHECK(model_get_params(&b.model, pb, &err) == 0 && memcmp(pa, pb, n * sizeof *pa) == 0,
          "loaded parameters equal the saved ones bit for bit");
    CHECK(trainer_test_outputs(&b, 0, b.test.n, b.model.n_layers, ob, &err) == 0 &&
              memcmp(oa, ob, (size_t)b.test.n * 784 * sizeof *oa) == 0,
          "the loaded model reconstructs the test set bit for bit as the saved one");
    double got[8] = {0};
    int first = c.steps_in_epoch;
    for (int e = 1; e < 4 && rc == 0; e++) {
        rc = trainer_shuffle(&b, &err);
        for (int s = first; s < b.steps_per_epoch && rc == 0; s++) rc = trainer_step(&b, s, &err);
        first = 0;
        rc = rc || trainer_train_loss(&b, &got[2 * e], &err) || trainer_test_loss(&b, &got[2 * e + 1], &err);
        trainer_finish_epoch(&b);
    }
    CHECK(rc == 0, "resumed training: %s", err.msg);
    CHECK(memcmp(got + 2, want + 2, 6 * sizeof *got) == 0,
          "%s%s: resumed epochs 2-4 equal the uninterrupted run bit for bit (epoch 4 test %.9g vs "
          "%.9g)", conv ? "conv " : "", config_kind_name(kind), got[7], want[7]);

    /* A checkpoint of another shape or kind is refused before anything is loaded. */
    Config other = cfg;
    other.kind = kind == MODEL_VAE ? MODEL_AE : MODEL_VAE;
    ConfigNet shape;
    Shape3 in = {1, 28, 28};
    CHECK(config_net(&other, in, &shape, &err) == 0, "%s", err.msg);
    CHECK(ckpt_check_shape(&c, &shape, other.optimizer, path, &err) == -1, "the other kind");
    CHECK_CONTAINS(err.msg, "mid.ckpt: is a");
    other.kind = kind;
    other.latent = 3;
    CHECK(config_net(&other, in, &shape, &err) == 0, "%s", err.msg);
    CHECK(ckpt_check_shape(&c, &shape, other.optimizer, path, &err) == -1, "latent 3 vs 2");
    CHECK_CONTAINS(err.msg, conv ? "mid.ckpt: layer 3 is dense 2 (8x7x7 -> 2), the config's is "
                                   "dense 3 (8x7x7 -> 3)"
                                 : "mid.ckpt: layer sizes 784-64-32-2-32-64-784 differ");
    ckpt_free(&c);
    trainer_destroy(&b);
    free(pa), free(pb), free(oa), free(ob);
}

/* A vae's first training step against the host: the batch is rows
 * host_perm[0..B) of the training set, eps the Philox normals of (the
 * config's seed, PHILOX_VAE, step 0) at index r K + j. Before it,
 * evaluation (z = mu): reconstructions and codes against the host. */
static void check_vae_step(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir);
    cfg.kind = MODEL_VAE;
    cfg.kl_weight = 0.5;
    cfg.seed = 77;
    Trainer t;
    Err err = {{0}};
    if (trainer_setup(&t, &cfg, NULL, &err)) {
        CHECK(0, "trainer_setup: %s", err.msg);
        return;
    }
    Model *m = &t.model;
    enum { K = 2, D = 784 };
    int B = cfg.batch_size;
    CHECK(m->kind == MODEL_VAE && m->width[m->latent - 1] == 2 * K && m->dims[m->latent] == K,
          "vae: the encoder outputs 2K = 4, the code has K = 2");
    float *pf = malloc(m->n_params * sizeof *pf), *x = malloc((size_t)B * D * sizeof *x);
    double *pd = malloc(m->n_params * sizeof *pd), *eps = malloc((size_t)B * K * sizeof *eps);
    double *out = malloc((size_t)16 * D * sizeof *out);
    float *dev_out = malloc((size_t)16 * D * sizeof *dev_out), *z = malloc((size_t)16 * K * sizeof *z);
    CHECK(model_get_params(m, pf, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < m->n_params; i++) pd[i] = pf[i];

    /* evaluation: z = mu, reconstructions and codes against the host */
    CHECK(trainer_test_outputs(&t, 0, 16, m->n_layers, dev_out, &err) == 0, "%s", err.msg);
    CHECK(trainer_test_outputs(&t, 0, 16, m->latent, z, &err) == 0, "%s", err.msg);
    double recon_h, kl_h;
    float *rows16 = test_rows(&t.test, 0, 16);
    ref_forward_loss_draw(m, pd, rows16, 16, NULL, out, &recon_h, &kl_h);
    free(rows16);
    double maxrel = 0;
    for (size_t i = 0; i < (size_t)16 * D; i++) {
        double r = fabs(dev_out[i] - out[i]) / (fabs(out[i]) + 1e-3);
        if (!(r <= maxrel)) maxrel = r;
    }
    CHECK(maxrel < 1e-4, "vae evaluation (z = mu) vs host: max relative error %g", maxrel);
    /* the codes are the means: the first K outputs of the host's layer latent - 1 */
    double zerr = 0;
    for (int r = 0; r < 16; r++) {
        double a[784], b[784];
        for (int i = 0; i < D; i++) a[i] = data_value(&t.test, (size_t)r * D + i);
        for (int l = 0; l < m->latent; l++) {
            for (int j = 0; j < m->width[l]; j++) {
                double acc = pd[m->b_off[l] + j];
                for (int k = 0; k < m->dims[l]; k++)
                    acc += a[k] * pd[m->w_off[l] + (size_t)k * m->width[l] + j];
                b[j] = ref_act(acc, m->act[l]);
            }
            memcpy(a, b, sizeof(double) * (size_t)m->width[l]);
        }
        for (int j = 0; j < K; j++) {
            double e = fabs(z[r * K + j] - a[j]) / (fabs(a[j]) + 1e-3);
            if (!(e <= zerr)) zerr = e;
        }
    }
    CHECK(zerr < 1e-4, "vae codes are the means mu: max relative error %g", zerr);

    /* the first training step: its sums against the host with Philox's eps */
    CHECK(trainer_shuffle(&t, &err) == 0 && trainer_step(&t, 0, &err) == 0, "%s", err.msg);
    float sums[2] = {-1, -1};
    CHECK(clEnqueueReadBuffer(t.dev.ctx.queue, t.step_sums, CL_TRUE, 0, sizeof(float), &sums[0], 0,
                              NULL, NULL) == CL_SUCCESS &&
              clEnqueueReadBuffer(t.dev.ctx.queue, t.step_kl, CL_TRUE, 0, sizeof(float), &sums[1],
                                  0, NULL, NULL) == CL_SUCCESS,
          "read the step's sums");
    for (int r = 0; r < B; r++)
        data_rows_float(&t.train, (size_t)t.host_perm[r], 1, x + (size_t)r * D);
    for (int i = 0; i < B * K; i++) {
        uint32_t blk[4];
        philox_block(77, PHILOX_VAE, 0, (uint32_t)i, blk);
        eps[i] = philox_normal(blk[0], blk[1]);
    }
    double total = ref_forward_loss_draw(m, pd, x, B, eps, NULL, &recon_h, &kl_h);
    double per = (double)B * D;
    CHECK(fabs(sums[0] / per - recon_h) / recon_h < 1e-4,
          "vae step 0: reconstruction %g vs host %g", sums[0] / per, recon_h);
    CHECK(fabs(sums[1] / per - kl_h) / kl_h < 1e-4, "vae step 0: KL %g vs host %g", sums[1] / per,
          kl_h);
    CHECK(fabs(recon_h + 0.5 * kl_h - total) < 1e-12, "the host's total is recon + 0.5 KL");
    /* with eps = 0 the step's reconstruction would differ: the draw is really used */
    double recon0;
    ref_forward_loss_draw(m, pd, x, B, NULL, NULL, &recon0, NULL);
    CHECK(fabs(recon0 - recon_h) / recon_h > 1e-4 && fabs(sums[0] / per - recon0) / recon0 > 1e-4,
          "the draw moves the reconstruction (%.7g with eps, %.7g without)", recon_h, recon0);
    free(pf), free(x), free(pd), free(eps), free(out), free(dev_out), free(z);
    trainer_destroy(&t);
}

/* Four epochs of a vae: the loss terms, determinism, learning, resume. */
static void check_vae_training(const char *dir)
{
    Config cfg;
    small_config(&cfg, dir);
    cfg.kind = MODEL_VAE;
    double a[8], b[8], c[8];
    TrainerLoss ta[8];
    int ok = train_terms(&cfg, a, ta) == 0 && train_losses(&cfg, b) == 0;
    CHECK(ok, "vae training failed");
    cfg.seed = 2;
    ok = ok && train_losses(&cfg, c) == 0;
    if (!ok) return;
    for (int e = 0; e < 4; e++)
        printf("vae epoch %d: train %.6f (recon %.6f KL %.6f) test %.6f (recon %.6f KL %.6f)\n",
               e + 1, a[2 * e], ta[2 * e].recon, ta[2 * e].kl, a[2 * e + 1], ta[2 * e + 1].recon,
               ta[2 * e + 1].kl);
    CHECK(memcmp(a, b, sizeof a) == 0, "vae: same seed, same device: bit-identical losses");
    CHECK(memcmp(a, c, sizeof a) != 0, "vae: another seed gives other losses");
    for (int i = 0; i < 8; i++) {
        CHECK(isfinite(ta[i].recon) && ta[i].recon > 0 && isfinite(ta[i].kl) && ta[i].kl >= 0,
              "vae terms %d: recon %g, KL %g", i, ta[i].recon, ta[i].kl);
        CHECK(ta[i].total == ta[i].recon + cfg.kl_weight * ta[i].kl, "total = recon + w KL");
    }
    CHECK(a[7] < 0.8 * a[1], "vae test loss must fall over 4 epochs: %g -> %g", a[1], a[7]);
    cfg.seed = 1;
    check_resume(dir, a, MODEL_VAE, 0);
}

/* A conv autoencoder and a conv vae on the fixtures: the same seed gives
 * bit-identical losses, another seed others, the test loss falls, and a
 * checkpoint taken mid-epoch resumes bit for bit. */
static void check_conv_training(const char *dir)
{
    for (int vae = 0; vae < 2; vae++) {
        Config cfg;
        conv_config(&cfg, dir);
        cfg.kind = vae ? MODEL_VAE : MODEL_AE;
        double a[8], b[8], c[8];
        int ok = train_losses(&cfg, a) == 0 && train_losses(&cfg, b) == 0;
        CHECK(ok, "conv %s training failed", config_kind_name(cfg.kind));
        cfg.seed = 2;
        ok = ok && train_losses(&cfg, c) == 0;
        if (!ok) continue;
        for (int e = 0; e < 4; e++)
            printf("conv %s epoch %d: train %.6f test %.6f\n", config_kind_name(cfg.kind), e + 1,
                   a[2 * e], a[2 * e + 1]);
        CHECK(memcmp(a, b, sizeof a) == 0, "conv: same seed, same device: bit-identical losses");
        CHECK(memcmp(a, c, sizeof a) != 0, "conv: another seed gives other losses");
        CHECK(a[7] < 0.8 * a[1], "conv %s test loss must fall over 4 epochs: %g -> %g",
              config_kind_name(cfg.kind), a[1], a[7]);
        check_resume(dir, a, cfg.kind, 1);
    }
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "model");
    Rng rng;
    rng_seed(&rng, 7);
    write_fixture(dir, "train", 150, &rng);
    write_fixture(dir, "t10k", 40, &rng);

    check_forward(dir);

    Config cfg;
    small_config(&cfg, dir);
    double a[8], b[8], c[8];
    int ok = train_losses(&cfg, a) == 0 && train_losses(&cfg, b) == 0;
    CHECK(ok, "training failed");
    cfg.seed = 2;
    ok = ok && train_losses(&cfg, c) == 0;
    if (ok) {
        for (int e = 0; e < 4; e++)
            printf("epoch %d: train %.6f test %.6f (seed 2: %.6f %.6f)\n", e + 1, a[2 * e], a[2 * e + 1],
                   c[2 * e], c[2 * e + 1]);
        CHECK(memcmp(a, b, sizeof a) == 0, "same seed, same device: losses must be bit-identical");
        CHECK(memcmp(a, c, sizeof a) != 0, "another seed must give other losses");
        CHECK(a[7] < 0.7 * a[1], "test loss must fall over 4 epochs: %g -> %g", a[1], a[7]);
        CHECK(a[6] < a[0], "train loss must fall: %g -> %g", a[0], a[6]);
        for (int i = 0; i < 8; i++) CHECK(isfinite(a[i]) && a[i] > 0, "loss %d = %g", i, a[i]);
        cfg.seed = 1;
        check_resume(dir, a, MODEL_AE, 0);
    }
    check_vae_step(dir);
    check_vae_training(dir);
    check_conv_training(dir);

    /* A batch larger than the data is a config error (exit code 2). */
    cfg.batch_size = 151;
    Trainer t;
    Err err = {{0}};
    CHECK(trainer_setup(&t, &cfg, NULL, &err) != 0, "batch 151 > 150 images must fail");
    CHECK(t.config_error == 1, "must be flagged as a config error");
    CHECK_CONTAINS(err.msg, "[train] batch_size = 151");

    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_model");
}
