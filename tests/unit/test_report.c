/* test_report: run pages and the results index, on fabricated run folders:
 * two completed runs with different settings, a failed one, a running one,
 * a folder that is not a run, and one with a garbled run.json and a cut
 * loss.csv. Checks escaping, the refresh tag, that every link and picture
 * points at a file that is there, the differing-key columns, and runs.csv. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "plot.h"
#include "pngio.h"
#include "report.h"
#include "runfolder.h"
#include "runs.h"

#define WEIRD_NAME "a<b&c\"d"          /* run.json name */
#define WEIRD_NAME_HTML "a&lt;b&amp;c&quot;d"
#define WEIRD_DIR "data/x<&\"y"        /* [data] dir of run a */
#define WEIRD_DIR_HTML "data/x&lt;&amp;&quot;y"
#define JUNK "zz junk <&>"             /* a folder that is not a run */

static char root[256];

/* dir/name holding text. */
static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_spit_text(path, text);
}

/* The text of path; "" (and a failed check) when it cannot be read. */
static char *read_text(const char *path)
{
    char *t = test_slurp(path, NULL);
    CHECK(t != NULL, "cannot read %s", path);
    return t ? t : strdup("");
}

/* root/id with config.ini (learning rate lr, data dir dir), run.json and
 * loss.csv (its text given); returns the folder (static storage per call). */
static void make_run(char *folder, size_t len, const char *id, RunStatus status,
                     double lr, const char *data_dir, const char *loss_csv, const char *error,
                     const char *name)
{
    snprintf(folder, len, "%s/%s", root, id);
    CHECK(mkdir(folder, 0777) == 0, "mkdir %s: %s", folder, strerror(errno));
    Config cfg;
    Err err = {{0}};
    config_defaults(&cfg);
    cfg.learning_rate = lr;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data_dir);
    snprintf(cfg.root, sizeof cfg.root, "%s", root);
    snprintf(cfg.name, sizeof cfg.name, "%s", id + 16); /* differs in every run */
    char path[1024];
    snprintf(path, sizeof path, "%s/config.ini", folder);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        config_write(&cfg, f);
        fclose(f);
    }
    int running = status == RUN_RUNNING, done = status == RUN_COMPLETED;
    RunRecord info;
    runfolder_record_init(&info, folder);
    info.status = status;
    runfolder_iso_time(info.start, sizeof info.start, 1700000000);
    runfolder_iso_time(info.end, sizeof info.end, running ? 0 : 1700000600);
    info.platform = "Portable Computing Language";
    snprintf(info.device_index, sizeof info.device_index, "0:0");
    snprintf(info.device_name, sizeof info.device_name, "cpu <x86>");
    info.device_version = "OpenCL 3.0";
    info.driver_version = "6.0";
    info.clblast_version = "1.6.3";
    info.kernel_dir = "/src/cl";
    info.kernel_dir_source = "source tree";
    snprintf(info.name, sizeof info.name, "%s", name);
    info.epochs_done = done ? 3 : 1;
    info.epochs = 3;
    info.train_loss = done ? lr * 10 : running ? 0.5 : NAN;
    info.test_loss = done ? lr * 11 : NAN;
    info.seconds = 12.5;
    info.images_per_second = 1000;
    info.train_images = 500;
    info.test_images = 100;
    info.command_line = "clae train x.ini";
    snprintf(info.overrides, sizeof info.overrides, "%s", running ? "train.epochs=3 data.dir=<d>" : "");
    if (running) snprintf(info.sweep, sizeof info.sweep, "grid");
    info.sweep_index = 1;
    info.sweep_count = 2;
    snprintf(info.error, sizeof info.error, "%s", error ? error : "");
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    if (loss_csv) write_text(folder, "loss.csv", loss_csv);
}

