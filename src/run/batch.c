/* batch: see batch.h. */
#define _POSIX_C_SOURCE 200809L
#include "batch.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runfolder.h"
#include "runs.h"
#include "train.h"

typedef struct {
    RunStatus status;  /* completed, skipped, not run, config error, failed, ... */
    int running;       /* skipped: a run of it is still going (not done before) */
    double test_loss;  /* NaN when none */
    char folder[4096]; /* "" when none */
} Outcome;

/* Set by SIGINT/SIGTERM while child processes run: start nothing new, pass
 * the signal on, wait for the children. A signal handler can only reach a
 * static flag. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static int same_experiment(const Config *a, const Config *b)
{
    char va[CONFIG_STR], vb[CONFIG_STR];
    for (int i = 0; i < config_key_count(); i++) {
        const char *sec = config_key_section(i), *key = config_key_name(i);
        if (strcmp(sec, "device") == 0) continue;
        config_get(a, sec, key, va, sizeof va);
        config_get(b, sec, key, vb, sizeof vb);
        if (strcmp(va, vb) != 0) return 0;
    }
    return 1;
}

int batch_find_done(const Config *cfg, char *folder, size_t len, Err *err)
{
    if (!util_is_dir(cfg->root)) return 0;
    RunRecord *runs = NULL;
    int n = 0, found = 0;
    if (runs_scan(cfg->root, &runs, &n, err)) return -1;
    Config *want = util_malloc(sizeof *want, err), *have = util_malloc(sizeof *have, err);
    if (!want || !have) {
        found = -1;
        goto out;
    }
    train_recorded_config(cfg, want);
    /* Pass 0: a completed run; pass 1: one still going (its process seen
     * alive on this host, or a fresh heartbeat from another). A stale run,
     * or a running one that cannot be told (another host, an earlier clae
     * without heartbeats), is run again. */
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (int i = 0; i < n && !found; i++) {
            const RunRecord *run = &runs[i];
            int match = pass == 0 ? run->status == RUN_COMPLETED
                                  : run->status == RUN_RUNNING && run->alive == 1;
            if (!match || strcmp(run->name, cfg->name) != 0) continue;
            char path[4200];
            snprintf(path, sizeof path, "%s/config.ini", run->folder);
            Err ignored = {{0}};
            if (config_load(have, path, &ignored)) continue; /* not ours to judge: not a match */
            if (same_experiment(want, have)) {
                snprintf(folder, len, "%s", run->folder);
                found = pass + 1;
            }
        }
    }
out:
    free(want);
    free(have);
    free(runs);
    return found;
}

static int is_success(const Outcome *r)
{
    return r->status == RUN_COMPLETED || r->status == RUN_SKIPPED;
}

/* --skip-done: fills r and returns 1 when job j is done already. */
static int already_done(const BatchJob *job, const BatchOptions *o, Outcome *r)
{
    if (!o->skip_done) return 0;
    Err err = {{0}};
    int found = batch_find_done(&job->cfg, r->folder, sizeof r->folder, &err);
    if (found < 0) {
        fprintf(stderr, "clae: --skip-done: %s; running the job\n", err.msg);
        return 0;
    }
    if (!found) return 0;
    r->status = RUN_SKIPPED;
    r->running = found == 2;
    RunRecord s;
    Err ignored = {{0}};
    if (runfolder_read(r->folder, &s, &ignored) == 0) r->test_loss = s.test_loss;
    return 1;
}

