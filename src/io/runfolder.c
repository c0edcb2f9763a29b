/* runfolder: see runfolder.h. */
#define _POSIX_C_SOURCE 200809L
#include "runfolder.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "heartbeat.h"
#include "jsonio.h"
#include "pngio.h"

static const char LOSS_HEADER[] = "epoch,train_loss,test_loss,seconds,images_per_second,"
                                  "learning_rate,train_recon,train_kl,test_recon,test_kl\n";

int runfolder_create(RunFolder *rf, const char *root, const char *name, time_t start, Err *err)
{
    memset(rf, 0, sizeof *rf);
    rf->loss_fd = -1;
    if (util_make_dirs(root, err)) return err_prefix(err, "[output] root");
    if (!util_is_dir(root))
        return err_set(err, "[output] root: %s: exists and is not a folder", root);
    struct tm tm;
    localtime_r(&start, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* mkdir is atomic: whoever creates the name owns it, so concurrent runs
     * in the same second (or on a shared file system) each get their own. */
    for (int n = 1; n < 10000; n++) {
        int len = n == 1 ? snprintf(rf->dir, sizeof rf->dir, "%s/%s-%s", root, stamp, name)
                         : snprintf(rf->dir, sizeof rf->dir, "%s/%s-%s-%d", root, stamp, name, n);
        if (len < 0 || (size_t)len >= sizeof rf->dir)
            return err_set(err, "%s/%s-%s: path too long", root, stamp, name);
        if (mkdir(rf->dir, 0777) == 0) return 0;
        if (errno != EEXIST)
            return err_set(err, "%s: cannot create run folder: %s", rf->dir, strerror(errno));
    }
    return err_set(err, "%s/%s-%s: 10000 runs with this name in this second", root, stamp, name);
}

int runfolder_open(RunFolder *rf, const char *dir, Err *err)
{
    memset(rf, 0, sizeof *rf);
    rf->loss_fd = -1;
    if (util_copy(rf->dir, sizeof rf->dir, dir))
        return err_set(err, "%.200s...: path too long", dir);
    return 0;
}

static void join(char *out, size_t len, const RunFolder *rf, const char *file)
{
    snprintf(out, len, "%s/%s", rf->dir, file);
}

int runfolder_write_config(RunFolder *rf, const Config *cfg, Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, rf, "config.ini");
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    config_write(cfg, f);
    return util_atomic_commit(f, tmp, path, err);
}

/* Appends one whole line to loss.csv (see util_append_whole). */
static int loss_append(RunFolder *rf, const char *line, Err *err)
{
    if (util_append_whole(rf->loss_fd, line, strlen(line)) != 0)
        return err_set(err, "%s/loss.csv: write failed: %s", rf->dir, strerror(errno));
    return 0;
}

int runfolder_loss_open(RunFolder *rf, Err *err)
{
    char path[4200];
    join(path, sizeof path, rf, "loss.csv");
    /* O_EXCL: the folder is new, so an existing file would be someone else's. */
    rf->loss_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (rf->loss_fd < 0) return err_set(err, "%s: cannot create: %s", path, strerror(errno));
    return loss_append(rf, LOSS_HEADER, err);
}

/* A number as loss.csv writes it, or nothing for NaN where `optional`
 * (a column the run does not have, such as an autoencoder's KL terms). The
 * losses always show: a diverged run's row says nan or inf. */
static int loss_num(char *buf, size_t len, const char *fmt, double v, int optional)
{
    return optional && isnan(v) ? snprintf(buf, len, ",") : snprintf(buf, len, fmt, v);
}

int runfolder_loss_row(RunFolder *rf, const LossRow *r, Err *err)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%d", r->epoch);
    const double v[LOSS_COLUMNS - 1] = {r->train, r->test, r->seconds, r->ips, r->lr,
                                        r->train_recon, r->train_kl, r->test_recon, r->test_kl};
    const char *const fmt[LOSS_COLUMNS - 1] = {",%.9g", ",%.9g", ",%.3f", ",%.1f", ",%.9g",
                                               ",%.9g", ",%.9g", ",%.9g", ",%.9g"};
    for (int i = 0; i < LOSS_COLUMNS - 1; i++)
        n += loss_num(line + n, sizeof line - (size_t)n, fmt[i], v[i], i >= 4);
    snprintf(line + n, sizeof line - (size_t)n, "\n");
    return loss_append(rf, line, err);
}

