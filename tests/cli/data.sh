#!/usr/bin/env bash
# data: other data than MNIST, and the console of a run, from the command line.
#
# - Fashion-MNIST (configs/fashion.ini, 3,000 training images, 2 epochs) on a
#   terminal (script(1) gives the run a pty): a live line per epoch, redrawn
#   in place, then the usual epoch line; the latent plot's legend, latent.csv
#   and the run page show the ten classes by name. The same run through a
#   pipe prints exactly the lines of a run without live lines, with the same
#   losses; --quiet on a terminal prints the folder alone.
# - .npy files that NumPy writes (np.save) from Fashion-MNIST's test set:
#   uint8 (N, 28, 28) with int64 labels, the same values as float32 images
#   of 14x56 (another shape, same values: the same losses bit for bit, other
#   picture sizes), as float32 (N, 784) items that are not images (no
#   pictures, said on the console and the page; `generate` refuses; `encode`
#   of a .npy gives latent.csv's codes), and without labels.
# - Every malformed .npy: exit 2, one line naming the key or file and the
#   fault, and no run folder (the data is read before anything else).
# - Colour images: a synthetic set of 3x8x8 uint8 images that NumPy saves as
#   (N, H, W, C) (the default [data] layout = nhwc) and as (N, C, H, W)
#   (layout = nchw): RGB pictures of the right size holding the data's
#   pixels, "image_channels": 3 in run.json, "3x8x8 images" on the page, the
#   same losses bit for bit from either layout, `generate` and `encode` in
#   colour; a layout the array contradicts and a 5-channel array exit 2 with
#   one line naming the file and [data] layout, and no run folder.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start data "$1" "$2"

fashion=/usr/share/datasets/fashion-mnist
if [ ! -f "$fashion/t10k-images-idx3-ubyte.gz" ]; then
    echo "FAIL: no Fashion-MNIST in $fashion: apt-get install dataset-fashion-mnist (scripts/setup.sh)"
    exit 1
fi
# Debian's python3, which python3-numpy serves (a python3 earlier on PATH,
# such as pyenv's, may not have it)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "FAIL: no NumPy for python3: apt-get install python3-numpy (scripts/setup.sh)"
    exit 1
fi

losses() { cut -d, -f1-3 "$1/loss.csv"; }

