/* plot: see plot.h.
 *
 * Every picture is laid out once: a Frame (the plot area in pixels and the
 * data at its edges) and a Ticks list per axis; one draw routine per picture
 * then paints it through an Ink, which is a cairo context plus, for SVG, the
 * list of <text> elements that stand for its text. The same routine makes the
 * PNG (cairo's image surface, encoded by libpng through pngio), the SVG
 * (cairo's SVG surface, text spliced in as <text>) and the PDF.
 *
 * Two choices keep the SVG small and exact. Scatter points are zero-length
 * strokes with round caps (a dot of the line's width), rounded to a quarter
 * pixel: cairo writes each as "M x y L x y" in one path per class, about 30
 * bytes a point, where a circle would take four Bezier curves. And nothing
 * here clips or draws glyphs on the SVG surface, so cairo writes no ids but
 * its surface group's, whose number counts surfaces process-wide; that id is
 * taken out, which makes the SVG deterministic and fit to inline. */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pngio.h"

/* Tableau 10 for labels 0..9, then dark grey for every label above 9. */
enum { CLASS_OTHER = 10, CLASS_COUNT = 11 };
static const unsigned char PALETTE[CLASS_COUNT][3] = {
    {0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}, {0xe1, 0x57, 0x59}, {0x76, 0xb7, 0xb2},
    {0x59, 0xa1, 0x4f}, {0xed, 0xc9, 0x48}, {0xb0, 0x7a, 0xa1}, {0xff, 0x9d, 0xa7},
    {0x9c, 0x75, 0x5f}, {0xba, 0xb0, 0xac}, {0x44, 0x44, 0x44}};

static const unsigned char WHITE[3] = {0xff, 0xff, 0xff}, BLACK[3] = {0, 0, 0},
                           INK[3] = {0x33, 0x33, 0x33}, GRID[3] = {0xe5, 0xe5, 0xe5},
                           NOTE[3] = {0x66, 0x66, 0x66};

/* The font of every text, by fontconfig's name (Debian: fonts-dejavu-core);
 * the SVG names it first too, with fallbacks for viewers without it. */
#define FONT_FAMILY "DejaVu Sans"
#define SVG_FONT_FAMILY "DejaVu Sans, Verdana, sans-serif"

static const double PI = 3.14159265358979323846;

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

/* ---- growing strings ------------------------------------------------------- */

/* A growing byte string, NUL-terminated. After a failed allocation it stops
 * growing and says so in `failed`, so that builders check once at the end. */
typedef struct {
    char *s;    /* the bytes so far and a NUL, or NULL; owned */
    size_t len; /* bytes before the NUL */
    size_t cap; /* bytes allocated */
    int failed;
} Sb;

static void sb_bytes(Sb *b, const void *data, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_add(Sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(Sb *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        b->failed = 1; /* every format here is short; longer means a bug */
        return;
    }
    sb_bytes(b, buf, (size_t)n);
}

/* Appends UTF-8 text with XML's five special characters escaped (the text
 * has been through utf8_clean, so it holds no control bytes). */
static void sb_escape(Sb *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        case '\'': sb_add(b, "&apos;"); break;
        default: sb_bytes(b, p, 1);
        }
    }
}

