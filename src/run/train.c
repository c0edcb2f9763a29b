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

#include "ckpt.h"
#include "heartbeat.h"
#include "infer.h"
#include "plot.h"
#include "proc.h"
#include "report.h"
#include "runs.h"
#include "schedule.h"
#include "trainer.h"

/* Set by SIGINT/SIGTERM; the one piece of process-wide state, because a
 * signal handler can reach nothing else. Checked between steps. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* SIGBUS: a page of a memory-mapped .npy file (data.h, npy_map) that is
 * gone from the file, cut short or replaced while the run read it (its size
 * was checked against its header when it was mapped). Said on stderr, then
 * the default action: the process ends by the signal, never silently, and
 * its run.json reads stale. Only async-signal-safe calls. */
static void on_sigbus(int sig)
{
    static const char msg[] =
        "clae: SIGBUS: a memory-mapped .npy data file ([data] train_images or test_images) "
        "was cut short or replaced while the run read it; the run stops (do not rewrite a "
        "data file during a run; --resume continues from the last checkpoint)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* One run in progress. */
typedef struct {
    const Config *cfg;
    const TrainOptions *opt;
    Trainer *t;
    Ckpt ck;                 /* --resume: the checkpoint, until it is loaded */
    RunRecord *old;          /* --resume: the run.json before; NULL otherwise */
    RunFolder folder;
    int have_folder;         /* folder exists: the outcome is recorded there */
    RunRecord rec;           /* what run.json says; runs.csv's row at the end */
    Heartbeat hb;            /* heartbeat.json, renewed at the sync points while running */
    LossHistory hist;        /* loss.csv's rows so far */
    int signals_set;         /* our SIGINT/SIGTERM handlers are in place */
    struct sigaction old_int, old_term, old_bus;
    double seconds_before;   /* a resumed run's seconds before this process */
    double t0, train_seconds; /* this process's start of training; seconds in epochs */
    int epochs_here;         /* epochs run by this process */
    int first_step;          /* the step the next epoch starts at (a resumed one) */
    /* What a diverged run's message points back to: the last epoch with
     * finite losses (0: none) and the epochs model.ckpt holds (-1: none). */
    int good_epoch, ckpt_epoch;
    double good_train, good_test;
    int stopped;             /* early stopping ([train] patience) ended the run */
    Config *recorded;        /* the config as config.ini and run.json record it; owned */
    /* The live line of the epoch in progress, on a terminal only. */
    int live;                /* draw it: stdout is a terminal, and no --quiet */
    int live_len;            /* characters of it on the screen now; 0 = none */
    double live_at;          /* util_now() when it was drawn last */
} TrainRun;

/* Seconds between two drawings of the live line: at most 4 a second. */
#define LIVE_INTERVAL 0.25

static void fmt_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, len, "%.1fs", s);
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

/* ---- the run's files -------------------------------------------------- */

/* config.ini, and the same config for run.json's "config" from now on. */
static int write_config(TrainRun *r, Err *err)
{
    if (!r->recorded && !(r->recorded = util_malloc(sizeof *r->recorded, err))) return -1;
    train_recorded_config(r->cfg, r->recorded);
    r->rec.config = r->recorded;
    return runfolder_write_config(&r->folder, r->recorded, err);
}

/* recon-epoch-NNN.png: the first recon_count test images and their
 * reconstructions. */
static int write_recon(TrainRun *r, int epoch, Err *err)
{
    Trainer *t = r->t;
    int count = t->cfg.recon_count < t->test.n ? t->cfg.recon_count : t->test.n;
    size_t D = (size_t)t->test.dim;
    /* the test images as floats (the data may be held as bytes), then their
     * reconstructions */
    float *orig = util_malloc(2 * (size_t)count * D * sizeof *orig, err);
    if (!orig) return -1;
    float *rec = orig + (size_t)count * D;
    data_rows_float(&t->test, 0, (size_t)count, orig);
    int rc = trainer_test_outputs(t, 0, count, t->model.n_layers, rec, err);
    if (rc == 0)
        rc = runfolder_write_recon(&r->folder, epoch, orig, rec, count, t->test.channels,
                                   t->test.rows, t->test.cols, err);
    free(orig);
    return rc;
}

/* denoise.png for a run with [train] noise: the first recon_count test
 * images, corrupted as in training, and their reconstructions. */
