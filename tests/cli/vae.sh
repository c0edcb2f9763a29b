#!/usr/bin/env bash
# vae: the variational autoencoder end to end on real MNIST, as a user runs
# it. A 2-epoch vae run of digits 1, 5, 6 (the tiny config with [model]
# kind = vae): exit 0, a test loss that decreases, loss.csv's recon and KL
# columns finite and adding up to the losses, config.ini and model.ckpt
# (format version 3, kind 1) saying vae, latent.csv of the means (equal to
# `clae encode`); `clae generate --prior` and `--samples` pictures of the
# documented sizes, the samples reproducible by seed; their bad
# combinations and an autoencoder's run refused with the reason; a
# checkpoint of the other kind refused; both keys as sweep axes (a job with
# kl_weight 0.5 whose losses weigh its KL terms by 0.5); and SIGINT then
# --resume giving the same losses, terms included, as an uninterrupted run.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start vae "$1" "$2"

# The u32 little-endian at byte offset $2 of file $1.
u32() { od -An -tu4 -j"$2" -N4 --endian=little "$1" | tr -d ' '; }

need_mnist
images="$mnist/t10k-images-idx3-ubyte.gz" labels="$mnist/t10k-labels-idx1-ubyte.gz"
tiny_config base.ini r
vae=(--set model.kind=vae)

# ---- a 2-epoch vae run ----
"$clae" train base.ini "${vae[@]}" --quiet > train.txt 2>&1; rc=$?
run="$(tail -n 1 train.txt)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$run/run.json"' "vae run: exit $rc: $(cat train.txt)"
check 'grep -qx "kind = vae" "$run/config.ini" && grep -qx "kl_weight = 1" "$run/config.ini"' \
    "config.ini records kind = vae and kl_weight = 1"
check 'grep -q "\"model.kind\": \"vae\"" "$run/run.json" && grep -q "\"train.kl_weight\": \"1\"" "$run/run.json"' \
    "run.json's config records kind and kl_weight"
check 'grep -q "\"overrides\": \"model.kind=vae\"" "$run/run.json"' "run.json records the override"
check '[ "$(head -n 1 "$run/loss.csv")" = "epoch,train_loss,test_loss,seconds,images_per_second,learning_rate,train_recon,train_kl,test_recon,test_kl" ]' \
    "loss.csv header: $(head -n 1 "$run/loss.csv")"
check '[ "$(tail -n +2 "$run/loss.csv" | wc -l)" = 2 ]' "loss.csv rows: $(cat "$run/loss.csv")"
# every term finite and positive; the losses are recon + 1 x KL (printed with
# 9 digits: 1e-6 relative); the test loss falls from epoch 1 to 2
check 'awk -F, "
    function abs(v) { return v < 0 ? -v : v }
    NR == 1 { next }
    { for (i = 2; i <= 10; i++) if (\$i !~ /^[0-9.e+-]+\$/ || !(\$i > 0)) bad = 1
      if (abs(\$2 - (\$7 + \$8)) > 1e-6 * \$2 || abs(\$3 - (\$9 + \$10)) > 1e-6 * \$3) bad = 1
      test[NR - 1] = \$3 }
    END { exit !(bad == 0 && test[2] < test[1]) }" "$run/loss.csv"' \
    "loss.csv: finite positive terms adding up, test loss falling: $(cat "$run/loss.csv")"
# model.ckpt: version 3; 784-64-2-64-784 has L = 4, so the kind is at 96 + 8 L = 128
check '[ "$(u32 "$run/model.ckpt" 8)" = 3 ] && [ "$(u32 "$run/model.ckpt" 128)" = 1 ]' \
    "model.ckpt: version $(u32 "$run/model.ckpt" 8), kind $(u32 "$run/model.ckpt" 128)"
# latent.csv holds the means: 2985 test images of 1, 5, 6 with finite codes,
# the same as `clae encode` gives them (batches of 50 there, 256 here: 1e-5
# relative + 1e-6, as in the infer test)
check '[ "$(head -n 1 "$run/latent.csv")" = "index,label,z1,z2" ] && [ "$(tail -n +2 "$run/latent.csv" | wc -l)" = 2985 ]' \
    "latent.csv: $(head -n 2 "$run/latent.csv")"
