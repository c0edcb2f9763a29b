/* plot: see plot.h.
 *
 * Every picture is laid out once: a Frame (the plot area in pixels and the
 * data at its edges) and a Ticks list per axis. The latent SVG and PNG are two
 * renderings of the same layout, so a point sits on the same pixel in both.
 * SVG coordinates carry one decimal (two where tests and readers measure:
 * ticks, lines, centroids): a tenth of a pixel is below what a screen shows
 * and keeps a 10,000-point scatter under 400 kB. */
#include "plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"

/* Tableau 10 for labels 0..9, then dark grey for every label above 9. */
enum { CLASS_OTHER = 10, CLASS_COUNT = 11 };
static const unsigned char PALETTE[CLASS_COUNT][3] = {
    {0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}, {0xe1, 0x57, 0x59}, {0x76, 0xb7, 0xb2},
    {0x59, 0xa1, 0x4f}, {0xed, 0xc9, 0x48}, {0xb0, 0x7a, 0xa1}, {0xff, 0x9d, 0xa7},
    {0x9c, 0x75, 0x5f}, {0xba, 0xb0, 0xac}, {0x44, 0x44, 0x44}};

static const unsigned char WHITE[3] = {0xff, 0xff, 0xff}, BLACK[3] = {0, 0, 0},
                           INK[3] = {0x33, 0x33, 0x33}, GRID[3] = {0xe5, 0xe5, 0xe5},
                           NOTE[3] = {0x66, 0x66, 0x66};

/* 5x7 glyphs for ASCII 32..126: seven rows top to bottom, five bits each with
 * bit 4 the leftmost column, the baseline under the last row. The glyphs in
 * FONT_DESCENDERS are drawn two rows lower (their last two rows hang below
 * the baseline); j keeps its descender within the 7 rows. */
static const char FONT_DESCENDERS[] = "gpqy";
static const unsigned char FONT[95][7] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ' ' */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, /* '!' */
    {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '"' */
    {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a}, /* '#' */
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04}, /* '$' */
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, /* '%' */
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d}, /* '&' */
    {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '\'' */
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, /* '(' */
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, /* ')' */
    {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}, /* '*' */
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}, /* '+' */
    {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}, /* ',' */
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}, /* '-' */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}, /* '.' */
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}, /* '/' */
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* '0' */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* '1' */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* '2' */
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}, /* '3' */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* '4' */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* '5' */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* '6' */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* '7' */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* '8' */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* '9' */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}, /* ':' */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}, /* ';' */
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, /* '<' */
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}, /* '=' */
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, /* '>' */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, /* '?' */
    {0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e}, /* '@' */
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* 'A' */
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}, /* 'B' */
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}, /* 'C' */
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c}, /* 'D' */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}, /* 'E' */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}, /* 'F' */
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}, /* 'G' */
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* 'H' */
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 'I' */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}, /* 'J' */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, /* 'K' */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}, /* 'L' */
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}, /* 'M' */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, /* 'N' */
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* 'O' */
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}, /* 'P' */
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}, /* 'Q' */
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}, /* 'R' */
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}, /* 'S' */
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* 'T' */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* 'U' */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* 'V' */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}, /* 'W' */
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}, /* 'X' */
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}, /* 'Y' */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}, /* 'Z' */
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}, /* '[' */
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}, /* '\\' */
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}, /* ']' */
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00}, /* '^' */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}, /* '_' */
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '`' */
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}, /* 'a' */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e}, /* 'b' */
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}, /* 'c' */
    {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f}, /* 'd' */
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}, /* 'e' */
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08}, /* 'f' */
    {0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'g' */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, /* 'h' */
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}, /* 'i' */
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}, /* 'j' */
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, /* 'k' */
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 'l' */
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11}, /* 'm' */
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, /* 'n' */
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}, /* 'o' */
    {0x1e, 0x11, 0x11, 0x11, 0x1e, 0x10, 0x10}, /* 'p' */
    {0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x01}, /* 'q' */
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, /* 'r' */
    {0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e}, /* 's' */
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}, /* 't' */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}, /* 'u' */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* 'v' */
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a}, /* 'w' */
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}, /* 'x' */
    {0x11, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'y' */
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}, /* 'z' */
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02}, /* '{' */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* '|' */
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08}, /* '}' */
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00}, /* '~' */
};

void plot_class_color(int label, unsigned char rgb[3])
{
    memcpy(rgb, PALETTE[label >= 0 && label <= 9 ? label : CLASS_OTHER], 3);
}

