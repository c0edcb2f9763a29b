#!/usr/bin/env bash
# recipe: the training recipe from the command line, on real MNIST: the
# [train] noise, schedule, warmup, weight_decay and patience keys and
# [model] init = torch refused with file:line or --set messages (exit 2),
# and swept; a denoising run (the clean test loss falling, denoise.png, the
# same losses again with the same seed, others with another); each epoch's
# learning rate in loss.csv for a warm-up with a step schedule and for
# cosine; a run killed between epochs (tests/cli/kill_at_file) and resumed
# with noise, cosine, warm-up and weight decay gives the uninterrupted
# run's loss.csv; early stopping: a run whose test loss stops improving
# ends early, completed, the reason in run.json, on the console and its
# page, and killed and resumed it stops at the same epoch for the same
# reason; a resume that early stopping would end is refused, and goes on
# with patience off.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start recipe "$1" "$2"
killer="$(realpath "$3")"
need_mnist

tiny_config exp.ini runs
# epoch,train_loss,test_loss,learning_rate of a run's loss.csv
cols() { cut -d, -f1-3,6 "$1/loss.csv"; }
# its learning_rate column, one line
rates() { cut -d, -f6 "$1/loss.csv" | tail -n +2 | tr '\n' ' '; }
rows() { echo $(($(wc -l <"$1/loss.csv") - 1)); }
# the run folder: the last line of a train's stdout
run_of() { tail -n 1 "$1"; }

# ---- bad values: one line, exit 2, where and what is accepted ----
expect 2 "[train] noise = 'mask:1': expected none, gaussian:SD with SD >= 0" \
    train exp.ini --set train.noise=mask:1
expect 2 "[train] noise = 'gaussian:-0.3'" train exp.ini --set train.noise=gaussian:-0.3
expect 2 "[train] noise = 'salt:0.1'" train exp.ini --set train.noise=salt:0.1
expect 2 "[train] schedule = 'step:0:0.5': expected constant, step:EVERY:GAMMA" \
    train exp.ini --set train.schedule=step:0:0.5
expect 2 "[train] schedule = 'exponential'" train exp.ini --set train.schedule=exponential
expect 2 "[train] weight_decay = '-1': expected a number >= 0" \
    train exp.ini --set train.weight_decay=-1
expect 2 "[train] patience = 'x'" train exp.ini --set train.patience=x
expect 2 "[model] init = 'kaiming'" train exp.ini --set model.init=kaiming
expect 2 "[train] warmup = 2 needs more [train] epochs (now 2)" train exp.ini --set train.warmup=2
{ cat exp.ini; printf '[train]\nnoise = mask:1.5\n'; } > badnoise.ini
expect 2 "badnoise.ini:15: [train] noise = 'mask:1.5'" train badnoise.ini
{ cat exp.ini; printf '[train]\nschedule = cosine:3\n'; } > badsched.ini
expect 2 "badsched.ini:15: [train] schedule = 'cosine:3'" train badsched.ini
{ cat exp.ini; printf '[train]\npatiance = 3\n'; } > typo.ini
expect 2 "typo.ini:15: unknown key 'patiance' in [train]; did you mean 'patience'?" train typo.ini
check '[ ! -e runs ]' "a refused config made a results root"

# ---- sweepable: the keys as sweep values ----
{ cat exp.ini; printf '[sweep]\ntrain.noise = none, mask:0.3\ntrain.schedule = constant, step:1:0.5\n'; } > sw.ini
check '[ "$("$clae" sweep sw.ini --count)" = 4 ]' "sweep --count"
"$clae" sweep sw.ini --list > list.txt
check '[ "$(sed -n 4p list.txt)" = "3	train.noise=mask:0.3 train.schedule=step:1:0.5" ]' \
    "--list line 3: $(sed -n 4p list.txt)"
"$clae" sweep sw.ini --dry-run > dry.txt
check 'grep -qx "name = sw_noise=mask-0.3_schedule=step-1-0.5" dry.txt' \
    "--dry-run run names: $(grep '^name' dry.txt | tr '\n' ' ')"
"$clae" sweep sw.ini --index 3 --quiet >job.out 2>&1; rc=$?
job="$(run_of job.out)"
check '[ $rc = 0 ] && grep -qx "noise = mask:0.3" "$job/config.ini" && grep -qx "schedule = step:1:0.5" "$job/config.ini"' \
    "sweep job 3: $rc $(cat job.out)"
check '[ "$(rates "$job")" = "0.001 0.0005 " ]' "sweep job 3's learning rates: $(rates "$job")"

