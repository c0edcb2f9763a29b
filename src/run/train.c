/* train: see train.h. */
#define _DEFAULT_SOURCE /* realpath */
#include "train.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "infer.h"
#include "plot.h"
#include "proc.h"
#include "report.h"
#include "results.h"
#include "runs.h"

int trainer_setup(Trainer *t, const Config *cfg, const TrainOptions *opt, Err *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    if (mnist_load(cfg->data_dir, cfg->digit_mask, cfg->train_limit, &t->train, &t->test, err))
        goto fail;
    if (cfg->batch_size > t->train.n) {
        t->config_error = 1;
        char digits[64];
        config_digits_str(cfg->digit_mask, digits, sizeof digits);
        err_set(err, "[train] batch_size = %d is larger than the %d training images (digits %s, "
                     "train_limit %ld); use at most %d",
                cfg->batch_size, t->train.n, digits, cfg->train_limit, t->train.n);
        goto fail;
    }
    int rc_ctx = clctx_create(&t->ctx, cfg, opt->profiling, err);
    if (rc_ctx) {
        t->config_error = rc_ctx == -2; /* nothing matched [device] */
        goto fail;
    }
    char dir[4096];
    const char *dir_source = NULL;
    if (kernels_find_dir(opt->cl_dir, dir, sizeof dir, &dir_source, err) ||
        kernels_create(&t->k, &t->ctx, dir, dir_source, err))
        goto fail;
    t->k.prof = &t->prof;
    int D = t->train.dim;
    /* The data sets go to the device once; batches are gathered there. */
    size_t row = (size_t)D * sizeof(float);
    if (!(t->train_x = clctx_buffer(&t->ctx, (size_t)t->train.n * row, t->train.x, err)) ||
        !(t->test_x = clctx_buffer(&t->ctx, (size_t)t->test.n * row, t->test.x, err)))
        goto fail;
    int B = cfg->batch_size;
    t->steps_per_epoch = (t->train.n + B - 1) / B;
    t->eval_batches = (t->test.n + B - 1) / B;
    if (!(t->perm = clctx_buffer(&t->ctx, (size_t)t->train.n * sizeof(cl_int), NULL, err)) ||
        !(t->step_sums = clctx_buffer(&t->ctx, (size_t)t->steps_per_epoch * sizeof(float), NULL, err)) ||
        !(t->eval_sums = clctx_buffer(&t->ctx, (size_t)t->eval_batches * sizeof(float), NULL, err)))
        goto fail;
    if (!(t->host_perm = util_calloc((size_t)t->train.n, sizeof(int), err))) goto fail;
    for (int i = 0; i < t->train.n; i++) t->host_perm[i] = i;
    rng_seed(&t->rng, (uint64_t)cfg->seed);
    if (model_create(&t->model, &t->ctx, &t->k, cfg, D, B, err) ||
        model_init_params(&t->model, cfg, &t->rng, err) ||
        optim_create(&t->optim, &t->ctx, &t->k, cfg, t->model.n_params, err))
        goto fail;
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
    if (t->ctx.queue) clFinish(t->ctx.queue);
    prof_reset(&t->prof);
    optim_destroy(&t->optim);
    model_destroy(&t->model);
    cl_mem *all[] = {&t->train_x, &t->test_x, &t->perm, &t->step_sums, &t->eval_sums};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) clReleaseMemObject(*all[i]), *all[i] = NULL;
    kernels_destroy(&t->k);
    clctx_destroy(&t->ctx);
    free(t->host_perm);
    t->host_perm = NULL;
    dataset_free(&t->train);
    dataset_free(&t->test);
}

int trainer_shuffle(Trainer *t, Err *err)
{
    t->rng_epoch = t->rng;
    t->in_epoch = 1;
    t->steps_done = 0;
    for (int i = 0; i < t->train.n; i++) t->host_perm[i] = i;
    rng_shuffle(&t->rng, t->host_perm, t->train.n);
    /* Blocking: host_perm is reshuffled next epoch. n ints once an epoch,
     * never image data. */
    CL_CHECK(clEnqueueWriteBuffer(t->ctx.queue, t->perm, CL_TRUE, 0,
                                  (size_t)t->train.n * sizeof(cl_int), t->host_perm, 0, NULL, NULL));
    return 0;
fail:
    return -1;
}