static void make_png(const char *folder, const char *name)
{
    unsigned char px[8 * 4];
    for (int i = 0; i < 32; i++) px[i] = (unsigned char)(i * 8);
    char path[1024];
    Err err = {{0}};
    snprintf(path, sizeof path, "%s/%s", folder, name);
    CHECK(pngio_write(path, px, 8, 4, 1, &err) == 0, "%s", err.msg);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Every src="..." and href="..." in the page at dir/index.html: relative (no
 * scheme, no leading slash), and, percent-decoded (after undoing the HTML
 * entities an attribute may hold), a file or folder that exists beside it. */
static void check_links(const char *dir)
{
    char page[1024];
    snprintf(page, sizeof page, "%s/index.html", dir);
    char *t = read_text(page);
    int links = 0;
    static const char *const attrs[] = {" src=\"", " href=\""};
    for (int a = 0; a < 2; a++) {
        for (const char *p = t; (p = strstr(p, attrs[a]));) {
            p += strlen(attrs[a]);
            const char *q = strchr(p, '"');
            if (!q) break;
            char raw[1024], dec[1024], path[2200];
            snprintf(raw, sizeof raw, "%.*s", (int)(q - p), p);
            links++;
            CHECK(strstr(raw, ":") == NULL && raw[0] != '/', "%s: not relative: %s", page, raw);
            CHECK(strchr(raw, '&') == NULL, "%s: link with entities: %s", page, raw);
            size_t n = 0;
            for (const char *r = raw; *r && n + 1 < sizeof dec; r++) {
                if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
                    dec[n++] = (char)(hexval(r[1]) * 16 + hexval(r[2]));
                    r += 2;
                } else {
                    dec[n++] = *r;
                }
            }
            dec[n] = '\0';
            snprintf(path, sizeof path, "%s/%s", dir, dec);
            struct stat st;
            CHECK(stat(path, &st) == 0, "%s links to %s, which is not there", page, raw);
            p = q;
        }
    }
    CHECK(links > 0, "%s has no links at all", page);
    free(t);
}

static char *page_of(const char *folder)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/index.html", folder);
    return read_text(path);
}

/* The page of a run whose items are not images (run.json: 37 values, no
 * image shape) and whose config names its labels: the data row, notes in
 * place of the reconstructions and the manifold, and the table of the
 * classes used by name. Its own root, so the index checks stay as they are. */
static void check_data_page(void)
{
    char dir[64], run[512];
    test_tmpdir(dir, sizeof dir, "report-data");
    snprintf(run, sizeof run, "%s/20240101-000001-x", dir);
    CHECK(mkdir(run, 0777) == 0, "mkdir %s", run);
    Config cfg;
    Err err = {{0}};
    config_defaults(&cfg);
    CHECK(config_set(&cfg, "data.label_names=zero, one, two <2>", &err) == 0 &&
              config_set(&cfg, "data.classes=1,2", &err) == 0,
          "%s", err.msg);
    char path[1024];
    snprintf(path, sizeof path, "%s/config.ini", run);
    FILE *f = fopen(path, "w");
    if (f) {
        config_write(&cfg, f);
        fclose(f);
    }
    RunRecord info;
    runfolder_record_init(&info, run);
    info.status = RUN_COMPLETED;
    snprintf(info.name, sizeof info.name, "x");
    info.input_values = 37;
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    CHECK(report_write_run_page(run, &err) == 0, "%s", err.msg);
    char *page = page_of(run);
    CHECK_CONTAINS(page, "<tr><th>data</th><td>37 values per item, not images</td></tr>");
    CHECK_CONTAINS(page, "the items are 37 values each, not images (a .npy of shape (N, D)), so "
                         "no reconstruction grid is drawn");
    CHECK_CONTAINS(page, "so no manifold is drawn");
    CHECK_CONTAINS(page, "<tr><td class=\"num\">1</td><td>one</td></tr>\n"
                         "<tr><td class=\"num\">2</td><td>two &lt;2&gt;</td></tr>");
    CHECK(strstr(page, "<td>zero</td>") == NULL, "class 0 is not used: not listed");
    free(page);
    /* an image run of 28x28 says so */
    info.image_rows = info.image_cols = 28;
    info.input_values = 784;
    CHECK(runfolder_write_json(&info, &err) == 0 && report_write_run_page(run, &err) == 0, "%s",
          err.msg);
    page = page_of(run);
    CHECK_CONTAINS(page, "<tr><th>data</th><td>28x28 images</td></tr>");
    CHECK(strstr(page, "not images") == NULL, "an image run has its pictures");
    free(page);
    /* colour: channels x rows x cols */
    info.image_rows = info.image_cols = 32;
    info.image_channels = 3;
    info.input_values = 3072;
    CHECK(runfolder_write_json(&info, &err) == 0 && report_write_run_page(run, &err) == 0, "%s",
          err.msg);
    page = page_of(run);
    CHECK_CONTAINS(page, "<tr><th>data</th><td>3x32x32 images</td></tr>");
    free(page);
    CHECK(test_rmdir(dir) == 0, "cleanup %s", dir);
}