# ---- denoising on real MNIST ----
"$clae" train exp.ini --set train.noise=gaussian:0.3 --set train.epochs=3 >dn.out 2>dn.err; rc=$?
dn="$(run_of dn.out)"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$dn/run.json"' "denoising run: $rc $(cat dn.err)"
check 'grep -qx "noise = gaussian:0.3" "$dn/config.ini" && grep -q "\"train.noise\": \"gaussian:0.3\"" "$dn/run.json"' \
    "config.ini and run.json record the noise"
check 'awk -F, "NR == 1 { next } { if (!(\$3 > 0) || \$6 != 0.001) bad = 1; t[NR - 1] = \$3 }
     END { exit !(NR == 4 && !bad && t[3] < t[2] && t[2] < t[1]) }" "$dn/loss.csv"' \
    "denoising: the clean test loss falls every epoch: $(cols "$dn" | tr '\n' ' ')"
# denoise.png: 10 clean, noisy and reconstructed test images, x2 with 2-pixel gaps: 582 x 176
check '[ "$(od -An -tu1 -j16 -N8 "$dn/denoise.png" | tr -s " " | sed "s/^ //")" = "0 0 2 70 0 0 0 176" ]' \
    "denoise.png is 582x176"
check 'grep -q "denoise.png" "$dn/index.html"' "the run page shows denoise.png"
"$clae" train "$dn/config.ini" --quiet --set output.root=again >again.out 2>&1
check '[ "$(cols "$(run_of again.out)")" = "$(cols "$dn")" ]' "the same seed and noise: the same losses"
"$clae" train exp.ini --quiet --set train.noise=gaussian:0.3 --set train.epochs=3 --set train.seed=2 \
    --set output.root=seed2 >seed2.out 2>&1
check '[ "$(cut -d, -f2-3 "$(run_of seed2.out)/loss.csv")" != "$(cut -d, -f2-3 "$dn/loss.csv")" ]' \
    "another seed: other noise, other losses"

# ---- the learning rate of each epoch ----
"$clae" train exp.ini --quiet --set train.epochs=4 --set train.warmup=2 \
    --set train.schedule=step:1:0.5 >st.out 2>&1
check '[ "$(rates "$(run_of st.out)")" = "0.0005 0.001 0.001 0.0005 " ]' \
    "warm-up 2, then step:1:0.5: $(rates "$(run_of st.out)")"
check '[ ! -e "$(run_of st.out)/denoise.png" ]' "a run without noise has no denoise.png"
"$clae" train exp.ini --quiet --set train.epochs=4 --set train.schedule=cosine >cos.out 2>&1
# 1e-3 (1 + cos(pi k / 4)) / 2, k = 0..3
check 'awk -F, "NR > 1 { want = 0.0005 * (1 + cos(3.141592653589793 * (NR - 2) / 4))
                         if ((\$6 - want) ^ 2 > 1e-20) bad = 1 } END { exit bad || NR != 5 }" \
     "$(run_of cos.out)/loss.csv"' "cosine: $(rates "$(run_of cos.out)")"

# ---- resume with a schedule: killed between epochs, then resumed ----
sched=(--set train.epochs=5 --set train.schedule=cosine --set train.warmup=1
       --set train.noise=mask:0.25 --set train.weight_decay=1e-3 --set output.checkpoint_every=1
       --set output.recon_every=1 --quiet)
"$clae" train exp.ini "${sched[@]}" --set output.root=ref >ref.out 2>&1
ref="$(run_of ref.out)"
check '[ "$(rows "$ref")" = 5 ]' "the uninterrupted run: $(cat ref.out)"
mkdir -p killed
"$clae" train exp.ini "${sched[@]}" --set output.root=killed >k.out 2>&1 &
pid=$!
# SIGKILL as it writes epoch 3's reconstructions: epoch 2's checkpoint is whole
"$killer" "$work/killed" recon-epoch-003.png.tmp. 1 "$pid" >kill.out 2>&1
wait "$pid"; rc=$?
k="$(ls -d "$work"/killed/*/ | head -n 1)"; k="${k%/}"
check '[ $rc = 137 ] && [ -s "$k/model.ckpt" ]' "killed at epoch 3's outputs: $rc $(cat kill.out)"
"$clae" train --resume "$k" --quiet >res.out 2>&1; rc=$?
check '[ $rc = 0 ] && grep -q "\"from_epoch\": 2" "$k/run.json"' "resumed: $rc $(cat res.out)"
check '[ "$(cols "$k")" = "$(cols "$ref")" ]' \
    "resumed with cosine, warm-up, noise and weight decay: losses or rates differ from the uninterrupted run: $(paste -d' ' <(cols "$k") <(cols "$ref"))"

