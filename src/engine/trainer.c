/* trainer: see trainer.h. */
#include "trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"
#include "schedule.h"

/* "1.5 GB", "54.9 MB", "78.4 KB" (powers of 1000, as people read sizes) */
static void bytes_str(double b, char *buf, size_t len)
{
    if (b >= 1e9) snprintf(buf, len, "%.2f GB", b / 1e9);
    else if (b >= 1e6) snprintf(buf, len, "%.1f MB", b / 1e6);
    else snprintf(buf, len, "%.1f KB", b / 1e3);
}

/* Resident or streamed, from [data] device_memory and the device's limits;
 * t->data_mode says which and why. Returns -1 (a config error) for a budget
 * below the two staging batches streaming needs, naming that minimum. */
static int choose_mode(Trainer *t, Err *err)
{
    const ClCtx *ctx = &t->dev.ctx;
    const Config *cfg = &t->cfg;
    size_t row = data_row_bytes(&t->train);
    size_t tr = (size_t)t->train.n * row, te = (size_t)t->test.n * row;
    size_t stage = (size_t)TRAINER_STAGES * (size_t)cfg->batch_size * row;
    const char *held = t->train.u8 ? "bytes" : "float32";
    char budget[160], sz[32], a[32], b[32];
    t->data_bytes = tr + te;
    if (cfg->device_memory) {
        t->data_budget = (size_t)cfg->device_memory;
        config_size_str(cfg->device_memory, sz, sizeof sz);
        snprintf(budget, sizeof budget, "[data] device_memory = %s", sz);
        if (cfg->device_memory < stage) {
            unsigned long long kib = (stage + 1023) / 1024;
            return err_set(err, "[data] device_memory = %s is less than the %d batches of %d "
                                "items (%zu bytes each, as %s) that streaming keeps on the "
                                "device: %zu bytes; use at least %lluK",
                           sz, TRAINER_STAGES, cfg->batch_size, row, held, stage, kib);
        }
    } else {
        t->data_budget = (size_t)(ctx->global_mem / TRAINER_AUTO_SHARE);
        bytes_str((double)ctx->global_mem, a, sizeof a);
        bytes_str((double)t->data_budget, b, sizeof b);
        snprintf(budget, sizeof budget, "[data] device_memory = auto (%s: 1/%d of %s)", b,
                 TRAINER_AUTO_SHARE, a);
    }
    bytes_str((double)t->data_bytes, a, sizeof a);
    bytes_str((double)ctx->max_alloc, b, sizeof b);
    if (t->data_bytes > t->data_budget) {
        t->streamed = 1;
        snprintf(t->data_mode, sizeof t->data_mode,
                 "streamed: the data (%s as %s) exceed %s", a, held, budget);
    } else if (tr > ctx->max_alloc || te > ctx->max_alloc) {
        t->streamed = 1;
        snprintf(t->data_mode, sizeof t->data_mode,
                 "streamed: the %s set (%s) exceeds the device's largest buffer "
                 "(CL_DEVICE_MAX_MEM_ALLOC_SIZE, %s)",
                 tr > ctx->max_alloc ? "training" : "test",
                 tr > ctx->max_alloc ? (bytes_str((double)tr, sz, sizeof sz), sz)
                                     : (bytes_str((double)te, sz, sizeof sz), sz),
                 b);
    } else {
        snprintf(t->data_mode, sizeof t->data_mode, "resident: the data (%s as %s) fit %s", a,
                 held, budget);
    }
    t->data_device_bytes = t->streamed ? stage : t->data_bytes;
    return 0;
}

/* Streamed: the device buffers and pinned host buffers of the stages. */
static int stages_create(Trainer *t, Err *err)
{
    ClCtx *ctx = &t->dev.ctx;
    size_t bytes = (size_t)t->cfg.batch_size * data_row_bytes(&t->train);
    cl_int rc = CL_SUCCESS;
    for (int s = 0; s < TRAINER_STAGES; s++)
        if (!(t->stage[s] = clctx_buffer(ctx, bytes, NULL, err))) return -1;
    for (int s = 0; s < TRAINER_HOST_SLOTS; s++) {
        t->stage_pin[s] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR,
                                         bytes, NULL, &rc);
        CL_CHECK(rc);
        t->stage_host[s] = clEnqueueMapBuffer(ctx->queue, t->stage_pin[s], CL_TRUE, CL_MAP_WRITE,
                                              0, bytes, 0, NULL, NULL, &rc);
        CL_CHECK(rc);
    }
    t->stage_rows = util_calloc((size_t)t->cfg.batch_size, sizeof(int), err);
    return t->stage_rows ? 0 : -1;
