/* test_runfolder: the run folder and its files. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pngio.h"
#include "runfolder.h"

/* Rewrites path (a run.json) without its "image_channels" line, as a clae
 * before colour images wrote it; 0 when there was one to drop. */
static int drop_channels(const char *path)
{
    Err err = {{0}};
    char *js = util_read_file(path, NULL, &err);
    char *at = js ? strstr(js, ",\n  \"image_channels\": ") : NULL;
    if (!at) {
        free(js);
        return -1;
    }
    char *end = strchr(at + 3, ',');
    memmove(at, end, strlen(end) + 1);
    test_spit_text(path, js);
    free(js);
    return 0;
}

int main(void)
{
    char root[64];
    test_tmpdir(root, sizeof root, "runfolder");
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/a/b", root); /* parents are created */
    Err err = {{0}};
    time_t t0 = 1700000000;

    /* Same name, same second: distinct folders, -2 and -3 suffixes. */
    RunFolder r1, r2, r3;
    CHECK(runfolder_create(&r1, sub, "exp", t0, &err) == 0, "%s", err.msg);
    CHECK(runfolder_create(&r2, sub, "exp", t0, &err) == 0, "%s", err.msg);
    CHECK(runfolder_create(&r3, sub, "exp", t0, &err) == 0, "%s", err.msg);
    CHECK(strcmp(r1.dir, r2.dir) != 0 && strcmp(r2.dir, r3.dir) != 0, "folders must differ");
    CHECK(strlen(r2.dir) == strlen(r1.dir) + 2 && strcmp(r2.dir + strlen(r1.dir), "-2") == 0,
          "second folder is %s", r2.dir);
    CHECK(util_is_dir(r3.dir), "%s", r3.dir);

    /* 16 processes racing for the same folder name each get their own. */
    char race[4200];
    snprintf(race, sizeof race, "%s/race", root);
    for (int i = 0; i < 16; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            RunFolder r;
            Err e = {{0}};
            _exit(runfolder_create(&r, race, "same", t0, &e) == 0 ? 0 : 1);
        }
    }
    int ok = 1, status;
    while (wait(&status) > 0) ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK(ok, "a racing runfolder_create failed");
    CHECK(test_count(race, NULL) == 16, "16 racing runs made %d folders", test_count(race, NULL));

    /* loss.csv rows as written */
    CHECK(runfolder_loss_open(&r1, &err) == 0, "%s", err.msg);
    LossRow row1 = {1, 0.5, 0.25, 1.5, 1000, 1e-3, NAN, NAN, NAN, NAN};
    LossRow row2 = {2, 0.125, 0.0625, 2.5, 900, 5e-4, 0.1, 0.025, 0.05, 0.0125};
    LossRow diverged = {3, NAN, INFINITY, 1.0, 10, 1e-3, NAN, NAN, NAN, NAN};
    CHECK(runfolder_loss_row(&r1, &row1, &err) == 0, "%s", err.msg);
    CHECK(runfolder_loss_row(&r1, &diverged, &err) == 0, "%s", err.msg);
    runfolder_close(&r1);
    char path[4300];
    snprintf(path, sizeof path, "%s/loss.csv", r1.dir);
    char *csv = util_read_file(path, NULL, &err);
    CHECK(csv != NULL, "%s", err.msg);
    /* Empty cells for NaN (an autoencoder has no KL terms), but a diverged
     * run's losses say so. */
    if (csv) CHECK_CONTAINS(csv, "epoch,train_loss,test_loss,seconds,images_per_second,learning_rate,train_recon,train_kl,test_recon,test_kl\n1,0.5,0.25,1.500,1000.0,0.001,,,,\n3,nan,inf,1.000,10.0,0.001,,,,\n");
    free(csv);
    CHECK(runfolder_loss_open(&r1, &err) != 0, "loss.csv must not be reopened over an existing one");

    /* A row that does not fit (a full disk; here a file-size limit, which
     * stops write() short the same way) leaves loss.csv as it was: whole
     * rows only, never half of one. The failing write is a child's. */
    LossHistory hist = {0};
    CHECK(runfolder_loss_resume(&r1, 1, &hist, &err) == 0, "%s", err.msg);
    runfolder_history_free(&hist);
    size_t before_len = 0;
    char *before = util_read_file(path, &before_len, &err);
    pid_t kid = fork();
    if (kid == 0) {
        struct rlimit rl = {.rlim_cur = before_len + 7, .rlim_max = RLIM_INFINITY};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        Err e = {{0}};
        int rc = runfolder_loss_row(&r1, &row2, &e);
        _exit(rc != 0 && strstr(e.msg, "loss.csv: write failed: File too large") ? 0 : 1);
    }
    int kid_status = 0;
    waitpid(kid, &kid_status, 0);
    CHECK(WIFEXITED(kid_status) && WEXITSTATUS(kid_status) == 0, "a row past the limit must fail, naming loss.csv");
    size_t after_len = 0;
    char *after = util_read_file(path, &after_len, &err);
    CHECK(before && after && after_len == before_len && memcmp(before, after, before_len) == 0,
          "loss.csv after a short write: %s", after ? after : "(gone)");
    free(before);
    free(after);
    CHECK(runfolder_loss_row(&r1, &row2, &err) == 0, "%s", err.msg);
    runfolder_close(&r1);
    csv = util_read_file(path, NULL, &err);
    if (csv)
        CHECK(strcmp(csv, "epoch,train_loss,test_loss,seconds,images_per_second,learning_rate,train_recon,train_kl,test_recon,test_kl\n1,0.5,0.25,1.500,1000.0,0.001,,,,\n"
                          "2,0.125,0.0625,2.500,900.0,0.0005,0.1,0.025,0.05,0.0125\n") == 0,
              "loss.csv: %s", csv);
    /* Read back: every column, and a file of an earlier version (5 columns). */
    LossRows lr;
    if (csv) {
        CHECK(runfolder_loss_parse(csv, strlen(csv), &lr, &err) == 0 && lr.n == 2 && lr.skipped == 0,
              "parse");
        CHECK(lr.lr[0] == 1e-3 && isnan(lr.train_kl[0]) && lr.train_recon[1] == 0.1 &&
                  lr.test_kl[1] == 0.0125,
              "columns read back");
        runfolder_loss_free(&lr);
    }
    const char *old = "epoch,train_loss,test_loss,seconds,images_per_second\n1,0.5,0.25,1.5,1000\n";
    CHECK(runfolder_loss_parse(old, strlen(old), &lr, &err) == 0 && lr.n == 1 && isnan(lr.lr[0]) &&
              lr.ips[0] == 1000,
          "a 5-column loss.csv");
    runfolder_loss_free(&lr);
    free(csv);

    /* latent.csv */
    float z[6] = {1, 2, 3, 4, 5, 6};
    unsigned char y[3] = {1, 5, 6};
    CHECK(runfolder_write_latent(&r1, z, y, 3, 2, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/latent.csv", r1.dir);
    csv = util_read_file(path, NULL, &err);
    if (csv) CHECK(strcmp(csv, "index,label,z1,z2\n0,1,1,2\n1,5,3,4\n2,6,5,6\n") == 0, "latent.csv: %s", csv);
    free(csv);

    /* recon grid: 2 rows of 3 images of 28x28, scaled x2 with 2-pixel gaps */
    float orig[3 * 784], rec[3 * 784];
    for (int i = 0; i < 3 * 784; i++) orig[i] = (float)(i % 784) / 783.0f, rec[i] = 1.0f;
    CHECK(runfolder_write_recon(&r1, 7, orig, rec, 3, 1, 28, 28, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/recon-epoch-007.png", r1.dir);
    unsigned char *pix = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == 3 * 56 + 4 * 2 && h == 2 * 56 + 3 * 2 && ch == 1, "recon png %dx%dx%d", w, h, ch);
    if (pix) {
        CHECK(pix[2 * w + 2] == 0, "top-left original pixel %d", pix[2 * w + 2]);
        CHECK(pix[(2 + 55) * w + 2 + 55] == 255, "bottom-right original pixel");
        CHECK(pix[(2 + 56 + 2) * w + 2] == 255, "reconstruction pixel");
        CHECK(pix[0] == 128, "frame");
    }
    free(pix);

    /* colour: 2 RGB images of 1x2 (C, H, W), an RGB grid of the same layout;
     * denoise.png of RGBA images the same, 3 rows, with an opaque frame */
    const float corig[2 * 6] = {1, 0, 0, 1, 0, 0, /* red, green */ 0, 0, 0, 0, 1, 1 /* blue */};
    const float crec[2 * 6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1, 1, 1, 1, 1, 1};
    CHECK(runfolder_write_recon(&r1, 8, corig, crec, 2, 3, 1, 2, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/recon-epoch-008.png", r1.dir);
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == 2 * 4 + 3 * 2 && h == 2 * 2 + 3 * 2 && ch == 3, "RGB recon png %dx%dx%d", w, h, ch);
    if (pix && ch == 3) {
        const unsigned char *p0 = pix + (2 * (size_t)w + 2) * 3, *p1 = p0 + 2 * 3;
        CHECK(p0[0] == 255 && p0[1] == 0 && p0[2] == 0, "first pixel red: %d %d %d", p0[0],
              p0[1], p0[2]);
        CHECK(p1[0] == 0 && p1[1] == 255 && p1[2] == 0, "second pixel green");
        const unsigned char *q = pix + (2 * (size_t)w + 2 + 4 + 2) * 3; /* image 2 */
        CHECK(q[0] == 0 && q[1] == 0 && q[2] == 255, "second image blue");
        const unsigned char *r = pix + ((2 + 2 + 2) * (size_t)w + 2) * 3; /* its reconstruction */
        CHECK(r[0] == 128 && r[1] == 128 && r[2] == 128, "reconstruction gray");
        CHECK(pix[0] == 128 && pix[1] == 128 && pix[2] == 128, "frame");
    }
    free(pix);
    float rgba[2 * 8];
    for (int i = 0; i < 16; i++) rgba[i] = (float)(i % 8) / 7.0f;
    CHECK(runfolder_write_denoise(&r1, rgba, rgba, rgba, 2, 4, 1, 2, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/denoise.png", r1.dir);
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == 14 && h == 3 * 2 + 4 * 2 && ch == 4, "RGBA denoise png %dx%dx%d", w, h, ch);
    if (pix && ch == 4) {
        CHECK(pix[3] == 255 && pix[0] == 128, "an opaque mid-gray frame");
        const unsigned char *p = pix + (2 * (size_t)w + 2 + 2) * 4; /* pixel 1 of image 1 */
        CHECK(p[0] == pngio_gray(1 / 7.0f) && p[1] == pngio_gray(3 / 7.0f) &&
                  p[2] == pngio_gray(5 / 7.0f) && p[3] == 255,
              "RGBA pixel %d %d %d %d", p[0], p[1], p[2], p[3]);
    }
    free(pix);

    /* run.json: valid-looking JSON, NaN written as null, escapes */
    RunRecord info;
    runfolder_record_init(&info, r1.dir);
    info.status = RUN_COMPLETED;
    runfolder_iso_time(info.start, sizeof info.start, t0);
    runfolder_iso_time(info.end, sizeof info.end, t0 + 5);
    info.platform = "P";
    snprintf(info.device_name, sizeof info.device_name, "dev \"quoted\"");
    snprintf(info.device_index, sizeof info.device_index, "1:3");
    snprintf(info.name, sizeof info.name, "exp");
    info.epochs_done = info.epochs = 2;
    info.train_loss = 0.1;
    info.command_line = "clae train x.ini";
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/run.json", r1.dir);
    char *js = util_read_file(path, NULL, &err);
    if (js) {
        CHECK_CONTAINS(js, "\"status\": \"completed\"");
        CHECK_CONTAINS(js, "\"final_test_loss\": null");
        CHECK_CONTAINS(js, "\"name\": \"dev \\\"quoted\\\"\"");
        CHECK_CONTAINS(js, "\"epochs_completed\": 2");
        CHECK_CONTAINS(js, "\"index\": \"1:3\"");
        CHECK_CONTAINS(js, "\"early_stop\": null");
        CHECK_CONTAINS(js, "\"config\": null");
    }
    free(js);
    /* the config: every key as "section.key": "value", strings escaped */
    Config cfg;
    config_defaults(&cfg);
    CHECK(config_set(&cfg, "model.kind=vae", &err) == 0 &&
              config_set(&cfg, "data.label_names=a \"b\", c\\d", &err) == 0 &&
              config_set(&cfg, "train.noise=mask:0.25", &err) == 0,
          "%s", err.msg);
    info.config = &cfg;
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    js = util_read_file(path, NULL, &err);
    if (js) {
        CHECK_CONTAINS(js, "\"config\": {\"device.platform\": \"\", \"device.device\": \"0\", ");
        CHECK_CONTAINS(js, "\"model.kind\": \"vae\"");
        CHECK_CONTAINS(js, "\"train.noise\": \"mask:0.25\"");
        CHECK_CONTAINS(js, "\"data.label_names\": \"a \\\"b\\\", c\\\\d\"");
        CHECK_CONTAINS(js, "\"output.checkpoint_every\": \"0\", \"output.heartbeat\": \"30\"}");
        for (int i = 0; i < config_key_count(); i++) {
            char want[160];
            snprintf(want, sizeof want, "\"%s.%s\": \"", config_key_section(i),
                     config_key_name(i));
            CHECK_CONTAINS(js, want);
        }
    }
    free(js);
    /* (the early-stopping record below is read back past the config) */
    /* early stopping: its reason, best epoch and loss, written and read back */
    snprintf(info.early_stop, sizeof info.early_stop,
             "test loss not below 0.0412 (epoch 1) for 1 epochs ([train] patience = 1)");
    info.best_epoch = 1;
    info.best_test_loss = 0.0412;
    info.epochs = 5;
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    js = util_read_file(path, NULL, &err);
    if (js)
        CHECK_CONTAINS(js, "\"early_stop\": {\"reason\": \"test loss not below 0.0412 (epoch 1) "
                           "for 1 epochs ([train] patience = 1)\", \"best_epoch\": 1, "
                           "\"best_test_loss\": 0.0412}");
    free(js);
    RunRecord back;
    CHECK(runfolder_read(r1.dir, &back, &err) == 0, "%s", err.msg);
    CHECK(strcmp(back.early_stop, info.early_stop) == 0 && back.best_epoch == 1 &&
              back.best_test_loss == 0.0412 && back.epochs_done == 2 && back.epochs == 5,
          "early_stop read back: '%s' %d %g", back.early_stop, back.best_epoch,
          back.best_test_loss);
    CHECK(test_count(r1.dir, ".tmp") == 0, "temporary files left in %s", r1.dir);

    /* image_channels: written beside the image shape and read back; a
     * run.json of an earlier version, without it, reads as gray images (1),
     * or 0 when the items are not images */
    info.input_values = 3 * 32 * 32;
    info.image_rows = info.image_cols = 32;
    info.image_channels = 3;
    CHECK(runfolder_write_json(&info, &err) == 0, "%s", err.msg);
    js = util_read_file(path, NULL, &err);
    if (js) CHECK_CONTAINS(js, "\"image_rows\": 32,\n  \"image_cols\": 32,\n  \"image_channels\": 3,");
    free(js);
    CHECK(runfolder_read(r1.dir, &back, &err) == 0 && back.image_channels == 3 &&
              back.image_rows == 32 && back.input_values == 3072,
          "image_channels read back: %d (%s)", back.image_channels, err.msg);
    CHECK(drop_channels(path) == 0, "no image_channels in run.json");
    CHECK(runfolder_read(r1.dir, &back, &err) == 0 && back.image_channels == 1 &&
              back.image_rows == 32,
          "an old run.json of images: %d channels (%s)", back.image_channels, err.msg);
    info.input_values = 37;
    info.image_rows = info.image_cols = info.image_channels = 0;
    CHECK(runfolder_write_json(&info, &err) == 0 && drop_channels(path) == 0, "%s", err.msg);
    CHECK(runfolder_read(r1.dir, &back, &err) == 0 && back.image_channels == 0 &&
              back.input_values == 37,
          "an old run.json of items that are not images: %d channels (%s)", back.image_channels,
          err.msg);

    /* A root that is a file is a clear error. */
    snprintf(path, sizeof path, "%s/file", root);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    RunFolder bad;
    CHECK(runfolder_create(&bad, path, "x", t0, &err) != 0, "root that is a file must fail");
    CHECK_CONTAINS(err.msg, "not a folder");

    CHECK(test_rmdir(root) == 0, "cleanup");
    return check_done("test_runfolder");
}
