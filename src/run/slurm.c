/* slurm: see slurm.h. */
#define _DEFAULT_SOURCE /* realpath, readlink, open_memstream */
#include "slurm.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"

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

int slurm_write(const Sweep *sw, const SlurmOptions *o)
{
    if ((o->partition && !sbatch_value_ok("--partition", o->partition, "_.,-",
                                          "a partition name (letters, digits, _ . , -)")) ||
        (o->time && !sbatch_value_ok("--time", o->time, ":-",
                                     "a Slurm time limit such as 30, 2:00:00 or 1-12:00:00")) ||
        (o->gpus && !sbatch_value_ok("--gpus-per-job", o->gpus, ":_",
                                     "a GPU count such as 1, or type:count such as a100:1")) ||
        (o->mem && !sbatch_mem_ok(o->mem)))
        return EXIT_USAGE;
    for (int i = 0; i < o->n_sbatch_lines; i++)
        if (!sbatch_line_ok(o->sbatch_lines[i])) return EXIT_USAGE;
    const char *out = o->output ? o->output : "sweep.sbatch";
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
    if (o->max_running)
        snprintf(array, sizeof array, "0-%d%%%d", sw->n_jobs - 1, o->max_running);
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
    if (o->cpus_per_task) fprintf(f, "#SBATCH --cpus-per-task=%d\n", o->cpus_per_task);
    if (o->mem) fprintf(f, "#SBATCH --mem=%s\n", o->mem);
    if (o->partition) fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time) fprintf(f, "#SBATCH --time=%s\n", o->time);
    if (o->gpus) fprintf(f, "#SBATCH --gpus-per-task=%s\n", o->gpus);
    for (int i = 0; i < o->n_sbatch_lines; i++) fprintf(f, "#SBATCH %s\n", o->sbatch_lines[i]);
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
    for (int i = 0; i < o->n_sets; i++) {
        fprintf(f, " --set ");
        shell_quote(f, o->sets[i]);
    }
    if (o->device) {
        fprintf(f, " --device ");
        shell_quote(f, o->device);
    }
    if (o->cl_dir) {
        fprintf(f, " --cl-dir ");
        shell_quote(f, o->cl_dir);
    }
    if (o->skip_done) fprintf(f, " --skip-done");
    if (o->quiet) fprintf(f, " --quiet");
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
