#!/usr/bin/python3
"""export_ref.py: the export test's checks in NumPy alone (tests/cli/export.sh);
no torch, no safetensors package. Each subcommand prints what it found and
exits 1 when a check fails:

  codes FILE.safetensors IMAGES.gz CODES.npy [--tol T]
      Reads FILE.safetensors (the 8-byte little-endian header length, the
      JSON header, the float32 data, every offset checked), rebuilds the
      encoder from what the file holds: the tensors in PyTorch's layouts
      (nn.Linear (out, in), nn.Conv2d (F, C, K, K)) at their nn.Sequential
      indices, and the network from the config in "__metadata__"
      (model.encoder for the conv items' stride and padding (K-1)//2,
      model.activation for the hidden layers; the latent layer is linear; a
      vae's encoder gives 2K values, the means first). Runs it in float64 on
      the IDX images (8-bit, scaled by 1/255 as clae does) and compares the
      codes with CODES.npy (`clae encode -o CODES.npy`, float32): fails when
      some |ours - clae| > T (1 + |ours|) (T = 1e-5: clae computes in
      float32). Prints the largest absolute and relative differences.
  header FILE.safetensors RUN_DIR NAME=D0xD1... ...
      The header's tensors are exactly these names with these shapes, in
      this order, back to back; the header is padded to a multiple of 8;
      "__metadata__" holds string values only, every key of RUN_DIR's
      run.json "config" with its value, and clae_version, kind, latent,
      input_shape, format = pt.
  same FILE1.safetensors FILE2.safetensors
      The same tensors: names, shapes and data bytes.
  npy CODES.npy CODES.csv LABELS.npy LABELS_IDX.gz
      encode's .npy codes (float32, (N, K)) equal its CSV codes (%.7g:
      within 1e-6 relative), and its --labels-out file (int64, (N,)) the
      CSV's label column and the IDX labels.
  v2 MODEL.ckpt OUT.ckpt
      Writes the version 2 file of a version 3 dense checkpoint: the header
      without the input shape and the layer list (H = 100 + 8 L), the CRC
      redone (as tests/unit/test_ckpt.c makes them).
"""
import gzip
import json
import os
import struct
import sys
import zlib

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    meta = header.pop("__metadata__", {})
    tensors, end = {}, 0
    for name, d in header.items():
        assert d["dtype"] == "F32", (name, d["dtype"])
        b, e = d["data_offsets"]
        count = int(np.prod(d["shape"])) if d["shape"] else 1
        assert e - b == 4 * count, (name, b, e, d["shape"])
        assert b == end, f"{name}: data starts at {b}, the one before ended at {end}"
        end = e
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(d["shape"])
    assert end == len(data), f"data is {len(data)} bytes, the tensors {end}"
    return header, meta, tensors


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    assert magic == 0x803, hex(magic)
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, 1, rows, cols)


def act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    raise SystemExit(f"unknown activation {name}")


def conv2d(x, w, b, stride, pad):
    """PyTorch's nn.Conv2d: x (N, C, H, W), w (F, C, K, K), cross-correlation."""
    n, c, h, wd = x.shape
    f, c2, k, _ = w.shape
    assert c == c2, (x.shape, w.shape)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - k) // stride + 1
    ow = (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for ki in range(k):
        for kj in range(k):
            patch = xp[:, :, ki : ki + stride * (oh - 1) + 1 : stride, kj : kj + stride * (ow - 1) + 1 : stride]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, ki, kj])
    return out + b[None, :, None, None]


