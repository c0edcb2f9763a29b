/* main: argv to subcommand, nothing more. */
#define _DEFAULT_SOURCE /* realpath, readlink */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "bench.h"
#include "clctx.h"
#include "compare.h"
#include "config.h"
#include "device.h"
#include "infer.h"
#include "kcache.h"
#include "kernels.h"
#include "report.h"
#include "selftest.h"
#include "sweep.h"
#include "train.h"
#include "tune.h"

static const char USAGE[] =
    "usage: clae COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  devices                 list OpenCL platforms and devices with their indices\n"
    "  train CONFIG...         train an autoencoder per file; write a timestamped results folder\n"
    "  sweep FILE              run, list or submit the jobs of a sweep file\n"
    "  selftest                check every kernel and CLBlast SGEMM against the host, and the\n"
    "                          gradients against finite differences, on the chosen device\n"
    "  bench CONFIG            measure training speed (images/s, GFLOP/s, per-kernel times)\n"
    "  tune CONFIG             find the CLBlast parameters that make CONFIG's training step\n"
    "                          fastest on its device, and save them for every later run\n"
    "  compare ROOT            the runs under a results folder side by side, best test loss first\n"
    "  report [ROOT]           HTML pages of the runs under a results folder (ROOT/index.html)\n"
    "  encode RUN IMAGES       a trained run's latent codes of the images of an IDX file (CSV)\n"
    "  decode RUN Z1,Z2,...    the image a trained run decodes from one latent point (PNG)\n"
    "  generate RUN            an N x N grid of decoded latent points: the learned manifold (PNG)\n"
    "\n"
    "options: clae COMMAND --help; clae --version\n"
    "exit codes: 0 success, 1 run failed, 2 usage or config error\n";

static const char TRAIN_USAGE[] =
    "usage: clae train CONFIG... [--set SECTION.KEY=VALUE]... [--device SPEC] [--cl-dir DIR]\n"
    "                  [--quiet] [--fail-fast] [--dry-run]\n"
    "       clae train --resume RUN_DIR [--set SECTION.KEY=VALUE]... [--device SPEC] [--quiet]\n"
    "\n"
    "  CONFIG...            experiment INI files (keys: configs/README.md), run one after\n"
    "                       another; every file is checked before the first run starts\n"
    "  --set S.K=V          override one key after the file, validated like it; repeatable\n"
    "  --device SPEC        P:D (platform:device indices), gpu, cpu, accelerator, any, or a\n"
    "                       device-name substring; overrides [device] and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder (default: $CLAE_CL_DIR, <exe>/../share/clae/cl,\n"
    "                       then the source tree's cl/)\n"
    "  --quiet              no per-epoch lines; the results folder is still printed last\n"
    "  --fail-fast          with several files: stop at the first run that fails\n"
    "  --dry-run            check the files and options, print each resolved config; run\n"
    "                       nothing, write nothing\n"
    "  --resume RUN_DIR     continue that run in its folder from its model.ckpt (written at the\n"
    "                       end, on Ctrl-C, and every [output] checkpoint_every epochs), with\n"
    "                       its config.ini; --set train.epochs=N trains it further\n"
    "\n"
    "Precedence: file < CLAE_DEVICE < --device < --set (in the order given), for every file.\n"
    "Writes <root>/<YYYYmmdd-HHMMSS>-<name>/ with config.ini, loss.csv, recon-epoch-NNN.png,\n"
    "latent.csv, manifold.png and run.json, prints its path last, and appends a line to\n"
    "<root>/runs.csv.\n"
    "With several files a failed run does not stop the others (unless --fail-fast); a\n"
    "summary table ends the output; the exit code is 0 only if every run completed.\n";

static const char SWEEP_USAGE[] =
    "usage: clae sweep FILE [--set SECTION.KEY=VALUE]... [--device SPEC] [--cl-dir DIR] [--quiet]\n"
    "                  [--list | --count | --dry-run | --index I | --jobs J [--devices LIST]\n"
    "                   | --slurm [--partition P] [--time T] [--cpus-per-task C] [--mem M]\n"
    "                     [--gpus-per-job G] [--max-running K] [--sbatch-line OPT]... [-o FILE]]\n"
    "                  [--skip-done] [--fail-fast]\n"
    "\n"
    "  FILE                 an experiment INI with a [sweep] section, e.g.\n"
    "                         [sweep]\n"
    "                         train.learning_rate = 1e-3, 3e-4, 1e-4\n"
    "                         model.latent = 2, 3\n"
    "                         repeat = 2            ; seeds seed, seed+1\n"
    "                       ('|' separates values that contain commas: 500,300 | 256)\n"
    "                       Jobs: the cartesian product, first key slowest, seeds fastest.\n"
    "  --list               one line per job: its index, a tab, its overrides\n"
    "  --count              the number of jobs\n"
    "  --dry-run            check every job and print its resolved config; run nothing\n"
    "  --index I            run job I only (default: $SLURM_ARRAY_TASK_ID when set)\n"
    "  --jobs J             run all jobs, J processes at a time (default 1)\n"
    "  --devices LIST       with --jobs: spread the processes over these devices, e.g. 0:0,0:1\n"
    "  --skip-done          skip jobs that already have a completed run of the same config\n"
    "                       in the results root (so an interrupted sweep can be re-run)\n"
    "  --fail-fast          start no new job after one fails\n"
    "  --slurm              write a Slurm job-array script (default ./sweep.sbatch, or -o FILE)\n"
    "                       that runs `clae sweep FILE --index $SLURM_ARRAY_TASK_ID`\n"
    "  --partition P, --time T, --gpus-per-job G   #SBATCH lines of that script\n"
    "  --cpus-per-task C    CPUs for each task (#SBATCH --cpus-per-task); the script gives\n"
    "                       PoCL that many threads (POCL_MAX_PTHREAD_COUNT)\n"
    "  --mem M              memory for each task, e.g. 2G or 500M (#SBATCH --mem)\n"
    "  --max-running K      at most K tasks of the array at once (--array=0-LAST%K)\n"
    "  --sbatch-line OPT    one more #SBATCH line, verbatim, e.g. '--account=proj' or\n"
    "                       '--constraint=a100' (repeatable)\n"
    "  --set, --device, --cl-dir, --quiet           as for clae train, for every job\n"
    "\n"
    "Each job's run is named <name>_<key>=<value>... (e.g. mnist-156_lr=3e-4_latent=2). Every\n"
    "job is checked before the first one starts. Exit code 0 only if every job completed.\n";

