#!/usr/bin/env python3
"""check-export.py: a clae run's `clae export` checked through PyTorch.

    python3 scripts/check-export.py RUN [--clae PATH] [--images FILE] [--tol T]
                                        [--decode N]

With PyTorch and the safetensors package installed (a check dependency only:
clae never builds or tests with them; tests/cli/export.sh does the same
reproduction in NumPy), for the run folder RUN:

  1. `clae export RUN -o FILE.safetensors` and `clae export RUN --torch -o
     MODEL.py` into a temporary folder;
  2. MODEL.py exec'd as it is (it does its own imports) defines `model`;
     model.load_state_dict(safetensors.torch.load_file(FILE), strict=True),
     and the file's tensor names are exactly model.state_dict()'s, in order;
  3. `clae encode RUN IMAGES -o CODES.npy` against model.encode(x) of the
     same images (float32): every |torch - clae| <= T (1 + |clae|),
     T = 1e-5 by default;
  4. the decoder: `clae decode RUN CODE --scale 1` of the first N codes
     (default 3; 0 skips) against model.decoder's output as decode draws it,
     round(clamp(v, 0, 1) x 255), within one gray level (images only).

IMAGES: an IDX image file (gzip or plain) or a .npy array as clae reads
them; default the run's test images ([data] dir's t10k-images-idx3-ubyte,
or [data] test_images). clae is --clae, else build/clae beside this script,
else `clae` on the PATH. Prints the largest differences; exits 0 when all
agree, 1 when not, 2 on bad arguments, and 77 (skipped) when torch or
safetensors cannot be imported.
"""
import argparse
import configparser
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

try:
    import numpy as np
    import torch
    import safetensors.torch
except ImportError as e:
    print(f"check-export.py: skipped: {e} (PyTorch, safetensors and NumPy are needed: "
          "python3 -m pip install torch safetensors in a virtual environment)", file=sys.stderr)
    sys.exit(77)


def find_clae(given):
    if given:
        return given
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "clae")
    if os.access(here, os.X_OK):
        return os.path.normpath(here)
    found = shutil.which("clae")
    if not found:
        sys.exit("check-export.py: no clae: give --clae PATH")
    return found


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"check-export.py: {' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def read_config(run_dir):
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None)
    cp.read(os.path.join(run_dir, "config.ini"))
    return cp


def default_images(cfg):
    data = cfg["data"]
    if data.get("format", "idx") == "npy":
        path = data.get("test_images", "")
        return path if os.path.isabs(path) else os.path.join(data.get("dir", ""), path)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        path = os.path.join(data.get("dir", ""), name)
        if os.path.exists(path):
            return path
    sys.exit(f"check-export.py: no test images in {data.get('dir')}: give --images FILE")


def read_images(path, layout):
    """Items as clae reads them: (N, C, H, W) or (N, D) float32, 8-bit / 255."""
    with open(path, "rb") as f:
        head = f.read(2)
    if path.endswith(".npy"):
        a = np.load(path)
        if a.ndim == 4 and layout == "nhwc":
            a = a.transpose(0, 3, 1, 2)
        elif a.ndim == 3:
            a = a[:, None]
    else:
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            raw = f.read()
        _, n, rows, cols = struct.unpack(">IIII", raw[:16])
        a = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, 1, rows, cols)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return np.ascontiguousarray(a)


def read_png_gray(path):
    """A gray 8-bit PNG's pixels (H, W), every filter type undone."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 0, (depth, ctype)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    out = np.zeros((h, w), dtype=np.int32)
    prev = np.zeros(w, dtype=np.int32)
    for r in range(h):
        ft, row = raw[r * (w + 1)], np.frombuffer(raw[r * (w + 1) + 1 : (r + 1) * (w + 1)], np.uint8).astype(np.int32)
        cur = np.zeros(w, dtype=np.int32)
        for c in range(w):
            a = cur[c - 1] if c else 0
            b, cc = prev[c], (prev[c - 1] if c else 0)
            if ft == 0:
                v = row[c]
            elif ft == 1:
                v = row[c] + a
            elif ft == 2:
                v = row[c] + b
            elif ft == 3:
                v = row[c] + (a + b) // 2
            else:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                v = row[c] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)
            cur[c] = v & 0xFF
        out[r], prev = cur, cur
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run")
    ap.add_argument("--clae")
    ap.add_argument("--images")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--decode", type=int, default=3)
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.run, "model.ckpt")):
        print(f"check-export.py: {a.run}: no model.ckpt", file=sys.stderr)
        sys.exit(2)
    clae = find_clae(a.clae)
    cfg = read_config(a.run)
    images = a.images or default_images(cfg)
    tmp = tempfile.mkdtemp(prefix="clae-check-export-")
    try:
        st, py, codes = (os.path.join(tmp, n) for n in ("model.safetensors", "model.py", "z.npy"))
        run([clae, "export", a.run, "-o", st])
        run([clae, "export", a.run, "--torch", "-o", py])
        run([clae, "encode", a.run, images, "-o", codes])

        scope = {"__name__": "clae_export"}
        with open(py) as f:
            exec(compile(f.read(), py, "exec"), scope)
        model = scope["model"]
        state = safetensors.torch.load_file(st)
        model.load_state_dict(state, strict=True)
        names = list(state.keys())
        with open(st, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        file_names = [k for k in header if k != "__metadata__"]
        want = list(model.state_dict().keys())
        ok = file_names == want and sorted(names) == sorted(want)
        print(f"{a.run}: {len(want)} tensors, names {'equal' if ok else 'DIFFER'} to "
              f"model.state_dict()'s: {', '.join(want)}")

        x = read_images(images, cfg["data"].get("layout", "nhwc"))
        takes_maps = isinstance(model.encoder[0], torch.nn.Conv2d)
        xt = torch.from_numpy(x if takes_maps else x.reshape(len(x), -1))
        model.eval()
        with torch.no_grad():
            z = model.encode(xt).numpy()
            recon = model(xt[:2])
        clae_z = np.load(codes)
        d = np.abs(z.astype(np.float64) - clae_z.astype(np.float64))
        worst = float((d / (1 + np.abs(clae_z))).max())
        good = ok and z.shape == clae_z.shape and worst <= a.tol
        good = good and tuple(recon.shape) == (2,) + tuple(xt.shape[1:])
        print(f"  encode: {len(z)} codes of {z.shape[1]}, max |torch - clae| {d.max():.3g}, "
              f"max |diff|/(1+|z|) {worst:.3g} (tolerance {a.tol:g}); forward -> "
              f"{tuple(recon.shape)}")

        if a.decode > 0 and x.ndim == 4:
            levels = 0
            for i in range(min(a.decode, len(z))):
                png = os.path.join(tmp, f"d{i}.png")
                point = ",".join(f"{v:.9g}" for v in clae_z[i])
                run([clae, "decode", a.run, point, "--scale", "1", "-o", png])
                with torch.no_grad():
                    v = model.decoder(torch.from_numpy(clae_z[i : i + 1])).numpy()
                mine = np.rint(np.clip(v.reshape(x.shape[1:]), 0, 1) * 255).astype(np.int32)
                theirs = read_png_gray(png) if x.shape[1] == 1 else None
                if theirs is None:
                    print("  decode: skipped (colour images)")
                    break
                levels = max(levels, int(np.abs(mine[0] - theirs).max()))
            good = good and levels <= 1
            print(f"  decode: {min(a.decode, len(z))} codes, max gray-level difference {levels} "
                  "(at most 1)")
        print(f"  {'OK' if good else 'FAILED'}")
        sys.exit(0 if good else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
