/* main: argv to subcommand, nothing more. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clctx.h"
#include "compare.h"
#include "config.h"
#include "kernels.h"
#include "selftest.h"
#include "train.h"

static const char USAGE[] =
    "usage: clae COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  devices                 list OpenCL platforms and devices with their indices\n"
    "  train CONFIG            train an autoencoder; write a timestamped results folder\n"
    "  selftest                check every kernel and CLBlast SGEMM against the host, and the\n"
    "                          gradients against finite differences, on the chosen device\n"
    "  bench CONFIG            measure training speed (images/s, GFLOP/s, per-kernel times)\n"
    "  compare ROOT            the runs under a results folder side by side, best test loss first\n"
    "\n"
    "options: clae COMMAND --help; clae --version\n"
    "exit codes: 0 success, 1 run failed, 2 usage or config error\n";

static const char TRAIN_USAGE[] =
    "usage: clae train CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--cl-dir DIR] [--quiet]\n"
    "\n"
    "  CONFIG               experiment INI file (keys: configs/README.md)\n"
    "  --set S.K=V          override one key after the file, validated like it; repeatable\n"
    "  --device SPEC        P:D (platform:device indices), gpu, cpu, accelerator, any, or a\n"
    "                       device-name substring; overrides [device] and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder (default: $CLAE_CL_DIR, <exe>/../share/clae/cl,\n"
    "                       then the source tree's cl/)\n"
    "  --quiet              no per-epoch lines; the results folder is still printed last\n"
    "\n"
    "Precedence: file < CLAE_DEVICE < --device < --set (in the order given).\n"
    "Writes <root>/<YYYYmmdd-HHMMSS>-<name>/ with config.ini, loss.csv, recon-epoch-NNN.png,\n"
    "latent.csv and run.json, and prints its path last.\n";

static const char SELFTEST_USAGE[] =
    "usage: clae selftest [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "Checks every kernel and CLBlast SGEMM (NN, NT, TN, TT) against plain C on the host and\n"
    "the backward pass against finite differences on a tiny network, on the chosen device\n"
    "(default: CLAE_DEVICE, else the first device). One line per check; exit 1 on any failure.\n";

static const char BENCH_USAGE[] =
    "usage: clae bench CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--steps N]\n"
    "                         [--warmup N] [--cl-dir DIR]\n"
    "\n"
    "  --steps N            timed training steps (default 100)\n"
    "  --warmup N           untimed steps first, after kernel compilation (default 5)\n"
    "\n"
    "Prints images/s and GFLOP/s of the training step, then a per-command device-time\n"
    "breakdown from OpenCL profiling events (CLBlast SGEMM calls and clae kernels).\n";

static const char DEVICES_USAGE[] =
    "usage: clae devices\n"
    "\n"
    "Lists every OpenCL platform and device: indices (for --device P:D), type, vendor, name,\n"
    "compute units, global memory, max work-group size and OpenCL C version.\n";

typedef struct {
    const char *config;       /* CONFIG, or NULL */
    const char *sets[256];    /* --set values, in order */
    int n_sets;
    const char *device;       /* --device, or NULL */
    const char *cl_dir;
    int quiet;
    int steps, warmup;
} Args;

static int usage_error(const char *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "clae %s: ", cmd);
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see clae %s --help)\n", cmd);
    return EXIT_USAGE;
}

static int parse_count(const char *cmd, const char *opt, const char *v, int *out)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > 1000000) {
        fprintf(stderr, "clae %s: %s '%s': expected a whole number 0..1000000\n", cmd, opt, v);
        return EXIT_USAGE;
    }
    *out = (int)n;
    return 0;
}

/* Parses the options of `cmd`; `takes_config` says whether one positional
 * CONFIG is required. Returns -1 to continue, or an exit code. */
static int parse_args(const char *cmd, int argc, char **argv, int takes_config, const char *help,
                      Args *a)
{
    memset(a, 0, sizeof *a);
    a->steps = 100;
    a->warmup = 5;
    int is_train = strcmp(cmd, "train") == 0, is_bench = strcmp(cmd, "bench") == 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(help, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--device") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            a->device = argv[++i];
        } else if (strcmp(s, "--cl-dir") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            a->cl_dir = argv[++i];
        } else if ((is_train || is_bench) && strcmp(s, "--set") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs SECTION.KEY=VALUE", s);
            if (a->n_sets == (int)(sizeof a->sets / sizeof a->sets[0]))
                return usage_error(cmd, "%s", "too many --set options");
            a->sets[a->n_sets++] = argv[++i];
        } else if (is_train && strcmp(s, "--quiet") == 0) {
            a->quiet = 1;
        } else if (is_bench && (strcmp(s, "--steps") == 0 || strcmp(s, "--warmup") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int rc = parse_count(cmd, s, argv[++i], s[2] == 's' ? &a->steps : &a->warmup);
            if (rc) return rc;
        } else if (s[0] == '-' && s[1]) {
            return usage_error(cmd, "unknown option '%s'", s);
        } else if (takes_config && !a->config) {
            a->config = s;
        } else {
            return usage_error(cmd, "unexpected argument '%s'", s);
        }
    }
    if (takes_config && !a->config) return usage_error(cmd, "%s", "missing CONFIG file");
    if (is_bench && a->steps < 1) return usage_error(cmd, "%s", "--steps must be at least 1");
    return -1;
}

