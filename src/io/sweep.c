/* sweep: see sweep.h. */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Short names in run names for the keys people sweep most. */
static const struct {
    const char *key, *label;
} LABELS[] = {{"train.learning_rate", "lr"}, {"train.batch_size", "batch"}};

static void trim_copy(char *dst, size_t cap, const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    size_t n = (size_t)(e - b) < cap - 1 ? (size_t)(e - b) : cap - 1;
    memcpy(dst, b, n);
    dst[n] = '\0';
}

/* Splits "a, b, c" (or "a,b | c" when any '|' is present) into axis values. */
static int split_values(SweepAxis *a, const char *list, const char *path, Err *err)
{
    char sep = strchr(list, '|') ? '|' : ',';
    a->n_values = 0;
    for (const char *p = list;;) {
        const char *end = strchr(p, sep);
        if (!end) end = p + strlen(p);
        if (a->n_values == SWEEP_MAX_VALUES)
            return err_set(err, "%s:%d: [sweep] %s has more than %d values", path, a->line,
                           a->key, SWEEP_MAX_VALUES);
        char *v = a->value[a->n_values];
        trim_copy(v, sizeof a->value[0], p, end);
        if (!v[0])
            return err_set(err, "%s:%d: [sweep] %s = '%s': an empty value; expected a list of "
                                "values separated by ',' (or by '|' when values hold commas)",
                           path, a->line, a->key, list);
        a->n_values++;
        if (!*end) return 0;
        p = end + 1;
    }
}

/* The key part of a --set assignment, trimmed. */
static void set_key(const char *assignment, char *key, size_t cap)
{
    const char *eq = strchr(assignment, '=');
    trim_copy(key, cap, assignment, eq ? eq : assignment + strlen(assignment));
}

/* Applies the command-line options to cfg (file and sweep values already in). */
static int apply_options(Config *cfg, const SweepOptions *o, Err *err)
{
    if (o->env_device && *o->env_device &&
        config_set_device(cfg, o->env_device, "CLAE_DEVICE", err))
        return -1;
    if (o->device && config_set_device(cfg, o->device, "--device", err)) return -1;
    for (int i = 0; i < o->n_sets; i++)
        if (config_set(cfg, o->sets[i], err)) return -1;
    return 0;
}

/* A run-name piece: characters a name cannot hold become '-'. */
static void name_piece(char *dst, size_t cap, const char *v)
{
    size_t n = 0;
    for (; *v && n + 1 < cap; v++) {
        unsigned char c = (unsigned char)*v;
        dst[n++] = (isalnum(c) || c == '.' || c == '_' || c == '-') ? (char)c : '-';
    }
    dst[n] = '\0';
}

int sweep_load(Sweep *s, const char *path, const SweepOptions *o, Err *err)
{
    memset(s, 0, sizeof *s);
    ConfigSweep *raw = util_malloc(sizeof *raw, err);
    if (!raw) return -1;
    int rc = -1;
    if (config_load_sweep(&s->base, path, raw, err)) goto out;
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->stem, sizeof s->stem, "%s", s->base.name);
    s->repeat = 1;
    int repeat_line = 0;
    for (int i = 0; i < raw->n; i++) {
        const char *key = raw->key[i], *value = raw->value[i];
        if (strcmp(key, "repeat") == 0) {
            char *end = NULL;
            long r = strtol(value, &end, 10);
            if (!*value || *end || r < 1 || r > 10000) {
                err_set(err, "%s:%d: [sweep] repeat = '%s': expected a whole number 1..10000",
                        path, raw->line[i], value);
                goto out;
            }
            s->repeat = (int)r;
            repeat_line = raw->line[i];
            continue;
        }
        if (config_check_key(key, err)) {
            err_prefix(err, "%s:%d: [sweep] key", path, raw->line[i]);
            goto out;
        }
        SweepAxis *a = &s->axis[s->n_axes++];
        snprintf(a->key, sizeof a->key, "%s", key);
        a->line = raw->line[i];
        const char *dot = strchr(key, '.');
        snprintf(a->label, sizeof a->label, "%s", dot + 1);
        for (size_t l = 0; l < sizeof LABELS / sizeof LABELS[0]; l++)
            if (strcmp(LABELS[l].key, key) == 0) snprintf(a->label, sizeof a->label, "%s", LABELS[l].label);
        if (split_values(a, value, path, err)) goto out;
        /* Each value alone must pass its key's validation. */
        for (int v = 0; v < a->n_values; v++) {
            Config c = s->base;
            if (config_assign(&c, key, a->value[v], err)) {
                err_prefix(err, "%s:%d: [sweep] %s", path, a->line, key);
                goto out;
            }
        }
    }
    if (s->n_axes == 0 && s->repeat == 1) {
        err_set(err, "%s: [sweep] has no keys; expected lines such as `train.learning_rate = "
                     "1e-3, 3e-4` (or `repeat = N`)", path);
        goto out;
    }
    for (int i = 0; i < s->n_axes; i++) {
        if (s->repeat > 1 && strcmp(s->axis[i].key, "train.seed") == 0) {
            err_set(err, "%s:%d: [sweep] sweeps train.seed and sets repeat (line %d); use one of "
                         "them", path, s->axis[i].line, repeat_line);
            goto out;
        }
    }
    /* A --set on a swept key would silently make the jobs identical. */
    for (int j = 0; j < o->n_sets; j++) {
        char key[128];
        set_key(o->sets[j], key, sizeof key);
        for (int i = 0; i < s->n_axes; i++)
            if (config_same_key(key, s->axis[i].key)) {
                err_set(err, "--set %s: %s is swept in %s:%d; change the [sweep] line instead",
                        o->sets[j], key, path, s->axis[i].line);
                goto out;
            }
    }
    long jobs = s->repeat;
    for (int i = 0; i < s->n_axes; i++) {
        jobs *= s->axis[i].n_values;
        if (jobs > SWEEP_MAX_JOBS) {
            err_set(err, "%s: the sweep has more than %d jobs; split it", path, SWEEP_MAX_JOBS);
            goto out;
        }
    }
    s->n_jobs = (int)jobs;
    /* Every job must resolve now, so that nothing runs when one cannot. */
    Config *c = util_malloc(sizeof *c, err);
    if (!c) goto out;
    char ov[2048];
    rc = 0;
    for (int j = 0; j < s->n_jobs && rc == 0; j++) rc = sweep_job(s, j, o, c, ov, sizeof ov, err);
    free(c);
