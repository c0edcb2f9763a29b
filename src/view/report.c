/* report: see report.h. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compare.h"
#include "config.h"
#include "exitcode.h"
#include "plot.h"
#include "runfolder.h"
#include "runs.h"

/* Files bigger than these are someone else's, not a run's: the page links to
 * them instead of reading them whole into memory. */
#define REPORT_CONFIG_MAX (1 << 20)
#define REPORT_LOSS_MAX (64 << 20)
/* Width of the latent thumbnails in the index, pixels. */
#define REPORT_THUMB_WIDTH 160

static const char REPORT_CSS[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;"
    "padding:0 1em;color:#222;background:#fff}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em;"
    "border-bottom:1px solid #ddd}\n"
    ".badge{display:inline-block;padding:.05em .6em;border-radius:1em;color:#fff;"
    "background:#757575;font-size:.8rem;vertical-align:middle;white-space:nowrap}\n"
    ".s-completed{background:#2e7d32}.s-running{background:#1565c0}"
    ".s-failed{background:#c62828}.s-stale{background:#ef6c00}\n"
    "table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;"
    "vertical-align:middle}\n"
    "table.kv th{font-weight:600;padding-left:0}\n"
    "table.grid th,table.grid td{border-bottom:1px solid #e4e4e4}\n"
    "table.grid .num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.grid th.sort{cursor:pointer;user-select:none;white-space:nowrap}\n"
    "table.grid th.sort:hover{background:#f0f0f0}\n"
    "th[aria-sort=ascending]::after{content:\" \\25B2\"}"
    "th[aria-sort=descending]::after{content:\" \\25BC\"}\n"
    "tr.dim td{color:#999}tr.dim img{opacity:.5}\n"
    "pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:13px}\n"
    ".note{color:#666;font-style:italic}.error{color:#c62828;white-space:pre-wrap}\n"
    "figure{display:inline-block;margin:.3em .6em .6em 0;vertical-align:top}"
    "figcaption{color:#555;font-size:.9em}\n"
    "img.px{image-rendering:pixelated}img{max-width:100%;height:auto}\n"
    "svg{max-width:100%;height:auto}\n"
    "footer{margin-top:2em;color:#888;font-size:.85em}\n";

/* ---- escaping -------------------------------------------------------------- */

/* n bytes of s as HTML text or attribute value: the five markup characters
 * as entities, control characters (and NULs, for binary junk) as '?' so that
 * a hand-edited file cannot break the page; tab and newline kept. */
static void html_n(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            fputc((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : c, f);
        }
    }
}

static void html(FILE *f, const char *s)
{
    html_n(f, s, strlen(s));
}

/* A relative URL path for an href or src: every byte outside the unreserved
 * set (and '/') percent-encoded, so a folder named "a b#c" still links to
 * itself and nothing in it can end the attribute. */
