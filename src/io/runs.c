/* runs: see runs.h. */
#define _POSIX_C_SOURCE 200809L
#include "runs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runfolder.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int runs_scan(const char *root, RunRecord **out, int *n, Err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (!d) return err_set(err, "%s: cannot read folder: %s", root, strerror(errno));
    char **names = NULL;
    int count = 0, cap = 0, rc = -1;
    struct dirent *e;
    char path[4200];
    errno = 0;
    while ((e = readdir(d))) {
        /* ".", "..", and hidden entries such as .runs.lock are never runs */
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        if (!util_is_dir(path)) continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown) {
                err_set(err, "%s: out of memory listing the folder", root);
                goto out;
            }
            names = grown;
        }
        if (!(names[count] = strdup(e->d_name))) {
            err_set(err, "%s: out of memory listing the folder", root);
            goto out;
        }
        count++;
        errno = 0;
    }
    if (errno) {
        err_set(err, "%s: cannot read folder: %s", root, strerror(errno));
        goto out;
    }
    if (count) qsort(names, (size_t)count, sizeof *names, by_name); /* NULL when empty */
    RunRecord *runs = util_calloc((size_t)count, sizeof *runs, err);
    if (!runs) goto out;
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        runfolder_read(path, &runs[i], NULL); /* a failure is a row saying "not a run" */
    }
    *out = runs;
    *n = count;
    rc = 0;
out:
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* ---- runs.csv -------------------------------------------------------------- */

static const char CSV_HEADER[] = "run,name,status,start_time,end_time,epochs_completed,epochs,"
                                 "final_train_loss,final_test_loss,images_per_second,seconds,"
                                 "device,sweep,sweep_index,overrides\n";

void runs_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void runs_csv_num(FILE *f, double v)
{
    if (!isnan(v)) fprintf(f, "%.9g", v);
}

void runs_csv_header(FILE *f)
{
    fputs(CSV_HEADER, f);
}

void runs_csv_row(FILE *f, const RunRecord *s)
{
    const char *text[] = {s->id, s->name, runfolder_status_text(s), s->start, s->end};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        if (i) fputc(',', f);
        runs_csv_field(f, text[i]);
    }
    fprintf(f, ",%d,%d,", s->epochs_done, s->epochs);
    runs_csv_num(f, s->train_loss);
    fputc(',', f);
    runs_csv_num(f, s->test_loss);
    fputc(',', f);
    runs_csv_num(f, s->images_per_second);
    fputc(',', f);
    runs_csv_num(f, s->seconds);
    fputc(',', f);
    char device[512];
    runfolder_device_label(s, device, sizeof device);
    runs_csv_field(f, device);
    fputc(',', f);
    runs_csv_field(f, s->sweep);
    fputc(',', f);
    if (s->sweep[0] && s->sweep_index >= 0) fprintf(f, "%d", s->sweep_index);
    fputc(',', f);
    runs_csv_field(f, s->overrides);
    fputc('\n', f);
}

/* Opens root/.runs.lock and holds an exclusive flock on it; returns the
 * descriptor (closing it releases the lock) or -1. */
static int lock_root(const char *root, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.runs.lock", root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        err_set(err, "%s: cannot lock: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void unlock_root(int fd)
{
    flock(fd, LOCK_UN);
    close(fd);
}

/* Whether text (len bytes) has a line starting "id," (ids are folder names
 * without commas or quotes, so a run's row starts that way). Lengths, not
 * strings: after a crash a file can hold blocks of NUL bytes. */
static int has_row(const char *text, size_t len, const char *id)
{
    size_t n = strlen(id);
    for (const char *line = text, *end = text + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t l = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        if (l > n && memcmp(line, id, n) == 0 && line[n] == ',') return 1;
        line += l;
    }
    return 0;
}

/* Rewrites runs.csv at path (under the caller's lock) from its text (len
 * bytes) with every row of run id replaced by row (rlen bytes, newline
 * included); every other byte stays. */
static int replace_row(const char *path, const char *text, size_t len, const char *id,
                       const char *row, size_t rlen, Err *err)
{
    char tmp[4300];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    size_t n = strlen(id);
    for (const char *line = text, *end = text + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t l = nl ? (size_t)(nl - line) + 1 : (size_t)(end - line);
        if (l > n && memcmp(line, id, n) == 0 && line[n] == ',') fwrite(row, 1, rlen, f);
        else fwrite(line, 1, l, f);
        line += l;
    }
    return util_atomic_commit(f, tmp, path, err);
}

int runs_append(const char *root, const RunRecord *s, Err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/runs.csv", root);
    /* the row is formatted first, so that it goes out in one write() while
     * the lock is held */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "%s: out of memory formatting a row", path);
    runs_csv_row(mem, s);
    if (fclose(mem) != 0 || !buf) {
        free(buf);
        return err_set(err, "%s: out of memory formatting a row", path);
    }
    int lock = lock_root(root, err);
    if (lock < 0) {
        free(buf);
        return -1;
    }
    int rc = -1;
    char *text = NULL, *all = NULL;
    size_t size = 0;
    /* opened under the lock: a runs_rewrite that renamed a new file into
     * place before we got the lock is the file we must append to */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    struct stat st;
    if (fd < 0) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        err_set(err, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size > 0 && !(text = util_read_file(path, &size, err))) goto out;
    /* One row per run: a `clae report` that rebuilt runs.csv after this
     * run's run.json said completed holds its row already, and a run resumed
     * to more epochs had one from before. The row is replaced, in place. */
    if (size > 0 && has_row(text, size, s->id)) {
        rc = replace_row(path, text, size, s->id, buf, len, err);
        goto out;
    }
    /* the header first into a new file; a newline first after a last line
     * that lacks one (cut by a crash or an editor), so that this row stays
     * whole and apart */
    const char *head = size == 0 ? CSV_HEADER : size > 0 && text[size - 1] != '\n' ? "\n" : "";
    size_t h = strlen(head);
    if (!(all = malloc(h + len))) {
        err_set(err, "%s: out of memory formatting a row", path);
        goto out;
    }
    memcpy(all, head, h);
    memcpy(all + h, buf, len);
    if (util_append_whole(fd, all, h + len) == 0) rc = 0;
    else err_set(err, "%s: write failed: %s", path, strerror(errno)); /* and cut back */
out:
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = err_set(err, "%s: write failed: %s", path, strerror(errno));
    unlock_root(lock);
    free(all);
    free(text);
    free(buf);
    return rc;
}

/* runs_rewrite's body; the caller holds the lock. */
static int rewrite_locked(const char *root, const RunRecord *rows, int n, Err *err)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/runs.csv", root);
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    runs_csv_header(f);
    for (int i = 0; i < n; i++) runs_csv_row(f, &rows[i]);
    return util_atomic_commit(f, tmp, path, err);
}

int runs_rewrite(const char *root, const RunRecord *rows, int n, Err *err)
{
    int lock = lock_root(root, err);
    if (lock < 0) return -1;
    int rc = rewrite_locked(root, rows, n, err);
    unlock_root(lock);
    return rc;
}

int runs_reindex(const char *root, int *completed, Err *err)
{
    int lock = lock_root(root, err);
    if (lock < 0) return -1;
    RunRecord *runs = NULL;
    int n = 0, nc = 0, rc = -1;
    if (runs_scan(root, &runs, &n, err) == 0) {
        for (int i = 0; i < n; i++)
            if (runs[i].status == RUN_COMPLETED) runs[nc++] = runs[i];
        rc = rewrite_locked(root, runs, nc, err);
    }
    free(runs);
    unlock_root(lock);
    if (completed) *completed = nc;
    return rc;
}
