#!/usr/bin/env bash
# conv: convolutional autoencoders end to end, as a user runs them.
#
# - configs/conv-156.ini for 2 epochs on real MNIST (digits 1, 5, 6): exit 0,
#   the console's network 1x28x28-16x14x14-32x7x7-2-32x7x7-16x14x14-1x28x28
#   and 17411 parameters, a test loss that falls, config.ini and run.json
#   recording the conv items, model.ckpt in format 3 with its layer list
#   (kinds, maps, kernels, strides, output paddings at their offsets), the
#   pictures at their sizes; `clae encode` giving latent.csv's codes, `clae
#   decode` and `clae generate` pictures of 28x28 cells.
# - A conv vae and a denoising conv run (2 epochs each, 1,000 images).
# - SIGINT mid-run, then --resume: the losses of a run never stopped.
# - A colour conv run on 3x16x16 images that NumPy writes as (N, H, W, C):
#   RGB reconstruction grids, encode and generate in colour.
# - Sweeps over [model] encoder with conv items; bench names each layer's
#   products with GFLOP/s; tune counts a conv step's products.
# - Every bad input: a malformed item, an even kernel, stride 0, a conv item
#   after a width, deconv output padding >= stride, a decoder that does not
#   end at the data's shape, conv layers on items that are not images, a
#   batch whose buffers exceed the device, a checkpoint of another layer
#   list: exit 2, one line naming the key and value, and no run folder.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start conv "$1" "$2"

# The u32 little-endian at byte offset $2 of file $1.
u32() { od -An -tu4 -j"$2" -N4 --endian=little "$1" | tr -d ' '; }
# A PNG's colour type (IHDR byte 25): 0 gray, 2 RGB, 6 RGBA.
png_type() { od -An -tu1 -j25 -N1 "$1" | tr -d ' '; }
losses() { cut -d, -f1-3 "$1/loss.csv"; }

need_mnist
images="$mnist/t10k-images-idx3-ubyte.gz" labels="$mnist/t10k-labels-idx1-ubyte.gz"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" -c 'import numpy' 2>/dev/null || { echo "FAIL: no NumPy for python3 (scripts/setup.sh)"; exit 1; }
conv=(--set "data.dir=$mnist" --set output.recon_every=1)

# ---- configs/conv-156.ini, 2 epochs ----------------------------------------
"$clae" train "$src/configs/conv-156.ini" "${conv[@]}" --set train.epochs=2 --set output.root=r \
    > train.txt 2>&1; rc=$?
run="$(tail -n 1 train.txt)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$run/run.json"' "conv-156: exit $rc: $(cat train.txt)"
check 'grep -qF "model 1x28x28-16x14x14-32x7x7-2-32x7x7-16x14x14-1x28x28 (17411 parameters)" train.txt' \
    "the console shows the network and its parameters: $(grep model train.txt)"
check 'awk -F, "NR == 2 { a = \$3 } NR == 3 { b = \$3 } END { exit !(NR == 3 && b < a && a > 0) }" "$run/loss.csv"' \
    "the test loss falls: $(cat "$run/loss.csv")"
check 'grep -qx "encoder = conv:16:3:2,conv:32:3:2" "$run/config.ini" && grep -qx "decoder = mirror" "$run/config.ini"' \
    "config.ini records the conv items: $(grep coder "$run/config.ini")"
check 'grep -qF "\"model.encoder\": \"conv:16:3:2,conv:32:3:2\"" "$run/run.json" && grep -qF "\"image_channels\": 1" "$run/run.json"' \
    "run.json records the conv items and the channels"
# model.ckpt: version 3; L = 6 layers; kind at 96 + 8 L = 144, the input at
# 148, the layers from 160, 32 bytes each (kind, C, H, W, K, S, op_h, op_w)
ck="$run/model.ckpt"
check '[ "$(u32 "$ck" 8)" = 3 ] && [ "$(u32 "$ck" 16)" = 6 ] && [ "$(u32 "$ck" 12)" = $((112 + 40 * 6)) ]' \
    "model.ckpt: version $(u32 "$ck" 8), $(u32 "$ck" 16) layers, header $(u32 "$ck" 12)"