/* Keeps the host at most 2 * TRAIN_SYNC_STEPS steps ahead of the device:
 * after every TRAIN_SYNC_STEPS steps it waits for the marker it queued
 * TRAIN_SYNC_STEPS steps before, then queues a new one. Without it a whole
 * epoch is queued at once, and a SIGTERM (a cluster's time limit, with a
 * grace period before SIGKILL) would only be noticed when the epoch ends.
 * It is also faster: PoCL's cost per command grows with the length of the
 * queue (measured, seed step at batch 50: 6,700 images/s paced in chunks of
 * 4 to 16 steps, 4,000-4,400 with the whole run queued at once). The
 * device never idles: a full chunk is always queued behind the marker
 * waited for. *mark holds the pending marker (NULL when none). */
int trainer_pace(Trainer *t, int step, cl_event *mark, Err *err)
{
    if ((step + 1) % TRAIN_SYNC_STEPS != 0) return 0;
    if (*mark) {
        cl_int rc = clWaitForEvents(1, mark);
        clReleaseEvent(*mark);
        *mark = NULL;
        if (clctx_check(rc, "clWaitForEvents", __FILE__, __LINE__, err)) return -1;
    }
    CL_CHECK(clEnqueueMarkerWithWaitList(t->ctx.queue, 0, NULL, mark));
    CL_CHECK(clFlush(t->ctx.queue));
    return 0;
fail:
    return -1;
}

static int batch_rows(int n, int B, int step) { return n - step * B < B ? n - step * B : B; }

/* Gather, forward, loss (into step_sums[sum_idx]) and backward; no update. */
static int forward_backward(Trainer *t, int step, int sum_idx, Err *err)
{
    int B = t->cfg.batch_size;
    int b = batch_rows(t->train.n, B, step);
    Model *m = &t->model;
    return kern_gather_rows(&t->k, t->train_x, t->perm, step * B, m->x, b, t->train.dim, err) ||
                   model_forward(m, m->x, 0, b, err) ||
                   model_loss(m, m->x, 0, b, 1, t->step_sums, sum_idx, err) ||
                   model_backward(m, m->x, 0, b, err)
               ? -1
               : 0;
}

int trainer_step(Trainer *t, int step, Err *err)
{
    if (forward_backward(t, step, step, err)) return -1;
    if (optim_step(&t->optim, t->model.params, t->model.grads, err)) return -1;
    t->steps_done = step + 1;
    return 0;
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
    c.latent = m->latent;
    c.loss = m->loss;
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
        CL_CHECK(clEnqueueReadBuffer(t->ctx.queue, state[i], CL_TRUE, 0, bytes, *host[i], 0, NULL,
                                     NULL));
    }
    if (c.steps_in_epoch > 0) {
        size_t sb = (size_t)c.steps_in_epoch * sizeof(float);
        if (!(c.step_sums = util_malloc(sb, err))) goto out;
        CL_CHECK(clEnqueueReadBuffer(t->ctx.queue, t->step_sums, CL_TRUE, 0, sb, c.step_sums, 0,
                                     NULL, NULL));
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
    return rc;
}

