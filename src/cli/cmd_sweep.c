/* cmd_sweep: `clae sweep FILE`: count, list, check, submit (run/slurm.h) or
 * run the jobs of a sweep file (io/sweep.h): one job (--index, a Slurm
 * array task, a child of --jobs), or all of them (run/batch.h). */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "clctx.h"
#include "cli.h"
#include "slurm.h"
#include "sweep.h"
#include "train.h"

#define MAX_SBATCH_LINES 32

static const char USAGE[] =
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
    "                       in the results root (so an interrupted sweep can be re-run), or\n"
    "                       one still running (a stale run, whose process is gone, runs again)\n"
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

static void usage(void)
{
    fputs(USAGE, stdout);
}

typedef struct {
    CliConfigArgs c;
    const char *file;
    int quiet, fail_fast, dry_run, list, count, skip_done, slurm;
    int index;                /* --index, -1 when absent */
    int jobs;                 /* --jobs, 0 when absent */
    const char *devices;      /* --devices LIST */
    const char *sbatch_items[MAX_SBATCH_LINES];
    SlurmOptions s;           /* --slurm's options */
    CliList sbatch_lines;     /* --sbatch-line values, in order */
} SweepArgs;

/* Runs the one job `index` in this process (--index, Slurm array tasks,
 * and the children of --jobs). The run folder is the last line printed. */
static int run_one_job(const SweepArgs *a, const Sweep *sw, const SweepOptions *so, int index,
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
            printf("job %d (%s): skipped, %s in\n%s\n", index, cfg->name,
                   found == 2 ? "still running" : "completed before", folder);
            rc = EXIT_OK;
            goto out;
        }
    }
    KCache kc = {.fd = -1};
    if ((rc = cli_claim_cache(&kc, NULL)) == 0) {
        TrainOptions o = {.cl_dir = a->c.cl_dir, .quiet = a->quiet, .command_line = cmdline,
                          .overrides = overrides, .sweep_name = sw->stem, .sweep_index = index,
                          .sweep_count = sw->n_jobs};
        rc = train_run(cfg, &o);
    }
    kcache_release(&kc);
out:
    free(cfg);
    return rc;
}

/* --devices 0:0,0:1 into bo->devices (pointing into buf): each must be a
 * device spec clae accepts, and name a device that is there (a child that
 * cannot open its device would fail every job sent to that slot). Returns
 * 0 or an exit code with the message printed. */
