/* fuzz_runjson: a run folder's run.json, as `clae report`, `clae compare`,
 * `clae sweep --skip-done` and `clae train --resume` read it (runfolder_read),
 * then the run's page written from it (report_write_run_page).
 *
 * Input: the bytes of run.json.
 *
 * The bytes go through jansson (the parse) and then clae's own member
 * checks (runfolder.c, jsonio.h), so both are fuzzed together.
 *
 * Promises checked: runfolder_read leaves "not a run" exactly
 * when it fails, and a one-line message; the runs.csv row of any summary is
 * one well-formed CSV record of 15 fields whose first is the folder's name;
 * the page is written; a run.json that reads writes back
 * (runfolder_write_json) to one that reads, and that one writes back byte
 * for byte and reads to the same record (the first write settles what a
 * reader does not keep: unknown members, digits past %.9g, bytes that are
 * not UTF-8). */
#include "fuzz.h"

#include <math.h>
#include <sys/stat.h>

#include "report.h"
#include "runfolder.h"
#include "runs.h"

/* The members of a record that run.json keeps, equal in a and b. */
static int same_record(const RunRecord *a, const RunRecord *b)
{
    /* NaN == NaN here: a loss that was null stays null */
#define SAME_NUM(x) ((isnan(a->x) && isnan(b->x)) || a->x == b->x)
    return !strcmp(runfolder_status_text(a), runfolder_status_text(b)) &&
           !strcmp(a->name, b->name) && !strcmp(a->start, b->start) && !strcmp(a->end, b->end) &&
           a->epochs_done == b->epochs_done && a->epochs == b->epochs &&
           a->input_values == b->input_values && a->image_rows == b->image_rows &&
           a->image_cols == b->image_cols && a->image_channels == b->image_channels &&
           SAME_NUM(train_loss) && SAME_NUM(test_loss) && SAME_NUM(seconds) &&
           SAME_NUM(images_per_second) && SAME_NUM(best_test_loss) &&
           !strcmp(a->device_index, b->device_index) && !strcmp(a->device_name, b->device_name) &&
           !strcmp(a->sweep, b->sweep) && a->sweep_index == b->sweep_index &&
           !strcmp(a->overrides, b->overrides) && !strcmp(a->error, b->error) &&
           a->resumes == b->resumes && a->process.pid == b->process.pid &&
           a->process.start == b->process.start && !strcmp(a->process.host, b->process.host) &&
           !strcmp(a->process.boot_id, b->process.boot_id) && a->heartbeat == b->heartbeat &&
           !strcmp(a->kernel_cache, b->kernel_cache) && !strcmp(a->early_stop, b->early_stop) &&
           a->best_epoch == b->best_epoch;
#undef SAME_NUM
}

/* s (read from dir/run.json) written back, read, written and read again. */
static void round_trip(const char *dir, const RunRecord *s)
{
    Err err = {{0}};
    char path[4300];
    snprintf(path, sizeof path, "%s/run.json", dir);
    RunRecord *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    FUZZ_ASSERT(runfolder_write_json(s, &err) == 0, "write: %s", err.msg);
    FUZZ_ASSERT(runfolder_read(dir, a, &err) == 0, "written run.json refused: %s", err.msg);
    size_t len1 = 0, len2 = 0;
    char *first = fuzz_slurp(path, &len1);
    FUZZ_ASSERT(runfolder_write_json(a, &err) == 0, "write again: %s", err.msg);
    char *second = fuzz_slurp(path, &len2);
    FUZZ_ASSERT(first && second && len1 == len2 && memcmp(first, second, len1) == 0,
                "written twice, two files:\n%s\n%s", first, second);
    FUZZ_ASSERT(runfolder_read(dir, b, &err) == 0, "rewritten run.json refused: %s", err.msg);
    FUZZ_ASSERT(same_record(a, b), "read back another record: %s", second);
    free(first);
    free(second);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[4200], path[4200];
    fuzz_path(dir, sizeof dir, "20260101-000000-run");
    mkdir(dir, 0777);
    fuzz_write("20260101-000000-run/run.json", data, size, path, sizeof path);
    RunRecord *s = malloc(sizeof *s);
    Err err = {{0}};
    int rc = runfolder_read(dir, s, &err);
    FUZZ_ASSERT((rc != 0) == (s->status == RUN_NOT_A_RUN), "rc %d, status '%s'", rc,
                runfolder_status_text(s));
    FUZZ_ASSERT(runfolder_status_text(s)[0] != '\0', "no status");
    FUZZ_ASSERT(rc == 0 || strchr(err.msg, '\n') == NULL, "message: %s", err.msg);
    FUZZ_ASSERT(strcmp(s->id, "20260101-000000-run") == 0, "id '%s'", s->id);

    char *row = NULL, first[300];
    size_t len = 0;
    FILE *f = open_memstream(&row, &len);
    runs_csv_row(f, s);
    fclose(f);
    int n = fuzz_csv_record(row, len, first, sizeof first);
    FUZZ_ASSERT(n == 15 && strcmp(first, s->id) == 0, "runs.csv row of %d fields: %s", n, row);
    free(row);

    FUZZ_ASSERT(report_write_run_page(dir, &err) == 0, "run page: %s", err.msg);
    if (rc == 0) round_trip(dir, s);
    free(s);
    return 0;
}