check '[ "$(u32 "$ck" 148) $(u32 "$ck" 152) $(u32 "$ck" 156)" = "1 28 28" ]' "model.ckpt: input 1x28x28"
layer() { local at=$((160 + 32 * $1)) i out=""; for i in 0 1 2 3 4 5 6 7; do out+="$(u32 "$ck" $((at + 4 * i))) "; done; echo "${out% }"; }
check '[ "$(layer 0)" = "1 16 14 14 3 2 0 0" ] && [ "$(layer 1)" = "1 32 7 7 3 2 0 0" ] && [ "$(layer 2)" = "0 2 1 1 0 0 0 0" ]' \
    "model.ckpt: the encoder's layers: $(layer 0) / $(layer 1) / $(layer 2)"
check '[ "$(layer 3)" = "0 32 7 7 0 0 0 0" ] && [ "$(layer 4)" = "2 16 14 14 3 2 1 1" ] && [ "$(layer 5)" = "2 1 28 28 3 2 1 1" ]' \
    "model.ckpt: the decoder's layers: $(layer 3) / $(layer 4) / $(layer 5)"
check '[ "$(png_size "$run/recon-epoch-002.png")" = "$(png_size "$run/recon-epoch-001.png")" ] && [ "$(png_type "$run/recon-epoch-002.png")" = 0 ] && [ "$(png_size "$run/manifold.png")" = "420 420" ]' \
    "pictures: recon $(png_size "$run/recon-epoch-002.png"), manifold $(png_size "$run/manifold.png")"
check '[ "$(tail -n +2 "$run/latent.csv" | wc -l)" = 2985 ]' "latent.csv: 2985 test codes"
# encode gives latent.csv's codes (batches of 256 there, 50 here: 1e-5 relative + 1e-6)
"$clae" encode "$run" "$images" --labels "$labels" -o z.csv 2> enc.err
awk -F, 'NR > 1 && ($2 == 1 || $2 == 5 || $2 == 6)' z.csv > mine.csv
worst="$(paste -d, mine.csv <(tail -n +2 "$run/latent.csv") | awk -F, '
    function abs(v) { return v < 0 ? -v : v }
    { if ($2 != $6 || NF != 8) { print 1e9; exit }
      for (j = 3; j <= 4; j++) { d = abs($j - $(j + 4)) / (1e-5 * abs($(j + 4)) + 1e-6); if (d > w) w = d } }
    END { printf "%g\n", w }')"
check '[ "$(wc -l < mine.csv)" = 2985 ] && awk -v w="$worst" "BEGIN { exit !(w <= 1) }"' \
    "encode vs latent.csv: worst $worst x tolerance; $(cat enc.err)"
out="$("$clae" decode "$run" 1.5,-2 -o d.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size d.png)" = "112 112" ]' "decode: $rc $out; $(png_size d.png)"
out="$("$clae" generate "$run" --grid 5 -o g.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size g.png)" = "140 140" ]' "generate --grid 5: $rc $out; $(png_size g.png)"
# a 28x28 image set of another shape (14x56) has as many values but not the conv net's shape
"$py" - <<'EOF'
import numpy as np
np.save("wide.npy", np.zeros((3, 14, 56), dtype=np.uint8))
EOF
expect 2 "wide.npy: 14x56 images, but the model of $run takes 784 inputs (1x28x28 images)" \
    encode "$run" wide.npy -o never.csv
check '[ ! -e never.csv ]' "a refused encode wrote never.csv"

# ---- a conv vae and a denoising conv run -------------------------------------
small=("${conv[@]}" --set train.epochs=2 --set data.train_limit=1000 --set output.recon_every=0)
"$clae" train "$src/configs/conv-156.ini" "${small[@]}" --set model.kind=vae --set output.root=v \
    > vae.txt 2>&1; rc=$?
