/* png: see png.h.
 *
 * A PNG is the 8-byte signature, then chunks (big-endian length, 4-byte type,
 * data, CRC-32 of type and data): IHDR, one or more IDAT holding one zlib
 * stream of the filtered rows (each row prefixed by its filter byte), IEND.
 * zlib provides both the deflate stream and the CRC. */
#define _POSIX_C_SOURCE 200809L
#include "png.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const unsigned char SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* Largest side we write or read: keeps width*height*channels far from
 * overflow and rejects nonsense headers before allocating. */
#define PNG_MAX_SIDE 65536

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int write_chunk(FILE *f, const char *type, const unsigned char *data, size_t len)
{
    unsigned char head[8];
    put32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, head + 4, 4);
    if (len) crc = crc32(crc, data, (uInt)len);
    unsigned char tail[4];
    put32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                   fwrite(tail, 1, 4, f) == 4
               ? 0
               : -1;
}

int png_write(const char *path, const unsigned char *pixels, int width, int height, int channels,
              Err *err)
{
    if (width < 1 || height < 1 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE ||
        (channels != 1 && channels != 3 && channels != 4))
        return err_set(err, "%s: cannot write a %dx%d PNG with %d channels (1..%d pixels a side, "
                            "1, 3 or 4 channels)",
                       path, width, height, channels, PNG_MAX_SIDE);
    size_t stride = (size_t)width * (size_t)channels;
    size_t raw_len = (stride + 1) * (size_t)height;
    unsigned char *raw = util_malloc(raw_len, err);
    if (!raw) return -1;
    /* Filter type 0 (none) on every row: pictures here are small, and the
     * reader still handles all five types. */
    for (int y = 0; y < height; y++) {
        raw[(size_t)y * (stride + 1)] = 0;
        memcpy(raw + (size_t)y * (stride + 1) + 1, pixels + (size_t)y * stride, stride);
    }
    uLongf z_len = compressBound((uLong)raw_len);
    unsigned char *z = util_malloc(z_len, err);
    if (!z) {
        free(raw);
        return -1;
    }
    int zrc = compress2(z, &z_len, raw, (uLong)raw_len, Z_BEST_COMPRESSION);
    free(raw);
    if (zrc != Z_OK) {
        free(z);
        return err_set(err, "%s: zlib compress2 failed: %s", path, zError(zrc));
    }
    unsigned char ihdr[13];
    put32(ihdr, (uint32_t)width);
    put32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;                        /* bit depth */
    ihdr[9] = channels == 1 ? 0 : channels == 3 ? 2 : 6; /* colour type: gray, RGB, RGBA */
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */

    char tmp[4300];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) {
        free(z);
        return -1;
    }
    int bad = fwrite(SIGNATURE, 1, 8, f) != 8 || write_chunk(f, "IHDR", ihdr, 13) ||
              write_chunk(f, "IDAT", z, z_len) || write_chunk(f, "IEND", NULL, 0);
    free(z);
    if (bad) {
        util_atomic_abort(f, tmp);
        return err_set(err, "%s: write failed", path);
    }
    return util_atomic_commit(f, tmp, path, err);
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
}

/* Undoes the per-row filters of raw (height rows of 1 + stride bytes) into
 * out (height x stride). bpp: bytes per pixel. */
static int unfilter(const unsigned char *raw, unsigned char *out, size_t stride, int height,
                    int bpp)
{
    for (int y = 0; y < height; y++) {
        int type = raw[(size_t)y * (stride + 1)];
        const unsigned char *in = raw + (size_t)y * (stride + 1) + 1;
        unsigned char *row = out + (size_t)y * stride;
        const unsigned char *up = y ? row - stride : NULL;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)bpp ? row[x - (size_t)bpp] : 0;
            int b = up ? up[x] : 0;
            int c = up && x >= (size_t)bpp ? up[x - (size_t)bpp] : 0;
            int pred;
            switch (type) {
            case 0: pred = 0; break;
            case 1: pred = a; break;
            case 2: pred = b; break;
            case 3: pred = (a + b) / 2; break;
            case 4: pred = paeth(a, b, c); break;
            default: return -1 - y; /* the caller names the row */
            }
            row[x] = (unsigned char)(in[x] + pred);
        }
    }
    return 0;
}