static int write_denoise(TrainRun *r, Err *err)
{
    Trainer *t = r->t;
    int count = t->cfg.recon_count < t->test.n ? t->cfg.recon_count : t->test.n;
    size_t n = (size_t)count * (size_t)t->test.dim;
    float *noisy = util_malloc(3 * n * sizeof *noisy, err); /* noisy, rec, the originals */
    if (!noisy) return -1;
    float *rec = noisy + n, *orig = noisy + 2 * n;
    data_rows_float(&t->test, 0, (size_t)count, orig);
    int rc = trainer_test_denoise(t, count, noisy, rec, err);
    if (rc == 0)
        rc = runfolder_write_denoise(&r->folder, orig, noisy, rec, count, t->test.channels,
                                     t->test.rows, t->test.cols, err);
    free(noisy);
    return rc;
}

/* latent.csv, the test set's latent plane as latent.png and latent.svg
 * (labels by their [data] label_names), and for images manifold.png: a
 * grid of decoded latent points over the codes' range. */
static int write_latent(TrainRun *r, Err *err)
{
    Trainer *t = r->t;
    const char *title = r->cfg->name, *dir = r->folder.dir;
    ConfigLabelNames *ln = util_malloc(sizeof *ln, err);
    if (!ln) return -1;
    config_label_names(r->cfg, ln);
    PlotNames names = {ln->n, ln->name};
    int k = t->model.dims[t->model.latent];
    float *z = util_malloc((size_t)t->test.n * (size_t)k * sizeof *z, err);
    if (!z) {
        free(ln);
        return -1;
    }
    char png[4200], svg[4200], manifold[4200];
    snprintf(png, sizeof png, "%s/latent.png", dir);
    snprintf(svg, sizeof svg, "%s/latent.svg", dir);
    snprintf(manifold, sizeof manifold, "%s/manifold.png", dir);
    int rc = trainer_test_outputs(t, 0, t->test.n, t->model.latent, z, err);
    if (rc == 0) rc = runfolder_write_latent(&r->folder, z, t->test.y, t->test.n, k, err);
    PlotLatent pl = {.n = t->test.n, .k = k, .z = z, .labels = t->test.y, .names = &names,
                     .title = title};
    if (rc == 0) rc = plot_write_latent(png, PLOT_PNG, &pl, err);
    if (rc == 0) rc = plot_write_latent(svg, PLOT_SVG, &pl, err);
    if (rc == 0 && t->test.rows > 0)
        rc = infer_manifold(&t->model, z, t->test.n, INFER_GRID_DEFAULT, manifold, err);
    free(z);
    free(ln);
    return rc;
}

/* loss.svg from the history so far (rewritten each epoch). */
static int write_loss_svg(TrainRun *r, Err *err)
{
    char path[4200];
    const LossHistory *h = &r->hist;
    snprintf(path, sizeof path, "%s/loss.svg", r->folder.dir);
    PlotLoss pl = {.n = h->n, .epoch = h->epoch, .train = h->train, .test = h->test,
                   .train_kl = h->train_kl, .test_kl = h->test_kl};
    return plot_write_loss(path, PLOT_SVG, &pl, err);
}

static int save_checkpoint(TrainRun *r, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.ckpt", r->folder.dir);
    return trainer_save(r->t, path, err);
}

/* run.json and the run's page: what the run says about itself now. */
static int write_state(TrainRun *r, Err *err)
{
    return runfolder_write_json(&r->rec, err) || report_write_run_page(r->folder.dir, err) ? -1 : 0;
}

/* Removes dir's temporary files of a process that is gone ("NAME.tmp.PID",
 * util.h): a run killed while writing a file (a checkpoint can be large)
 * leaves its half. stale: the reader found the run stale (its heartbeat, for
 * a process on another host, whose pid this host cannot ask about). */
