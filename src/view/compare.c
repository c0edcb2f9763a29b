/* compare: see compare.h. */
#define _POSIX_C_SOURCE 200809L
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "exitcode.h"
#include "runs.h"
#include "util.h"

/* ---- a table of strings, printed aligned or as CSV ----------------------- */

typedef struct {
    char **cell;          /* (rows, cols) row-major, row 0 the header; each owned */
    int rows, cols;
    unsigned char *right; /* (cols) 1 = numbers, right-aligned in text */
} Table;

static int table_init(Table *t, int rows, int cols, Err *err)
{
    memset(t, 0, sizeof *t);
    t->cell = util_calloc((size_t)rows * (size_t)cols, sizeof *t->cell, err);
    t->right = util_calloc((size_t)cols, 1, err);
    if (!t->cell || !t->right) return -1;
    t->rows = rows;
    t->cols = cols;
    return 0;
}

static void table_free(Table *t)
{
    if (t->cell)
        for (int i = 0; i < t->rows * t->cols; i++) free(t->cell[i]);
    free(t->cell);
    free(t->right);
    memset(t, 0, sizeof *t);
}

static int table_set(Table *t, int r, int c, const char *s, Err *err)
{
    char **slot = &t->cell[(size_t)r * (size_t)t->cols + (size_t)c];
    free(*slot);
    *slot = strdup(s);
    return *slot ? 0 : err_set(err, "out of memory building the table");
}

static const char *table_get(const Table *t, int r, int c)
{
    const char *s = t->cell[(size_t)r * (size_t)t->cols + (size_t)c];
    return s ? s : "";
}

/* Characters on screen, not bytes: a UTF-8 device name must not push the
 * columns after it out of line. */