/* file, then CLAE_DEVICE, then --device, then each --set, then the
 * cross-key checks. */
static int build_config(const Args *a, Config *cfg)
{
    Err err = {{0}};
    if (a->config) {
        if (config_load(cfg, a->config, &err)) goto bad;
    } else {
        config_defaults(cfg);
    }
    const char *env = getenv("CLAE_DEVICE");
    if (env && *env && config_set_device(cfg, env, "CLAE_DEVICE", &err)) goto bad;
    if (a->device && config_set_device(cfg, a->device, "--device", &err)) goto bad;
    for (int i = 0; i < a->n_sets; i++)
        if (config_set(cfg, a->sets[i], &err)) goto bad;
    if (config_validate(cfg, &err)) goto bad;
    return 0;
bad:
    fprintf(stderr, "clae: %s\n", err.msg);
    return EXIT_USAGE;
}

/* The command line as one string for run.json, arguments with spaces quoted. */
static void join_argv(int argc, char **argv, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used < len; i++) {
        int quote = strpbrk(argv[i], " \t'\"") != NULL;
        int n = snprintf(buf + used, len - used, quote ? "%s'%s'" : "%s%s", i ? " " : "", argv[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static int cmd_devices(int argc, char **argv)
{
    Args a;
    int rc = parse_args("devices", argc, argv, 0, DEVICES_USAGE, &a);
    if (rc >= 0) return rc;
    Err err = {{0}};
    if (clctx_list(stdout, &err)) {
        fprintf(stderr, "clae: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    return EXIT_OK;
}

static int cmd_train(int argc, char **argv, const char *cmdline)
{
    Args a;
    int rc = parse_args("train", argc, argv, 1, TRAIN_USAGE, &a);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    rc = build_config(&a, cfg);
    if (rc == 0) {
        TrainOptions o = {.cl_dir = a.cl_dir, .quiet = a.quiet, .command_line = cmdline};
        rc = train_run(cfg, &o);
    }
    free(cfg);
    return rc;
}

static int cmd_bench(int argc, char **argv)
{
    Args a;
    int rc = parse_args("bench", argc, argv, 1, BENCH_USAGE, &a);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    rc = build_config(&a, cfg);
    if (rc == 0) {
        TrainOptions o = {.cl_dir = a.cl_dir};
        BenchOptions b = {.steps = a.steps, .warmup = a.warmup};
        rc = bench_run(cfg, &o, &b);
    }
    free(cfg);
    return rc;
}

static int cmd_selftest(int argc, char **argv)
{
    Args a;
    int rc = parse_args("selftest", argc, argv, 0, SELFTEST_USAGE, &a);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    rc = build_config(&a, cfg);
    if (rc) {
        free(cfg);
        return rc;
    }
    Err err = {{0}};
    ClCtx ctx;
    Kernels k;
    char dir[4096];
    const char *source = NULL;
    rc = EXIT_RUN_FAILED;
    int rc_ctx = clctx_create(&ctx, cfg, 0, &err);
    if (rc_ctx) {
        if (rc_ctx == -2) rc = EXIT_USAGE;
        goto out;
    }
    if (kernels_find_dir(a.cl_dir, dir, sizeof dir, &source, &err) ||
        kernels_create(&k, &ctx, dir, source, &err)) {
        clctx_destroy(&ctx);
        goto out;
    }
    printf("kernels: %s (%s)\n", dir, source);
    int failed = selftest_run(&ctx, &k, stdout, &err);
    if (failed == 0) rc = EXIT_OK;
    else if (failed > 0) err_set(&err, "selftest: %d checks failed", failed);
    kernels_destroy(&k);
    clctx_destroy(&ctx);
out:
    if (rc != EXIT_OK) fprintf(stderr, "clae: %s\n", err.msg);
    free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("clae %s (CLBlast %s)\n", CLAE_VERSION, CLAE_CLBLAST_VERSION);
        return EXIT_OK;
    }
    static char cmdline[8192];
    join_argv(argc, argv, cmdline, sizeof cmdline);
    if (strcmp(cmd, "devices") == 0) return cmd_devices(argc - 2, argv + 2);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 2, argv + 2, cmdline);
    if (strcmp(cmd, "selftest") == 0) return cmd_selftest(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0) return compare_main(argc - 2, argv + 2);
    fprintf(stderr, "clae: unknown command '%s'; expected devices, train, selftest, bench or "
                    "compare (see clae --help)\n",
            cmd);
    return EXIT_USAGE;
}