static void remove_leftovers(const char *dir, const ProcId *gone, int stale)
{
    if (gone->pid <= 0 || (!stale && proc_alive(gone) != 0)) return;
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

/* ---- setting up ----------------------------------------------------------- */

/* --resume with [train] patience: early stopping's state is loss.csv's test
 * losses of the epochs the checkpoint has done. If they already end the run
 * (it stopped early, or a lower patience is asked for now), say so rather
 * than train one more epoch. Returns 0, or -2 (the request is at fault); a
 * loss.csv that cannot be read is left to the resume itself to report. */
static int resume_early_stop(const Config *cfg, const char *dir, int epochs, Err *err)
{
    if (cfg->patience == 0 || epochs == 0) return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/loss.csv", dir);
    size_t len = 0;
    Err ignored = {{0}};
    char *text = util_read_file(path, &len, &ignored);
    LossRows rows;
    if (!text || runfolder_loss_parse(text, len, &rows, &ignored)) {
        free(text);
        return 0;
    }
    free(text);
    /* epochs 1..epochs in order, as runfolder_loss_resume keeps them */
    int n = 0;
    while (n < rows.n && n < epochs && rows.epoch[n] == n + 1) n++;
    ScheduleStop st;
    int stop = n == epochs && schedule_stop(cfg->patience, rows.test, n, &st);
    runfolder_loss_free(&rows);
    if (!stop) return 0;
    char why[256];
    schedule_stop_reason(&st, cfg->patience, why, sizeof why);
    return err_set(err, "--resume %s: early stopping ends the run after epoch %d: %s; to train "
                        "on, raise it (--set train.patience=N with N > %d) or turn it off "
                        "(--set train.patience=0)",
                   dir, epochs, why, st.since), -2;
}

/* --resume: the checkpoint and the old run.json of opt->resume_dir, checked
 * against cfg before anything is set up. Returns 0, -1 (run failed) or -2
 * (the request is at fault: exit 2). */
static int resume_prepare(const Config *cfg, const TrainOptions *opt, Ckpt *c, RunRecord *old,
                          Err *err)
{
    char path[4200];
    if (runfolder_read(opt->resume_dir, old, err))
        return err_prefix(err, "--resume %s: not a run folder", opt->resume_dir), -2;
    /* Two processes training into one folder would interleave its files. */
    if (old->status == RUN_RUNNING && proc_alive(&old->process) == 1)
        return err_set(err, "--resume %s: the run is still going (process %ld on this host); "
                            "stop it first (kill %ld: it writes model.ckpt and ends as "
                            "interrupted) or let it finish", opt->resume_dir, old->process.pid,
                       old->process.pid), -2;
    if (old->status == RUN_RUNNING && old->alive == 1)
        return err_set(err, "--resume %s: the run is still going on host %s (process %ld; its "
                            "heartbeat is %.0f s old, renewed every %d s); stop it there first "
                            "(kill %ld on %s: it writes model.ckpt and ends as interrupted) or "
                            "let it finish", opt->resume_dir, old->process.host,
                       old->process.pid, old->heartbeat_age, old->heartbeat, old->process.pid,
                       old->process.host), -2;
    if (old->status == RUN_RUNNING && old->process.host[0])
        fprintf(stderr, "clae: warning: --resume %s: run.json says it is running on host %s, "
                        "which cannot be checked from here; if it still is, two processes now "
                        "write this folder\n", opt->resume_dir, old->process.host);
    snprintf(path, sizeof path, "%s/model.ckpt", opt->resume_dir);
    if (ckpt_read(path, c, err)) return -2;
    ConfigNet net;
    Shape3 input;
    if (ckpt_input(c, cfg, path, &input, err) || config_net(cfg, input, &net, err) ||
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
    return resume_early_stop(cfg, opt->resume_dir, c->epoch, err);
}

/* The checks of a resume, then the trainer. Returns 0 or the exit code of a
 * run that never started. */
static int run_setup(TrainRun *r, Err *err)
{
    if (r->opt->resume_dir) {
        int rc = resume_prepare(r->cfg, r->opt, &r->ck, r->old, err);
        if (rc) return rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
    }
    if (trainer_setup(r->t, r->cfg, r->opt->cl_dir, err))
        return r->t->config_error ? EXIT_USAGE : EXIT_RUN_FAILED;
    return 0;
}

/* run.json's record of a run starting now (time `start`) on the trainer's
 * device. */
static void record_start(TrainRun *r, time_t start)
{
    const Config *cfg = r->cfg;
    const TrainOptions *opt = r->opt;
    const Trainer *t = r->t;
    const ClCtx *ctx = &t->dev.ctx;
    RunRecord *rec = &r->rec;
    runfolder_record_init(rec, r->folder.dir);
    rec->status = RUN_RUNNING;
    runfolder_iso_time(rec->start, sizeof rec->start, start);
    util_copy(rec->name, sizeof rec->name, cfg->name);
    rec->epochs = cfg->epochs;
    rec->seconds = rec->images_per_second = 0;
    rec->train_images = t->train.n;
    rec->test_images = t->test.n;
    rec->input_values = t->train.dim;
    rec->image_rows = t->train.rows;
    rec->image_cols = t->train.cols;
    rec->image_channels = t->train.channels;
    util_copy(rec->data_mode, sizeof rec->data_mode, t->data_mode);
    rec->data_device_bytes = (double)t->data_device_bytes;
    rec->data_budget = (double)t->data_budget;
    snprintf(rec->device_index, sizeof rec->device_index, "%d:%d", ctx->platform_index,
             ctx->device_index);
    util_copy(rec->device_name, sizeof rec->device_name, ctx->device_name);
    rec->platform = ctx->platform_name;
    rec->device_version = ctx->device_version;
    rec->driver_version = ctx->driver_version;
    rec->clblast_version = CLAE_CLBLAST_VERSION;
    rec->kernel_dir = t->dev.k.dir;
    rec->kernel_dir_source = t->dev.k.dir_source;
    rec->tuning_source = ctx->tuning.source;
    rec->tuning_path = ctx->tuning.path;
    rec->tuning_hash = ctx->tuning.hash;
    rec->tuning_note = ctx->tuning.note;
    rec->command_line = opt->command_line;
    util_copy(rec->overrides, sizeof rec->overrides, opt->overrides ? opt->overrides : "");
    if (opt->sweep_name) {
        util_copy(rec->sweep, sizeof rec->sweep, opt->sweep_name);
        rec->sweep_index = opt->sweep_index;
    }
    rec->sweep_count = opt->sweep_count;
    proc_self(&rec->process);
    rec->heartbeat = cfg->heartbeat;
    const char *cache = getenv("POCL_CACHE_DIR"); /* kcache.h set it, or the user did */
    util_copy(rec->kernel_cache, sizeof rec->kernel_cache, cache ? cache : "");
}

/* --resume: the same folder. config.ini is rewritten (a --set of
 * train.epochs is now part of what reproduces the run), loss.csv goes on
 * from the checkpoint's epoch, run.json keeps the first start and counts
 * the resume. */
static int resume_folder(TrainRun *r, time_t start, Err *err)
{
    const RunRecord *old = r->old;
    RunRecord *rec = &r->rec;
    if (runfolder_open(&r->folder, r->opt->resume_dir, err)) return -1;
    r->have_folder = 1;
    record_start(r, start);
    util_copy(rec->start, sizeof rec->start, old->start);
    rec->resumes = old->resumes + 1;
    runfolder_iso_time(rec->resumed_at, sizeof rec->resumed_at, start);
    rec->resumed_from_epoch = r->ck.epoch;
    rec->resumed_from_step = r->ck.steps_in_epoch;
    if (old->sweep[0]) {
        util_copy(rec->sweep, sizeof rec->sweep, old->sweep);
        rec->sweep_index = old->sweep_index;
    }
    if (!r->opt->overrides) util_copy(rec->overrides, sizeof rec->overrides, old->overrides);
    r->seconds_before = isfinite(old->seconds) ? old->seconds : 0;
    remove_leftovers(r->folder.dir, &old->process, old->status == RUN_STALE);
    if (runfolder_loss_resume(&r->folder, r->ck.epoch, &r->hist, err)) return -1;
    rec->epochs_done = r->ck.epoch;
    r->ckpt_epoch = r->ck.epoch;
    const LossHistory *h = &r->hist;
    if (h->n > 0) {
        rec->train_loss = h->train[h->n - 1];
        rec->test_loss = h->test[h->n - 1];
    }
    for (int i = 0; i < h->n; i++)
        if (isfinite(h->train[i]) && isfinite(h->test[i]))
            r->good_epoch = h->epoch[i], r->good_train = h->train[i], r->good_test = h->test[i];
    return 0;
}

/* The first stage: the run folder (new, or the resumed one) with its
 * config.ini, loss.csv, run.json and page, the signal handlers, the
 * console's header, the warm-up, and a resumed run's checkpoint loaded. */
static int run_begin(TrainRun *r, Err *err)
{
    const Config *cfg = r->cfg;
    const TrainOptions *opt = r->opt;
    Trainer *t = r->t;
    time_t start = time(NULL);
    if (opt->resume_dir) {
        if (resume_folder(r, start, err)) return -1;
    } else {
        if (runfolder_create(&r->folder, cfg->root, cfg->name, start, err)) return -1;
        r->have_folder = 1;
        record_start(r, start);
    }
    /* From here on the folder exists: SIGINT/SIGTERM finish the current step,
     * write the checkpoint and end the run as "interrupted". */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &r->old_int);
    sigaction(SIGTERM, &sa, &r->old_term);
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, &r->old_bus);
    r->signals_set = 1;
    r->live = !opt->quiet && isatty(STDOUT_FILENO);
    /* the beat first, so that a run.json saying running always has one; the
     * warm-up compiles kernels with no sync point inside: a long allowance */
    heartbeat_init(&r->hb, r->folder.dir, cfg->heartbeat);
    if (heartbeat_write(&r->hb, "warm-up", 1, err)) return -1;
    if (write_config(r, err) || (!opt->resume_dir && runfolder_loss_open(&r->folder, err)) ||
        write_state(r, err))
        return -1;
    const ClCtx *ctx = &t->dev.ctx;
    if (!opt->quiet) {
        printf("device %d:%d: %s / %s (%s)\n", ctx->platform_index, ctx->device_index,
               ctx->platform_name, ctx->device_name, ctx->device_version);
        printf("kernels: %s (%s)\n", t->dev.k.dir, t->dev.k.dir_source);
    }
    clctx_print_tuning(ctx, opt->quiet ? NULL : stdout, stderr);
    if (!opt->quiet) {
        int images = t->train.rows > 0;
        char net[1024];
        layers_net_str(t->model.layer, t->model.n_layers, net, sizeof net);
        printf("data: %d training, %d test %s; model %s (%zu parameters); results: %s\n",
               t->train.n, t->test.n, images ? "images" : "items", net, t->model.n_params,
               r->folder.dir);
        printf("data on the device: %s\n", t->data_mode);
        if (!images)
            printf("pictures: none: the items are %d values each, not images (a .npy of shape "
                   "(N, D)), so no recon-epoch-NNN.png or manifold.png is written\n",
                   t->train.dim);
        fflush(stdout);
    }
    double w0 = util_now();
    if (trainer_warmup(t, err)) return -1;
    if (!opt->quiet) {
        printf("warm-up (kernel compilation): %.1fs\n", util_now() - w0);
        fflush(stdout);
    }
    if (opt->resume_dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/model.ckpt", r->folder.dir);
        if (trainer_load(t, &r->ck, path, err)) return -1;
        r->first_step = r->ck.steps_in_epoch;
        if (!opt->quiet) {
            printf("resumed from %s: epoch %d, step %d of %d\n", path, r->ck.epoch + 1,
                   r->first_step, t->steps_per_epoch);
            fflush(stdout);
        }
    }
    ckpt_free(&r->ck);
    if (heartbeat_write(&r->hb, "training", 0, err)) return -1;
    r->t0 = util_now();
    return 0;
}