names=("T-shirt/top" Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot")

# ---- Fashion-MNIST on a terminal -------------------------------------------
fash=(train "$src/configs/fashion.ini" --set train.epochs=2 --set data.train_limit=3000
      --set output.root=runs --set output.recon_every=0)
{ printf '%q ' "$clae" "${fash[@]}"; echo '"$@"'; } > tty.cmd
script -qec "bash tty.cmd" /dev/null > tty.out 2>&1; rc=$?
check '[ $rc = 0 ]' "fashion on a terminal: exit $rc: $(tail -n 3 tty.out)"
run="$(tail -n 1 tty.out | tr -d '\r')"
check '[ -d "$run" ]' "fashion: the last line is the folder: '$run'"
# The live lines: "\repoch   1/2  400/3000 images  N img/s  ETA epoch T, run T", the
# images the device has finished, 8 steps of 50 at a time.
tr '\r' '\n' < tty.out > tty.lines
live='^epoch +[12]/2  [0-9]+/3000 images  [0-9]+ img/s  ETA epoch [0-9.hms]+, run [0-9.hms]+ *$'
for e in 1 2; do
    n="$(grep -Ec "^epoch +$e/2  [0-9]+/3000 images" tty.lines)"
    check '[ "$n" -ge 1 ]' "epoch $e: $n live lines on a terminal"
done
bad="$(grep -E '^epoch +[0-9]+/2  [0-9]+/' tty.lines | grep -Evc "$live")"
check '[ "$bad" = 0 ]' "every live line in the documented form ($bad not)"
counts="$(grep -Eo '^epoch +1/2  [0-9]+/3000' tty.lines | sed 's|.*  ||; s|/.*||' | tr '\n' ' ')"
prev=0 steps_ok=1
for c in $counts; do
    if [ $((c % 400)) != 0 ] || [ "$c" -ge 3000 ] || [ "$c" -le "$prev" ]; then steps_ok=0; fi
    prev=$c
done
check '[ "$steps_ok" = 1 ] && [ -n "$counts" ]' \
    "epoch 1's images done grow in steps of 400 (8 steps of 50), below 3,000: $counts"
# each live line is drawn over (carriage return), and wiped before the epoch line
check 'grep -q $'"'"'\r *\repoch   1/2  train '"'"' tty.out' "the live line is wiped before the epoch line"
check '! grep -E "images  " tty.out | grep -q "^epoch"' "no live line starts a line of its own"

# ---- what the run left: names in the legend, latent.csv, the page -----------
check 'grep -q "\"status\": \"completed\"" "$run/run.json"' "fashion run completed"
for i in "${!names[@]}"; do
    check 'grep -qF ">${names[$i]} (n=1000)</text>" "$run/latent.svg"' "legend: ${names[$i]} (n=1000)"
    check 'grep -qF "<td class=\"num\">$i</td><td>${names[$i]}</td>" "$run/index.html"' \
        "the run page names label $i ${names[$i]}"
done
check '[ "$(grep -c "class=\"key\"" "$run/latent.svg")" = 11 ]' "legend: 10 classes and the centroid"
check '[ "$(tail -n +2 "$run/latent.csv" | cut -d, -f2 | sort -n | uniq -c | awk "\$1 == 1000" | wc -l)" = 10 ]' \
    "latent.csv: 1,000 test images of each of the 10 labels"
check '[ "$(png_size "$run/latent.png")" = "640 480" ] && [ "$(png_size "$run/manifold.png")" = "420 420" ]' \
    "latent.png 640x480, manifold.png 420x420"
check 'grep -qx "label_names = T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot" "$run/config.ini" &&
       grep -qx "classes = all" "$run/config.ini" && grep -qx "format = idx" "$run/config.ini"' \
    "config.ini records format, classes and label_names"
check 'grep -q "<tr><th>data</th><td>28x28 images</td></tr>" "$run/index.html"' "the page: 28x28 images"

# ---- the same run through a pipe, and --quiet on a terminal ----------------
"$clae" "${fash[@]}" > pipe.out 2> pipe.err; rc=$?
check '[ $rc = 0 ]' "fashion through a pipe: exit $rc $(cat pipe.err)"
check '! grep -q $'"'"'\r'"'"' pipe.out && ! grep -q "images  .* ETA epoch" pipe.out' "a pipe gets no live line"
# exactly the lines of a run: header, one line per epoch, done, folder
want=('^device [0-9]+:[0-9]+: .+ / .+ \(.+\)$' '^kernels: .+ \(.+\)$' '^tuning: .+$'
      '^data: 3000 training, 10000 test images; model 784-500-300-2-300-500-784 \(1087586 parameters\); results: runs/[0-9]{8}-[0-9]{6}-fashion(-[0-9]+)?$'
      '^data on the device: resident: the data \(10\.2 MB as bytes\) fit \[data\] device_memory = auto \([0-9.]+ [KMG]B: 1/2 of [0-9.]+ [KMG]B\)$'
      '^warm-up \(kernel compilation\): [0-9]+\.[0-9]s$'
      '^epoch   1/2  train [0-9]\.[0-9]{6}  test [0-9]\.[0-9]{6} +[0-9]+ img/s  elapsed [0-9.hms]+  ETA [0-9.hms]+$'
      '^epoch   2/2  train [0-9]\.[0-9]{6}  test [0-9]\.[0-9]{6} +[0-9]+ img/s  elapsed [0-9.hms]+  ETA [0-9.hms]+$'
      '^done: test loss [0-9]\.[0-9]{6} after 2 epochs, [0-9]+ img/s$' '^runs/[0-9]{8}-[0-9]{6}-fashion(-[0-9]+)?$')
mapfile -t got < pipe.out
check '[ "${#got[@]}" = "${#want[@]}" ]' "a pipe gets ${#want[@]} lines: ${#got[@]}: $(cat pipe.out)"
for i in "${!want[@]}"; do
    check '[[ "${got[$i]:-}" =~ ${want[$i]} ]]' "pipe line $((i + 1)): '${got[$i]:-}' !~ ${want[$i]}"
done
run2="$(tail -n 1 pipe.out)"
check '[ "$(losses "$run" | wc -l)" = 3 ] && [ "$(losses "$run")" = "$(losses "$run2")" ]' \
    "the live line changes no loss (terminal vs pipe)"
script -qec "bash tty.cmd --quiet" /dev/null > quiet.out 2>&1; rc=$?
check '[ $rc = 0 ] && [ "$(wc -l < quiet.out)" = 1 ] && [ -d "$(tr -d "\r\n" < quiet.out)" ]' \
    "--quiet on a terminal: the folder alone: $(cat -A quiet.out | head -3)"

# ---- .npy files that NumPy wrote --------------------------------------------
mkdir npy
"$py" - "$fashion" npy <<'EOF'
import gzip, sys
import numpy as np
src, out = sys.argv[1], sys.argv[2]
def idx(name, off):
    with gzip.open(f"{src}/{name}.gz", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=off)
x = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28)
y = idx("t10k-labels-idx1-ubyte", 8).astype(np.int64)
tr, te = slice(0, 1000), slice(1000, 1500)
np.save(f"{out}/train_x.npy", x[tr])
np.save(f"{out}/train_y.npy", y[tr])
np.save(f"{out}/test_x.npy", x[te])
np.save(f"{out}/test_y.npy", y[te].astype(np.uint8).reshape(-1, 1))  # another integer type, (N, 1)
# float32 as clae scales uint8 (x * (1/255) in single precision): the same values
f = x.astype(np.float32) * (np.float32(1) / np.float32(255))
np.save(f"{out}/train_f.npy", f[tr].reshape(-1, 14, 56))
np.save(f"{out}/test_f.npy", f[te].reshape(-1, 14, 56))
np.save(f"{out}/train_d.npy", f[tr].reshape(-1, 784))
np.save(f"{out}/test_d.npy", f[te].reshape(-1, 784))
# malformed
np.save(f"{out}/f64.npy", f[tr].astype(np.float64))
np.save(f"{out}/complex.npy", f[tr].astype(np.complex64))
np.save(f"{out}/fortran.npy", np.asfortranarray(x[tr]))
np.save(f"{out}/big.npy", f[tr].astype(">f4"))
np.save(f"{out}/labels_short.npy", y[0:999])
np.save(f"{out}/labels_float.npy", y[tr].astype(np.float32))
np.save(f"{out}/labels_300.npy", np.where(np.arange(1000) == 7, 300, y[tr]))
np.save(f"{out}/test_27.npy", x[te][:, :27, :])
np.save(f"{out}/nan.npy", np.where(np.arange(784).reshape(28, 28) == 100, np.float32("nan"), f[tr]))
EOF
check '[ -s npy/train_x.npy ] && [ -s npy/nan.npy ]' "NumPy wrote the fixtures"
head -c 5000 npy/train_x.npy > npy/cut.npy
printf 'index,label\n0,1\n' > npy/text.npy