int plot_nice_ticks(double lo, double hi, int max_ticks, double *first, double *step)
{
    *first = lo;
    *step = 0;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo) || hi < lo) return 0;
    if (hi == lo) return 1;
    if (max_ticks < 2) max_ticks = 2;
    static const double mant[3] = {1, 2, 5};
    /* Start a decade below the step that would give max_ticks intervals and
     * walk up; the first step that fits is the smallest. It ends: once the
     * step exceeds hi - lo at most one tick fits. The 1e-9 lets a tick that
     * rounding put a hair outside [lo, hi] count as inside. */
    for (int e = (int)floor(log10((hi - lo) / max_ticks)) - 1;; e++) {
        for (int m = 0; m < 3; m++) {
            double s = mant[m] * pow(10.0, e);
            if (!(s > 0)) continue; /* underflow at the bottom of the double range */
            double a = ceil(lo / s - 1e-9), b = floor(hi / s + 1e-9);
            if (b - a + 1 <= max_ticks) {
                *first = a * s;
                *step = s;
                return b >= a ? (int)(b - a + 1) : 0;
            }
        }
    }
}

void plot_tick_label(double v, double step, char *buf, size_t len)
{
    if (!len) return;
    if (!isfinite(v) || !(step > 0) || !isfinite(step)) {
        snprintf(buf, len, "%g", v);
        return;
    }
    if (fabs(v) < step * 1e-6) v = 0;
    /* Digits down to the step's own: 0.25 apart needs two decimals only when
     * the step is 0.05 or finer, and a step of 2 needs none. */
    int step_exp = (int)floor(log10(step) + 1e-9);
    double mag = fmax(fabs(v), step);
    if (mag >= 1e6 || step < 1e-4) {
        int digits = (int)floor(log10(mag) + 1e-9) - step_exp;
        snprintf(buf, len, "%.*e", digits < 0 ? 0 : digits > 15 ? 15 : digits, v);
    } else {
        snprintf(buf, len, "%.*f", step_exp < 0 ? -step_exp : 0, v);
    }
}

/* ---- SVG text ------------------------------------------------------------ */

/* A growing string. After a failed allocation it stops growing and says so
 * in `failed`, so that builders check once at the end. */
typedef struct {
    char *s;    /* NUL-terminated text so far, or NULL; owned */
    size_t len; /* bytes before the NUL */
    size_t cap; /* bytes allocated */
    int failed;
} Sb;

static void sb_add(Sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(Sb *b, const char *fmt, ...)
{
    if (b->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* Appends text with XML's five special characters escaped. Control bytes are
 * not allowed in XML at all and become '?'; other bytes pass (UTF-8). */
static void sb_escape(Sb *b, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        switch (*p) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        case '\'': sb_add(b, "&apos;"); break;
        default: sb_add(b, "%c", *p < 0x20 || *p == 0x7f ? '?' : *p);
        }
    }
}

/* The finished string (ownership passes to the caller), or NULL with err
 * filled when an allocation failed on the way. */
static char *sb_finish(Sb *b, const char *what, Err *err)
{
    if (b->failed || !b->s) {
        free(b->s);
        err_set(err, "%s: out of memory building the SVG", what);
        return NULL;
    }
    return b->s;
}

static void hex_color(const unsigned char rgb[3], char out[8])
{
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* ---- layout -------------------------------------------------------------- */

typedef struct {
    double left, top, right, bottom; /* the plot area, pixels from the top left corner */
    double x0, x1, y0, y1;           /* data at its edges (log10 of it on a log axis) */
} Frame;

static double frame_x(const Frame *f, double x)
{
    return f->left + (x - f->x0) / (f->x1 - f->x0) * (f->right - f->left);
}

static double frame_y(const Frame *f, double y)
{
    return f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top);
}

#define TICKS_MAX 64
typedef struct {
    int n;
    double at[TICKS_MAX];      /* axis coordinate: the value, or log10 of it on a log axis */
    char label[TICKS_MAX][24]; /* "" for an unlabelled (minor) tick */
} Ticks;

static void ticks_add(Ticks *t, double at, const char *label)
{
    if (t->n >= TICKS_MAX) return;
    t->at[t->n] = at;
    snprintf(t->label[t->n], sizeof t->label[0], "%s", label);
    t->n++;
}

static int ticks_labelled(const Ticks *t)
{
    int n = 0;
    for (int i = 0; i < t->n; i++) n += t->label[i][0] != '\0';
    return n;
}

/* Linear ticks by plot_nice_ticks; `integer` keeps them on whole numbers
 * (epochs, point indices) however narrow the range. */
static void linear_ticks(double lo, double hi, int max_ticks, int integer, Ticks *t)
{
    double first, step;
    int count = plot_nice_ticks(lo, hi, max_ticks, &first, &step);
    if (integer && step < 1) {
        first = ceil(lo);
        step = 1;
        count = (int)(floor(hi) - first) + 1;
    }
    t->n = 0;
    for (int i = 0; i < count; i++) {
        char buf[24];
        plot_tick_label(first + i * step, step, buf, sizeof buf);
        ticks_add(t, first + i * step, buf);
    }
}

/* Label of m x 10^d: plain decimals near 1 ("0.01", "500"), else "2e-7". */
static void log_label(int m, int d, char *buf, size_t len)
{
    if (d >= -4 && d <= 5) snprintf(buf, len, "%.*f", d < 0 ? -d : 0, m * pow(10.0, d));
    else snprintf(buf, len, "%de%d", m, d);
}

/* Ticks for a log axis spanning log10 values [lo, hi], always with at least
 * two labels: whole decades when two or more are in range (with unlabelled
 * 2..9 x 10^d between them when there are few), else 1, 2, 5 x 10^d, else
 * 1..9 x 10^d, else (a range narrower than 1 to 2) linear 1-2-5 ticks. */
static void log_ticks(double lo, double hi, Ticks *t)
{
    const double eps = 1e-9;
    int d0 = (int)floor(lo) - 1, d1 = (int)ceil(hi);
    int first = (int)ceil(lo - eps), last = (int)floor(hi + eps);
    t->n = 0;
    if (last - first + 1 >= 2) {
        int stride = (last - first + 8) / 8; /* at most 8 labels */
        for (int d = first; d <= last; d++) {
            char buf[24];
            log_label(1, d, buf, sizeof buf);
            if (((d % stride) + stride) % stride == 0) ticks_add(t, d, buf);
        }
        if (stride == 1 && last - first <= 4)
            for (int d = d0; d <= d1; d++)
                for (int m = 2; m <= 9; m++) {
                    double a = d + log10(m);
                    if (a >= lo - eps && a <= hi + eps) ticks_add(t, a, "");
                }
        return;
    }
    static const int sets[2][10] = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}; /* 0-ended */
    for (int s = 0; s < 2; s++) {
        t->n = 0;
        for (int d = d0; d <= d1; d++)
            for (int j = 0; sets[s][j]; j++) {
                double a = d + log10(sets[s][j]);
                char buf[24];
                log_label(sets[s][j], d, buf, sizeof buf);
                if (a >= lo - eps && a <= hi + eps) ticks_add(t, a, buf);
            }
        if (ticks_labelled(t) >= 2) {
            if (s == 0)
                for (int d = d0; d <= d1; d++)
                    for (int m = 3; m <= 9; m++) {
                        double a = d + log10(m);
                        if (m != 5 && a >= lo - eps && a <= hi + eps) ticks_add(t, a, "");
                    }
            return;
        }
    }
    double vfirst, step;
    int count = plot_nice_ticks(pow(10.0, lo), pow(10.0, hi), 5, &vfirst, &step);
    t->n = 0;
    for (int i = 0; i < count; i++) {
        double v = vfirst + i * step;
        char buf[24];
        plot_tick_label(v, step, buf, sizeof buf);
        if (v > 0) ticks_add(t, log10(v), buf);
    }
}