/* ---- an epoch --------------------------------------------------------- */

/* The error of a run whose losses stopped being finite in `epoch`. */
static int diverged(TrainRun *r, int epoch, double train_loss, double test_loss, Err *err)
{
    char before[200], kept[200];
    if (r->good_epoch)
        snprintf(before, sizeof before, "last finite losses after epoch %d: train %.6g, "
                 "test %.6g", r->good_epoch, r->good_train, r->good_test);
    else
        snprintf(before, sizeof before, "no epoch had finite losses");
    if (r->ckpt_epoch >= 0)
        snprintf(kept, sizeof kept, "model.ckpt keeps the model after epoch %d", r->ckpt_epoch);
    else
        snprintf(kept, sizeof kept, "no checkpoint was written ([output] "
                 "checkpoint_every = %d)", r->cfg->checkpoint_every);
    return err_set(err, "training diverged in epoch %d: train loss %g, test loss %g (%s; %s); "
                        "try a smaller [train] learning_rate (now %g)",
                   epoch, train_loss, test_loss, before, kept, r->cfg->learning_rate);
}

/* An epoch just run. */
typedef struct {
    double train_loss, test_loss;
    TrainerLoss train, test; /* the same with a vae's terms (NaN for an ae) */
    double lr;      /* the learning rate it ran at */
    double seconds; /* the epoch with its test evaluation */
    double ips;     /* its training images per second */
    double end;     /* util_now() when it ended */
} Epoch;