static void print_summary(const BatchJob *jobs, const Outcome *out, int n)
{
    int ok = 0, skipped = 0, going = 0, notrun = 0, failed = 0;
    size_t wname = 4, wstat = 6;
    for (int i = 0; i < n; i++) {
        if (out[i].status == RUN_COMPLETED) ok++;
        else if (out[i].status == RUN_SKIPPED) skipped++, going += out[i].running;
        else if (out[i].status == RUN_NOT_RUN) notrun++;
        else failed++;
        if (strlen(jobs[i].cfg.name) > wname) wname = strlen(jobs[i].cfg.name);
        if (strlen(runfolder_status_name(out[i].status)) > wstat)
            wstat = strlen(runfolder_status_name(out[i].status));
    }
    printf("\nsummary: %d run%s: %d completed", n, n == 1 ? "" : "s", ok);
    if (skipped > going) printf(", %d skipped (done before)", skipped - going);
    if (going) printf(", %d skipped (still running)", going);
    if (failed) printf(", %d failed", failed);
    if (notrun) printf(", %d not run", notrun);
    printf("\n%5s  %-*s  %-*s  %10s  %s\n", "job", (int)wname, "name", (int)wstat, "status",
           "test_loss", "folder");
    for (int i = 0; i < n; i++) {
        char loss[32] = "-";
        if (isfinite(out[i].test_loss)) snprintf(loss, sizeof loss, "%.6f", out[i].test_loss);
        printf("%5d  %-*s  %-*s  %10s  %s\n", jobs[i].index >= 0 ? jobs[i].index : i + 1,
               (int)wname, jobs[i].cfg.name, (int)wstat, runfolder_status_name(out[i].status), loss,
               out[i].folder[0] ? out[i].folder : "-");
    }
    fflush(stdout);
}

/* One job after another in this process. */
static void run_here(const BatchJob *jobs, int n, const BatchOptions *o, Outcome *out)
{
    int stop = 0;
    for (int i = 0; i < n; i++) {
        Outcome *r = &out[i];
        if (stop) continue;
        if (already_done(&jobs[i], o, r)) {
            printf("[%d/%d] %s: skipped, %s in %s\n", i + 1, n, jobs[i].cfg.name,
                   r->running ? "still running" : "completed before", r->folder);
            continue;
        }
        if (n > 1) {
            printf("\n[%d/%d] %s%s%s\n", i + 1, n, jobs[i].cfg.name, jobs[i].overrides[0] ? ": " : "",
                   jobs[i].overrides);
            fflush(stdout);
        }
        TrainResult res;
        TrainOptions t = {
            .cl_dir = o->cl_dir,
            .quiet = o->quiet,
            .command_line = o->command_line,
            .overrides = jobs[i].overrides,
            .sweep_name = o->sweep_name,
            .sweep_index = jobs[i].index,
            .sweep_count = o->sweep_count,
            .result = &res,
        };
        train_run(&jobs[i].cfg, &t);
        r->status = res.status;
        util_copy(r->folder, sizeof r->folder, res.folder);
        r->test_loss = res.test_loss;
        /* Ctrl-C ends the whole batch, not just the run it hit. */
        if (r->status == RUN_INTERRUPTED) stop = 1;
        if (o->fail_fast && !is_success(r)) stop = 1;
    }
}

typedef struct {
    pid_t pid;     /* 0 = free slot */
    int job;
    FILE *out;     /* the child's stdout: its last line is the run folder */
} Child;

