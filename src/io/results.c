/* results: see results.h. */
#define _POSIX_C_SOURCE 200809L
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "png.h"

static const char LOSS_HEADER[] = "epoch,train_loss,test_loss,seconds,images_per_second\n";

/* mkdir -p: every missing parent of path, then path itself (existing is fine). */
static int mkdir_parents(const char *path, Err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return err_set(err, "%s: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return err_set(err, "%s: cannot create folder: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return err_set(err, "%s: cannot create folder: %s", tmp, strerror(errno));
    if (!util_is_dir(tmp)) return err_set(err, "%s: exists and is not a folder", tmp);
    return 0;
}

int results_create(Run *run, const char *root, const char *name, time_t start, Err *err)
{
    memset(run, 0, sizeof *run);
    run->loss_fd = -1;
    if (mkdir_parents(root, err)) return err_prefix(err, "[output] root");
    struct tm tm;
    localtime_r(&start, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* mkdir is atomic: whoever creates the name owns it, so concurrent runs
     * in the same second (or on a shared file system) each get their own. */
    for (int n = 1; n < 10000; n++) {
        int len = n == 1 ? snprintf(run->dir, sizeof run->dir, "%s/%s-%s", root, stamp, name)
                         : snprintf(run->dir, sizeof run->dir, "%s/%s-%s-%d", root, stamp, name, n);
        if (len < 0 || (size_t)len >= sizeof run->dir)
            return err_set(err, "%s/%s-%s: path too long", root, stamp, name);
        if (mkdir(run->dir, 0777) == 0) return 0;
        if (errno != EEXIST)
            return err_set(err, "%s: cannot create run folder: %s", run->dir, strerror(errno));
    }
    return err_set(err, "%s/%s-%s: 10000 runs with this name in this second", root, stamp, name);
}

static void join(char *out, size_t len, const Run *run, const char *file)
{
    snprintf(out, len, "%s/%s", run->dir, file);
}

int results_write_config(Run *run, const Config *cfg, Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, run, "config.ini");
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    config_write(cfg, f);
    return util_atomic_commit(f, tmp, path, err);
}

/* Appends one whole line to loss.csv (see util_append_whole). */
static int loss_append(Run *run, const char *line, Err *err)
{
    if (util_append_whole(run->loss_fd, line, strlen(line)) != 0)
        return err_set(err, "%s/loss.csv: write failed: %s", run->dir, strerror(errno));
    return 0;
}

int results_loss_open(Run *run, Err *err)
{
    char path[4200];
    join(path, sizeof path, run, "loss.csv");
    /* O_EXCL: the folder is new, so an existing file would be someone else's. */
    run->loss_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (run->loss_fd < 0) return err_set(err, "%s: cannot create: %s", path, strerror(errno));
    return loss_append(run, LOSS_HEADER, err);
}

int results_loss_row(Run *run, int epoch, double train, double test, double seconds, double ips,
                     Err *err)
{
    char line[256];
    snprintf(line, sizeof line, "%d,%.9g,%.9g,%.3f,%.1f\n", epoch, train, test, seconds, ips);
    return loss_append(run, line, err);
}

int results_history_add(LossHistory *h, int epoch, double train, double test, Err *err)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        int *e = realloc(h->epoch, (size_t)cap * sizeof *e);
        if (e) h->epoch = e;
        double *tr = e ? realloc(h->train, (size_t)cap * sizeof *tr) : NULL;
        if (tr) h->train = tr;
        double *te = tr ? realloc(h->test, (size_t)cap * sizeof *te) : NULL;
        if (te) h->test = te;
        if (!te) return err_set(err, "out of memory for the loss history (%d epochs)", cap);
        h->cap = cap;
    }
    h->epoch[h->n] = epoch;
    h->train[h->n] = train;
    h->test[h->n] = test;
    h->n++;
    return 0;
}

void results_history_free(LossHistory *h)
{
    if (!h) return;
    free(h->epoch);
    free(h->train);
    free(h->test);
    memset(h, 0, sizeof *h);
}