fail:
    return err_prefix(err, "staging buffers of %zu bytes", bytes);
}

/* Waits for stage s's pending upload, if any: then its host memory may be
 * refilled. */
static int stage_wait(Trainer *t, int s, Err *err)
{
    if (!t->stage_sent[s]) return 0;
    cl_int rc = clWaitForEvents(1, &t->stage_sent[s]);
    clReleaseEvent(t->stage_sent[s]);
    t->stage_sent[s] = NULL;
    return clctx_check(rc, "clWaitForEvents", __FILE__, __LINE__, err);
}

/* Streamed: rows idx[0 .. b) of d, batch k of a pass, gathered on the host
 * into slot k % TRAINER_HOST_SLOTS and uploaded without blocking into
 * stage k % TRAINER_STAGES; the in-order queue runs the upload after the
 * commands queued before it (the last reader of that stage among them),
 * and the conversion queued after it reads it. */
static int stage_upload(Trainer *t, const Dataset *d, const int *idx, int b, int k, Err *err)
{
    int s = k % TRAINER_HOST_SLOTS;
    if (stage_wait(t, s, err)) return -1;
    data_gather(d, idx, b, t->stage_host[s]);
    /* The rows are in the stage now: the pages they were read from (and
     * those the kernel mapped around them) leave the resident set at once,
     * which keeps a mapped file's share of it to one batch's pages. */
    data_release_pages(d);
    CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, t->stage[k % TRAINER_STAGES], CL_FALSE, 0,
                                  (size_t)b * data_row_bytes(d), t->stage_host[s], 0, NULL,
                                  &t->stage_sent[s]));
    CL_CHECK(clFlush(t->dev.ctx.queue));
    return 0;
fail:
    return -1;
}

/* model.x (b, D) floats = rows first .. first + b - 1 of src (a set or a
 * stage, held as d holds its rows): bytes through rows_u8, floats copied. */