int runfolder_history_add(LossHistory *h, int epoch, double train, double test, double train_kl,
                          double test_kl, Err *err)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        int *e = realloc(h->epoch, (size_t)cap * sizeof *e);
        if (e) h->epoch = e;
        double **cols[4] = {&h->train, &h->test, &h->train_kl, &h->test_kl};
        int ok = e != NULL;
        for (int c = 0; ok && c < 4; c++) {
            double *v = realloc(*cols[c], (size_t)cap * sizeof *v);
            if (v) *cols[c] = v;
            ok = v != NULL;
        }
        if (!ok) return err_set(err, "out of memory for the loss history (%d epochs)", cap);
        h->cap = cap;
    }
    h->epoch[h->n] = epoch;
    h->train[h->n] = train;
    h->test[h->n] = test;
    h->train_kl[h->n] = train_kl;
    h->test_kl[h->n] = test_kl;
    h->n++;
    return 0;
}

void runfolder_history_free(LossHistory *h)
{
    if (!h) return;
    free(h->epoch);
    free(h->train);
    free(h->test);
    free(h->train_kl);
    free(h->test_kl);
    memset(h, 0, sizeof *h);
}


void runfolder_loss_free(LossRows *l)
{
    free(l->epoch);
    free(l->train);
    free(l->test);
    free(l->seconds);
    free(l->ips);
    free(l->lr);
    free(l->train_recon);
    free(l->train_kl);
    free(l->test_recon);
    free(l->test_kl);
    memset(l, 0, sizeof *l);
}

/* One numeric field [a, b): 0 and *v (NaN when empty) if it is all number. */
static int parse_field(const char *a, const char *b, double *v)
{
    char buf[64];
    size_t n = (size_t)(b - a);
    if (n == 0) {
        *v = NAN;
        return 0;
    }
    if (n >= sizeof buf) return -1;
    memcpy(buf, a, n);
    buf[n] = '\0';
    char *end = NULL;
    *v = strtod(buf, &end);
    return *end == '\0' ? 0 : -1;
}

/* Whether the line [p, e) (no newline) is a loss.csv row: 3 to
 * LOSS_COLUMNS fields, each a number or empty, the first a whole epoch
 * number 0..1e9. The fields go to f (NaN where empty or absent). The page
 * and --resume both judge rows by this, so they never disagree on what a
 * row is. */
static int loss_line(const char *p, const char *e, double f[LOSS_COLUMNS])
{
    for (int i = 0; i < LOSS_COLUMNS; i++) f[i] = NAN;
    int nf = 0, ok = 1;
    for (const char *a = p; ok; nf++) {
        const char *b = memchr(a, ',', (size_t)(e - a));
        if (!b) b = e;
        ok = nf < LOSS_COLUMNS && parse_field(a, b, &f[nf]) == 0;
        if (b == e) {
            nf++;
            break;
        }
        a = b + 1;
    }
    return ok && nf >= 3 && !isnan(f[0]) && f[0] == floor(f[0]) && f[0] >= 0 && f[0] <= 1e9;
}

/* The next line of [*p, end) that holds something: its content in [*a, *e)
 * (without "\r\n"); 0 at the end. A last line without its newline does not
 * count (*cut set): it may be a row still being written, and a cut number
 * would parse as a wrong one. */
static int next_line(const char **p, const char *end, const char **a, const char **e, int *cut)
{
    while (*p < end) {
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        if (!nl) {
            *cut = 1;
            *p = end;
            return 0;
        }
        *a = *p;
        *e = nl > *p && nl[-1] == '\r' ? nl - 1 : nl;
        *p = nl + 1;
        if (*e > *a) return 1; /* blank lines say nothing */
    }
    return 0;
}

int runfolder_loss_parse(const char *text, size_t len, LossRows *l, Err *err)
{
    memset(l, 0, sizeof *l);
    int cap = 0, line = 0, cut = 0;
    const char *p = text, *end = text + len, *a, *e;
    while (next_line(&p, end, &a, &e, &cut)) {
        double f[LOSS_COLUMNS];
        line++;
        if (!loss_line(a, e, f)) {
            if (line > 1) l->skipped++; /* line 1 is the header */
            continue;
        }
        if (l->n == cap) {
            int nc = cap ? cap * 2 : 64;
            int *ep = realloc(l->epoch, (size_t)nc * sizeof *ep);
            if (ep) l->epoch = ep;
            double **cols[LOSS_COLUMNS - 1] = {&l->train,    &l->test,     &l->seconds,
                                               &l->ips,      &l->lr,       &l->train_recon,
                                               &l->train_kl, &l->test_recon, &l->test_kl};
            int grown = ep != NULL;
            for (int c = 0; c < LOSS_COLUMNS - 1 && grown; c++) {
                double *q = realloc(*cols[c], (size_t)nc * sizeof *q);
                if (q) *cols[c] = q;
                else grown = 0;
            }
            if (!grown) {
                runfolder_loss_free(l);
                return err_set(err, "loss.csv: out of memory at line %d", line);
            }
            cap = nc;
        }
        l->epoch[l->n] = (int)f[0];
        l->train[l->n] = f[1];
        l->test[l->n] = f[2];
        l->seconds[l->n] = f[3];
        l->ips[l->n] = f[4];
        l->lr[l->n] = f[5];
        l->train_recon[l->n] = f[6];
        l->train_kl[l->n] = f[7];
        l->test_recon[l->n] = f[8];
        l->test_kl[l->n] = f[9];
        l->n++;
    }
    l->skipped += cut;
    return 0;
}