# ---- early stopping ----
# 50 training images, a wide code and a large step: the test loss stops
# improving after a few epochs (epoch 12 of 100 on the 2-core PoCL machine)
stop=(--set data.train_limit=50 --set model.encoder=256 --set model.latent=32
      --set train.learning_rate=1e-2 --set train.epochs=100 --set train.patience=3
      --set train.noise=gaussian:0.1 --set output.checkpoint_every=1 --set output.recon_every=1)
"$clae" train exp.ini "${stop[@]}" --set output.root=es >es.out 2>es.err; rc=$?
es="$(run_of es.out)"
n="$(rows "$es")"
check '[ $rc = 0 ] && grep -q "\"status\": \"completed\"" "$es/run.json"' "early-stopped run: $rc $(cat es.err)"
check '[ "$n" -lt 100 ] && grep -q "\"epochs_completed\": $n," "$es/run.json"' "stopped after $n of 100 epochs"
# the best epoch is loss.csv's lowest test loss, and the 3 after it are not below it
best="$(awk -F, 'NR > 1 && (b == "" || $3 < b) { b = $3; e = $1 } END { print e }' "$es/loss.csv")"
check '[ "$best" = $((n - 3)) ]' "loss.csv: best epoch $best, stopped after $n"
check 'grep -q "\"early_stop\": {\"reason\": \"test loss not below [0-9.e-]* (epoch $best) for 3 epochs (\[train\] patience = 3)\", \"best_epoch\": $best, \"best_test_loss\": " "$es/run.json"' \
    "run.json's early_stop: $(grep early_stop "$es/run.json")"
check 'grep -q "^early stop after epoch $n: test loss not below .* (epoch $best) for 3 epochs" es.out' \
    "the console says why: $(grep -i early es.out)"
check '[ -s "$es/latent.csv" ] && [ -s "$es/manifold.png" ] && [ -s "$es/denoise.png" ] && [ -s "$es/recon-epoch-$(printf %03d "$n").png" ]' \
    "an early-stopped run has its final outputs"
check 'grep -q "early stop" "$es/index.html"' "the run page says it stopped early"
check '[ "$(tail -n 1 es/runs.csv | cut -d, -f3,6,7)" = "completed,$n,100" ]' "runs.csv: $(tail -n 1 es/runs.csv)"
# killed in epoch best+2 (one epoch without improvement behind it), the
# resume takes early stopping's state from loss.csv and stops as the
# uninterrupted run did
mkdir -p esk
"$clae" train exp.ini "${stop[@]}" --quiet --set output.root=esk >esk.out 2>&1 &
pid=$!
"$killer" "$work/esk" "recon-epoch-$(printf %03d $((best + 2))).png.tmp." 1 "$pid" >kill2.out 2>&1
wait "$pid"; rc=$?
k="$(ls -d "$work"/esk/*/ | head -n 1)"; k="${k%/}"
check '[ $rc = 137 ]' "killed in epoch $((best + 2)): $rc $(cat kill2.out)"
"$clae" train --resume "$k" >esr.out 2>&1; rc=$?
check '[ $rc = 0 ] && [ "$(cols "$k")" = "$(cols "$es")" ]' \
    "resumed early stopping: $rc $(paste -d' ' <(cols "$k") <(cols "$es") | tail -n 5)"
check '[ "$(grep -o "\"early_stop\": {[^}]*}" "$k/run.json")" = "$(grep -o "\"early_stop\": {[^}]*}" "$es/run.json")" ]' \
    "resumed: the same early stop in run.json"
check 'grep -q "^early stop after epoch $n" esr.out' "resumed: the console says why"
# resuming the stopped run: refused, with the way on; with patience off it trains on
expect 2 "--resume $es: early stopping ends the run after epoch $n: test loss not below" \
    train --resume "$es"
expect 2 "raise it (--set train.patience=N with N > 3) or turn it off (--set train.patience=0)" \
    train --resume "$es"
check 'grep -q "\"status\": \"completed\"" "$es/run.json" && [ "$(rows "$es")" = "$n" ]' \
    "a refused resume left the run alone"
"$clae" train --resume "$es" --set train.patience=0 --set train.epochs=$((n + 1)) --quiet >on.out 2>&1; rc=$?
check '[ $rc = 0 ] && [ "$(rows "$es")" = $((n + 1)) ] && grep -q "\"early_stop\": null" "$es/run.json"' \
    "resume with patience 0: $rc $(cat on.out)"

test_end