/* What an epoch leaves behind: its loss.csv row, the run's record, and
 * unless it diverged the pictures, loss.svg, a checkpoint when one is due,
 * run.json, the page and the console line. */
static int epoch_outputs(TrainRun *r, int epoch, const Epoch *e, Err *err)
{
    const Config *cfg = r->cfg;
    RunRecord *rec = &r->rec;
    double train_loss = e->train_loss, test_loss = e->test_loss;
    LossRow row = {.epoch = epoch, .train = train_loss, .test = test_loss, .seconds = e->seconds,
                   .ips = e->ips, .lr = e->lr, .train_recon = e->train.recon,
                   .train_kl = e->train.kl, .test_recon = e->test.recon, .test_kl = e->test.kl};
    if (runfolder_loss_row(&r->folder, &row, err) ||
        runfolder_history_add(&r->hist, epoch, train_loss, test_loss, e->train.kl, e->test.kl,
                              err))
        return -1;
    rec->epochs_done = epoch;
    rec->train_loss = train_loss;
    rec->test_loss = test_loss;
    rec->seconds = r->seconds_before + (e->end - r->t0);
    rec->images_per_second = (double)r->t->train.n * r->epochs_here / r->train_seconds;
    if (!isfinite(train_loss) || !isfinite(test_loss)) {
        rec->status = RUN_DIVERGED;
        return diverged(r, epoch, train_loss, test_loss, err);
    }
    r->good_epoch = epoch, r->good_train = train_loss, r->good_test = test_loss;
    /* Early stopping, from the test losses so far (loss.csv's: a resumed
     * run decides as the uninterrupted one would). The run then ends as
     * after its last epoch: completed, with the final outputs. */
    ScheduleStop st;
    if (epoch < cfg->epochs && schedule_stop(cfg->patience, r->hist.test, r->hist.n, &st)) {
        r->stopped = 1;
        schedule_stop_reason(&st, cfg->patience, rec->early_stop, sizeof rec->early_stop);
        rec->best_epoch = st.best_epoch;
        rec->best_test_loss = st.best;
    }
    int last = epoch == cfg->epochs || r->stopped, images = r->t->test.rows > 0;
    if (images && (cfg->recon_every > 0 ? epoch % cfg->recon_every == 0 || last : last))
        if (write_recon(r, epoch, err)) return -1;
    if (write_loss_svg(r, err)) return -1;
    if (cfg->checkpoint_every > 0 && epoch % cfg->checkpoint_every == 0 && !last) {
        if (save_checkpoint(r, err)) return -1;
        r->ckpt_epoch = epoch;
    }
    if (write_state(r, err) || heartbeat_tick(&r->hb, err)) return -1;
    if (!r->opt->quiet) {
        char el[32], eta[32];
        double elapsed = util_now() - r->t0;
        fmt_duration(el, sizeof el, elapsed);
        fmt_duration(eta, sizeof eta, elapsed / r->epochs_here * (cfg->epochs - epoch));
        printf("epoch %3d/%d  train %.6f  test %.6f", epoch, cfg->epochs, train_loss, test_loss);
        if (cfg->kind == MODEL_VAE) /* the terms of the test loss */
            printf(" (recon %.6f, KL %.6f)", e->test.recon, e->test.kl);
        printf("  %8.0f img/s  elapsed %s  ETA %s\n", e->ips, el, eta);
    }
    /* on the console even with --quiet, as the reason a run ended early */
    if (r->stopped) printf("early stop after epoch %d: %s\n", epoch, rec->early_stop);
    fflush(stdout);
    return 0;
}

