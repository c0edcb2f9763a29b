/* bench: see bench.h. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static int by_time(const void *a, const void *b)
{
    const ProfEntry *x = a, *y = b;
    return (x->ms < y->ms) - (x->ms > y->ms);
}

/* One measurement: throughput without events, then the breakdown. */
typedef struct {
    double warmup_s, secs, ips, gflops;
    double psecs;                      /* wall time of the profiled steps */
    long images;
    ProfEntry entries[PROF_MAX_NAMES]; /* sorted by time, longest first */
    int n_entries;
    double total_ms, blas_ms;          /* device time of all the profiled steps */
    double small_ms;                   /* of blas_ms, the small products' (GEMM_SMALL_DIM) */
} Measure;

static int measure(Trainer *t, const BenchOptions *bopt, long *pos, Measure *r, Err *err)
{
    memset(r, 0, sizeof *r);
    long images = 0;
    double w0 = util_now();
    if (trainer_warmup(t, err) || trainer_run_steps(t, bopt->warmup, pos, &images, err)) return -1;
    CL_CHECK(clFinish(t->dev.ctx.queue));
    r->warmup_s = util_now() - w0;

    /* Throughput: no events, one wait at the end, as in training. */
    double t0 = util_now();
    if (trainer_run_steps(t, bopt->steps, pos, &r->images, err)) return -1;
    CL_CHECK(clFinish(t->dev.ctx.queue));
    r->secs = util_now() - t0;
    r->ips = (double)r->images / r->secs;
    r->gflops = r->ips * model_train_flops_per_image(&t->model) * 1e-9;

    /* Breakdown: the same steps again with a profiling event per command,
     * on a profiling queue (which slows PoCL down: not for the throughput). */
    if (clctx_set_profiling(&t->dev.ctx, 1, err)) return -1;
    prof_reset(&t->prof);
    t->prof.enabled = 1;
    long pimages = 0;
    double p0 = util_now();
    if (trainer_run_steps(t, bopt->steps, pos, &pimages, err)) return -1;
    CL_CHECK(clFinish(t->dev.ctx.queue));
    r->psecs = util_now() - p0;
    if (prof_collect(&t->prof, err)) return -1;
    t->prof.enabled = 0;
    if (clctx_set_profiling(&t->dev.ctx, 0, err)) return -1;
    r->n_entries = t->prof.n_entries;
    memcpy(r->entries, t->prof.entries, sizeof r->entries);
    qsort(r->entries, (size_t)r->n_entries, sizeof r->entries[0], by_time);
    for (int i = 0; i < r->n_entries; i++) {
        r->total_ms += r->entries[i].ms;
        if (r->entries[i].is_blas) r->blas_ms += r->entries[i].ms;
        if (r->entries[i].is_blas == 2) r->small_ms += r->entries[i].ms;
    }
    prof_reset(&t->prof);
    return 0;
fail:
    return -1;
}

static void print_timed(const BenchOptions *bopt, const Measure *r, const Model *m)
{
    printf("warm-up: %d steps in %.2fs (first-use kernel compilation included)\n", bopt->warmup,
           r->warmup_s);
    printf("timed: %d steps, %ld images in %.3fs: %.0f images/s, %.2f GFLOP/s "
           "(%.1f MFLOP per image per step: forward, dW and dX products)\n",
           bopt->steps, r->images, r->secs, r->ips, r->gflops,
           model_train_flops_per_image(m) * 1e-6);
}

