/* cli: see cli.h. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_usage_error(const char *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "clae %s: ", cmd);
    fprintf(stderr, fmt, what);
    fprintf(stderr, " (see clae %s --help)\n", cmd);
    return EXIT_USAGE;
}

int cli_check_output(const char *cmd, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "clae %s: %s: is a folder; give a file name\n", cmd, path);
        return EXIT_USAGE;
    }
    char tmp[4300];
    Err err = {{0}};
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, &err);
    if (!f) {
        /* "PATH.tmp.PID: cannot create: why": the why */
        const char *why = strstr(err.msg, "cannot create: ");
        fprintf(stderr, "clae %s: %s: cannot write there: %s\n", cmd, path,
                why ? why + strlen("cannot create: ") : err.msg);
        return EXIT_USAGE;
    }
    util_atomic_abort(f, tmp);
    return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "clae %s: %s '%s': expected a whole number %ld..%ld\n", cmd, opt, v, lo,
                hi);
        return EXIT_USAGE;
    }
    *out = (int)n;
    return 0;
}

/* v as seconds lo..hi into *out, or the usage error. */
static int parse_seconds(const char *cmd, const CliOpt *o, const char *v, double *out)
{
    char *end = NULL;
    *out = strtod(v, &end);
    if (!*v || *end || !(*out >= (double)o->lo && *out <= (double)o->hi)) {
        fprintf(stderr, "clae %s: %s '%s': expected seconds, %ld..%ld (see clae %s --help)\n", cmd,
                o->name, v, o->lo, o->hi, cmd);
        return EXIT_USAGE;
    }
    return 0;
}

/* An option's value v into its destination; 0 or an exit code. */
static int take(const CliSpec *spec, const CliOpt *o, const char *v)
{
    switch (o->kind) {
    case CLI_STR: *(const char **)o->dst = v; return 0;
    case CLI_SECONDS: return parse_seconds(spec->cmd, o, v, o->dst);
    case CLI_LIST: {
        CliList *l = o->dst;
        if (l->n == l->cap) return cli_usage_error(spec->cmd, "%s", l->too_many);
        l->items[l->n++] = v;
        return 0;
    }
    case CLI_INT: {
        int *n = o->dst, rc = cli_parse_int(spec->cmd, o->name, v, o->lo, o->hi, n);
        if (rc) return rc;
        if (o->at_least && *n < o->at_least) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s must be at least %d", o->name, o->at_least);
            return cli_usage_error(spec->cmd, "%s", msg);
        }
        return 0;
    }
    case CLI_FLAG: break;
    }
    return 0;
}

int cli_parse(const CliSpec *spec, int argc, char **argv)
{
    int options = 1;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        /* A latent point may start with a minus: "-1.5,0.3". */
        int number = spec->latent_points && s[0] == '-' &&
                     (isdigit((unsigned char)s[1]) || s[1] == '.');
        if (!options || s[0] != '-' || !s[1] || number) {
            if (*spec->n_pos == spec->max_pos)
                return cli_usage_error(spec->cmd, "unexpected argument '%s'", s);
            spec->pos[(*spec->n_pos)++] = s;
            continue;
        }
        if (spec->latent_points && strcmp(s, "--") == 0) {
            options = 0;
            continue;
        }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            spec->help();
            return EXIT_OK;
        }
        const CliOpt *o = NULL;
        for (int k = 0; k < spec->n_opts && !o; k++)
            if (strcmp(s, spec->opts[k].name) == 0) o = &spec->opts[k];
        if (!o) return cli_usage_error(spec->cmd, "unknown option '%s'", s);
        if (o->kind == CLI_FLAG) {
            *(int *)o->dst = 1;
            continue;
        }
        if (i + 1 >= argc) {
            char fmt[128];
            snprintf(fmt, sizeof fmt, "%%s needs %s", o->needs);
            return cli_usage_error(spec->cmd, fmt, s);
        }
        int rc = take(spec, o, argv[++i]);
        if (rc) return rc;
    }
    return -1;
}

