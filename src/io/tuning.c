/* tuning: see tuning.h.
 *
 * The reader is a small line parser of its own rather than inih: a tuning
 * file is machine-written, its [device] values are whole lines (a device
 * name may hold ';'), and the parser works on a memory buffer so that the
 * same code is what the fuzz harness feeds. */
#define _POSIX_C_SOURCE 200809L
#include "tuning.h"

#include "jsonio.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* CLBlast 1.5.3's names (src/database/kernels/ * /<kernel>_32.hpp), each
 * kernel's parameters sorted as CLBlast sorts them. */
static const TuningKernelInfo KERNELS[TK_COUNT] = {
    [TK_GEMM_ROUTINE] = {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}},
    [TK_XGEMM] = {"Xgemm", 16, {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"}},
    [TK_XGEMM_DIRECT] = {"XgemmDirect", 10, {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA",
                                             "PADB", "VWMD", "VWND", "WGD"}},
    [TK_COPY] = {"Copy", 4, {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"}},
    [TK_PAD] = {"Pad", 4, {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"}},
    [TK_TRANSPOSE] = {"Transpose", 4, {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"}},
    [TK_PADTRANSPOSE] = {"Padtranspose", 3, {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"}},
};

/* Parameter values are small; anything past this is a typo, and it keeps
 * products of two values far from overflow. */
#define VALUE_MAX 1000000000UL

const TuningKernelInfo *tuning_kernel(int k)
{
    return k >= 0 && k < TK_COUNT ? &KERNELS[k] : NULL;
}

void tuning_init(Tuning *t)
{
    memset(t, 0, sizeof *t);
    t->layout = GEMM_ROW_MAJOR;
}

/* ---- the checks ---------------------------------------------------------- */

static int param_index(int k, const char *name)
{
    for (int i = 0; i < KERNELS[k].n_params; i++)
        if (strcmp(KERNELS[k].params[i], name) == 0) return i;
    return -1;
}

typedef struct {
    int k;
    const size_t *v;
    int *param;
    Err *err;
} Checker;

static size_t val(const Checker *c, const char *name)
{
    return c->v[param_index(c->k, name)];
}

static int bad(const Checker *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const Checker *c, const char *name, const char *fmt, ...)
{
    if (c->param) *c->param = param_index(c->k, name);
    char msg[ERR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(c->err, "[%s] %s = %zu: %s", KERNELS[c->k].name, name, val(c, name), msg);
}

static int is_flag(size_t v) { return v <= 1; }
static int is_width(size_t v) { return v == 1 || v == 2 || v == 4 || v == 8 || v == 16; }

/* name must be a multiple of a * b (names of the factors for the message). */
static int multiple(const Checker *c, const char *name, const char *fa, const char *fb)
{
    size_t a = val(c, fa), b = fb ? val(c, fb) : 1;
    if (val(c, name) % (a * b) == 0) return 0;
    if (fb) return bad(c, name, "must be a multiple of %s x %s = %zu", fa, fb, a * b);
    return bad(c, name, "must be a multiple of %s = %zu", fa, a);
}

/* KWG over KDIMA = MDIMC * NDIMC / MDIMA (and KDIMB likewise): the threads
 * of a work-group load a tile in whole rows. */
static int reshaped(const Checker *c, const char *name, const char *dc1, const char *dc2,
                    const char *da)
{
    size_t threads = val(c, dc1) * val(c, dc2), d = val(c, da);
    if (threads % d != 0)
        return bad(c, da, "%s x %s = %zu must be a multiple of %s", dc1, dc2, threads, da);
    if (val(c, name) % (threads / d) != 0)
        return bad(c, name, "must be a multiple of %s x %s / %s = %zu", dc1, dc2, da, threads / d);
    return 0;
}

int tuning_check_kernel(int k, const size_t *v, int *param, Err *err)
{
    Checker c = {k, v, param, err};
    const TuningKernelInfo *ki = &KERNELS[k];
    /* Every kernel: flags are 0/1, vector widths 1..16, the rest positive
     * (the direct/indirect threshold may be 0: never direct). */
    for (int i = 0; i < ki->n_params; i++) {
        const char *p = ki->params[i];
        if (v[i] > VALUE_MAX) return bad(&c, p, "too large (at most %lu)", VALUE_MAX);
        int flag = !strcmp(p, "SA") || !strcmp(p, "SB") || !strcmp(p, "STRM") ||
                   !strcmp(p, "STRN") || !strcmp(p, "PADA") || !strcmp(p, "PADB") ||
                   !strcmp(p, "TRA_PAD") || !strcmp(p, "TRA_SHUFFLE") ||
                   !strcmp(p, "PADTRA_PAD") || !strcmp(p, "GEMMK");
        int width = !strcmp(p, "VWM") || !strcmp(p, "VWN") || !strcmp(p, "VWMD") ||
                    !strcmp(p, "VWND") || !strcmp(p, "COPY_VW");
        if (flag && !is_flag(v[i])) return bad(&c, p, "must be 0 or 1");
        if (width && !is_width(v[i])) return bad(&c, p, "must be a vector width 1, 2, 4, 8 or 16");
        if (!flag && k != TK_GEMM_ROUTINE && v[i] == 0) return bad(&c, p, "must be at least 1");
    }
    switch (k) {
    case TK_XGEMM:
        /* xgemm.hpp's tuner constraints (src/tuning/kernels/xgemm.hpp). */
        if (multiple(&c, "KWG", "KWI", NULL) || multiple(&c, "MWG", "MDIMC", "VWM") ||
            multiple(&c, "NWG", "NDIMC", "VWN") || multiple(&c, "MWG", "MDIMA", "VWM") ||
            multiple(&c, "NWG", "NDIMB", "VWN"))
            return -1;
        if (val(&c, "GEMMK") == 0) {
            if (reshaped(&c, "KWG", "MDIMC", "NDIMC", "MDIMA") ||
                reshaped(&c, "KWG", "MDIMC", "NDIMC", "NDIMB"))
                return -1;
        } else {
            /* Kernel 1 tiles registers in 2-D and uses no local memory. */
            if (multiple(&c, "KREG", "VWN", NULL)) return -1;
            if (val(&c, "KWG") != 1) return bad(&c, "KWG", "must be 1 with GEMMK = 1");
            if (val(&c, "KWI") != 1) return bad(&c, "KWI", "must be 1 with GEMMK = 1");
            if (val(&c, "SA") || val(&c, "SB"))
                return bad(&c, val(&c, "SA") ? "SA" : "SB", "must be 0 with GEMMK = 1");
            if (val(&c, "MDIMA") != val(&c, "MDIMC"))
                return bad(&c, "MDIMA", "must equal MDIMC with GEMMK = 1");
            if (val(&c, "NDIMB") != val(&c, "NDIMC"))
                return bad(&c, "NDIMB", "must equal NDIMC with GEMMK = 1");
        }
        if (val(&c, "GEMMK") == 0 && val(&c, "KREG") != 1)
            return bad(&c, "KREG", "must be 1 with GEMMK = 0");
        return 0;
    case TK_XGEMM_DIRECT:
        return multiple(&c, "WGD", "KWID", NULL) || multiple(&c, "WGD", "MDIMCD", "VWMD") ||
                       multiple(&c, "WGD", "NDIMCD", "VWND") ||
                       multiple(&c, "WGD", "MDIMAD", "VWMD") ||
                       multiple(&c, "WGD", "NDIMBD", "VWND") ||
                       reshaped(&c, "WGD", "MDIMCD", "NDIMCD", "MDIMAD") ||
                       reshaped(&c, "WGD", "MDIMCD", "NDIMCD", "NDIMBD")
                   ? -1
                   : 0;
    default:
        return 0;
    }
}

/* ---- the reader ---------------------------------------------------------- */

typedef struct {
    Tuning *t;
    const char *name;
    Err *err;
    int line;
    int section;           /* -1 none yet, TK_COUNT [device], TK_COUNT+1 [clae],
                              TK_COUNT+2 [routes], else kernel */
    int section_line[TK_COUNT + 3];
    int route_line[TUNING_MAX_ROUTES];
    int param_line[TK_COUNT][TUNING_MAX_PARAMS];
    int device_line[5];    /* platform, device, driver, clblast, class */
    int layout_line;
} Reader;

enum { SEC_DEVICE = TK_COUNT, SEC_CLAE = TK_COUNT + 1, SEC_ROUTES = TK_COUNT + 2 };
static const char *const DEVICE_KEYS[5] = {"platform", "device", "driver", "clblast", "class"};

static int fail(Reader *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Reader *r, int line, const char *fmt, ...)
{
    char msg[ERR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) return err_set(r->err, "%s:%d: %s", r->name, line, msg);
    return err_set(r->err, "%s: %s", r->name, msg);
}

/* Printable for a message: control bytes and non-ASCII become '?', and
 * long text is cut. */
static void printable(char *dst, size_t cap, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < cap; i++)
        dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (j + 4 >= cap && n > j) dst[j++] = '.', dst[j++] = '.', dst[j++] = '.';
    dst[j] = '\0';
}

static const char *trim(const char *s, const char **end)
{
    while (s < *end && isspace((unsigned char)*s)) s++;
    while (*end > s && isspace((unsigned char)(*end)[-1])) (*end)--;
    return s;
}

static int case_eq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
    return 1;
}

static int section_start(Reader *r, const char *s, size_t n)
{
    char shown[80];
    printable(shown, sizeof shown, s, n);
    int sec = -1;
    if (n == 6 && !memcmp(s, "device", 6)) sec = SEC_DEVICE;
    else if (n == 4 && !memcmp(s, "clae", 4)) sec = SEC_CLAE;
    else if (n == 6 && !memcmp(s, "routes", 6)) sec = SEC_ROUTES;
    for (int k = 0; k < TK_COUNT && sec < 0; k++)
        if (strlen(KERNELS[k].name) == n && !memcmp(s, KERNELS[k].name, n)) sec = k;
    if (sec < 0) {
        for (int k = 0; k < TK_COUNT; k++)
            if (case_eq(s, n, KERNELS[k].name))
                return fail(r, r->line, "unknown section [%s]; did you mean [%s]? (names are "
                                        "CLBlast's, case matters)", shown, KERNELS[k].name);
        char list[512] = "device, clae, routes";
        for (int k = 0; k < TK_COUNT; k++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, ", %s", KERNELS[k].name);
        }
        return fail(r, r->line, "unknown section [%s]; sections: %s", shown, list);
    }
    if (r->section_line[sec])
        return fail(r, r->line, "[%s] appears twice (first on line %d); keep one", shown,
                    r->section_line[sec]);
    r->section_line[sec] = r->line;
    r->section = sec;
    if (sec < TK_COUNT) r->t->has[sec] = 1;
    return 0;
}

/* A whole number 0..VALUE_MAX written in decimal digits only. */
static int parse_count(const char *s, size_t n, size_t *out)
{
    if (n == 0 || n > 10) return -1;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    if (v > VALUE_MAX) return -1;
    *out = v;
    return 0;
}

static const char *const ROUTE_NAMES[ROUTE_COUNT] = {"clblast", "direct", "indirect", "gemv"};

const char *tuning_route_name(GemmRoute r)
{
    return r >= 0 && r < ROUTE_COUNT ? ROUTE_NAMES[r] : "?";
}

int tuning_route_check(int ta, int tb, size_t M, size_t N, size_t K, GemmRoute r, Err *err)
{
    if (r == ROUTE_GEMV && M > TUNING_GEMV_MAX_DIM && N > TUNING_GEMV_MAX_DIM)
        return err_set(err, "gemv runs products with M or N at most %d (one GEMV per row or "
                            "column of C), not %c%c %zux%zux%zu",
                       TUNING_GEMV_MAX_DIM, ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K);
    return 0;
}

GemmRoute tuning_route_of(const TuningRoute *routes, int n, int ta, int tb, size_t M, size_t N,
                          size_t K)
{
    for (int i = 0; i < n; i++)
        if (routes[i].ta == ta && routes[i].tb == tb && routes[i].M == M && routes[i].N == N &&
            routes[i].K == K)
            return routes[i].route;
    return ROUTE_CLBLAST;
}

/* "NT 256x2x300" into *o (route left alone); -1 when it is not that. */
static int parse_shape(const char *s, size_t n, TuningRoute *o)
{
    if (n < 8 || (s[0] != 'N' && s[0] != 'T') || (s[1] != 'N' && s[1] != 'T') || s[2] != ' ')
        return -1;
    o->ta = s[0] == 'T';
    o->tb = s[1] == 'T';
    size_t i = 3, *dst[3] = {&o->M, &o->N, &o->K};
    while (i < n && s[i] == ' ') i++;
    for (int d = 0; d < 3; d++) {
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == st || i - st > 9) return -1;
        size_t v = 0;
        for (size_t j = st; j < i; j++) v = v * 10 + (size_t)(s[j] - '0');
        if (v == 0) return -1;
        *dst[d] = v;
        if (d < 2) {
            if (i >= n || s[i] != 'x') return -1;
            i++;
        }
    }
    return i == n ? 0 : -1;
}

static int parse_route(Reader *r, const char *key, size_t kn, const char *v, size_t vn,
                      const char *k_shown, const char *v_shown)
{
    Tuning *t = r->t;
    TuningRoute o;
    memset(&o, 0, sizeof o);
    if (parse_shape(key, kn, &o))
        return fail(r, r->line, "[routes] key '%s': expected a product as TRANSPOSES MxNxK, "
                                "e.g. 'NT 256x2x300' (N or T for A and B, sizes from 1)",
                    k_shown);
    int found = -1;
    for (int i = 0; i < ROUTE_COUNT && found < 0; i++)
        if (case_eq(v, vn, ROUTE_NAMES[i])) found = i;
    if (found < 0)
        return fail(r, r->line, "[routes] %s = '%s': expected clblast, direct, indirect or gemv",
                    k_shown, v_shown);
    o.route = (GemmRoute)found;
    for (int i = 0; i < t->n_routes; i++)
        if (t->route[i].ta == o.ta && t->route[i].tb == o.tb && t->route[i].M == o.M &&
            t->route[i].N == o.N && t->route[i].K == o.K)
            return fail(r, r->line, "[routes] %s is set twice (first on line %d); keep one",
                        k_shown, r->route_line[i]);
    Err why = {{0}};
    if (tuning_route_check(o.ta, o.tb, o.M, o.N, o.K, o.route, &why))
        return fail(r, r->line, "[routes] %s = %s: %s", k_shown, v_shown, why.msg);
    if (t->n_routes == TUNING_MAX_ROUTES)
        return fail(r, r->line, "[routes]: more than %d products", TUNING_MAX_ROUTES);
    r->route_line[t->n_routes] = r->line;
    t->route[t->n_routes++] = o;
    return 0;
}

static int key_value(Reader *r, const char *key, size_t kn, const char *v, size_t vn)
{
    char k_shown[80], v_shown[80];
    printable(k_shown, sizeof k_shown, key, kn);
    printable(v_shown, sizeof v_shown, v, vn);
    if (r->section < 0)
        return fail(r, r->line, "'%s' comes before any [section] header", k_shown);
    Tuning *t = r->t;
    if (r->section == SEC_DEVICE) {
        for (int i = 0; i < 5; i++) {
            if (strlen(DEVICE_KEYS[i]) != kn || memcmp(key, DEVICE_KEYS[i], kn)) continue;
            if (r->device_line[i])
                return fail(r, r->line, "[device] %s is set twice (first on line %d); keep one",
                            DEVICE_KEYS[i], r->device_line[i]);
            r->device_line[i] = r->line;
            char *dst[5] = {t->platform, t->device, t->driver, t->clblast, t->device_class};
            size_t cap[5] = {sizeof t->platform, sizeof t->device, sizeof t->driver,
                             sizeof t->clblast, sizeof t->device_class};
            if (vn >= cap[i])
                return fail(r, r->line, "[device] %s: longer than %zu characters",
                            DEVICE_KEYS[i], cap[i] - 1);
            for (size_t j = 0; j < vn; j++)
                if ((unsigned char)v[j] < 0x20)
                    return fail(r, r->line, "[device] %s: control character in the value",
                                DEVICE_KEYS[i]);
            memcpy(dst[i], v, vn);
            dst[i][vn] = '\0';
            return 0;
        }
        return fail(r, r->line, "unknown key '%s' in [device]; keys: platform, device, driver, "
                                "clblast, class", k_shown);
    }
    if (r->section == SEC_CLAE) {
        if (kn != 6 || memcmp(key, "layout", 6))
            return fail(r, r->line, "unknown key '%s' in [clae]; keys: layout", k_shown);
        if (r->layout_line)
            return fail(r, r->line, "[clae] layout is set twice (first on line %d); keep one",
                        r->layout_line);
        r->layout_line = r->line;
        if (case_eq(v, vn, "row")) t->layout = GEMM_ROW_MAJOR;
        else if (case_eq(v, vn, "col")) t->layout = GEMM_COL_MAJOR;
        else return fail(r, r->line, "[clae] layout = '%s': expected row or col", v_shown);
        return 0;
    }
    if (r->section == SEC_ROUTES) return parse_route(r, key, kn, v, vn, k_shown, v_shown);
    int k = r->section;
    const TuningKernelInfo *ki = &KERNELS[k];
    int p = -1;
    for (int i = 0; i < ki->n_params && p < 0; i++)
        if (strlen(ki->params[i]) == kn && !memcmp(key, ki->params[i], kn)) p = i;
    if (p < 0) {
        char list[512] = "";
        for (int i = 0; i < ki->n_params; i++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", ki->params[i]);
        }
        return fail(r, r->line, "unknown parameter '%s' in [%s]; its parameters: %s", k_shown,
                    ki->name, list);
    }
    if (r->param_line[k][p])
        return fail(r, r->line, "[%s] %s is set twice (first on line %d); keep one", ki->name,
                    ki->params[p], r->param_line[k][p]);
    r->param_line[k][p] = r->line;
    if (parse_count(v, vn, &t->value[k][p]))
        return fail(r, r->line, "[%s] %s = '%s': expected a whole number 0..%lu", ki->name,
                    ki->params[p], v_shown, VALUE_MAX);
    return 0;
}

static int parse_line(Reader *r, const char *s, const char *end)
{
    s = trim(s, &end);
    if (s == end || *s == ';' || *s == '#') return 0;
    if (*s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close || close + 1 != end)
            return fail(r, r->line, "a section header is '[name]' alone on its line");
        const char *ne = close;
        const char *ns = trim(s + 1, &ne);
        return section_start(r, ns, (size_t)(ne - ns));
    }
    const char *eq = memchr(s, '=', (size_t)(end - s));
    if (!eq) return fail(r, r->line, "not a 'key = value' line or [section] header");
    const char *ke = eq, *ve = end;
    const char *ks = trim(s, &ke);
    const char *vs = eq + 1;
    /* Numbers and [clae] values may carry a comment after " ;"; [device]
     * values are whole lines. */
    if (r->section != SEC_DEVICE)
        for (const char *q = vs; q < end; q++)
            if ((*q == ';' || *q == '#') && q > vs && isspace((unsigned char)q[-1])) {
                ve = q;
                break;
            }
    vs = trim(vs, &ve);
    if (ks == ke) return fail(r, r->line, "a key is missing before '='");
    return key_value(r, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
}

int tuning_parse(Tuning *t, const char *text, size_t len, const char *name, Err *err)
{
    tuning_init(t);
    Reader r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.name = name;
    r.err = err;
    r.section = -1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        r.line++;
        if (memchr(p, '\0', (size_t)(le - p)))
            return fail(&r, r.line, "a NUL byte: not a text file");
        if (parse_line(&r, p, le)) return -1;
        p = nl ? nl + 1 : end;
    }
    if (!r.section_line[SEC_DEVICE])
        return fail(&r, 0, "no [device] section: a tuning file names its device and CLBlast "
                           "version");
    if (!t->clblast[0])
        return fail(&r, r.section_line[SEC_DEVICE], "[device] clblast is missing (the CLBlast "
                                                    "version the parameters are for)");
    if (!t->device_class[0] && (!t->platform[0] || !t->device[0]))
        return fail(&r, r.section_line[SEC_DEVICE],
                    "[device] needs platform and device (or class, for a shipped file)");
    for (int k = 0; k < TK_COUNT; k++) {
        if (!t->has[k]) continue;
        const TuningKernelInfo *ki = &KERNELS[k];
        for (int i = 0; i < ki->n_params; i++)
            if (!r.param_line[k][i])
                return fail(&r, r.section_line[k], "[%s] misses parameter %s (a kernel's section "
                                                   "sets all %d of its parameters)",
                            ki->name, ki->params[i], ki->n_params);
        int bad_param = 0;
        Err why = {{0}};
        if (tuning_check_kernel(k, t->value[k], &bad_param, &why))
            return fail(&r, r.param_line[k][bad_param], "%s (CLBlast's kernel cannot run it)",
                        why.msg);
    }
    return 0;
}

int tuning_read(Tuning *t, const char *path, Err *err)
{
    size_t len = 0;
    char *text = util_read_file(path, &len, err);
    if (!text) {
        tuning_init(t);
        return -1;
    }
    int rc = tuning_parse(t, text, len, path, err);
    free(text);
    return rc;
}

/* ---- the writer ---------------------------------------------------------- */

static void comment_lines(FILE *f, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        fprintf(f, "; %.*s\n", (int)n, text);
        text = nl ? nl + 1 : text + n;
    }
}

int tuning_write(const Tuning *t, const char *path, const char *comment,
                 const char *const *kernel_comment, Err *err)
{
    char tmp[4200];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    comment_lines(f, comment);
    fprintf(f, "[device]\n");
    const char *dv[5] = {t->platform, t->device, t->driver, t->clblast, t->device_class};
    for (int i = 0; i < 5; i++)
        if (dv[i][0]) fprintf(f, "%s = %s\n", DEVICE_KEYS[i], dv[i]);
    fprintf(f, "\n[clae]\n; row: products go to CLBlast row-major as they are; col: as the "
               "column-major C^T = B^T A^T\nlayout = %s\n",
            t->layout == GEMM_COL_MAJOR ? "col" : "row");
    for (int k = 0; k < TK_COUNT; k++) {
        if (!t->has[k]) continue;
        fprintf(f, "\n");
        if (kernel_comment) comment_lines(f, kernel_comment[k]);
        fprintf(f, "[%s]\n", KERNELS[k].name);
        for (int i = 0; i < KERNELS[k].n_params; i++)
            fprintf(f, "%s = %zu\n", KERNELS[k].params[i], t->value[k][i]);
    }
    if (t->n_routes) {
        fprintf(f, "\n; which CLBlast routine runs each small product (clae tune measured "
                   "each); other products: clblast\n[routes]\n");
        for (int i = 0; i < t->n_routes; i++) {
            const TuningRoute *o = &t->route[i];
            fprintf(f, "%c%c %zux%zux%zu = %s\n", o->ta ? 'T' : 'N', o->tb ? 'T' : 'N', o->M,
                    o->N, o->K, tuning_route_name(o->route));
        }
    }
    return util_atomic_commit(f, tmp, path, err);
}

uint64_t tuning_hash(const Tuning *t)
{
    uint64_t h = 1469598103934665603ULL;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "layout=%d;", (int)t->layout);
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
    for (int k = 0; k < TK_COUNT; k++) {
        if (!t->has[k]) continue;
        const char *name = KERNELS[k].name;
        for (; *name; name++) h = (h ^ (unsigned char)*name) * 1099511628211ULL;
        for (int i = 0; i < KERNELS[k].n_params; i++) {
            n = snprintf(buf, sizeof buf, ",%zu", t->value[k][i]);
            for (int j = 0; j < n; j++) h = (h ^ (unsigned char)buf[j]) * 1099511628211ULL;
        }
    }
    for (int i = 0; i < t->n_routes; i++) {
        const TuningRoute *o = &t->route[i];
        n = snprintf(buf, sizeof buf, ";%d%d%zux%zux%zu=%d", o->ta, o->tb, o->M, o->N, o->K,
                     (int)o->route);
        for (int j = 0; j < n; j++) h = (h ^ (unsigned char)buf[j]) * 1099511628211ULL;
    }
    return h;
}

/* ---- CLBlast's tuner files ------------------------------------------------ */

typedef struct {
    char name[TUNING_MAX_PARAMS + 1][64];
    double value[TUNING_MAX_PARAMS + 1];
    int n;
} ParamSet;

/* The largest CLBlast tuner file clae reads. A tuner writes about 300
 * bytes per result tried (8 MiB: some 28,000 results, which jansson holds in
 * about 120 MiB); the bound also keeps what a hostile file of empty objects
 * can make jansson allocate (75 times its size) near 600 MiB. */
#define TUNING_JSON_MAX (8 << 20)

typedef struct {
    char precision[16];
    char device[TUNING_TEXT];
    char best_string[1024];   /* "best_parameters" */
    ParamSet best;            /* the fastest of "results" */
    double best_time;
    int results;
} ImportRead;

/* A result's "parameters" into ps: every member a number, PRECISION left
 * out (it says which precision, not how the kernel runs). */
static int import_params(const JsonObj *params, ParamSet *ps, Err *err)
{
    const char *key;
    json_t *v;
    ps->n = 0;
    json_object_foreach((json_t *)params->obj, key, v) {
        double x = NAN;
        if (jsonio_num(params, key, &x, 0, err)) return -1;
        if (strcmp(key, "PRECISION") == 0) continue;
        if (ps->n == TUNING_MAX_PARAMS + 1)
            return jsonio_fail(params, NULL, err, "more parameters than any kernel has");
        /* a name longer than the field is cut, and then matches no kernel's */
        jsonio_copy(ps->name[ps->n], sizeof ps->name[ps->n], key, strlen(key));
        ps->value[ps->n++] = x;
    }
    return 0;
}

/* The members of a CLBlast tuner file that clae uses, into r: the fastest
 * of "results" (each {"time": ms, "parameters": {...}}), else
 * "best_parameters". */
static int import_read(const JsonObj *top, ImportRead *r, Err *err)
{
    if (jsonio_str(top, "precision", r->precision, sizeof r->precision, 0, err) ||
        jsonio_str(top, "device", r->device, sizeof r->device, 0, err) ||
        jsonio_str(top, "best_parameters", r->best_string, sizeof r->best_string, 1, err))
        return -1;
    const json_t *results = json_object_get(top->obj, "results");
    if (!results) return 0;
    if (!json_is_array(results)) return jsonio_fail(top, "results", err, "expected an array");
    for (size_t i = 0; i < json_array_size(results); i++) {
        JsonObj res = {.obj = json_array_get(results, i)}, params;
        snprintf(res.name, sizeof res.name, "results[%zu]", i);
        if (!json_is_object(res.obj)) return jsonio_fail(&res, NULL, err, "expected an object");
        double time = NAN;
        ParamSet cur = {.n = 0};
        if (jsonio_num(&res, "time", &time, 0, err) ||
            jsonio_obj(&res, "parameters", 0, &params, err))
            return -1;
        if (params.obj && import_params(&params, &cur, err)) return -1;
        if (!isnan(time) && (r->results == 0 || time < r->best_time)) {
            r->best = cur;
            r->best_time = time;
        }
        r->results++;
    }
    return 0;
}

/* "GEMMK=0 KREG=1 ..." into ps. */
static int parse_best_string(const char *s, ParamSet *ps)
{
    ps->n = 0;
    while (*s) {
        while (*s == ' ' || *s == ',') s++;
        if (!*s) break;
        const char *eq = strchr(s, '=');
        if (!eq || eq == s || (size_t)(eq - s) >= sizeof ps->name[0]) return -1;
        char *end = NULL;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1) return -1;
        if (!(eq - s == 9 && !memcmp(s, "PRECISION", 9))) {
            if (ps->n == TUNING_MAX_PARAMS + 1) return -1;
            snprintf(ps->name[ps->n], sizeof ps->name[0], "%.*s", (int)(eq - s), s);
            ps->value[ps->n++] = v;
        }
        s = end;
    }
    return 0;
}

int tuning_import_json(Tuning *t, const char *path, TuningImport *what, Err *err)
{
    what->kernel = -1;
    what->device[0] = '\0';
    what->time = NAN;
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (st.st_size > TUNING_JSON_MAX)
        return err_set(err, "%s: %lld bytes: more than clae reads from a file of CLBlast's "
                            "tuners (%d MiB)", path, (long long)st.st_size, TUNING_JSON_MAX >> 20);
    size_t len = 0;
    char *text = util_read_file(path, &len, err);
    if (!text) return -1;
    ImportRead *r = calloc(1, sizeof *r);
    if (!r) {
        free(text);
        return err_set(err, "%s: out of memory", path);
    }
    Err e = {{0}};
    json_t *doc = jsonio_parse(text, len, &e);
    free(text);
    JsonObj top = jsonio_top(doc);
    int rc = !doc || import_read(&top, r, &e) ? -1 : 0;
    json_decref(doc);
    if (rc) err_set(err, "%s: %s", path, e.msg);
    if (rc == 0) {
        snprintf(what->device, sizeof what->device, "%s", r->device);
        if (r->results == 0 && r->best_string[0] && parse_best_string(r->best_string, &r->best))
            rc = err_set(err, "%s: \"best_parameters\" is not a list of NAME=VALUE", path);
        else if (r->results == 0 && !r->best_string[0])
            rc = err_set(err, "%s: no \"results\" nor \"best_parameters\": not a file of "
                              "CLBlast's tuners", path);
        else if (r->results > 0)
            what->time = r->best_time;
    }
    if (rc == 0 && strcmp(r->precision, "32") == 0) {
        /* The kernel whose parameter names are exactly these. */
        for (int k = 0; k < TK_COUNT && what->kernel < 0; k++) {
            const TuningKernelInfo *ki = &KERNELS[k];
            if (ki->n_params != r->best.n) continue;
            size_t v[TUNING_MAX_PARAMS];
            int all = 1;
            for (int i = 0; i < ki->n_params && all; i++) {
                all = 0;
                for (int q = 0; q < r->best.n; q++)
                    if (strcmp(ki->params[i], r->best.name[q]) == 0 && r->best.value[q] >= 0 &&
                        r->best.value[q] <= (double)VALUE_MAX &&
                        r->best.value[q] == floor(r->best.value[q])) {
                        v[i] = (size_t)r->best.value[q];
                        all = 1;
                    }
            }
            if (!all) continue;
            Err why = {{0}};
            int bad = 0;
            if (tuning_check_kernel(k, v, &bad, &why)) {
                rc = err_set(err, "%s: %s (CLBlast's kernel cannot run it)", path, why.msg);
                break;
            }
            memcpy(t->value[k], v, sizeof v);
            t->has[k] = 1;
            what->kernel = k;
        }
    }
    free(r);
    return rc;
}
