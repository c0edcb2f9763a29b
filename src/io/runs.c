/* runs: see runs.h. */
#define _POSIX_C_SOURCE 200809L
#include "runs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* run.json is a few hundred bytes; anything much bigger is not ours, and
 * reading it whole would only cost memory. */
#define RUNS_JSON_MAX (1 << 20)
/* Nesting we skip through in unknown values; deeper is garbage, and the limit
 * keeps the recursion off the end of the stack. */
#define RUNS_JSON_DEPTH 32

/* ---- a reader for the JSON that results_write_json writes ---------------- */

typedef struct {
    const char *start, *p, *end; /* the text and the read position in it */
    char why[256];               /* the first failure, "line:col: what" */
} Json;

static int json_fail(Json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int json_fail(Json *j, const char *fmt, ...)
{
    if (j->why[0]) return -1; /* the first failure is the one that explains */
    int line = 1, col = 1;
    for (const char *q = j->start; q < j->p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* a key or byte quoted from the file must not break the line */
    for (char *c = what; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    snprintf(j->why, sizeof j->why, "%d:%d: %s", line, col, what);
    return -1;
}

static void json_ws(Json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Consumes c after optional white space; 0 if it was there. */
static int json_eat(Json *j, char c)
{
    json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 0;
    }
    return -1;
}

static int json_peek(Json *j)
{
    json_ws(j);
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int json_word(Json *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return -1;
    j->p += n;
    return 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Appends n bytes to out (cap bytes, NUL kept) unless they no longer fit: a
 * long value is cut at a character boundary, never inside a UTF-8 sequence. */
static void put(char *out, size_t cap, size_t *len, const char *b, size_t n)
{
    if (!out || *len + n + 1 > cap) {
        if (out) *len = cap; /* full: later, shorter pieces must not follow */
        return;
    }
    memcpy(out + *len, b, n);
    *len += n;
    out[*len] = '\0';
}

/* A string at j->p into out (cap bytes, cut to fit; out NULL skips it), with
 * every JSON escape decoded and \uXXXX (surrogate pairs too) as UTF-8. */
static int json_string(Json *j, char *out, size_t cap)
{
    size_t len = 0;
    if (out && cap) out[0] = '\0';
    if (json_eat(j, '"')) return json_fail(j, "expected a string");
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20) return json_fail(j, "control character 0x%02x in a string", c);
        if (c != '\\') {
            /* a UTF-8 sequence goes in whole; other bytes pass one by one */
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if ((size_t)(j->end - j->p) < n) n = 1;
            for (size_t k = 1; k < n; k++)
                if (((unsigned char)j->p[k] & 0xC0) != 0x80) n = 1;
            put(out, cap, &len, j->p, n);
            j->p += n;
            continue;
        }
        if (j->end - j->p < 2) break;
        char e = j->p[1], b[4];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            put(out, cap, &len, &decoded[simple - "\"\\/bfnrt"], 1);
            j->p += 2;
            continue;
        }
        if (e != 'u') {
            /* the message stays one line whatever byte followed */
            if (e > 0x20 && e < 0x7f) return json_fail(j, "bad escape '\\%c' in a string", e);
            return json_fail(j, "bad escape '\\' then byte 0x%02x in a string", (unsigned char)e);
        }
        unsigned cp, lo;
        if (j->end - j->p < 6 || hex4(j->p + 2, &cp))
            return json_fail(j, "\\u needs four hex digits");
        if (cp >= 0xDC00 && cp <= 0xDFFF) return json_fail(j, "lone low surrogate \\u%04X", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' || hex4(j->p + 8, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return json_fail(j, "high surrogate \\u%04X without its low half", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            j->p += 6;
        }
        if (cp == 0) return json_fail(j, "\\u0000 in a string"); /* would cut a C string */
        j->p += 6;
        size_t n;
        if (cp < 0x80) {
            b[0] = (char)cp, n = 1;
        } else if (cp < 0x800) {
            b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        } else if (cp < 0x10000) {
            b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        } else {
            b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
        }
        put(out, cap, &len, b, n);
    }
    return json_fail(j, "unterminated string");
}

/* A number in JSON's own grammar (strtod alone would also take "0x1p3",
 * "inf" and "nan", which no JSON writer produces). */
static int json_number(Json *j, double *v)
{
    json_ws(j);
    const char *q = j->p, *e = j->end;
#define DIGITS(q) while ((q) < e && *(q) >= '0' && *(q) <= '9') (q)++
    if (q < e && *q == '-') q++;
    if (q < e && *q == '0') q++;
    else if (q < e && *q >= '1' && *q <= '9') DIGITS(q);
    else return json_fail(j, "expected a number");
    if (q < e && *q == '.') {
        const char *d = ++q;
        DIGITS(q);
        if (q == d) return json_fail(j, "expected digits after '.'");
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        const char *d = q;
        DIGITS(q);
        if (q == d) return json_fail(j, "expected digits in the exponent");
    }
#undef DIGITS
    char buf[64];
    size_t n = (size_t)(q - j->p);
    if (n >= sizeof buf) return json_fail(j, "number too long");
    memcpy(buf, j->p, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    j->p = q;
    return 0;
}

/* Any value, read and thrown away: keys we do not know stay readable. */
static int json_skip(Json *j, int depth)
{
    if (depth > RUNS_JSON_DEPTH) return json_fail(j, "nested too deeply");
    int c = json_peek(j);
    double d;
    switch (c) {
    case '"': return json_string(j, NULL, 0);
    case 't': return json_word(j, "true") ? json_fail(j, "expected true") : 0;
    case 'f': return json_word(j, "false") ? json_fail(j, "expected false") : 0;
    case 'n': return json_word(j, "null") ? json_fail(j, "expected null") : 0;
    case '{':
    case '[': {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (!json_eat(j, close)) return 0;
        do {
            if (c == '{') {
                if (json_string(j, NULL, 0)) return -1;
                if (json_eat(j, ':')) return json_fail(j, "expected ':'");
            }
            if (json_skip(j, depth + 1)) return -1;
        } while (!json_eat(j, ','));
        if (json_eat(j, close)) return json_fail(j, "expected ',' or '%c'", close);
        return 0;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return json_number(j, &d);
        return c < 0 ? json_fail(j, "unexpected end") : json_fail(j, "unexpected character");
    }
}

/* 1 (and the null consumed) when the next value is null. */
static int json_null(Json *j)
{
    return json_peek(j) == 'n' && json_word(j, "null") == 0;
}

/* The value of `key`: a string, or null ("") where null_ok. */
static int get_str(Json *j, const char *key, char *out, size_t cap, int null_ok)
{
    if (null_ok && json_null(j)) {
        out[0] = '\0';
        return 0;
    }
    if (json_peek(j) != '"')
        return json_fail(j, "\"%s\": expected a string%s", key, null_ok ? " or null" : "");
    return json_string(j, out, cap);
}

/* The value of `key`: a number, or null (NaN) where null_ok. */
static int get_num(Json *j, const char *key, double *out, int null_ok)
{
    if (null_ok && json_null(j)) {
        *out = NAN;
        return 0;
    }
    int c = json_peek(j);
    if (c != '-' && !(c >= '0' && c <= '9'))
        return json_fail(j, "\"%s\": expected a number%s", key, null_ok ? " or null" : "");
    return json_number(j, out);
}

static int get_int(Json *j, const char *key, int *out)
{
    double v;
    if (get_num(j, key, &v, 0)) return -1;
    if (v != floor(v) || v < -1e9 || v > 1e9)
        return json_fail(j, "\"%s\": expected a whole number", key);
    *out = (int)v;
    return 0;
}

/* Calls field(j, key, ctx) for each member of the object at j->p. */
static int json_object(Json *j, const char *what, int (*field)(Json *, const char *, void *),
                       void *ctx)
{
    if (json_eat(j, '{')) return json_fail(j, "%s: expected an object", what);
    if (!json_eat(j, '}')) return 0;
    do {
        char key[64]; /* longer keys are cut, and then match none of ours */
        if (json_string(j, key, sizeof key)) return -1;
        if (json_eat(j, ':')) return json_fail(j, "expected ':' after \"%s\"", key);
        if (field(j, key, ctx)) return -1;
    } while (!json_eat(j, ','));
    if (json_eat(j, '}')) return json_fail(j, "%s: expected ',' or '}'", what);
    return 0;
}

typedef struct {
    RunSummary *s;
    char index[32], name[200]; /* device.index "P:D" and device.name */
    int seen_status, seen_name;
} ReadCtx;

static int device_field(Json *j, const char *key, void *ctx)
{
    ReadCtx *r = ctx;
    if (strcmp(key, "index") == 0) return get_str(j, "device.index", r->index, sizeof r->index, 0);
    if (strcmp(key, "name") == 0) return get_str(j, "device.name", r->name, sizeof r->name, 0);
    return json_skip(j, 2);
}

/* A whole number 0..2^53 (exact in a double), such as a pid or a tick count. */
static int get_count(Json *j, const char *key, double *out)
{
    if (get_num(j, key, out, 0)) return -1;
    if (*out != floor(*out) || *out < 0 || *out > 9007199254740992.0)
        return json_fail(j, "\"%s\": expected a whole number >= 0", key);
    return 0;
}

static int process_field(Json *j, const char *key, void *ctx)
{
    ProcId *p = &((ReadCtx *)ctx)->s->process;
    double v;
    if (strcmp(key, "host") == 0) return get_str(j, "process.host", p->host, sizeof p->host, 0);
    if (strcmp(key, "boot_id") == 0)
        return get_str(j, "process.boot_id", p->boot_id, sizeof p->boot_id, 0);
    if (strcmp(key, "pid") == 0) {
        if (get_count(j, "process.pid", &v)) return -1;
        if (v > 1e9) return json_fail(j, "\"process.pid\": %.0f is not a pid", v);
        p->pid = (long)v;
        return 0;
    }
    if (strcmp(key, "start") == 0) {
        if (get_count(j, "process.start", &v)) return -1;
        p->start = (unsigned long long)v;
        return 0;
    }
    return json_skip(j, 2);
}

static int sweep_field(Json *j, const char *key, void *ctx)
{
    RunSummary *s = ((ReadCtx *)ctx)->s;
    if (strcmp(key, "name") == 0) return get_str(j, "sweep.name", s->sweep, sizeof s->sweep, 0);
    if (strcmp(key, "index") == 0) return get_int(j, "sweep.index", &s->sweep_index);
    return json_skip(j, 2);
}

static int run_field(Json *j, const char *key, void *ctx)
{
    ReadCtx *r = ctx;
    RunSummary *s = r->s;
    if (strcmp(key, "status") == 0) {
        r->seen_status = 1;
        return get_str(j, key, s->status, sizeof s->status, 0);
    }
    if (strcmp(key, "name") == 0) {
        r->seen_name = 1;
        return get_str(j, key, s->name, sizeof s->name, 0);
    }
    if (strcmp(key, "start_time") == 0) return get_str(j, key, s->start, sizeof s->start, 1);
    if (strcmp(key, "end_time") == 0) return get_str(j, key, s->end, sizeof s->end, 1);
    if (strcmp(key, "epochs_completed") == 0) return get_int(j, key, &s->epochs_done);
    if (strcmp(key, "resumes") == 0) return get_int(j, key, &s->resumes);
    if (strcmp(key, "epochs") == 0) return get_int(j, key, &s->epochs);
    if (strcmp(key, "final_train_loss") == 0) return get_num(j, key, &s->train_loss, 1);
    if (strcmp(key, "final_test_loss") == 0) return get_num(j, key, &s->test_loss, 1);
    if (strcmp(key, "images_per_second") == 0) return get_num(j, key, &s->images_per_second, 1);
    if (strcmp(key, "seconds") == 0) return get_num(j, key, &s->seconds, 1);
    if (strcmp(key, "overrides") == 0) return get_str(j, key, s->overrides, sizeof s->overrides, 1);
    if (strcmp(key, "error") == 0) return get_str(j, key, s->error, sizeof s->error, 1);
    if (strcmp(key, "device") == 0) return json_object(j, "\"device\"", device_field, r);
    if (strcmp(key, "process") == 0) {
        memset(&s->process, 0, sizeof s->process);
        return json_null(j) ? 0 : json_object(j, "\"process\"", process_field, r);
    }
    if (strcmp(key, "kernel_cache") == 0)
        return get_str(j, key, s->kernel_cache, sizeof s->kernel_cache, 1);
    if (strcmp(key, "sweep") == 0) {
        s->sweep[0] = '\0';
        s->sweep_index = -1;
        return json_null(j) ? 0 : json_object(j, "\"sweep\"", sweep_field, r);
    }
    return json_skip(j, 1);
}

/* s with everything unknown: NaN numbers, no sweep. */
static void summary_init(RunSummary *s, const char *folder)
{
    memset(s, 0, sizeof *s);
    snprintf(s->folder, sizeof s->folder, "%s", folder);
    /* the id is the last component, whatever slashes end the path */
    size_t n = strlen(folder);
    while (n > 1 && folder[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && folder[b - 1] != '/') b--;
    snprintf(s->id, sizeof s->id, "%.*s", (int)(n - b), folder + b);
    s->train_loss = s->test_loss = s->images_per_second = s->seconds = NAN;
    s->sweep_index = -1;
}

static int not_a_run(RunSummary *s, const char *path, Err *err, const char *why)
{
    char folder[sizeof s->folder];
    memcpy(folder, s->folder, sizeof folder);
    summary_init(s, folder);
    snprintf(s->status, sizeof s->status, "not a run");
    snprintf(s->error, sizeof s->error, "%s", why);
    return err_set(err, "%s: not a run: %s", path, why);
}

/* A "running" run whose process is gone: what happened and what to type. */
static void mark_stale(RunSummary *s)
{
    char ckpt[4200];
    struct stat st;
    snprintf(ckpt, sizeof ckpt, "%s/model.ckpt", s->folder);
    int has_ckpt = stat(ckpt, &st) == 0 && S_ISREG(st.st_mode);
    snprintf(s->status, sizeof s->status, "stale");
    Err e; /* err_set cuts a very long folder path short, still one line */
    if (has_ckpt)
        err_set(&e, "run.json says running, but its process %ld on %s is gone (killed, or out "
                    "of time); %d of %d epochs were done; continue with: clae train --resume %s",
                s->process.pid, s->process.host, s->epochs_done, s->epochs, s->folder);
    else
        err_set(&e, "run.json says running, but its process %ld on %s is gone (killed, or out "
                    "of time) before it wrote a checkpoint ([output] checkpoint_every); start it "
                    "again with: clae train %s/config.ini", s->process.pid, s->process.host,
                s->folder);
    util_copy(s->error, sizeof s->error, e.msg);
}

int runs_read(const char *folder, RunSummary *s, Err *err)
{
    summary_init(s, folder);
    char path[4200], why[512];
    snprintf(path, sizeof path, "%s/run.json", folder);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, sizeof why, errno == ENOENT ? "no run.json" : "run.json: %s",
                 strerror(errno));
        return not_a_run(s, path, err, why);
    }
    if (!S_ISREG(st.st_mode)) return not_a_run(s, path, err, "run.json is not a file");
    if (st.st_size > RUNS_JSON_MAX) return not_a_run(s, path, err, "run.json is too large");
    size_t len;
    Err rerr = {{0}};
    char *text = util_read_file(path, &len, &rerr);
    if (!text) return not_a_run(s, path, err, rerr.msg);

    Json j = {.start = text, .p = text, .end = text + len};
    ReadCtx r = {.s = s};
    int rc = json_object(&j, "run.json", run_field, &r);
    if (rc == 0 && json_peek(&j) >= 0) rc = json_fail(&j, "text after the closing '}'");
    if (rc == 0 && (!r.seen_status || !s->status[0]))
        rc = json_fail(&j, "no \"status\": not written by clae train");
    if (rc == 0 && !r.seen_name) rc = json_fail(&j, "no \"name\": not written by clae train");
    free(text);
    if (rc) {
        snprintf(why, sizeof why, "run.json:%s", j.why);
        return not_a_run(s, path, err, why);
    }
    if (r.index[0] && r.name[0]) snprintf(s->device, sizeof s->device, "%s %s", r.index, r.name);
    else snprintf(s->device, sizeof s->device, "%s", r.index[0] ? r.index : r.name);
    if (strcmp(s->status, "running") == 0 && proc_alive(&s->process) == 0) mark_stale(s);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int runs_scan(const char *root, RunSummary **out, int *n, Err *err)
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
    RunSummary *runs = util_calloc((size_t)count, sizeof *runs, err);
    if (!runs) goto out;
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        runs_read(path, &runs[i], NULL); /* a failure is a row saying "not a run" */
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

void runs_csv_row(FILE *f, const RunSummary *s)
{
    const char *text[] = {s->id, s->name, s->status, s->start, s->end};
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
    runs_csv_field(f, s->device);
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

int runs_append(const char *root, const RunSummary *s, Err *err)
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
static int rewrite_locked(const char *root, const RunSummary *rows, int n, Err *err)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/runs.csv", root);
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    runs_csv_header(f);
    for (int i = 0; i < n; i++) runs_csv_row(f, &rows[i]);
    return util_atomic_commit(f, tmp, path, err);
}

int runs_rewrite(const char *root, const RunSummary *rows, int n, Err *err)
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
    RunSummary *runs = NULL;
    int n = 0, nc = 0, rc = -1;
    if (runs_scan(root, &runs, &n, err) == 0) {
        for (int i = 0; i < n; i++)
            if (strcmp(runs[i].status, "completed") == 0) runs[nc++] = runs[i];
        rc = rewrite_locked(root, runs, nc, err);
    }
    free(runs);
    unlock_root(lock);
    if (completed) *completed = nc;
    return rc;
}
