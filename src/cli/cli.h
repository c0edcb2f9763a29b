/* cli: what the commands (cmd_<name>.c) share.
 *
 * Owns: the one option parser (a table of options per command: flags,
 * strings, whole numbers in a range, repeatable options), the one
 * usage-error line ("clae CMD: what (see clae CMD --help)"), the precedence
 * chain that makes a Config (file < CLAE_DEVICE < --device < each --set,
 * then the cross-key checks), claiming the process's kernel-cache slot
 * before the first OpenCL call, opening a trained run for encode, decode
 * and generate, and the command line as run.json records it. Every
 * function that fails prints its own one-line message and returns an exit
 * code (exitcode.h). */
#ifndef CLAE_CLI_H
#define CLAE_CLI_H

#include <stddef.h>

#include "config.h"
#include "exitcode.h"
#include "infer.h"
#include "kcache.h"

/* One command of `clae`: main.c's table. run gets the arguments after the
 * command's name and the whole command line (for run.json). */
typedef struct {
    const char *name;    /* "train" */
    const char *args;    /* what follows it in `clae --help`: "CONFIG..." */
    const char *summary; /* one line for `clae --help` (a '\n' continues it below) */
    int (*run)(int argc, char **argv, const char *cmdline);
} CliCommand;

/* The commands, one cmd_<name>.c each: parse the arguments after the
 * command's name (--help prints the usage text), print their own messages
 * and return the exit code. */
int cmd_devices(int argc, char **argv, const char *cmdline);
int cmd_train(int argc, char **argv, const char *cmdline);
int cmd_sweep(int argc, char **argv, const char *cmdline);
int cmd_selftest(int argc, char **argv, const char *cmdline);
int cmd_bench(int argc, char **argv, const char *cmdline);
int cmd_tune(int argc, char **argv, const char *cmdline);
int cmd_compare(int argc, char **argv, const char *cmdline);
int cmd_report(int argc, char **argv, const char *cmdline);
int cmd_encode(int argc, char **argv, const char *cmdline);
int cmd_decode(int argc, char **argv, const char *cmdline);
int cmd_generate(int argc, char **argv, const char *cmdline);
int cmd_export(int argc, char **argv, const char *cmdline);
int cmd_plot(int argc, char **argv, const char *cmdline);

/* A repeatable option's values, in the order given. */
typedef struct {
    const char **items;   /* (cap) storage the command provides */
    int n, cap;
    const char *too_many; /* the usage error past cap: "too many --set options" */
} CliList;

typedef enum {
    CLI_FLAG,   /* dst: int *, set to 1 */
    CLI_STR,    /* dst: const char **, the next argument */
    CLI_INT,    /* dst: int *, the next argument as a whole number lo..hi */
    CLI_SECONDS,/* dst: double *, the next argument as seconds lo..hi */
    CLI_LIST,   /* dst: CliList *, the next argument appended */
} CliKind;

typedef struct {
    const char *name;     /* "--device", "-o" */
    CliKind kind;
    void *dst;
    const char *needs;    /* what a missing value is: "--device needs a value" */
    long lo, hi;          /* CLI_INT, CLI_SECONDS: the accepted range */
    int at_least;         /* CLI_INT: a usage error below this ("--jobs must be at least 1"),
                             0 for none */
} CliOpt;

/* The entries of an option table. */
#define CLI_COUNT(opts) ((int)(sizeof(opts) / sizeof((opts)[0])))

typedef struct {
    const char *cmd;          /* "train": names it in every message */
    void (*help)(void);       /* prints the usage text to stdout (--help, -h) */
    const CliOpt *opts;
    int n_opts;
    const char **pos;         /* positional arguments go here ... */
    int max_pos;              /* ... up to this many; more are an error */
    int *n_pos;
    int latent_points;        /* "-1.5,0.3" (a '-' then a digit or '.') is positional, and
                                 "--" ends the options */
} CliSpec;

/* What every command that makes a Config from options takes: --set,
 * --device, --cl-dir (cli_config_args_init first). */
