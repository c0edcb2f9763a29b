/* fuzz_runscsv: ROOT/runs.csv, as a completing run reads it before adding
 * its row (runs_append: is this run's row there already? then replace it).
 *
 * Input: the bytes of an existing runs.csv, which may be anything a crash,
 * a full disk or a hand edit left (NUL blocks after a power cut, say).
 *
 * Promises checked: the append succeeds; when the file had no line starting
 * with this run's name it is the old bytes (or the header, for an empty
 * file) followed by the row, on a line of its own (a newline ends a cut last
 * line first); when it had such lines,
 * those lines and only those became the row: no other byte of the file is
 * lost. */
#include "fuzz.h"

#include <math.h>
#include <sys/stat.h>

#include "runs.h"

#define ID "20260102-030405-fuzz"

/* Whether text has a line (at its start or after '\n') starting "ID,". */
static int has_line(const char *text, size_t len)
{
    size_t n = strlen(ID ",");
    for (size_t i = 0; i + n <= len; i++)
        if ((i == 0 || text[i - 1] == '\n') && memcmp(text + i, ID ",", n) == 0) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char root[4200], path[4200];
    fuzz_path(root, sizeof root, "root");
    mkdir(root, 0777);
    fuzz_write("root/runs.csv", data, size, path, sizeof path);
    RunRecord *s = calloc(1, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", ID);
    snprintf(s->name, sizeof s->name, "fuzz");
    s->status = RUN_COMPLETED;
    s->epochs_done = s->epochs = 2;
    s->train_loss = 0.5, s->test_loss = 0.25, s->images_per_second = 1000, s->seconds = 3;
    s->sweep_index = -1;
    snprintf(s->overrides, sizeof s->overrides, "train.epochs=2");
    char *row = NULL, *head = NULL;
    size_t rlen = 0, hlen = 0;
    FILE *f = open_memstream(&row, &rlen);
    runs_csv_row(f, s);
    fclose(f);
    f = open_memstream(&head, &hlen);
    runs_csv_header(f);
    fclose(f);

    Err err = {{0}};
    FUZZ_ASSERT(runs_append(root, s, &err) == 0, "append: %s", err.msg);
    size_t len = 0;
    char *after = fuzz_slurp(path, &len);
    FUZZ_ASSERT(after != NULL, "runs.csv is gone");
    if (size == 0) {
        FUZZ_ASSERT(len == hlen + rlen && memcmp(after, head, hlen) == 0 &&
                        memcmp(after + hlen, row, rlen) == 0, "a new runs.csv is not header + row");
    } else if (!has_line((const char *)data, size)) {
        size_t nl = data[size - 1] != '\n'; /* a cut last line is ended first */
        FUZZ_ASSERT(len == size + nl + rlen && memcmp(after, data, size) == 0 &&
                        (!nl || after[size] == '\n') && memcmp(after + size + nl, row, rlen) == 0,
                    "an append changed the %zu bytes before it, or joined a cut line (now %zu "
                    "bytes)", size, len);
    } else {
        /* every line of the old file is in the new one, in order, except
         * those of this run, each of which is now the row */
        size_t i = 0, j = 0;
        while (i < size) {
            const char *nl = memchr(data + i, '\n', size - i);
            size_t l = nl ? (size_t)((const uint8_t *)nl - (data + i)) + 1 : size - i;
            int ours = l >= strlen(ID ",") && memcmp(data + i, ID ",", strlen(ID ",")) == 0;
            const char *want = ours ? row : (const char *)data + i;
            size_t wl = ours ? rlen : l;
            FUZZ_ASSERT(j + wl <= len && memcmp(after + j, want, wl) == 0,
                        "old line at byte %zu is not where it belongs in the new file", i);
            i += l;
            j += wl;
        }
        FUZZ_ASSERT(j == len, "%zu bytes more than the old lines and the row", len - j);
    }
    free(after);
    free(row);
    free(head);
    free(s);
    return 0;
}