/* The live line of epoch `epoch` (started at e0), redrawn in place at most
 * every LIVE_INTERVAL: the images the device has finished of the epoch's
 * N, images/s so far in the epoch, and the time left in the epoch and in
 * the run (later epochs at the pace of the earlier ones in this process,
 * their outputs included; in the first, at this epoch's pace). `steps` is
 * the count of steps known done: no device round trip is added for it. */
static void live_line(TrainRun *r, int epoch, int steps, double e0)
{
    const Trainer *t = r->t;
    double now = util_now();
    if (r->live_len && now - r->live_at < LIVE_INTERVAL) return;
    long n = t->train.n, B = t->cfg.batch_size;
    long done = steps * B < n ? steps * B : n, start = r->first_step * B;
    if (done <= start || !(now > e0)) return;
    double ips = (double)(done - start) / (now - e0);
    double left = (double)(n - done) / ips;
    double per_epoch = r->epochs_here ? (e0 - r->t0) / r->epochs_here : (double)n / ips;
    char el[32], rl[32], line[200];
    fmt_duration(el, sizeof el, left);
    fmt_duration(rl, sizeof rl, left + per_epoch * (r->cfg->epochs - epoch));
    int len = snprintf(line, sizeof line, "epoch %3d/%d  %ld/%ld %s  %.0f img/s  ETA epoch %s, "
                       "run %s", epoch, r->cfg->epochs, done, n,
                       t->train.rows > 0 ? "images" : "items", ips, el, rl);
    /* blanks over what a longer line before left */
    printf("\r%s%*s", line, r->live_len > len ? r->live_len - len : 0, "");
    fflush(stdout);
    r->live_len = len;
    r->live_at = now;
}

