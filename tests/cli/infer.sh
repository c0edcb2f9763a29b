#!/usr/bin/env bash
# infer: using a trained model from the command line, on real MNIST. One tiny
# run (digits 1,5,6, 500 training images, 2 epochs), then what a user runs and
# looks at: its manifold.png; `clae encode` of the whole test file (every
# digit) whose codes for the run's digits equal the run's own latent.csv;
# `clae decode` and `clae generate` pictures of the documented sizes (read
# from the PNG header); and the errors: wrong number of coordinates, a run
# without model.ckpt, an image file of the wrong size, a label count that
# does not match, no latent.csv for --range auto, bad options.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start infer "$1" "$2"


need_mnist
images="$mnist/t10k-images-idx3-ubyte.gz" labels="$mnist/t10k-labels-idx1-ubyte.gz"

tiny_config base.ini r
"$clae" train base.ini --quiet > train.txt 2>&1
run="$(tail -n 1 train.txt)"
if ! grep -q '"status": "completed"' "$run/run.json" 2>/dev/null; then
    echo "FAIL: the training run did not complete: $(cat train.txt)"; exit 1
fi

# ---- the run's own manifold.png: 15 x 15 images of 28x28 ----
check '[ "$(png_size "$run/manifold.png")" = "420 420" ]' "manifold.png: $(png_size "$run/manifold.png")"

# ---- encode: every test image, then the run's digits against latent.csv ----
"$clae" encode "$run" "$images" --labels "$labels" -o z.csv 2> enc.err; rc=$?
check '[ $rc = 0 ] && [ ! -s enc.err ]' "encode: exit $rc: $(cat enc.err)"
check '[ "$(head -n 1 z.csv)" = "index,label,z1,z2" ]' "encode header: $(head -n 1 z.csv)"
check '[ "$(tail -n +2 z.csv | wc -l)" = 10000 ]' "encode rows: $(tail -n +2 z.csv | wc -l)"
check 'awk -F, "NR > 1 && (NF != 4 || \$1 != NR - 2 || \$2 !~ /^[0-9]\$/) { bad = 1 } END { exit bad }" z.csv' \
    "encode rows: index 0.. in order, a digit label, 2 codes"
# latent.csv holds the test images of digits 1, 5 and 6 in file order: the
# same images' rows of z.csv, taken in order, must have the same label and
# the same codes (training encoded them in batches of 50, encode in batches
# of 256: allow 1e-5 relative + 1e-6 for another SGEMM kernel choice)
awk -F, 'NR > 1 && ($2 == 1 || $2 == 5 || $2 == 6)' z.csv > mine.csv
tail -n +2 "$run/latent.csv" > theirs.csv
check '[ "$(wc -l < mine.csv)" = "$(wc -l < theirs.csv)" ] && [ "$(wc -l < theirs.csv)" -gt 2000 ]' \
    "digits 1,5,6: $(wc -l < mine.csv) encoded rows vs $(wc -l < theirs.csv) latent.csv rows"
cmp_out="$(paste -d, mine.csv theirs.csv | awk -F, '
    function abs(v) { return v < 0 ? -v : v }
    { if ($2 != $6) labels++
      for (j = 3; j <= 4; j++) { d = abs($j - $(j + 4)) / (1e-5 * abs($(j + 4)) + 1e-6)
                                 if (d > worst) worst = d; if ($j == $(j + 4)) same++ } }
    END { printf "%d %g %d\n", labels, worst, same }')"
read -r bad_labels worst same <<<"$cmp_out"
echo "encode vs latent.csv: $same of $((2 * $(wc -l < theirs.csv))) codes print the same; worst $worst of the tolerance"
check '[ "$bad_labels" = 0 ] && awk -v w="$worst" "BEGIN { exit !(w <= 1) }"' \
    "encode vs latent.csv: $bad_labels label mismatches, worst $worst x tolerance"
# stdout by default, label column empty without --labels
out="$("$clae" encode "$run" "$images" 2>/dev/null | sed -n 2p)"
check '[ "$(cut -d, -f1-2 <<<"$out")" = "0," ] && [ "$(cut -d, -f3- <<<"$out")" = "$(sed -n 2p z.csv | cut -d, -f3-)" ]' \
    "encode to stdout without labels: $out"
# a plain (not gzip) copy works too
gzip -dc "$images" > t10k-images-idx3-ubyte
check '"$clae" encode "$run" t10k-images-idx3-ubyte | cmp -s - <(awk -F, -v OFS=, "NR > 1 { \$2 = \"\" } 1" z.csv)' \
    "encode of the plain IDX file differs from the gzip one"

