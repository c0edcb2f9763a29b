/* bench: see bench.h. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

/* Runs `steps` training steps continuing from *pos (epoch-wrapping, with the
 * shuffle at each epoch start as in training); returns images processed. */
static int run_steps(Trainer *t, int steps, long *pos, long *images, Err *err)
{
    for (int i = 0; i < steps; i++, (*pos)++) {
        int s = (int)(*pos % t->steps_per_epoch);
        if (s == 0 && trainer_shuffle(t, err)) return -1;
        if (trainer_step(t, s, err)) return -1;
        int B = t->cfg.batch_size;
        *images += t->train.n - s * B < B ? t->train.n - s * B : B;
    }
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const ProfEntry *x = a, *y = b;
    return (x->ms < y->ms) - (x->ms > y->ms);
}

int bench_run(const Config *cfg, const TrainOptions *topt, const BenchOptions *bopt)
{
    Err errbuf = {{0}};
    Err *err = &errbuf;
    Trainer *t = calloc(1, sizeof *t);
    if (!t) {
        fprintf(stderr, "clae: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    TrainOptions o = *topt;
    o.profiling = 1;
    if (trainer_setup(t, cfg, &o, err)) {
        fprintf(stderr, "clae: %s\n", err->msg);
        int code = t->config_error ? EXIT_USAGE : EXIT_RUN_FAILED;
        free(t);
        return code;
    }
    int code = EXIT_RUN_FAILED;
    Model *m = &t->model;
    printf("bench: %s on %s / %s\n", cfg->name, t->ctx.platform_name, t->ctx.device_name);
    printf("model");
    for (int l = 0; l <= m->n_layers; l++) printf("%c%d", l ? '-' : ' ', m->dims[l]);
    printf(", batch %d, %s, %d training images, CLBlast %s\n", cfg->batch_size,
           config_optimizer_name(cfg->optimizer), t->train.n, CLAE_CLBLAST_VERSION);

    long pos = 0, images = 0;
    double w0 = util_now();
    if (trainer_warmup(t, err) || run_steps(t, bopt->warmup, &pos, &images, err)) goto done;
    CL_CHECK(clFinish(t->ctx.queue));
    printf("warm-up: %d steps in %.2fs (first-use kernel compilation included)\n", bopt->warmup,
           util_now() - w0);

    /* Throughput: no events, one wait at the end, as in training. */
    images = 0;
    double t0 = util_now();
    if (run_steps(t, bopt->steps, &pos, &images, err)) goto done;
    CL_CHECK(clFinish(t->ctx.queue));
    double secs = util_now() - t0;
    double ips = (double)images / secs;
    double gflops = ips * model_train_flops_per_image(m) * 1e-9;
    printf("timed: %d steps, %ld images in %.3fs: %.0f images/s, %.2f GFLOP/s "
           "(%.1f MFLOP per image per step: forward, dW and dX products)\n",
           bopt->steps, images, secs, ips, gflops, model_train_flops_per_image(m) * 1e-6);

    /* Breakdown: the same steps again with a profiling event per command. */
    t->prof.enabled = 1;
    long pimages = 0;
    if (run_steps(t, bopt->steps, &pos, &pimages, err)) goto done;
    CL_CHECK(clFinish(t->ctx.queue));
    if (prof_collect(&t->prof, err)) goto done;
    t->prof.enabled = 0;
    qsort(t->prof.entries, (size_t)t->prof.n_entries, sizeof t->prof.entries[0], by_time);
    double total = 0, blas = 0;
    for (int i = 0; i < t->prof.n_entries; i++) {
        total += t->prof.entries[i].ms;
        if (t->prof.entries[i].is_blas) blas += t->prof.entries[i].ms;
    }
    printf("profile of %d steps (device time per command, from OpenCL events):\n", bopt->steps);
    printf("  %-28s %8s %11s %10s %7s\n", "command", "calls", "total ms", "ms/step", "share");
    for (int i = 0; i < t->prof.n_entries; i++) {
        ProfEntry *e = &t->prof.entries[i];
        printf("  %-28s %8ld %11.2f %10.4f %6.1f%%\n", e->name, e->count, e->ms,
               e->ms / bopt->steps, total > 0 ? 100.0 * e->ms / total : 0.0);
    }
    printf("  CLBlast SGEMM: %.1f%% of device time, clae kernels: %.1f%% (%.3f ms/step in all)\n",
           total > 0 ? 100.0 * blas / total : 0.0, total > 0 ? 100.0 * (total - blas) / total : 0.0,
           total / bopt->steps);
    code = EXIT_OK;
    goto done;
fail:
done:
    if (code != EXIT_OK) fprintf(stderr, "clae: %s\n", err->msg);
    trainer_destroy(t);
    free(t);
    return code;
}