/* ---- SVG pieces shared by both plots -------------------------------------- */

static void svg_open(Sb *b, int w, int h)
{
    sb_add(b,
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
           "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
           "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
           w, h, w, h, w, h);
}

/* The title centred at the top, then suffix (already safe text), then a note
 * in grey below it when note is not empty. */
static void svg_title(Sb *b, int w, const char *title, const char *suffix, const char *note)
{
    sb_add(b, "<text class=\"title\" x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
              "font-weight=\"bold\">",
           w / 2);
    sb_escape(b, title);
    sb_escape(b, suffix);
    sb_add(b, "</text>\n");
    if (note && *note) {
        sb_add(b, "<text class=\"note\" x=\"%d\" y=\"38\" text-anchor=\"middle\" font-size=\"11\" "
                  "fill=\"#666\">",
               w / 2);
        sb_escape(b, note);
        sb_add(b, "</text>\n");
    }
}

/* Grid lines at the labelled ticks, the frame of the plot area, tick marks
 * (minor ones shorter) with their labels, and the two axis titles. Each tick
 * is a group translated to its position, which is what readers (and the
 * tests) measure. */
static void svg_axes(Sb *b, const Frame *f, const Ticks *xt, const Ticks *yt, const char *xtitle,
                     const char *ytitle)
{
    sb_add(b, "<g stroke=\"#e5e5e5\">\n");
    for (int i = 0; i < xt->n; i++)
        if (xt->label[i][0])
            sb_add(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                   frame_x(f, xt->at[i]), f->top, frame_x(f, xt->at[i]), f->bottom);
    for (int i = 0; i < yt->n; i++)
        if (yt->label[i][0])
            sb_add(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", f->left,
                   frame_y(f, yt->at[i]), f->right, frame_y(f, yt->at[i]));
    sb_add(b, "</g>\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
              "stroke=\"#333\"/>\n",
           f->left, f->top, f->right - f->left, f->bottom - f->top);
    sb_add(b, "<g stroke=\"#333\">\n");
    for (int i = 0; i < xt->n; i++) {
        int major = xt->label[i][0] != '\0';
        sb_add(b, "<g class=\"xtick%s\" transform=\"translate(%.2f,0)\">"
                  "<line x1=\"0\" y1=\"%.2f\" x2=\"0\" y2=\"%.2f\"/>",
               major ? "" : "-minor", frame_x(f, xt->at[i]), f->bottom, f->bottom + (major ? 5 : 3));
        if (major) {
            sb_add(b, "<text x=\"0\" y=\"%.2f\" text-anchor=\"middle\" stroke=\"none\">", f->bottom + 18);
            sb_escape(b, xt->label[i]);
            sb_add(b, "</text>");
        }
        sb_add(b, "</g>\n");
    }
    for (int i = 0; i < yt->n; i++) {
        int major = yt->label[i][0] != '\0';
        sb_add(b, "<g class=\"ytick%s\" transform=\"translate(0,%.2f)\">"
                  "<line x1=\"%.2f\" y1=\"0\" x2=\"%.2f\" y2=\"0\"/>",
               major ? "" : "-minor", frame_y(f, yt->at[i]), f->left - (major ? 5 : 3), f->left);
        if (major) {
            sb_add(b, "<text x=\"%.2f\" y=\"4\" text-anchor=\"end\" stroke=\"none\">", f->left - 8);
            sb_escape(b, yt->label[i]);
            sb_add(b, "</text>");
        }
        sb_add(b, "</g>\n");
    }
    sb_add(b, "</g>\n<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
           (f->left + f->right) / 2, f->bottom + 38);
    sb_escape(b, xtitle);
    sb_add(b, "</text>\n<text class=\"ylabel\" transform=\"translate(%.2f,%.2f) rotate(-90)\" "
              "text-anchor=\"middle\">",
           f->left - 52, (f->top + f->bottom) / 2);
    sb_escape(b, ytitle);
    sb_add(b, "</text>\n");
}