void results_loss_free(LossRows *l)
{
    free(l->epoch);
    free(l->train);
    free(l->test);
    free(l->seconds);
    free(l->ips);
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

/* Whether the line [p, e) (no newline) is a loss.csv row: 3 to 5 fields,
 * each a number or empty, the first a whole epoch number 0..1e9. The
 * fields go to f (NaN where empty or absent). The page and --resume both
 * judge rows by this, so they never disagree on what a row is. */
static int loss_line(const char *p, const char *e, double f[5])
{
    for (int i = 0; i < 5; i++) f[i] = NAN;
    int nf = 0, ok = 1;
    for (const char *a = p; ok; nf++) {
        const char *b = memchr(a, ',', (size_t)(e - a));
        if (!b) b = e;
        ok = nf < 5 && parse_field(a, b, &f[nf]) == 0;
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

int results_loss_parse(const char *text, size_t len, LossRows *l, Err *err)
{
    memset(l, 0, sizeof *l);
    int cap = 0, line = 0, cut = 0;
    const char *p = text, *end = text + len, *a, *e;
    while (next_line(&p, end, &a, &e, &cut)) {
        double f[5];
        line++;
        if (!loss_line(a, e, f)) {
            if (line > 1) l->skipped++; /* line 1 is the header */
            continue;
        }
        if (l->n == cap) {
            int nc = cap ? cap * 2 : 64;
            int *ep = realloc(l->epoch, (size_t)nc * sizeof *ep);
            if (ep) l->epoch = ep;
            double **cols[4] = {&l->train, &l->test, &l->seconds, &l->ips};
            int grown = ep != NULL;
            for (int c = 0; c < 4 && grown; c++) {
                double *q = realloc(*cols[c], (size_t)nc * sizeof *q);
                if (q) *cols[c] = q;
                else grown = 0;
            }
            if (!grown) {
                results_loss_free(l);
                return err_set(err, "loss.csv: out of memory at line %d", line);
            }
            cap = nc;
        }
        l->epoch[l->n] = (int)f[0];
        l->train[l->n] = f[1];
        l->test[l->n] = f[2];
        l->seconds[l->n] = f[3];
        l->ips[l->n] = f[4];
        l->n++;
    }
    l->skipped += cut;
    return 0;
}

int results_loss_resume(Run *run, int keep, LossHistory *h, Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, run, "loss.csv");
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
        double r[5];
        int row = loss_line(a, e, r);
        if (++line == 1 && !row) continue; /* the header */
        if (!row || r[0] != next) break;
        fwrite(a, 1, (size_t)(e - a), f);
        fputc('\n', f);
        if (results_history_add(h, next, r[1], r[2], err)) {
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
    run->loss_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (run->loss_fd < 0)
        return err_set(err, "%s: cannot open for appending: %s", path, strerror(errno));
    return 0;
}

int results_write_latent(Run *run, const float *z, const unsigned char *labels, int n, int k,
                         Err *err)
{
    char path[4200], tmp[4300];
    join(path, sizeof path, run, "latent.csv");
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    fprintf(f, "index,label");
    for (int j = 0; j < k; j++) fprintf(f, ",z%d", j + 1);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%d,%d", i, labels[i]);
        for (int j = 0; j < k; j++) fprintf(f, ",%.7g", z[(size_t)i * (size_t)k + (size_t)j]);
        fputc('\n', f);
    }
    return util_atomic_commit(f, tmp, path, err);
}

unsigned char results_pixel(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN too */
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

int results_write_recon(Run *run, int epoch, const float *orig, const float *recon, int count,
                        int rows, int cols, Err *err)
{
    enum { SCALE = 2, GAP = 2 };
    int cell_w = cols * SCALE, cell_h = rows * SCALE;
    int w = count * cell_w + (count + 1) * GAP, h = 2 * cell_h + 3 * GAP;
    unsigned char *pix = util_malloc((size_t)w * (size_t)h, err);
    if (!pix) return -1;
    memset(pix, 128, (size_t)w * (size_t)h); /* mid-gray frame between cells */
    for (int row = 0; row < 2; row++) {
        const float *src = row ? recon : orig;
        for (int i = 0; i < count; i++) {
            int x0 = GAP + i * (cell_w + GAP), y0 = GAP + row * (cell_h + GAP);
            for (int y = 0; y < cell_h; y++)
                for (int x = 0; x < cell_w; x++)
                    pix[(size_t)(y0 + y) * (size_t)w + (size_t)(x0 + x)] =
                        results_pixel(src[(size_t)i * (size_t)(rows * cols) +
                                    (size_t)((y / SCALE) * cols + x / SCALE)]);
        }
    }
    char name[64], path[4200];
    snprintf(name, sizeof name, "recon-epoch-%03d.png", epoch);
    join(path, sizeof path, run, name);
    int rc = png_write(path, pix, w, h, 1, err);
    free(pix);
    return rc;
}

/* JSON string with the escapes JSON requires. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f); /* JSON has no NaN */
}

void results_iso_time(char *buf, size_t len, time_t t)
{
    if (t == 0) {
        if (len) buf[0] = '\0';
        return;
    }
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int results_write_json(Run *run, const RunInfo *in, Err *err)
{
    char path[4200], tmp[4300], start[64], end[64];
    join(path, sizeof path, run, "run.json");
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    if (in->start_text) util_copy(start, sizeof start, in->start_text);
    else results_iso_time(start, sizeof start, in->start);
    fputs("{\n  \"status\": ", f);
    json_str(f, in->status);
    fputs(",\n  \"name\": ", f);
    json_str(f, in->config_name);
    fputs(",\n  \"start_time\": ", f);
    json_str(f, start);
    fputs(",\n  \"end_time\": ", f);
    if (in->end) {
        results_iso_time(end, sizeof end, in->end);
        json_str(f, end);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"device\": {\"platform\": ", f);
    json_str(f, in->platform);
    fprintf(f, ", \"index\": \"%d:%d\", \"name\": ", in->platform_index, in->device_index);
    json_str(f, in->device);
    fputs(", \"opencl_version\": ", f);
    json_str(f, in->device_version);
    fputs(", \"driver_version\": ", f);
    json_str(f, in->driver_version);
    fputs("},\n  \"clblast_version\": ", f);
    json_str(f, in->clblast_version);
    fputs(",\n  \"kernel_dir\": ", f);
    json_str(f, in->kernel_dir);
    fputs(",\n  \"kernel_dir_source\": ", f);
    json_str(f, in->kernel_dir_source);
    if (in->tuning_source) {
        fputs(",\n  \"tuning\": {\"source\": ", f);
        json_str(f, in->tuning_source);
        fputs(", \"path\": ", f);
        json_str(f, in->tuning_path);
        fputs(", \"hash\": ", f);
        json_str(f, in->tuning_hash);
        fputs(", \"note\": ", f);
        json_str(f, in->tuning_note);
        fputs("}", f);
    }
    fprintf(f, ",\n  \"epochs_completed\": %d,\n  \"epochs\": %d", in->epochs_done, in->epochs);
    fprintf(f, ",\n  \"train_images\": %ld,\n  \"test_images\": %ld", in->train_images,
            in->test_images);
    fputs(",\n  \"final_train_loss\": ", f);
    json_num(f, in->final_train_loss);
    fputs(",\n  \"final_test_loss\": ", f);
    json_num(f, in->final_test_loss);
    fputs(",\n  \"seconds\": ", f);
    json_num(f, in->seconds);
    fputs(",\n  \"images_per_second\": ", f);
    json_num(f, in->images_per_second);
    fputs(",\n  \"command_line\": ", f);
    json_str(f, in->command_line);
    fputs(",\n  \"overrides\": ", f);
    json_str(f, in->overrides ? in->overrides : "");
    fputs(",\n  \"sweep\": ", f);
    if (in->sweep_name) {
        fputs("{\"name\": ", f);
        json_str(f, in->sweep_name);
        fprintf(f, ", \"index\": %d, \"count\": %d}", in->sweep_index, in->sweep_count);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n  \"resumes\": %d,\n  \"resumed\": ", in->resumes);
    if (in->resumed_at) {
        char at[64];
        results_iso_time(at, sizeof at, in->resumed_at);
        fputs("{\"time\": ", f);
        json_str(f, at);
        fprintf(f, ", \"from_epoch\": %d, \"from_step\": %d}", in->resumed_from_epoch,
                in->resumed_from_step);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"process\": ", f);
    if (in->process) {
        fputs("{\"host\": ", f);
        json_str(f, in->process->host);
        fprintf(f, ", \"pid\": %ld, \"start\": %llu, \"boot_id\": ", in->process->pid,
                in->process->start);
        json_str(f, in->process->boot_id);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"kernel_cache\": ", f);
    json_str(f, in->kernel_cache ? in->kernel_cache : "");
    fputs(",\n  \"error\": ", f);
    if (in->error) json_str(f, in->error);
    else fputs("null", f);
    fputs("\n}\n", f);
    return util_atomic_commit(f, tmp, path, err);
}

void results_close(Run *run)
{
    if (run && run->loss_fd >= 0) close(run->loss_fd);
    if (run) run->loss_fd = -1;
}
