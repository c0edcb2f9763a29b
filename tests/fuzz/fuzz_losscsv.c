/* fuzz_losscsv: a run's loss.csv, as the run page reads it while the run
 * may still be writing (runfolder_loss_parse, then plot_loss_svg) and as
 * `clae train --resume` reads it (runfolder_loss_resume).
 *
 * Input: the bytes of loss.csv. The first byte, modulo 4, is also the number
 * of epochs the resumed checkpoint claims.
 *
 * Promises checked: parsing never fails (bad lines are counted, not fatal),
 * every row's epoch is a whole number >= 0, the loss plot is drawn (KL
 * panel included); a resume
 * that succeeds keeps exactly rows 1..keep, and the rewritten file is the
 * header and those rows, nothing the page would skip. */
#include "fuzz.h"

#include <math.h>
#include <sys/stat.h>

#include "plot.h"
#include "runfolder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LossRows l;
    Err err = {{0}};
    FUZZ_ASSERT(runfolder_loss_parse((const char *)data, size, &l, &err) == 0, "parse: %s",
                err.msg);
    for (int i = 0; i < l.n; i++) FUZZ_ASSERT(l.epoch[i] >= 0, "epoch %d", l.epoch[i]);
    PlotLoss pl = {.n = l.n, .epoch = l.epoch, .train = l.train, .test = l.test,
                   .train_kl = l.train_kl, .test_kl = l.test_kl};
    char *svg = plot_loss_svg(&pl, &err);
    FUZZ_ASSERT(svg != NULL, "plot: %s", err.msg);
    free(svg);
    runfolder_loss_free(&l);

    RunFolder run;
    memset(&run, 0, sizeof run);
    run.loss_fd = -1;
    fuzz_path(run.dir, sizeof run.dir, "run");
    mkdir(run.dir, 0777);
    char path[4200];
    fuzz_write("run/loss.csv", data, size, path, sizeof path);
    int keep = size ? data[0] % 4 : 0;
    LossHistory h = {0};
    if (runfolder_loss_resume(&run, keep, &h, &err) == 0) {
        FUZZ_ASSERT(h.n == keep, "%d rows kept of %d", h.n, keep);
        for (int i = 0; i < h.n; i++) FUZZ_ASSERT(h.epoch[i] == i + 1, "row %d: epoch %d", i, h.epoch[i]);
        LossRow row = {keep + 1, 0.5, 0.25, 1.0, 100.0, 1e-3, NAN, NAN, NAN, NAN};
        FUZZ_ASSERT(runfolder_loss_row(&run, &row, &err) == 0, "%s",
                    err.msg);
        runfolder_close(&run);
        size_t len = 0;
        char *text = fuzz_slurp(path, &len);
        FUZZ_ASSERT(text && runfolder_loss_parse(text, len, &l, &err) == 0, "reparse");
        FUZZ_ASSERT(l.n == keep + 1 && l.skipped == 0, "rewritten loss.csv: %d rows, %d skipped:\n%s",
                    l.n, l.skipped, text);
        runfolder_loss_free(&l);
        free(text);
    } else {
        FUZZ_ASSERT(run.loss_fd < 0 && strchr(err.msg, '\n') == NULL, "failed resume: %s", err.msg);
    }
    runfolder_history_free(&h);
    return 0;
}