void cli_config_args_init(CliConfigArgs *c)
{
    memset(c, 0, sizeof *c);
    c->sets = (CliList){c->set_items, 0, CLI_MAX_SETS, "too many --set options"};
}

int cli_build_config(const CliConfigArgs *c, const char *path, Config *cfg)
{
    Err err = {{0}};
    if (path) {
        if (config_load(cfg, path, &err)) goto bad;
    } else {
        config_defaults(cfg);
    }
    const char *env = getenv("CLAE_DEVICE");
    if (env && *env && config_set_device(cfg, env, "CLAE_DEVICE", &err)) goto bad;
    if (c->device && config_set_device(cfg, c->device, "--device", &err)) goto bad;
    for (int i = 0; i < c->sets.n; i++)
        if (config_set(cfg, c->sets.items[i], &err)) goto bad;
    if (config_validate(cfg, &err)) goto bad;
    return 0;
bad:
    fprintf(stderr, "clae: %s\n", err.msg);
    return EXIT_USAGE;
}

int cli_run_config(const CliConfigArgs *c, const char *path,
                   int (*run)(const Config *cfg, const void *arg), const void *arg)
{
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) return EXIT_RUN_FAILED;
    KCache kc = {.fd = -1};
    int rc = cli_build_config(c, path, cfg);
    if (rc == 0) rc = cli_claim_cache(&kc, NULL);
    if (rc == 0) rc = run(cfg, arg);
    kcache_release(&kc);
    free(cfg);
    return rc;
}

int cli_claim_cache(KCache *kc, const char *cmd)
{
    Err err = {{0}};
    if (kcache_claim(kc, &err) == 0) return 0;
    fprintf(stderr, "clae%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", err.msg);
    return EXIT_RUN_FAILED;
}

void cli_print_resolved(const char *title, const Config *cfg)
{
    printf("# ==== %s: run %s ====\n", title, cfg->name);
    config_write(cfg, stdout);
    printf("\n");
}

/* The n strings of items joined by ' ', quoted where join_argv's quote
 * says so, into buf. */
static void join(const char *const *items, int n, int quote_spaces, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++) {
        int quote = quote_spaces && strpbrk(items[i], " \t'\"") != NULL;
        int w = snprintf(buf + used, len - used, quote ? "%s'%s'" : "%s%s", i ? " " : "", items[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

void cli_join_sets(const CliList *sets, char *buf, size_t len)
{
    join(sets->items, sets->n, 0, buf, len);
}

void cli_join_argv(int argc, char **argv, char *buf, size_t len)
{
    join((const char *const *)argv, argc, 1, buf, len);
}

Infer *cli_open_run(const char *cmd, const char *run_dir, const char *device, const char *cl_dir,
                    KCache *kc, int *rc)
{
    Err err = {{0}};
    Infer *in = calloc(1, sizeof *in);
    *rc = EXIT_RUN_FAILED;
    if (!in) return NULL;
    const char *env = getenv("CLAE_DEVICE");
    if (!device && env && *env) {
        /* Checked here, so that a bad value is named as CLAE_DEVICE's. */
        Config *scratch = util_malloc(sizeof *scratch, &err);
        if (!scratch) {
            fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
            goto fail;
        }
        config_defaults(scratch);
        int bad = config_set_device(scratch, env, "CLAE_DEVICE", &err);
        free(scratch);
        if (bad) {
            fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
            *rc = EXIT_USAGE;
            goto fail;
        }
        device = env;
    }
    if ((*rc = cli_claim_cache(kc, cmd)) != 0) goto fail;
    int opened = infer_open(in, run_dir, device, cl_dir, &err);
    if (opened == 0) return in;
    fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    *rc = opened == -2 ? EXIT_USAGE : EXIT_RUN_FAILED;
fail:
    cli_close_run(in, kc);
    return NULL;
}

void cli_close_run(Infer *in, KCache *kc)
{
    infer_close(in);
    free(in);
    kcache_release(kc);
}
