#!/usr/bin/env bash
# make-seeds.sh: (re)writes the seed corpora of the fuzz harnesses,
# tests/fuzz/corpus/<reader>/, from real files that clae makes: a real tiny
# run on MNIST (config.ini, run.json, loss.csv, latent.csv, runs.csv, in
# several states), the experiment and sweep files of configs/ and the
# README, the first images and labels of MNIST's test set (IDX, plain and
# gzip), and small checkpoints written by clae's own ckpt_write (a real
# run's model.ckpt is a megabyte, too big to mutate quickly).
#
#   tests/fuzz/make-seeds.sh BUILD_DIR [MNIST_DIR]
#
# The seeds are committed; this script documents where they came from. Run
# from anywhere; needs a built BUILD_DIR (clae and libclae_host.a), MNIST and
# python3 (for the IDX seeds). Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="$(cd "$1" && pwd)"
mnist="$(cd "${2:-${MNIST_DIR:-$src/../shared/data/mnist}}" && pwd)"
clae="$build/clae"
corpus="$here/corpus"
work="$(mktemp -d /tmp/clae-seeds-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"
rm -rf "$corpus"
mkdir -p "$corpus"/{config,idx,ckpt,runjson,losscsv,latentcsv,runscsv}

# ---- a real tiny run, completed, then one stopped mid-way by SIGINT
cat > tiny.ini <<INI
[data]
dir = $mnist
digits = 1,5,6
train_limit = 500
[model]
encoder = 64
[train]
epochs = 3
batch_size = 50
learning_rate = 1e-3
[output]
root = $work/r
recon_every = 0
checkpoint_every = 1
INI
run="$("$clae" train tiny.ini --quiet | tail -n 1)"
"$clae" train tiny.ini --quiet --set train.learning_rate=1e12 --set train.optimizer=sgd \
    --set output.name=diverged >/dev/null 2>&1 || true
diverged="$(ls -d r/*-diverged)"

# config: experiment files, the resolved config.ini, sweep files, options
cp "$src/configs/mnist-156.ini" "$corpus/config/mnist-156.ini"
cp "$src/configs/fashion.ini" "$corpus/config/fashion.ini"
cp "$run/config.ini" "$corpus/config/resolved.ini"
cp tiny.ini "$corpus/config/tiny.ini"
{ cat tiny.ini; printf '[sweep]\ntrain.learning_rate = 1e-3, 3e-4, 1e-4\nmodel.latent = 2, 3\n'
  printf 'model.encoder = 500,300 | 256\nrepeat = 2\n'; } > "$corpus/config/sweep.ini"
{ cat tiny.ini; printf '[sweep]\ntrain.batch_size = 25, 50\n\n%%%%\ntrain.epochs=5\n@cpu\n'; } \
    > "$corpus/config/sweep-options.ini"
{ cat "$src/configs/mnist-156.ini"; printf '\n%%%%\ntrain.loss = bce\nmodel.output=sigmoid\n@0:0\n'; } \
    > "$corpus/config/options.ini"
printf '[model]\nencoder = none\ndecoder = 8, 4\nactivation = leaky_relu\ninit = xavier\n[train]\noptimizer = momentum\n' \
    > "$corpus/config/model.ini"
printf '[model]\ninit = torch\n[train]\nnoise = gaussian:0.3\nschedule = step:10:0.5\nwarmup = 2\nweight_decay = 1e-4\npatience = 5\n' \
    > "$corpus/config/recipe.ini"

# runjson: completed, diverged (with its error), running, stale-looking,
# resumed sweep job
cp "$run/run.json" "$corpus/runjson/completed.json"
cp "$diverged/run.json" "$corpus/runjson/diverged.json"
sed 's/"status": "completed"/"status": "running"/; s/"end_time": "[^"]*"/"end_time": null/' \
    "$run/run.json" > "$corpus/runjson/running.json"
sed 's/"status": "completed"/"status": "running"/; s/"pid": [0-9]*/"pid": 999999999/' \
    "$run/run.json" > "$corpus/runjson/gone.json"
sed 's/"sweep": null/"sweep": {"name": "sw\\u00e9ep \\"x\\"", "index": 3, "count": 12}/;
     s/"resumed": null/"resumed": {"time": "2026-01-01T00:00:00+0000", "from_epoch": 1, "from_step": 4}/;
     s/"overrides": ""/"overrides": "train.learning_rate=1e-3 model.encoder=500,300"/' \
    "$run/run.json" > "$corpus/runjson/sweep-resumed.json"
sed 's/"early_stop": null/"early_stop": {"reason": "test loss not below 0.0412 (epoch 7) for 3 epochs ([train] patience = 3)", "best_epoch": 7, "best_test_loss": 0.0412}/' \
    "$run/run.json" > "$corpus/runjson/early-stop.json"