int png_read(const char *path, unsigned char **pixels, int *width, int *height, int *channels,
             Err *err)
{
    *pixels = NULL;
    size_t len = 0;
    unsigned char *buf = (unsigned char *)util_read_file(path, &len, err);
    if (!buf) return -1;
    unsigned char *idat = NULL, *raw = NULL;
    size_t idat_len = 0;
    int w = 0, h = 0, ch = 0, seen_ihdr = 0, seen_iend = 0;
    if (len < 8 || memcmp(buf, SIGNATURE, 8) != 0) {
        err_set(err, "%s: not a PNG file (bad signature)", path);
        goto fail;
    }
    size_t pos = 8;
    while (!seen_iend) {
        if (len - pos < 12) {
            err_set(err, "%s: truncated at byte %zu (chunk header or IEND missing)", path, pos);
            goto fail;
        }
        uint32_t clen = get32(buf + pos);
        const unsigned char *type = buf + pos + 4;
        if (clen > len - pos - 12) {
            err_set(err, "%s: chunk %.4s at byte %zu claims %lu bytes, past the end of the file",
                    path, (const char *)type, pos, (unsigned long)clen);
            goto fail;
        }
        const unsigned char *data = buf + pos + 8;
        uint32_t crc_want = get32(data + clen);
        uint32_t crc_got = (uint32_t)crc32(crc32(0L, type, 4), data, clen);
        if (crc_want != crc_got) {
            err_set(err, "%s: CRC mismatch in chunk %.4s at byte %zu", path, (const char *)type,
                    pos);
            goto fail;
        }
        if (memcmp(type, "IHDR", 4) == 0) {
            if (clen != 13 || seen_ihdr) {
                err_set(err, "%s: bad IHDR chunk", path);
                goto fail;
            }
            seen_ihdr = 1;
            uint32_t uw = get32(data), uh = get32(data + 4);
            int depth = data[8], ctype = data[9], interlace = data[12];
            if (uw < 1 || uh < 1 || uw > PNG_MAX_SIDE || uh > PNG_MAX_SIDE || depth != 8 ||
                (ctype != 0 && ctype != 2 && ctype != 6) || data[10] != 0 || data[11] != 0 ||
                interlace != 0) {
                err_set(err,
                        "%s: unsupported PNG %lux%lu, bit depth %d, colour type %d, interlace %d "
                        "(8-bit gray, RGB or RGBA, not interlaced, is what this reader takes)",
                        path, (unsigned long)uw, (unsigned long)uh, depth, ctype, interlace);
                goto fail;
            }
            w = (int)uw;
            h = (int)uh;
            ch = ctype == 0 ? 1 : ctype == 2 ? 3 : 4;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            if (!seen_ihdr) {
                err_set(err, "%s: IDAT before IHDR", path);
                goto fail;
            }
            unsigned char *grown = realloc(idat, idat_len + clen + 1);
            if (!grown) {
                err_set(err, "%s: out of memory", path);
                goto fail;
            }
            idat = grown;
            memcpy(idat + idat_len, data, clen);
            idat_len += clen;
        } else if (memcmp(type, "IEND", 4) == 0) {
            seen_iend = 1;
        }
        pos += 12 + (size_t)clen;
    }
    if (!seen_ihdr || !idat) {
        err_set(err, "%s: no %s chunk", path, seen_ihdr ? "IDAT" : "IHDR");
        goto fail;
    }
    size_t stride = (size_t)w * (size_t)ch;
    uLongf raw_len = (uLongf)((stride + 1) * (size_t)h);
    raw = util_malloc(raw_len, err);
    *pixels = util_malloc(stride * (size_t)h, err);
    if (!raw || !*pixels) goto fail;
    uLongf got = raw_len;
    int zrc = uncompress(raw, &got, idat, (uLong)idat_len);
    if (zrc != Z_OK || got != raw_len) {
        err_set(err, "%s: image data does not inflate to %lu bytes: %s", path,
                (unsigned long)raw_len, zrc != Z_OK ? zError(zrc) : "wrong size");
        goto fail;
    }
    int frc = unfilter(raw, *pixels, stride, h, ch);
    if (frc) {
        err_set(err, "%s: row %d has an unknown filter type", path, -1 - frc);
        goto fail;
    }
    *width = w;
    *height = h;
    *channels = ch;
    free(raw);
    free(idat);
    free(buf);
    return 0;
fail:
    free(*pixels);
    *pixels = NULL;
    free(raw);
    free(idat);
    free(buf);
    return -1;
}

unsigned char png_gray(float v)
{
    if (!(v > 0.0f)) return 0; /* NaN too */
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

int png_write_tiles(const char *path, const float *images, int across, int down, int channels,
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
                    pix[((y0 + y) * w + x0 + x) * C + c] = png_gray(
                        img[c * plane + y / (size_t)scale * (size_t)cols + x / (size_t)scale]);
    }
    int rc = png_write(path, pix, (int)w, (int)h, channels, err);
    free(pix);
    return rc;
}