/* Starts job j in a child process in slot s; returns 0 or -1 (message printed). */
static int spawn(const BatchJob *job, int slot, const BatchOptions *o, const char *exe, Child *c)
{
    char index[32];
    snprintf(index, sizeof index, "%d", job->index);
    const char *argv[300];
    int argc = 0;
    argv[argc++] = exe;
    for (int i = 1; o->child_argv[i] && argc < 290; i++) argv[argc++] = o->child_argv[i];
    argv[argc++] = "--index";
    argv[argc++] = index;
    argv[argc++] = "--quiet";
    if (o->n_devices > 0) {
        argv[argc++] = "--device";
        argv[argc++] = o->devices[slot % o->n_devices];
    }
    argv[argc] = NULL;
    c->out = tmpfile();
    if (!c->out) {
        fprintf(stderr, "clae: cannot create a temporary file for job %d: %s\n", job->index,
                strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "clae: cannot start job %d: fork: %s\n", job->index, strerror(errno));
        fclose(c->out);
        c->out = NULL;
        return -1;
    }
    if (pid == 0) {
        dup2(fileno(c->out), STDOUT_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(exe, (char *const *)argv);
        fprintf(stderr, "clae: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    return 0;
}

/* What a finished child left: its run folder (last line of its stdout) and
 * that folder's run.json. */
static void collect(Child *c, int status, Outcome *r)
{
    char line[4096], last[4096] = "";
    rewind(c->out);
    while (fgets(line, sizeof line, c->out)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0]) util_copy(last, sizeof last, line);
    }
    fclose(c->out);
    c->out = NULL;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    RunRecord s;
    Err ignored = {{0}};
    if (last[0] && util_is_dir(last) && runfolder_read(last, &s, &ignored) == 0) {
        util_copy(r->folder, sizeof r->folder, last);
        r->status = s.status;
        r->test_loss = s.test_loss;
        /* run.json says completed but the process failed after (runs.csv) */
        if (code != 0 && r->status == RUN_COMPLETED) r->status = RUN_FAILED;
    } else {
        r->status = code == EXIT_USAGE ? RUN_CONFIG_ERROR : RUN_FAILED;
    }
    if (WIFSIGNALED(status)) r->status = RUN_KILLED;
}

/* J jobs at a time in child processes. */
static void run_children(const BatchJob *jobs, int n, const BatchOptions *o, Outcome *out)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        fprintf(stderr, "clae: cannot find this program's path (/proc/self/exe): %s\n",
                strerror(errno));
        return;
    }
    exe[len] = '\0';
    int J = o->jobs;
    Child *slots = calloc((size_t)J, sizeof *slots);
    if (!slots) {
        fprintf(stderr, "clae: out of memory\n");
        return;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int next = 0, running = 0, stop = 0, forwarded = 0;
    for (;;) {
        if (stop_signal) stop = 1;
        if (stop && !forwarded && stop_signal) {
            /* A terminal's Ctrl-C reaches the children too; kill(1) or
             * scancel may reach only us. */
            for (int s = 0; s < J; s++)
                if (slots[s].pid > 0) kill(slots[s].pid, SIGTERM);
            forwarded = 1;
        }
        while (!stop && running < J && next < n) {
            int j = next++;
            if (already_done(&jobs[j], o, &out[j])) {
                printf("[job %d] %s: skipped, %s in %s\n", jobs[j].index, jobs[j].cfg.name,
                       out[j].running ? "still running" : "completed before", out[j].folder);
                continue;
            }
            int s = 0;
            while (slots[s].pid > 0) s++;
            if (spawn(&jobs[j], s, o, exe, &slots[s])) {
                out[j].status = RUN_FAILED;
                if (o->fail_fast) stop = 1;
                continue;
            }
            slots[s].job = j;
            running++;
            printf("[job %d] %s: started%s%s\n", jobs[j].index, jobs[j].cfg.name,
                   o->n_devices ? " on device " : "", o->n_devices ? o->devices[s % o->n_devices] : "");
            fflush(stdout);
        }
        if (running == 0) break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "clae: waitpid: %s\n", strerror(errno));
            break;
        }
        int s = 0;
        while (s < J && slots[s].pid != pid) s++;
        if (s == J) continue; /* not one of ours */
        int j = slots[s].job;
        collect(&slots[s], status, &out[j]);
        slots[s].pid = 0;
        running--;
        char loss[48] = "";
        if (isfinite(out[j].test_loss)) snprintf(loss, sizeof loss, ", test loss %.6f", out[j].test_loss);
        printf("[job %d] %s: %s%s%s%s\n", jobs[j].index, jobs[j].cfg.name,
               runfolder_status_name(out[j].status), loss,
               out[j].folder[0] ? " in " : "", out[j].folder);
        fflush(stdout);
        if (o->fail_fast && !is_success(&out[j])) stop = 1;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(slots);
}

int batch_run(const BatchJob *jobs, int n, const BatchOptions *o)
{
    Outcome *out = calloc((size_t)(n > 0 ? n : 1), sizeof *out);
    if (!out) {
        fprintf(stderr, "clae: out of memory\n");
        return EXIT_RUN_FAILED;
    }
    for (int i = 0; i < n; i++) {
        out[i].status = RUN_NOT_RUN;
        out[i].test_loss = NAN;
    }
    if (o->jobs > 1) run_children(jobs, n, o, out);
    else run_here(jobs, n, o, out);
    int all_ok = 1;
    for (int i = 0; i < n; i++) all_ok &= is_success(&out[i]);
    print_summary(jobs, out, n);
    free(out);
    return all_ok ? EXIT_OK : EXIT_RUN_FAILED;
}
