/* test_pngio: pngio_write of gray, RGB and RGBA, then a read back through
 * pngio_read, and an independent check of the bytes with zlib alone
 * (signature, IHDR fields, every chunk's CRC, the inflated rows). Also the
 * reader's filters and its errors on damaged files, and pngio_write_tiles:
 * gray tiles byte for byte the gray PNG of their pixels, colour tiles pixel
 * by pixel from (C, H, W) images. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "pngio.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks of a PNG in memory with zlib's crc32 and inflate only,
 * checking what a viewer would; returns the number of problems found. */
static int check_bytes(const unsigned char *b, size_t len, int w, int h, int ch,
                       const unsigned char *pixels)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int before = check_failed;
    CHECK(len > 8 && memcmp(b, sig, 8) == 0, "PNG signature");
    size_t pos = 8;
    unsigned char *idat = NULL;
    size_t idat_len = 0;
    int chunks = 0, iend = 0;
    while (pos + 12 <= len && !iend) {
        uint32_t n = be32(b + pos);
        const unsigned char *type = b + pos + 4;
        CHECK(pos + 12 + n <= len, "chunk inside the file");
        if (pos + 12 + n > len) break;
        uint32_t crc = (uint32_t)crc32(0L, type, 4 + n);
        CHECK(crc == be32(b + pos + 8 + n), "CRC of chunk %.4s", (const char *)type);
        if (chunks == 0) {
            CHECK(memcmp(type, "IHDR", 4) == 0 && n == 13, "first chunk is IHDR of 13 bytes");
            CHECK(be32(b + pos + 8) == (uint32_t)w && be32(b + pos + 12) == (uint32_t)h,
                  "IHDR size %ux%u", be32(b + pos + 8), be32(b + pos + 12));
            CHECK(b[pos + 16] == 8 && b[pos + 17] == (ch == 1 ? 0 : ch == 3 ? 2 : 6) &&
                      b[pos + 18] == 0 &&
                      b[pos + 19] == 0 && b[pos + 20] == 0,
                  "IHDR depth 8, colour type, deflate, no interlace");
        }
        if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, idat_len + n);
            memcpy(idat + idat_len, b + pos + 8, n);
            idat_len += n;
        }
        iend = memcmp(type, "IEND", 4) == 0;
        pos += 12 + n;
        chunks++;
    }
    CHECK(iend && pos == len, "IEND is the last chunk and ends the file");
    size_t stride = (size_t)w * (size_t)ch;
    uLongf raw_len = (uLongf)((stride + 1) * (size_t)h), got = raw_len;
    unsigned char *raw = malloc(raw_len);
    CHECK(idat && uncompress(raw, &got, idat, (uLong)idat_len) == Z_OK && got == raw_len,
          "IDAT inflates to %lu bytes", (unsigned long)raw_len);
    if (got == raw_len) {
        /* libpng picks a filter per row: undo each here (PNG spec, section
         * 9) and compare with the pixels. */
        unsigned char *out = malloc(stride * (size_t)h);
        int same = 1, bpp = ch;
        for (int y = 0; y < h; y++) {
            int type = raw[(size_t)y * (stride + 1)];
            const unsigned char *in = raw + (size_t)y * (stride + 1) + 1;
            unsigned char *row = out + (size_t)y * stride, *up = y ? row - stride : NULL;
            same &= type <= 4;
            for (size_t x = 0; x < stride; x++) {
                int a = x >= (size_t)bpp ? row[x - (size_t)bpp] : 0, bb = up ? up[x] : 0;
                int c = up && x >= (size_t)bpp ? up[x - (size_t)bpp] : 0, pred = 0;
                if (type == 1) pred = a;
                else if (type == 2) pred = bb;
                else if (type == 3) pred = (a + bb) / 2;
                else if (type == 4) {
                    int p = a + bb - c, pa = abs(p - a), pb = abs(p - bb), pc = abs(p - c);
                    pred = pa <= pb && pa <= pc ? a : pb <= pc ? bb : c;
                }
                row[x] = (unsigned char)(in[x] + pred);
            }
        }
        same &= memcmp(out, pixels, stride * (size_t)h) == 0;
        CHECK(same, "inflated and unfiltered rows equal the pixels");
        free(out);
    }
    free(raw);
    free(idat);
    return check_failed - before;
}