static int text_width(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A cell on a terminal: control characters from a hand-edited run.json
 * (a newline, an escape sequence) must not break the line or drive the
 * terminal. */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void table_print(const Table *t, FILE *f, int csv)
{
    int *w = calloc((size_t)t->cols, sizeof *w);
    if (!w) return;
    for (int r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            int n = text_width(table_get(t, r, c));
            if (n > w[c]) w[c] = n;
        }
    for (int r = 0; r < t->rows; r++) {
        int spaces = 0; /* owed before the next text: none trail a line */
        for (int c = 0; c < t->cols; c++) {
            const char *s = table_get(t, r, c);
            if (csv) {
                if (c) fputc(',', f);
                runs_csv_field(f, s);
                continue;
            }
            int pad = w[c] - text_width(s);
            spaces += c ? 2 : 0;
            if (t->right[c]) spaces += pad;
            if (*s) {
                fprintf(f, "%*s", spaces, "");
                put_text(f, s);
                spaces = 0;
            }
            if (!t->right[c]) spaces += pad;
        }
        fputc('\n', f);
    }
    free(w);
}

/* ---- the runs ------------------------------------------------------------ */

typedef struct {
    const RunRecord *s;
    Config *cfg; /* its config.ini, or NULL when there is none to read */
} Item;

/* Lowest test loss first; then the runs without one, by folder name. */
static int by_test_loss(const void *pa, const void *pb)
{
    const RunRecord *a = ((const Item *)pa)->s, *b = ((const Item *)pb)->s;
    int ha = !isnan(a->test_loss), hb = !isnan(b->test_loss);
    if (ha != hb) return hb - ha;
    if (ha && a->test_loss != b->test_loss) return a->test_loss < b->test_loss ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void fmt_num(char *buf, size_t len, double v, const char *text_fmt, int csv)
{
    if (isnan(v)) buf[0] = '\0';
    else snprintf(buf, len, csv ? "%.9g" : text_fmt, v);
}

static int is_name_key(int k)
{
    return strcmp(config_key_section(k), "output") == 0 &&
           (strcmp(config_key_name(k), "root") == 0 || strcmp(config_key_name(k), "name") == 0);
}

/* 1 when key k has at least two values among the configs that are there. */
static int key_differs(const Config *const *cfg, int n, int k)
{
    char first[CONFIG_STR], v[CONFIG_STR];
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (!cfg[i]) continue;
        config_get(cfg[i], config_key_section(k), config_key_name(k), seen ? v : first,
                   CONFIG_STR);
        if (seen && strcmp(v, first) != 0) return 1;
        seen = 1;
    }
    return 0;
}

int compare_differing_keys(const Config *const *cfg, int n, int *keys)
{
    int nd = 0;
    for (int k = 0; k < config_key_count(); k++)
        if (!is_name_key(k) && key_differs(cfg, n, k)) keys[nd++] = k;
    return nd;
}

static int runs_table(const Item *it, int n, int csv, Table *t, Err *err)
{
    int nk = config_key_count(), *keys = util_calloc((size_t)nk, sizeof *keys, err);
    const Config **cfg = util_calloc((size_t)(n ? n : 1), sizeof *cfg, err);
    int nd = 0, rc = -1;
    if (!keys || !cfg) goto out;
    for (int i = 0; i < n; i++) cfg[i] = it[i].cfg;
    nd = compare_differing_keys(cfg, n, keys);
    if (table_init(t, n + 1, 2 + nd + 4, err)) goto out;
    static const char *const tail[] = {"epochs", "train_loss", "test_loss", "img/s"};
    char buf[CONFIG_STR + 64];
    if (table_set(t, 0, 0, "run", err) || table_set(t, 0, 1, "status", err)) goto out;
    for (int j = 0; j < nd; j++) {
        snprintf(buf, sizeof buf, "%s.%s", config_key_section(keys[j]), config_key_name(keys[j]));
        if (table_set(t, 0, 2 + j, buf, err)) goto out;
    }
    for (int j = 0; j < 4; j++) {
        t->right[2 + nd + j] = 1;
        if (table_set(t, 0, 2 + nd + j, tail[j], err)) goto out;
    }
    for (int i = 0; i < n; i++) {
        const RunRecord *s = it[i].s;
        int r = i + 1, c = 2 + nd;
        if (table_set(t, r, 0, s->id, err) || table_set(t, r, 1, runfolder_status_text(s), err)) goto out;
        for (int j = 0; j < nd && it[i].cfg; j++) {
            config_get(it[i].cfg, config_key_section(keys[j]), config_key_name(keys[j]), buf,
                       sizeof buf);
            if (table_set(t, r, 2 + j, buf, err)) goto out;
        }
        if (s->status == RUN_NOT_A_RUN) continue; /* blanks */
        snprintf(buf, sizeof buf, "%d", s->epochs_done);
        if (table_set(t, r, c, buf, err)) goto out;
        fmt_num(buf, sizeof buf, s->train_loss, "%.6g", csv);
        if (table_set(t, r, c + 1, buf, err)) goto out;
        fmt_num(buf, sizeof buf, s->test_loss, "%.6g", csv);
        if (table_set(t, r, c + 2, buf, err)) goto out;
        fmt_num(buf, sizeof buf, s->images_per_second, "%.0f", csv);
        if (table_set(t, r, c + 3, buf, err)) goto out;
    }
    rc = 0;
out:
    free(cfg);
    free(keys);
    return rc;
}

/* ---- --by ---------------------------------------------------------------- */

typedef struct {
    char value[CONFIG_STR];
    int n;
    double sum, sq; /* sum of losses; sum of squared deviations from the mean */
    double best;
    const char *best_run; /* the RunRecord's id; not owned */
} Group;

static int by_mean(const void *pa, const void *pb)
{
    const Group *a = pa, *b = pb;
    double ma = a->sum / a->n, mb = b->sum / b->n;
    if (ma != mb) return ma < mb ? -1 : 1;
    return strcmp(a->value, b->value);
}

static int counts(const RunRecord *s)
{
    return s->status == RUN_COMPLETED && !isnan(s->test_loss);
}

/* One row per value of [section] key among the completed runs; *ng = 0 when
 * there are none. */
static int by_table(const Item *it, int n, const char *section, const char *key,
                    const char *label, int csv, Table *t, int *ng, Err *err)
{
    Group *g = util_calloc((size_t)(n ? n : 1), sizeof *g, err);
    if (!g) return -1;
    char v[CONFIG_STR];
    *ng = 0;
    for (int i = 0; i < n; i++) {
        const RunRecord *s = it[i].s;
        if (!counts(s) || !it[i].cfg) continue;
        config_get(it[i].cfg, section, key, v, sizeof v);
        int j = 0;
        while (j < *ng && strcmp(g[j].value, v) != 0) j++;
        if (j == *ng) {
            snprintf(g[j].value, sizeof g[j].value, "%s", v);
            g[j].best = s->test_loss;
            g[j].best_run = s->id;
            (*ng)++;
        }
        g[j].n++;
        g[j].sum += s->test_loss;
        if (s->test_loss < g[j].best) {
            g[j].best = s->test_loss;
            g[j].best_run = s->id;
        }
    }
    /* the deviations in a second pass, from the mean: no cancellation */
    for (int i = 0; i < n; i++) {
        if (!counts(it[i].s) || !it[i].cfg) continue;
        config_get(it[i].cfg, section, key, v, sizeof v);
        for (int j = 0; j < *ng; j++)
            if (strcmp(g[j].value, v) == 0) {
                double d = it[i].s->test_loss - g[j].sum / g[j].n;
                g[j].sq += d * d;
            }
    }
    qsort(g, (size_t)*ng, sizeof *g, by_mean);
    int rc = -1;
    static const char *const head[] = {"runs", "mean_test_loss", "std_test_loss",
                                       "best_test_loss", "best_run"};
    if (table_init(t, *ng + 1, 6, err) || table_set(t, 0, 0, label, err)) goto out;
    for (int c = 1; c < 6; c++) {
        t->right[c] = c < 5;
        if (table_set(t, 0, c, head[c - 1], err)) goto out;
    }
    for (int j = 0; j < *ng; j++) {
        char buf[64];
        int r = j + 1;
        if (table_set(t, r, 0, g[j].value, err)) goto out;
        snprintf(buf, sizeof buf, "%d", g[j].n);
        if (table_set(t, r, 1, buf, err)) goto out;
        fmt_num(buf, sizeof buf, g[j].sum / g[j].n, "%.6g", csv);
        if (table_set(t, r, 2, buf, err)) goto out;
        fmt_num(buf, sizeof buf, g[j].n > 1 ? sqrt(g[j].sq / (g[j].n - 1)) : NAN, "%.6g", csv);
        if (table_set(t, r, 3, buf, err)) goto out;
        fmt_num(buf, sizeof buf, g[j].best, "%.6g", csv);
        if (table_set(t, r, 4, buf, err) || table_set(t, r, 5, g[j].best_run, err)) goto out;
    }
    rc = 0;
out:
    free(g);
    return rc;
}

/* "section.key" (validated by config_check_key, which allows spaces around
 * the parts) into its trimmed parts. */
static void split_key(const char *dotted, char *sec, char *key, size_t len)
{
    const char *dot = strchr(dotted, '.');
    const char *parts[2][2] = {{dotted, dot}, {dot + 1, dot + strlen(dot)}};
    char *out[2] = {sec, key};
    for (int p = 0; p < 2; p++) {
        const char *a = parts[p][0], *b = parts[p][1];
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        snprintf(out[p], len, "%.*s", (int)(b - a), a);
    }
}

int compare_print(const char *root, const char *by, const char *sweep, int csv)
{
    Err err = {{0}};
    char section[64], key[64], label[130];
    if (by) {
        if (config_check_key(by, &err)) {
            fprintf(stderr, "clae compare: --by %s\n", err.msg);
            return EXIT_USAGE;
        }
        split_key(by, section, key, sizeof section);
        snprintf(label, sizeof label, "%s.%s", section, key);
    }
    struct stat st;
    int missing = stat(root, &st) != 0;
    if (missing || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "clae compare: %s: %s\n", root, missing ? strerror(errno) : "not a folder");
        return EXIT_USAGE;
    }

    RunRecord *runs = NULL;
    int n = 0, rc = EXIT_RUN_FAILED;
    Item *it = NULL;
    Table t = {0};
    if (runs_scan(root, &runs, &n, &err)) goto fail;
    it = util_calloc((size_t)(n ? n : 1), sizeof *it, &err);
    if (!it) goto fail;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!sweep || strcmp(runs[i].sweep, sweep) == 0) it[m++].s = &runs[i];
    if (m == 0) {
        char self[4200];
        snprintf(self, sizeof self, "%s/run.json", root);
        if (sweep) fprintf(stderr, "clae compare: no runs of sweep '%s' in %s\n", sweep, root);
        else if (stat(self, &st) == 0)
            fprintf(stderr, "clae compare: no runs in %s (it is a run folder itself; compare its "
                            "parent)\n", root);
        else fprintf(stderr, "clae compare: no runs in %s\n", root);
        rc = EXIT_OK;
        goto out;
    }
    for (int i = 0; i < m; i++) {
        if (it[i].s->status == RUN_NOT_A_RUN) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/config.ini", it[i].s->folder);
        Config *cfg = util_malloc(sizeof *cfg, &err);
        if (!cfg) goto fail;
        if (config_load(cfg, path, &err)) {
            /* one unreadable config must not hide the other runs */
            fprintf(stderr, "clae compare: warning: %s; its settings are left blank\n", err.msg);
            free(cfg);
            continue;
        }
        it[i].cfg = cfg;
    }
    qsort(it, (size_t)m, sizeof *it, by_test_loss);
    if (by) {
        int ng;
        if (by_table(it, m, section, key, label, csv, &t, &ng, &err)) goto fail;
        if (ng == 0) {
            fprintf(stderr, "clae compare: no completed runs with a test loss in %s\n", root);
            rc = EXIT_OK;
            goto out;
        }
    } else if (runs_table(it, m, csv, &t, &err)) {
        goto fail;
    }
    table_print(&t, stdout, csv);
    if (fflush(stdout) != 0) {
        err_set(&err, "writing the table: %s", strerror(errno));
        goto fail;
    }
    /* What to do about a killed run, beside the table (stdout stays the
     * table alone, for --csv). */
    for (int i = 0; i < m; i++)
        if (it[i].s->status == RUN_STALE)
            fprintf(stderr, "clae compare: %s is stale: %s\n", it[i].s->id, it[i].s->error);
    rc = EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "clae compare: %s\n", err.msg);
out:
    table_free(&t);
    for (int i = 0; it && i < n; i++) free(it[i].cfg);
    free(it);
    free(runs);
    return rc;
}