# a tiny run over [data] dir = npy; $1 = images suffix, then --set options
npy_run() {
    local name="$1"; shift
    cat > "$name.ini" <<EOF
[data]
dir = npy
format = npy
label_names = T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot
[model]
encoder = 32
[train]
epochs = 2
learning_rate = 1e-3
[output]
root = npyruns
recon_every = 1
EOF
    "$clae" train "$name.ini" "$@" > "$name.out" 2> "$name.err"
}
files() { echo "--set data.train_images=$1 --set data.test_images=$2 --set data.train_labels=$3 --set data.test_labels=$4"; }

# uint8 (N, 28, 28) images, int64 and (N, 1) uint8 labels
npy_run u8 $(files train_x.npy test_x.npy train_y.npy test_y.npy); rc=$?
u8="$(tail -n 1 u8.out)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$u8/run.json" && [ "$(losses "$u8" | wc -l)" = 3 ]' \
    "npy uint8: exit $rc $(cat u8.err)"
check 'grep -q "^data: 1000 training, 500 test images; model 784-32-2-32-784" u8.out' "npy uint8: $(grep ^data u8.out)"
check '[ "$(png_size "$u8/recon-epoch-002.png")" = "582 118" ] && [ "$(png_size "$u8/manifold.png")" = "420 420" ]' \
    "npy uint8: recon 582x118, manifold 420x420"