static cairo_status_t sb_cairo_write(void *closure, const unsigned char *data, unsigned int n)
{
    Sb *b = closure;
    sb_bytes(b, data, n);
    return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* Copies text into out (len bytes, NUL-terminated) as valid UTF-8 without
 * control characters: cairo refuses a string that is not UTF-8 (and stops
 * drawing), XML refuses control bytes. Each bad byte becomes '?'; a
 * character that does not fit whole is left out. */
static void utf8_clean(const char *text, char *out, size_t len)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    size_t o = 0;
    while (*p && o + 1 < len) {
        int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                : (*p & 0xf8) == 0xf0 ? 4 : 0;
        int ok = n > 0;
        unsigned cp = n == 1 ? *p : n == 2 ? *p & 0x1fu : n == 3 ? *p & 0x0fu : *p & 0x07u;
        for (int i = 1; ok && i < n; i++) {
            ok = (p[i] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                   (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff))
            ok = 0;
        if (!ok || cp < 0x20 || cp == 0x7f) {
            out[o++] = '?';
            p++;
            continue;
        }
        if (o + (size_t)n + 1 > len) break;
        memcpy(out + o, p, (size_t)n);
        o += (size_t)n;
        p += n;
    }
    out[o] = '\0';
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

/* ---- ink: drawing on a cairo context ---------------------------------------- */

typedef struct {
    cairo_t *cr;
    Sb *svg_text; /* SVG: each text as a <text> element here; NULL: cairo draws it */
} Ink;

enum { ALIGN_LEFT = 0, ALIGN_CENTER = 1, ALIGN_RIGHT = 2 };

static void ink_rgb(Ink *k, const unsigned char rgb[3])
{
    cairo_set_source_rgb(k->cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

static void ink_font(Ink *k, double size, int bold)
{
    cairo_select_font_face(k->cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(k->cr, size);
}

/* The advance width of text in pixels at size (cleaned as ink_text draws it). */
static double ink_width(Ink *k, const char *text, double size, int bold)
{
    char s[512];
    utf8_clean(text, s, sizeof s);
    ink_font(k, size, bold);
    cairo_text_extents_t te;
    cairo_text_extents(k->cr, s, &te);
    return te.x_advance;
}

/* Text with its baseline at y, its left end, centre or right end (align) at
 * x; `up` turns it a quarter left about (x, y), read bottom to top. cls names
 * the text's role in the SVG (what readers and the tests look for). */
static void ink_text(Ink *k, const char *cls, double x, double y, int align, double size, int bold,
                     int up, const unsigned char rgb[3], const char *text)
{
    char s[512];
    utf8_clean(text, s, sizeof s);
    if (!*s) return;
    if (k->svg_text) {
        static const char *const anchor[3] = {"start", "middle", "end"};
        char col[8];
        hex_color(rgb, col);
        Sb *b = k->svg_text;
        sb_add(b, "<text class=\"%s\" x=\"%.2f\" y=\"%.2f\"", cls, x, y);
        if (up) sb_add(b, " transform=\"rotate(-90 %.2f %.2f)\"", x, y);
        sb_add(b, " text-anchor=\"%s\" font-size=\"%g\"%s fill=\"%s\">", anchor[align], size,
               bold ? " font-weight=\"bold\"" : "", col);
        sb_escape(b, s);
        sb_add(b, "</text>\n");
        return;
    }
    double w = ink_width(k, s, size, bold);
    cairo_t *cr = k->cr;
    cairo_save(cr);
    ink_rgb(k, rgb);
    cairo_translate(cr, x, y);
    if (up) cairo_rotate(cr, -PI / 2);
    cairo_move_to(cr, -w * align / 2, 0);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    cairo_restore(cr);
}

/* A pixel-aligned coordinate for a 1-pixel line: the middle of the pixel
 * that v falls in, so the line is one crisp pixel wide in the PNG. */
static double crisp(double v)
{
    return floor(v) + 0.5;
}

static void ink_line(Ink *k, double x0, double y0, double x1, double y1, double width,
                     const unsigned char rgb[3])
{
    cairo_t *cr = k->cr;
    ink_rgb(k, rgb);
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

/* A filled disc of radius r, ringed in black `ring` pixels wide when ring > 0. */
static void ink_disc(Ink *k, double x, double y, double r, double ring, const unsigned char rgb[3])
{
    cairo_t *cr = k->cr;
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * PI);
    ink_rgb(k, rgb);
    if (ring > 0) {
        cairo_fill_preserve(cr);
        cairo_set_line_width(cr, ring);
        ink_rgb(k, BLACK);
        cairo_stroke(cr);
    } else {
        cairo_fill(cr);
    }
}

/* Dots of diameter d at points added by ink_dot, drawn by ink_dots_end as
 * one path (see the file's comment). */
static void ink_dot(Ink *k, double x, double y)
{
    x = round(x * 4) / 4;
    y = round(y * 4) / 4;
    cairo_move_to(k->cr, x, y);
    cairo_line_to(k->cr, x, y);
}

static void ink_dots_end(Ink *k, double d, const unsigned char rgb[3])
{
    cairo_t *cr = k->cr;
    ink_rgb(k, rgb);
    cairo_set_line_width(cr, d);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

/* ---- pieces shared by both plots -------------------------------------------- */

/* The title centred at the top, then suffix, then a note in grey below it
 * when note is not empty. A title too wide for the picture is cut and ends
 * in "...". */
static void draw_title(Ink *k, int w, double y, const char *title, const char *suffix,
                       const char *note)
{
    char t[600];
    snprintf(t, sizeof t, "%s%s", title, suffix);
    size_t len = strlen(t);
    while (len > 3 && ink_width(k, t, 15, 1) > w - 20) {
        len--;
        while (len > 0 && ((unsigned char)t[len] & 0xc0) == 0x80) len--; /* whole characters */
        memcpy(t + len, "...", 4);
    }
    ink_text(k, "title", w / 2.0, y, ALIGN_CENTER, 15, 1, 0, BLACK, t);
    if (note && *note) ink_text(k, "note", w / 2.0, y + 16, ALIGN_CENTER, 11, 0, 0, NOTE, note);
}

/* Grid lines at the labelled ticks, the frame of the plot area, tick marks
 * (minor ones shorter) with their labels, and the two axis titles. Lines sit
 * on pixel centres (crisp); a tick's label is centred on the tick's exact
 * position, which is what the tests measure. */
static void draw_axes(Ink *k, const Frame *f, const Ticks *xt, const Ticks *yt, const char *xtitle,
                      const char *ytitle)
{
    double l = crisp(f->left), r = crisp(f->right), t = crisp(f->top), b = crisp(f->bottom);
    for (int i = 0; i < xt->n; i++)
        if (xt->label[i][0]) {
            double x = crisp(frame_x(f, xt->at[i]));
            ink_line(k, x, t, x, b, 1, GRID);
        }
    for (int i = 0; i < yt->n; i++)
        if (yt->label[i][0]) {
            double y = crisp(frame_y(f, yt->at[i]));
            ink_line(k, l, y, r, y, 1, GRID);
        }
    cairo_rectangle(k->cr, l, t, r - l, b - t);
    ink_rgb(k, INK);
    cairo_set_line_width(k->cr, 1);
    cairo_stroke(k->cr);
    for (int i = 0; i < xt->n; i++) {
        int major = xt->label[i][0] != '\0';
        double x = frame_x(f, xt->at[i]);
        ink_line(k, crisp(x), b, crisp(x), b + (major ? 5 : 3), 1, INK);
        if (major) ink_text(k, "xtick", x, f->bottom + 18, ALIGN_CENTER, 12, 0, 0, BLACK, xt->label[i]);
    }
    for (int i = 0; i < yt->n; i++) {
        int major = yt->label[i][0] != '\0';
        double y = frame_y(f, yt->at[i]);
        ink_line(k, l - (major ? 5 : 3), crisp(y), l, crisp(y), 1, INK);
        if (major) ink_text(k, "ytick", f->left - 8, y + 4, ALIGN_RIGHT, 12, 0, 0, BLACK, yt->label[i]);
    }
    ink_text(k, "xlabel", (f->left + f->right) / 2, f->bottom + 38, ALIGN_CENTER, 12, 0, 0, BLACK,
             xtitle);
    ink_text(k, "ylabel", f->left - 52, (f->top + f->bottom) / 2, ALIGN_CENTER, 12, 0, 1, BLACK,
             ytitle);
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

/* ---- loss plot --------------------------------------------------------------- */

/* Loss values a log axis would show: drawn when the finite values span at
 * least this factor, so a curve that falls by decades reads as straight
 * segments while a nearly flat one keeps plain numbers on its axis. */
#define LOG_SPAN 4.0
/* Point markers while there are at most this many epochs; beyond, they
 * would merge into a thick line. An isolated value always gets one. */
#define MARKER_EPOCHS 60

typedef struct {
    Frame f;
    Ticks xt, yt;
    int log;     /* the y axis is log10 of the values */
    int skipped; /* values not drawn: not finite */
} Panel;

static double loss_epoch(const int *epoch, int i)
{
    return epoch ? epoch[i] : i + 1;
}

static int panel_ok(const Panel *p, double v)
{
    return isfinite(v) && (!p->log || v > 0);
}

static double panel_y(const Panel *p, double v)
{
    return frame_y(&p->f, p->log ? log10(v) : v);
}

/* The frame and ticks of a panel from top to bottom showing series a and b
 * (either may be NULL) against L's epochs. */
static void panel_layout(Panel *p, const PlotLoss *L, const double *a, const double *b, double top,
                         double bottom)
{
    memset(p, 0, sizeof *p);
    p->f = (Frame){.left = 80, .top = top, .right = 620, .bottom = bottom};
    const double *series[2] = {a, b};
    double vmin = INFINITY, vmax = -INFINITY, emin = INFINITY, emax = -INFINITY;
    for (int i = 0; i < L->n; i++) {
        emin = fmin(emin, loss_epoch(L->epoch, i));
        emax = fmax(emax, loss_epoch(L->epoch, i));
        for (int s = 0; s < 2; s++) {
            if (!series[s]) continue;
            double v = series[s][i];
            if (isfinite(v)) {
                vmin = fmin(vmin, v);
                vmax = fmax(vmax, v);
            } else {
                p->skipped++;
            }
        }
    }
    if (L->n == 0) emin = emax = 1;
    double epad = emin == emax ? 1 : 0.03 * (emax - emin);
    p->f.x0 = emin - epad;
    p->f.x1 = emax + epad;
    if (vmin > vmax) { /* nothing drawable: a log axis 0.01 .. 1 */
        p->log = 1;
        p->f.y0 = -2;
        p->f.y1 = 0;
    } else if (vmin > 0 && vmax / vmin >= LOG_SPAN) {
        p->log = 1;
        double lo = log10(vmin), hi = log10(vmax), pad = fmax(0.05 * (hi - lo), 0.02);
        p->f.y0 = lo - pad;
        p->f.y1 = hi + pad;
    } else {
        pad_range(vmin, vmax, &p->f.y0, &p->f.y1);
    }
    linear_ticks(p->f.x0, p->f.x1, 10, 1, &p->xt);
    if (p->log) log_ticks(p->f.y0, p->f.y1, &p->yt);
    else linear_ticks(p->f.y0, p->f.y1, 8, 0, &p->yt);
}

/* One series: a line through each run of drawable values (a skipped value
 * breaks the line rather than bridging it), then the markers. */
static void draw_series(Ink *k, const Panel *p, const PlotLoss *L, const double *v,
                        const unsigned char rgb[3])
{
    cairo_t *cr = k->cr;
    for (int i = 0; i < L->n;) {
        while (i < L->n && !panel_ok(p, v[i])) i++;
        int j = i;
        while (j < L->n && panel_ok(p, v[j])) j++;
        for (int q = i; j - i >= 2 && q < j; q++) {
            double x = frame_x(&p->f, loss_epoch(L->epoch, q)), y = panel_y(p, v[q]);
            if (q == i) cairo_move_to(cr, x, y);
            else cairo_line_to(cr, x, y);
        }
        i = j;
    }
    ink_rgb(k, rgb);
    cairo_set_line_width(cr, 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke(cr);
    for (int i = 0; i < L->n; i++) {
        int alone = (i == 0 || !panel_ok(p, v[i - 1])) && (i == L->n - 1 || !panel_ok(p, v[i + 1]));
        if (panel_ok(p, v[i]) && (L->n <= MARKER_EPOCHS || alone))
            ink_dot(k, frame_x(&p->f, loss_epoch(L->epoch, i)), panel_y(p, v[i]));
    }
    ink_dots_end(k, 6, rgb);
}

/* A panel: title (and note), axes, the two series and their legend on the
 * title's line, right-aligned: outside the plot area, so it never hides a
 * point however the curves run. */
static void draw_panel(Ink *k, const Panel *p, const PlotLoss *L, const double *a, const double *b,
                       const char *title, const char *what, double title_y, const char *note)
{
    draw_title(k, PLOT_LOSS_WIDTH, title_y, title, "", note);
    char ytitle[64];
    snprintf(ytitle, sizeof ytitle, "%s%s", what, p->log ? " (log scale)" : "");
    draw_axes(k, &p->f, &p->xt, &p->yt, "epoch", ytitle);
    const double *series[2] = {a, b};
    static const char *const names[2] = {"train", "test"};
    double x = p->f.right;
    for (int s = 1; s >= 0; s--) {
        if (!series[s]) continue;
        draw_series(k, p, L, series[s], PALETTE[s]);
        double w = ink_width(k, names[s], 12, 0);
        x -= w;
        ink_text(k, "legend", x, title_y, ALIGN_LEFT, 12, 0, 0, BLACK, names[s]);
        ink_line(k, x - 30, title_y - 4, x - 6, title_y - 4, 1.5, PALETTE[s]);
        ink_dot(k, x - 18, title_y - 4);
        ink_dots_end(k, 6, PALETTE[s]);
        x -= 30 + 16;
    }
}

static int has_values(const double *v, int n)
{
    for (int i = 0; v && i < n; i++)
        if (isfinite(v[i])) return 1;
    return 0;
}

static int loss_has_kl(const PlotLoss *L)
{
    return has_values(L->train_kl, L->n) || has_values(L->test_kl, L->n);
}

static void draw_loss(Ink *k, const void *arg)
{
    const PlotLoss *L = arg;
    int kl = loss_has_kl(L);
    Panel p;
    panel_layout(&p, L, L->train, L->test, 48, kl ? 300 : 345);
    char note[96] = "";
    if (L->n == 0) snprintf(note, sizeof note, "no epochs yet");
    else if (p.skipped)
        snprintf(note, sizeof note, "%d loss value%s not finite, not shown", p.skipped,
                 p.skipped == 1 ? "" : "s");
    draw_panel(k, &p, L, L->train, L->test, "Loss per epoch", "loss", 22, note);
    if (!kl) return;
    panel_layout(&p, L, L->train_kl, L->test_kl, 400, 620);
    note[0] = '\0';
    if (p.skipped)
        snprintf(note, sizeof note, "%d KL value%s not finite, not shown", p.skipped,
                 p.skipped == 1 ? "" : "s");
    draw_panel(k, &p, L, L->train_kl, L->test_kl, "KL term per epoch", "KL", 374, note);
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

/* Legend rows: one per class with points, then the centroid marker; the
 * legend starts at LEGEND_X, or further left when its keys need the room
 * (long label names). */
enum { LEGEND_X = 524, LEGEND_Y = 62, LEGEND_ROW = 18, CENTROID_R = 5, CENTROID_RING = 2 };

static int latent_check(const PlotLatent *P, Err *err)
{
    if (P->n < 0 || P->k < 1 || (P->n > 0 && !P->z))
        return err_set(err, "latent plot: n=%d points of k=%d coordinates%s (need n >= 0, k >= 1, "
                            "and z when n > 0)",
                       P->n, P->k, P->n > 0 && !P->z ? " with no data" : "");
    return 0;
}

/* The layout of a checked PlotLatent; k measures the legend's keys. */
static void latent_layout(Latent *L, Ink *ink, const PlotLatent *P)
{
    memset(L, 0, sizeof *L);
    L->labels = P->labels;
    L->names = P->names;
    const float *z = P->z;
    int n = P->n, k = P->k;
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
    /* The widest key decides where the legend and so the frame end. */
    double widest = 0;
    for (int c = 0; c < CLASS_COUNT; c++) {
        char key[64];
        if (!L->count[c]) continue;
        class_key(L, c, key, sizeof key);
        widest = fmax(widest, ink_width(ink, key, 11, 0));
    }
    L->legend_x = PLOT_LATENT_WIDTH - 8 - 16 - (int)ceil(widest);
    if (L->legend_x > LEGEND_X) L->legend_x = LEGEND_X;
    L->f = (Frame){.left = 80, .top = 50, .right = L->legend_x - 14, .bottom = 420};
    pad_range(xlo, xhi, &L->f.x0, &L->f.x1);
    pad_range(ylo, yhi, &L->f.y0, &L->f.y1);
    linear_ticks(L->f.x0, L->f.x1, 8, 0, &L->xt);
    linear_ticks(L->f.y0, L->f.y1, 8, k == 1, &L->yt);
    if (k == 1) snprintf(L->suffix, sizeof L->suffix, " (z1 against point index)");
    else if (k > 2) snprintf(L->suffix, sizeof L->suffix, " (z1, z2 of %d)", k);
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

/* ---- latent scatter: drawing ---------------------------------------------------- */

static void draw_latent(Ink *k, const void *arg)
{
    const PlotLatent *P = arg;
    Latent L;
    latent_layout(&L, k, P);
    const Frame *f = &L.f;
    char note[128];
    latent_note(&L, P->n, note, sizeof note);
    draw_title(k, PLOT_LATENT_WIDTH, 22, latent_title(P->title), L.suffix, note);
    draw_axes(k, f, &L.xt, &L.yt, "z1", P->k == 1 ? "index" : "z2");

    /* One path per class; within a class the points go in index order. */
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        for (int i = 0; i < P->n; i++) {
            double x, y;
            latent_xy(P->z, P->k, i, &x, &y);
            if (latent_class(&L, i) == c && isfinite(x) && isfinite(y))
                ink_dot(k, frame_x(f, x), frame_y(f, y));
        }
        ink_dots_end(k, 4, PALETTE[c]);
    }
    for (int c = 0; c < CLASS_COUNT; c++)
        if (L.count[c])
            ink_disc(k, frame_x(f, L.sum_x[c] / L.count[c]), frame_y(f, L.sum_y[c] / L.count[c]),
                     CENTROID_R + CENTROID_RING / 2.0, CENTROID_RING, PALETTE[c]);
    int row = 0, lx = L.legend_x;
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (!L.count[c]) continue;
        char key[64];
        class_key(&L, c, key, sizeof key);
        int y = LEGEND_Y + LEGEND_ROW * row++;
        ink_disc(k, lx + 6, y, 4, 0, PALETTE[c]);
        ink_text(k, "key", lx + 16, y + 4, ALIGN_LEFT, 11, 0, 0, BLACK, key);
    }
    int y = LEGEND_Y + LEGEND_ROW * row;
    ink_disc(k, lx + 6, y, CENTROID_R + CENTROID_RING / 2.0, CENTROID_RING, WHITE);
    ink_text(k, "key", lx + 16, y + 4, ALIGN_LEFT, 11, 0, 0, BLACK, "centroid");
}

/* ---- rendering ------------------------------------------------------------------ */

typedef void (*DrawFn)(Ink *k, const void *arg);

/* Paints a white w x h picture on surface s by draw; the SVG's text goes to
 * svg_text (NULL otherwise). vector: finish the surface (which writes the
 * document out) rather than flush it. */
static int paint(cairo_surface_t *s, int vector, Sb *svg_text, DrawFn draw, const void *arg,
                 const char *what, Err *err)
{
    cairo_t *cr = cairo_create(s);
    /* No hinting: the same advances on every surface, so the SVG's text
     * sits where the PNG's does; grey anti-aliasing, not subpixel, keeps
     * the PNG's colours true. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    Ink k = {cr, svg_text};
    draw(&k, arg);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (vector) cairo_surface_finish(s);
    else cairo_surface_flush(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
    if (st != CAIRO_STATUS_SUCCESS) return err_set(err, "%s: cairo: %s", what, cairo_status_to_string(st));
    return 0;
}

/* The SVG document of a picture: cairo's, without the surface group's id
 * (see the file's comment), the text as <text> elements last, on top;
 * inline: without the XML prolog. Returns a malloc'd string or NULL. */
static char *render_svg(DrawFn draw, const void *arg, int w, int h, int inline_doc,
                        const char *what, Err *err)
{
    Sb out = {0}, text = {0}, doc = {0};
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(sb_cairo_write, &out, w, h);
    cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1);
    cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX);
    int rc = paint(s, 1, &text, draw, arg, what, err);
    cairo_surface_destroy(s);
    const char *start = out.s ? (inline_doc ? strstr(out.s, "<svg") : out.s) : NULL;
    const char *end = NULL;
    for (const char *p = start; p && (p = strstr(p, "</svg>")); p++) end = p;
    if (rc == 0 && (out.failed || text.failed))
        rc = err_set(err, "%s: out of memory drawing the SVG", what);
    if (rc == 0 && (!start || !end)) rc = err_set(err, "%s: cairo wrote no SVG document", what);
    if (rc == 0) {
        const char *id = strstr(start, " id=\"surface");
        const char *id_end = id && id < end ? strchr(id + 12, '"') : NULL;
        if (id_end) {
            sb_bytes(&doc, start, (size_t)(id - start));
            start = id_end + 1;
        }
        sb_bytes(&doc, start, (size_t)(end - start));
        sb_add(&doc, "<g class=\"text\" font-family=\"%s\">\n", SVG_FONT_FAMILY);
        if (text.s) sb_bytes(&doc, text.s, text.len);
        sb_add(&doc, "</g>\n</svg>\n");
        if (doc.failed) rc = err_set(err, "%s: out of memory drawing the SVG", what);
    }
    free(out.s);
    free(text.s);
    if (rc) {
        free(doc.s);
        return NULL;
    }
    return doc.s;
}

/* The picture as an RGB PNG at path: cairo's image surface (0x00RRGGBB words
 * in native byte order) unpacked to bytes and written by pngio. */
static int render_png(const char *path, DrawFn draw, const void *arg, int w, int h,
                      const char *what, Err *err)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    int rc = paint(s, 0, NULL, draw, arg, what, err);
    unsigned char *rgb = rc ? NULL : util_malloc((size_t)w * (size_t)h * 3, err);
    if (rgb) {
        const unsigned char *data = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint32_t v;
                memcpy(&v, data + (size_t)y * (size_t)stride + (size_t)x * 4, 4);
                unsigned char *o = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
                o[0] = (unsigned char)(v >> 16);
                o[1] = (unsigned char)(v >> 8);
                o[2] = (unsigned char)v;
            }
        rc = pngio_write(path, rgb, w, h, 3, err);
    } else {
        rc = -1;
    }
    free(rgb);
    cairo_surface_destroy(s);
    return rc;
}

static int render_pdf(const char *path, DrawFn draw, const void *arg, int w, int h,
                      const char *what, Err *err)
{
    Sb out = {0};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(sb_cairo_write, &out, w, h);
    int rc = paint(s, 1, NULL, draw, arg, what, err);
    cairo_surface_destroy(s);
    if (rc == 0 && (out.failed || !out.s)) rc = err_set(err, "%s: out of memory drawing the PDF", what);
    if (rc == 0) rc = util_write_file_atomic(path, out.s, out.len, err);
    free(out.s);
    return rc;
}

static int write_picture(const char *path, PlotFormat fmt, DrawFn draw, const void *arg, int w,
                         int h, const char *what, Err *err)
{
    int rc;
    if (fmt == PLOT_PNG) {
        rc = render_png(path, draw, arg, w, h, what, err);
    } else if (fmt == PLOT_PDF) {
        rc = render_pdf(path, draw, arg, w, h, what, err);
    } else {
        char *svg = render_svg(draw, arg, w, h, 0, what, err);
        rc = svg ? util_write_file_atomic(path, svg, strlen(svg), err) : -1;
        free(svg);
    }
    return rc ? err_prefix(err, "%s", path) : 0;
}

int plot_format_of(const char *path, PlotFormat *fmt, Err *err)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/')) {
        if (strcasecmp(dot, ".png") == 0) return *fmt = PLOT_PNG, 0;
        if (strcasecmp(dot, ".svg") == 0) return *fmt = PLOT_SVG, 0;
        if (strcasecmp(dot, ".pdf") == 0) return *fmt = PLOT_PDF, 0;
    }
    return err_set(err, "%s: a picture's name ends in .png, .svg or .pdf (the format)", path);
}

static int loss_check(const PlotLoss *L, Err *err)
{
    if (L->n < 0) return err_set(err, "loss plot: %d epochs (need 0 or more)", L->n);
    return 0;
}

static int loss_height(const PlotLoss *L)
{
    return loss_has_kl(L) ? PLOT_LOSS_HEIGHT_KL : PLOT_LOSS_HEIGHT;
}

int plot_write_loss(const char *path, PlotFormat fmt, const PlotLoss *loss, Err *err)
{
    if (loss_check(loss, err)) return err_prefix(err, "%s", path);
    return write_picture(path, fmt, draw_loss, loss, PLOT_LOSS_WIDTH, loss_height(loss),
                         "loss plot", err);
}

char *plot_loss_svg(const PlotLoss *loss, Err *err)
{
    if (loss_check(loss, err)) return NULL;
    return render_svg(draw_loss, loss, PLOT_LOSS_WIDTH, loss_height(loss), 1, "loss plot", err);
}

int plot_write_latent(const char *path, PlotFormat fmt, const PlotLatent *latent, Err *err)
{
    if (latent_check(latent, err)) return err_prefix(err, "%s", path);
    return write_picture(path, fmt, draw_latent, latent, PLOT_LATENT_WIDTH, PLOT_LATENT_HEIGHT,
                         "latent plot", err);
}

char *plot_latent_svg(const PlotLatent *latent, Err *err)
{
    if (latent_check(latent, err)) return NULL;
    return render_svg(draw_latent, latent, PLOT_LATENT_WIDTH, PLOT_LATENT_HEIGHT, 1, "latent plot",
                      err);
}