/* A hand-made 3x4 gray PNG whose rows use filters 1..4, to test the reader's
 * unfiltering against values worked out here. */
static void check_filters(const char *dir)
{
    enum { W = 3, H = 4, CH = 1 };
    /* Target image (gray), then each row encoded with filter = row + 1. */
    const unsigned char img[H][W] = {{10, 20, 30}, {40, 45, 50}, {7, 200, 13}, {255, 0, 128}};
    unsigned char raw[H][W + 1];
    for (int y = 0; y < H; y++) {
        int type = y + 1;
        raw[y][0] = (unsigned char)type;
        for (int x = 0; x < W; x++) {
            int a = x ? img[y][x - 1] : 0, b = y ? img[y - 1][x] : 0;
            int c = x && y ? img[y - 1][x - 1] : 0, pred = 0;
            if (type == 1) pred = a;
            if (type == 2) pred = b;
            if (type == 3) pred = (a + b) / 2;
            if (type == 4) {
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            raw[y][x + 1] = (unsigned char)(img[y][x] - pred);
        }
    }
    unsigned char z[256];
    uLongf zl = sizeof z;
    compress2(z, &zl, &raw[0][0], sizeof raw, 9);
    unsigned char file[512];
    size_t n = 0;
    const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(file, sig, 8);
    n = 8;
    const unsigned char ihdr[13] = {0, 0, 0, W, 0, 0, 0, H, 8, 0, 0, 0, 0};
    const struct { const char *type; const unsigned char *data; size_t len; } chunks[3] = {
        {"IHDR", ihdr, 13}, {"IDAT", z, zl}, {"IEND", NULL, 0}};
    for (int i = 0; i < 3; i++) {
        file[n] = 0, file[n + 1] = 0, file[n + 2] = (unsigned char)(chunks[i].len >> 8),
        file[n + 3] = (unsigned char)chunks[i].len;
        memcpy(file + n + 4, chunks[i].type, 4);
        if (chunks[i].len) memcpy(file + n + 8, chunks[i].data, chunks[i].len);
        uint32_t crc = (uint32_t)crc32(0L, file + n + 4, 4 + (uInt)chunks[i].len);
        unsigned char *t = file + n + 8 + chunks[i].len;
        t[0] = (unsigned char)(crc >> 24), t[1] = (unsigned char)(crc >> 16),
        t[2] = (unsigned char)(crc >> 8), t[3] = (unsigned char)crc;
        n += 12 + chunks[i].len;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/filters.png", dir);
    test_spit(path, file, n);
    unsigned char *pix = NULL;
    int w = 0, h = 0, ch = 0;
    Err err = {{0}};
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == W && h == H && ch == CH, "filters.png %dx%dx%d", w, h, ch);
    if (pix) CHECK(memcmp(pix, img, sizeof img) == 0, "sub/up/average/paeth rows decode exactly");
    free(pix);
}

/* pngio_write_tiles of a tiny case, every byte worked out here: two 1x2
 * images with a 1-pixel frame, as gray, RGB and RGBA. */
static void check_tiles(const char *dir)
{
    enum { WT = 2 * 2 + 3, HT = 1 + 2 };
    /* (C, H, W) planes of 1x2 images: image 0, then image 1 */
    const float rgb[2 * 3 * 2] = {0.0f, 1.0f,  0.5f, 0.0f, 1.0f, NAN, /* R, G, B of image 0 */
                                  0.2f, -1.0f, 2.0f, 0.4f, 0.6f, 0.8f};
    const unsigned char want_rgb[HT][WT * 3] = {
        {128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
         128, 128, 128, 128},
        {128, 128, 128, 0, 128, 255, 255, 0, 0, 128, 128, 128, 51, 255, 153, 0, 102, 204, 128,
         128, 128},
        {128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
         128, 128, 128, 128}};
    char path[4200], gray_path[4200];
    Err err = {{0}};
    unsigned char *pix = NULL;
    int w = 0, h = 0, ch = 0;
    snprintf(path, sizeof path, "%s/tiles-rgb.png", dir);
    CHECK(pngio_write_tiles(path, rgb, 2, 1, 3, 1, 2, 1, 1, &err) == 0, "%s", err.msg);
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == WT && h == HT && ch == 3, "RGB tiles %dx%dx%d", w, h, ch);
    if (pix && w == WT && h == HT && ch == 3) {
        CHECK(memcmp(pix, want_rgb, sizeof want_rgb) == 0, "RGB tiles: every byte");
        for (int i = 0; i < WT * HT * 3; i++)
            if (pix[i] != (&want_rgb[0][0])[i])
                printf("  byte %d (row %d): %d, want %d\n", i, i / (WT * 3), pix[i],
                       (&want_rgb[0][0])[i]);
    }
    free(pix);
    /* RGBA: the same, the 4th plane as alpha, and the frame opaque */
    const float rgba[2 * 4 * 2] = {0.0f, 1.0f, 0.5f, 0.0f, 1.0f, NAN, 0.0f, 1.0f,
                                   0.2f, -1.0f, 2.0f, 0.4f, 0.6f, 0.8f, 0.5f, 0.5f};
    snprintf(path, sizeof path, "%s/tiles-rgba.png", dir);
    CHECK(pngio_write_tiles(path, rgba, 2, 1, 4, 1, 2, 1, 1, &err) == 0, "%s", err.msg);
    CHECK(pngio_read(path, &pix, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == WT && h == HT && ch == 4, "RGBA tiles %dx%dx%d", w, h, ch);
    if (pix && w == WT && h == HT && ch == 4) {
        int same = 1;
        for (int y = 0; y < HT; y++)
            for (int x = 0; x < WT; x++) {
                const unsigned char *p = pix + ((size_t)y * WT + (size_t)x) * 4;
                int frame = y != 1 || x == 0 || x == 3 || x == 6;
                int img = x < 3 ? 0 : 1, px = (x - 1) % 3;
                unsigned char alpha = frame ? 255 : pngio_gray(rgba[img * 8 + 6 + px]);
                same &= memcmp(p, &want_rgb[y][x * 3], 3) == 0 && p[3] == alpha;
            }
        CHECK(same, "RGBA tiles: colour as RGB, alpha from the 4th plane, frame opaque");
    }
    free(pix);
    /* gray: exactly pngio_write of the gray pixels (the file, byte for byte) */
    const float gray[2 * 2] = {0.0f, 1.0f, 0.25f, NAN};
    const unsigned char want_gray[HT * WT] = {128, 128, 128, 128, 128, 128, 128,
                                              128, 0,   255, 128, 64,  0,   128,
                                              128, 128, 128, 128, 128, 128, 128};
    snprintf(path, sizeof path, "%s/tiles-gray.png", dir);
    snprintf(gray_path, sizeof gray_path, "%s/gray.png", dir);
    CHECK(pngio_write_tiles(path, gray, 2, 1, 1, 1, 2, 1, 1, &err) == 0 &&
              pngio_write(gray_path, want_gray, WT, HT, 1, &err) == 0,
          "%s", err.msg);
    size_t la = 0, lb = 0;
    char *a = test_slurp(path, &la), *b = test_slurp(gray_path, &lb);
    CHECK(a && b && la == lb && memcmp(a, b, la) == 0, "gray tiles: the gray PNG of its pixels");
    free(a);
    free(b);
    snprintf(path, sizeof path, "%s/tiles-2.png", dir);
    CHECK(pngio_write_tiles(path, gray, 1, 1, 2, 1, 1, 1, 0, &err) != 0 && access(path, F_OK) != 0,
          "2 channels refused, nothing written");
    CHECK_CONTAINS(err.msg, "1, 3 or 4");
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "png");
    Err err = {{0}};
    char path[4200];

    static const int channel_counts[3] = {1, 3, 4};
    for (int k = 0; k < 3; k++) {
        int ch = channel_counts[k];
        enum { W = 37, H = 11 };
        unsigned char px[W * H * 4];
        for (int i = 0; i < W * H * ch; i++) px[i] = (unsigned char)(i * 7 + i / 13);
        snprintf(path, sizeof path, "%s/img%d.png", dir, ch);
        CHECK(pngio_write(path, px, W, H, ch, &err) == 0, "%s", err.msg);
        size_t len = 0;
        unsigned char *b = (unsigned char *)test_slurp(path, &len);
        CHECK(b != NULL, "read %s", path);
        if (b) check_bytes(b, len, W, H, ch, px);
        unsigned char *back = NULL;
        int w = 0, h = 0, c = 0;
        CHECK(pngio_read(path, &back, &w, &h, &c, &err) == 0, "%s", err.msg);
        CHECK(w == W && h == H && c == ch, "read back %dx%dx%d", w, h, c);
        if (back) CHECK(memcmp(back, px, (size_t)(W * H * ch)) == 0, "pixels round-trip (%d ch)", ch);
        free(back);

        /* Damage: a flipped byte in IDAT fails the CRC; a truncated file
         * and a wrong signature are errors, never a partial image. */
        if (b && ch == 1) {
            char bad[4300];
            b[len - 20] ^= 0x40;
            snprintf(bad, sizeof bad, "%s/crc.png", dir);
            test_spit(bad, b, len);
            CHECK(pngio_read(bad, &back, &w, &h, &c, &err) != 0 && back == NULL, "flipped byte");
            CHECK_CONTAINS(err.msg, "damaged PNG");
            b[len - 20] ^= 0x40;
            snprintf(bad, sizeof bad, "%s/short.png", dir);
            test_spit(bad, b, len - 13);
            CHECK(pngio_read(bad, &back, &w, &h, &c, &err) != 0, "truncated file");
            CHECK_CONTAINS(err.msg, "short.png");
            b[1] = 'X';
            snprintf(bad, sizeof bad, "%s/sig.png", dir);
            test_spit(bad, b, len);
            CHECK(pngio_read(bad, &back, &w, &h, &c, &err) != 0, "bad signature");
            CHECK_CONTAINS(err.msg, "Not a PNG file");
        }
        free(b);
    }
    check_filters(dir);
    check_tiles(dir);

    /* Bad arguments are errors and leave nothing behind. */
    unsigned char one = 0;
    snprintf(path, sizeof path, "%s/bad.png", dir);
    CHECK(pngio_write(path, &one, 0, 1, 1, &err) != 0, "zero width");
    CHECK(pngio_write(path, &one, 1, 1, 2, &err) != 0, "2 channels");
    CHECK_CONTAINS(err.msg, "1, 3 or 4 channels");
    CHECK(pngio_write(path, &one, 1, 1, 5, &err) != 0, "5 channels");
    CHECK(access(path, F_OK) != 0, "no file left for a failed write");
    snprintf(path, sizeof path, "%s/no/such/dir/x.png", dir);
    CHECK(pngio_write(path, &one, 1, 1, 1, &err) != 0, "unwritable path");
    CHECK_CONTAINS(err.msg, "cannot create");

    CHECK(test_rmdir(dir) == 0, "cleanup");
    return check_done("test_pngio");
}
