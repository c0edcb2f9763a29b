#!/usr/bin/env bash
# plot: `clae plot` on a fixed run folder (written here: a VAE's loss.csv of
# 12 epochs with its KL columns, a latent.csv of 300 codes in three labelled
# clusters, a config.ini naming the labels): the latent scatter and the loss
# curves as PNG, SVG and PDF, the sizes, the SVG as XML (Python's parser)
# with the axis titles, tick labels and legend keys as <text>, the same bytes
# twice, the SVG in headless Chromium against clae's own PNG of the same
# picture, and the errors.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start plot "$1"

# Debian's python3, which python3-numpy serves (a python3 earlier on PATH,
# such as pyenv's, may not have it)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" -c 'import numpy' 2>/dev/null || { echo "FAIL: no NumPy for $py: apt-get install python3-numpy (scripts/setup.sh)"; exit 1; }

run="$work/results/20260101-000000-fixed"
mkdir -p "$run"
cat > "$run/config.ini" <<'EOF'
[data]
digits = 1,5,6
label_names = zero,one,two,three,four,five,six,seven,eight,nine
[model]
kind = vae
[output]
name = fixed-vae
EOF
{
    echo "epoch,train_loss,test_loss,seconds,images_per_second,learning_rate,train_recon,train_kl,test_recon,test_kl"
    awk 'BEGIN { for (e = 1; e <= 12; e++) {
        tr = 0.2 * exp(-e / 3) + 0.03; te = tr * 1.05; ktr = 4 + 6 * (1 - exp(-e / 2)); kte = ktr * 1.02;
        printf "%d,%.6f,%.6f,1.5,9000,0.001,%.6f,%.6f,%.6f,%.6f\n", e, tr, te, tr - 0.001 * ktr, ktr, te - 0.001 * kte, kte } }'
} > "$run/loss.csv"
{
    echo "index,label,z1,z2"
    awk 'BEGIN { srand(7); split("1 5 6", lab, " ");
        for (i = 0; i < 300; i++) { c = i % 3; a = 6.2831853 * rand(); r = sqrt(-2 * log(1 - rand()));
            printf "%d,%d,%.6f,%.6f\n", i, lab[c + 1], 3 * c - 3 + r * cos(a), (c == 1 ? 2 : -1) + r * sin(a) } }'
} > "$run/latent.csv"

# --- the pictures ------------------------------------------------------------------
for what in latent loss; do
    for ext in png svg pdf; do
        out="$("$clae" plot "$run" $what -o "$what.$ext" 2>err.txt)"; rc=$?
        check '[ "$rc" -eq 0 ] && [ ! -s err.txt ]' "clae plot $what -o $what.$ext -> $rc $(cat err.txt)"
        check '[ -s "$what.$ext" ]' "$what.$ext written"
    done
done
grep -qx "wrote again.png (300 points, z1 and z2)" <<<"$("$clae" plot "$run" -o again.png)" && ok \
    || bad "plot's message"
check '[ "$(png_size latent.png)" = "640 480" ]' "latent.png is $(png_size latent.png), want 640 480"
check '[ "$(png_size loss.png)" = "640 680" ]' "loss.png (a vae: two panels) is $(png_size loss.png), want 640 680"
check '[ "$(head -c 5 latent.pdf)" = "%PDF-" ] && [ "$(head -c 5 loss.pdf)" = "%PDF-" ]' "PDF files"
check 'cmp -s latent.png again.png' "the same PNG bytes twice"
"$clae" plot "$run" -o again.svg > /dev/null && check 'cmp -s latent.svg again.svg' "the same SVG bytes twice"

# the SVGs: XML, the picture's size, and the text a reader sees as text
"$py" - latent.svg loss.svg > svg.txt 2>&1 <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    print(path, "size", root.get("width"), root.get("height"))
    for t in root.iter("{http://www.w3.org/2000/svg}text"):
        print(path, t.get("class"), t.text)