static void url(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/=", c))
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

/* ---- the files of a folder ------------------------------------------------- */

static void join(char *buf, size_t len, const char *dir, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* 1 when dir/name is a regular file. */
static int has_file(const char *dir, const char *name)
{
    char path[4400];
    struct stat st;
    join(path, sizeof path, dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/name read whole when it is a regular file of at most max bytes; NULL
 * otherwise, with *why saying which ("missing", "too large", the error). */
static char *read_small(const char *dir, const char *name, size_t max, size_t *len,
                        char *why, size_t why_len)
{
    char path[4400];
    struct stat st;
    join(path, sizeof path, dir, name);
    if (stat(path, &st) != 0) {
        snprintf(why, why_len, "%s", errno == ENOENT ? "missing" : strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "not a file");
        return NULL;
    }
    if ((unsigned long long)st.st_size > max) {
        snprintf(why, why_len, "%lld bytes, too large to show", (long long)st.st_size);
        return NULL;
    }
    Err err = {{0}};
    char *text = util_read_file(path, len, &err);
    if (!text) snprintf(why, why_len, "%s", err.msg);
    return text;
}

typedef struct {
    int epoch;
    char name[64];
} Recon;

static int by_epoch_desc(const void *a, const void *b)
{
    const Recon *x = a, *y = b;
    if (x->epoch != y->epoch) return x->epoch < y->epoch ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* 1 and *epoch when name is recon-epoch-<digits>.png. */
static int recon_name(const char *name, int *epoch)
{
    static const char prefix[] = "recon-epoch-";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0) return 0;
    const char *d = name + sizeof prefix - 1, *q = d;
    long v = 0;
    while (*q >= '0' && *q <= '9' && q - d < 9) v = v * 10 + (*q++ - '0');
    if (q == d || strcmp(q, ".png") != 0) return 0;
    *epoch = (int)v;
    return 1;
}

/* The recon-epoch-NNN.png files of dir, newest epoch first; *out is malloc'd
 * and freed by the caller (NULL when there are none). */
static int recon_list(const char *dir, Recon **out, int *n, Err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return err_set(err, "%s: cannot open: %s", dir, strerror(errno));
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int epoch;
        if (!recon_name(e->d_name, &epoch) || !has_file(dir, e->d_name)) continue;
        if (*n == cap) {
            int nc = cap ? cap * 2 : 16;
            Recon *r = realloc(*out, (size_t)nc * sizeof *r);
            if (!r) {
                closedir(d);
                free(*out);
                *out = NULL;
                *n = 0;
                return err_set(err, "%s: out of memory listing the reconstructions", dir);
            }
            *out = r;
            cap = nc;
        }
        (*out)[*n].epoch = epoch;
        util_copy((*out)[*n].name, sizeof (*out)[*n].name, e->d_name); /* fits: recon_name */
        (*n)++;
    }
    closedir(d);
    if (*n > 1) qsort(*out, (size_t)*n, sizeof **out, by_epoch_desc);
    return 0;
}

/* ---- pieces both pages use -------------------------------------------------- */

/* A run that ended without completing. */
static int ended_badly(RunStatus s)
{
    return s == RUN_FAILED || s == RUN_DIVERGED || s == RUN_INTERRUPTED;
}

/* The badge colour of a status: the CSS knows five. */
static const char *status_class(RunStatus s)
{
    return s == RUN_COMPLETED ? "s-completed"
           : s == RUN_RUNNING ? "s-running"
           : s == RUN_STALE   ? "s-stale"
           : ended_badly(s)   ? "s-failed"
                              : "s-other";
}

static void head(FILE *f, const char *title, int refresh)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
    if (refresh) fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n", REPORT_REFRESH_SECONDS);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    html(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", REPORT_CSS);
}

static void footer(FILE *f, const char *extra)
{
    char now[64];
    runfolder_iso_time(now, sizeof now, time(NULL));
    fputs("<footer>page written by clae at ", f);
    html(f, now);
    if (extra) fputs(extra, f);
    fputs("</footer>\n</body>\n</html>\n", f);
}

/* A number as text ("%.6g" or fmt), or an em dash for none. */
static void num(FILE *f, double v, const char *fmt)
{
    if (isnan(v)) fputs("&mdash;", f);
    else fprintf(f, fmt, v);
}

/* Writes the text built in a memstream to path atomically. */
static int commit(FILE *mem, char **text, size_t *len, const char *path, Err *err)
{
    if (fclose(mem) != 0 || !*text) return err_set(err, "%s: out of memory building the page", path);
    return util_write_file_atomic(path, *text, *len, err);
}

/* ---- the run page ----------------------------------------------------------- */

static void kv_text(FILE *f, const char *key, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td>", key);
    html(f, value);
    fputs("</td></tr>\n", f);
}

static void kv_num(FILE *f, const char *key, double v, const char *fmt)
{
    fprintf(f, "<tr><th>%s</th><td>", key);
    num(f, v, fmt);
    fputs("</td></tr>\n", f);
}

/* <img> of dir/name when it is there, else the note. */
static void picture(FILE *f, const char *dir, const char *name, const char *alt, const char *note)
{
    if (has_file(dir, name)) {
        fputs("<figure><a href=\"", f);
        url(f, name);
        fputs("\"><img src=\"", f);
        url(f, name);
        fprintf(f, "\" alt=\"%s\"></a></figure>\n", alt);
    } else {
        fprintf(f, "<p class=\"note\">%s</p>\n", note);
    }
}

static void loss_section(FILE *f, const char *dir)
{
    fputs("<section id=\"loss\">\n<h2>Loss</h2>\n", f);
    size_t len = 0;
    char why[1200];
    char *text = read_small(dir, "loss.csv", REPORT_LOSS_MAX, &len, why, sizeof why);
    if (!text) {
        fputs("<p class=\"note\">No loss curve: loss.csv ", f);
        html(f, why);
        fputs(".</p>\n</section>\n", f);
        return;
    }
    LossRows l;
    Err err = {{0}};
    if (runfolder_loss_parse(text, len, &l, &err)) {
        free(text);
        fputs("<p class=\"note\">No loss curve: ", f);
        html(f, err.msg);
        fputs(".</p>\n</section>\n", f);
        return;
    }
    free(text);
    if (l.n == 0) {
        fputs("<p class=\"note\">No epoch has finished yet.</p>\n", f);
    } else {
        PlotLoss pl = {.n = l.n, .epoch = l.epoch, .train = l.train, .test = l.test,
                       .train_kl = l.train_kl, .test_kl = l.test_kl};
        char *svg = plot_loss_svg(&pl, &err);
        if (svg) {
            fputs("<figure class=\"plot\">", f);
            fputs(svg, f); /* plot.h: inline SVG, no prolog, no ids */
            fputs("</figure>\n", f);
            free(svg);
        } else {
            fputs("<p class=\"note\">No loss curve: ", f);
            html(f, err.msg);
            fputs(".</p>\n", f);
        }
    }
    if (l.skipped)
        fprintf(f, "<p class=\"note\">%d line%s of loss.csv could not be read (left out).</p>\n",
                l.skipped, l.skipped == 1 ? "" : "s");
    if (l.n) {
        fprintf(f, "<details><summary>%d epoch%s</summary>\n<table class=\"grid\"><thead><tr>"
                   "<th>epoch</th><th>train loss</th><th>test loss</th><th>seconds</th>"
                   "<th>images/s</th></tr></thead>\n<tbody>\n",
                l.n, l.n == 1 ? "" : "s");
        for (int i = 0; i < l.n; i++) {
            fprintf(f, "<tr><td class=\"num\">%d</td><td class=\"num\">", l.epoch[i]);
            num(f, l.train[i], "%.6g");
            fputs("</td><td class=\"num\">", f);
            num(f, l.test[i], "%.6g");
            fputs("</td><td class=\"num\">", f);
            num(f, l.seconds[i], "%.3f");
            fputs("</td><td class=\"num\">", f);
            num(f, l.ips[i], "%.0f");
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n</details>\n", f);
    }
    fputs("</section>\n", f);
    runfolder_loss_free(&l);
}

/* 1 when run.json says that the run's items are not images (an (N, D)
 * .npy): it has no pictures of them. */
static int not_images(const RunRecord *s)
{
    return s->input_values > 0 && s->image_rows <= 0;
}

/* What a run of items that are not images shows instead of a picture. */
static void no_picture(FILE *f, const RunRecord *s, const char *what)
{
    fprintf(f, "<p class=\"note\">None: the items are %d values each, not images (a .npy of "
               "shape (N, D)), so no %s is drawn.</p>\n", s->input_values, what);
}

static void recon_section(FILE *f, const char *dir, const RunRecord *s)
{
    fputs("<section id=\"recon\">\n<h2>Reconstructions</h2>\n", f);
    Recon *r = NULL;
    int n = 0;
    Err err = {{0}};
    if (not_images(s)) {
        no_picture(f, s, "reconstruction grid");
    } else if (recon_list(dir, &r, &n, &err)) {
        fputs("<p class=\"note\">", f);
        html(f, err.msg);
        fputs("</p>\n", f);
    } else if (n == 0) {
        fputs("<p class=\"note\">None yet: a grid is written after each epoch "
              "([output] recon_every).</p>\n", f);
    } else {
        fputs("<p>Originals on top, reconstructions below; newest epoch first.</p>\n", f);
        for (int i = 0; i < n; i++) {
            fputs("<figure><img class=\"px\" src=\"", f);
            url(f, r[i].name);
            fprintf(f, "\" alt=\"reconstructions after epoch %d\"%s><figcaption>epoch %d"
                       "</figcaption></figure>\n",
                    r[i].epoch, i ? " loading=\"lazy\"" : "", r[i].epoch);
        }
    }
    free(r);
    fputs("</section>\n", f);
}

/* The names of the classes the run used ([data] classes and label_names of
 * its config.ini), under the latent plot whose legend shows them; nothing
 * when it named none. */
static void classes_table(FILE *f, const char *dir)
{
    char path[4400];
    join(path, sizeof path, dir, "config.ini");
    Config *cfg = malloc(sizeof *cfg);
    ConfigLabelNames *ln = malloc(sizeof *ln);
    Err err = {{0}};
    if (cfg && ln && config_load(cfg, path, &err) == 0) {
        config_label_names(cfg, ln);
        if (ln->n > 0) {
            fputs("<table class=\"kv\" id=\"classes\">\n<thead><tr><th>label</th><th>name"
                  "</th></tr></thead>\n<tbody>\n", f);
            for (int l = 0; l < ln->n; l++) {
                if (!cfg->classes[l]) continue;
                fprintf(f, "<tr><td class=\"num\">%d</td><td>", l);
                html(f, ln->name[l]);
                fputs("</td></tr>\n", f);
            }
            fputs("</tbody></table>\n", f);
        }
    }
    free(cfg);
    free(ln);
}

static void config_section(FILE *f, const char *dir)
{
    fputs("<section id=\"config\">\n<h2>Configuration</h2>\n", f);
    size_t len = 0;
    char why[1200];
    char *text = read_small(dir, "config.ini", REPORT_CONFIG_MAX, &len, why, sizeof why);
    if (text) {
        fputs("<p>The resolved config.ini: <code>clae train config.ini</code> repeats the "
              "run.</p>\n<pre>", f);
        html_n(f, text, len);
        fputs("</pre>\n", f);
        free(text);
    } else {
        fputs("<p class=\"note\">config.ini: ", f);
        html(f, why);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
}

/* Links to the run's data files that are there. */
static void file_links(FILE *f, const char *dir)
{
    static const char *const names[] = {"run.json", "config.ini", "loss.csv", "latent.csv",
                                        "loss.svg", "model.ckpt"};
    int any = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!has_file(dir, names[i])) continue;
        fputs(any ? " &middot; " : "<p>Files: ", f);
        fputs("<a href=\"", f);
        url(f, names[i]);
        fputs("\">", f);
        html(f, names[i]);
        fputs("</a>", f);
        any = 1;
    }
    if (any) fputs("</p>\n", f);
}

int report_write_run_page(const char *run_dir, Err *err)
{
    if (!util_is_dir(run_dir)) return err_set(err, "%s: not a folder", run_dir);
    RunRecord *s = util_malloc(sizeof *s, err);
    if (!s) return -1;
    Err rerr = {{0}};
    int is_run = runfolder_read(run_dir, s, &rerr) == 0;
    int running = is_run && s->status == RUN_RUNNING;
    const char *name = is_run && s->name[0] ? s->name : s->id;

    char path[4400], title[600];
    join(path, sizeof path, run_dir, "index.html");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(s);
        return err_set(err, "%s: out of memory building the page", path);
    }
    snprintf(title, sizeof title, "%s (%s) - clae run", name, runfolder_status_text(s));
    head(f, title, running);

    /* The index exists once `clae report` has run on the root; before that
     * the folder listing is the best "up" there is. */
    char parent[4400];
    join(parent, sizeof parent, run_dir, "../index.html");
    struct stat st;
    fprintf(f, "<nav><a href=\"%s\">&larr; all runs</a></nav>\n",
            stat(parent, &st) == 0 && S_ISREG(st.st_mode) ? "../index.html" : "../");
    fputs("<h1>", f);
    html(f, name);
    fprintf(f, " <span class=\"badge %s\">", status_class(s->status));
    html(f, runfolder_status_text(s));
    fputs("</span></h1>\n<p class=\"note\">", f);
    html(f, s->id);
    fputs("</p>\n", f);

    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", f);
    if (!is_run) {
        fputs("<p class=\"error\">run.json could not be read: ", f);
        html(f, s->error);
        fputs(". What the folder holds is shown below.</p>\n", f);
    } else {
        fputs("<table class=\"kv\">\n", f);
        char device[512];
        runfolder_device_label(s, device, sizeof device);
        kv_text(f, "device", device[0] ? device : "unknown");
        if (s->input_values > 0) {
            char data[128];
            if (not_images(s))
                snprintf(data, sizeof data, "%d values per item, not images", s->input_values);
            else if (s->image_channels > 1)
                snprintf(data, sizeof data, "%dx%dx%d images", s->image_channels, s->image_rows,
                         s->image_cols);
            else
                snprintf(data, sizeof data, "%dx%d images", s->image_rows, s->image_cols);
            kv_text(f, "data", data);
        }
        if (s->data_mode[0]) kv_text(f, "data on the device", s->data_mode);
        fprintf(f, "<tr><th>epochs</th><td>%d of %d</td></tr>\n", s->epochs_done, s->epochs);
        kv_num(f, "final train loss", s->train_loss, "%.6g");
        kv_num(f, "final test loss", s->test_loss, "%.6g");
        kv_num(f, "images/s", s->images_per_second, "%.0f");
        kv_num(f, "seconds", s->seconds, "%.1f");
        kv_text(f, "started", s->start[0] ? s->start : "unknown");
        kv_text(f, "ended", s->end[0]                          ? s->end
                            : running                           ? "still running"
                            : s->status == RUN_STALE        ? "never: its process is gone"
                                                                : "unknown");
        if (s->overrides[0]) kv_text(f, "overrides", s->overrides);
        if (s->sweep[0]) {
            fputs("<tr><th>sweep</th><td>", f);
            html(f, s->sweep);
            if (s->sweep_index >= 0) fprintf(f, ", job %d", s->sweep_index);
            fputs("</td></tr>\n", f);
        }
        if (s->error[0]) {
            fputs("<tr><th>error</th><td class=\"error\">", f);
            html(f, s->error);
            fputs("</td></tr>\n", f);
        }
        if (s->early_stop[0]) {
            fputs("<tr><th>early stop</th><td>", f);
            html(f, s->early_stop);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    file_links(f, run_dir);
    fputs("</section>\n", f);

    loss_section(f, run_dir);
    recon_section(f, run_dir, s);

    const char *later = running || !is_run ? "Written when the run completes."
                                           : "Not in this folder: written when the run completes.";
    fputs("<section id=\"latent\">\n<h2>Latent space</h2>\n", f);
    if (has_file(run_dir, "latent.svg")) picture(f, run_dir, "latent.svg", "latent space", later);
    else picture(f, run_dir, "latent.png", "latent space", later);
    classes_table(f, run_dir);
    fputs("</section>\n<section id=\"manifold\">\n<h2>Manifold</h2>\n", f);
    if (not_images(s)) no_picture(f, s, "manifold");
    else picture(f, run_dir, "manifold.png", "images decoded from a grid of latent codes", later);
    fputs("</section>\n", f);
    if (has_file(run_dir, "denoise.png")) { /* runs with [train] noise */
        fputs("<section id=\"denoise\">\n<h2>Denoising</h2>\n", f);
        picture(f, run_dir, "denoise.png", "test images, the same with noise, and the "
                "reconstructions of the noisy ones", later);
        fputs("</section>\n", f);
    }

    config_section(f, run_dir);
    char note[128];
    snprintf(note, sizeof note, "; it reloads every %d s while the run is going",
             REPORT_REFRESH_SECONDS);
    footer(f, running ? note : NULL);
    free(s);
    int rc = commit(f, &text, &len, path, err);
    free(text);
    return rc;
}

/* ---- the index ---------------------------------------------------------------- */

typedef struct {
    int total;
    int n[RUN_STATUS_COUNT]; /* folders per status */
} Counts;

/* The statuses a folder can have (runfolder_read), in the summary's order. */
static const RunStatus SHOWN[] = {RUN_COMPLETED, RUN_RUNNING,     RUN_STALE,     RUN_FAILED,
                                  RUN_DIVERGED,  RUN_INTERRUPTED, RUN_NOT_A_RUN, RUN_OTHER};

/* "12 runs (10 completed, 1 failed, 1 not a run)" */
static void counts_text(const Counts *c, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "%d run%s", c->total, c->total == 1 ? "" : "s");
    const char *sep = " (";
    for (size_t i = 0; i < sizeof SHOWN / sizeof SHOWN[0] && at < len; i++) {
        int v = c->n[SHOWN[i]];
        if (!v) continue;
        at += (size_t)snprintf(buf + at, len - at, "%s%d %s", sep, v,
                               runfolder_status_name(SHOWN[i]));
        sep = ", ";
    }
    if (c->total && at < len) snprintf(buf + at, len - at, ")");
}

/* A numeric cell: the shown text rounded, the sort key in full. */
static void num_cell(FILE *f, double v, const char *fmt)
{
    if (isnan(v)) {
        fputs("<td class=\"num\"></td>", f);
        return;
    }
    fprintf(f, "<td class=\"num\" data-v=\"%.9g\">", v);
    fprintf(f, fmt, v);
    fputs("</td>", f);
}

/* Click a header to sort by its column, again to reverse. A column sorts as
 * numbers when every filled cell is one, else as text; empty cells go last
 * either way. Cells may carry their sort key in data-v. */
static const char SORT_JS[] =
    "(function () {\n"
    "  var table = document.getElementById('runs'), heads = table.tHead.rows[0].cells;\n"
    "  function key(row, c) {\n"
    "    var td = row.cells[c], v = td.getAttribute('data-v');\n"
    "    return v !== null ? v : td.textContent.trim();\n"
    "  }\n"
    "  function sortBy(th, c) {\n"
    "    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);\n"
    "    var asc = th.getAttribute('aria-sort') !== 'ascending';\n"
    "    var numeric = rows.every(function (r) {\n"
    "      var v = key(r, c); return v === '' || isFinite(Number(v));\n"
    "    });\n"
    "    rows.sort(function (a, b) {\n"
    "      var x = key(a, c), y = key(b, c);\n"
    "      if (x === '' || y === '') return (x === '') - (y === '');\n"
    "      var d = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;\n"
    "      return asc ? d : -d;\n"
    "    });\n"
    "    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');\n"
    "    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');\n"
    "    rows.forEach(function (r) { body.appendChild(r); });\n"
    "  }\n"
    "  Array.prototype.forEach.call(heads, function (th, c) {\n"
    "    if (!th.classList.contains('sort')) return;\n"
    "    th.tabIndex = 0;\n"
    "    th.addEventListener('click', function () { sortBy(th, c); });\n"
    "    th.addEventListener('keydown', function (e) {\n"
    "      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(th, c); }\n"
    "    });\n"
    "  });\n"
    "})();\n";

/* A sortable header; numeric columns are right-aligned like their cells. */
static void th_sort(FILE *f, const char *col, const char *label, int numeric)
{
    fprintf(f, "<th class=\"sort%s\" data-col=\"", numeric ? " num" : "");
    html(f, col);
    fputs("\">", f);
    html(f, label);
    fputs("</th>", f);
}

static void index_row(FILE *f, const RunRecord *s, const Config *cfg, int cfg_bad,
                      const int *keys, int nk)
{
    int not_run = s->status == RUN_NOT_A_RUN;
    int dim = not_run || ended_badly(s->status) || s->status == RUN_STALE;
    char page[4400];
    join(page, sizeof page, s->folder, "index.html");
    struct stat st;
    int has_page = stat(page, &st) == 0 && S_ISREG(st.st_mode);

    fprintf(f, "<tr%s>\n<td data-v=\"", dim ? " class=\"dim\"" : "");
    html(f, s->id);
    fputs("\"><a href=\"", f);
    url(f, s->id);
    fputs(has_page ? "/index.html\">" : "/\">", f);
    html(f, s->id);
    fputs("</a></td>\n<td>", f);
    const char *thumb = has_file(s->folder, "latent.png")   ? "latent.png"
                        : has_file(s->folder, "latent.svg") ? "latent.svg"
                                                            : NULL;
    if (thumb) {
        fputs("<img src=\"", f);
        url(f, s->id);
        fputc('/', f);
        url(f, thumb);
        fprintf(f, "\" width=\"%d\" alt=\"latent space\" loading=\"lazy\">", REPORT_THUMB_WIDTH);
    }
    fputs("</td>\n<td>", f);
    html(f, not_run ? "" : s->name);
    fputs("</td><td>", f);
    html(f, s->start);
    fprintf(f, "</td><td data-v=\"");
    html(f, runfolder_status_text(s));
    fprintf(f, "\"><span class=\"badge %s\"", status_class(s->status));
    if (s->error[0] || cfg_bad) {
        fputs(" title=\"", f);
        html(f, s->error[0] ? s->error : "config.ini could not be read");
        fputc('"', f);
    }
    fputc('>', f);
    html(f, runfolder_status_text(s));
    fputs("</span>", f);
    if (not_run) {
        fputs(" <span class=\"note\">", f);
        html(f, s->error);
        fputs("</span>", f);
    }
    fputs("</td>\n", f);
    char v[CONFIG_STR];
    for (int j = 0; j < nk; j++) {
        fputs("<td>", f);
        if (cfg) {
            config_get(cfg, config_key_section(keys[j]), config_key_name(keys[j]), v, sizeof v);
            html(f, v);
        }
        fputs("</td>", f);
    }
    fputs("\n", f);
    num_cell(f, s->train_loss, "%.6g");
    num_cell(f, s->test_loss, "%.6g");
    num_cell(f, s->images_per_second, "%.0f");
    if (not_run) fputs("<td class=\"num\"></td>", f);
    else fprintf(f, "<td class=\"num\" data-v=\"%d\">%d/%d</td>", s->epochs_done,
                 s->epochs_done, s->epochs);
    fputs("\n</tr>\n", f);
}

/* report_write_index, counting the folders by status into *c. */
static int write_index(const char *root, Counts *c, Err *err)
{
    memset(c, 0, sizeof *c);
    RunRecord *runs = NULL;
    int n = 0;
    if (runs_scan(root, &runs, &n, err)) return -1;
    int rc = -1, nd = 0, nc = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;
    Config **cfg = util_calloc((size_t)(n ? n : 1), sizeof *cfg, err);
    unsigned char *cfg_bad = util_calloc((size_t)(n ? n : 1), 1, err);
    int *keys = util_calloc((size_t)config_key_count(), sizeof *keys, err);
    if (!cfg || !cfg_bad || !keys) goto out;
    for (int i = 0; i < n; i++) {
        c->total++;
        c->n[runs[i].status]++;
        if (runs[i].status == RUN_NOT_A_RUN) continue;
        char path[4400];
        join(path, sizeof path, runs[i].folder, "config.ini");
        if (!(cfg[i] = util_malloc(sizeof *cfg[i], err))) goto out;
        Err cerr = {{0}};
        if (config_load(cfg[i], path, &cerr)) {
            /* one unreadable config blanks that row's settings, not the page */
            free(cfg[i]);
            cfg[i] = NULL;
            cfg_bad[i] = 1;
        }
    }
    nd = compare_differing_keys((const Config *const *)cfg, n, keys);

    char path[4400], title[4400], summary[256];
    join(path, sizeof path, root, "index.html");
    if (!(f = open_memstream(&text, &len))) {
        err_set(err, "%s: out of memory building the page", path);
        goto out;
    }
    snprintf(title, sizeof title, "%s - clae runs", root);
    head(f, title, 0);
    counts_text(c, summary, sizeof summary);
    fputs("<h1>Runs in ", f);
    html(f, root);
    fputs("</h1>\n<p>", f);
    html(f, summary);
    fputs(". Click a column header to sort; the columns between status and the losses are "
          "the config keys whose values differ between runs. All runs in one file: "
          "<a href=\"runs.csv\">runs.csv</a>.</p>\n", f);
    fputs("<table class=\"grid\" id=\"runs\">\n<thead><tr>", f);
    th_sort(f, "run", "run", 0);
    fputs("<th>latent</th>", f);
    th_sort(f, "name", "name", 0);
    th_sort(f, "start", "start", 0);
    th_sort(f, "status", "status", 0);
    for (int j = 0; j < nd; j++) {
        char col[200];
        snprintf(col, sizeof col, "%s.%s", config_key_section(keys[j]), config_key_name(keys[j]));
        th_sort(f, col, col, 0);
    }
    th_sort(f, "train_loss", "train loss", 1);
    th_sort(f, "test_loss", "test loss", 1);
    th_sort(f, "images_per_second", "images/s", 1);
    th_sort(f, "epochs", "epochs", 1);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < n; i++) index_row(f, &runs[i], cfg[i], cfg_bad[i], keys, nd);
    fputs("</tbody>\n</table>\n", f);
    if (n == 0) fputs("<p class=\"note\">No run folders here yet.</p>\n", f);
    fprintf(f, "<script>\n%s</script>\n", SORT_JS);
    footer(f, NULL);
    /* runs.csv is written even if there is no runs.csv link target yet:
     * runs_rewrite creates it, so the link above always resolves. */
    rc = commit(f, &text, &len, path, err);
    f = NULL;
    if (rc) goto out;
    /* Scanned again under the lock: a run completing now is either in the
     * file or appends its own row after. */
    rc = runs_reindex(root, &nc, err);
out:
    if (f) fclose(f);
    free(text);
    for (int i = 0; cfg && i < n; i++) free(cfg[i]);
    free(cfg);
    free(cfg_bad);
    free(keys);
    free(runs);
    return rc;
}