def encode(meta, tensors, images):
    items = [s.strip() for s in meta["model.encoder"].split(",") if s.strip() and s.strip() != "none"]
    hidden = meta["model.activation"]
    K = int(meta["latent"])
    x = images.astype(np.float64) / 255.0
    convs = [it for it in items if it.startswith("conv:")]
    if not convs:
        x = x.reshape(len(x), -1)  # a dense net takes (N, D), C, H, W order
    i = 0  # nn.Sequential index
    layers = items + ["latent"]
    for li, it in enumerate(layers):
        if it.startswith("conv:"):
            _, f, k, s = it.split(":")
            w, b = tensors[f"encoder.{i}.weight"], tensors[f"encoder.{i}.bias"]
            assert w.shape[0] == int(f) and w.shape[2] == int(k), (it, w.shape)
            x = conv2d(x, w.astype(np.float64), b.astype(np.float64), int(s), (int(k) - 1) // 2)
            x = act(hidden, x)
            i += 2
            continue
        if x.ndim == 4:
            x = x.reshape(len(x), -1)  # nn.Flatten
            i += 1
        w, b = tensors[f"encoder.{i}.weight"], tensors[f"encoder.{i}.bias"]
        x = x @ w.astype(np.float64).T + b.astype(np.float64)
        i += 1
        if it != "latent":
            x = act(hidden, x)
            i += 1
    assert f"encoder.{i - 1}.weight" in tensors and not any(
        n.startswith(f"encoder.{i}.") for n in tensors), "the latent layer is the encoder's last"
    assert x.shape[1] == (2 * K if meta["kind"] == "vae" else K), (x.shape, K, meta["kind"])
    return x[:, :K]


def cmd_codes(args):
    tol = 1e-5
    if "--tol" in args:
        j = args.index("--tol")
        tol = float(args[j + 1])
        del args[j : j + 2]
    st, images_path, codes_path = args
    _, meta, tensors = read_safetensors(st)
    images = read_idx_images(images_path)
    ours = encode(meta, tensors, images)
    clae = np.load(codes_path)
    assert clae.dtype == np.float32 and clae.shape == ours.shape, (clae.dtype, clae.shape, ours.shape)
    diff = np.abs(ours - clae.astype(np.float64))
    rel = diff / np.maximum(np.abs(ours), 1e-30)
    worst = float((diff / (1 + np.abs(ours))).max())
    print(f"{st}: {len(ours)} codes, max |diff| {diff.max():.3g}, max relative {rel.max():.3g}, "
          f"max |diff|/(1+|z|) {worst:.3g} (tolerance {tol:g}); |z| up to {np.abs(ours).max():.3g}")
    return worst <= tol


def cmd_header(args):
    st, run_dir, *want = args
    with open(st, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        text = f.read(n)
    header, meta, tensors = read_safetensors(st)
    got = [f"{k}={'x'.join(str(d) for d in v['shape'])}" for k, v in header.items()]
    ok = True
    if got != want:
        print(f"{st}: tensors {got}, want {want}")
        ok = False
    if (8 + n) % 8 or text.rstrip(b" ") != text.rstrip() or not text.startswith(b"{"):
        print(f"{st}: header of {n} bytes: not padded to 8 with spaces")
        ok = False
    if not all(isinstance(v, str) for v in meta.values()):
        print(f"{st}: __metadata__ values that are not strings")
        ok = False
    with open(os.path.join(run_dir, "run.json")) as f:
        config = json.load(f)["config"]
    missing = [k for k in config if meta.get(k) != config[k]]
    if missing or len(config) < 40:
        print(f"{st}: __metadata__ lacks or differs in {missing} (of {len(config)} config keys)")
        ok = False
    for key in ("clae_version", "kind", "latent", "input_shape", "format"):
        if key not in meta:
            print(f"{st}: __metadata__ has no {key}")
            ok = False
    ok = ok and meta["format"] == "pt" and meta["kind"] == config["model.kind"]
    ok = ok and meta["latent"] == config["model.latent"]
    print(f"{st}: {len(header)} tensors as wanted, {len(meta)} metadata entries "
          f"({len(config)} config keys), kind {meta.get('kind')}, input {meta.get('input_shape')}: "
          f"{'ok' if ok else 'FAILED'}")
    return ok


def cmd_same(args):
    a, b = args
    ha, _, ta = read_safetensors(a)
    hb, _, tb = read_safetensors(b)
    ok = list(ha) == list(hb) and all(
        ha[k]["shape"] == hb[k]["shape"] and ta[k].tobytes() == tb[k].tobytes() for k in ha)
    print(f"{a} and {b}: {len(ha)} and {len(hb)} tensors, {'the same' if ok else 'DIFFERENT'}")
    return ok


def cmd_npy(args):
    codes_npy, codes_csv, labels_npy, labels_idx = args
    z = np.load(codes_npy)
    rows = np.loadtxt(codes_csv, delimiter=",", skiprows=1, ndmin=2)
    y = np.load(labels_npy)
    with gzip.open(labels_idx, "rb") as f:
        raw = f.read()
    idx = np.frombuffer(raw[8:], dtype=np.uint8)
    ok = z.dtype == np.float32 and z.ndim == 2 and z.shape == (len(rows), rows.shape[1] - 2)
    ok = ok and np.array_equal(rows[:, 0], np.arange(len(rows)))
    ok = ok and np.allclose(z, rows[:, 2:], rtol=1e-6, atol=1e-30)
    ok = ok and y.dtype == np.int64 and y.shape == (len(z),)
    ok = ok and np.array_equal(y, rows[:, 1].astype(np.int64)) and np.array_equal(y, idx)
    print(f"{codes_npy}: {z.dtype} {z.shape}; {labels_npy}: {y.dtype} {y.shape}; "
          f"CSV {len(rows)} rows: {'equal' if ok else 'DIFFERENT'}")
    return ok


def cmd_v2(args):
    src, dst = args
    with open(src, "rb") as f:
        b = bytearray(f.read())
    version, hlen, L = struct.unpack("<III", b[8:20])
    assert version == 3 and hlen == 112 + 40 * L, (version, hlen, L)
    kinds = struct.unpack(f"<{8 * L}I", b[112 + 8 * L : hlen])[0::8]
    assert not any(kinds), f"not a dense network: layer kinds {kinds}"
    kind_at = 96 + 8 * L
    del b[kind_at + 4 : hlen]  # the input shape and the layer list
    struct.pack_into("<II", b, 8, 2, kind_at + 4)
    del b[-4:]
    b += struct.pack("<I", zlib.crc32(b) & 0xFFFFFFFF)
    with open(dst, "wb") as f:
        f.write(b)
    print(f"{dst}: version 2, header {kind_at + 4} bytes, {len(b)} bytes")
    return True


def main():
    cmds = {"codes": cmd_codes, "header": cmd_header, "same": cmd_same, "npy": cmd_npy,
            "v2": cmd_v2}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(f"usage: export_ref.py {{{','.join(cmds)}}} ARGS...")
    sys.exit(0 if cmds[sys.argv[1]](sys.argv[2:]) else 1)


if __name__ == "__main__":
    main()