static int rows_to_x(Trainer *t, const Dataset *d, cl_mem src, int first, int b, Err *err)
{
    if (d->u8) return kern_rows_u8(&t->dev.k, src, first, t->model.x, b, d->dim, err);
    size_t row = data_row_bytes(d);
    CL_CHECK(clEnqueueCopyBuffer(t->dev.ctx.queue, src, t->model.x, (size_t)first * row, 0,
                                 (size_t)b * row, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

/* model.x (b, D) = test rows first .. first + b - 1, from the resident set
 * or uploaded as batch k of the pass. */
static int test_rows_to_x(Trainer *t, int first, int b, int k, Err *err)
{
    if (!t->streamed) return rows_to_x(t, &t->test, t->test_x, first, b, err);
    for (int r = 0; r < b; r++) t->stage_rows[r] = first + r;
    return stage_upload(t, &t->test, t->stage_rows, b, k, err) ||
                   rows_to_x(t, &t->test, t->stage[k % TRAINER_STAGES], 0, b, err)
               ? -1
               : 0;
}

int trainer_setup(Trainer *t, const Config *cfg, const char *cl_dir, Err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    int rc_data = data_load(cfg, &t->train, &t->test, err);
    if (rc_data) {
        t->config_error = rc_data == -2; /* the config's data is at fault */
        goto fail;
    }
    if (cfg->batch_size > t->train.n) {
        t->config_error = 1;
        char classes[CONFIG_STR];
        config_classes_str(cfg, classes, sizeof classes);
        err_set(err, "[train] batch_size = %d is larger than the %d training images (%s %s, "
                     "train_limit %ld); use at most %d",
                cfg->batch_size, t->train.n, config_classes_key(cfg), classes, cfg->train_limit,
                t->train.n);
        goto fail;
    }
    /* The network against the data's shape, before the device: conv layers
     * need images, and the decoder must end at the items' shape. */
    Shape3 input = data_item_shape(&t->train);
    ConfigNet net;
    if (data_check_layers(cfg, &t->train, err) || config_net(cfg, input, &net, err)) {
        t->config_error = 1;
        goto fail;
    }
    int rc_dev = device_open(&t->dev, cfg, cl_dir, err);
    if (rc_dev) {
        t->config_error = rc_dev == -2; /* nothing matched [device] */
        goto fail;
    }
    t->dev.k.prof = &t->prof;
    /* The model first: whether its buffers fit the device is judged before
     * anything is allocated. */
    int rc_model = model_create(&t->model, &t->dev.ctx, &t->dev.k, cfg, input, cfg->batch_size, err);
    if (rc_model) {
        t->config_error = rc_model == -2; /* the network does not fit the device */
        goto fail;
    }
    int D = t->train.dim;
    size_t row = (size_t)D * sizeof(float);
    if (choose_mode(t, err)) {
        t->config_error = 1;
        goto fail;
    }
    t->staged_step = -1;
    ClCtx *ctx = &t->dev.ctx;
    if (t->streamed) {
        if (stages_create(t, err)) goto fail;
    } else {
        /* The data sets go to the device once, as held; batches are gathered
         * there. The upload read every page of a mapped file: let them go. */
        size_t held = data_row_bytes(&t->train);
        if (!(t->train_x = clctx_buffer(ctx, (size_t)t->train.n * held, t->train.x, err)) ||
            !(t->test_x = clctx_buffer(ctx, (size_t)t->test.n * held, t->test.x, err)) ||
            !(t->perm = clctx_buffer(ctx, (size_t)t->train.n * sizeof(cl_int), NULL, err)))
            goto fail;
        data_release_pages(&t->train);
        data_release_pages(&t->test);
    }
    int B = cfg->batch_size;
    t->steps_per_epoch = (t->train.n + B - 1) / B;
    t->eval_batches = (t->test.n + B - 1) / B;
    if (!(t->step_sums = clctx_buffer(ctx, (size_t)t->steps_per_epoch * sizeof(float), NULL, err)) ||
        !(t->eval_sums = clctx_buffer(ctx, (size_t)t->eval_batches * sizeof(float), NULL, err)))
        goto fail;
    if (cfg->kind == MODEL_VAE &&
        (!(t->step_kl = clctx_buffer(ctx, (size_t)t->steps_per_epoch * sizeof(float), NULL, err)) ||
         !(t->eval_kl = clctx_buffer(ctx, (size_t)t->eval_batches * sizeof(float), NULL, err))))
        goto fail;
    if (cfg->noise != NOISE_NONE &&
        !(t->noisy = clctx_buffer(ctx, (size_t)B * row, NULL, err)))
        goto fail;
    if (!(t->host_perm = util_calloc((size_t)t->train.n, sizeof(int), err))) goto fail;
    for (int i = 0; i < t->train.n; i++) t->host_perm[i] = i;
    rng_seed(&t->rng, (uint64_t)cfg->seed);
    if (model_init_params(&t->model, cfg, &t->rng, err) ||
        optim_create(&t->optim, &t->dev.ctx, &t->dev.k, cfg, t->model.n_params, err))
        goto fail;
    /* the pictures show the data's own shape, or none for items that are not images */
    t->model.image_rows = t->train.rows;
    t->model.image_cols = t->train.cols;
    t->model.image_channels = t->train.channels;
    return 0;
fail:
    {
        int config_error = t->config_error;
        trainer_destroy(t);
        t->config_error = config_error;
    }
    return -1;
}

void trainer_destroy(Trainer *t)
{
    if (!t) return;
    if (t->dev.open) clFinish(t->dev.ctx.queue);
    prof_reset(&t->prof);
    optim_destroy(&t->optim);
    model_destroy(&t->model);
    for (int s = 0; s < TRAINER_HOST_SLOTS; s++) {
        if (t->stage_sent[s]) clReleaseEvent(t->stage_sent[s]), t->stage_sent[s] = NULL;
        if (t->stage_host[s]) {
            clEnqueueUnmapMemObject(t->dev.ctx.queue, t->stage_pin[s], t->stage_host[s], 0, NULL,
                                    NULL);
            clFinish(t->dev.ctx.queue);
            t->stage_host[s] = NULL;
        }
        if (t->stage_pin[s]) clReleaseMemObject(t->stage_pin[s]), t->stage_pin[s] = NULL;
    }
    cl_mem *all[] = {&t->train_x,   &t->test_x,  &t->perm,    &t->step_sums, &t->eval_sums,
                     &t->step_kl,   &t->eval_kl, &t->noisy,   &t->stage[0],  &t->stage[1]};
    _Static_assert(TRAINER_STAGES == 2, "release every stage");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) clReleaseMemObject(*all[i]), *all[i] = NULL;
    free(t->stage_rows);
    t->stage_rows = NULL;
    device_close(&t->dev);
    free(t->host_perm);
    t->host_perm = NULL;
    dataset_free(&t->train);
    dataset_free(&t->test);
}

int trainer_shuffle(Trainer *t, Err *err)
{
    /* The epoch's learning rate: a function of the epoch alone, so a
     * resumed run continues the schedule where it was. */
    t->optim.lr = schedule_lr(&t->cfg, t->epochs_done + 1);
    t->rng_epoch = t->rng;
    t->in_epoch = 1;
    t->steps_done = 0;
    for (int i = 0; i < t->train.n; i++) t->host_perm[i] = i;
    rng_shuffle(&t->rng, t->host_perm, t->train.n);
    t->staged_step = -1; /* a batch staged before is of another order */
    if (t->streamed) return 0; /* the host gathers in host_perm's order */
    /* Blocking: host_perm is reshuffled next epoch. n ints once an epoch,
     * never image data. */
    CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, t->perm, CL_TRUE, 0,
                                  (size_t)t->train.n * sizeof(cl_int), t->host_perm, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

/* Keeps the host at most 2 * TRAINER_SYNC_STEPS steps ahead of the device:
 * after every TRAINER_SYNC_STEPS steps it waits for the marker it queued
 * TRAINER_SYNC_STEPS steps before, then queues a new one. Without it a whole
 * epoch is queued at once, and a SIGTERM (a cluster's time limit, with a
 * grace period before SIGKILL) would only be noticed when the epoch ends.
 * It is also faster: PoCL's cost per command grows with the length of the
 * queue (measured, seed step at batch 50: 6,700 images/s paced in chunks of
 * 4 to 16 steps, 4,000-4,400 with the whole run queued at once). The
 * device never idles: a full chunk is always queued behind the marker
 * waited for. *mark holds the pending marker (NULL when none). */
int trainer_pace(Trainer *t, int step, cl_event *mark, Err *err)
{
    if ((step + 1) % TRAINER_SYNC_STEPS != 0) return 0;
    if (*mark) {
        cl_int rc = clWaitForEvents(1, mark);
        clReleaseEvent(*mark);
        *mark = NULL;
        if (clctx_check(rc, "clWaitForEvents", __FILE__, __LINE__, err)) return -1;
    }
    CL_CHECK(clEnqueueMarkerWithWaitList(t->dev.ctx.queue, 0, NULL, mark));
    CL_CHECK(clFlush(t->dev.ctx.queue));
    return 0;
fail:
    return -1;
}

/* Rows in batch `step` of n rows taken B at a time: B, or what the last
 * batch has left. */
static int batch_rows(int n, int B, int step) { return n - step * B < B ? n - step * B : B; }

int trainer_run_steps(Trainer *t, int steps, long *pos, long *images, Err *err)
{
    cl_event mark = NULL;
    int rc = 0;
    for (int i = 0; i < steps && rc == 0; i++, (*pos)++) {
        int s = (int)(*pos % t->steps_per_epoch);
        if ((s == 0 && trainer_shuffle(t, err)) || trainer_step(t, s, err) ||
            trainer_pace(t, s, &mark, err))
            rc = -1;
        *images += batch_rows(t->train.n, t->cfg.batch_size, s);
    }
    if (mark) clReleaseEvent(mark);
    return rc;
}

/* Streamed: batch `step` of this epoch's order gathered on the host and
 * uploaded (stage_upload's batch k = step). */
static int stage_batch(Trainer *t, int step, Err *err)
{
    int B = t->cfg.batch_size;
    int b = batch_rows(t->train.n, B, step);
    if (stage_upload(t, &t->train, t->host_perm + (size_t)step * (size_t)B, b, step, err))
        return -1;
    t->staged_step = step;
    return 0;
}

/* x (b, D) = train_x[perm[step B .. step B + b)]: batch `step` of this
 * epoch's order, gathered on the device from the resident set (bytes
 * scaled by 1/255 on the way), or, streamed, from the stage the host
 * gathered it into. */
static int gather(Trainer *t, int step, int b, Err *err)
{
    Kernels *k = &t->dev.k;
    const Dataset *d = &t->train;
    if (t->streamed) {
        if (t->staged_step != step && stage_batch(t, step, err)) return -1;
        t->staged_step = -1;
        return rows_to_x(t, d, t->stage[step % TRAINER_STAGES], 0, b, err);
    }
    int off = step * t->cfg.batch_size;
    return d->u8 ? kern_gather_rows_u8(k, t->train_x, t->perm, off, t->model.x, b, d->dim, err)
                 : kern_gather_rows(k, t->train_x, t->perm, off, t->model.x, b, d->dim, err);
}

/* A vae's draw for the next update: the run's seed and the optimizer's step
 * count, which a checkpoint holds, so that a resumed run redraws exactly. */
static ModelDraw draw_of(const Trainer *t)
{
    return (ModelDraw){.seed = (uint64_t)t->cfg.seed, .step = (uint64_t)t->optim.step};
}

/* The network's input for a batch of b rows in x: x itself, or without
 * it being touched, its copy corrupted by [train] noise. The noise is
 * drawn from Philox at (seed, PHILOX_NOISE, the optimizer's step count):
 * the same seed gives the same noise, and a resumed run (whose checkpoint
 * holds the step count) the noise it would have had. */
static cl_mem corrupt(Trainer *t, cl_mem x, int b, Err *err)
{
    const Config *c = &t->cfg;
    if (c->noise == NOISE_NONE) return x;
    if (kern_noise(&t->dev.k, c->noise == NOISE_MASK, x, t->noisy, b * t->train.dim,
                   (uint64_t)c->seed, PHILOX_NOISE, (uint64_t)t->optim.step, (float)c->noise_level,
                   err))
        return NULL;
    return t->noisy;
}

int trainer_step(Trainer *t, int step, Err *err)
{
    Model *m = &t->model;
    int b = batch_rows(t->train.n, t->cfg.batch_size, step);
    ModelDraw draw = draw_of(t);
    /* x (b, D) = train_x[perm[step B .. step B + b)] */
    if (gather(t, step, b, err)) return -1;
    /* in (b, D) = x, or x corrupted by [train] noise (x itself stays clean) */
    cl_mem in = corrupt(t, m->x, b, err);
    if (!in) return -1;
    /* acts[l+1] (b, dims[l+1]) = act_l(acts[l] W_l + b_l), l = 0..L-1; acts[0] = in; a vae:
     * stats (b, 2K) = [mu | lv], acts[latent] (b, K) = mu + exp(lv / 2) eps, eps ~ N(0, I) */
    if (model_forward_draw(m, in, 0, b, &draw, err)) return -1;
    /* step_sums[step] = sum of loss(acts[L], x) over (b, D); delta[0] (b, D) = its mean's
     * gradient at acts[L]: the target is the clean x */
    if (model_loss(m, m->x, 0, b, 1, t->step_sums, step, err)) return -1;
    /* a vae: step_kl[step] = sum of KL(N(mu, exp(lv)) || N(0, I)) over (b, K) */
    if (m->kind == MODEL_VAE && model_kl(m, b, t->step_kl, step, err)) return -1;
    /* grads (n_params) = d (mean loss + kl_weight KL / (b D)) / d params: dW_l, db_l from
     * l = L-1 down to 0 */
    if (model_backward(m, in, 0, b, err)) return -1;
    /* params (n_params) -= the optimizer's update from grads */
    if (optim_step(&t->optim, m->params, m->grads, err)) return -1;
    t->steps_done = step + 1;
    if (t->streamed && step + 1 < t->steps_per_epoch) {
        /* the next batch: gathered now, uploaded while the device runs this
         * step */
        if (stage_batch(t, step + 1, err)) return -1;
    }
    return 0;
}

/* trainer_step without the update, its loss into step_sums[0]: what
 * trainer_warmup runs at each batch size. */
static int forward_backward(Trainer *t, int step, Err *err)
{
    Model *m = &t->model;
    int b = batch_rows(t->train.n, t->cfg.batch_size, step);
    ModelDraw draw = draw_of(t);
    if (gather(t, step, b, err)) return -1;
    cl_mem in = corrupt(t, m->x, b, err);
    return !in || model_forward_draw(m, in, 0, b, &draw, err) ||
                   model_loss(m, m->x, 0, b, 1, t->step_sums, 0, err) ||
                   (m->kind == MODEL_VAE && model_kl(m, b, t->step_kl, 0, err)) ||
                   model_backward(m, in, 0, b, err)
               ? -1
               : 0;
}

void trainer_finish_epoch(Trainer *t)
{
    t->epochs_done++;
    t->in_epoch = 0;
    t->steps_done = 0;
}

int trainer_save(Trainer *t, const char *path, Err *err)
{
    Model *m = &t->model;
    Ckpt c;
    memset(&c, 0, sizeof c);
    c.n_layers = m->n_layers;
    memcpy(c.dims, m->dims, sizeof c.dims);
    memcpy(c.act, m->act, sizeof c.act);
    memcpy(c.layer, m->layer, sizeof c.layer);
    c.input = m->input;
    c.latent = m->latent;
    c.loss = m->loss;
    c.kind = m->kind;
    c.optimizer = t->optim.kind;
    c.step = t->optim.step;
    c.epoch = t->epochs_done;
    c.steps_in_epoch = t->in_epoch ? t->steps_done : 0;
    /* In an epoch, its order must be redrawn on resume: the state before
     * its shuffle. Between epochs, the state the next shuffle starts from. */
    memcpy(c.rng, t->in_epoch ? t->rng_epoch.s : t->rng.s, sizeof c.rng);
    c.n_params = m->n_params;
    size_t bytes = m->n_params * sizeof(float);
    int rc = -1;
    if (!(c.params = util_malloc(bytes, err)) || model_get_params(m, c.params, err)) goto out;
    /* A checkpoint is what a run falls back on: never replace a good one by
     * the parameters of a run that has diverged. */
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(c.params[i])) {
            err_set(err, "%s: not written: parameter %zu is %g (the training diverged); the "
                         "previous checkpoint, if any, is kept", path, i, c.params[i]);
            goto out;
        }
    cl_mem state[2] = {t->optim.m, t->optim.v};
    float **host[2] = {&c.m, &c.v};
    for (int i = 0; i < ckpt_state_count(c.optimizer); i++) {
        if (!(*host[i] = util_malloc(bytes, err))) goto out;
        CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, state[i], CL_TRUE, 0, bytes, *host[i], 0,
                                     NULL, NULL));
    }
    if (c.steps_in_epoch > 0) {
        size_t sb = (size_t)c.steps_in_epoch * sizeof(float);
        if (!(c.step_sums = util_malloc(sb, err))) goto out;
        CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, t->step_sums, CL_TRUE, 0, sb, c.step_sums, 0,
                                     NULL, NULL));
        if (m->kind == MODEL_VAE) {
            if (!(c.step_kl = util_malloc(sb, err))) goto out;
            CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, t->step_kl, CL_TRUE, 0, sb, c.step_kl,
                                         0, NULL, NULL));
        }
    }
    rc = ckpt_write(path, &c, err);
    goto out;