# a Latin-1 byte and control characters in a path, as clae before jansson
# wrote them (byte for byte; \u001b, \u000d): they read as U+FFFD and escapes
sed -e 's/"command_line": "/"command_line": "caf\xe9 \\u001b\\u000d /' \
    -e 's/"kernel_cache": "/"kernel_cache": "\xe9t\xe9/' "$run/run.json" > "$corpus/runjson/latin1.json"

# losscsv: the first byte is also the resumed checkpoint's epoch count (mod 4)
cp "$run/loss.csv" "$corpus/losscsv/completed.csv"
cp "$diverged/loss.csv" "$corpus/losscsv/diverged.csv"
head -c -20 "$run/loss.csv" > "$corpus/losscsv/cut.csv"
printf 'epoch,train_loss,test_loss\r\n1,0.5,0.4\r\n\r\n2,,0.3\r\n3,0.2,0.1,\n' > "$corpus/losscsv/short.csv"

# latentcsv: one byte (K = 1 + b % 4, grid 2 + (b / 4) % 6), then the file
{ printf '\001'; head -n 20 "$run/latent.csv"; } > "$corpus/latentcsv/k2.csv"
{ printf '\026'; printf 'index,label,z1,z2,z3\n'; sed -n '2,12p' "$run/latent.csv" | sed 's/$/,0.5/'; } \
    > "$corpus/latentcsv/k3.csv"
{ printf '\000'; printf 'index,label,z1\n'; sed -n '2,8p' "$run/latent.csv" | cut -d, -f1-3; } \
    > "$corpus/latentcsv/k1.csv"

# runscsv: real index files; the harness appends run 20260102-030405-fuzz
cp r/runs.csv "$corpus/runscsv/one.csv"
head -n 1 r/runs.csv > "$corpus/runscsv/header.csv"
{ cat r/runs.csv; tail -n 1 r/runs.csv | sed 's/^[^,]*,/20260102-030405-fuzz,/';
  printf '20260101-000000-b,b,completed,,,1,1,0.1,0.2,3,4,0:0 cpu,sw,2,"model.encoder=500,300 x=""y"""\n'; } \
    > "$corpus/runscsv/has-row.csv"
{ cat r/runs.csv; printf '20260101-000000-c,c,compl'; } > "$corpus/runscsv/half-row.csv"
{ cat r/runs.csv; head -c 64 /dev/zero; printf '\n'; tail -n 1 r/runs.csv; } > "$corpus/runscsv/nul-block.csv"

# idx: the first 3 test images and labels, plain and gzip, and a 2x3 one
python3 - "$mnist" "$corpus/idx" <<'PY'
import gzip, struct, sys
src, out = sys.argv[1], sys.argv[2]
img = gzip.open(src + "/t10k-images-idx3-ubyte.gz").read()
lab = gzip.open(src + "/t10k-labels-idx1-ubyte.gz").read()
images = struct.pack(">IIII", 0x803, 3, 28, 28) + img[16:16 + 3 * 784]
labels = struct.pack(">II", 0x801, 3) + lab[8:11]
small = struct.pack(">IIII", 0x803, 2, 2, 3) + bytes(range(0, 240, 20))
for name, data in (("images3", images), ("labels3", labels), ("small", small)):
    open(f"{out}/{name}.idx", "wb").write(data)
    open(f"{out}/{name}.idx.gz", "wb").write(gzip.compress(data, mtime=0))
PY

