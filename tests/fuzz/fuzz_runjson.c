/* fuzz_runjson: a run folder's run.json, as `clae report`, `clae compare`,
 * `clae sweep --skip-done` and `clae train --resume` read it (runfolder_read),
 * then the run's page written from it (report_write_run_page).
 *
 * Input: the bytes of run.json.
 *
 * Promises checked: runfolder_read leaves "not a run" exactly
 * when it fails, and a one-line message; the runs.csv row of any summary is
 * one well-formed CSV record of 15 fields whose first is the folder's name;
 * the page is written. */
#include "fuzz.h"

#include <sys/stat.h>

#include "report.h"
#include "runfolder.h"
#include "runs.h"

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
    free(s);
    return 0;
}