int main(void)
{
    check_data_page();
    test_tmpdir(root, sizeof root, "report");
    Err err = {{0}};
    char a[512], b[512], c[512], d[512], g[512], junk[512];
    const char *hdr = "epoch,train_loss,test_loss,seconds,images_per_second\n";
    char loss3[512];
    snprintf(loss3, sizeof loss3, "%s1,0.09,0.1,4.1,1000\n2,0.05,0.06,4.2,1001\n"
                                  "3,0.01,0.011,4.0,1002\n", hdr);
    make_run(a, sizeof a, "20240101-000001-a", RUN_COMPLETED, 1e-3, WEIRD_DIR, loss3, NULL,
             WEIRD_NAME);
    make_png(a, "recon-epoch-001.png");
    make_png(a, "recon-epoch-003.png");
    make_png(a, "recon-epoch-x.png"); /* not an epoch's grid: never shown */
    float z[] = {0, 0, 1, 1, -1, 0.5f, 0.2f, -0.3f};
    unsigned char lab[] = {1, 5, 6, 1};
    char path[1024];
    snprintf(path, sizeof path, "%s/latent.png", a);
    PlotLatent pl = {.n = 4, .k = 2, .z = z, .labels = lab, .title = "a"};
    CHECK(plot_write_latent(path, PLOT_PNG, &pl, &err) == 0, "%s", err.msg);

    make_run(b, sizeof b, "20240101-000002-b", RUN_COMPLETED, 1e-4, "data/mnist", loss3, NULL,
             "b");
    make_run(c, sizeof c, "20240101-000003-c", RUN_FAILED, 1e-2, "data/mnist",
             "epoch,train_loss,test_loss,seconds,images_per_second\n1,0.9,nan,4,1000\n",
             "out of <memory> & \"more\"", "c");
    char loss_running[512];
    snprintf(loss_running, sizeof loss_running, "%s1,0.5,0.6,3,900\n2,0.4", hdr); /* mid-row */
    make_run(d, sizeof d, "20240101-000004-d", RUN_RUNNING, 1e-2, "data/mnist", loss_running,
             NULL, "d");
    /* garbled: a run folder whose run.json was cut; config.ini and a cut loss.csv */
    make_run(g, sizeof g, "20240101-000005-garbled", RUN_COMPLETED, 1e-2, "data/mnist",
             "epoch,train_loss,test_loss,seconds,images_per_second\n1,0.5,0.6,3,900\n"
             "two,0.4,0.5,3,900\n2,0.4,0.",
             NULL, "g");
    write_text(g, "run.json", "{\"status\": \"compl");
    snprintf(junk, sizeof junk, "%s/%s", root, JUNK);
    CHECK(mkdir(junk, 0777) == 0, "mkdir %s", junk);
    write_text(junk, "notes.txt", "\x01\x02 junk <script>alert(1)</script>\n");
    snprintf(path, sizeof path, "%s/.hidden", root);
    CHECK(mkdir(path, 0777) == 0, "mkdir %s", path);
    write_text(root, "stray.txt", "not a folder\n");
    write_text(root, "runs.csv", "run,gone\nold-run,1\n"); /* stale: must be replaced */

    /* ---- run pages ---- */
    const char *run_dirs[] = {a, b, c, d, g};
    for (int i = 0; i < 5; i++)
        CHECK(report_write_run_page(run_dirs[i], &err) == 0, "%s: %s", run_dirs[i], err.msg);
    snprintf(path, sizeof path, "%s/nowhere", root);
    CHECK(report_write_run_page(path, &err) == -1 && strstr(err.msg, "nowhere"),
          "a missing folder: '%s'", err.msg);

    char *pa = page_of(a), *pb = page_of(b), *pc = page_of(c), *pd = page_of(d), *pg = page_of(g);
    char *pages[] = {pa, pb, pc, pd, pg};
    CHECK_CONTAINS(pa, "<title>" WEIRD_NAME_HTML " (completed)");
    CHECK_CONTAINS(pa, "<h1>" WEIRD_NAME_HTML " <span class=\"badge s-completed\">completed");
    CHECK(strstr(pa, WEIRD_NAME) == NULL, "raw name in the page");
    CHECK_CONTAINS(pa, "dir = " WEIRD_DIR_HTML "\n");
    CHECK(strstr(pa, WEIRD_DIR) == NULL, "raw config value in the page");
    CHECK_CONTAINS(pa, "0:0 cpu &lt;x86&gt;");
    CHECK_CONTAINS(pa, "<tr><th>epochs</th><td>3 of 3</td></tr>");
    CHECK_CONTAINS(pa, "<tr><th>final test loss</th><td>0.011</td></tr>");
    CHECK_CONTAINS(pa, "<tr><th>images/s</th><td>1000</td></tr>");
    CHECK_CONTAINS(pa, "<tr><th>started</th><td>");
    CHECK(strstr(pa, "<svg") && strstr(pa, "</svg>"), "no inline loss SVG");
    CHECK(strstr(pa, "<img src=\"loss.svg\"") == NULL, "the loss plot is inline, not a file");
    char *r3 = strstr(pa, "src=\"recon-epoch-003.png\""), *r1 = strstr(pa, "src=\"recon-epoch-001.png\"");
    CHECK(r3 && r1 && r3 < r1, "recon grids newest first");
    CHECK_CONTAINS(pa, "<figcaption>epoch 3</figcaption>");
    CHECK(strstr(pa, "recon-epoch-x") == NULL, "a non-epoch PNG shown");
    CHECK_CONTAINS(pa, "<img src=\"latent.png\"");
    CHECK_CONTAINS(pa, "written when the run completes"); /* the manifold */
    CHECK_CONTAINS(pb, "Not in this folder: written when the run completes.");
    CHECK_CONTAINS(pc, "<span class=\"badge s-failed\">failed");
    CHECK_CONTAINS(pc, "out of &lt;memory&gt; &amp; &quot;more&quot;");
    CHECK_CONTAINS(pd, "<meta http-equiv=\"refresh\" content=\"30\">");
    CHECK_CONTAINS(pd, "still running");
    CHECK_CONTAINS(pd, "data.dir=&lt;d&gt;");
    CHECK_CONTAINS(pd, "grid, job 1");
    CHECK_CONTAINS(pd, "1 line of loss.csv could not be read");
    CHECK_CONTAINS(pd, "Written when the run completes.");
    CHECK_CONTAINS(pg, "run.json could not be read");
    CHECK_CONTAINS(pg, "<span class=\"badge s-other\">not a run");
    CHECK_CONTAINS(pg, "<svg");
    CHECK_CONTAINS(pg, "2 lines of loss.csv could not be read");
    CHECK_CONTAINS(pg, "\n[device]\nplatform =");
    for (int i = 0; i < 5; i++) {
        CHECK((strstr(pages[i], "http-equiv=\"refresh\"") != NULL) == (i == 3),
              "refresh tag on page %d", i);
        CHECK(strstr(pages[i], "<script") == NULL, "script in run page %d", i);
        CHECK(strstr(pages[i], "url(") == NULL && strstr(pages[i], "@import") == NULL,
              "CSS that fetches in run page %d", i);
        CHECK_CONTAINS(pages[i], "<nav><a href=\"../\">"); /* no index yet */
    }
    for (int i = 0; i < 5; i++) free(pages[i]);

    /* ---- the index and runs.csv ---- */
    CHECK(report_write_index(root, &err) == 0, "%s", err.msg);
    char *ix = page_of(root);
    char *body = strstr(ix, "<tbody>");
    CHECK(body != NULL, "no tbody");
    CHECK(count_of(body ? body : "", "<tr") == 6, "%d rows, want 6 (5 runs and the junk folder)",
          count_of(body ? body : "", "<tr"));
    static const char *const ids[] = {"20240101-000001-a", "20240101-000002-b",
                                      "20240101-000003-c", "20240101-000004-d",
                                      "20240101-000005-garbled"};
    for (int i = 0; i < 5; i++) {
        char want[256];
        snprintf(want, sizeof want, "<a href=\"%s/index.html\">%s</a>", ids[i], ids[i]);
        CHECK_CONTAINS(ix, want);
    }
    CHECK_CONTAINS(ix, "<a href=\"zz%20junk%20%3C%26%3E/\">zz junk &lt;&amp;&gt;</a>");
    CHECK(strstr(ix, ".hidden") == NULL && strstr(ix, "stray.txt") == NULL,
          "hidden folder or plain file listed");
    /* the header: only the keys that differ, in key-table order */
    char cols[1024] = "";
    for (const char *p = ix; (p = strstr(p, "data-col=\"")); p++) {
        const char *q = strchr(p + 10, '"');
        size_t at = strlen(cols);
        snprintf(cols + at, sizeof cols - at, "%.*s ", (int)(q - p - 10), p + 10);
    }
    CHECK(strcmp(cols, "run name start status data.dir train.learning_rate train_loss "
                       "test_loss images_per_second epochs ") == 0,
          "columns '%s'", cols);
    CHECK_CONTAINS(ix, "<td>" WEIRD_DIR_HTML "</td>");
    CHECK(strstr(ix, WEIRD_DIR) == NULL && strstr(ix, WEIRD_NAME) == NULL, "raw text in index");
    CHECK_CONTAINS(ix, "<img src=\"20240101-000001-a/latent.png\" width=\"160\"");
    CHECK(count_of(ix, "<img ") == 1, "thumbnails: %d, want 1", count_of(ix, "<img "));
    CHECK_CONTAINS(ix, "<tr class=\"dim\">\n<td data-v=\"20240101-000003-c\">");
    CHECK_CONTAINS(ix, "<tr class=\"dim\">\n<td data-v=\"20240101-000005-garbled\">");
    CHECK_CONTAINS(ix, "<tr class=\"dim\">\n<td data-v=\"zz junk &lt;&amp;&gt;\">");
    CHECK_CONTAINS(ix, "<tr>\n<td data-v=\"20240101-000004-d\">");
    CHECK_CONTAINS(ix, "no run.json</span>");
    CHECK_CONTAINS(ix, "title=\"out of &lt;memory&gt; &amp; &quot;more&quot;\"");
    CHECK_CONTAINS(ix, "<td class=\"num\" data-v=\"0.011\">0.011</td>");
    CHECK_CONTAINS(ix, "<td class=\"num\" data-v=\"3\">3/3</td>");
    CHECK_CONTAINS(ix, "6 runs (2 completed, 1 running, 1 failed, 2 not a run)");
    CHECK_CONTAINS(ix, "<script>");
    CHECK(strstr(ix, "<script src") == NULL && strstr(ix, "http") == NULL,
          "external reference in the index");
    free(ix);

    /* runs.csv: the documented header, then exactly the completed runs */
    snprintf(path, sizeof path, "%s/runs.csv", root);
    char *csv = read_text(path), *want = NULL;
    size_t wlen = 0;
    FILE *mem = open_memstream(&want, &wlen);
    runs_csv_header(mem);
    for (int i = 0; i < 2; i++) {
        RunRecord s;
        CHECK(runfolder_read(i ? b : a, &s, &err) == 0, "%s", err.msg);
        runs_csv_row(mem, &s);
    }
    fclose(mem);
    CHECK(strcmp(csv, want) == 0, "runs.csv:\n%s\nwant:\n%s", csv, want);
    static const char header[] = "run,name,status,start_time,end_time,epochs_completed,epochs,"
                                 "final_train_loss,final_test_loss,images_per_second,seconds,"
                                 "device,sweep,sweep_index,overrides\n";
    CHECK(strncmp(csv, header, sizeof header - 1) == 0, "header: %.200s", csv);
    free(csv);
    free(want);

    /* every link of every page resolves, once the pages see the index */
    for (int i = 0; i < 5; i++) {
        CHECK(report_write_run_page(run_dirs[i], &err) == 0, "%s", err.msg);
        char *p = page_of(run_dirs[i]);
        CHECK_CONTAINS(p, "<nav><a href=\"../index.html\">");
        free(p);
        check_links(run_dirs[i]);
    }
    check_links(root);
    snprintf(path, sizeof path, "%s/index.html", junk);
    CHECK(access(path, F_OK) != 0, "a page written into the junk folder");

    /* ---- clae report ---- */
    CHECK(report_root(root) == 0, "clae report ROOT");
    CHECK(access(path, F_OK) != 0, "clae report wrote into the junk folder");
    snprintf(path, sizeof path, "%s/nowhere", root);
    CHECK(report_root(path) == 2, "missing ROOT");
    CHECK(report_write_index(path, &err) == -1 && strstr(err.msg, "nowhere"),
          "index of a missing root: '%s'", err.msg);

    if (test_rmdir(root) != 0) fprintf(stderr, "could not remove %s\n", root);
    return check_done("test_report");
}