/* ---- loss plot ----------------------------------------------------------- */

static int loss_ok(double v)
{
    return isfinite(v) && v > 0;
}

static double loss_epoch(const int *epoch, int i)
{
    return epoch ? epoch[i] : i + 1;
}

/* One series: a polyline per run of drawable values (a skipped value breaks
 * the line rather than bridging it), then a marker on every drawable value. */
static void svg_loss_series(Sb *b, const Frame *f, const int *epoch, const double *v, int n,
                            const char *name, const unsigned char rgb[3])
{
    char col[8];
    hex_color(rgb, col);
    for (int i = 0; i < n;) {
        while (i < n && !loss_ok(v[i])) i++;
        int j = i;
        while (j < n && loss_ok(v[j])) j++;
        if (j - i >= 2) {
            sb_add(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                      "points=\"",
                   name, col);
            for (int p = i; p < j; p++)
                sb_add(b, "%s%.2f,%.2f", p > i ? " " : "", frame_x(f, loss_epoch(epoch, p)),
                       frame_y(f, log10(v[p])));
            sb_add(b, "\"/>\n");
        }
        i = j;
    }
    sb_add(b, "<g class=\"%s-points\" fill=\"%s\">\n", name, col);
    for (int i = 0; i < n; i++)
        if (loss_ok(v[i]))
            sb_add(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", frame_x(f, loss_epoch(epoch, i)),
                   frame_y(f, log10(v[i])));
    sb_add(b, "</g>\n");
}

char *plot_loss_svg(const int *epoch, const double *train, const double *test, int n, Err *err)
{
    if (n < 0) {
        err_set(err, "loss plot: %d epochs (need 0 or more)", n);
        return NULL;
    }
    const double *series[2] = {train, test};
    double vmin = INFINITY, vmax = -INFINITY, emin = INFINITY, emax = -INFINITY;
    int skipped = 0;
    for (int i = 0; i < n; i++) {
        emin = fmin(emin, loss_epoch(epoch, i));
        emax = fmax(emax, loss_epoch(epoch, i));
        for (int s = 0; s < 2; s++) {
            if (!series[s]) continue;
            if (loss_ok(series[s][i])) {
                vmin = fmin(vmin, series[s][i]);
                vmax = fmax(vmax, series[s][i]);
            } else {
                skipped++;
            }
        }
    }
    Frame f = {.left = 80, .top = 48, .right = 620, .bottom = 345};
    if (n == 0) emin = emax = 1;
    double epad = emin == emax ? 1 : 0.03 * (emax - emin);
    f.x0 = emin - epad;
    f.x1 = emax + epad;
    if (vmin > vmax) { /* nothing drawable: show 0.01 .. 1 */
        f.y0 = -2;
        f.y1 = 0;
    } else {
        double lo = log10(vmin), hi = log10(vmax), pad = fmax(0.05 * (hi - lo), 0.02);
        f.y0 = lo - pad;
        f.y1 = hi + pad;
    }
    Ticks xt, yt;
    linear_ticks(f.x0, f.x1, 10, 1, &xt);
    log_ticks(f.y0, f.y1, &yt);

    char note[96] = "";
    if (n == 0) snprintf(note, sizeof note, "no epochs yet");
    else if (skipped)
        snprintf(note, sizeof note, "%d loss value%s not finite or not positive, not shown",
                 skipped, skipped == 1 ? "" : "s");
    Sb b = {0};
    svg_open(&b, PLOT_LOSS_WIDTH, PLOT_LOSS_HEIGHT);
    svg_title(&b, PLOT_LOSS_WIDTH, "Loss per epoch", "", note);
    svg_axes(&b, &f, &xt, &yt, "epoch", "loss (log scale)");
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++)
        if (series[s]) svg_loss_series(&b, &f, epoch, series[s], n, names[s], PALETTE[s]);

    /* Legend on the title's line, right-aligned: outside the plot area, so
     * it never hides a point however the curves run. */
    if (train || test) sb_add(&b, "<g class=\"legend\">\n");
    for (int s = 0; s < 2; s++) {
        if (!series[s]) continue;
        char col[8];
        hex_color(PALETTE[s], col);
        double x = f.right - (s == 0 && test ? 130 : 60), y = 18;
        sb_add(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"1.5\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
               x, y, x + 24, y, col, x + 12, y, col, x + 30, y + 4, names[s]);
    }
    if (train || test) sb_add(&b, "</g>\n");
    sb_add(&b, "</svg>\n");
    return sb_finish(&b, "loss plot", err);
}