vrun="$(tail -n 1 vae.txt)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$vrun/run.json" && [ "$(u32 "$vrun/model.ckpt" 144)" = 1 ]' \
    "conv vae: exit $rc: $(tail -n 3 vae.txt)"
check 'awk -F, "NR > 1 && !(\$9 > 0 && \$10 > 0) { bad = 1 } END { exit bad || NR != 3 }" "$vrun/loss.csv"' \
    "conv vae: recon and KL terms: $(cat "$vrun/loss.csv")"
out="$("$clae" generate "$vrun" --prior --grid 4 -o prior.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size prior.png)" = "112 112" ]' "conv vae generate --prior: $rc $out"
"$clae" train "$src/configs/denoise-conv.ini" "${small[@]}" --set output.root=dn > dn.txt 2>&1; rc=$?
drun="$(tail -n 1 dn.txt)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$drun/run.json" && [ -s "$drun/denoise.png" ]' \
    "denoising conv run: exit $rc: $(tail -n 3 dn.txt)"
check 'grep -qx "noise = mask:0.3" "$drun/config.ini" && grep -qx "encoder = conv:16:3:2,conv:32:3:2" "$drun/config.ini"' \
    "denoise-conv.ini: masking noise on the conv network"

# ---- SIGINT, then --resume: the losses of a run never stopped ---------------
base=("$src/configs/conv-156.ini" "${conv[@]}" --set data.train_limit=1000 --set output.recon_every=0)
"$clae" train "${base[@]}" --set train.epochs=100000 --set output.root=r4 > int.txt 2> interr.txt &
interrupt_run $! r4
irun="$(tail -n 1 int.txt)"
check '[ $rc = 1 ] && grep -q "\"status\": \"interrupted\"" "$irun/run.json"' "SIGINT: exit $rc: $(cat interr.txt)"
done_epochs="$(sed -n 's/.*"epochs_completed": \([0-9]*\).*/\1/p' "$irun/run.json")"
k=$((done_epochs + 2))
"$clae" train --resume "$irun" --set train.epochs=$k --quiet > res.txt 2>&1; rc=$?
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$irun/run.json"' "resume: exit $rc: $(cat res.txt)"
"$clae" train "${base[@]}" --set train.epochs=$k --set output.root=r5 --quiet > full.txt 2>&1
full="$(tail -n 1 full.txt)"
check '[ "$(losses "$irun")" = "$(losses "$full")" ] && [ "$(wc -l < "$full/loss.csv")" = $((k + 1)) ]' \
    "SIGINT + resume differs from an uninterrupted conv run: $(paste -d' ' "$irun/loss.csv" "$full/loss.csv")"
# a checkpoint of another layer list is refused, naming the first layer that differs
expect 2 "model.ckpt: layer 2 is conv conv:32:3:2 (16x14x14 -> 32x7x7), the config's is conv conv:8:3:2 (16x14x14 -> 8x7x7)" \
    train --resume "$irun" --set train.epochs=$((k + 1)) --set model.encoder=conv:16:3:2,conv:8:3:2
expect 2 "holds a dense network (784-64-2-64-784), but the config's [model] encoder = conv:16:3:2 has conv layers" \
    train --resume "$(tiny_config t.ini dense && "$clae" train t.ini --quiet 2>/dev/null | tail -n 1)" \
    --set train.epochs=3 --set model.encoder=conv:16:3:2

# ---- colour: 3x16x16 images written by NumPy as (N, H, W, C) -----------------
"$py" - <<'EOF'
import numpy as np
rng = np.random.default_rng(5)
def make(n):
    # coloured squares on a dark ground: each class a colour
    y = rng.integers(0, 3, n)
    x = np.zeros((n, 16, 16, 3), dtype=np.uint8) + 20
    for i in range(n):
        r, c = rng.integers(0, 8, 2)
        x[i, r:r + 8, c:c + 8, y[i]] = 230
    return x, y.astype(np.int64)
