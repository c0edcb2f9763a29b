/* plot: the pictures of a results folder, drawn on the host with no library.
 *
 * Owns: the loss-per-epoch chart (SVG, log-scale y axis), the latent scatter
 * (SVG, and the same layout rasterised to an RGB PNG), the 10-colour
 * categorical palette and the 1-2-5 tick rule they share, and the 5x7 bitmap
 * font that writes text into PNGs. An SVG here is a standalone document with
 * no XML prolog, so one string serves as a .svg file and inline in HTML; every
 * piece of text in it is escaped. A picture is a pure function of its inputs
 * (no randomness; points drawn class by class, each class in index order), and
 * files are written atomically (temporary name, then rename). */
#ifndef CLAE_PLOT_H
#define CLAE_PLOT_H

#include <stddef.h>

#include "util.h"

/* Canvas sizes in pixels (SVG user units). The latent SVG and PNG share one
 * layout, so a data point lands on the same pixel in both. */
#define PLOT_LOSS_WIDTH 640
#define PLOT_LOSS_HEIGHT 400
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

/* Train and test loss against epoch as an SVG document (PLOT_LOSS_WIDTH x
 * PLOT_LOSS_HEIGHT): two polylines with point markers on a log-scale y axis,
 * integer epoch ticks, a legend and a title. epoch may be NULL (epochs 1..n);
 * train or test may be NULL (that series is left out). Values that are not
 * finite or not > 0 are skipped, leaving a gap in the line, and counted in a
 * note. n == 0 gives empty axes. Returns a malloc'd NUL-terminated string that
 * the caller frees, or NULL with err filled. */
char *plot_loss_svg(const int *epoch, const double *train, const double *test, int n, Err *err);

/* plot_loss_svg written to path atomically. */
int plot_write_loss_svg(const char *path, const int *epoch, const double *train,
                        const double *test, int n, Err *err);

/* The names of labels 0..n-1 for a legend ([data] label_names): name[l]
 * is label l's; borrowed. */
typedef struct {
    int n;
    const char *const *name;
} PlotNames;

/* Scatter of the latent codes z, (n, k) row-major, as an SVG document
 * (PLOT_LATENT_WIDTH x PLOT_LATENT_HEIGHT): z1 across, z2 up, one palette
 * colour per label (labels above 9 are drawn together as "other"), each
 * class's centroid (the mean of its shown points) as a larger black-ringed
 * disc, a legend of the labels present, by name (names, when it has one;
 * NULL: by number) with their point counts, keys cut to 30 characters (the
 * legend moves left for long ones), and the title (NULL or "" means
 * "latent space"). For k > 2 the title ends with " (z1, z2 of K)"; for
 * k == 1 the y axis is the point index and the title ends with " (z1
 * against point index)". Points with a non-finite coordinate are skipped
 * and counted in a note. labels NULL: unlabelled data, every point in one
 * grey class "unlabelled". Returns a malloc'd NUL-terminated string that
 * the caller frees, or NULL with err filled. */
char *plot_latent_svg(const float *z, const unsigned char *labels, int n, int k,
                      const PlotNames *names, const char *title, Err *err);

/* plot_latent_svg written to path atomically. */
int plot_write_latent_svg(const char *path, const float *z, const unsigned char *labels, int n,
                          int k, const PlotNames *names, const char *title, Err *err);

/* The picture of plot_latent_svg rasterised into a PLOT_LATENT_WIDTH x
 * PLOT_LATENT_HEIGHT RGB PNG at path (atomically): white background, 2-pixel
 * radius dots, text in the built-in 5x7 font (ASCII only: other bytes print
 * as '?'; a title too wide for the image is cut and ends in "..."). */
int plot_write_latent_png(const char *path, const float *z, const unsigned char *labels, int n,
                          int k, const PlotNames *names, const char *title, Err *err);

#endif