check '[ "$(tail -n +2 "$u8/latent.csv" | wc -l)" = 500 ] && grep -qF ">Ankle boot (n=" "$u8/latent.svg"' \
    "npy uint8: 500 latent rows, names in the legend"
check 'awk -F, "NR > 1 && (\$2 == \"\" || \$2 > 9) { bad = 1 } END { exit bad }" "$u8/latent.csv"' "npy uint8: labels 0-9"

# float32 images of 14x56: the same values, so the same losses; pictures of 14x56
npy_run f32 $(files train_f.npy test_f.npy train_y.npy test_y.npy); rc=$?
f32="$(tail -n 1 f32.out)"
check '[ $rc = 0 ] && [ "$(losses "$u8")" = "$(losses "$f32")" ]' \
    "float32 (x / 255 in single precision) trains exactly as uint8: $(cat f32.err)"
check '[ "$(png_size "$f32/recon-epoch-002.png")" = "1142 62" ] && [ "$(png_size "$f32/manifold.png")" = "840 210" ]' \
    "14x56 images: recon $(png_size "$f32/recon-epoch-002.png") (want 1142 62), manifold $(png_size "$f32/manifold.png") (want 840 210)"
"$clae" generate "$f32" -o g.png --grid 4 > gen.out 2>&1; rc=$?
check '[ $rc = 0 ] && [ "$(png_size g.png)" = "224 56" ]' "generate on 14x56: $rc $(cat gen.out) $(png_size g.png)"

# float32 (N, 784): items that are not images
npy_run flat $(files train_d.npy test_d.npy train_y.npy test_y.npy); rc=$?
flat="$(tail -n 1 flat.out)"
check '[ $rc = 0 ] && [ "$(losses "$u8")" = "$(losses "$flat")" ]' "(N, 784) trains as the images did: $(cat flat.err)"
check 'grep -q "^data: 1000 training, 500 test items;" flat.out && grep -q "^pictures: none: the items are 784 values each, not images" flat.out' \
    "the console says there are no pictures: $(grep -E "^(data|pictures)" flat.out)"
check '! ls "$flat" | grep -q "recon-epoch\|manifold" && [ -s "$flat/latent.png" ]' "no recon grid or manifold; latent.png drawn"
check 'grep -q "\"image_rows\": 0" "$flat/run.json" && grep -q "\"input_values\": 784" "$flat/run.json"' "run.json: 784 values, no image"
check 'grep -q "784 values per item, not images" "$flat/index.html" && grep -q "so no manifold is drawn" "$flat/index.html"' \
    "the page says why there are no pictures"
{ printf '%q ' "$clae" train flat.ini $(files train_d.npy test_d.npy train_y.npy test_y.npy); echo; } > flat.cmd
script -qec "bash flat.cmd" /dev/null > flat-tty.out 2>&1; rc=$?
check '[ $rc = 0 ] && tr "\r" "\n" < flat-tty.out | grep -Eq "^epoch +[12]/2  [0-9]+/1000 items  [0-9]+ img/s"' \
    "items that are not images: the live line counts items: $rc"