for name, n in (("train", 600), ("test", 100)):
    x, y = make(n)
    np.save(f"{name}_x.npy", x)
    np.save(f"{name}_y.npy", y)
EOF
cat > colour.ini <<EOF
[data]
format = npy
dir = .
train_images = train_x.npy
train_labels = train_y.npy
test_images = test_x.npy
test_labels = test_y.npy
[model]
encoder = conv:8:3:2, conv:16:3:2
latent = 2
init = torch
[train]
epochs = 2
batch_size = 20
learning_rate = 1e-3
[output]
root = c
recon_count = 4
EOF
"$clae" train colour.ini > colour.txt 2>&1; rc=$?
crun="$(tail -n 1 colour.txt)"
check '[ $rc = 0 ] && grep -qF "model 3x16x16-8x8x8-16x4x4-2-16x4x4-8x8x8-3x16x16" colour.txt' \
    "colour conv run: exit $rc: $(tail -n 4 colour.txt)"
# the grid: 4 columns of 16 pixels x 2 (scale) + gaps; two rows (originals, reconstructions)
check '[ "$(png_type "$crun/recon-epoch-002.png")" = 2 ] && [ "$(png_type "$crun/manifold.png")" = 2 ]' \
    "colour pictures are RGB: recon type $(png_type "$crun/recon-epoch-002.png"), manifold $(png_type "$crun/manifold.png")"
check '[ "$(png_size "$crun/manifold.png")" = "240 240" ] && grep -qF "\"image_channels\": 3" "$crun/run.json"' \
    "colour manifold $(png_size "$crun/manifold.png"), image_channels 3"
"$clae" encode "$crun" test_x.npy -o cz.csv 2>/dev/null
check '[ "$(tail -n +2 cz.csv | wc -l)" = 100 ]' "encode of the colour test set: $(wc -l < cz.csv) lines"
"$clae" generate "$crun" --grid 3 -o cg.png >/dev/null 2>&1
check '[ "$(png_size cg.png)" = "48 48" ] && [ "$(png_type cg.png)" = 2 ]' "generate in colour: $(png_size cg.png)"

# ---- sweeps over conv items, bench and tune ------------------------------------
{ cat "$src/configs/conv-156.ini"; printf '\n[sweep]\nmodel.encoder = conv:8:3:2 | conv:8:3:2,conv:16:3:2\n'; } > sw.ini
check '[ "$("$clae" sweep sw.ini --count)" = 2 ] && "$clae" sweep sw.ini --list | grep -qxF "$(printf "1\tmodel.encoder=conv:8:3:2,conv:16:3:2")"' \
    "sweep --list over conv items: $("$clae" sweep sw.ini --list 2>&1)"
"$clae" sweep sw.ini --index 0 "${small[@]}" --set train.epochs=1 --set output.root=sw --quiet > sw.txt 2>&1; rc=$?
swrun="$(tail -n 1 sw.txt)"
check '[ $rc = 0 ] && grep -qx "encoder = conv:8:3:2" "$swrun/config.ini"' "sweep job 0: $rc $(cat sw.txt)"
out="$("$clae" bench "$src/configs/conv-156.ini" --set "data.dir=$mnist" --steps 8 --warmup 2 2>&1)"; rc=$?
check '[ $rc = 0 ] && grep -qE "sgemm fwd conv 1x28x28->16x14x14 +8 .* [0-9.]+$" <<<"$out" && grep -qE "sgemm dX  deconv 32x7x7->16x14x14 +8 " <<<"$out"' \
    "bench lists each conv layer's products with GFLOP/s: $rc $out"
