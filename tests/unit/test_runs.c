/* test_runs: reading run folders, scanning a root, and runs.csv under
 * concurrent appends and rewrites. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "heartbeat.h"
#include "runfolder.h"
#include "runs.h"

#define N_COLS 15

/* ---- a tiny RFC 4180 reader, independent of the writer ------------------- */

typedef struct {
    char **field;
    int n;
} Rec;

typedef struct {
    Rec *rec;
    int n;
} Csv;

static void csv_free(Csv *c)
{
    for (int i = 0; i < c->n; i++) {
        for (int k = 0; k < c->rec[i].n; k++) free(c->rec[i].field[k]);
        free(c->rec[i].field);
    }
    free(c->rec);
    c->rec = NULL;
    c->n = 0;
}

/* Parses text into records; -1 when it is not well-formed CSV (stray quote,
 * unterminated quote, last record without its newline). */
static int csv_parse(const char *t, Csv *c)
{
    memset(c, 0, sizeof *c);
    size_t cap = strlen(t) + 1;
    char *buf = malloc(cap);
    while (*t) {
        Rec r = {0};
        for (;;) { /* one field */
            size_t n = 0;
            if (*t == '"') {
                t++;
                for (;;) {
                    if (!*t) goto bad;
                    if (*t == '"') {
                        if (t[1] == '"') buf[n++] = '"', t += 2;
                        else { t++; break; }
                    } else {
                        buf[n++] = *t++;
                    }
                }
                if (*t != ',' && *t != '\n') goto bad;
            } else {
                while (*t && *t != ',' && *t != '\n') {
                    if (*t == '"' || *t == '\r') goto bad;
                    buf[n++] = *t++;
                }
                if (!*t) goto bad; /* no final newline: a torn row */
            }
            buf[n] = '\0';
            r.field = realloc(r.field, (size_t)(r.n + 1) * sizeof *r.field);
            r.field[r.n++] = strdup(buf);
            if (*t++ == '\n') break;
        }
        c->rec = realloc(c->rec, (size_t)(c->n + 1) * sizeof *c->rec);
        c->rec[c->n++] = r;
        continue;
    bad:
        for (int k = 0; k < r.n; k++) free(r.field[k]);
        free(r.field);
        free(buf);
        csv_free(c);
        return -1;
    }
    free(buf);
    return 0;
}

static int csv_load(const char *path, Csv *c)
{
    memset(c, 0, sizeof *c);
    Err err = {{0}};
    char *text = util_read_file(path, NULL, &err);
    if (!text) return -1;
    int rc = csv_parse(text, c);
    free(text);
    return rc;
}

/* header + rows, every record N_COLS wide; returns the row count or -1 */
static int csv_check(const char *path, Csv *c)
{
    if (csv_load(path, c)) return -1;
    if (c->n < 1 || c->rec[0].n != N_COLS || strcmp(c->rec[0].field[0], "run") != 0) return -1;
    for (int i = 0; i < c->n; i++)
        if (c->rec[i].n != N_COLS) return -1;
    return c->n - 1;
}

/* ---- fixtures -------------------------------------------------------------- */

/* A completed run's record; make_run gives it its folder and times. */
static RunRecord base_info(void)
{
    RunRecord in;
    runfolder_record_init(&in, "");
    in.status = RUN_COMPLETED;
    in.platform = "Portable Computing Language";
    snprintf(in.device_name, sizeof in.device_name, "cpu-haswell-AMD EPYC");
    in.device_version = "OpenCL 3.0";
    in.driver_version = "6.0";
    snprintf(in.device_index, sizeof in.device_index, "0:1");
    in.clblast_version = "1.6.3";
    in.kernel_dir = "/src/cl";
    in.kernel_dir_source = "source tree";
    snprintf(in.name, sizeof in.name, "exp");
    in.epochs_done = in.epochs = 3;
    in.train_loss = 0.0412345678;
    in.test_loss = 0.0398765432;
    in.seconds = 12.5;
    in.images_per_second = 45678.9;
    in.train_images = 18000;
    in.test_images = 3000;
    in.command_line = "clae train exp.ini";
    return in;
}

/* A run folder under root named `name`, started at `start` (and ended at
 * `end`; 0: not yet), whose run.json says what in says. */
static void make_run(RunFolder *run, const char *root, const char *name, time_t start,
                     time_t end, RunRecord *in)
{
    Err err = {{0}};
    CHECK(runfolder_create(run, root, name, start, &err) == 0, "%s", err.msg);
    snprintf(in->folder, sizeof in->folder, "%s", run->dir);
    runfolder_iso_time(in->start, sizeof in->start, start);
    runfolder_iso_time(in->end, sizeof in->end, end);
    CHECK(runfolder_write_json(in, &err) == 0, "%s", err.msg);
}

/* The device as the tables show it. */
static const char *device_of(const RunRecord *s)
{
    static char buf[512];
    runfolder_device_label(s, buf, sizeof buf);
    return buf;
}

/* ---- runfolder_read / runs_scan ---------------------------------------------- */

