/* plot: the pictures of a results folder, drawn with cairo.
 *
 * Owns: the loss-per-epoch chart (train and test, and a VAE's KL term in a
 * second panel), the latent scatter, the 10-colour categorical palette and
 * the 1-2-5 tick rule they share. Each picture is drawn by one routine onto a
 * cairo surface, so the same code writes PNG, SVG and PDF: anti-aliased lines
 * and markers, text in DejaVu Sans through fontconfig. In an SVG the text is
 * SVG <text> (searchable, selectable, and what the tests read), placed where
 * cairo's metrics of the same font put it in the PNG; everything else is
 * cairo's drawing. A picture is a pure function of its inputs (no randomness,
 * no time stamp, points drawn class by class, each class in index order), so a
 * PNG or SVG has the same bytes for the same inputs; files are written
 * atomically (temporary name, then rename). */
#ifndef CLAE_PLOT_H
#define CLAE_PLOT_H

#include <stddef.h>

#include "util.h"

/* Picture sizes in pixels (SVG user units, PDF points). A VAE's loss chart
 * adds a second panel below the first: PLOT_LOSS_HEIGHT_KL high. */
#define PLOT_LOSS_WIDTH 640
#define PLOT_LOSS_HEIGHT 400
#define PLOT_LOSS_HEIGHT_KL 680
#define PLOT_LATENT_WIDTH 640
#define PLOT_LATENT_HEIGHT 480

/* Fills rgb with the colour of digit label 0..9 (Tableau 10: blue, orange,
 * red, teal, green, yellow, purple, pink, brown, grey); any other label gets
 * the dark grey that the latent plots use for "other". */
void plot_class_color(int label, unsigned char rgb[3]);

/* Ticks first + i*step, i = 0..count-1, all inside [lo, hi], where step is the
 * smallest 1, 2 or 5 x 10^e that puts at most max_ticks ticks there (values
 * below 2 count as 2). Returns count: at least 2 when hi > lo and
 * max_ticks >= 5; 1 (first = lo, step = 0) when hi == lo; 0 (first = lo,
 * step = 0) when lo, hi or hi - lo is not finite or hi < lo. */
int plot_nice_ticks(double lo, double hi, int max_ticks, double *first, double *step);

/* Writes tick value v of a series spaced step apart into buf (len bytes) with
 * just enough decimals to tell neighbours apart ("0.25", "-3", "1e+06"); a v
 * within step*1e-6 of zero is written "0", never "-0". */
void plot_tick_label(double v, double step, char *buf, size_t len);

/* What a picture file is, by the path's extension (.png, .svg, .pdf, any
 * case). */
typedef enum { PLOT_PNG, PLOT_SVG, PLOT_PDF } PlotFormat;

/* *fmt from path's extension; an error naming the path and the three
 * extensions otherwise. */
int plot_format_of(const char *path, PlotFormat *fmt, Err *err);

/* The losses of a run, epoch by epoch; every array borrowed, (n) long.
 * epoch NULL: epochs 1..n. train or test NULL: that series is left out.
 * train_kl/test_kl NULL, or NaN throughout (an autoencoder's): no KL panel. */
typedef struct {
    int n;
    const int *epoch;
    const double *train, *test;
    const double *train_kl, *test_kl;
} PlotLoss;

/* The loss chart: train and test against epoch, lines with point markers
 * (markers while there are at most 60 epochs), on a log-scale y axis when the
 * drawn values span a factor of 4 or more (else linear), integer epoch ticks,
 * a legend and a title; for a VAE a second panel of the KL term, scaled the
 * same way on its own. Values that are not finite (or not > 0 on a log axis)
 * are skipped, leaving a gap in the line, and counted in a note. n == 0 gives
 * empty axes. Written to path in fmt, atomically. */
int plot_write_loss(const char *path, PlotFormat fmt, const PlotLoss *loss, Err *err);

/* The loss chart as an SVG document with no XML prolog and no element ids,
 * so that it can be written inline in HTML, several to a page. Returns a
 * malloc'd NUL-terminated string that the caller frees, or NULL with err
 * filled. */
char *plot_loss_svg(const PlotLoss *loss, Err *err);

/* The names of labels 0..n-1 for a legend ([data] label_names): name[l]
 * is label l's; borrowed. */
typedef struct {
    int n;
    const char *const *name;
} PlotNames;

/* Latent codes to scatter: z is (n, k) row-major; labels (n) or NULL for
 * unlabelled data; names NULL: labels by their numbers; title NULL or ""
 * means "latent space". All borrowed. */
typedef struct {
    int n, k;
    const float *z;
    const unsigned char *labels;
    const PlotNames *names;
    const char *title;
} PlotLatent;

/* The latent scatter (PLOT_LATENT_WIDTH x PLOT_LATENT_HEIGHT): z1 across, z2
 * up, one palette colour per label (labels above 9 are drawn together as
 * "other"), each class's centroid (the mean of its shown points) as a larger
 * black-ringed disc, a legend of the labels present, by name, with their point
 * counts, keys cut to 30 characters (the legend moves left for long ones),
 * and the title. For k > 2 the title ends with " (z1, z2 of K)"; for k == 1
 * the y axis is the point index and the title ends with " (z1 against point
 * index)". Points with a non-finite coordinate are skipped and counted in a
 * note. Unlabelled data: every point in one grey class "unlabelled". Text
 * that is not UTF-8 shows '?' for the bad bytes. Written to path in fmt,
 * atomically. */
int plot_write_latent(const char *path, PlotFormat fmt, const PlotLatent *latent, Err *err);

/* The latent scatter as inline SVG, as plot_loss_svg. */
char *plot_latent_svg(const PlotLatent *latent, Err *err);

#endif
