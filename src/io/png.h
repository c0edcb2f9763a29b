/* png: minimal PNG writer and reader on zlib (8-bit gray or RGB, no
 * interlace). The writer is what clae uses for its pictures; the reader exists
 * so that tests (and later tools) can check what was written: it verifies the
 * signature, IHDR, every chunk's CRC and the zlib stream, and undoes all five
 * PNG filter types. */
#ifndef CLAE_PNG_H
#define CLAE_PNG_H

#include "util.h"

/* Writes a width x height image with `channels` 1 (gray) or 3 (RGB) bytes
 * per pixel, rows top to bottom, to path atomically (temporary file then
 * rename). */
int png_write(const char *path, const unsigned char *pixels, int width, int height,
              int channels, Err *err);

/* Reads an 8-bit gray (color type 0) or RGB (color type 2) non-interlaced PNG.
 * *pixels is malloc'd (width*height*channels bytes) and freed by the caller. */
int png_read(const char *path, unsigned char **pixels, int *width, int *height,
             int *channels, Err *err);

#endif