int runfolder_loss_resume(RunFolder *rf, int keep, LossHistory *h, Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, rf, "loss.csv");
    size_t len = 0;
    char *text = util_read_file(path, &len, err);
    if (!text) return -1;
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) {
        free(text);
        return -1;
    }
    fputs(LOSS_HEADER, f);
    int next = 1, rc = 0, cut = 0, line = 0;
    const char *p = text, *end = text + len, *a, *e;
    while (next <= keep && next_line(&p, end, &a, &e, &cut)) {
        double r[LOSS_COLUMNS];
        int row = loss_line(a, e, r);
        if (++line == 1 && !row) continue; /* the header */
        if (!row || r[0] != next) break;
        fwrite(a, 1, (size_t)(e - a), f);
        fputc('\n', f);
        if (runfolder_history_add(h, next, r[1], r[2], r[7], r[9], err)) {
            rc = -1;
            break;
        }
        next++;
    }
    free(text);
    if (rc == 0 && next <= keep)
        rc = err_set(err, "%s: has no row for epoch %d, which the checkpoint has completed", path,
                     next);
    if (rc) {
        util_atomic_abort(f, tmp);
        return -1;
    }
    if (util_atomic_commit(f, tmp, path, err)) return -1;
    rf->loss_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (rf->loss_fd < 0)
        return err_set(err, "%s: cannot open for appending: %s", path, strerror(errno));
    return 0;
}

void runfolder_latent_csv(FILE *f, const float *z, const unsigned char *labels, int n, int k)
{
    fprintf(f, "index,label");
    for (int j = 0; j < k; j++) fprintf(f, ",z%d", j + 1);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        if (labels) fprintf(f, "%d,%d", i, labels[i]);
        else fprintf(f, "%d,", i);
        for (int j = 0; j < k; j++) fprintf(f, ",%.7g", z[(size_t)i * (size_t)k + (size_t)j]);
        fputc('\n', f);
    }
}

int runfolder_write_latent(RunFolder *rf, const float *z, const unsigned char *labels, int n,
                           int k, Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, rf, "latent.csv");
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    runfolder_latent_csv(f, z, labels, n, k);
    return util_atomic_commit(f, tmp, path, err);
}