/* Wipes the live line, so that the next output starts on a clean line. */
static void live_clear(TrainRun *r)
{
    if (!r->live_len) return;
    printf("\r%*s\r", r->live_len, "");
    fflush(stdout);
    r->live_len = 0;
}

/* One epoch: the shuffle, every step (paced, stopping early on SIGINT or
 * SIGTERM), the train and test losses, then its outputs. Returns 0, or -1
 * when the run stops here: err says why, or is empty when interrupted. */
static int run_epoch(TrainRun *r, int epoch, Err *err)
{
    Trainer *t = r->t;
    double e0 = util_now();
    if (trainer_shuffle(t, err)) return -1;
    int s;
    cl_event mark = NULL;
    for (s = r->first_step; s < t->steps_per_epoch && !interrupted; s++) {
        if (trainer_step(t, s, err) || trainer_pace(t, s, &mark, err)) break;
        /* trainer_pace has just waited for its marker of TRAINER_SYNC_STEPS steps
         * ago (none the first time in an epoch): the steps before it are done */
        if ((s + 1) % TRAINER_SYNC_STEPS == 0) {
            if (r->live) live_line(r, epoch, s + 1 - TRAINER_SYNC_STEPS, e0);
            if (heartbeat_tick(&r->hb, err)) break;
        }
    }
    live_clear(r);
    if (mark) clReleaseEvent(mark);
    t->steps_done = s;
    if (s < t->steps_per_epoch) return -1; /* error or interrupted mid-epoch */
    Epoch e = {.lr = t->optim.lr};
    if (trainer_train_losses(t, &e.train, err)) return -1; /* waits for the epoch */
    double e1 = util_now();
    if (heartbeat_tick(&r->hb, err) || trainer_test_losses(t, &e.test, err) ||
        heartbeat_tick(&r->hb, err))
        return -1;
    e.train_loss = e.train.total;
    e.test_loss = e.test.total;
    e.end = util_now();
    trainer_finish_epoch(t);
    r->train_seconds += e1 - e0;
    r->epochs_here++;
    /* A resumed first epoch ran only its remaining steps. */
    double images = (double)t->train.n * (t->steps_per_epoch - r->first_step) / t->steps_per_epoch;
    r->first_step = 0;
    e.seconds = e.end - e0;
    e.ips = images / (e1 - e0);
    return epoch_outputs(r, epoch, &e, err);
}

/* ---- the end ---------------------------------------------------------- */

/* After the last epoch run: an interrupted run's checkpoint and message,
 * or a completed run's final outputs (latent.csv, the latent plots, the
 * manifold, model.ckpt). Returns the exit code. */
static int run_end(TrainRun *r, Err *err)
{
    Trainer *t = r->t;
    RunRecord *rec = &r->rec;
    /* the checkpoint and the final outputs have no sync point inside */
    if (heartbeat_write(&r->hb, "finishing", 1, err)) return EXIT_RUN_FAILED;
    /* A signal after the last epoch's row changes nothing: finish the run. */
    if (interrupted && rec->epochs_done < r->cfg->epochs && !r->stopped) {
        rec->status = RUN_INTERRUPTED;
        char path[4200];
        snprintf(path, sizeof path, "%s/model.ckpt", r->folder.dir);
        if (trainer_save(t, path, err)) return EXIT_RUN_FAILED;
        err_set(err, "interrupted in epoch %d after step %d of %d; %d epochs completed; "
                     "continue with: clae train --resume %s",
                t->epochs_done + 1, t->in_epoch ? t->steps_done : 0, t->steps_per_epoch,
                rec->epochs_done, r->folder.dir);
        return EXIT_RUN_FAILED;
    }
    if (write_latent(r, err) ||
        (r->cfg->noise != NOISE_NONE && r->t->test.rows > 0 && write_denoise(r, err)) ||
        save_checkpoint(r, err))
        return EXIT_RUN_FAILED;
    rec->status = RUN_COMPLETED;
    return EXIT_OK;
}