int plot_write_loss_svg(const char *path, const int *epoch, const double *train,
                        const double *test, int n, Err *err)
{
    char *svg = plot_loss_svg(epoch, train, test, n, err);
    if (!svg) return err_prefix(err, "%s", path);
    int rc = util_write_file_atomic(path, svg, strlen(svg), err);
    free(svg);
    return rc;
}

/* ---- latent scatter: layout ------------------------------------------------ */

/* Legend keys longer than this many characters are cut, ending in "...". */
#define KEY_MAX 30

typedef struct {
    int count[CLASS_COUNT];                 /* points shown per class */
    double sum_x[CLASS_COUNT], sum_y[CLASS_COUNT]; /* of those points, for the centroids */
    int skipped;                            /* points with a non-finite coordinate */
    Frame f;
    Ticks xt, yt;
    char suffix[48];                        /* appended to the title */
    const unsigned char *labels;            /* NULL: unlabelled, one class */
    const PlotNames *names;                 /* NULL: labels by their numbers */
    int legend_x;                           /* left edge of the legend */
} Latent;

/* Point i's class: its label, labels above 9 together as "other"; every
 * point of unlabelled data is one class, drawn in the "other" grey. */
static int latent_class(const Latent *L, int i)
{
    if (!L->labels) return CLASS_OTHER;
    return L->labels[i] <= 9 ? L->labels[i] : CLASS_OTHER;
}

/* What data-label says in the SVG: the label's number, "other", or
 * "unlabelled". */
static void class_id(const Latent *L, int c, char buf[16])
{
    if (!L->labels) snprintf(buf, 16, "unlabelled");
    else if (c == CLASS_OTHER) snprintf(buf, 16, "other");
    else snprintf(buf, 16, "%d", c);
}

/* The class as the legend names it: its name from [data] label_names when
 * there is one, else class_id. */
static void class_name(const Latent *L, int c, char *buf, size_t len)
{
    if (L->labels && c != CLASS_OTHER && L->names && c < L->names->n && L->names->name[c])
        snprintf(buf, len, "%s", L->names->name[c]);
    else {
        char id[16];
        class_id(L, c, id);
        snprintf(buf, len, "%s", id);
    }
}

/* The legend key of class c: "name (n=count)", cut to KEY_MAX characters. */
static void class_key(const Latent *L, int c, char *buf, size_t len)
{
    char name[256], count[24];
    class_name(L, c, name, sizeof name);
    snprintf(count, sizeof count, " (n=%d)", L->count[c]);
    size_t room = KEY_MAX - strlen(count);
    if (strlen(name) > room) memcpy(name + room - 3, "...", 4);
    snprintf(buf, len, "%s%s", name, count);
}

/* Where point i is plotted: (z1, z2), or (z1, i) when there is one
 * coordinate, which shows its spread per class without inventing jitter. */
static void latent_xy(const float *z, int k, int i, double *x, double *y)
{
    *x = z[(size_t)i * (size_t)k];
    *y = k >= 2 ? z[(size_t)i * (size_t)k + 1] : i;
}

/* [lo, hi] of the data widened by 5% on each side (the points stay off the
 * frame); a single value gets +-10% of itself, no data -1..1. */