fail:
    rc = -1;
out:
    free(c.params);
    free(c.m);
    free(c.v);
    free(c.step_sums);
    free(c.step_kl);
    return rc;
}

int trainer_load(Trainer *t, const Ckpt *c, const char *path, Err *err)
{
    ConfigNet net;
    if (config_net(&t->cfg, data_item_shape(&t->train), &net, err) ||
        ckpt_check_shape(c, &net, t->cfg.optimizer, path, err))
        return -1;
    if (c->steps_in_epoch >= t->steps_per_epoch)
        return err_set(err, "%s: stopped after step %d of an epoch, but this config has %d steps "
                            "per epoch ([train] batch_size or [data] changed since)",
                       path, c->steps_in_epoch, t->steps_per_epoch);
    if (model_set_params(&t->model, c->params, err)) return err_prefix(err, "%s", path);
    size_t bytes = c->n_params * sizeof(float);
    cl_mem state[2] = {t->optim.m, t->optim.v};
    const float *host[2] = {c->m, c->v};
    for (int i = 0; i < ckpt_state_count(c->optimizer); i++)
        CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, state[i], CL_TRUE, 0, bytes, host[i], 0,
                                      NULL, NULL));
    if (c->steps_in_epoch > 0)
        CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, t->step_sums, CL_TRUE, 0,
                                      (size_t)c->steps_in_epoch * sizeof(float), c->step_sums, 0,
                                      NULL, NULL));
    if (c->steps_in_epoch > 0 && c->kind == MODEL_VAE)
        CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, t->step_kl, CL_TRUE, 0,
                                      (size_t)c->steps_in_epoch * sizeof(float), c->step_kl, 0,
                                      NULL, NULL));
    t->optim.step = c->step;
    memcpy(t->rng.s, c->rng, sizeof t->rng.s);
    t->epochs_done = c->epoch;
    t->steps_done = c->steps_in_epoch;
    t->in_epoch = 0;
    return 0;