# ---- decode: one point, x4 ----
out="$("$clae" decode "$run" 0.5,-1 --scale 4 -o d.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size d.png)" = "112 112" ]' "decode: $rc $out; $(png_size d.png)"
check 'grep -qF "wrote d.png (112x112)" <<<"$out"' "decode prints what it wrote: $out"
"$clae" decode "$run" -1.5,2 --scale 1 -o one.png >/dev/null 2>&1
check '[ "$(png_size one.png)" = "28 28" ]' "decode of a point starting with '-', --scale 1: $(png_size one.png)"
expect 2 "has 3 numbers, but the model of $run has K = 2 latent values: give exactly 2" decode "$run" 1,2,3 -o x.png
expect 2 "has 1 number, but" decode "$run" 1 -o x.png
expect 2 "expected numbers separated by commas" decode "$run" 1,abc -o x.png
expect 2 "missing -o FILE.png" decode "$run" 1,2
expect 2 "--scale '0': expected a whole number 1..32" decode "$run" 1,2 -o x.png --scale 0
check '[ ! -e x.png ]' "a failed decode left x.png"

# ---- generate ----
out="$("$clae" generate "$run" --grid 7 -o g.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size g.png)" = "196 196" ]' "generate --grid 7: $rc $out; $(png_size g.png)"
check 'grep -Eq "^wrote g.png \(196x196\): z1 [-0-9.e]+\.\.[-0-9.e]+ left to right, z2 " <<<"$out"' "generate prints its ranges: $out"
"$clae" generate "$run" --range -3:3 --grid 2 -o g2.png >/dev/null 2>&1
check '[ "$(png_size g2.png)" = "56 56" ]' "generate --range -3:3 --grid 2: $(png_size g2.png)"
# the defaults give the run's own picture (auto range from latent.csv: the
# same codes up to their 7 digits, so the bounds may differ in the last bit)
"$clae" generate "$run" -o m.png >/dev/null 2>&1
check '[ "$(png_size m.png)" = "420 420" ]' "generate defaults: $(png_size m.png)"
expect 2 "--grid '1': expected a whole number 2..100" generate "$run" --grid 1 -o x.png
expect 2 "--range '3:-3': expected auto or LO:HI with LO < HI" generate "$run" --range 3:-3 -o x.png
expect 2 "missing -o FILE.png" generate "$run"
expect 2 "unknown option '--scale'" generate "$run" --scale 2 -o x.png
mkdir nolatent && cp "$run/config.ini" "$run/model.ckpt" nolatent/
expect 2 "nolatent/latent.csv: no such file: --range auto takes its bounds" generate nolatent -o x.png
"$clae" generate nolatent --range -2:2 --grid 3 -o g3.png >/dev/null 2>&1
check '[ "$(png_size g3.png)" = "84 84" ]' "generate --range without latent.csv (K = 2): $(png_size g3.png)"

# ---- errors ----
mkdir nockpt && cp "$run/config.ini" "$run/latent.csv" nockpt/
expect 2 "nockpt/model.ckpt: no such file: the run has no checkpoint" encode nockpt "$images"
expect 2 "clae train --resume nockpt" decode nockpt 0,0 -o x.png
expect 2 "nowhere: no such run folder" generate nowhere -o x.png
expect 2 "not a run folder: it has no config.ini" encode "$work" "$images"
# 2 images of 4x4
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00\x04' > small.idx
head -c 32 /dev/zero >> small.idx
expect 2 "small.idx: 4x4 images, but the model of $run takes 784 inputs (28x28 images)" \
    encode "$run" small.idx
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x01\x05\x06' > three.idx
expect 2 "$images has 10000 items but three.idx has 3 labels" encode "$run" "$images" --labels three.idx
expect 2 "missing IMAGES" encode "$run"
expect 2 "nothing.gz: cannot open" encode "$run" nothing.gz
expect 2 "unknown option '--grid'" encode "$run" "$images" --grid 3
expect 2 "--device '': expected P:D" encode "$run" "$images" --device ""
err="$(CLAE_DEVICE=" " "$clae" encode "$run" "$images" 2>&1 >/dev/null)"; rc=$?
check '[ $rc = 2 ] && grep -qF "CLAE_DEVICE '"'"' '"'"': expected P:D" <<<"$err"' "CLAE_DEVICE=' ': $rc $err"
err="$(CLAE_DEVICE=7:7 "$clae" decode "$run" 0,0 -o x.png 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "available:" <<<"$err"' "CLAE_DEVICE=7:7: $rc $err"
check '"$clae" encode --help | grep -q -- "--labels LABELS" && "$clae" decode --help | grep -q -- "--scale S" &&
       "$clae" generate --help | grep -q -- "--range LO:HI"' "--help of encode, decode, generate"
check '"$clae" --help | grep -q "generate RUN"' "clae --help lists generate"

test_end