int runfolder_read_latent(const char *path, int *kp, float **z, unsigned char **labels, int *n,
                          Err *err)
{
    *z = NULL;
    *n = 0;
    if (labels) *labels = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    float *v = NULL;
    unsigned char *lab = NULL;
    int rows = 0, room = 0, lineno = 1, labelled = 0, k = *kp;
    if (getline(&line, &cap, f) < 0) {
        err_set(err, "%s: empty; expected the header index,label,z1,...", path);
        goto fail;
    }
    /* The header: index,label,z1,...,zk exactly (k counted when *kp is 0). */
    line[strcspn(line, "\r\n")] = '\0';
    char want[64];
    const char *h = line;
    int ok = strncmp(h, "index,label", 11) == 0;
    h += ok ? 11 : 0;
    if (k <= 0)
        for (k = 0; ok && *h && k < 1 << 20; k++) {
            snprintf(want, sizeof want, ",z%d", k + 1);
            size_t len = strlen(want);
            if (strncmp(h, want, len) != 0) break;
            h += len;
        }
    else
        for (int j = 1; ok && j <= k; j++) {
            snprintf(want, sizeof want, ",z%d", j);
            size_t len = strlen(want);
            ok = strncmp(h, want, len) == 0;
            h += ok ? len : 0;
        }
    if (!ok || *h || k < 1) {
        if (*kp > 0)
            err_set(err, "%s:1: header '%s': expected index,label,z1,...,z%d for this model's %d "
                         "latent values", path, line, k, k);
        else
            err_set(err, "%s:1: header '%s': expected index,label,z1,...,zK", path, line);
        goto fail;
    }
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (line[strspn(line, " \r\n")] == '\0') continue;
        if (rows == room) {
            room = room ? 2 * room : 1024;
            float *grown = realloc(v, (size_t)room * (size_t)k * sizeof *v);
            if (grown) v = grown;
            unsigned char *lgrown = grown ? realloc(lab, (size_t)room) : NULL;
            if (lgrown) lab = lgrown;
            if (!lgrown) {
                err_set(err, "%s: out of memory at line %d", path, lineno);
                goto fail;
            }
        }
        /* index, then the label (empty for unlabelled data), then k numbers. */
        char *p = strchr(line, ',');
        char *q = p ? strchr(p + 1, ',') : NULL;
        if (p && q && q > p + 1) {
            char *end = NULL;
            long l = strtol(p + 1, &end, 10);
            if (end != q || l < 0 || l > 255) {
                err_set(err, "%s:%d: label '%.*s': expected a whole number 0..255 or nothing", path,
                        lineno, (int)(q - p - 1), p + 1);
                goto fail;
            }
            lab[rows] = (unsigned char)l;
            labelled = 1;
        } else {
            lab[rows] = 255; /* unlabelled */
        }
        p = q;
        for (int j = 0; j < k; j++) {
            char *end = NULL;
            float val = p ? strtof(p + 1, &end) : NAN;
            if (!p || end == p + 1 || !isfinite(val) || (*end != ',' && j < k - 1) ||
                (j == k - 1 && end[strspn(end, "\r\n")] != '\0')) {
                err_set(err, "%s:%d: expected index,label and %d finite numbers", path, lineno, k);
                goto fail;
            }
            v[(size_t)rows * (size_t)k + (size_t)j] = val;
            p = end;
        }
        rows++;
    }
    if (ferror(f)) {
        err_set(err, "%s: read failed: %s", path, strerror(errno));
        goto fail;
    }
    free(line);
    fclose(f);
    *z = v;
    *n = rows;
    *kp = k;
    if (labels && labelled) *labels = lab;
    else free(lab);
    return 0;
fail:
    free(line);
    free(v);
    free(lab);
    fclose(f);
    return -1;
}

int runfolder_write_recon(RunFolder *rf, int epoch, const float *orig, const float *recon,
                          int count, int channels, int rows, int cols, Err *err)
{
    /* one picture of 2 x count images: the originals, then their reconstructions */
    size_t D = (size_t)channels * (size_t)rows * (size_t)cols;
    float *both = util_malloc(2 * (size_t)count * D * sizeof *both, err);
    if (!both) return -1;
    memcpy(both, orig, (size_t)count * D * sizeof *both);
    memcpy(both + (size_t)count * D, recon, (size_t)count * D * sizeof *both);
    char name[64], path[4200];
    snprintf(name, sizeof name, "recon-epoch-%03d.png", epoch);
    join(path, sizeof path, rf, name);
    int rc = pngio_write_tiles(path, both, count, 2, channels, rows, cols, 2, 2, err);
    free(both);
    return rc;
}

int runfolder_write_denoise(RunFolder *rf, const float *clean, const float *noisy,
                            const float *recon, int count, int channels, int rows, int cols,
                            Err *err)
{
    size_t n = (size_t)count * (size_t)channels * (size_t)rows * (size_t)cols;
    float *all = util_malloc(3 * n * sizeof *all, err);
    if (!all) return -1;
    memcpy(all, clean, n * sizeof *all);
    memcpy(all + n, noisy, n * sizeof *all);
    memcpy(all + 2 * n, recon, n * sizeof *all);
    char path[4200];
    join(path, sizeof path, rf, "denoise.png");
    int rc = pngio_write_tiles(path, all, count, 3, channels, rows, cols, 2, 2, err);
    free(all);
    return rc;
}

void runfolder_close(RunFolder *rf)
{
    if (rf && rf->loss_fd >= 0) close(rf->loss_fd);
    if (rf) rf->loss_fd = -1;
}

/* ---- run.json ------------------------------------------------------------ */

/* run.json is a few hundred bytes; anything much bigger is not ours, and
 * reading it whole would only cost memory. */
#define RUNFOLDER_JSON_MAX (1 << 20)

static const char *const STATUS_NAMES[RUN_STATUS_COUNT] = {
    [RUN_RUNNING] = "running",         [RUN_COMPLETED] = "completed",
    [RUN_FAILED] = "failed",           [RUN_DIVERGED] = "diverged",
    [RUN_INTERRUPTED] = "interrupted", [RUN_STALE] = "stale",
    [RUN_NOT_A_RUN] = "not a run",     [RUN_OTHER] = "other",
    [RUN_SKIPPED] = "skipped",         [RUN_NOT_RUN] = "not run",
    [RUN_CONFIG_ERROR] = "config error", [RUN_KILLED] = "killed",
};