static void print_profile(const BenchOptions *bopt, const Measure *r)
{
    printf("profile of %d steps (device time per command, from OpenCL events; a CLBlast call "
           "counts from the end of the command before it, its pad/transpose kernels included):\n",
           bopt->steps);
    printf("  %-28s %8s %11s %10s %7s %9s\n", "command", "calls", "total ms", "ms/step", "share",
           "GFLOP/s");
    for (int i = 0; i < r->n_entries; i++) {
        const ProfEntry *e = &r->entries[i];
        printf("  %-28s %8ld %11.2f %10.4f %6.1f%%", e->name, e->count, e->ms, e->ms / bopt->steps,
               r->total_ms > 0 ? 100.0 * e->ms / r->total_ms : 0.0);
        if (e->flops > 0 && e->ms > 0) printf(" %9.2f", e->flops / (e->ms * 1e-3) * 1e-9);
        printf("\n");
    }
    printf("  CLBlast SGEMM: %.1f%% of device time, clae kernels: %.1f%% (%.3f ms/step in all)\n",
           r->total_ms > 0 ? 100.0 * r->blas_ms / r->total_ms : 0.0,
           r->total_ms > 0 ? 100.0 * (r->total_ms - r->blas_ms) / r->total_ms : 0.0,
           r->total_ms / bopt->steps);
}

/* --breakdown: the wall time of a step in the profiled run split into the
 * device time of the GEMMs and of clae's kernels, from its events, and the
 * rest: the host's work, launching, and the device waiting for both (a
 * CLBlast call's span starts at the end of the command before it, so a wait
 * before a product counts as the product's). Profiling events slow PoCL
 * down, so the parts come from that run, which is slower than the
 * throughput run whose step time is printed first for comparison. */
static void print_breakdown(const BenchOptions *bopt, const Measure *r)
{
    double n = bopt->steps, wall = r->psecs * 1e3 / n, gemm = r->blas_ms / n,
           small = r->small_ms / n, kern = (r->total_ms - r->blas_ms) / n;
    double host = wall - gemm - kern;
    if (host < 0) host = 0; /* clock granularity */
    printf("breakdown per step (profiled run; %.3f ms a step without events): %.3f ms = GEMMs "
           "%.3f ms (%.1f%%) + clae kernels %.3f ms (%.1f%%) + host and launch %.3f ms (%.1f%%)\n",
           r->secs * 1e3 / n, wall, gemm, 100.0 * gemm / wall, kern, 100.0 * kern / wall, host,
           100.0 * host / wall);
    printf("  of the GEMMs, products with a dimension below %d: %.3f ms (%.1f%%)\n", GEMM_SMALL_DIM,
           small, 100.0 * small / wall);
}

static const ProfEntry *find(const Measure *r, const char *name)
{
    for (int i = 0; i < r->n_entries; i++)
        if (strcmp(r->entries[i].name, name) == 0) return &r->entries[i];
    return NULL;
}

static void print_compare(const BenchOptions *bopt, const Measure *d, const Measure *u)
{
    double n = bopt->steps;
    printf("side by side (ms/step of device time, and GFLOP/s of the products; CLBlast's own "
           "parameters vs the tuning):\n");
    printf("  %-28s %12s %12s %8s %10s %10s\n", "command", "default", "tuned", "speedup",
           "GF/s def", "GF/s tuned");
    for (int i = 0; i < d->n_entries; i++) {
        const ProfEntry *e = &d->entries[i], *f = find(u, e->name);
        double a = e->ms / n, b = f ? f->ms / n : 0;
        printf("  %-28s %12.4f %12.4f %7.2fx", e->name, a, b, b > 0 ? a / b : 0.0);
        if (e->flops > 0 && f && f->ms > 0)
            printf(" %10.2f %10.2f", e->flops / (e->ms * 1e-3) * 1e-9,
                   f->flops / (f->ms * 1e-3) * 1e-9);
        printf("\n");
    }
    double dg = d->blas_ms / n, ug = u->blas_ms / n;
    printf("  %-28s %12.4f %12.4f %7.2fx\n", "all CLBlast SGEMM", dg, ug, ug > 0 ? dg / ug : 0.0);
    printf("  %-28s %12.4f %12.4f %7.2fx\n", "all clae kernels", (d->total_ms - d->blas_ms) / n,
           (u->total_ms - u->blas_ms) / n,
           u->total_ms > u->blas_ms ? (d->total_ms - d->blas_ms) / (u->total_ms - u->blas_ms) : 0.0);
    printf("training step: %.0f -> %.0f images/s (%.2fx), %.2f -> %.2f GFLOP/s; "
           "SGEMM share %.1f%% -> %.1f%%\n",
           d->ips, u->ips, u->ips / d->ips, d->gflops, u->gflops,
           d->total_ms > 0 ? 100.0 * d->blas_ms / d->total_ms : 0.0,
           u->total_ms > 0 ? 100.0 * u->blas_ms / u->total_ms : 0.0);
}