expect 2 "784 values, not an image" generate "$flat" -o never.png
check '[ ! -e never.png ]' "generate wrote nothing"
"$clae" encode "$flat" npy/test_d.npy --labels npy/test_y.npy -o enc.csv 2> enc.err; rc=$?
check '[ $rc = 0 ] && [ "$(cut -d, -f1,2 enc.csv)" = "$(cut -d, -f1,2 "$flat/latent.csv")" ]' \
    "encode of a .npy: the rows and labels of latent.csv: $rc $(cat enc.err)"
check 'paste -d, enc.csv "$flat/latent.csv" | awk -F, "NR > 1 { for (j = 3; j <= 4; j++) { d = \$j - \$(j + 4); if (d < 0) d = -d
       if (d > 1e-5 + 1e-5 * (\$j < 0 ? -\$j : \$j)) bad = 1 } } END { exit bad }"' "encode of a .npy: latent.csv's codes"

# no labels: every item, an empty label column, one grey class
npy_run nolab $(files train_x.npy test_x.npy "" ""); rc=$?
nolab="$(tail -n 1 nolab.out)"
check '[ $rc = 0 ] && [ "$(tail -n +2 "$nolab/latent.csv" | cut -d, -f2 | sort -u)" = "" ]' "unlabelled: empty label column: $(cat nolab.err)"
check 'grep -qF ">unlabelled (n=500)</text>" "$nolab/latent.svg"' "unlabelled: one class in the legend"
expect 2 "[data] classes = 1,5 needs labels to filter by" train nolab.ini $(files train_x.npy test_x.npy "" "") --set data.classes=1,5

# ---- every malformed .npy: exit 2, one line, no run folder -------------------
before="$(ls npyruns | wc -l)"
bad_npy() { # bad_npy FRAGMENT FILES...
    local frag="$1"; shift
    expect 2 "$frag" train u8.ini $(files "$@")
}
bad_npy "[data] train_images: npy/text.npy: not a .npy file (no \\x93NUMPY magic" text.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/f64.npy: images of dtype '<f8'; expected uint8" f64.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/complex.npy: unsupported dtype '<c8'" complex.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/fortran.npy: Fortran-order data (fortran_order: True)" fortran.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/big.npy: dtype '>f4' is big-endian" big.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/train_x.npy has 1000 items but npy/labels_short.npy has 999 labels" train_x.npy test_x.npy labels_short.npy test_y.npy
bad_npy "npy/labels_float.npy: labels of dtype '<f4'; expected an integer type" train_x.npy test_x.npy labels_float.npy test_y.npy
bad_npy "npy/labels_300.npy: label 300 of item 7 is outside 0-255" train_x.npy test_x.npy labels_300.npy test_y.npy
bad_npy "the training items are 28x28 images with labels, the test items 27x28 images" train_x.npy test_27.npy train_y.npy test_y.npy
bad_npy "npy/cut.npy: truncated" cut.npy test_x.npy train_y.npy test_y.npy
bad_npy "npy/nan.npy: item 0 holds nan at position 100" nan.npy test_x.npy train_y.npy test_y.npy
bad_npy "[data] test_images: npy/none.npy: cannot open" train_x.npy none.npy train_y.npy test_y.npy
bad_npy "[data] format = npy needs [data] test_images" train_x.npy "" train_y.npy test_y.npy
expect 2 "has no name: [data] label_names has 3, for labels 0-2" train u8.ini $(files train_x.npy test_x.npy train_y.npy test_y.npy) \
    --set "data.label_names=a,b,c"
check '[ "$(ls npyruns | wc -l)" = "$before" ]' "no run folder for any of them"

# ---- colour images: (N, H, W, C) and (N, C, H, W) ----------------------------
mkdir colour
"$py" - colour <<'EOF'
import sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(15)
# 400 images of 8x8 RGB: a coloured square on a coloured ground, so that
# the channels differ; the label is the square's colour
n = 400
y = rng.integers(0, 3, n)
x = np.empty((n, 8, 8, 3), np.uint8)
x[:] = rng.integers(0, 256, (n, 1, 1, 3), dtype=np.uint8)
for i in range(n):
    r, c = rng.integers(0, 5, 2)
    x[i, r:r + 3, c:c + 3, :] = 0
    x[i, r:r + 3, c:c + 3, y[i]] = 255