static const char SELFTEST_USAGE[] =
    "usage: clae selftest [--device SPEC] [--tuning auto|none|FILE] [--cl-dir DIR]\n"
    "\n"
    "Checks every kernel and CLBlast SGEMM (NN, NT, TN, TT) against plain C on the host and\n"
    "the backward pass against finite differences on a tiny network, on the chosen device\n"
    "(default: CLAE_DEVICE, else the first device), with the device's CLBlast tuning applied\n"
    "(--tuning, as [device] tuning; default auto). One line per check; exit 1 on any failure.\n";

static const char BENCH_USAGE[] =
    "usage: clae bench CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--steps N]\n"
    "                         [--warmup N] [--compare] [--cl-dir DIR]\n"
    "\n"
    "  --steps N            timed training steps (default 100)\n"
    "  --warmup N           untimed steps first, after kernel compilation (default 5)\n"
    "  --compare            CLBlast's own parameters first, then the tuning [device] tuning\n"
    "                       names (auto: the device's file), in one process, side by side\n"
    "\n"
    "Prints images/s and GFLOP/s of the training step, then a per-command device-time\n"
    "breakdown from OpenCL profiling events (CLBlast SGEMM calls and clae kernels).\n";

static const char TUNE_USAGE[] =
    "usage: clae tune CONFIG [--set SECTION.KEY=VALUE]... [--device SPEC] [--budget SECONDS]\n"
    "                        [-o FILE] [--class] [--quiet]\n"
    "\n"
    "Searches the CLBlast parameters (Xgemm, XgemmDirect, the direct/indirect threshold, the\n"
    "pad/transpose/copy kernels, and the layout clae hands products over in) that make the\n"
    "training step of CONFIG fastest on its device: every GEMM the step issues, at the batch\n"
    "size and at the epoch's last batch. Every candidate is checked against the host before\n"
    "its time counts. Ctrl-C stops the search and keeps the best found so far.\n"
    "\n"
    "  --budget SECONDS     search time after the baseline (default %.0f)\n"
    "  -o FILE              where to write the tuning file (default: this device's file in\n"
    "                       $XDG_CACHE_HOME/clae/tuning/, which [device] tuning = auto uses)\n"
    "  --class              write a file for the device's class (pocl-cpu-avx2, ...) rather\n"
    "                       than for this device alone, as the files shipped in tuning/ are;\n"
    "                       needs -o\n"
    "  --quiet              no line per candidate, only the summary\n"
    "  --set, --device      as for clae train\n";

static const char DEVICES_USAGE[] =
    "usage: clae devices\n"
    "\n"
    "Lists every OpenCL platform and device: indices (for --device P:D), type, vendor, name,\n"
    "compute units, global memory, max work-group size and OpenCL C version.\n";

#define MAX_CONFIGS 256