fail:
    return err_prefix(err, "%s", path);
}

int trainer_warmup(Trainer *t, Err *err)
{
    /* The order buffer must hold valid indices before any gather. */
    if (!t->streamed)
        CL_CHECK(clEnqueueWriteBuffer(t->dev.ctx.queue, t->perm, CL_TRUE, 0,
                                      (size_t)t->train.n * sizeof(cl_int), t->host_perm, 0, NULL,
                                      NULL));
    if (forward_backward(t, 0, err)) return -1;
    if (t->steps_per_epoch > 1 && forward_backward(t, t->steps_per_epoch - 1, err)) return -1;
    double loss;
    if (trainer_test_loss(t, &loss, err)) return -1;
    CL_CHECK(clFinish(t->dev.ctx.queue));
    return 0;
fail:
    return -1;
}

static int sum_floats(Trainer *t, cl_mem buf, int n, double *sum, Err *err)
{
    float *h = util_malloc((size_t)n * sizeof *h, err);
    if (!h) return -1;
    cl_int rc = clEnqueueReadBuffer(t->dev.ctx.queue, buf, CL_TRUE, 0, (size_t)n * sizeof *h, h, 0,
                                    NULL, NULL);
    double s = 0;
    for (int i = 0; i < n; i++) s += h[i];
    free(h);
    *sum = s;
    return clctx_check(rc, "clEnqueueReadBuffer", __FILE__, __LINE__, err);
}