tr, te = slice(0, 300), slice(300, 400)
np.save(f"{out}/train_nhwc.npy", x[tr])
np.save(f"{out}/test_nhwc.npy", x[te])
np.save(f"{out}/train_nchw.npy", np.ascontiguousarray(x[tr].transpose(0, 3, 1, 2)))
np.save(f"{out}/test_nchw.npy", np.ascontiguousarray(x[te].transpose(0, 3, 1, 2)))
np.save(f"{out}/train_y.npy", y[tr])
np.save(f"{out}/test_y.npy", y[te])
np.save(f"{out}/train_five.npy", np.zeros((300, 8, 8, 5), np.uint8))
EOF
check '[ -s colour/train_nhwc.npy ] && [ -s colour/train_five.npy ]' "NumPy wrote the colour fixtures"
# the colour type of a PNG (IHDR byte 25): 0 gray, 2 RGB, 6 RGBA
png_colour() { od -An -tu1 -j25 -N1 "$1" 2>/dev/null | tr -d ' '; }
colour_run() { # colour_run NAME LAYOUT (the files' suffix), then --set options
    local name="$1" suffix="$2"; shift 2
    cat > "$name.ini" <<EOF
[data]
dir = colour
format = npy
train_images = train_$suffix.npy
train_labels = train_y.npy
test_images = test_$suffix.npy
test_labels = test_y.npy
label_names = red, green, blue
[model]
encoder = 32
[train]
epochs = 2
learning_rate = 1e-3
[output]
root = colourruns
EOF
    "$clae" train "$name.ini" "$@" > "$name.out" 2> "$name.err"
}
colour_run nhwc nhwc; rc=$?
nhwc="$(tail -n 1 nhwc.out)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$nhwc/run.json" && [ "$(losses "$nhwc" | wc -l)" = 3 ]' \
    "colour (N, H, W, C): exit $rc $(cat nhwc.err)"
check 'grep -q "^data: 300 training, 100 test images; model 192-32-2-32-192" nhwc.out' "colour: $(grep ^data nhwc.out)"
check 'grep -q "\"image_channels\": 3" "$nhwc/run.json" && grep -q "\"image_rows\": 8" "$nhwc/run.json" &&
       grep -q "\"input_values\": 192" "$nhwc/run.json"' "run.json: image_channels 3, 8x8, 192 values"
# 10 originals over their reconstructions, each 8x8 drawn x2, a 2-pixel frame
for e in 001 002; do
    check '[ "$(png_size "$nhwc/recon-epoch-$e.png")" = "182 38" ] && [ "$(png_colour "$nhwc/recon-epoch-$e.png")" = 2 ]' \
        "recon-epoch-$e.png: $(png_size "$nhwc/recon-epoch-$e.png"), colour type $(png_colour "$nhwc/recon-epoch-$e.png") (want 182 38, RGB = 2)"
done
check '[ "$(png_size "$nhwc/manifold.png")" = "120 120" ] && [ "$(png_colour "$nhwc/manifold.png")" = 2 ]' \
    "manifold.png: $(png_size "$nhwc/manifold.png"), colour type $(png_colour "$nhwc/manifold.png") (want 120 120, RGB = 2)"
check '[ "$(tail -n +2 "$nhwc/latent.csv" | wc -l)" = 100 ] && grep -qF ">blue (n=" "$nhwc/latent.svg"' \
    "100 latent rows, names in the legend"