static void test_read_scan(const char *root)
{
    Err err = {{0}};
    RunFolder a, b, c;
    RunRecord in = base_info();
    snprintf(in.device_name, sizeof in.device_name, "GPU \"big\", 80 GiB\tcaf\xc3\xa9");
    snprintf(in.overrides, sizeof in.overrides, "train.learning_rate=0.001 model.latent=3");
    snprintf(in.sweep, sizeof in.sweep, "lr");
    in.sweep_index = 2;
    in.sweep_count = 4;
    make_run(&a, root, "alpha", 1700000000, 1700000100, &in);

    in = base_info();
    in.status = RUN_FAILED;
    snprintf(in.name, sizeof in.name, "beta");
    in.epochs_done = 1;
    in.test_loss = NAN;
    in.train_loss = NAN;
    snprintf(in.error, sizeof in.error, "clEnqueueNDRangeKernel: \"CL_OUT_OF_RESOURCES\"\nat line 2\\");
    make_run(&b, root, "beta", 1700000200, 1700000100, &in);

    in = base_info();
    in.status = RUN_RUNNING;
    snprintf(in.name, sizeof in.name, "gamma");
    in.epochs_done = 0;
    in.train_loss = in.test_loss = in.seconds = in.images_per_second = NAN;
    make_run(&c, root, "gamma", 1700000300, 0, &in);

    char path[4300];
    snprintf(path, sizeof path, "%s/zz-broken", root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/zz-broken/run.json", root);
    const char broken[] = "{\"status\": \"completed\", \"name\": \"x\", \"epochs\": [1, 2";
    test_spit(path, broken, sizeof broken - 1);
    snprintf(path, sizeof path, "%s/zz-empty", root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/.hidden", root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/notes.txt", root);
    test_spit(path, "not a folder\n", 13);
    /* hand-written: \u escapes, surrogate pair, unknown keys of every kind */
    snprintf(path, sizeof path, "%s/zz-hand", root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/zz-hand/run.json", root);
    const char hand[] =
        " {\"future\": {\"a\": [1, {\"b\": [true, false, null]}, -2.5e-3], \"c\": \"\\\"\"},\n"
        "  \"status\": \"completed\", \"name\": \"caf\\u00e9 \\ud83d\\ude00 \\u20ac\\/\\t\",\n"
        "  \"start_time\": null, \"epochs_completed\": 7, \"epochs\": 7,\n"
        "  \"final_test_loss\": 1E-2, \"final_train_loss\": 0, \"seconds\": -0.5,\n"
        "  \"device\": {\"index\": \"1:0\", \"extra\": [], \"name\": \"X\"},\n"
        "  \"sweep\": {\"name\": \"s\", \"index\": 0, \"count\": 1}, \"error\": null}\r\n";
    test_spit(path, hand, sizeof hand - 1);

    RunRecord s;
    CHECK(runfolder_read(a.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(strcmp(s.folder, a.dir) == 0, "%s", s.folder);
    CHECK(strcmp(s.id, strrchr(a.dir, '/') + 1) == 0, "id %s", s.id);
    CHECK(strcmp(s.name, "exp") == 0, "%s", s.name);
    CHECK(s.status == RUN_COMPLETED, "%s", runfolder_status_text(&s));
    CHECK(strncmp(s.start, "2023-11-14T", 11) == 0 || strncmp(s.start, "2023-11-15T", 11) == 0,
          "start %s", s.start);
    CHECK(strlen(s.end) == strlen(s.start) && strcmp(s.end, s.start) > 0, "end %s", s.end);
    CHECK(s.epochs_done == 3 && s.epochs == 3, "%d/%d", s.epochs_done, s.epochs);
    CHECK(s.train_loss == 0.0412345678 && s.test_loss == 0.0398765432, "%.9g %.9g", s.train_loss,
          s.test_loss);
    CHECK(s.seconds == 12.5 && s.images_per_second == 45678.9, "%g %g", s.seconds,
          s.images_per_second);
    CHECK(strcmp(device_of(&s), "0:1 GPU \"big\", 80 GiB\tcaf\xc3\xa9") == 0, "device '%s'", device_of(&s));
    CHECK(strcmp(s.sweep, "lr") == 0 && s.sweep_index == 2, "%s %d", s.sweep, s.sweep_index);
    CHECK(strcmp(s.overrides, "train.learning_rate=0.001 model.latent=3") == 0, "%s", s.overrides);
    CHECK(s.error[0] == '\0', "%s", s.error);

    CHECK(runfolder_read(b.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(s.status == RUN_FAILED && strcmp(s.name, "beta") == 0, "%s %s", runfolder_status_text(&s), s.name);
    CHECK(isnan(s.test_loss) && isnan(s.train_loss), "NaN losses from null");
    CHECK(strcmp(s.error, "clEnqueueNDRangeKernel: \"CL_OUT_OF_RESOURCES\"\nat line 2\\") == 0,
          "error '%s'", s.error);
    CHECK(s.sweep[0] == '\0' && s.sweep_index == -1, "no sweep: '%s' %d", s.sweep, s.sweep_index);
    CHECK(s.overrides[0] == '\0', "%s", s.overrides);

    CHECK(runfolder_read(c.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(s.status == RUN_RUNNING && s.end[0] == '\0', "%s '%s'", runfolder_status_text(&s), s.end);
    CHECK(isnan(s.seconds) && isnan(s.images_per_second), "NaN");

    snprintf(path, sizeof path, "%s/zz-hand", root);
    CHECK(runfolder_read(path, &s, &err) == 0, "%s", err.msg);
    CHECK(strcmp(s.name, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac/\t") == 0, "name '%s'", s.name);
    CHECK(s.start[0] == '\0' && s.test_loss == 0.01 && s.train_loss == 0 && s.seconds == -0.5,
          "'%s' %g %g %g", s.start, s.test_loss, s.train_loss, s.seconds);
    CHECK(strcmp(device_of(&s), "1:0 X") == 0 && strcmp(s.sweep, "s") == 0 && s.sweep_index == 0,
          "%s %s %d", device_of(&s), s.sweep, s.sweep_index);
    CHECK(strcmp(s.id, "zz-hand") == 0, "%s", s.id);

    /* a trailing slash does not change the id */
    snprintf(path, sizeof path, "%s/zz-hand//", root);
    CHECK(runfolder_read(path, &s, &err) == 0 && strcmp(s.id, "zz-hand") == 0, "id '%s'", s.id);

    snprintf(path, sizeof path, "%s/zz-broken", root);
    CHECK(runfolder_read(path, &s, &err) == -1, "broken run.json read");
    CHECK(s.status == RUN_NOT_A_RUN, "%s", runfolder_status_text(&s));
    CHECK_CONTAINS(err.msg, "zz-broken/run.json");
    CHECK_CONTAINS(s.error, "run.json:1:");
    CHECK(s.name[0] == '\0' && isnan(s.test_loss) && s.epochs == 0, "reset on failure");

    snprintf(path, sizeof path, "%s/zz-empty", root);
    CHECK(runfolder_read(path, &s, &err) == -1, "no run.json read");
    CHECK(s.status == RUN_NOT_A_RUN && strcmp(s.error, "no run.json") == 0, "%s: %s",
          runfolder_status_text(&s), s.error);
    CHECK_CONTAINS(err.msg, "zz-empty/run.json");

    RunRecord *all = NULL;
    int n = -1;
    CHECK(runs_scan(root, &all, &n, &err) == 0, "%s", err.msg);
    /* three runs (names start with 2023...), zz-broken, zz-empty, zz-hand */
    CHECK(n == 6, "%d folders", n);
    if (n == 6) {
        CHECK(strcmp(all[0].name, "exp") == 0, "%s", all[0].id);
        CHECK(strcmp(all[1].name, "beta") == 0, "%s", all[1].id);
        CHECK(strcmp(all[2].name, "gamma") == 0, "%s", all[2].id);
        CHECK(strcmp(all[3].id, "zz-broken") == 0 && all[3].status == RUN_NOT_A_RUN,
              "%s %s", all[3].id, runfolder_status_text(&all[3]));
        CHECK(strcmp(all[4].id, "zz-empty") == 0 && all[4].status == RUN_NOT_A_RUN,
              "%s %s", all[4].id, runfolder_status_text(&all[4]));
        CHECK(strcmp(all[5].id, "zz-hand") == 0 && all[5].status == RUN_COMPLETED,
              "%s %s", all[5].id, runfolder_status_text(&all[5]));
        for (int i = 1; i < n; i++)
            CHECK(strcmp(all[i - 1].id, all[i].id) < 0, "sorted: %s %s", all[i - 1].id, all[i].id);
        snprintf(path, sizeof path, "%s/%s", root, all[1].id);
        CHECK(strcmp(all[1].folder, path) == 0, "%s", all[1].folder);
    }
    free(all);

    snprintf(path, sizeof path, "%s/zz-empty", root); /* no subfolders: no runs */
    CHECK(runs_scan(path, &all, &n, &err) == 0 && n == 0, "empty root: %d (%s)", n, err.msg);
    free(all);

    snprintf(path, sizeof path, "%s/nowhere", root);
    CHECK(runs_scan(path, &all, &n, &err) == -1 && all == NULL && n == 0, "missing root scanned");
    CHECK_CONTAINS(err.msg, path);
}

/* Garbage of every kind is "not a run" with a reason, never a crash. */
static void test_garbage(const char *root)
{
    char dir[4300], path[4400];
    snprintf(dir, sizeof dir, "%s/g", root);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/run.json", dir);
    static const char *const bad[] = {
        "",
        "   ",
        "{",
        "[]",
        "null",
        "{}",
        "{\"status\": 3, \"name\": \"a\"}",
        "{\"status\": \"completed\"}",
        "{\"status\": \"\", \"name\": \"a\"}",
        "{\"status\": \"completed\", \"name\": \"a\"} x",
        "{\"status\": \"completed\", \"name\": \"a\",}",
        "{\"status\": \"completed\" \"name\": \"a\"}",
        "{\"status\": \"completed\", \"name\": \"a\", \"epochs\": 1.5}",
        "{\"status\": \"completed\", \"name\": \"a\", \"epochs\": 0x10}",
        "{\"status\": \"completed\", \"name\": \"a\", \"seconds\": NaN}",
        "{\"status\": \"completed\", \"name\": \"a\", \"seconds\": 01}",
        "{\"status\": \"completed\", \"name\": \"a\", \"seconds\": 1.}",
        "{\"status\": \"completed\", \"name\": \"a\", \"seconds\": -}",
        "{\"status\": \"completed\", \"name\": \"a\", \"seconds\": 1e}",
        "{\"status\": \"completed\", \"name\": \"\\ud800\"}",
        "{\"status\": \"completed\", \"name\": \"\\udc00\"}",
        "{\"status\": \"completed\", \"name\": \"\\ud800\\u0041\"}",
        "{\"status\": \"completed\", \"name\": \"\\u00\"}",
        "{\"status\": \"completed\", \"name\": \"\\u0000\"}",
        "{\"status\": \"completed\", \"name\": \"\\x\"}",
        "{\"status\": \"completed\", \"name\": \"a\tb\"}",
        "{\"status\": \"completed\", \"name\": \"a\\",
        "{\"status\": \"completed\", \"name\": \"a\", \"device\": \"0:0\"}",
        "{\"status\": \"completed\", \"name\": \"a\", \"sweep\": 3}",
        "{\"status\": \"completed\", \"name\": \"a\", \"x\": tru}",
        "{\"status\": \"completed\", \"name\": \"a\", \"x\": [1 2]}",
        "{\"status\": \"completed\", \"name\": \"a\", \"x\": {1: 2}}",
        "\xef\xbb\xbf{\"status\": \"completed\", \"name\": \"a\"}",
    };
    Err err = {{0}};
    RunRecord s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_spit(path, bad[i], strlen(bad[i]));
        int rc = runfolder_read(dir, &s, &err);
        CHECK(rc == -1 && s.status == RUN_NOT_A_RUN && s.error[0],
              "garbage %zu '%s' read as %s", i, bad[i], runfolder_status_text(&s));
    }
    /* NUL inside, and nesting far deeper than the stack would take (jansson stops at
     * JSON_PARSER_MAX_DEPTH, 2048 levels) */
    static const char nul[] = "{\"status\": \"completed\",\0 \"name\": \"a\"}";
    test_spit(path, nul, sizeof nul - 1);
    CHECK(runfolder_read(dir, &s, &err) == -1, "NUL inside accepted");
    size_t deep = 200000;
    char *text = malloc(deep + 64);
    strcpy(text, "{\"status\": \"completed\", \"name\": \"a\", \"x\": ");
    size_t at = strlen(text);
    memset(text + at, '[', deep);
    test_spit(path, text, at + deep);
    CHECK(runfolder_read(dir, &s, &err) == -1, "deep nesting accepted");
    CHECK_CONTAINS(s.error, "run.json:1:2090: maximum parsing depth reached");
    free(text);
    /* over 1 MiB is refused unread: jansson would hold up to 75 times that */
    text = calloc(1, (1 << 20) + 1);
    memset(text, ' ', (1 << 20) + 1);
    static const char small[] = "{\"status\": \"completed\", \"name\": \"a\"}";
    memcpy(text, small, sizeof small - 1); /* valid JSON, padded with white space */
    test_spit(path, text, (1 << 20) + 1);
    CHECK(runfolder_read(dir, &s, &err) == -1 && strcmp(s.error, "run.json is too large") == 0,
          "a run.json of 1 MiB + 1: %s", s.error);
    free(text);
    /* a long string is cut to the field, at a character boundary */
    char longname[3000] = "{\"status\": \"completed\", \"name\": \"";
    at = strlen(longname);
    for (int k = 0; k < 600; k++) memcpy(longname + at + 2 * (size_t)k, "\xc3\xa9", 2);
    strcpy(longname + at + 1200, "\"}");
    test_spit(path, longname, strlen(longname));
    CHECK(runfolder_read(dir, &s, &err) == 0, "%s", err.msg);
    CHECK(strlen(s.name) == 254, "long name cut to %zu bytes", strlen(s.name));
    /* bytes that are not UTF-8, as clae before jansson wrote a Latin-1 path:
     * the run reads, each such byte as U+FFFD, and writes back as UTF-8 */
    static const char latin1[] = "{\"status\": \"completed\", \"name\": \"caf\xe9\", "
                                 "\"error\": \"\xff\xfe: x\"}";
    test_spit(path, latin1, sizeof latin1 - 1);
    CHECK(runfolder_read(dir, &s, &err) == 0 && strcmp(s.name, "caf\xef\xbf\xbd") == 0 &&
              strcmp(s.error, "\xef\xbf\xbd\xef\xbf\xbd: x") == 0,
          "Latin-1 bytes: '%s' '%s' (%s)", s.name, s.error, err.msg);
    snprintf(s.name, sizeof s.name, "caf\xe9");
    CHECK(runfolder_write_json(&s, &err) == 0, "%s", err.msg);
    char *back = util_read_file(path, NULL, &err);
    CHECK(back && strstr(back, "\"name\": \"caf\xef\xbf\xbd\""), "written: %s", back);
    free(back);

    /* every prefix of a real run.json, and random byte flips: never a crash,
     * and a prefix without the closing brace is never a run */
    RunFolder r;
    RunRecord in = base_info();
    snprintf(in.sweep, sizeof in.sweep, "lr");
    snprintf(in.overrides, sizeof in.overrides, "a.b=c");
    snprintf(in.error, sizeof in.error, "oops \"x\"");
    char rdir[4300];
    snprintf(rdir, sizeof rdir, "%s/fuzz", root);
    make_run(&r, rdir, "f", 1700000000, 1700000100, &in);
    char jpath[4400];
    snprintf(jpath, sizeof jpath, "%s/run.json", r.dir);
    size_t len = 0;
    char *good = util_read_file(jpath, &len, &err);
    CHECK(good != NULL, "%s", err.msg);
    if (!good) return;
    int prefix_ok = 1;
    for (size_t n = 0; n + 2 < len; n++) { /* the last two bytes are "}\n" */
        test_spit(jpath, good, n);
        if (runfolder_read(r.dir, &s, NULL) != -1 || s.status != RUN_NOT_A_RUN) prefix_ok = 0;
    }
    CHECK(prefix_ok, "a truncated run.json read as a run");
    char *mut = malloc(len);
    unsigned seed = 12345;
    int fine = 1;
    for (int t = 0; t < 3000; t++) {
        memcpy(mut, good, len);
        for (int k = 0; k < 1 + t % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            mut[(seed >> 8) % len] = (char)(seed >> 20);
        }
        test_spit(jpath, mut, len);
        int rc = runfolder_read(r.dir, &s, NULL);
        if (rc == -1 ? s.status != RUN_NOT_A_RUN || !s.error[0] : s.status == RUN_NOT_A_RUN) fine = 0;
    }
    CHECK(fine, "a mutated run.json gave an inconsistent summary");
    free(mut);
    free(good);
}

/* ---- runs.csv -------------------------------------------------------------- */

static RunRecord row(const char *id, const char *overrides, double test)
{
    RunRecord s;
    memset(&s, 0, sizeof s);
    snprintf(s.folder, sizeof s.folder, "/r/%s", id);
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.name, sizeof s.name, "exp");
    s.status = RUN_COMPLETED;
    snprintf(s.start, sizeof s.start, "2024-01-02T03:04:05+0100");
    snprintf(s.end, sizeof s.end, "2024-01-02T03:14:05+0100");
    s.epochs_done = s.epochs = 40;
    s.train_loss = 0.0123456789;
    s.test_loss = test;
    s.images_per_second = 98765.4321;
    s.seconds = NAN;
    snprintf(s.device_index, sizeof s.device_index, "0:0");
    snprintf(s.device_name, sizeof s.device_name, "pthread, \"fast\"");
    snprintf(s.sweep, sizeof s.sweep, "lr");
    s.sweep_index = 3;
    snprintf(s.overrides, sizeof s.overrides, "%s", overrides);
    return s;
}

static void test_csv_roundtrip(const char *root)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/rt.csv", root);
    static const char *const ov[] = {
        "", "train.learning_rate=0.001", "a.b=1,2,3 c.d=\"q\"", "x=\"\"", "line\nbreak\r\nz", ",",
        "\"",
    };
    int n = (int)(sizeof ov / sizeof ov[0]);
    FILE *f = fopen(path, "wb");
    runs_csv_header(f);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "run-%d", i);
        RunRecord s = row(id, ov[i], i == 2 ? NAN : 0.5 + i);
        if (i == 3) s.sweep[0] = '\0'; /* no sweep: empty name and index */
        runs_csv_row(f, &s);
    }
    fclose(f);
    Csv c;
    CHECK(csv_load(path, &c) == 0, "round-trip CSV does not parse");
    CHECK(c.n == n + 1, "%d records", c.n);
    if (c.n != n + 1) return;
    const char *hdr[N_COLS] = {"run", "name", "status", "start_time", "end_time",
                               "epochs_completed", "epochs", "final_train_loss",
                               "final_test_loss", "images_per_second", "seconds", "device",
                               "sweep", "sweep_index", "overrides"};
    CHECK(c.rec[0].n == N_COLS, "%d header fields", c.rec[0].n);
    for (int k = 0; k < N_COLS && k < c.rec[0].n; k++)
        CHECK(strcmp(c.rec[0].field[k], hdr[k]) == 0, "header %d: %s", k, c.rec[0].field[k]);
    for (int i = 0; i < n; i++) {
        Rec *r = &c.rec[i + 1];
        CHECK(r->n == N_COLS, "row %d: %d fields", i, r->n);
        if (r->n != N_COLS) continue;
        char id[32];
        snprintf(id, sizeof id, "run-%d", i);
        CHECK(strcmp(r->field[0], id) == 0, "%s", r->field[0]);
        CHECK(strcmp(r->field[2], "completed") == 0, "%s", r->field[2]);
        CHECK(strcmp(r->field[3], "2024-01-02T03:04:05+0100") == 0, "%s", r->field[3]);
        CHECK(strcmp(r->field[5], "40") == 0 && strcmp(r->field[6], "40") == 0, "epochs");
        CHECK(strtod(r->field[7], NULL) == 0.0123456789, "train %s", r->field[7]);
        if (i == 2) CHECK(r->field[8][0] == '\0', "NaN test loss as '%s'", r->field[8]);
        else CHECK(strtod(r->field[8], NULL) == 0.5 + i, "test %s", r->field[8]);
        CHECK(strtod(r->field[9], NULL) == 98765.4321, "ips %s", r->field[9]);
        CHECK(r->field[10][0] == '\0', "NaN seconds as '%s'", r->field[10]);
        CHECK(strcmp(r->field[11], "0:0 pthread, \"fast\"") == 0, "%s", r->field[11]);
        CHECK(strcmp(r->field[12], i == 3 ? "" : "lr") == 0, "%s", r->field[12]);
        CHECK(strcmp(r->field[13], i == 3 ? "" : "3") == 0, "%s", r->field[13]);
        CHECK(strcmp(r->field[14], ov[i]) == 0, "overrides '%s' came back '%s'", ov[i],
              r->field[14]);
    }
    csv_free(&c);
}

static void test_append(const char *root)
{
    char dir[4300], csv[4400];
    snprintf(dir, sizeof dir, "%s/app", root);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    Err err = {{0}};
    RunRecord a = row("a", "x.y=1,2", 0.25), b = row("b", "", 0.5);
    CHECK(runs_append(dir, &a, &err) == 0, "%s", err.msg);
    CHECK(runs_append(dir, &b, &err) == 0, "%s", err.msg);
    Csv c;
    CHECK(csv_check(csv, &c) == 2, "header + 2 rows");
    if (c.n == 3)
        CHECK(strcmp(c.rec[1].field[14], "x.y=1,2") == 0 && strcmp(c.rec[2].field[0], "b") == 0,
              "rows in order");
    csv_free(&c);

    /* an empty runs.csv (truncated by hand) gets its header back */
    test_spit(csv, "", 0);
    CHECK(runs_append(dir, &a, &err) == 0, "%s", err.msg);
    CHECK(csv_check(csv, &c) == 1, "header + 1 row after emptying");
    csv_free(&c);
    /* a run already there (a report's reindex came first, or a resume) is
     * not added twice: its row is replaced */
    CHECK(runs_append(dir, &b, &err) == 0, "%s", err.msg);
    RunRecord a2 = row("a", "x.y=3", 0.125);
    CHECK(runs_append(dir, &a2, &err) == 0, "%s", err.msg);
    CHECK(csv_check(csv, &c) == 2, "a second append of run a adds no row");
    if (c.n == 3)
        CHECK(strcmp(c.rec[1].field[0], "a") == 0 && strcmp(c.rec[1].field[14], "x.y=3") == 0 &&
                  strcmp(c.rec[2].field[0], "b") == 0,
              "run a's row replaced in place: %s %s", c.rec[1].field[0], c.rec[1].field[14]);
    csv_free(&c);

    RunRecord rows[3] = {row("r1", "", 1), row("r2", "q=\"", 2), row("r3", "", 3)};
    CHECK(runs_rewrite(dir, rows, 3, &err) == 0, "%s", err.msg);
    CHECK(csv_check(csv, &c) == 3, "rewrite: header + 3 rows");
    if (c.n == 4) CHECK(strcmp(c.rec[2].field[14], "q=\"") == 0, "%s", c.rec[2].field[14]);
    csv_free(&c);
    CHECK(runs_rewrite(dir, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(csv_check(csv, &c) == 0, "rewrite to no rows keeps the header");
    csv_free(&c);

    char missing[4400];
    snprintf(missing, sizeof missing, "%s/nowhere", root);
    CHECK(runs_append(missing, &a, &err) == -1, "append into a missing root");
    CHECK_CONTAINS(err.msg, missing);
    CHECK(runs_rewrite(missing, rows, 3, &err) == -1, "rewrite into a missing root");
    CHECK_CONTAINS(err.msg, missing);
}

/* A row that does not fit (a full disk; here a file-size limit, which makes
 * write() stop short the same way) leaves runs.csv exactly as it was: never
 * half a row that the next append would join. The failing append runs in a
 * child, where the limit is set. */
static void test_short_write(const char *root)
{
    char dir[4300], csv[4400];
    snprintf(dir, sizeof dir, "%s/short", root);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    Err err = {{0}};
    RunRecord a = row("a", "x.y=1", 0.25), b = row("b", "", 0.5);
    CHECK(runs_append(dir, &a, &err) == 0, "%s", err.msg);
    size_t before_len = 0;
    char *before = util_read_file(csv, &before_len, &err);
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        /* room for 10 more bytes: the row gets a few in, then no more */
        struct rlimit rl = {.rlim_cur = before_len + 10, .rlim_max = RLIM_INFINITY};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        Err e = {{0}};
        int rc = runs_append(dir, &b, &e);
        if (write(fds[1], e.msg, strlen(e.msg)) < 0) _exit(3);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fds[1]);
    char msg[ERR_MSG_LEN] = "";
    ssize_t got = read(fds[0], msg, sizeof msg - 1);
    msg[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1, "an append past the limit must fail");
    CHECK_CONTAINS(msg, "runs.csv: write failed: File too large");
    size_t after_len = 0;
    char *after = util_read_file(csv, &after_len, &err);
    CHECK(after && before && after_len == before_len && memcmp(after, before, before_len) == 0,
          "runs.csv after a short write: %zu bytes, was %zu", after_len, before_len);
    free(before);
    free(after);
    /* and the next append, with room, is whole */
    CHECK(runs_append(dir, &b, &err) == 0, "%s", err.msg);
    Csv c;
    CHECK(csv_check(csv, &c) == 2, "header + 2 whole rows after the failed append");
    csv_free(&c);
}

/* run.json of a run in progress names its process; a reader tells a live
 * one ("running") from one whose process is gone ("stale", with the command
 * that continues it), and cannot judge another host's ("running"). */
static void test_stale(const char *root)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/stale", root);
    RunRecord in = base_info();
    in.status = RUN_RUNNING;
    ProcId me;
    proc_self(&me);
    CHECK(me.pid == (long)getpid() && me.host[0] && me.start > 0, "proc_self: pid %ld host '%s' "
          "start %llu", me.pid, me.host, me.start);
    Err err = {{0}};
    RunRecord s;

    /* this very process: alive */
    RunFolder live;
    in.process = me;
    make_run(&live, dir, "live", 1700000000, 0, &in);
    CHECK(runfolder_read(live.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(s.status == RUN_RUNNING, "a live run reads as %s", runfolder_status_text(&s));
    CHECK(s.process.pid == me.pid && strcmp(s.process.host, me.host) == 0 &&
              s.process.start == me.start && strcmp(s.process.boot_id, me.boot_id) == 0,
          "process read back: %ld %s %llu", s.process.pid, s.process.host, s.process.start);

    /* a child that has exited and been reaped: gone; with and without a
     * checkpoint the message says what to type */
    pid_t kid = fork();
    if (kid == 0) _exit(0);
    waitpid(kid, NULL, 0);
    ProcId gone = me;
    gone.pid = kid;
    in.process = gone;
    RunFolder dead;
    make_run(&dead, dir, "dead", 1700000000, 0, &in);
    CHECK(runfolder_read(dead.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(s.status == RUN_STALE, "a run whose process is gone reads as %s", runfolder_status_text(&s));
    CHECK_CONTAINS(s.error, "start it again with: clae train");
    char ckpt[4400];
    snprintf(ckpt, sizeof ckpt, "%s/model.ckpt", dead.dir);
    test_spit(ckpt, "x", 1);
    CHECK(runfolder_read(dead.dir, &s, &err) == 0, "%s", err.msg);
    char want[4500];
    snprintf(want, sizeof want, "continue with: clae train --resume %s", dead.dir);
    CHECK_CONTAINS(s.error, want);

    /* a killed child its parent has not reaped yet (a zombie): gone too */
    kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    ProcId zombie = me;
    zombie.pid = kid;
    zombie.start = 0; /* taken before it died: unknown is fine */
    kill(kid, SIGKILL);
    for (int i = 0; i < 200; i++) { /* until it is a zombie */
        char path[64], buf[512] = "";
        snprintf(path, sizeof path, "/proc/%ld/stat", (long)kid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
            fclose(f);
        }
        char *r = strrchr(buf, ')');
        if (r && r[1] == ' ' && r[2] == 'Z') break;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    in.process = zombie;
    RunFolder z;
    make_run(&z, dir, "zombie", 1700000000, 0, &in);
    CHECK(runfolder_read(z.dir, &s, &err) == 0 && s.status == RUN_STALE,
          "a killed, unreaped process reads as %s", runfolder_status_text(&s));
    waitpid(kid, NULL, 0);

    /* our pid, but another start time: the pid was reused, the run is gone */
    ProcId reused = me;
    reused.start = me.start + 1;
    in.process = reused;
    RunFolder r;
    make_run(&r, dir, "reused", 1700000000, 0, &in);
    CHECK(runfolder_read(r.dir, &s, &err) == 0 && s.status == RUN_STALE,
          "a reused pid reads as %s", runfolder_status_text(&s));

    /* another boot of this host: gone */
    ProcId before = me;
    snprintf(before.boot_id, sizeof before.boot_id, "00000000-0000-0000-0000-000000000000");
    in.process = before;
    RunFolder b;
    make_run(&b, dir, "reboot", 1700000000, 0, &in);
    CHECK(runfolder_read(b.dir, &s, &err) == 0 && s.status == RUN_STALE,
          "a run from an earlier boot reads as %s", runfolder_status_text(&s));

    /* another host, or no process recorded (an older clae): cannot tell */
    ProcId other = gone;
    snprintf(other.host, sizeof other.host, "some-other-host-than-this-one");
    in.process = other;
    RunFolder o;
    make_run(&o, dir, "other", 1700000000, 0, &in);
    CHECK(runfolder_read(o.dir, &s, &err) == 0 && s.status == RUN_RUNNING,
          "another host's run reads as %s", runfolder_status_text(&s));
    memset(&in.process, 0, sizeof in.process);
    RunFolder old;
    make_run(&old, dir, "old", 1700000000, 0, &in);
    CHECK(runfolder_read(old.dir, &s, &err) == 0 && s.status == RUN_RUNNING,
          "a run.json without a process reads as %s", runfolder_status_text(&s));
    CHECK(s.alive == -1 && s.heartbeat == 0, "no heartbeat recorded: alive %d, heartbeat %d",
          s.alive, s.heartbeat);
    /* only "running" is judged: a completed run of a dead process stays so */
    in.process = gone;
    in.status = RUN_COMPLETED;
    RunFolder done;
    make_run(&done, dir, "done", 1700000000, 0, &in);
    CHECK(runfolder_read(done.dir, &s, &err) == 0 && s.status == RUN_COMPLETED,
          "a completed run reads as %s", runfolder_status_text(&s));
}

/* heartbeat.json (text) into run's folder; a beat `ago` seconds old when
 * text is NULL. */
static void beat(const RunFolder *run, double ago, const char *text)
{
    char path[4400], buf[256];
    snprintf(path, sizeof path, "%s/%s", run->dir, HEARTBEAT_FILE);
    if (!text) {
        snprintf(buf, sizeof buf, "{\"time_ms\": %lld, \"interval\": 2, \"allowance\": %d}",
                 (long long)((heartbeat_clock() - ago) * 1000), 2 * HEARTBEAT_MULTIPLE);
        text = buf;
    }
    test_spit_text(path, text);
}

/* A running run of another host, whose process this host cannot ask about,
 * is judged by its heartbeat: running while it is fresh, stale once it is
 * too old or when the file is missing or damaged (with the reason, and the
 * command that continues the run); a run of this host keeps the exact
 * process check whatever its heartbeat says. */
static void test_heartbeat_liveness(const char *root)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/beats", root);
    RunRecord in = base_info(), s;
    in.status = RUN_RUNNING;
    in.heartbeat = 2;
    ProcId me;
    proc_self(&me);
    ProcId other = me;
    snprintf(other.host, sizeof other.host, "node-elsewhere");
    other.pid = 4242;
    in.process = other;
    Err err = {{0}};

    RunFolder fresh;
    make_run(&fresh, dir, "fresh", 1700000000, 0, &in);
    beat(&fresh, 1, NULL);
    CHECK(runfolder_read(fresh.dir, &s, &err) == 0, "%s", err.msg);
    CHECK(s.status == RUN_RUNNING && s.alive == 1 && s.heartbeat == 2,
          "a fresh heartbeat: %s, alive %d, heartbeat %d", runfolder_status_text(&s), s.alive,
          s.heartbeat);
    CHECK(s.heartbeat_age > 0.5 && s.heartbeat_age < 5, "its age %g", s.heartbeat_age);
    char *json = NULL;
    char path[4400];
    snprintf(path, sizeof path, "%s/run.json", fresh.dir);
    CHECK((json = test_slurp(path, NULL)) && strstr(json, "\n  \"heartbeat\": 2,\n"),
          "run.json records the interval: %s", json ? json : "");
    free(json);

    /* expired: stale, how old, the process and host, what to type */
    beat(&fresh, 2 * HEARTBEAT_MULTIPLE + HEARTBEAT_SKEW + 2, NULL);
    CHECK(runfolder_read(fresh.dir, &s, &err) == 0 && s.status == RUN_STALE && s.alive == 0,
          "an expired heartbeat reads as %s", runfolder_status_text(&s));
    CHECK_CONTAINS(s.error, "run.json says running, but its process 4242 on node-elsewhere gives "
                            "no sign of life: heartbeat.json is ");
    CHECK_CONTAINS(s.error, " s old (renewed every 2 s; stale after ");
    CHECK_CONTAINS(s.error, "start it again with: clae train");
    char ckpt[4400], want[4500];
    snprintf(ckpt, sizeof ckpt, "%s/model.ckpt", fresh.dir);
    test_spit(ckpt, "x", 1);
    CHECK(runfolder_read(fresh.dir, &s, &err) == 0 && s.status == RUN_STALE, "with a checkpoint");
    snprintf(want, sizeof want, "3 of 3 epochs were done; continue with: clae train --resume %s",
             fresh.dir);
    CHECK_CONTAINS(s.error, want);

    /* missing and damaged: stale with the reason, never completed or running */
    RunFolder dmg;
    make_run(&dmg, dir, "damaged", 1700000000, 0, &in);
    CHECK(runfolder_read(dmg.dir, &s, &err) == 0 && s.status == RUN_STALE,
          "no heartbeat.json reads as %s", runfolder_status_text(&s));
    CHECK_CONTAINS(s.error, "gives no sign of life: heartbeat.json is missing");
    const char *bad[] = {"", "{\"time_ms\": 17", "{}", "\"completed\"",
                         "{\"time_ms\": 1, \"interval\": 0, \"allowance\": 3}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        beat(&dmg, 0, bad[i]);
        CHECK(runfolder_read(dmg.dir, &s, &err) == 0 && s.status == RUN_STALE,
              "heartbeat.json '%s' reads as %s", bad[i], runfolder_status_text(&s));
        CHECK_CONTAINS(s.error, "gives no sign of life: heartbeat.json is damaged (heartbeat.json");
    }

    /* this host: the process check is exact, the heartbeat is not read */
    in.process = me;
    RunFolder mine;
    make_run(&mine, dir, "mine", 1700000000, 0, &in);
    beat(&mine, 0, "garbage");
    CHECK(runfolder_read(mine.dir, &s, &err) == 0 && s.status == RUN_RUNNING && s.alive == 1,
          "this live process with a damaged heartbeat reads as %s", runfolder_status_text(&s));

    /* run.json's "heartbeat": null is none; anything else but 1..86400 is not clae's */
    in.process = other;
    in.heartbeat = 0;
    RunFolder none;
    make_run(&none, dir, "none", 1700000000, 0, &in);
    CHECK(runfolder_read(none.dir, &s, &err) == 0 && s.status == RUN_RUNNING && s.alive == -1,
          "\"heartbeat\": null reads as %s, alive %d", runfolder_status_text(&s), s.alive);
    snprintf(path, sizeof path, "%s/run.json", none.dir);
    json = test_slurp(path, NULL);
    CHECK(json && strstr(json, "\"heartbeat\": null"), "heartbeat null written");
    const char *values[] = {"0", "1.5", "86401", "\"30\"", "-1"};
    for (size_t i = 0; json && i < sizeof values / sizeof values[0]; i++) {
        char *p = strstr(json, "\"heartbeat\": null");
        char edited[8192];
        snprintf(edited, sizeof edited, "%.*s\"heartbeat\": %s%s", (int)(p - json), json,
                 values[i], p + strlen("\"heartbeat\": null"));
        test_spit_text(path, edited);
        CHECK(runfolder_read(none.dir, &s, &err) == -1 && s.status == RUN_NOT_A_RUN,
              "\"heartbeat\": %s should be refused", values[i]);
        CHECK_CONTAINS(err.msg, "\"heartbeat\": expected");
    }
    free(json);
}

enum { KIDS = 8, PER_KID = 200 };

static void test_concurrent_append(const char *root)
{
    char dir[4300], csv[4400];
    snprintf(dir, sizeof dir, "%s/conc", root);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    for (int k = 0; k < KIDS; k++) {
        if (fork() == 0) {
            Err e = {{0}};
            /* long, quoted rows: more bytes to tear if the lock failed */
            char ov[1800];
            memset(ov, 'v', sizeof ov - 1);
            ov[sizeof ov - 1] = '\0';
            memcpy(ov, "a.b=\"1,2\"\n", 10);
            for (int i = 0; i < PER_KID; i++) {
                char id[64];
                snprintf(id, sizeof id, "kid%d-%d", k, i);
                RunRecord s = row(id, ov, i);
                if (runs_append(dir, &s, &e)) _exit(1);
            }
            _exit(0);
        }
    }
    int ok = 1, status;
    while (wait(&status) > 0) ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK(ok, "a child's runs_append failed");
    Csv c;
    int rows = csv_check(csv, &c);
    CHECK(rows == KIDS * PER_KID, "%d rows (want %d), header once, %d fields each", rows,
          KIDS * PER_KID, N_COLS);
    if (rows == KIDS * PER_KID) {
        /* each child's rows, all there, in the order it wrote them */
        int next[KIDS] = {0}, order_ok = 1;
        for (int i = 1; i < c.n; i++) {
            int k, seq;
            if (sscanf(c.rec[i].field[0], "kid%d-%d", &k, &seq) != 2 || k < 0 || k >= KIDS ||
                seq != next[k]++)
                order_ok = 0;
        }
        CHECK(order_ok, "rows lost, repeated or out of order");
    }
    csv_free(&c);
}

/* The lock as runs.h describes it, taken by hand to read a consistent file. */
static int lock_by_hand(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/.runs.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd >= 0) flock(fd, LOCK_EX);
    return fd;
}

/* runs_append and runs_rewrite wait while someone else holds the lock, and
 * do their work once it is released. */
static void test_lock_waits(const char *root)
{
    char dir[4300], csv[4400];
    snprintf(dir, sizeof dir, "%s/held", root);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    for (int op = 0; op < 2; op++) {
        const char *what = op ? "runs_append" : "runs_rewrite";
        int fd = lock_by_hand(dir);
        CHECK(fd >= 0, "lock by hand");
        pid_t kid = fork();
        if (kid == 0) {
            /* the inherited descriptor shares the held lock: drop it */
            close(fd);
            Err e = {{0}};
            RunRecord s = row(op ? "appended" : "rewritten", "", 1);
            _exit((op ? runs_append(dir, &s, &e) : runs_rewrite(dir, &s, 1, &e)) ? 1 : 0);
        }
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        int status = 0;
        CHECK(waitpid(kid, &status, WNOHANG) == 0, "%s did not wait for the lock", what);
        Csv c;
        int before = op ? 1 : -1; /* no file before the rewrite; its row after */
        CHECK(csv_check(csv, &c) == before, "%s changed runs.csv under someone else's lock",
              what);
        csv_free(&c);
        close(fd);
        CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s failed after the lock was released", what);
        CHECK(csv_check(csv, &c) == (op ? 2 : 1), "%s: rows after", what);
        if (c.n >= 2) CHECK(strcmp(c.rec[c.n - 1].field[0], op ? "appended" : "rewritten") == 0,
                            "%s", c.rec[c.n - 1].field[0]);
        csv_free(&c);
    }
}

static void test_concurrent_rewrite(const char *root)
{
    char dir[4300], csv[4400];
    snprintf(dir, sizeof dir, "%s/rew", root);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    enum { APPENDS = 3000 };
    /* the child starts appending once the first rewrite is done, so that
     * the two overlap for as long as the child runs */
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    pid_t kid = fork();
    if (kid == 0) {
        Err e = {{0}};
        char byte;
        close(go[1]);
        if (read(go[0], &byte, 1) != 1) _exit(1);
        for (int i = 0; i < APPENDS; i++) {
            char id[64];
            snprintf(id, sizeof id, "app-%d", i);
            RunRecord s = row(id, "k=\"v\",w", i);
            if (runs_append(dir, &s, &e)) _exit(1);
        }
        _exit(0);
    }
    Err err = {{0}};
    RunRecord rows[2] = {row("rew-a", "", 1), row("rew-b", "p=1,2", 2)};
    int rewrites = 0, status = 0, wellformed = 1, done = 0;
    close(go[0]);
    /* the last rewrite happens while the child still appends: the rows it
     * adds after it must all be there */
    while (!(done = waitpid(kid, &status, WNOHANG) == kid)) {
        if (runs_rewrite(dir, rows, 2, &err)) {
            CHECK(0, "%s", err.msg);
            break;
        }
        if (rewrites++ == 0 && write(go[1], "g", 1) != 1) CHECK(0, "pipe write");
        int fd = lock_by_hand(dir);
        Csv c;
        if (csv_check(csv, &c) < 2) wellformed = 0;
        csv_free(&c);
        if (fd >= 0) close(fd);
    }
    close(go[1]);
    if (!done) waitpid(kid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "appending child failed");
    CHECK(wellformed, "runs.csv was not whole CSV between rewrites");
    /* one last append after the last rewrite: header, the 2 rewritten rows,
     * then appended rows in order without a gap */
    RunRecord last = row("app-last", "", 0);
    CHECK(runs_append(dir, &last, &err) == 0, "%s", err.msg);
    Csv c;
    int n = csv_check(csv, &c);
    CHECK(n >= 3, "%d rows after %d rewrites", n, rewrites);
    if (n >= 3) {
        CHECK(strcmp(c.rec[1].field[0], "rew-a") == 0 && strcmp(c.rec[2].field[0], "rew-b") == 0,
              "rewritten rows first: %s %s", c.rec[1].field[0], c.rec[2].field[0]);
        int prev = -1, gap = 0;
        for (int i = 3; i < c.n - 1; i++) {
            int seq = -1;
            sscanf(c.rec[i].field[0], "app-%d", &seq);
            if (prev >= 0 && seq != prev + 1) gap = 1;
            prev = seq;
        }
        CHECK(!gap && (prev == -1 || prev == APPENDS - 1), "appended rows lost (last %d)", prev);
        CHECK(strcmp(c.rec[c.n - 1].field[0], "app-last") == 0, "%s", c.rec[c.n - 1].field[0]);
    }
    csv_free(&c);
    printf("test_runs: %d rewrites raced with %d appends\n", rewrites, APPENDS);
}

int main(void)
{
    char root[64];
    test_tmpdir(root, sizeof root, "runs");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/root", root);
    mkdir(sub, 0777);
    test_read_scan(sub);
    test_garbage(root);
    test_csv_roundtrip(root);
    test_append(root);
    test_short_write(root);
    test_stale(root);
    test_heartbeat_liveness(root);
    test_concurrent_append(root);
    test_lock_waits(root);
    test_concurrent_rewrite(root);
    if (!check_failed) {
        if (test_rmdir(root) != 0) fprintf(stderr, "could not remove %s\n", root);
    } else {
        fprintf(stderr, "fixtures left in %s\n", root);
    }
    return check_done("test_runs");
}