int bench_run(const Config *cfg_in, const BenchOptions *bopt)
{
    Err errbuf = {{0}};
    Err *err = &errbuf;
    Trainer *t = calloc(1, sizeof *t);
    Config *cfg = malloc(sizeof *cfg);
    Measure *m = calloc(2, sizeof *m);
    if (!t || !cfg || !m) {
        fprintf(stderr, "clae: out of memory\n");
        free(t);
        free(cfg);
        free(m);
        return EXIT_RUN_FAILED;
    }
    *cfg = *cfg_in;
    /* --compare: CLBlast's own parameters first, since a tuning, once
     * handed to CLBlast, stays for the process. */
    if (bopt->compare) snprintf(cfg->tuning, sizeof cfg->tuning, "none");
    int code = EXIT_RUN_FAILED;
    if (trainer_setup(t, cfg, bopt->cl_dir, err)) {
        code = t->config_error ? EXIT_USAGE : EXIT_RUN_FAILED;
        fprintf(stderr, "clae: %s\n", err->msg);
        free(t);
        free(cfg);
        free(m);
        return code;
    }
    Model *mod = &t->model;
    printf("bench: %s on %s / %s\n", cfg->name, t->dev.ctx.platform_name, t->dev.ctx.device_name);
    char net[1024];
    layers_net_str(mod->layer, mod->n_layers, net, sizeof net);
    printf("model %s, batch %d, %s, %d training images, CLBlast %s\n", net, cfg->batch_size,
           config_optimizer_name(cfg->optimizer), t->train.n, CLAE_CLBLAST_VERSION);
    printf("data on the device: %s\n", t->data_mode);
    clctx_print_tuning(&t->dev.ctx, stdout, stderr);
    long pos = 0;
    if (measure(t, bopt, &pos, &m[0], err)) goto done;
    print_timed(bopt, &m[0], mod);
    print_profile(bopt, &m[0]);
    if (bopt->breakdown) print_breakdown(bopt, &m[0]);
    if (bopt->compare) {
        int rc = clctx_tune(&t->dev.ctx, cfg_in->tuning, err);
        if (rc) {
            code = rc == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
            goto done;
        }
        if (!t->dev.ctx.tuning.path[0]) {
            err_set(err, "bench --compare: no tuning applies to this device ([device] tuning = "
                         "%s: %s); run clae tune first",
                    cfg_in->tuning, t->dev.ctx.tuning.note);
            code = EXIT_USAGE;
            goto done;
        }
        printf("\nnow with the tuning:\n");
        clctx_print_tuning(&t->dev.ctx, stdout, stderr);
        if (gemm_alloc(&mod->gemm, err) || measure(t, bopt, &pos, &m[1], err)) goto done;
        print_timed(bopt, &m[1], mod);
        print_profile(bopt, &m[1]);
        if (bopt->breakdown) print_breakdown(bopt, &m[1]);
        printf("\n");
        print_compare(bopt, &m[0], &m[1]);
    }
    code = EXIT_OK;
done:
    if (code != EXIT_OK) fprintf(stderr, "clae: %s\n", err->msg);
    trainer_destroy(t);
    free(t);
    free(cfg);
    free(m);
    return code;
}