check 'grep -q "<tr><th>data</th><td>3x8x8 images</td></tr>" "$nhwc/index.html"' "the page: 3x8x8 images"
# the pixels are the data's: the grid's first cell is test image 0, in colour
PYTHONPATH="$cli_dir" "$py" - "$nhwc/recon-epoch-002.png" colour/test_nhwc.npy > pixels.out 2>&1 <<'EOF'
import sys
import numpy as np
from pngread import read_png
px = read_png(sys.argv[1])  # (H, W, 3)
want = np.load(sys.argv[2])[0]  # (8, 8, 3)
got = px[2:18:2, 2:18:2, :]     # the top-left cell, one pixel of each 2x2
print("same" if (got == want).all() else f"differ: {got[0, 0]} vs {want[0, 0]}")
EOF
check '[ "$(cat pixels.out)" = same ]' "recon grid: the first cell is test image 0, in colour: $(cat pixels.out)"

# the same images as (N, C, H, W) with layout = nchw: the same losses, bit for bit
colour_run nchw nchw --set data.layout=nchw; rc=$?
nchw="$(tail -n 1 nchw.out)"
check '[ $rc = 0 ] && [ "$(cut -d, -f1-3,6- "$nhwc/loss.csv")" = "$(cut -d, -f1-3,6- "$nchw/loss.csv")" ]' \
    "(N, C, H, W) with layout = nchw trains exactly as (N, H, W, C): $rc $(cat nchw.err)"
check 'grep -qx "layout = nchw" "$nchw/config.ini" && cmp -s "$nhwc/latent.csv" "$nchw/latent.csv"' \
    "config.ini records layout = nchw; the same latent.csv"

# generate and encode in colour
"$clae" generate "$nhwc" -o cg.png --grid 4 > cgen.out 2>&1; rc=$?
check '[ $rc = 0 ] && [ "$(png_size cg.png)" = "32 32" ] && [ "$(png_colour cg.png)" = 2 ]' \
    "generate in colour: $rc $(cat cgen.out) $(png_size cg.png)"
"$clae" encode "$nchw" colour/test_nchw.npy --labels colour/test_y.npy -o cenc.csv 2> cenc.err; rc=$?
check '[ $rc = 0 ] && [ "$(cut -d, -f1,2 cenc.csv)" = "$(cut -d, -f1,2 "$nchw/latent.csv")" ]' \
    "encode reads (N, C, H, W) in the run's layout: $rc $(cat cenc.err)"
check 'paste -d, cenc.csv "$nchw/latent.csv" | awk -F, "NR > 1 { for (j = 3; j <= 4; j++) { d = \$j - \$(j + 4); if (d < 0) d = -d
       if (d > 1e-5 + 1e-5 * (\$j < 0 ? -\$j : \$j)) bad = 1 } } END { exit bad }"' "encode in colour: latent.csv's codes"

# a layout the array contradicts, 5 channels: exit 2, one line, no run folder
before="$(ls colourruns | wc -l)"
expect 2 "colour/train_nchw.npy: shape (300, 3, 8, 8) looks like (N, C, H, W), 3 channels of 8x8, but [data] layout = nhwc reads a 4-D array as (N, H, W, C), 8 channels: set [data] layout = nchw" \
    train nchw.ini --set data.layout=nhwc
expect 2 "colour/train_nhwc.npy: shape (300, 8, 8, 3) looks like (N, H, W, C), 3 channels of 8x8, but [data] layout = nchw reads a 4-D array as (N, C, H, W), 8 channels: set [data] layout = nhwc" \
    train nhwc.ini --set data.layout=nchw
expect 2 "colour/train_five.npy: shape (300, 8, 8, 5): images of 5 channels as [data] layout = nhwc reads them (axis 3); clae takes 1 (gray), 3 (RGB) or 4 (RGBA) channels" \
    train nhwc.ini --set data.train_images=train_five.npy
for args in "nchw.ini --set data.layout=nhwc" "nhwc.ini --set data.train_images=train_five.npy"; do
    # shellcheck disable=SC2086
    "$clae" train $args > /dev/null 2> one.err
    check '[ "$(wc -l < one.err)" = 1 ]' "one line: $(cat one.err)"
done
check '[ "$(ls colourruns | wc -l)" = "$before" ]' "no run folder for a colour data error"

test_end