"$clae" encode "$run" "$images" --labels "$labels" -o z.csv 2> enc.err
awk -F, 'NR > 1 && ($2 == 1 || $2 == 5 || $2 == 6)' z.csv > mine.csv
tail -n +2 "$run/latent.csv" > theirs.csv
worst="$(paste -d, mine.csv theirs.csv | awk -F, '
    function abs(v) { return v < 0 ? -v : v }
    { if ($2 != $6 || NF != 8) { print 1e9; exit }
      for (j = 3; j <= 4; j++) { d = abs($j - $(j + 4)) / (1e-5 * abs($(j + 4)) + 1e-6); if (d > w) w = d } }
    END { printf "%g\n", w }')"
check '[ "$(wc -l < mine.csv)" = 2985 ] && awk -v w="$worst" "BEGIN { exit !(w <= 1) }"' \
    "encode vs latent.csv (the means): worst $worst x tolerance; $(cat enc.err)"

# ---- generate: the prior's manifold and random draws ----
out="$("$clae" generate "$run" --prior -o prior.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size prior.png)" = "420 420" ]' "generate --prior: $rc $out; $(png_size prior.png)"
check 'grep -qF "wrote prior.png (420x420): the N(0, 1) quantiles -1.83391..1.83391 of z1" <<<"$out"' \
    "generate --prior says where its points are: $out"
"$clae" generate "$run" --prior --grid 4 -o prior4.png >/dev/null 2>&1
check '[ "$(png_size prior4.png)" = "112 112" ]' "generate --prior --grid 4: $(png_size prior4.png)"
out="$("$clae" generate "$run" --samples 10 -o s10.png 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(png_size s10.png)" = "112 84" ]' "generate --samples 10 (4 x 3 cells): $rc $out; $(png_size s10.png)"
check 'grep -qF "10 draws of z ~ N(0, I) (seed 1), 4 across, 3 down" <<<"$out"' "--samples output: $out"
"$clae" generate "$run" --samples 64 -o s64.png >/dev/null 2>&1
check '[ "$(png_size s64.png)" = "224 224" ]' "generate --samples 64: $(png_size s64.png)"
"$clae" generate "$run" --samples 1 -o s1.png >/dev/null 2>&1
check '[ "$(png_size s1.png)" = "28 28" ]' "generate --samples 1: $(png_size s1.png)"
# seeded: the run's seed by default, the same picture for the same seed, another for another
"$clae" generate "$run" --samples 10 --seed 1 -o s10-seed1.png >/dev/null 2>&1
"$clae" generate "$run" --samples 10 --seed 2 -o s10-seed2.png >/dev/null 2>&1
check 'cmp -s s10.png s10-seed1.png' "--samples without --seed uses the run's seed (1)"
check '[ -s s10-seed2.png ] && ! cmp -s s10.png s10-seed2.png' "--seed 2 draws other points"
check '! cmp -s prior.png "$run/manifold.png"' "the prior's grid is not the test-set range's manifold"
# bad combinations: usage errors, nothing written
expect 2 "--samples '0': expected a whole number 1..10000" generate "$run" --samples 0 -o x.png
expect 2 "--samples '10001': expected a whole number 1..10000" generate "$run" --samples 10001 -o x.png
expect 2 "--prior and --range exclude each other" generate "$run" --prior --range -3:3 -o x.png
expect 2 "--prior and --range exclude each other" generate "$run" --prior --range auto -o x.png
expect 2 "--samples N draws its own N points: it takes no --grid, --range or --prior" generate "$run" --samples 4 --grid 3 -o x.png
expect 2 "it takes no --grid, --range or --prior" generate "$run" --samples 4 --prior -o x.png
expect 2 "it takes no --grid, --range or --prior" generate "$run" --samples 4 --range -1:1 -o x.png
expect 2 "--seed goes with --samples N" generate "$run" --prior --seed 3 -o x.png
expect 2 "--seed 'abc': expected a whole number 0..18446744073709551615" generate "$run" --samples 4 --seed abc -o x.png
expect 2 "missing -o FILE.png" generate "$run" --prior
check '[ ! -e x.png ]' "a refused generate wrote x.png"
check '"$clae" generate --help | grep -q -- "--samples N" && "$clae" generate --help | grep -q -- "--prior"' \
    "generate --help documents --prior and --samples"

# ---- an autoencoder's run has no prior: refused, saying why ----
"$clae" train base.ini --set output.root=ae --quiet > ae.txt 2>&1
aerun="$(tail -n 1 ae.txt)"
check '[ "$(u32 "$aerun/model.ckpt" 8)" = 3 ] && [ "$(u32 "$aerun/model.ckpt" 128)" = 0 ]' "an ae's model.ckpt: kind 0"
expect 2 "--prior: $aerun is an autoencoder ([model] kind = ae): its codes were never pulled towards N(0, I)" \
    generate "$aerun" --prior -o x.png