out="$("$clae" tune "$src/configs/conv-156.ini" --set "data.dir=$mnist" --budget 1 -o tuned.ini --quiet 2>&1)"; rc=$?
check '[ $rc = 0 ] && grep -qF "tune: 17 products a step at batch 50, 17 more at the last batch of 26" <<<"$out" && grep -qF "dW  conv 1x28x28->16x14x14 B=50 NT 16x9x9800" <<<"$out"' \
    "tune knows a conv step's products: $rc $out"

# ---- bad input: exit 2, one line naming the key and value, no run folder ------
bad=(train "$src/configs/conv-156.ini" "${conv[@]}" --set output.root=bad)
expect 2 "--set model.encoder=conv:16:3: [model] encoder = 'conv:16:3': expected a comma list" "${bad[@]}" --set model.encoder=conv:16:3
expect 2 "'conv:16:3': expected conv:F:K:S, 3 whole numbers" "${bad[@]}" --set model.encoder=conv:16:3
expect 2 "'conv:0:3:2': F, the output channels, must be 1..65536" "${bad[@]}" --set model.encoder=conv:0:3:2
expect 2 "'conv:16:4:2': the kernel side K must be odd" "${bad[@]}" --set model.encoder=conv:16:4:2
expect 2 "'conv:16:3:0': the stride S must be 1..16" "${bad[@]}" --set model.encoder=conv:16:3:0
expect 2 "'conv:8:3:2' comes after the width 64: conv items come first, then widths" "${bad[@]}" --set model.encoder=64,conv:8:3:2
expect 2 "'deconv:1:3:2:2': the output padding OP must be below the stride S (0..1)" "${bad[@]}" --set model.decoder=1568,deconv:16:3:2:1,deconv:1:3:2:2
expect 2 "[model] decoder = 1568,deconv:16:3:2:0,deconv:1:3:2:1: the decoder ends at 1x26x26 (its last layer, deconv:1:3:2:1, gives 1x26x26), the data are 1x28x28" \
    "${bad[@]}" --set model.decoder=1568,deconv:16:3:2:0,deconv:1:3:2:1
expect 2 "put a width of 1568 before it" "${bad[@]}" --set model.decoder=100,deconv:16:3:2:1,deconv:1:3:2:1
# conv layers on items that are not images: an (N, D) array
"$py" -c 'import numpy as np; np.save("flat_x.npy", np.zeros((600, 37), dtype=np.float32)); np.save("flatt_x.npy", np.zeros((100, 37), dtype=np.float32))'
printf '[data]\nformat = npy\ndir = .\ntrain_images = flat_x.npy\ntest_images = flatt_x.npy\n[model]\nencoder = conv:8:3:2\n[output]\nroot = bad\n' > flat.ini
expect 2 "[model] encoder = conv:8:3:2: conv layers need images, and the data are 37 values (not images)" train flat.ini
# a batch whose buffers exceed the device: refused before anything is
# allocated, with the buffer, its layer and a batch size that fits (on PoCL
# here the 7.9 GB output of the first layer is over CL_DEVICE_MAX_MEM_ALLOC_SIZE;
# a device with a larger one refuses the total against its global memory)
big=("${bad[@]}" --set model.encoder=conv:128:3:1 --set data.digits=all --set train.batch_size=19690)
expect 2 "[train] batch_size = 19690: the " "${big[@]}"
err="$("$clae" "${big[@]}" 2>&1)"
check 'grep -qE "(the output of layer 1 \(conv:128:3:1, 128x28x28 an item\) takes 7.9 GB, more than [0-9.]+ GB \(this device.s largest buffer, CL_DEVICE_MAX_MEM_ALLOC_SIZE\)|CL_DEVICE_GLOBAL_MEM_SIZE\)).*\[train\] batch_size = [0-9]+ would fit$" <<<"$err" && [ "$(wc -l <<<"$err")" = 1 ]' \
    "the memory check names the buffer, the layer, the limit and a batch that fits: $err"
check '[ ! -e bad ]' "a refused run made a run folder: $(ls bad 2>&1)"

test_end
