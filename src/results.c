/* results: see results.h. */
#define _POSIX_C_SOURCE 200809L
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "png.h"

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

int results_loss_open(Run *run, Err *err)
{
    char path[4200];
    join(path, sizeof path, run, "loss.csv");
    /* "x": the folder is new, so an existing file would be someone else's. */
    run->loss_csv = fopen(path, "wx");
    if (!run->loss_csv) return err_set(err, "%s: cannot create: %s", path, strerror(errno));
    fprintf(run->loss_csv, "epoch,train_loss,test_loss,seconds,images_per_second\n");
    if (fflush(run->loss_csv) != 0) return err_set(err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

int results_loss_row(Run *run, int epoch, double train, double test, double seconds, double ips,
                     Err *err)
{
    fprintf(run->loss_csv, "%d,%.9g,%.9g,%.3f,%.1f\n", epoch, train, test, seconds, ips);
    if (fflush(run->loss_csv) != 0 || ferror(run->loss_csv))
        return err_set(err, "%s/loss.csv: write failed: %s", run->dir, strerror(errno));
    return 0;
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
    fprintf(f, "epoch,train_loss,test_loss,seconds,images_per_second\n");
    int next = 1, rc = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save); /* the header */
    for (line = line ? strtok_r(NULL, "\n", &save) : NULL; line && next <= keep;
         line = strtok_r(NULL, "\n", &save)) {
        int epoch;
        double train, test;
        if (sscanf(line, "%d,%lf,%lf", &epoch, &train, &test) != 3 || epoch != next) break;
        fprintf(f, "%s\n", line);
        if (results_history_add(h, epoch, train, test, err)) {
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
    run->loss_csv = fopen(path, "a");
    if (!run->loss_csv) return err_set(err, "%s: cannot open for appending: %s", path, strerror(errno));
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
    fputs(",\n  \"error\": ", f);
    if (in->error) json_str(f, in->error);
    else fputs("null", f);
    fputs("\n}\n", f);
    return util_atomic_commit(f, tmp, path, err);
}

void results_close(Run *run)
{
    if (run && run->loss_csv) fclose(run->loss_csv);
    if (run) run->loss_csv = NULL;
}