expect 2 "--samples: $aerun is an autoencoder" generate "$aerun" --samples 4 -o x.png
check '[ ! -e x.png ]' "a refused generate of an ae wrote x.png"
# its test-range manifold still works
"$clae" generate "$aerun" --grid 3 -o ae3.png >/dev/null 2>&1
check '[ "$(png_size ae3.png)" = "84 84" ]' "an ae's generate --grid 3: $(png_size ae3.png)"

# ---- a checkpoint of the other kind is refused ----
expect 2 "model.ckpt: is a variational autoencoder ([model] kind = vae), the config says [model] kind = ae" \
    train --resume "$run" --set train.epochs=3 --set model.kind=ae
mkdir other && cp "$run/model.ckpt" "$run/latent.csv" other/ && sed 's/^kind = vae$/kind = ae/' "$run/config.ini" > other/config.ini
expect 2 "other/model.ckpt: is a variational autoencoder ([model] kind = vae), the config says [model] kind = ae" \
    decode other 0,0 -o x.png
expect 2 "is a plain autoencoder ([model] kind = ae), the config says [model] kind = vae" \
    train --resume "$aerun" --set train.epochs=3 --set model.kind=vae

# ---- both keys sweep like any other ----
{ cat base.ini; printf '[sweep]\nmodel.kind = ae, vae\ntrain.kl_weight = 0.5, 1\n'; } > sw.ini
check '[ "$("$clae" sweep sw.ini --count)" = 4 ] && "$clae" sweep sw.ini --list | grep -qxF "$(printf "2\tmodel.kind=vae train.kl_weight=0.5")"' \
    "sweep --list: $("$clae" sweep sw.ini --list 2>&1)"
"$clae" sweep sw.ini --index 2 --quiet > sw.txt 2>&1; rc=$?
swrun="$(tail -n 1 sw.txt)"
check '[ $rc = 0 ] && [[ "$swrun" == */*-sw_kind=vae_kl_weight=0.5 ]] && grep -qx "kind = vae" "$swrun/config.ini" && grep -qx "kl_weight = 0.5" "$swrun/config.ini"' \
    "sweep job 2: $rc $(cat sw.txt)"
check 'awk -F, "function abs(v) { return v < 0 ? -v : v } NR > 1 && abs(\$3 - (\$9 + 0.5 * \$10)) > 1e-6 * \$3 { bad = 1 } END { exit bad }" "$swrun/loss.csv"' \
    "kl_weight 0.5: test_loss = test_recon + 0.5 test_kl: $(cat "$swrun/loss.csv")"
printf '[sweep]\ntrain.kl_weight = 1, -1\n' > badsw.ini
expect 2 "badsw.ini:2: [sweep] train.kl_weight: [train] kl_weight = '-1': expected a number >= 0" sweep badsw.ini --list

# ---- SIGINT mid-run, then --resume: the same losses as a run never stopped ----
# (the signal is usually noticed at an epoch's start, where the host waits
# for the device; test_model checks a resume in mid-epoch bit for bit)
"$clae" train base.ini "${vae[@]}" --set train.epochs=100000 --set output.root=r4 > int.txt 2> interr.txt &
interrupt_run $! r4
irun="$(tail -n 1 int.txt)"
check '[ $rc = 1 ] && grep -q "\"status\": \"interrupted\"" "$irun/run.json"' "SIGINT: exit $rc: $(cat interr.txt)"
done_epochs="$(sed -n 's/.*"epochs_completed": \([0-9]*\).*/\1/p' "$irun/run.json")"
k=$((done_epochs + 2))
"$clae" train --resume "$irun" --set train.epochs=$k --quiet > res.txt 2>&1; rc=$?
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$irun/run.json"' "resume: exit $rc: $(cat res.txt)"
"$clae" train base.ini "${vae[@]}" --set train.epochs=$k --set output.root=r5 --quiet > full.txt 2>&1
full="$(tail -n 1 full.txt)"
check '[ "$(cut -d, -f1-3,7-10 "$irun/loss.csv")" = "$(cut -d, -f1-3,7-10 "$full/loss.csv")" ] && [ "$(wc -l < "$full/loss.csv")" = $((k + 1)) ]' \
    "SIGINT + resume differs from an uninterrupted vae run: $(paste -d' ' "$irun/loss.csv" "$full/loss.csv")"
echo "interrupted after $done_epochs epochs: $(grep -o 'step [0-9]* of [0-9]*' interr.txt)"

test_end