typedef struct {
    const char *configs[MAX_CONFIGS]; /* CONFIG / FILE arguments */
    int n_configs;
    const char *sets[256];    /* --set values, in order */
    int n_sets;
    const char *device;       /* --device, or NULL */
    const char *cl_dir;
    int quiet;
    int steps, warmup;
    /* train and sweep */
    int fail_fast, dry_run;
    /* sweep */
    int list, count, skip_done, slurm;
    int index;                /* --index, -1 when absent */
    int jobs;                 /* --jobs, 0 when absent */
    const char *devices;      /* --devices LIST */
    const char *partition, *time, *gpus, *output;
    const char *mem;          /* --mem, or NULL */
    int cpus_per_task;        /* --cpus-per-task, 0 when absent */
    int max_running;          /* --max-running, 0 when absent */
    const char *sbatch_lines[32]; /* --sbatch-line values, in order */
    int n_sbatch_lines;
    const char *resume;       /* train --resume RUN_DIR */
    double budget;            /* tune --budget */
    const char *tuning;       /* selftest --tuning */
    int compare;              /* bench --compare */
    int for_class;            /* tune --class */
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

/* Parses the options of `cmd`; `max_configs` positional files are allowed
 * (at least one when non-zero). Returns -1 to continue, or an exit code. */
static int parse_args(const char *cmd, int argc, char **argv, int max_configs, const char *help,
                      Args *a)
{
    memset(a, 0, sizeof *a);
    a->steps = 100;
    a->warmup = 5;
    a->index = -1;
    int is_train = strcmp(cmd, "train") == 0, is_bench = strcmp(cmd, "bench") == 0;
    int is_sweep = strcmp(cmd, "sweep") == 0, is_tune = strcmp(cmd, "tune") == 0;
    int is_selftest = strcmp(cmd, "selftest") == 0;
    a->budget = TUNE_DEFAULT_BUDGET;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            if (is_tune) printf(help, TUNE_DEFAULT_BUDGET);
            else fputs(help, stdout);
            return EXIT_OK;
        } else if (strcmp(s, "--device") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            a->device = argv[++i];
        } else if (strcmp(s, "--cl-dir") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            a->cl_dir = argv[++i];
        } else if (is_tune && strcmp(s, "--budget") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a number of seconds", s);
            char *end = NULL;
            const char *v = argv[++i];
            a->budget = strtod(v, &end);
            if (!*v || *end || !(a->budget >= 1 && a->budget <= 1e6)) {
                fprintf(stderr, "clae tune: --budget '%s': expected seconds, 1..1000000 (see clae "
                                "tune --help)\n", v);
                return EXIT_USAGE;
            }
        } else if (is_tune && strcmp(s, "-o") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a file", s);
            a->output = argv[++i];
        } else if (is_selftest && strcmp(s, "--tuning") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs auto, none or a file", s);
            a->tuning = argv[++i];
        } else if (is_bench && strcmp(s, "--compare") == 0) {
            a->compare = 1;
        } else if (is_tune && strcmp(s, "--class") == 0) {
            a->for_class = 1;
        } else if ((is_train || is_bench || is_sweep || is_tune) && strcmp(s, "--set") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs SECTION.KEY=VALUE", s);
            if (a->n_sets == (int)(sizeof a->sets / sizeof a->sets[0]))
                return usage_error(cmd, "%s", "too many --set options");
            a->sets[a->n_sets++] = argv[++i];
        } else if ((is_train || is_sweep || is_tune) && strcmp(s, "--quiet") == 0) {
            a->quiet = 1;
        } else if (is_train && strcmp(s, "--resume") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a run folder", s);
            a->resume = argv[++i];
        } else if ((is_train || is_sweep) && strcmp(s, "--fail-fast") == 0) {
            a->fail_fast = 1;
        } else if ((is_train || is_sweep) && strcmp(s, "--dry-run") == 0) {
            a->dry_run = 1;
        } else if (is_sweep && strcmp(s, "--list") == 0) {
            a->list = 1;
        } else if (is_sweep && strcmp(s, "--count") == 0) {
            a->count = 1;
        } else if (is_sweep && strcmp(s, "--skip-done") == 0) {
            a->skip_done = 1;
        } else if (is_sweep && strcmp(s, "--slurm") == 0) {
            a->slurm = 1;
        } else if (is_sweep && (strcmp(s, "--index") == 0 || strcmp(s, "--jobs") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int rc = parse_count(cmd, s, argv[++i], s[2] == 'i' ? &a->index : &a->jobs);
            if (rc) return rc;
            if (s[2] == 'j' && a->jobs < 1) return usage_error(cmd, "%s", "--jobs must be at least 1");
        } else if (is_sweep && (strcmp(s, "--devices") == 0 || strcmp(s, "--partition") == 0 ||
                                strcmp(s, "--time") == 0 || strcmp(s, "--gpus-per-job") == 0 ||
                                strcmp(s, "-o") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            const char **dst = s[1] == 'o' ? &a->output
                               : s[2] == 'd' ? &a->devices
                               : s[2] == 'p' ? &a->partition
                               : s[2] == 't' ? &a->time
                                             : &a->gpus;
            *dst = argv[++i];
        } else if (is_sweep &&
                   (strcmp(s, "--cpus-per-task") == 0 || strcmp(s, "--max-running") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int *dst = s[2] == 'c' ? &a->cpus_per_task : &a->max_running;
            int rc = parse_count(cmd, s, argv[++i], dst);
            if (rc) return rc;
            if (*dst < 1) return usage_error(cmd, "%s must be at least 1", s);
        } else if (is_sweep && strcmp(s, "--mem") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs a value", s);
            a->mem = argv[++i];
        } else if (is_sweep && strcmp(s, "--sbatch-line") == 0) {
            if (!has_next) return usage_error(cmd, "%s needs an sbatch option", s);
            if (a->n_sbatch_lines == (int)(sizeof a->sbatch_lines / sizeof a->sbatch_lines[0]))
                return usage_error(cmd, "%s", "too many --sbatch-line options (32 at most)");
            a->sbatch_lines[a->n_sbatch_lines++] = argv[++i];
        } else if (is_bench && (strcmp(s, "--steps") == 0 || strcmp(s, "--warmup") == 0)) {
            if (!has_next) return usage_error(cmd, "%s needs a number", s);
            int rc = parse_count(cmd, s, argv[++i], s[2] == 's' ? &a->steps : &a->warmup);
            if (rc) return rc;
        } else if (s[0] == '-' && s[1]) {
            return usage_error(cmd, "unknown option '%s'", s);
        } else if (a->n_configs < max_configs) {
            a->configs[a->n_configs++] = s;
        } else {
            return usage_error(cmd, "unexpected argument '%s'", s);
        }
    }
    if (a->resume && a->n_configs)
        return usage_error(cmd, "--resume takes no CONFIG: the run's own config.ini is used (got "
                                "'%s'); change keys with --set", a->configs[0]);
    if (a->resume && a->dry_run)
        return usage_error(cmd, "%s", "--resume and --dry-run do not go together");
    if (max_configs && a->n_configs == 0 && !a->resume)
        return usage_error(cmd, "%s", is_sweep ? "missing sweep FILE" : "missing CONFIG file");
    if (is_bench && a->steps < 1) return usage_error(cmd, "%s", "--steps must be at least 1");
    return -1;
}

/* file, then CLAE_DEVICE, then --device, then each --set, then the
 * cross-key checks. */
static int build_config(const Args *a, const char *path, Config *cfg)
{
    Err err = {{0}};
    if (path) {
        if (config_load(cfg, path, &err)) goto bad;
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

/* The --set values as one "section.key=value ..." string for run.json. */
static void join_sets(const Args *a, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < a->n_sets && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", a->sets[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* Takes this process's kernel-cache slot (kcache.h) before the first OpenCL
 * call. */
static int claim_cache(KCache *kc)
{
    Err err = {{0}};
    if (kcache_claim(kc, &err) == 0) return 0;
    fprintf(stderr, "clae: %s\n", err.msg);
    return EXIT_RUN_FAILED;
}

/* --dry-run's view of one run: where it came from and its resolved config. */
static void print_resolved(const char *title, const Config *cfg)
{
    printf("# ==== %s: run %s ====\n", title, cfg->name);
    config_write(cfg, stdout);
    printf("\n");
}

/* clae train --resume RUN_DIR: the run's config.ini, then the options. */
static int resume(const Args *a, const char *cmdline)
{
    char path[4200];
    if (!util_is_dir(a->resume)) {
        fprintf(stderr, "clae train: --resume %s: no such run folder\n", a->resume);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s/config.ini", a->resume);
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    char overrides[2048];
    join_sets(a, overrides, sizeof overrides);
    KCache kc = {.fd = -1};
    int rc = build_config(a, path, cfg);
    if (rc == 0) rc = claim_cache(&kc);
    if (rc == 0) {
        TrainOptions o = {.cl_dir = a->cl_dir, .quiet = a->quiet, .command_line = cmdline,
                          .overrides = a->n_sets ? overrides : NULL, .resume_dir = a->resume};
        rc = train_run(cfg, &o);
    }
    kcache_release(&kc);
    free(cfg);
    return rc;
}

static int cmd_train(int argc, char **argv, const char *cmdline)
{
    Args a;
    int rc = parse_args("train", argc, argv, MAX_CONFIGS, TRAIN_USAGE, &a);
    if (rc >= 0) return rc;
    if (a.resume) return resume(&a, cmdline);
    int n = a.n_configs;
    BatchJob *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs) return EXIT_RUN_FAILED;
    char overrides[sizeof jobs[0].overrides];
    join_sets(&a, overrides, sizeof overrides);
    int bad = 0;
    /* Every file is checked before the first run starts. */
    for (int i = 0; i < n; i++) {
        if (build_config(&a, a.configs[i], &jobs[i].cfg)) bad++;
        util_copy(jobs[i].overrides, sizeof jobs[i].overrides, overrides);
        jobs[i].index = -1;
    }
    KCache kc = {.fd = -1};
    if (bad) {
        if (n > 1)
            fprintf(stderr, "clae: %d of %d files have errors; nothing was run\n", bad, n);
        rc = EXIT_USAGE;
    } else if (a.dry_run) {
        for (int i = 0; i < n; i++) print_resolved(a.configs[i], &jobs[i].cfg);
        printf("# %d run%s checked; nothing was run\n", n, n == 1 ? "" : "s");
        rc = EXIT_OK;
    } else if ((rc = claim_cache(&kc)) != 0) {
        /* message printed */
    } else if (n == 1) {
        TrainOptions o = {.cl_dir = a.cl_dir, .quiet = a.quiet, .command_line = cmdline,
                          .overrides = overrides};
        rc = train_run(&jobs[0].cfg, &o);
    } else {
        BatchOptions o = {.fail_fast = a.fail_fast, .quiet = a.quiet, .jobs = 1,
                          .cl_dir = a.cl_dir, .command_line = cmdline};
        rc = batch_run(jobs, n, &o);
    }
    kcache_release(&kc);
    free(jobs);
    return rc;
}

/* Single-quotes s for a POSIX shell. */
static void shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* #SBATCH values go into the script verbatim: allow only what Slurm's own
 * syntax for them uses. */
static int sbatch_value_ok(const char *opt, const char *v, const char *extra, const char *what)
{
    int ok = *v != '\0';
    for (const char *p = v; *p && ok; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr(extra, *p) != NULL;
    if (!ok) fprintf(stderr, "clae sweep: %s '%s': expected %s\n", opt, v, what);
    return ok;
}

/* --mem: a whole number of megabytes, or with a K, M, G or T suffix. */
static int sbatch_mem_ok(const char *v)
{
    const char *p = v;
    while (*p >= '0' && *p <= '9') p++;
    int ok = p > v && strtoll(v, NULL, 10) > 0 && (!*p || (strchr("KMGTkmgt", *p) && !p[1]));
    if (!ok)
        fprintf(stderr, "clae sweep: --mem '%s': expected a memory size such as 500M, 4G or 4096 "
                        "(megabytes)\n", v);
    return ok;
}

/* --sbatch-line: one sbatch option; it becomes a whole line of the script,
 * so no line breaks or other control characters. */
static int sbatch_line_ok(const char *v)
{
    int ok = v[0] == '-' && v[1] && v[1] != ' ';
    for (const char *p = v; *p && ok; p++) ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
    if (!ok)
        fprintf(stderr, "clae sweep: --sbatch-line '%s': expected one sbatch option on one line, "
                        "such as --account=proj or --constraint=a100\n", v);
    return ok;
}

/* Slurm's job name and log name from the sweep's stem: characters that
 * sbatch would read as patterns (%) or separators become '-'. */
static void sbatch_name(char *out, size_t n, const char *stem)
{
    size_t i = 0;
    for (; stem[i] && i + 1 < n; i++) {
        char c = stem[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '+' || c == '-';
        out[i] = ok ? c : '-';
    }
    out[i] = '\0';
}

/* clae sweep --slurm: writes the job-array script (see README, "Running on
 * a cluster"). Every path in it is absolute; #SBATCH lines hold only
 * checked values. */
static int write_sbatch(const Args *a, const Sweep *sw)
{
    if ((a->partition && !sbatch_value_ok("--partition", a->partition, "_.,-",
                                          "a partition name (letters, digits, _ . , -)")) ||
        (a->time && !sbatch_value_ok("--time", a->time, ":-",
                                     "a Slurm time limit such as 30, 2:00:00 or 1-12:00:00")) ||
        (a->gpus && !sbatch_value_ok("--gpus-per-job", a->gpus, ":_",
                                     "a GPU count such as 1, or type:count such as a100:1")) ||
        (a->mem && !sbatch_mem_ok(a->mem)))
        return EXIT_USAGE;
    for (int i = 0; i < a->n_sbatch_lines; i++)
        if (!sbatch_line_ok(a->sbatch_lines[i])) return EXIT_USAGE;
    const char *out = a->output ? a->output : "sweep.sbatch";
    char exe[PATH_MAX], file[PATH_MAX], cwd[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || !realpath(sw->path, file) || !getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "clae sweep: cannot resolve the paths for %s: %s\n", out, strerror(errno));
        return EXIT_RUN_FAILED;
    }
    exe[len] = '\0';
    /* The folder goes on an #SBATCH line, where sbatch understands double
     * quotes but no escapes, and expands % patterns. */
    if (strpbrk(cwd, "\"%\\\n\r")) {
        fprintf(stderr, "clae sweep: --slurm: the current folder '%s' has a character that an "
                        "#SBATCH line cannot hold (\" %% \\ or a line break); run clae sweep "
                        "--slurm from another folder\n", cwd);
        return EXIT_USAGE;
    }
    const char *q = strpbrk(cwd, " \t'") ? "\"" : "";
    char name[256], array[64];
    sbatch_name(name, sizeof name, sw->stem);
    if (a->max_running)
        snprintf(array, sizeof array, "0-%d%%%d", sw->n_jobs - 1, a->max_running);
    else
        snprintf(array, sizeof array, "0-%d", sw->n_jobs - 1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) return EXIT_RUN_FAILED;
    fprintf(f, "#!/bin/bash\n"
               "# Slurm job array for the clae sweep %s: task i runs job i\n"
               "# (`clae sweep FILE --list` shows which is which).\n"
               "# Written by `clae sweep --slurm`. Submit with: sbatch %s\n"
               "# Log of each task: %s/clae-%s-<job id>_<task>.log (stdout and stderr; the last\n"
               "# line of a task that ran is its run folder).\n",
            sw->path, out, cwd, name);
    fprintf(f, "#SBATCH --job-name=clae-%s\n", name);
    fprintf(f, "#SBATCH --array=%s\n", array);
    fprintf(f, "#SBATCH --chdir=%s%s%s\n", q, cwd, q);
    fprintf(f, "#SBATCH --output=clae-%s-%%A_%%a.log\n", name);
    fprintf(f, "#SBATCH --ntasks=1\n");
    if (a->cpus_per_task) fprintf(f, "#SBATCH --cpus-per-task=%d\n", a->cpus_per_task);
    if (a->mem) fprintf(f, "#SBATCH --mem=%s\n", a->mem);
    if (a->partition) fprintf(f, "#SBATCH --partition=%s\n", a->partition);
    if (a->time) fprintf(f, "#SBATCH --time=%s\n", a->time);
    if (a->gpus) fprintf(f, "#SBATCH --gpus-per-task=%s\n", a->gpus);
    for (int i = 0; i < a->n_sbatch_lines; i++) fprintf(f, "#SBATCH %s\n", a->sbatch_lines[i]);
    fprintf(f, "set -euo pipefail\n"
               ": \"${SLURM_ARRAY_TASK_ID:?submit this script with sbatch (or set "
               "SLURM_ARRAY_TASK_ID to a job index)}\"\n"
               "cd ");
    shell_quote(f, cwd);
    /* PoCL starts a thread per core of the whole node unless told, and two
     * tasks sharing a node would fight over its cores. */
    fprintf(f, "\n"
               "# PoCL (OpenCL on the CPU) gets the CPUs Slurm gave this task, not every core of\n"
               "# the node (PoCL < 4 reads POCL_MAX_PTHREAD_COUNT, later ones\n"
               "# POCL_CPU_MAX_CU_COUNT; a value you set yourself is kept; GPU drivers\n"
               "# ignore both).\n"
               "cpus=\"${SLURM_CPUS_PER_TASK:-${SLURM_CPUS_ON_NODE:-}}\"\n"
               "if [ -n \"$cpus\" ]; then\n"
               "    export POCL_MAX_PTHREAD_COUNT=\"${POCL_MAX_PTHREAD_COUNT:-$cpus}\"\n"
               "    export POCL_CPU_MAX_CU_COUNT=\"${POCL_CPU_MAX_CU_COUNT:-$cpus}\"\n"
               "fi\n"
               "echo \"clae: sweep job $SLURM_ARRAY_TASK_ID (Slurm job "
               "${SLURM_ARRAY_JOB_ID:-?}_$SLURM_ARRAY_TASK_ID) on ${SLURMD_NODENAME:-$(uname -n)}, "
               "PoCL threads: ${POCL_MAX_PTHREAD_COUNT:-all cores}\"\n"
               "exec ");
    shell_quote(f, exe);
    fprintf(f, " sweep ");
    shell_quote(f, file);
    fprintf(f, " --index \"$SLURM_ARRAY_TASK_ID\"");
    for (int i = 0; i < a->n_sets; i++) {
        fprintf(f, " --set ");
        shell_quote(f, a->sets[i]);
    }
    if (a->device) {
        fprintf(f, " --device ");
        shell_quote(f, a->device);
    }
    if (a->cl_dir) {
        fprintf(f, " --cl-dir ");
        shell_quote(f, a->cl_dir);
    }
    if (a->skip_done) fprintf(f, " --skip-done");
    if (a->quiet) fprintf(f, " --quiet");
    fprintf(f, "\n");
    fclose(f);
    Err err = {{0}};
    int rc = util_write_file_atomic(out, text, size, &err);
    free(text);
    if (rc) {
        fprintf(stderr, "clae sweep: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    printf("wrote %s: a Slurm array of %d job%s (--array=%s)\nsubmit it with: sbatch %s\n", out,
           sw->n_jobs, sw->n_jobs == 1 ? "" : "s", array, out);
    return EXIT_OK;
}

/* Runs the one job `index` in this process (--index, Slurm array tasks,
 * and the children of --jobs). The run folder is the last line printed. */
static int run_one_job(const Args *a, const Sweep *sw, const SweepOptions *so, int index,
                       const char *cmdline)
{
    Config *cfg = malloc(sizeof *cfg);
    char overrides[2048];
    Err err = {{0}};
    if (!cfg) return EXIT_RUN_FAILED;
    int rc = EXIT_USAGE;
    if (sweep_job(sw, index, so, cfg, overrides, sizeof overrides, &err)) {
        fprintf(stderr, "clae: %s\n", err.msg);
        goto out;
    }
    if (a->skip_done) {
        char folder[4096];
        int found = batch_find_done(cfg, folder, sizeof folder, &err);
        if (found < 0) fprintf(stderr, "clae: --skip-done: %s; running the job\n", err.msg);
        if (found > 0) {
            printf("job %d (%s): skipped, completed before in\n%s\n", index, cfg->name, folder);
            rc = EXIT_OK;
            goto out;
        }
    }
    KCache kc = {.fd = -1};
    if ((rc = claim_cache(&kc)) == 0) {
        TrainOptions o = {.cl_dir = a->cl_dir, .quiet = a->quiet, .command_line = cmdline,
                          .overrides = overrides, .sweep_name = sw->stem, .sweep_index = index,
                          .sweep_count = sw->n_jobs};
        rc = train_run(cfg, &o);
    }
    kcache_release(&kc);
out:
    free(cfg);
    return rc;
}

static int cmd_sweep(int argc, char **argv, const char *cmdline)
{
    Args a;
    int rc = parse_args("sweep", argc, argv, 1, SWEEP_USAGE, &a);
    if (rc >= 0) return rc;
    int modes = a.list + a.count + a.dry_run + a.slurm + (a.index >= 0) + (a.jobs > 0);
    if (modes > 1)
        return usage_error("sweep", "%s", "use one of --list, --count, --dry-run, --slurm, "
                                          "--index and --jobs");
    if (a.devices && a.jobs == 0) return usage_error("sweep", "%s", "--devices needs --jobs");
    if ((a.partition || a.time || a.gpus || a.output || a.mem || a.cpus_per_task || a.max_running ||
         a.n_sbatch_lines) && !a.slurm)
        return usage_error("sweep", "%s", "--partition, --time, --cpus-per-task, --mem, "
                                          "--gpus-per-job, --max-running, --sbatch-line and -o "
                                          "need --slurm");
    BatchOptions bo = {.fail_fast = a.fail_fast, .skip_done = a.skip_done, .quiet = a.quiet,
                       .jobs = a.jobs > 0 ? a.jobs : 1, .cl_dir = a.cl_dir,
                       .command_line = cmdline};
    /* --devices 0:0,0:1: each must be a device spec clae accepts. */
    char devlist[1024] = "";
    if (a.devices) {
        if (util_copy(devlist, sizeof devlist, a.devices))
            return usage_error("sweep", "%s", "--devices: the list is too long");
        for (char *save = NULL, *d = strtok_r(devlist, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
            /* Each must name a device that is there: a child that cannot
             * open its device would fail every job sent to that slot. */
            Config scratch;
            Err err = {{0}};
            int p, dev;
            config_defaults(&scratch);
            if (config_set_device(&scratch, d, "--devices", &err)) {
                fprintf(stderr, "clae sweep: %s\n", err.msg);
                return EXIT_USAGE;
            }
            int found = clctx_find(&scratch, &p, &dev, &err);
            if (found) {
                fprintf(stderr, "clae sweep: --devices %s: %s\n", d, err.msg);
                return found == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
            }
            if (bo.n_devices == BATCH_MAX_DEVICES)
                return usage_error("sweep", "%s", "--devices: more than 64 devices");
            bo.devices[bo.n_devices++] = d;
        }
        if (bo.n_devices == 0) return usage_error("sweep", "--devices '%s': expected a list such as 0:0,0:1", a.devices);
    }
    SweepOptions so = {.env_device = getenv("CLAE_DEVICE"), .device = a.device, .sets = a.sets,
                       .n_sets = a.n_sets};
    Sweep *sw = malloc(sizeof *sw);
    BatchJob *jobs = NULL;
    if (!sw) return EXIT_RUN_FAILED;
    Err err = {{0}};
    rc = EXIT_USAGE;
    if (sweep_load(sw, a.configs[0], &so, &err)) {
        fprintf(stderr, "clae: %s\n", err.msg);
        goto out;
    }
    int index = a.index;
    const char *task = getenv("SLURM_ARRAY_TASK_ID");
    if (index < 0 && modes == 0 && task && *task) {
        char *end = NULL;
        long v = strtol(task, &end, 10);
        if (*end || v < 0 || v > SWEEP_MAX_JOBS) {
            fprintf(stderr, "clae sweep: SLURM_ARRAY_TASK_ID '%s': expected a job index 0..%d\n",
                    task, sw->n_jobs - 1);
            goto out;
        }
        index = (int)v;
    }
    if (index >= sw->n_jobs) {
        fprintf(stderr, "clae sweep: %s %d is out of range: %s has %d job%s (0..%d)\n",
                a.index >= 0 ? "--index" : "SLURM_ARRAY_TASK_ID", index, sw->path, sw->n_jobs,
                sw->n_jobs == 1 ? "" : "s", sw->n_jobs - 1);
        goto out;
    }
    if (a.count) {
        printf("%d\n", sw->n_jobs);
        rc = EXIT_OK;
        goto out;
    }
    if (a.slurm) {
        rc = write_sbatch(&a, sw);
        goto out;
    }
    if (index >= 0) {
        rc = run_one_job(&a, sw, &so, index, cmdline);
        goto out;
    }
    jobs = calloc((size_t)sw->n_jobs, sizeof *jobs);
    if (!jobs) {
        rc = EXIT_RUN_FAILED;
        goto out;
    }
    for (int j = 0; j < sw->n_jobs; j++) {
        jobs[j].index = j;
        if (sweep_job(sw, j, &so, &jobs[j].cfg, jobs[j].overrides, sizeof jobs[j].overrides, &err)) {
            fprintf(stderr, "clae: %s\n", err.msg);
            goto out;
        }
    }
    if (a.list) {
        for (int j = 0; j < sw->n_jobs; j++) printf("%d\t%s\n", j, jobs[j].overrides);
        rc = EXIT_OK;
        goto out;
    }
    if (a.dry_run) {
        for (int j = 0; j < sw->n_jobs; j++) {
            char title[2200];
            snprintf(title, sizeof title, "job %d (%s)", j, jobs[j].overrides);
            print_resolved(title, &jobs[j].cfg);
        }
        printf("# %d job%s checked; nothing was run\n", sw->n_jobs, sw->n_jobs == 1 ? "" : "s");
        rc = EXIT_OK;
        goto out;
    }
    bo.sweep_name = sw->stem;
    bo.sweep_count = sw->n_jobs;
    /* The children re-read the file and get the same options, plus
     * --index I --quiet [--device D] from batch. */
    const char *child[300];
    int nc = 0;
    child[nc++] = "clae";
    child[nc++] = "sweep";
    child[nc++] = a.configs[0];
    for (int i = 0; i < a.n_sets && nc < 290; i++) {
        child[nc++] = "--set";
        child[nc++] = a.sets[i];
    }
    if (a.device) {
        child[nc++] = "--device";
        child[nc++] = a.device;
    }
    if (a.cl_dir) {
        child[nc++] = "--cl-dir";
        child[nc++] = a.cl_dir;
    }
    child[nc] = NULL;
    bo.child_argv = child;
    KCache kc = {.fd = -1};
    if (bo.jobs > 1 || (rc = claim_cache(&kc)) == 0) rc = batch_run(jobs, sw->n_jobs, &bo);
    kcache_release(&kc);
out:
    free(jobs);
    free(sw);
    return rc;
}

static int cmd_bench(int argc, char **argv)
{
    Args a;
    int rc = parse_args("bench", argc, argv, 1, BENCH_USAGE, &a);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    KCache kc = {.fd = -1};
    rc = build_config(&a, a.configs[0], cfg);
    if (rc == 0) rc = claim_cache(&kc);
    if (rc == 0) {
        BenchOptions b = {.steps = a.steps, .warmup = a.warmup, .compare = a.compare};
        rc = bench_run(cfg, a.cl_dir, &b);
    }
    kcache_release(&kc);
    free(cfg);
    return rc;
}

static int cmd_tune(int argc, char **argv)
{
    Args a;
    int rc = parse_args("tune", argc, argv, 1, TUNE_USAGE, &a);
    if (rc >= 0) return rc;
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    KCache kc = {.fd = -1};
    rc = build_config(&a, a.configs[0], cfg);
    if (rc == 0) rc = claim_cache(&kc);
    if (rc == 0) {
        TuneOptions o = {.budget = a.budget, .output = a.output, .quiet = a.quiet,
                         .for_class = a.for_class};
        rc = tune_run(cfg, &o);
    }
    kcache_release(&kc);
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
    KCache kc = {.fd = -1};
    rc = build_config(&a, NULL, cfg);
    if (rc == 0 && a.tuning) {
        char set[CONFIG_STR + 32];
        Err e = {{0}};
        snprintf(set, sizeof set, "device.tuning=%.*s", CONFIG_STR - 1, a.tuning);
        if (config_set(cfg, set, &e)) {
            fprintf(stderr, "clae selftest: --tuning %s: %s\n", a.tuning, e.msg);
            rc = EXIT_USAGE;
        }
    }
    if (rc == 0) rc = claim_cache(&kc);
    if (rc) {
        free(cfg);
        return rc;
    }
    Err err = {{0}};
    Device dev;
    rc = EXIT_RUN_FAILED;
    int rc_dev = device_open(&dev, cfg, a.cl_dir, &err);
    if (rc_dev) {
        if (rc_dev == -2) rc = EXIT_USAGE;
        goto out;
    }
    printf("kernels: %s (%s)\n", dev.k.dir, dev.k.dir_source);
    clctx_print_tuning(&dev.ctx, stdout, stderr);
    int failed = selftest_run(&dev.ctx, &dev.k, stdout, &err);
    if (failed == 0) rc = EXIT_OK;
    else if (failed > 0) err_set(&err, "selftest: %d checks failed", failed);
    device_close(&dev);
out:
    if (rc != EXIT_OK) fprintf(stderr, "clae: %s\n", err.msg);
    kcache_release(&kc);
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
    /* PoCL aborts on an empty POCL_CACHE_DIR (an assertion); empty means
     * unset here, as kcache.h reads it. */
    const char *pocl_cache = getenv("POCL_CACHE_DIR");
    if (pocl_cache && !*pocl_cache) unsetenv("POCL_CACHE_DIR");
    static char cmdline[8192];
    join_argv(argc, argv, cmdline, sizeof cmdline);
    if (strcmp(cmd, "devices") == 0) return cmd_devices(argc - 2, argv + 2);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 2, argv + 2, cmdline);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 2, argv + 2, cmdline);
    if (strcmp(cmd, "selftest") == 0) return cmd_selftest(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 2, argv + 2);
    if (strcmp(cmd, "tune") == 0) return cmd_tune(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0) return compare_main(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0) return report_main(argc - 2, argv + 2);
    if (strcmp(cmd, "encode") == 0) return infer_encode_main(argc - 2, argv + 2);
    if (strcmp(cmd, "decode") == 0) return infer_decode_main(argc - 2, argv + 2);
    if (strcmp(cmd, "generate") == 0) return infer_generate_main(argc - 2, argv + 2);
    fprintf(stderr, "clae: unknown command '%s'; expected devices, train, sweep, compare, report, "
                    "encode, decode, generate, selftest, bench or tune (see clae --help)\n",
            cmd);
    return EXIT_USAGE;
}