int report_write_index(const char *root, Err *err)
{
    Counts c;
    return write_index(root, &c, err);
}

/* ---- clae report -------------------------------------------------------------- */

int report_root(const char *dir)
{
    /* "results/" names the same root; without the slash the paths printed
     * and linked read as the user would write them */
    char root[4096];
    util_copy(root, sizeof root, dir);
    for (size_t k = strlen(root); k > 1 && root[k - 1] == '/'; k--) root[k - 1] = '\0';
    struct stat st;
    int missing = stat(root, &st) != 0;
    if (missing || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "clae report: %s: %s\n", root, missing ? strerror(errno) : "not a folder");
        return EXIT_USAGE;
    }

    Err err = {{0}};
    RunRecord *runs = NULL;
    int n = 0, failed = 0;
    if (runs_scan(root, &runs, &n, &err)) {
        fprintf(stderr, "clae report: %s\n", err.msg);
        return EXIT_RUN_FAILED;
    }
    char index[4400];
    join(index, sizeof index, root, "index.html");
    int had_index = stat(index, &st) == 0;
    /* Pages first, so that the index can link to them; on the first report
     * they are written again after the index, so that their "all runs" link
     * finds it. */
    for (int pass = 0; pass < (had_index ? 1 : 2) && !failed; pass++) {
        for (int i = 0; i < n; i++) {
            if (!has_file(runs[i].folder, "run.json")) continue; /* not ours to write into */
            if (report_write_run_page(runs[i].folder, &err)) {
                fprintf(stderr, "clae report: %s\n", err.msg);
                failed++;
            }
        }
        if (pass == 0) {
            Counts c;
            char summary[256];
            if (write_index(root, &c, &err)) {
                fprintf(stderr, "clae report: %s\n", err.msg);
                free(runs);
                return EXIT_RUN_FAILED;
            }
            counts_text(&c, summary, sizeof summary);
            printf("%s; wrote %s\n", summary, index);
        }
    }
    free(runs);
    return failed ? EXIT_RUN_FAILED : EXIT_OK;
}
