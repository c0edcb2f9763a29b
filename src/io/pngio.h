/* pngio: PNG files through libpng (8-bit gray, RGB or RGBA, no interlace).
 * The writer is what clae uses for its pictures; the reader exists so that
 * tests (and later tools) can check what was written. Owns too the one way
 * clae draws images as pixels (pngio_gray) and lays several out in a grid
 * (pngio_write_tiles): the reconstruction grids and every decoded picture.
 * A file is a pure function of its pixels (no time stamp or text chunk, fixed
 * compression settings), so the same inputs give the same bytes. */
#ifndef CLAE_PNGIO_H
#define CLAE_PNGIO_H

#include "util.h"

/* Writes a width x height image with `channels` 1 (gray), 3 (RGB) or 4
 * (RGBA, not premultiplied) bytes per pixel, rows top to bottom, to path
 * atomically (temporary file then rename). */
int pngio_write(const char *path, const unsigned char *pixels, int width, int height,
                int channels, Err *err);

/* A pixel value in [0,1] as a gray byte (or one channel's byte of a colour
 * pixel): clamp(v, 0, 1) * 255 rounded, NaN to 0. Every clae picture of
 * images converts this way. */
unsigned char pngio_gray(float v);

/* Writes across x down images of `channels` 1, 3 or 4 as one PNG of that
 * many channels (gray, RGB, RGBA) at path (atomically): image i of images
 * ((across * down, channels * rows * cols) row-major, each image a whole
 * rows x cols plane per channel, (C, H, W) as PyTorch orders them; values
 * as pngio_gray takes them, channel by channel) in the cell of row i / across
 * and column i % across, each pixel drawn scale x scale, with `gap` pixels
 * of mid-gray (128, opaque in RGBA) around and between the cells (none with
 * gap 0). The picture is across (cols scale) + (across + 1) gap wide and
 * down (rows scale) + (down + 1) gap high. One channel gives the same file as
 * pngio_write of the gray pixels, byte for byte. */
int pngio_write_tiles(const char *path, const float *images, int across, int down, int channels,
                      int rows, int cols, int scale, int gap, Err *err);

/* Reads a gray, RGB or RGBA PNG (any bit depth, palette or interlace, as
 * libpng expands them to 8 bits; gray with alpha is refused): *channels 1, 3
 * or 4. *pixels is malloc'd (width*height*channels bytes) and freed by the
 * caller; on error it is NULL. */
int pngio_read(const char *path, unsigned char **pixels, int *width, int *height, int *channels,
               Err *err);

#endif