static void pad_range(double lo, double hi, double *a, double *b)
{
    if (lo > hi) {
        *a = -1;
        *b = 1;
    } else if (lo == hi) {
        double h = lo != 0 ? 0.1 * fabs(lo) : 1;
        *a = lo - h;
        *b = hi + h;
    } else {
        *a = lo - 0.05 * (hi - lo);
        *b = hi + 0.05 * (hi - lo);
    }
}

/* Legend rows, shared by the SVG and PNG: one per class with points, then
 * the centroid marker; the legend starts at LEGEND_X, or further left when
 * its keys need the room (long label names). */
enum { LEGEND_X = 524, LEGEND_Y = 62, LEGEND_ROW = 18, CENTROID_R = 5, CENTROID_RING = 2 };

static int latent_layout(Latent *L, const float *z, const unsigned char *labels, int n, int k,
                         const PlotNames *names, Err *err)
{
    memset(L, 0, sizeof *L);
    L->labels = labels;
    L->names = names;
    if (n < 0 || k < 1 || (n > 0 && !z))
        return err_set(err, "latent plot: n=%d points of k=%d coordinates%s (need n >= 0, k >= 1, "
                            "and z when n > 0)",
                       n, k, n > 0 && !z ? " with no data" : "");
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double x, y;
        latent_xy(z, k, i, &x, &y);
        if (!isfinite(x) || !isfinite(y)) {
            L->skipped++;
            continue;
        }
        int c = latent_class(L, i);
        L->count[c]++;
        L->sum_x[c] += x;
        L->sum_y[c] += y;
        xlo = fmin(xlo, x);
        xhi = fmax(xhi, x);
        ylo = fmin(ylo, y);
        yhi = fmax(yhi, y);
    }
    /* The widest key (6 pixels a character in the PNG's font, about that
     * at the SVG's 11 pixels) decides where the legend and so the frame end. */
    int widest = 0;
    for (int c = 0; c < CLASS_COUNT; c++) {
        char key[64];
        if (!L->count[c]) continue;
        class_key(L, c, key, sizeof key);
        if ((int)strlen(key) > widest) widest = (int)strlen(key);
    }
    L->legend_x = PLOT_LATENT_WIDTH - 8 - 16 - (6 * widest - 1);
    if (L->legend_x > LEGEND_X) L->legend_x = LEGEND_X;
    L->f = (Frame){.left = 80, .top = 50, .right = L->legend_x - 14, .bottom = 420};
    pad_range(xlo, xhi, &L->f.x0, &L->f.x1);
    pad_range(ylo, yhi, &L->f.y0, &L->f.y1);
    linear_ticks(L->f.x0, L->f.x1, 8, 0, &L->xt);
    linear_ticks(L->f.y0, L->f.y1, 8, k == 1, &L->yt);
    if (k == 1) snprintf(L->suffix, sizeof L->suffix, " (z1 against point index)");
    else if (k > 2) snprintf(L->suffix, sizeof L->suffix, " (z1, z2 of %d)", k);
    return 0;
}

static const char *latent_title(const char *title)
{
    return title && *title ? title : "latent space";
}

static void latent_note(const Latent *L, int n, char *buf, size_t len)
{
    if (L->skipped)
        snprintf(buf, len, "%d of %d points %s a non-finite coordinate, not shown", L->skipped, n,
                 L->skipped == 1 ? "has" : "have");
    else if (n == 0)
        snprintf(buf, len, "no points");
    else
        buf[0] = '\0';
}

/* ---- latent scatter: SVG ---------------------------------------------------- */