/* The last stage, whatever happened: the outcome in run.json and the page
 * (index.html last: it shows what run.json says; if run.json cannot be
 * written it keeps saying running, and readers see the process gone:
 * stale), a completed run's runs.csv row, the result, and the console.
 * Returns the exit code. */
static int run_finish(TrainRun *r, int code, Err *err)
{
    RunRecord *rec = &r->rec;
    Err jerr = {{0}}; /* recording the outcome failed too (a full disk) */
    if (r->signals_set) {
        sigaction(SIGINT, &r->old_int, NULL);
        sigaction(SIGTERM, &r->old_term, NULL);
        sigaction(SIGBUS, &r->old_bus, NULL);
    }
    if (r->have_folder) {
        runfolder_close(&r->folder);
        if (code != EXIT_OK && rec->status == RUN_RUNNING) rec->status = RUN_FAILED;
        runfolder_iso_time(rec->end, sizeof rec->end, time(NULL));
        util_copy(rec->error, sizeof rec->error, code == EXIT_OK ? "" : err->msg);
        if (write_state(r, &jerr)) {
            code = EXIT_RUN_FAILED;
        } else if (code == EXIT_OK && runs_append(r->cfg->root, rec, &jerr)) {
            /* The run itself is complete (run.json says so); only its index line is missing. */
            code = EXIT_RUN_FAILED;
        }
    }
    if (r->opt->result) {
        TrainResult *res = r->opt->result;
        util_copy(res->folder, sizeof res->folder, r->have_folder ? r->folder.dir : "");
        res->status = r->have_folder ? rec->status : RUN_FAILED;
        res->test_loss = rec->test_loss;
        res->epochs_done = rec->epochs_done;
    }
    /* one line, whatever failed */
    if (code != EXIT_OK && err->msg[0] && jerr.msg[0])
        fprintf(stderr, "clae: %s; recording that failed too: %s\n", err->msg, jerr.msg);
    else if (code != EXIT_OK)
        fprintf(stderr, "clae: %s\n", err->msg[0] ? err->msg : jerr.msg);
    if (r->have_folder) {
        if (code == EXIT_OK && !r->opt->quiet)
            printf("done: test loss %.6f after %d epochs, %.0f img/s\n", rec->test_loss,
                   rec->epochs_done, rec->images_per_second);
        printf("%s\n", r->folder.dir);
    }
    return code;
}

int train_run(const Config *cfg, const TrainOptions *opt)
{
    if (opt->result) {
        memset(opt->result, 0, sizeof *opt->result);
        opt->result->test_loss = NAN;
    }
    TrainRun *r = calloc(1, sizeof *r);
    Trainer *t = calloc(1, sizeof *t);
    RunRecord *old = opt->resume_dir ? calloc(1, sizeof *old) : NULL;
    if (!r || !t || (opt->resume_dir && !old)) {
        fprintf(stderr, "clae: out of memory\n");
        free(r), free(t), free(old);
        return EXIT_RUN_FAILED;
    }
    *r = (TrainRun){.cfg = cfg, .opt = opt, .t = t, .old = old, .ckpt_epoch = -1,
                    .good_train = NAN, .good_test = NAN};
    r->folder.loss_fd = -1;
    runfolder_record_init(&r->rec, "");
    Err err = {{0}};
    int code = run_setup(r, &err);
    if (code) {
        fprintf(stderr, "clae: %s\n", err.msg);
        if (opt->result) opt->result->status = code == EXIT_USAGE ? RUN_CONFIG_ERROR : RUN_FAILED;
    } else {
        code = EXIT_RUN_FAILED;
        if (run_begin(r, &err) == 0) {
            for (int epoch = t->epochs_done + 1; epoch <= cfg->epochs && !interrupted && !r->stopped;
                 epoch++)
                if (run_epoch(r, epoch, &err)) break;
            if (!err.msg[0]) code = run_end(r, &err);
        }
        code = run_finish(r, code, &err);
        trainer_destroy(t);
    }
    runfolder_history_free(&r->hist);
    ckpt_free(&r->ck);
    free(r->recorded);
    free(t);
    free(old);
    free(r);
    return code;
}