EOF
rc=$? # (before check: its message's $(...) would reset $?)
check '[ $rc -eq 0 ]' "python3 parses both SVGs: $(tail -n 3 svg.txt)"
has() { grep -qxF "$1" svg.txt && ok || bad "SVG text '$1' missing: $(cat svg.txt | head -40)"; }
has "latent.svg size 640px 480px"
has "latent.svg title fixed-vae"
has "latent.svg xlabel z1"
has "latent.svg ylabel z2"
has "latent.svg key one (n=100)"
has "latent.svg key five (n=100)"
has "latent.svg key six (n=100)"
has "latent.svg key centroid"
has "loss.svg size 640px 680px"
has "loss.svg title Loss per epoch"
has "loss.svg title KL term per epoch"
has "loss.svg ylabel loss (log scale)"
has "loss.svg ylabel KL"
has "loss.svg xtick 12"
check '[ "$(grep -c "^loss.svg xlabel epoch$" svg.txt)" = 2 ]' "two epoch axes"
check '[ "$(grep -c "^latent.svg xtick " svg.txt)" -ge 3 ] && [ "$(grep -c "^latent.svg ytick " svg.txt)" -ge 3 ]' \
    "tick labels as text"

# --- Chromium draws the SVG as clae drew the PNG ------------------------------------
chromium="${CHROMIUM:-}"
for c in chromium chromium-browser google-chrome; do
    [ -n "$chromium" ] && break
    command -v "$c" > /dev/null && chromium="$(command -v "$c")"
done
if [ -z "$chromium" ]; then
    test_end || exit 1
    skip "no chromium binary on PATH (Debian: apt-get install chromium; or set CHROMIUM)"
fi
# A page that shows the SVG at its own size, nothing else; Chromium's
# screenshot of it against clae's PNG: pixels that differ by more than 64 in
# a channel (text rasterised by another engine, anti-aliasing) stay few.
for what in latent loss; do
    h=$([ $what = latent ] && echo 480 || echo 680)
    printf '<!DOCTYPE html><html><body style="margin:0"><img src="%s.svg"></body></html>\n' "$what" > "$what.html"
    timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$work/profile" --force-device-scale-factor=1 --window-size=640,$h \
        --screenshot="$work/$what-chromium.png" "file://$work/$what.html" > chromium-$what.log 2>&1
    check '[ "$(png_size "$what-chromium.png")" = "640 $h" ]' "Chromium's screenshot of $what.svg: $(png_size "$what-chromium.png" 2>&1) ($(tail -n 3 chromium-$what.log))"
    PYTHONPATH="$cli_dir" "$py" - "$what.png" "$what-chromium.png" > diff-$what.txt 2>&1 <<'EOF'
import sys
import numpy as np
from pngread import read_png
a = read_png(sys.argv[1])[:, :, :3].astype(np.int32)
b = read_png(sys.argv[2])[:, :, :3].astype(np.int32)
assert a.shape == b.shape, (a.shape, b.shape)
h1, w1 = a.shape[:2]
off = int((np.abs(a - b).max(axis=2) > 64).sum())
print("%.2f%% of pixels differ" % (100.0 * off / (w1 * h1)))
sys.exit(0 if off <= 0.02 * w1 * h1 else 1)
EOF
    rc=$?
    check '[ $rc -eq 0 ]' "Chromium's $what.svg against clae's $what.png: $(cat diff-$what.txt | tail -n 2)"
    echo "$what: Chromium's SVG vs clae's PNG: $(tail -n 1 diff-$what.txt)"
done

# --- errors -------------------------------------------------------------------------
expect 2 "exists; --force replaces it" plot "$run" -o latent.png
"$clae" plot "$run" -o latent.png --force > /dev/null && ok || bad "--force replaces"
expect 2 "ends in .png, .svg or .pdf" plot "$run" -o latent.jpg
expect 2 "expected latent or loss" plot "$run" kl -o x.png
expect 2 "missing -o FILE" plot "$run"
expect 2 "not a run folder" plot "$work/nowhere" -o x.png
mkdir empty
expect 2 "latent.csv: no such file" plot empty -o x.png
expect 2 "loss.csv" plot empty loss -o x.png
expect 2 "cannot write there" plot "$run" -o "$work/no/such/dir/x.svg"
printf 'index,label,z1,z2\n0,1,0.5\n' > empty/latent.csv
expect 2 "latent.csv:2: expected index,label and 2 finite numbers" plot empty -o bad.png
check '[ ! -e bad.png ] && [ -z "$(ls | grep "\.tmp")" ]' "nothing half-written"
"$clae" --help | grep -q "plot RUN \[latent|loss\]" && ok || bad "clae --help lists plot"
test_end