/* The loss of n images from their summed reconstruction terms (n_sums
 * floats in sums) and, for a vae, their summed KL terms (in kl): both over
 * n D (model.h's normalisation). */
static int losses_of(Trainer *t, cl_mem sums, cl_mem kl, int n_sums, int n, TrainerLoss *loss,
                     Err *err)
{
    double s, k = 0, per = (double)n * (double)t->train.dim;
    if (sum_floats(t, sums, n_sums, &s, err)) return -1;
    if (t->model.kind != MODEL_VAE) {
        *loss = (TrainerLoss){.total = s / per, .recon = NAN, .kl = NAN};
        return 0;
    }
    if (sum_floats(t, kl, n_sums, &k, err)) return -1;
    loss->recon = s / per;
    loss->kl = k / per;
    loss->total = loss->recon + t->cfg.kl_weight * loss->kl;
    return 0;
}

int trainer_train_losses(Trainer *t, TrainerLoss *loss, Err *err)
{
    return losses_of(t, t->step_sums, t->step_kl, t->steps_per_epoch, t->train.n, loss, err);
}

int trainer_train_loss(Trainer *t, double *loss, Err *err)
{
    TrainerLoss l;
    if (trainer_train_losses(t, &l, err)) return -1;
    *loss = l.total;
    return 0;
}