out:
    free(raw);
    return rc;
}

int sweep_job(const Sweep *s, int index, const SweepOptions *o, Config *cfg, char *overrides,
              size_t overrides_len, Err *err)
{
    if (index < 0 || index >= s->n_jobs)
        return err_set(err, "job index %d is out of range: %s has %d jobs (0..%d)", index,
                       s->path, s->n_jobs, s->n_jobs - 1);
    *cfg = s->base;
    /* Mixed-radix digits of the index, the last axis fastest after repeat. */
    int rest = index;
    int r = rest % s->repeat;
    rest /= s->repeat;
    int pick[CONFIG_SWEEP_MAX];
    for (int i = s->n_axes - 1; i >= 0; i--) {
        pick[i] = rest % s->axis[i].n_values;
        rest /= s->axis[i].n_values;
    }
    char name[512], piece[220];
    size_t used = 0;
    overrides[0] = '\0';
    name[0] = '\0';
    for (int i = 0; i < s->n_axes; i++) {
        const SweepAxis *a = &s->axis[i];
        const char *v = a->value[pick[i]];
        char set[300];
        snprintf(set, sizeof set, "%s=%s", a->key, v);
        if (config_assign(cfg, a->key, v, err))
            return err_prefix(err, "%s:%d: job %d: [sweep] %s", s->path, a->line, index, a->key);
        int n = snprintf(overrides + used, overrides_len - used, "%s%s", i ? " " : "", set);
        if (n < 0 || (size_t)n >= overrides_len - used)
            return err_set(err, "%s: job %d: its overrides are too long", s->path, index);
        used += (size_t)n;
        name_piece(piece, sizeof piece, v);
        size_t nl = strlen(name);
        snprintf(name + nl, sizeof name - nl, "_%s=%s", a->label, piece);
    }
    if (apply_options(cfg, o, err)) return -1;
    if (s->repeat > 1) {
        /* The seed after every option, so --set train.seed=S gives S, S+1, ... */
        char set[64];
        snprintf(set, sizeof set, "train.seed=%lu", cfg->seed + (unsigned long)r);
        if (config_set(cfg, set, err)) return -1;
        int n = snprintf(overrides + used, overrides_len - used, "%s%s", used ? " " : "", set);
        if (n < 0 || (size_t)n >= overrides_len - used)
            return err_set(err, "%s: job %d: its overrides are too long", s->path, index);
        size_t nl = strlen(name);
        snprintf(name + nl, sizeof name - nl, "_seed=%lu", cfg->seed);
    }
    char set[CONFIG_STR + sizeof name + 16];
    snprintf(set, sizeof set, "output.name=%s%s", cfg->name, name);
    if (config_set(cfg, set, err))
        return err_prefix(err, "%s: job %d: run name", s->path, index);
    if (config_validate(cfg, err)) return err_prefix(err, "%s: job %d (%s)", s->path, index, overrides);
    return 0;
}