int trainer_load(Trainer *t, const Ckpt *c, const char *path, Err *err)
{
    ConfigNet net;
    if (config_net(&t->cfg, t->train.dim, &net, err) ||
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
        CL_CHECK(clEnqueueWriteBuffer(t->ctx.queue, state[i], CL_TRUE, 0, bytes, host[i], 0, NULL,
                                      NULL));
    if (c->steps_in_epoch > 0)
        CL_CHECK(clEnqueueWriteBuffer(t->ctx.queue, t->step_sums, CL_TRUE, 0,
                                      (size_t)c->steps_in_epoch * sizeof(float), c->step_sums, 0,
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
    CL_CHECK(clEnqueueWriteBuffer(t->ctx.queue, t->perm, CL_TRUE, 0,
                                  (size_t)t->train.n * sizeof(cl_int), t->host_perm, 0, NULL, NULL));
    if (forward_backward(t, 0, 0, err)) return -1;
    if (t->steps_per_epoch > 1 && forward_backward(t, t->steps_per_epoch - 1, 0, err)) return -1;
    double loss;
    if (trainer_test_loss(t, &loss, err)) return -1;
    CL_CHECK(clFinish(t->ctx.queue));
    return 0;
fail:
    return -1;
}

static int sum_floats(Trainer *t, cl_mem buf, int n, double *sum, Err *err)
{
    float *h = util_malloc((size_t)n * sizeof *h, err);
    if (!h) return -1;
    cl_int rc = clEnqueueReadBuffer(t->ctx.queue, buf, CL_TRUE, 0, (size_t)n * sizeof *h, h, 0, NULL,
                                    NULL);
    double s = 0;
    for (int i = 0; i < n; i++) s += h[i];
    free(h);
    *sum = s;
    return clctx_check(rc, "clEnqueueReadBuffer", __FILE__, __LINE__, err);
}

int trainer_train_loss(Trainer *t, double *loss, Err *err)
{
    double s;
    if (sum_floats(t, t->step_sums, t->steps_per_epoch, &s, err)) return -1;
    *loss = s / ((double)t->train.n * (double)t->train.dim);
    return 0;
}

int trainer_test_loss(Trainer *t, double *loss, Err *err)
{
    int B = t->cfg.batch_size;
    for (int i = 0; i < t->eval_batches; i++) {
        int b = batch_rows(t->test.n, B, i);
        /* The test set is read in place: CLBlast takes the row offset. */
        if (model_forward(&t->model, t->test_x, (size_t)i * (size_t)B, b, err) ||
            model_loss(&t->model, t->test_x, (size_t)i * (size_t)B, b, 0, t->eval_sums, i, err))
            return -1;
    }
    double s;
    if (sum_floats(t, t->eval_sums, t->eval_batches, &s, err)) return -1;
    *loss = s / ((double)t->test.n * (double)t->test.dim);
    return 0;
}

int trainer_test_outputs(Trainer *t, int first, int n, int layer, float *out, Err *err)
{
    int B = t->cfg.batch_size;
    size_t width = (size_t)t->model.dims[layer];
    for (int done = 0; done < n; done += B) {
        int b = n - done < B ? n - done : B;
        if (model_forward(&t->model, t->test_x, (size_t)(first + done), b, err)) return -1;
        CL_CHECK(clEnqueueReadBuffer(t->ctx.queue, t->model.acts[layer], CL_TRUE, 0,
                                     (size_t)b * width * sizeof(float), out + (size_t)done * width, 0,
                                     NULL, NULL));
    }
    return 0;
fail:
    return -1;
}

/* ---- the run ---------------------------------------------------------- */

/* Set by SIGINT/SIGTERM; the one piece of process-wide state, because a
 * signal handler can reach nothing else. Checked between steps. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void fmt_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%.1fs", s);
}

static int write_recon(Trainer *t, Run *run, int epoch, Err *err)
{
    int count = t->cfg.recon_count < t->test.n ? t->cfg.recon_count : t->test.n;
    size_t D = (size_t)t->test.dim;
    float *rec = util_malloc((size_t)count * D * sizeof *rec, err);
    if (!rec) return -1;
    int rc = trainer_test_outputs(t, 0, count, t->model.n_layers, rec, err);
    if (rc == 0)
        rc = results_write_recon(run, epoch, t->test.x, rec, count, t->test.rows, t->test.cols, err);
    free(rec);
    return rc;
}

/* latent.csv, the test set's latent plane as latent.png and latent.svg, and
 * manifold.png: a grid of decoded latent points over the codes' range. */
static int write_latent(Trainer *t, Run *run, const char *title, Err *err)
{
    int k = t->model.dims[t->model.latent];
    float *z = util_malloc((size_t)t->test.n * (size_t)k * sizeof *z, err);
    if (!z) return -1;
    char png[4200], svg[4200], manifold[4200];
    snprintf(png, sizeof png, "%s/latent.png", run->dir);
    snprintf(svg, sizeof svg, "%s/latent.svg", run->dir);
    snprintf(manifold, sizeof manifold, "%s/manifold.png", run->dir);
    int rc = trainer_test_outputs(t, 0, t->test.n, t->model.latent, z, err);
    if (rc == 0) rc = results_write_latent(run, z, t->test.y, t->test.n, k, err);
    if (rc == 0) rc = plot_write_latent_png(png, z, t->test.y, t->test.n, k, title, err);
    if (rc == 0) rc = plot_write_latent_svg(svg, z, t->test.y, t->test.n, k, title, err);
    if (rc == 0) rc = infer_manifold(&t->model, z, t->test.n, INFER_GRID_DEFAULT, manifold, err);
    free(z);
    return rc;
}

void train_recorded_config(const Config *cfg, Config *rec)
{
    *rec = *cfg;
    char abs[PATH_MAX], set[PATH_MAX + 16];
    Err ignored = {{0}};
    if (cfg->data_dir[0] != '/' && realpath(cfg->data_dir, abs) &&
        snprintf(set, sizeof set, "data.dir=%s", abs) < (int)sizeof set &&
        config_set(rec, set, &ignored) != 0)
        *rec = *cfg;
    /* A tuning file given by a relative path, likewise. */
    if (strcmp(cfg->tuning, "auto") != 0 && strcmp(cfg->tuning, "none") != 0 &&
        cfg->tuning[0] != '/' && realpath(cfg->tuning, abs) &&
        snprintf(set, sizeof set, "device.tuning=%s", abs) < (int)sizeof set)
        config_set(rec, set, &ignored);
}

static int write_config(Run *run, const Config *cfg, Err *err)
{
    Config *rec = util_malloc(sizeof *rec, err);
    if (!rec) return -1;
    train_recorded_config(cfg, rec);
    int rc = results_write_config(run, rec, err);
    free(rec);
    return rc;
}

/* runs.csv's line for a completed run. */
static int append_runs_csv(const Config *cfg, const Run *run, const RunInfo *info, Err *err)
{
    RunSummary *s = util_calloc(1, sizeof *s, err);
    if (!s) return -1;
    util_copy(s->folder, sizeof s->folder, run->dir);
    const char *slash = strrchr(run->dir, '/');
    util_copy(s->id, sizeof s->id, slash ? slash + 1 : run->dir);
    util_copy(s->name, sizeof s->name, info->config_name);
    util_copy(s->status, sizeof s->status, info->status);
    results_iso_time(s->start, sizeof s->start, info->start);
    results_iso_time(s->end, sizeof s->end, info->end);
    s->epochs_done = info->epochs_done;
    s->epochs = info->epochs;
    s->train_loss = info->final_train_loss;
    s->test_loss = info->final_test_loss;
    s->images_per_second = info->images_per_second;
    s->seconds = info->seconds;
    snprintf(s->device, sizeof s->device, "%d:%d %s", info->platform_index, info->device_index,
             info->device);
    util_copy(s->sweep, sizeof s->sweep, info->sweep_name ? info->sweep_name : "");
    s->sweep_index = info->sweep_name ? info->sweep_index : -1;
    util_copy(s->overrides, sizeof s->overrides, info->overrides ? info->overrides : "");
    int rc = runs_append(cfg->root, s, err);
    free(s);
    return rc;
}

/* loss.svg from the history so far (rewritten each epoch). */
static int write_loss_svg(Run *run, const LossHistory *h, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/loss.svg", run->dir);
    return plot_write_loss_svg(path, h->epoch, h->train, h->test, h->n, err);
}

static int save_checkpoint(Trainer *t, Run *run, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.ckpt", run->dir);
    return trainer_save(t, path, err);
}

/* Removes dir's temporary files of a process that is gone ("NAME.tmp.PID",
 * util.h): a run killed while writing a file (a checkpoint can be large)
 * leaves its half. */
static void remove_leftovers(const char *dir, const ProcId *gone)
{
    if (gone->pid <= 0 || proc_alive(gone) != 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    char tail[32], path[4400];
    snprintf(tail, sizeof tail, ".tmp.%ld", gone->pid);
    size_t tn = strlen(tail);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= tn || strcmp(e->d_name + n - tn, tail) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0) { /* not ours to fuss about: it only takes space */ }
    }
    closedir(d);
}

/* --resume: the checkpoint and the old run.json of opt->resume_dir, checked
 * against cfg before anything is set up. Returns 0, -1 (run failed) or -2
 * (the request is at fault: exit 2). */
static int resume_prepare(const Config *cfg, const TrainOptions *opt, Ckpt *c, RunSummary *old,
                          Err *err)
{
    char path[4200];
    if (runs_read(opt->resume_dir, old, err))
        return err_prefix(err, "--resume %s: not a run folder", opt->resume_dir), -2;
    /* Two processes training into one folder would interleave its files. */
    if (strcmp(old->status, "running") == 0 && proc_alive(&old->process) == 1)
        return err_set(err, "--resume %s: the run is still going (process %ld on this host); "
                            "stop it first (kill %ld: it writes model.ckpt and ends as "
                            "interrupted) or let it finish", opt->resume_dir, old->process.pid,
                       old->process.pid), -2;
    if (strcmp(old->status, "running") == 0 && old->process.host[0])
        fprintf(stderr, "clae: warning: --resume %s: run.json says it is running on host %s, "
                        "which cannot be checked from here; if it still is, two processes now "
                        "write this folder\n", opt->resume_dir, old->process.host);
    snprintf(path, sizeof path, "%s/model.ckpt", opt->resume_dir);
    if (ckpt_read(path, c, err)) return -2;
    ConfigNet net;
    if (config_net(cfg, c->dims[0], &net, err) ||
        ckpt_check_shape(c, &net, cfg->optimizer, path, err))
        return -2;
    if (c->epoch >= cfg->epochs && c->steps_in_epoch == 0)
        return err_set(err, "--resume %s: the run already has %d epochs ([train] epochs = %d); to "
                            "train further, add --set train.epochs=N with N > %d",
                       opt->resume_dir, c->epoch, cfg->epochs, c->epoch), -2;
    if (c->epoch >= cfg->epochs)
        return err_set(err, "--resume %s: the checkpoint is in epoch %d, after [train] epochs = "
                            "%d; use --set train.epochs=N with N > %d",
                       opt->resume_dir, c->epoch + 1, cfg->epochs, c->epoch), -2;
    return 0;
}

int train_run(const Config *cfg, const TrainOptions *opt)
{
    Err err = {{0}};
    Ckpt ck;
    RunSummary *old = NULL;
    memset(&ck, 0, sizeof ck);
    if (opt->result) {
        memset(opt->result, 0, sizeof *opt->result);
        opt->result->test_loss = NAN;
    }
    Trainer *t = calloc(1, sizeof *t);
    if (!t || (opt->resume_dir && !(old = calloc(1, sizeof *old)))) {
        fprintf(stderr, "clae: out of memory\n");
        free(t);
        return EXIT_RUN_FAILED;
    }
    int setup_code = EXIT_RUN_FAILED;
    if (opt->resume_dir) {
        int rc = resume_prepare(cfg, opt, &ck, old, &err);
        if (rc) {
            setup_code = rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
            goto setup_failed;
        }
    }
    if (trainer_setup(t, cfg, opt, &err)) {
        setup_code = t->config_error ? EXIT_USAGE : EXIT_RUN_FAILED;
        goto setup_failed;
    }
    time_t start = time(NULL);
    Run run;
    memset(&run, 0, sizeof run);
    run.loss_fd = -1;
    LossHistory hist = {0};
    RunInfo info = {
        .status = "running",
        .start = start,
        .platform = t->ctx.platform_name,
        .device = t->ctx.device_name,
        .platform_index = t->ctx.platform_index,
        .device_index = t->ctx.device_index,
        .device_version = t->ctx.device_version,
        .driver_version = t->ctx.driver_version,
        .clblast_version = CLAE_CLBLAST_VERSION,
        .kernel_dir = t->k.dir,
        .kernel_dir_source = t->k.dir_source,
        .tuning_source = t->ctx.tuning.source,
        .tuning_path = t->ctx.tuning.path,
        .tuning_hash = t->ctx.tuning.hash,
        .tuning_note = t->ctx.tuning.note,
        .config_name = cfg->name,
        .epochs = cfg->epochs,
        .final_train_loss = NAN,
        .final_test_loss = NAN,
        .train_images = t->train.n,
        .test_images = t->test.n,
        .command_line = opt->command_line,
        .overrides = opt->overrides,
        .sweep_name = opt->sweep_name,
        .sweep_index = opt->sweep_index,
        .sweep_count = opt->sweep_count,
    };
    ProcId me;
    proc_self(&me);
    info.process = &me;
    info.kernel_cache = getenv("POCL_CACHE_DIR"); /* kcache.h set it, or the user did */
    double seconds_before = 0;
    /* What a diverged run's message points back to: the last epoch with
     * finite losses (0: none) and the epochs model.ckpt holds (-1: none). */
    int good_epoch = 0, ckpt_epoch = -1;
    double good_train = NAN, good_test = NAN;
    int code = EXIT_RUN_FAILED;
    int have_run = 0;
    struct sigaction sa, old_int, old_term;
    if (opt->resume_dir) {
        /* The same folder: config.ini stays, loss.csv goes on from the
         * checkpoint's epoch, run.json keeps the first start and counts the
         * resume. */
        util_copy(run.dir, sizeof run.dir, opt->resume_dir);
        info.start_text = old->start;
        info.resumes = old->resumes + 1;
        info.resumed_at = start;
        info.resumed_from_epoch = ck.epoch;
        info.resumed_from_step = ck.steps_in_epoch;
        if (old->sweep[0]) {
            info.sweep_name = old->sweep;
            info.sweep_index = old->sweep_index;
        }
        if (!info.overrides) info.overrides = old->overrides;
        seconds_before = isfinite(old->seconds) ? old->seconds : 0;
        have_run = 1;
        remove_leftovers(run.dir, &old->process);
        if (results_loss_resume(&run, ck.epoch, &hist, &err)) goto done;
        info.epochs_done = ck.epoch;
        ckpt_epoch = ck.epoch;
        if (hist.n > 0) {
            info.final_train_loss = hist.train[hist.n - 1];
            info.final_test_loss = hist.test[hist.n - 1];
        }
        for (int i = 0; i < hist.n; i++)
            if (isfinite(hist.train[i]) && isfinite(hist.test[i]))
                good_epoch = hist.epoch[i], good_train = hist.train[i], good_test = hist.test[i];
    } else {
        if (results_create(&run, cfg->root, cfg->name, start, &err)) goto done;
        have_run = 1;
    }
    /* From here on the folder exists: SIGINT/SIGTERM finish the current step,
     * write the checkpoint and end the run as "interrupted". */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* A resume rewrites config.ini too: --set train.epochs=N is now part of
     * what reproduces the run. */
    if (write_config(&run, cfg, &err) || (!opt->resume_dir && results_loss_open(&run, &err)) ||
        results_write_json(&run, &info, &err) || report_write_run_page(run.dir, &err))
        goto done;
    if (!opt->quiet) {
        printf("device %d:%d: %s / %s (%s)\n", t->ctx.platform_index, t->ctx.device_index,
               t->ctx.platform_name, t->ctx.device_name, t->ctx.device_version);
        printf("kernels: %s (%s)\n", t->k.dir, t->k.dir_source);
    }
    clctx_print_tuning(&t->ctx, opt->quiet ? NULL : stdout, stderr);
    if (!opt->quiet) {
        printf("data: %d training, %d test images; model", t->train.n, t->test.n);
        for (int l = 0; l <= t->model.n_layers; l++)
            printf("%c%d", l ? '-' : ' ', t->model.dims[l]);
        printf(" (%zu parameters); results: %s\n", t->model.n_params, run.dir);
        fflush(stdout);
    }
    double w0 = util_now();
    if (trainer_warmup(t, &err)) goto done;
    if (!opt->quiet) {
        printf("warm-up (kernel compilation): %.1fs\n", util_now() - w0);
        fflush(stdout);
    }
    int first_step = 0;
    if (opt->resume_dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/model.ckpt", run.dir);
        if (trainer_load(t, &ck, path, &err)) goto done;
        first_step = ck.steps_in_epoch;
        if (!opt->quiet) {
            printf("resumed from %s: epoch %d, step %d of %d\n", path, ck.epoch + 1, first_step,
                   t->steps_per_epoch);
            fflush(stdout);
        }
    }
    ckpt_free(&ck);

    double t_run0 = util_now(), train_seconds = 0;
    int epoch, epochs_here = 0;
    for (epoch = t->epochs_done + 1; epoch <= cfg->epochs && !interrupted; epoch++) {
        double e0 = util_now();
        if (trainer_shuffle(t, &err)) break;
        int s;
        cl_event mark = NULL;
        for (s = first_step; s < t->steps_per_epoch && !interrupted; s++)
            if (trainer_step(t, s, &err) || trainer_pace(t, s, &mark, &err)) break;
        if (mark) clReleaseEvent(mark);
        t->steps_done = s;
        if (s < t->steps_per_epoch) break; /* error or interrupted mid-epoch */
        double train_loss, test_loss;
        if (trainer_train_loss(t, &train_loss, &err)) break; /* waits for the epoch */
        double e1 = util_now();
        if (trainer_test_loss(t, &test_loss, &err)) break;
        double e2 = util_now();
        trainer_finish_epoch(t);
        train_seconds += e1 - e0;
        epochs_here++;
        /* A resumed first epoch ran only its remaining steps. */
        double images = (double)t->train.n * (t->steps_per_epoch - first_step) / t->steps_per_epoch;
        double ips = images / (e1 - e0);
        first_step = 0;
        if (results_loss_row(&run, epoch, train_loss, test_loss, e2 - e0, ips, &err)) break;
        if (results_history_add(&hist, epoch, train_loss, test_loss, &err)) break;
        info.epochs_done = epoch;
        info.final_train_loss = train_loss;
        info.final_test_loss = test_loss;
        info.seconds = seconds_before + (e2 - t_run0);
        info.images_per_second = (double)t->train.n * epochs_here / train_seconds;
        if (!isfinite(train_loss) || !isfinite(test_loss)) {
            info.status = "diverged";
            char before[200], kept[200];
            if (good_epoch)
                snprintf(before, sizeof before, "last finite losses after epoch %d: train %.6g, "
                         "test %.6g", good_epoch, good_train, good_test);
            else
                snprintf(before, sizeof before, "no epoch had finite losses");
            if (ckpt_epoch >= 0)
                snprintf(kept, sizeof kept, "model.ckpt keeps the model after epoch %d",
                         ckpt_epoch);
            else
                snprintf(kept, sizeof kept, "no checkpoint was written ([output] "
                         "checkpoint_every = %d)", cfg->checkpoint_every);
            err_set(&err, "training diverged in epoch %d: train loss %g, test loss %g (%s; %s); "
                          "try a smaller [train] learning_rate (now %g)",
                    epoch, train_loss, test_loss, before, kept, cfg->learning_rate);
            break;
        }
        good_epoch = epoch, good_train = train_loss, good_test = test_loss;
        if (cfg->recon_every > 0 && (epoch % cfg->recon_every == 0 || epoch == cfg->epochs) &&
            write_recon(t, &run, epoch, &err))
            break;
        if (cfg->recon_every == 0 && epoch == cfg->epochs && write_recon(t, &run, epoch, &err))
            break;
        if (write_loss_svg(&run, &hist, &err)) break;
        if (cfg->checkpoint_every > 0 && epoch % cfg->checkpoint_every == 0 && epoch < cfg->epochs) {
            if (save_checkpoint(t, &run, &err)) break;
            ckpt_epoch = epoch;
        }
        if (results_write_json(&run, &info, &err) || report_write_run_page(run.dir, &err)) break;
        if (!opt->quiet) {
            char el[32], eta[32];
            double elapsed = util_now() - t_run0;
            fmt_duration(el, sizeof el, elapsed);
            fmt_duration(eta, sizeof eta, elapsed / epochs_here * (cfg->epochs - epoch));
            printf("epoch %3d/%d  train %.6f  test %.6f  %8.0f img/s  elapsed %s  ETA %s\n", epoch,
                   cfg->epochs, train_loss, test_loss, ips, el, eta);
            fflush(stdout);
        }
    }
    if (err.msg[0]) goto done;
    /* A signal after the last epoch's row changes nothing: finish the run. */
    if (interrupted && info.epochs_done < cfg->epochs) {
        info.status = "interrupted";
        char path[4200];
        snprintf(path, sizeof path, "%s/model.ckpt", run.dir);
        if (trainer_save(t, path, &err)) goto done;
        err_set(&err, "interrupted in epoch %d after step %d of %d; %d epochs completed; "
                      "continue with: clae train --resume %s",
                t->epochs_done + 1, t->in_epoch ? t->steps_done : 0, t->steps_per_epoch,
                info.epochs_done, run.dir);
        goto done;
    }
    if (write_latent(t, &run, cfg->name, &err) || save_checkpoint(t, &run, &err)) goto done;
    info.status = "completed";
    code = EXIT_OK;
done:;
    Err jerr = {{0}}; /* recording the outcome failed too (a full disk) */
    if (have_run) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        results_close(&run);
        if (code != EXIT_OK && strcmp(info.status, "running") == 0) info.status = "failed";
        info.end = time(NULL);
        info.error = code == EXIT_OK ? NULL : err.msg;
        /* index.html last: it shows what run.json says. If run.json cannot
         * be written it keeps saying running, and readers see the process
         * gone (stale). */
        if (results_write_json(&run, &info, &jerr) || report_write_run_page(run.dir, &jerr)) {
            code = EXIT_RUN_FAILED;
        } else if (code == EXIT_OK && append_runs_csv(cfg, &run, &info, &jerr)) {
            /* The run itself is complete (run.json says so); only its index line is missing. */
            code = EXIT_RUN_FAILED;
        }
    }
    if (opt->result) {
        TrainResult *r = opt->result;
        util_copy(r->folder, sizeof r->folder, have_run ? run.dir : "");
        util_copy(r->status, sizeof r->status, have_run ? info.status : "failed");
        r->test_loss = info.final_test_loss;
        r->epochs_done = info.epochs_done;
    }
    /* one line, whatever failed */
    if (code != EXIT_OK && err.msg[0] && jerr.msg[0])
        fprintf(stderr, "clae: %s; recording that failed too: %s\n", err.msg, jerr.msg);
    else if (code != EXIT_OK)
        fprintf(stderr, "clae: %s\n", err.msg[0] ? err.msg : jerr.msg);
    if (have_run) {
        if (code == EXIT_OK && !opt->quiet)
            printf("done: test loss %.6f after %d epochs, %.0f img/s\n", info.final_test_loss,
                   info.epochs_done, info.images_per_second);
        printf("%s\n", run.dir);
    }
    results_history_free(&hist);
    ckpt_free(&ck);
    trainer_destroy(t);
    free(t);
    free(old);
    return code;

setup_failed:
    fprintf(stderr, "clae: %s\n", err.msg);
    if (opt->result)
        util_copy(opt->result->status, sizeof opt->result->status,
                  setup_code == EXIT_USAGE ? "config error" : "failed");
    ckpt_free(&ck);
    free(t);
    free(old);
    return setup_code;
}