int trainer_test_losses(Trainer *t, TrainerLoss *loss, Err *err)
{
    int B = t->cfg.batch_size;
    Model *m = &t->model;
    /* A batch at a time through model.x (converted from bytes, or a copy of
     * the floats), resident or streamed alike: the same inputs, the same
     * losses. Streamed, each batch's upload is queued behind the one
     * before's evaluation, alternating stages. */
    for (int i = 0; i < t->eval_batches; i++) {
        int b = batch_rows(t->test.n, B, i);
        if (test_rows_to_x(t, i * B, b, i, err) ||
            model_forward(m, m->x, 0, b, err) ||
            model_loss(m, m->x, 0, b, 0, t->eval_sums, i, err) ||
            (m->kind == MODEL_VAE && model_kl(m, b, t->eval_kl, i, err)))
            return -1;
    }
    t->staged_step = -1; /* the stages now hold test rows */
    return losses_of(t, t->eval_sums, t->eval_kl, t->eval_batches, t->test.n, loss, err);
}

int trainer_test_loss(Trainer *t, double *loss, Err *err)
{
    TrainerLoss l;
    if (trainer_test_losses(t, &l, err)) return -1;
    *loss = l.total;
    return 0;
}

int trainer_test_outputs(Trainer *t, int first, int n, int layer, float *out, Err *err)
{
    int B = t->cfg.batch_size;
    size_t width = (size_t)t->model.dims[layer];
    t->staged_step = -1; /* the stages will hold test rows */
    for (int done = 0; done < n; done += B) {
        int b = n - done < B ? n - done : B;
        if (test_rows_to_x(t, first + done, b, done / B, err) ||
            model_forward(&t->model, t->model.x, 0, b, err))
            return -1;
        CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, t->model.acts[layer], CL_TRUE, 0,
                                     (size_t)b * width * sizeof(float), out + (size_t)done * width, 0,
                                     NULL, NULL));
    }
    return 0;