char *plot_latent_svg(const float *z, const unsigned char *labels, int n, int k,
                      const PlotNames *names, const char *title, Err *err)
{
    Latent L;
    if (latent_layout(&L, z, labels, n, k, names, err)) return NULL;
    const Frame *f = &L.f;
    char note[128];
    latent_note(&L, n, note, sizeof note);
    Sb b = {0};
    svg_open(&b, PLOT_LATENT_WIDTH, PLOT_LATENT_HEIGHT);
    svg_title(&b, PLOT_LATENT_WIDTH, latent_title(title), L.suffix, note);
    svg_axes(&b, f, &L.xt, &L.yt, "z1", k == 1 ? "index" : "z2");

    /* One group per class keeps the colour out of every point; within a
     * class the points go in index order. */
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        char col[8], id[16];
        hex_color(PALETTE[c], col);
        class_id(&L, c, id);
        sb_add(&b, "<g class=\"points\" data-label=\"%s\" fill=\"%s\">\n", id, col);
        for (int i = 0; i < n; i++) {
            double x, y;
            latent_xy(z, k, i, &x, &y);
            if (latent_class(&L, i) == c && isfinite(x) && isfinite(y))
                sb_add(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", frame_x(f, x), frame_y(f, y));
        }
        sb_add(&b, "</g>\n");
    }
    sb_add(&b, "<g class=\"centroids\" stroke=\"#000\" stroke-width=\"%d\">\n", CENTROID_RING);
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        char col[8], id[16], name[256];
        hex_color(PALETTE[c], col);
        class_id(&L, c, id);
        class_name(&L, c, name, sizeof name);
        double mx = L.sum_x[c] / L.count[c], my = L.sum_y[c] / L.count[c];
        sb_add(&b, "<circle class=\"centroid\" data-label=\"%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"%d\" "
                   "fill=\"%s\"><title>",
               id, frame_x(f, mx), frame_y(f, my), CENTROID_R + CENTROID_RING / 2, col);
        sb_escape(&b, strcmp(id, name) == 0 ? "label " : "");
        sb_escape(&b, name);
        sb_add(&b, ": centroid (%.4g, %.4g) of %d points</title></circle>\n", mx, my, L.count[c]);
    }
    sb_add(&b, "</g>\n<g class=\"legend\" font-size=\"11\">\n");
    int row = 0, lx = L.legend_x;
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        char col[8], key[64];
        hex_color(PALETTE[c], col);
        class_key(&L, c, key, sizeof key);
        int y = LEGEND_Y + LEGEND_ROW * row++;
        sb_add(&b, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/><text class=\"key\" x=\"%d\" "
                   "y=\"%d\">",
               lx + 6, y, col, lx + 16, y + 4);
        sb_escape(&b, key);
        sb_add(&b, "</text>\n");
    }
    int y = LEGEND_Y + LEGEND_ROW * row;
    sb_add(&b, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"#fff\" stroke=\"#000\" "
               "stroke-width=\"%d\"/><text class=\"key\" x=\"%d\" y=\"%d\">centroid</text>\n",
           lx + 6, y, CENTROID_R + CENTROID_RING / 2, CENTROID_RING, lx + 16, y + 4);
    sb_add(&b, "</g>\n</svg>\n");
    return sb_finish(&b, "latent plot", err);
}

int plot_write_latent_svg(const char *path, const float *z, const unsigned char *labels, int n,
                          int k, const PlotNames *names, const char *title, Err *err)
{
    char *svg = plot_latent_svg(z, labels, n, k, names, title, err);
    if (!svg) return err_prefix(err, "%s", path);
    int rc = util_write_file_atomic(path, svg, strlen(svg), err);
    free(svg);
    return rc;
}

/* ---- latent scatter: PNG ---------------------------------------------------- */

typedef struct {
    unsigned char *px; /* (h, w, 3) row-major RGB; owned by the caller */
    int w, h;
} Canvas;

static void fill_rect(Canvas *c, int x, int y, int w, int h, const unsigned char rgb[3])
{
    for (int j = y < 0 ? 0 : y; j < y + h && j < c->h; j++)
        for (int i = x < 0 ? 0 : x; i < x + w && i < c->w; i++)
            memcpy(c->px + ((size_t)j * (size_t)c->w + (size_t)i) * 3, rgb, 3);
}

/* The pixels whose centres lie within r of (cx, cy): the disc an SVG circle
 * of radius r covers, without anti-aliasing. */
static void fill_disc(Canvas *c, double cx, double cy, double r, const unsigned char rgb[3])
{
    for (int j = (int)floor(cy - r); j <= (int)ceil(cy + r); j++)
        for (int i = (int)floor(cx - r); i <= (int)ceil(cx + r); i++) {
            double dx = i + 0.5 - cx, dy = j + 0.5 - cy;
            if (dx * dx + dy * dy <= r * r) fill_rect(c, i, j, 1, 1, rgb);
        }
}

/* Width in pixels of text in the 5x7 font at `scale` (6 columns a glyph,
 * the last one blank). */
static int text_width(const char *s, int scale)
{
    size_t n = strlen(s);
    return n ? (int)(6 * n - 1) * scale : 0;
}

static const unsigned char *glyph(char ch)
{
    unsigned char u = (unsigned char)ch;
    return FONT[(u >= 32 && u <= 126 ? u : '?') - 32];
}

/* Text with its top left corner at (x, y). */
static void draw_text(Canvas *c, int x, int y, const char *s, int scale, const unsigned char rgb[3])
{
    for (; *s; s++, x += 6 * scale) {
        const unsigned char *g = glyph(*s);
        int drop = strchr(FONT_DESCENDERS, *s) ? 2 : 0;
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (g[r] >> (4 - col) & 1)
                    fill_rect(c, x + col * scale, y + (r + drop) * scale, scale, scale, rgb);
    }
}

/* Text turned a quarter left, read bottom to top, its bottom left corner at
 * (x, y): for the y axis title. */
static void draw_text_up(Canvas *c, int x, int y, const char *s, const unsigned char rgb[3])
{
    for (int i = 0; s[i]; i++) {
        const unsigned char *g = glyph(s[i]);
        int drop = strchr(FONT_DESCENDERS, s[i]) ? 2 : 0;
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (g[r] >> (4 - col) & 1)
                    fill_rect(c, x + r + drop, y - 1 - (6 * i + col), 1, 1, rgb);
    }
}