#define CLI_MAX_SETS 256
typedef struct {
    const char *set_items[CLI_MAX_SETS];
    CliList sets;        /* --set values, in order */
    const char *device;  /* --device, or NULL */
    const char *cl_dir;  /* --cl-dir, or NULL */
} CliConfigArgs;

void cli_config_args_init(CliConfigArgs *c);

/* Rows of an option table: --device and --cl-dir; those and -o (the commands
 * that use a trained run); --set, --device and --cl-dir of a
 * CliConfigArgs. */
#define CLI_DEVICE_OPTS(device, cl_dir)                                                          \
    {"--device", CLI_STR, (device), "a value", 0, 0, 0},                                         \
    {"--cl-dir", CLI_STR, (cl_dir), "a value", 0, 0, 0}
#define CLI_RUN_OPTS(device, cl_dir, out)                                                        \
    CLI_DEVICE_OPTS(device, cl_dir), {"-o", CLI_STR, (out), "a value", 0, 0, 0}
#define CLI_CONFIG_OPTS(c)                                                                       \
    {"--set", CLI_LIST, &(c)->sets, "SECTION.KEY=VALUE", 0, 0, 0},                               \
    CLI_DEVICE_OPTS(&(c)->device, &(c)->cl_dir)

/* Parses argv (argc arguments after the command's name) by spec. Returns
 * -1 to go on, EXIT_OK after --help, or EXIT_USAGE with the message
 * printed. */
int cli_parse(const CliSpec *spec, int argc, char **argv);

/* "clae CMD: " fmt (with what) " (see clae CMD --help)" on stderr; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *what);

/* Parses v as a whole number lo..hi into *out; otherwise prints "clae CMD:
 * OPT 'V': expected a whole number LO..HI" and returns EXIT_USAGE. */
int cli_parse_int(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out);

/* Checks before the work that path can be written where it is: not a
 * folder, and its temporary file (util_atomic_open's) can be created in
 * its folder (created and removed again). Returns 0, or EXIT_USAGE with
 * "clae CMD: PATH: cannot write there: why" printed: an output that cannot
 * be made is the request's fault; a write that fails later is not. */
int cli_check_output(const char *cmd, const char *path);

/* The Config of one run: the file at path (defaults when NULL), then
 * CLAE_DEVICE, then --device, then each --set in order, then the cross-key
 * checks. Prints the error and returns EXIT_USAGE, or 0. */
int cli_build_config(const CliConfigArgs *c, const char *path, Config *cfg);

/* The commands that run one config: builds it (cli_build_config; path NULL
 * for the defaults), claims the kernel cache, and returns run(cfg, arg)'s
 * exit code, or the exit code of what failed before. */
int cli_run_config(const CliConfigArgs *c, const char *path,
                   int (*run)(const Config *cfg, const void *arg), const void *arg);

/* Claims this process's kernel-cache slot (kcache.h), before the first
 * OpenCL call. Returns 0, or EXIT_RUN_FAILED with the message printed
 * ("clae: ..." or, with cmd, "clae CMD: ..."). kcache_release frees it. */
int cli_claim_cache(KCache *kc, const char *cmd);

/* --dry-run's view of one run: where it came from and its resolved config. */
void cli_print_resolved(const char *title, const Config *cfg);

/* The --set values as one "section.key=value ..." string (run.json's
 * overrides and runs.csv's). */
void cli_join_sets(const CliList *sets, char *buf, size_t len);

/* The command line as one string for run.json, arguments with spaces or
 * quotes single-quoted. */
void cli_join_argv(int argc, char **argv, char *buf, size_t len);

/* For encode, decode and generate: claims the kernel cache and opens
 * run_dir for inference (infer.h) on device (--device) over CLAE_DEVICE
 * over the run's [device] keys. Returns the open run (cli_close_run frees
 * it and releases the cache), or NULL with the message printed and *rc
 * the exit code. */
Infer *cli_open_run(const char *cmd, const char *run_dir, const char *device, const char *cl_dir,
                    KCache *kc, int *rc);
void cli_close_run(Infer *in, KCache *kc);

#endif