fail:
    return -1;
}

int trainer_test_denoise(Trainer *t, int n, float *noisy, float *recon, Err *err)
{
    const Config *c = &t->cfg;
    int B = c->batch_size, D = t->test.dim, L = t->model.n_layers;
    if (c->noise == NOISE_NONE) return err_set(err, "no [train] noise to show");
    size_t bytes = (size_t)n * (size_t)D * sizeof(float);
    cl_mem clean = clctx_buffer(&t->dev.ctx, bytes, NULL, err), buf = NULL;
    if (!clean || !(buf = clctx_buffer(&t->dev.ctx, bytes, NULL, err))) goto fail;
    /* clean (n, D) = the first n test rows as floats, a batch at a time */
    t->staged_step = -1;
    for (int done = 0; done < n; done += B) {
        int b = n - done < B ? n - done : B;
        if (test_rows_to_x(t, done, b, done / B, err)) goto fail;
        CL_CHECK(clEnqueueCopyBuffer(t->dev.ctx.queue, t->model.x, clean, 0,
                                     (size_t)done * (size_t)D * sizeof(float),
                                     (size_t)b * (size_t)D * sizeof(float), 0, NULL, NULL));
    }
    /* buf (n, D) = those rows, corrupted */
    if (kern_noise(&t->dev.k, c->noise == NOISE_MASK, clean, buf, n * D, (uint64_t)c->seed,
                   PHILOX_NOISE, (uint64_t)t->optim.step, (float)c->noise_level, err))
        goto fail;
    CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, buf, CL_TRUE, 0,
                                 (size_t)n * (size_t)D * sizeof(float), noisy, 0, NULL, NULL));
    for (int done = 0; done < n; done += B) {
        int b = n - done < B ? n - done : B;
        if (model_forward(&t->model, buf, (size_t)done, b, err)) goto fail;
        CL_CHECK(clEnqueueReadBuffer(t->dev.ctx.queue, t->model.acts[L], CL_TRUE, 0,
                                     (size_t)b * (size_t)D * sizeof(float),
                                     recon + (size_t)done * (size_t)D, 0, NULL, NULL));
    }
    clReleaseMemObject(buf);
    clReleaseMemObject(clean);
    return 0;
fail:
    if (buf) clReleaseMemObject(buf);
    if (clean) clReleaseMemObject(clean);
    return -1;
}