int plot_write_latent_png(const char *path, const float *z, const unsigned char *labels, int n,
                          int k, const PlotNames *names, const char *title, Err *err)
{
    Latent L;
    if (latent_layout(&L, z, labels, n, k, names, err)) return err_prefix(err, "%s", path);
    const Frame *f = &L.f;
    Canvas cv = {NULL, PLOT_LATENT_WIDTH, PLOT_LATENT_HEIGHT};
    cv.px = util_malloc((size_t)cv.w * (size_t)cv.h * 3, err);
    if (!cv.px) return err_prefix(err, "%s", path);
    memset(cv.px, 0xff, (size_t)cv.w * (size_t)cv.h * 3);
    int left = (int)f->left, right = (int)f->right, top = (int)f->top, bottom = (int)f->bottom;

    for (int i = 0; i < L.xt.n; i++)
        fill_rect(&cv, (int)floor(frame_x(f, L.xt.at[i])), top, 1, bottom - top, GRID);
    for (int i = 0; i < L.yt.n; i++)
        fill_rect(&cv, left, (int)floor(frame_y(f, L.yt.at[i])), right - left, 1, GRID);
    fill_rect(&cv, left, top, right - left + 1, 1, INK);
    fill_rect(&cv, left, bottom, right - left + 1, 1, INK);
    fill_rect(&cv, left, top, 1, bottom - top + 1, INK);
    fill_rect(&cv, right, top, 1, bottom - top + 1, INK);
    for (int i = 0; i < L.xt.n; i++) {
        int x = (int)floor(frame_x(f, L.xt.at[i]));
        fill_rect(&cv, x, bottom + 1, 1, 5, INK);
        draw_text(&cv, x - text_width(L.xt.label[i], 1) / 2, bottom + 10, L.xt.label[i], 1, BLACK);
    }
    for (int i = 0; i < L.yt.n; i++) {
        int y = (int)floor(frame_y(f, L.yt.at[i]));
        fill_rect(&cv, left - 5, y, 5, 1, INK);
        draw_text(&cv, left - 8 - text_width(L.yt.label[i], 1), y - 3, L.yt.label[i], 1, BLACK);
    }
    draw_text(&cv, (left + right) / 2 - text_width("z1", 1) / 2, bottom + 30, "z1", 1, BLACK);
    const char *ytitle = k == 1 ? "index" : "z2";
    draw_text_up(&cv, left - 58, (top + bottom) / 2 + text_width(ytitle, 1) / 2, ytitle, BLACK);

    /* Title: twice the size when it fits, else cut to fit at size 1. */
    char t[128];
    int max_chars = (cv.w - 20) / 6;
    snprintf(t, sizeof t, "%s%s", latent_title(title), L.suffix);
    if ((int)strlen(t) > max_chars) memcpy(t + max_chars - 3, "...", 4);
    int scale = text_width(t, 2) <= cv.w - 20 ? 2 : 1;
    draw_text(&cv, cv.w / 2 - text_width(t, scale) / 2, 22 - 7 * scale, t, scale, BLACK);
    char note[128];
    latent_note(&L, n, note, sizeof note);
    draw_text(&cv, cv.w / 2 - text_width(note, 1) / 2, 31, note, 1, NOTE);

    for (int c = 0; c < CLASS_COUNT; c++)
        for (int i = 0; L.count[c] && i < n; i++) {
            double x, y;
            latent_xy(z, k, i, &x, &y);
            if (latent_class(&L, i) == c && isfinite(x) && isfinite(y))
                fill_disc(&cv, frame_x(f, x), frame_y(f, y), 2, PALETTE[c]);
        }
    int row = 0, lx = L.legend_x;
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        double mx = frame_x(f, L.sum_x[c] / L.count[c]), my = frame_y(f, L.sum_y[c] / L.count[c]);
        fill_disc(&cv, mx, my, CENTROID_R + CENTROID_RING, BLACK);
        fill_disc(&cv, mx, my, CENTROID_R, PALETTE[c]);
        char key[64];
        class_key(&L, c, key, sizeof key);
        int y = LEGEND_Y + LEGEND_ROW * row++;
        fill_disc(&cv, lx + 6, y, 4, PALETTE[c]);
        draw_text(&cv, lx + 16, y - 3, key, 1, BLACK);
    }
    int y = LEGEND_Y + LEGEND_ROW * row;
    fill_disc(&cv, lx + 6, y, CENTROID_R + CENTROID_RING, BLACK);
    fill_disc(&cv, lx + 6, y, CENTROID_R, WHITE);
    draw_text(&cv, lx + 16, y - 3, "centroid", 1, BLACK);

    int rc = png_write(path, cv.px, cv.w, cv.h, 3, err);
    free(cv.px);
    return rc;
}