# ckpt: written by ckpt_write (format version 3): adam, sgd and momentum, at
# an epoch boundary and mid-epoch, autoencoders and variational ones, and a
# tiny conv network (conv and deconv layers with output paddings); and the
# dense autoencoders again as format version 2 files (v2-*.ckpt: without
# the input shape and layer list, as clae wrote them before conv layers)
# and version 1 files (v1-*.ckpt: without the kind field too, as clae wrote
# them before the vae), which clae still reads
cat > ckpts.c <<'C'
#include <stdio.h>
#include <string.h>
#include "ckpt.h"
static float p[4096], m[4096], v[4096], sums[8], kl[8];
static void one(const char *path, int L, const int *dims, Optimizer o, int steps, ModelKind kind)
{
    Ckpt c;
    memset(&c, 0, sizeof c);
    c.n_layers = L;
    for (int l = 0; l <= L; l++) c.dims[l] = dims[l];
    for (int l = 0; l < L; l++) c.act[l] = l == L - 1 ? ACT_LINEAR : ACT_TANH;
    c.latent = L / 2;
    c.loss = LOSS_MSE;
    c.kind = kind;
    c.optimizer = o;
    c.step = 12, c.epoch = 3, c.steps_in_epoch = steps;
    c.rng[0] = 1, c.rng[1] = 2, c.rng[2] = 3, c.rng[3] = 0x9e3779b97f4a7c15ull;
    c.input = (Shape3){dims[0], 1, 1};
    for (int l = 0; l < L; l++) {
        c.layer[l].in = (Shape3){dims[l], 1, 1};
        c.layer[l].out = (Shape3){dims[l + 1], 1, 1};
        size_t w = (size_t)config_width(kind, dims, c.latent, l);
        c.n_params += (size_t)dims[l] * w + w;
    }
    for (size_t i = 0; i < c.n_params; i++) p[i] = 0.01f * (float)i - 0.5f, m[i] = 1e-3f, v[i] = 1e-6f;
    for (int i = 0; i < 8; i++) sums[i] = 0.25f * (float)(i + 1), kl[i] = 0.125f * (float)i;
    c.params = p, c.m = m, c.v = v, c.step_sums = steps ? sums : NULL;
    c.step_kl = steps && kind == MODEL_VAE ? kl : NULL;
    Err err = {{0}};
    if (ckpt_write(path, &c, &err)) { fprintf(stderr, "%s\n", err.msg); _Exit(1); }
}
/* 1x5x4 -> conv:2:3:2 -> 2x3x2 -> 3 -> 12 (2x3x2) -> deconv:1:3:2:0/1 -> 1x5x4 */
static void conv(const char *path)
{
    Config cfg;
    config_defaults(&cfg);
    Err err = {{0}};
    ConfigNet net;
    if (config_set(&cfg, "model.encoder=conv:2:3:2", &err) || config_set(&cfg, "model.latent=3", &err) ||
        config_net(&cfg, (Shape3){1, 5, 4}, &net, &err)) { fprintf(stderr, "%s\n", err.msg); _Exit(1); }
    Ckpt c;
    memset(&c, 0, sizeof c);
    c.n_layers = net.n_layers;
    memcpy(c.dims, net.dims, sizeof c.dims);
    memcpy(c.act, net.act, sizeof c.act);
    memcpy(c.layer, net.layer, sizeof c.layer);
    c.input = net.input;
    c.latent = net.latent;
    c.optimizer = OPT_ADAM;
    c.n_params = net.n_params;
    for (size_t i = 0; i < c.n_params; i++) p[i] = 0.01f * (float)i, m[i] = 1e-3f, v[i] = 1e-6f;
    c.params = p, c.m = m, c.v = v;
    if (ckpt_write(path, &c, &err)) { fprintf(stderr, "%s\n", err.msg); _Exit(1); }
}
int main(int argc, char **argv)
{
    (void)argc;
    char path[4096];
    int a[] = {4, 2, 4}, b[] = {6, 3, 2, 3, 6};
    snprintf(path, sizeof path, "%s/adam.ckpt", argv[1]); one(path, 2, a, OPT_ADAM, 0, MODEL_AE);
    snprintf(path, sizeof path, "%s/sgd-mid-epoch.ckpt", argv[1]); one(path, 2, a, OPT_SGD, 3, MODEL_AE);
    snprintf(path, sizeof path, "%s/momentum.ckpt", argv[1]); one(path, 4, b, OPT_MOMENTUM, 2, MODEL_AE);
    snprintf(path, sizeof path, "%s/vae-adam.ckpt", argv[1]); one(path, 4, b, OPT_ADAM, 0, MODEL_VAE);
    snprintf(path, sizeof path, "%s/vae-sgd-mid-epoch.ckpt", argv[1]); one(path, 2, a, OPT_SGD, 3, MODEL_VAE);
    snprintf(path, sizeof path, "%s/conv-adam.ckpt", argv[1]); conv(path);
    return 0;
}
C
cc -std=c11 -I"$src/src/util" -I"$src/src/io" ckpts.c "$build/libclae_host.a" -linih -lz -lm -o ckpts
./ckpts "$corpus/ckpt"
python3 - "$corpus/ckpt" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
for name in ("adam", "sgd-mid-epoch", "momentum"):
    b = bytearray(open(f"{out}/{name}.ckpt", "rb").read())
    L = struct.unpack_from("<I", b, 16)[0]
    at = 100 + 8 * L                      # version 3's input shape and layers: not in version 2
    del b[at:at + 12 + 32 * L]
    struct.pack_into("<II", b, 8, 2, at)  # version 2, header length 100 + 8 L
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
    open(f"{out}/v2-{name}.ckpt", "wb").write(b)
    at = 96 + 8 * L                       # version 2's kind field: not in version 1
    del b[at:at + 4]
    struct.pack_into("<II", b, 8, 1, at)  # version 1, header length 96 + 8 L
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
    open(f"{out}/v1-{name}.ckpt", "wb").write(b)
PY
echo "seeds: $(find "$corpus" -type f | wc -l) files in $corpus"
