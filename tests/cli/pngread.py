"""pngread: a PNG's pixels for the shell tests, read with zlib and NumPy
alone (independent of clae's libpng path): 8-bit gray, RGB or RGBA, no
interlace, every row filter (PNG spec, section 9) undone.

    from pngread import read_png   # sys.path gets this folder first
    px = read_png(path)            # uint8 array (H, W, C), C = 1, 3 or 4
"""
import struct
import zlib

import numpy as np


def read_png(path):
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (0, 2, 6), (depth, ctype, interlace)
        elif kind == b"IDAT":
            idat += body
    c = {0: 1, 2: 3, 6: 4}[ctype]
    stride = w * c
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + stride)
    out = np.zeros((h, stride), np.int32)
    zero = np.zeros(stride, np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        up, row = (out[y - 1] if y else zero), out[y]
        if f in (0, 2):  # none, up: no dependence along the row
            row[:] = (line + (up if f == 2 else 0)) & 255
            continue
        for x in range(stride):
            a = row[x - c] if x >= c else 0
            ul = up[x - c] if x >= c else 0
            if f == 1:
                p = a
            elif f == 3:
                p = (a + up[x]) // 2
            else:  # 4, Paeth
                q = a + up[x] - ul
                pa, pb, pc = abs(q - a), abs(q - up[x]), abs(q - ul)
                p = a if pa <= pb and pa <= pc else (up[x] if pb <= pc else ul)
            row[x] = (line[x] + p) & 255
    return out.astype(np.uint8).reshape(h, w, c)