const char *runfolder_status_name(RunStatus s)
{
    return (unsigned)s < RUN_STATUS_COUNT ? STATUS_NAMES[s] : "other";
}

const char *runfolder_status_text(const RunRecord *r)
{
    return r->status == RUN_OTHER ? r->status_word : runfolder_status_name(r->status);
}

void runfolder_device_label(const RunRecord *r, char *buf, size_t len)
{
    if (r->device_index[0] && r->device_name[0])
        snprintf(buf, len, "%s %s", r->device_index, r->device_name);
    else
        snprintf(buf, len, "%s", r->device_index[0] ? r->device_index : r->device_name);
}

void runfolder_iso_time(char *buf, size_t len, time_t t)
{
    if (t == 0) {
        if (len) buf[0] = '\0';
        return;
    }
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* run.json's "config": every key of cfg as config_get writes it, in
 * config.ini's order, or null. */
static json_t *config_json(const Config *cfg, int *failed)
{
    if (!cfg) return json_null();
    json_t *o = json_object();
    if (!o) return NULL;
    char key[160], value[4 * CONFIG_STR];
    for (int i = 0; i < config_key_count(); i++) {
        const char *sec = config_key_section(i), *name = config_key_name(i);
        if (config_get(cfg, sec, name, value, sizeof value)) continue;
        snprintf(key, sizeof key, "%s.%s", sec, name);
        jsonio_put(o, key, jsonio_string(value), failed);
    }
    return o;
}

/* A nested object of run.json, or NULL when out of memory. */
static json_t *new_object(int *failed)
{
    json_t *o = json_object();
    if (!o) *failed = 1;
    return o;
}

/* run.json as a JSON object, members in the order the file has always had
 * them; NULL when out of memory. */
static json_t *record_json(const RunRecord *r)
{
    int failed = 0;
    json_t *o = json_object(), *sub;
    if (!o) return NULL;
    jsonio_put(o, "status", jsonio_string(runfolder_status_text(r)), &failed);
    jsonio_put(o, "name", jsonio_string(r->name), &failed);
    jsonio_put(o, "start_time", jsonio_string(r->start), &failed);
    jsonio_put(o, "end_time", jsonio_string_or_null(r->end), &failed);
    if ((sub = new_object(&failed))) {
        jsonio_put(sub, "platform", jsonio_string(r->platform), &failed);
        jsonio_put(sub, "index", jsonio_string(r->device_index), &failed);
        jsonio_put(sub, "name", jsonio_string(r->device_name), &failed);
        jsonio_put(sub, "opencl_version", jsonio_string(r->device_version), &failed);
        jsonio_put(sub, "driver_version", jsonio_string(r->driver_version), &failed);
    }
    jsonio_put(o, "device", sub, &failed);
    jsonio_put(o, "clblast_version", jsonio_string(r->clblast_version), &failed);
    jsonio_put(o, "kernel_dir", jsonio_string(r->kernel_dir), &failed);
    jsonio_put(o, "kernel_dir_source", jsonio_string(r->kernel_dir_source), &failed);
    if (r->tuning_source) {
        if ((sub = new_object(&failed))) {
            jsonio_put(sub, "source", jsonio_string(r->tuning_source), &failed);
            jsonio_put(sub, "path", jsonio_string(r->tuning_path), &failed);
            jsonio_put(sub, "hash", jsonio_string(r->tuning_hash), &failed);
            jsonio_put(sub, "note", jsonio_string(r->tuning_note), &failed);
        }
        jsonio_put(o, "tuning", sub, &failed);
    }
    jsonio_put(o, "epochs_completed", jsonio_integer(r->epochs_done), &failed);
    jsonio_put(o, "epochs", jsonio_integer(r->epochs), &failed);
    jsonio_put(o, "train_images", jsonio_integer(r->train_images), &failed);
    jsonio_put(o, "test_images", jsonio_integer(r->test_images), &failed);
    jsonio_put(o, "input_values", jsonio_integer(r->input_values), &failed);
    jsonio_put(o, "image_rows", jsonio_integer(r->image_rows), &failed);
    jsonio_put(o, "image_cols", jsonio_integer(r->image_cols), &failed);
    jsonio_put(o, "image_channels", jsonio_integer(r->image_channels), &failed);
    jsonio_put(o, "final_train_loss", jsonio_number(r->train_loss), &failed);
    jsonio_put(o, "final_test_loss", jsonio_number(r->test_loss), &failed);
    jsonio_put(o, "seconds", jsonio_number(r->seconds), &failed);
    jsonio_put(o, "images_per_second", jsonio_number(r->images_per_second), &failed);
    jsonio_put(o, "command_line", jsonio_string(r->command_line), &failed);
    jsonio_put(o, "overrides", jsonio_string(r->overrides), &failed);
    jsonio_put(o, "config", config_json(r->config, &failed), &failed);
    sub = json_null();
    if (r->sweep[0] && (sub = new_object(&failed))) {
        jsonio_put(sub, "name", jsonio_string(r->sweep), &failed);
        jsonio_put(sub, "index", jsonio_integer(r->sweep_index), &failed);
        jsonio_put(sub, "count", jsonio_integer(r->sweep_count), &failed);
    }
    jsonio_put(o, "sweep", sub, &failed);
    jsonio_put(o, "resumes", jsonio_integer(r->resumes), &failed);
    sub = json_null();
    if (r->resumed_at[0] && (sub = new_object(&failed))) {
        jsonio_put(sub, "time", jsonio_string(r->resumed_at), &failed);
        jsonio_put(sub, "from_epoch", jsonio_integer(r->resumed_from_epoch), &failed);
        jsonio_put(sub, "from_step", jsonio_integer(r->resumed_from_step), &failed);
    }
    jsonio_put(o, "resumed", sub, &failed);
    sub = json_null();
    if (r->process.pid && (sub = new_object(&failed))) {
        jsonio_put(sub, "host", jsonio_string(r->process.host), &failed);
        jsonio_put(sub, "pid", jsonio_integer(r->process.pid), &failed);
        jsonio_put(sub, "start", jsonio_integer((long long)r->process.start), &failed);
        jsonio_put(sub, "boot_id", jsonio_string(r->process.boot_id), &failed);
    }
    jsonio_put(o, "process", sub, &failed);
    jsonio_put(o, "heartbeat", r->heartbeat > 0 ? jsonio_integer(r->heartbeat) : json_null(),
               &failed);
    jsonio_put(o, "kernel_cache", jsonio_string(r->kernel_cache), &failed);
    sub = json_null();
    if (r->data_mode[0] && (sub = new_object(&failed))) {
        /* the mode is the line's first word: "resident" or "streamed" */
        char mode[32];
        snprintf(mode, sizeof mode, "%.*s", (int)strcspn(r->data_mode, ":"), r->data_mode);
        jsonio_put(sub, "mode", jsonio_string(mode), &failed);
        jsonio_put(sub, "why", jsonio_string(r->data_mode), &failed);
        jsonio_put(sub, "bytes", jsonio_number(r->data_device_bytes), &failed);
        jsonio_put(sub, "budget", jsonio_number(r->data_budget), &failed);
    }
    jsonio_put(o, "device_data", sub, &failed);
    sub = json_null();
    if (r->early_stop[0] && (sub = new_object(&failed))) {
        jsonio_put(sub, "reason", jsonio_string(r->early_stop), &failed);
        jsonio_put(sub, "best_epoch", jsonio_integer(r->best_epoch), &failed);
        jsonio_put(sub, "best_test_loss", jsonio_number(r->best_test_loss), &failed);
    }
    jsonio_put(o, "early_stop", sub, &failed);
    jsonio_put(o, "error", jsonio_string_or_null(r->error), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int runfolder_write_json(const RunRecord *r, Err *err)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/run.json", r->folder);
    json_t *doc = record_json(r);
    if (!doc) return err_set(err, "%s: out of memory", path);
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) {
        json_decref(doc);
        return -1;
    }
    int rc = jsonio_write(f, doc);
    json_decref(doc);
    if (rc) {
        util_atomic_abort(f, tmp);
        return err_set(err, "%s: out of memory", path);
    }
    return util_atomic_commit(f, tmp, path, err);
}

/* The members of run.json that a reader uses, into r (err: the first one of
 * the wrong type). Members it does not know are left alone, so that a
 * run.json of a later clae stays readable. */
static int record_read(const JsonObj *top, RunRecord *r, char *status, size_t status_cap,
                       Err *err)
{
    JsonObj sub;
    double v;
    if (jsonio_str(top, "status", status, status_cap, 0, err) ||
        jsonio_str(top, "name", r->name, sizeof r->name, 0, err) ||
        jsonio_str(top, "start_time", r->start, sizeof r->start, 1, err) ||
        jsonio_str(top, "end_time", r->end, sizeof r->end, 1, err) ||
        jsonio_int(top, "epochs_completed", &r->epochs_done, err) ||
        jsonio_int(top, "resumes", &r->resumes, err) ||
        jsonio_int(top, "epochs", &r->epochs, err) ||
        jsonio_int(top, "input_values", &r->input_values, err) ||
        jsonio_int(top, "image_rows", &r->image_rows, err) ||
        jsonio_int(top, "image_cols", &r->image_cols, err) ||
        jsonio_int(top, "image_channels", &r->image_channels, err) ||
        jsonio_num(top, "final_train_loss", &r->train_loss, 1, err) ||
        jsonio_num(top, "final_test_loss", &r->test_loss, 1, err) ||
        jsonio_num(top, "images_per_second", &r->images_per_second, 1, err) ||
        jsonio_num(top, "seconds", &r->seconds, 1, err) ||
        jsonio_str(top, "overrides", r->overrides, sizeof r->overrides, 1, err) ||
        jsonio_str(top, "error", r->error, sizeof r->error, 1, err) ||
        jsonio_str(top, "kernel_cache", r->kernel_cache, sizeof r->kernel_cache, 1, err))
        return -1;
    if (jsonio_obj(top, "device", 0, &sub, err) ||
        jsonio_str(&sub, "index", r->device_index, sizeof r->device_index, 0, err) ||
        jsonio_str(&sub, "name", r->device_name, sizeof r->device_name, 0, err))
        return -1;
    /* process, sweep and early_stop: null, or an object */
    if (jsonio_obj(top, "process", 1, &sub, err) ||
        jsonio_str(&sub, "host", r->process.host, sizeof r->process.host, 0, err) ||
        jsonio_str(&sub, "boot_id", r->process.boot_id, sizeof r->process.boot_id, 0, err))
        return -1;
    v = 0;
    if (jsonio_count(&sub, "pid", &v, err)) return -1;
    if (v > 1e9) return jsonio_fail(&sub, "pid", err, "%.0f is not a pid", v);
    r->process.pid = (long)v;
    v = 0;
    if (jsonio_count(&sub, "start", &v, err)) return -1;
    r->process.start = (unsigned long long)v;
    /* null: a run that was not given one; absent: a clae before heartbeats */
    v = NAN;
    if (jsonio_num(top, "heartbeat", &v, 1, err)) return -1;
    if (!isnan(v) && !(v >= 1 && v <= 86400 && v == floor(v)))
        return jsonio_fail(top, "heartbeat", err, "expected whole seconds 1..86400 or null");
    r->heartbeat = isnan(v) ? 0 : (int)v;
    if (jsonio_obj(top, "sweep", 1, &sub, err) ||
        jsonio_str(&sub, "name", r->sweep, sizeof r->sweep, 0, err) ||
        jsonio_int(&sub, "index", &r->sweep_index, err))
        return -1;
    if (jsonio_obj(top, "device_data", 1, &sub, err) ||
        jsonio_str(&sub, "why", r->data_mode, sizeof r->data_mode, 0, err) ||
        jsonio_num(&sub, "bytes", &r->data_device_bytes, 1, err) ||
        jsonio_num(&sub, "budget", &r->data_budget, 1, err))
        return -1;
    if (jsonio_obj(top, "early_stop", 1, &sub, err) ||
        jsonio_str(&sub, "reason", r->early_stop, sizeof r->early_stop, 0, err) ||
        jsonio_int(&sub, "best_epoch", &r->best_epoch, err) ||
        jsonio_num(&sub, "best_test_loss", &r->best_test_loss, 1, err))
        return -1;
    return 0;
}

void runfolder_record_init(RunRecord *r, const char *folder)
{
    memset(r, 0, sizeof *r);
    snprintf(r->folder, sizeof r->folder, "%s", folder);
    /* the id is the last component, whatever slashes end the path */
    size_t n = strlen(folder);
    while (n > 1 && folder[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && folder[b - 1] != '/') b--;
    snprintf(r->id, sizeof r->id, "%.*s", (int)(n - b), folder + b);
    r->status = RUN_NOT_A_RUN;
    r->train_loss = r->test_loss = r->images_per_second = r->seconds = NAN;
    r->best_test_loss = NAN;
    r->data_device_bytes = r->data_budget = NAN;
    r->sweep_index = -1;
    r->alive = -1;
    r->heartbeat_age = NAN;
}

static int not_a_run(RunRecord *r, const char *path, Err *err, const char *why)
{
    char folder[sizeof r->folder];
    memcpy(folder, r->folder, sizeof folder);
    runfolder_record_init(r, folder);
    snprintf(r->error, sizeof r->error, "%s", why);
    return err_set(err, "%s: not a run: %s", path, why);
}

/* A "running" run whose process is gone: what happened and what to type.
 * why: how we know ("its process 123 on node7 is gone (killed, or out of
 * time)", or the heartbeat's verdict). */
static void mark_stale(RunRecord *r, const char *why)
{
    char ckpt[4200];
    struct stat st;
    snprintf(ckpt, sizeof ckpt, "%s/model.ckpt", r->folder);
    int has_ckpt = stat(ckpt, &st) == 0 && S_ISREG(st.st_mode);
    r->status = RUN_STALE;
    r->alive = 0;
    Err e; /* err_set cuts a very long folder path short, still one line */
    if (has_ckpt)
        err_set(&e, "run.json says running, but %s; %d of %d epochs were done; continue with: "
                    "clae train --resume %s", why, r->epochs_done, r->epochs, r->folder);
    else
        err_set(&e, "run.json says running, but %s before it wrote a checkpoint ([output] "
                    "checkpoint_every); start it again with: clae train %s/config.ini", why,
                r->folder);
    util_copy(r->error, sizeof r->error, e.msg);
}

/* Whether a running run still runs: its process asked directly on its own
 * host (pid, start time, boot), else its heartbeat judged. */
static void judge_running(RunRecord *r)
{
    char why[700];
    int alive = proc_alive(&r->process);
    if (alive == 0) {
        util_fmt(why, sizeof why, "its process %ld on %s is gone (killed, or out of time)",
                 r->process.pid, r->process.host);
        mark_stale(r, why);
        return;
    }
    r->alive = alive;
    if (alive == 1 || r->heartbeat <= 0) return; /* this host's word is exact; or no beat */
    char verdict[512];
    if (heartbeat_judge(r->folder, heartbeat_clock(), &r->heartbeat_age, verdict,
                        sizeof verdict) == 0) {
        r->alive = 1;
        return;
    }
    if (r->process.host[0])
        util_fmt(why, sizeof why, "its process %ld on %s gives no sign of life: %s",
                 r->process.pid, r->process.host, verdict);
    else
        util_fmt(why, sizeof why, "its process gives no sign of life: %s", verdict);
    mark_stale(r, why);
}

/* The status word of run.json: the five a run writes, else RUN_OTHER. */
static RunStatus status_of(const char *word)
{
    for (RunStatus s = RUN_RUNNING; s <= RUN_INTERRUPTED; s++)
        if (strcmp(word, STATUS_NAMES[s]) == 0) return s;
    return RUN_OTHER;
}

int runfolder_read(const char *folder, RunRecord *r, Err *err)
{
    runfolder_record_init(r, folder);
    char path[4200], why[512];
    snprintf(path, sizeof path, "%s/run.json", folder);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, sizeof why, errno == ENOENT ? "no run.json" : "run.json: %s",
                 strerror(errno));
        return not_a_run(r, path, err, why);
    }
    if (!S_ISREG(st.st_mode)) return not_a_run(r, path, err, "run.json is not a file");
    if (st.st_size > RUNFOLDER_JSON_MAX) return not_a_run(r, path, err, "run.json is too large");
    size_t len;
    Err rerr = {{0}};
    char *text = util_read_file(path, &len, &rerr);
    if (!text) return not_a_run(r, path, err, rerr.msg);

    /* the reason goes into r->error and tables: "run.json:LINE:COL: what" for
     * text that is not JSON, "run.json: \"member\": what" for a member clae
     * cannot use */
    char status[32] = ""; /* the status word as written */
    Err e = {{0}};
    json_t *doc = jsonio_parse(text, len, &e);
    free(text);
    if (!doc) {
        util_fmt(why, sizeof why, "run.json:%s", e.msg);
        return not_a_run(r, path, err, why);
    }
    JsonObj top = jsonio_top(doc);
    int rc = record_read(&top, r, status, sizeof status, &e);
    if (rc == 0 && !status[0]) rc = err_set(&e, "no \"status\": not written by clae train");
    if (rc == 0 && !jsonio_has(&top, "name"))
        rc = err_set(&e, "no \"name\": not written by clae train");
    /* Every image was gray before run.json said how many channels it had. */
    int seen_channels = jsonio_has(&top, "image_channels");
    json_decref(doc);
    if (rc) {
        util_fmt(why, sizeof why, "run.json: %s", e.msg);
        return not_a_run(r, path, err, why);
    }
    if (!seen_channels) r->image_channels = r->image_rows > 0 ? 1 : 0;
    r->status = status_of(status);
    if (r->status == RUN_OTHER) util_copy(r->status_word, sizeof r->status_word, status);
    if (r->status == RUN_RUNNING) judge_running(r);
    return 0;
}