static int check_devices(const char *list, char *buf, size_t len, BatchOptions *bo)
{
    if (util_copy(buf, len, list))
        return cli_usage_error("sweep", "%s", "--devices: the list is too long");
    for (char *save = NULL, *d = strtok_r(buf, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
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
        if (bo->n_devices == BATCH_MAX_DEVICES)
            return cli_usage_error("sweep", "%s", "--devices: more than 64 devices");
        bo->devices[bo->n_devices++] = d;
    }
    if (bo->n_devices == 0)
        return cli_usage_error("sweep", "--devices '%s': expected a list such as 0:0,0:1", list);
    return 0;
}

static int parse(int argc, char **argv, SweepArgs *a)
{
    memset(a, 0, sizeof *a);
    cli_config_args_init(&a->c);
    a->index = -1;
    a->sbatch_lines = (CliList){a->sbatch_items, 0, MAX_SBATCH_LINES,
                                "too many --sbatch-line options (32 at most)"};
    SlurmOptions *s = &a->s;
    const CliOpt opts[] = {
        CLI_CONFIG_OPTS(&a->c),
        {"--quiet", CLI_FLAG, &a->quiet, NULL, 0, 0, 0},
        {"--fail-fast", CLI_FLAG, &a->fail_fast, NULL, 0, 0, 0},
        {"--dry-run", CLI_FLAG, &a->dry_run, NULL, 0, 0, 0},
        {"--list", CLI_FLAG, &a->list, NULL, 0, 0, 0},
        {"--count", CLI_FLAG, &a->count, NULL, 0, 0, 0},
        {"--skip-done", CLI_FLAG, &a->skip_done, NULL, 0, 0, 0},
        {"--slurm", CLI_FLAG, &a->slurm, NULL, 0, 0, 0},
        {"--index", CLI_INT, &a->index, "a number", 0, 1000000, 0},
        {"--jobs", CLI_INT, &a->jobs, "a number", 0, 1000000, 1},
        {"--devices", CLI_STR, &a->devices, "a value", 0, 0, 0},
        {"--partition", CLI_STR, &s->partition, "a value", 0, 0, 0},
        {"--time", CLI_STR, &s->time, "a value", 0, 0, 0},
        {"--gpus-per-job", CLI_STR, &s->gpus, "a value", 0, 0, 0},
        {"-o", CLI_STR, &s->output, "a value", 0, 0, 0},
        {"--cpus-per-task", CLI_INT, &s->cpus_per_task, "a number", 0, 1000000, 1},
        {"--max-running", CLI_INT, &s->max_running, "a number", 0, 1000000, 1},
        {"--mem", CLI_STR, &s->mem, "a value", 0, 0, 0},
        {"--sbatch-line", CLI_LIST, &a->sbatch_lines, "an sbatch option", 0, 0, 0},
    };
    int n_pos = 0;
    CliSpec spec = {"sweep", usage, opts, CLI_COUNT(opts), &a->file, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (!a->file) return cli_usage_error("sweep", "%s", "missing sweep FILE");
    int modes = a->list + a->count + a->dry_run + a->slurm + (a->index >= 0) + (a->jobs > 0);
    if (modes > 1)
        return cli_usage_error("sweep", "%s", "use one of --list, --count, --dry-run, --slurm, "
                                              "--index and --jobs");
    if (a->devices && a->jobs == 0)
        return cli_usage_error("sweep", "%s", "--devices needs --jobs");
    if ((s->partition || s->time || s->gpus || s->output || s->mem || s->cpus_per_task ||
         s->max_running || a->sbatch_lines.n) && !a->slurm)
        return cli_usage_error("sweep", "%s", "--partition, --time, --cpus-per-task, --mem, "
                                              "--gpus-per-job, --max-running, --sbatch-line and -o "
                                              "need --slurm");
    s->sbatch_lines = a->sbatch_lines.items;
    s->n_sbatch_lines = a->sbatch_lines.n;
    s->sets = a->c.sets.items;
    s->n_sets = a->c.sets.n;
    s->device = a->c.device;
    s->cl_dir = a->c.cl_dir;
    s->skip_done = a->skip_done;
    s->quiet = a->quiet;
    return -1;
}

/* The job that runs here: --index, else a Slurm array task's
 * SLURM_ARRAY_TASK_ID when no other mode is asked for, else -1 (all).
 * Returns 0 or an exit code with the message printed. */
static int job_index(const SweepArgs *a, const Sweep *sw, int *index)
{
    *index = a->index;
    int modes = a->list + a->count + a->dry_run + a->slurm + (a->jobs > 0);
    const char *task = getenv("SLURM_ARRAY_TASK_ID");
    if (*index < 0 && modes == 0 && task && *task) {
        char *end = NULL;
        long v = strtol(task, &end, 10);
        if (*end || v < 0 || v > SWEEP_MAX_JOBS) {
            fprintf(stderr, "clae sweep: SLURM_ARRAY_TASK_ID '%s': expected a job index 0..%d\n",
                    task, sw->n_jobs - 1);
            return EXIT_USAGE;
        }
        *index = (int)v;
    }
    if (*index >= sw->n_jobs) {
        fprintf(stderr, "clae sweep: %s %d is out of range: %s has %d job%s (0..%d)\n",
                a->index >= 0 ? "--index" : "SLURM_ARRAY_TASK_ID", *index, sw->path, sw->n_jobs,
                sw->n_jobs == 1 ? "" : "s", sw->n_jobs - 1);
        return EXIT_USAGE;
    }
    return 0;
}

/* Every job in this process, or --jobs J children, with the summary. */
static int run_all(const SweepArgs *a, const Sweep *sw, BatchJob *jobs, BatchOptions *bo)
{
    bo->sweep_name = sw->stem;
    bo->sweep_count = sw->n_jobs;
    /* The children re-read the file and get the same options, plus
     * --index I --quiet [--device D] from batch. */
    const char *child[300];
    int nc = 0;
    child[nc++] = "clae";
    child[nc++] = "sweep";
    child[nc++] = a->file;
    for (int i = 0; i < a->c.sets.n && nc < 290; i++) {
        child[nc++] = "--set";
        child[nc++] = a->c.sets.items[i];
    }
    if (a->c.device) {
        child[nc++] = "--device";
        child[nc++] = a->c.device;
    }
    if (a->c.cl_dir) {
        child[nc++] = "--cl-dir";
        child[nc++] = a->c.cl_dir;
    }
    child[nc] = NULL;
    bo->child_argv = child;
    KCache kc = {.fd = -1};
    int rc = 0;
    /* --jobs J > 1: each child claims its own slot */
    if (bo->jobs > 1 || (rc = cli_claim_cache(&kc, NULL)) == 0)
        rc = batch_run(jobs, sw->n_jobs, bo);
    kcache_release(&kc);
    return rc;
}

int cmd_sweep(int argc, char **argv, const char *cmdline)
{
    SweepArgs *a = malloc(sizeof *a);
    if (!a) return EXIT_RUN_FAILED;
    int rc = parse(argc, argv, a);
    Sweep *sw = NULL;
    BatchJob *jobs = NULL;
    if (rc >= 0) goto out;
    BatchOptions bo = {.fail_fast = a->fail_fast, .skip_done = a->skip_done, .quiet = a->quiet,
                       .jobs = a->jobs > 0 ? a->jobs : 1, .cl_dir = a->c.cl_dir,
                       .command_line = cmdline};
    char devlist[1024] = "";
    if (a->devices && (rc = check_devices(a->devices, devlist, sizeof devlist, &bo)) != 0)
        goto out;
    SweepOptions so = {.env_device = getenv("CLAE_DEVICE"), .device = a->c.device,
                       .sets = a->c.sets.items, .n_sets = a->c.sets.n};
    rc = EXIT_RUN_FAILED;
    if (!(sw = malloc(sizeof *sw))) goto out;
    Err err = {{0}};
    rc = EXIT_USAGE;
    if (sweep_load(sw, a->file, &so, &err)) {
        fprintf(stderr, "clae: %s\n", err.msg);
        goto out;
    }
    int index;
    if ((rc = job_index(a, sw, &index)) != 0) goto out;
    if (a->count) {
        printf("%d\n", sw->n_jobs);
        rc = EXIT_OK;
        goto out;
    }
    if (a->slurm) {
        rc = slurm_write(sw, &a->s);
        goto out;
    }
    if (index >= 0) {
        rc = run_one_job(a, sw, &so, index, cmdline);
        goto out;
    }
    rc = EXIT_RUN_FAILED;
    if (!(jobs = calloc((size_t)sw->n_jobs, sizeof *jobs))) goto out;
    rc = EXIT_USAGE;
    for (int j = 0; j < sw->n_jobs; j++) {
        jobs[j].index = j;
        if (sweep_job(sw, j, &so, &jobs[j].cfg, jobs[j].overrides, sizeof jobs[j].overrides,
                      &err)) {
            fprintf(stderr, "clae: %s\n", err.msg);
            goto out;
        }
    }
    rc = EXIT_OK;
    if (a->list) {
        for (int j = 0; j < sw->n_jobs; j++) printf("%d\t%s\n", j, jobs[j].overrides);
    } else if (a->dry_run) {
        for (int j = 0; j < sw->n_jobs; j++) {
            char title[2200];
            snprintf(title, sizeof title, "job %d (%s)", j, jobs[j].overrides);
            cli_print_resolved(title, &jobs[j].cfg);
        }
        printf("# %d job%s checked; nothing was run\n", sw->n_jobs, sw->n_jobs == 1 ? "" : "s");
    } else {
        rc = run_all(a, sw, jobs, &bo);
    }
out:
    free(jobs);
    free(sw);
    free(a);
    return rc;
}
