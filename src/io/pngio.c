/* pngio: see pngio.h.
 *
 * libpng's simplified API (png_image, libpng 1.6) does the encoding and
 * decoding; errors come back in png_image.message rather than by longjmp,
 * so no setjmp is needed here. Files are written through a temporary name
 * and renamed, like every other clae output. */
#define _POSIX_C_SOURCE 200809L
#include "pngio.h"

#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest side we write or read: keeps width*height*channels far from
 * overflow and rejects nonsense headers before allocating. */
#define PNGIO_MAX_SIDE 65536

static png_uint_32 format_of(int channels)
{
    return channels == 1 ? PNG_FORMAT_GRAY : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
}

int pngio_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
                Err *err)
{
    if (width < 1 || height < 1 || width > PNGIO_MAX_SIDE || height > PNGIO_MAX_SIDE ||
        (channels != 1 && channels != 3 && channels != 4))
        return err_set(err, "%s: cannot write a %dx%d PNG with %d channels (1..%d pixels a side, "
                            "1, 3 or 4 channels)",
                       path, width, height, channels, PNGIO_MAX_SIDE);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = format_of(channels);
    char tmp[4300];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    /* convert_to_8bit 0: the pixels are 8-bit already; stride 0: packed rows. */
    if (!png_image_write_to_stdio(&img, f, 0, pixels, 0, NULL)) {
        util_atomic_abort(f, tmp);
        err_set(err, "%s: libpng could not write the PNG: %s", path, img.message);
        png_image_free(&img);
        return -1;
    }
    return util_atomic_commit(f, tmp, path, err);
}

unsigned char pngio_gray(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN too */
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

int pngio_read(const char *path, unsigned char **pixels, int *width, int *height, int *channels,
               Err *err)
{
    *pixels = NULL;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return err_set(err, "%s: not a readable PNG: %s", path, img.message);
    int color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    if (img.width > PNGIO_MAX_SIDE || img.height > PNGIO_MAX_SIDE || (alpha && !color)) {
        err_set(err, "%s: a %ux%u PNG%s (readable: gray, RGB or RGBA, at most %d pixels a side)",
                path, (unsigned)img.width, (unsigned)img.height, alpha && !color ? " of gray with alpha" : "",
                PNGIO_MAX_SIDE);
        png_image_free(&img);
        return -1;
    }
    int c = color ? (alpha ? 4 : 3) : 1;
    img.format = format_of(c);
    size_t n = (size_t)img.width * img.height * (size_t)c;
    unsigned char *px = util_malloc(n ? n : 1, err);
    if (!px) {
        png_image_free(&img);
        return -1;
    }
    if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        return err_set(err, "%s: damaged PNG: %s", path, img.message);
    }
    *pixels = px;
    *width = (int)img.width;
    *height = (int)img.height;
    *channels = c;
    return 0;
}

int pngio_write_tiles(const char *path, const float *images, int across, int down, int channels,
                    int rows, int cols, int scale, int gap, Err *err)
{
    if (channels != 1 && channels != 3 && channels != 4)
        return err_set(err, "%s: cannot draw images of %d channels (1, 3 or 4)", path, channels);
    size_t C = (size_t)channels;
    size_t cell_w = (size_t)cols * (size_t)scale, cell_h = (size_t)rows * (size_t)scale;
    size_t w = (size_t)across * cell_w + (size_t)(across + 1) * (size_t)gap;
    size_t h = (size_t)down * cell_h + (size_t)(down + 1) * (size_t)gap;
    unsigned char *pix = util_malloc(w * h * C, err);
    if (!pix) return -1;
    memset(pix, 128, w * h * C); /* the frame between cells */
    if (C == 4) /* ... opaque: a see-through frame would show whatever is behind it */
        for (size_t p = 0; p < w * h; p++) pix[p * 4 + 3] = 255;
    size_t plane = (size_t)rows * (size_t)cols, D = C * plane;
    for (size_t i = 0; i < (size_t)across * (size_t)down; i++) {
        const float *img = images + i * D;
        size_t x0 = (size_t)gap + i % (size_t)across * (cell_w + (size_t)gap);
        size_t y0 = (size_t)gap + i / (size_t)across * (cell_h + (size_t)gap);
        for (size_t y = 0; y < cell_h; y++)
            for (size_t x = 0; x < cell_w; x++)
                for (size_t c = 0; c < C; c++)
                    pix[((y0 + y) * w + x0 + x) * C + c] = pngio_gray(
                        img[c * plane + y / (size_t)scale * (size_t)cols + x / (size_t)scale]);
    }
    int rc = pngio_write(path, pix, (int)w, (int)h, channels, err);
    free(pix);
    return rc;
}
