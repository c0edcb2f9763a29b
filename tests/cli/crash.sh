#!/usr/bin/env bash
# crash: runs that end without a word: SIGKILL in the middle of an epoch and
# in the middle of writing a checkpoint, a cluster's time limit (SIGTERM,
# then SIGKILL if still there), a kill before the first checkpoint. What
# must hold: the run loses at most the epochs since its last checkpoint, the
# checkpoint is whole, `clae train --resume` continues to the same losses as
# a run never stopped, and `clae report`, `clae compare` and the run page
# show a killed run as stale (not running forever) with the command that
# continues it; `clae sweep --skip-done` runs a stale job again. Real
# processes, real signals, real MNIST.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start crash "$1" "$2"
killer="$(realpath "$3")"
need_mnist

tiny_config exp.ini "$work/unused"
# epochs of about a second here, so that a kill can land inside one; a
# checkpoint after every epoch
common=(--set data.train_limit=12000 --set train.epochs=3 --set output.checkpoint_every=1 --quiet)

# data rows of a loss.csv
rows() { echo $(($(wc -l <"$1") - 1)); }
# the u32 at byte offset $2 of file $1 (little-endian, as the checkpoint stores it)
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
# waits (up to 120 s) until the run.json under $1 says "$2"
wait_json() {
    for _ in $(seq 6000); do
        grep -qs -- "$2" "$1"/*/run.json && return 0
        sleep 0.02
    done
    return 1
}
# the epoch,train,test columns of a loss.csv
losses() { cut -d, -f1-3 "$1"; }

ref="$("$clae" train exp.ini "${common[@]}" --set output.root=ref | tail -n 1)"
[ "$(rows "$ref/loss.csv")" -eq 3 ] && ok || bad "the reference run: $(cat "$ref/loss.csv")"
# a kill or SIGTERM goes in 40% of an epoch's training time after the
# epoch starts: measured on this machine from the reference run
n_train="$(sed -n 's/.*"train_images": \([0-9]*\).*/\1/p' "$ref/run.json")"
into_epoch="$(awk -F, -v n="$n_train" 'NR == 3 { printf "%.3f", 0.4 * n / $5 }' "$ref/loss.csv")"
# SIGTERM must land inside epoch 2 with some steps done: 15% in, since the
# moment epoch 1's end is seen in run.json is itself late by up to a poll and
# an epoch takes about a second here (40% in, a busy reference run and a
# quiet killed one made the signal land after epoch 2 had ended)
early="$(awk -F, -v n="$n_train" 'NR == 3 { printf "%.3f", 0.15 * n / $5 }' "$ref/loss.csv")"

# ---- 1. SIGKILL in the middle of epoch 3 (checkpoint of epoch 2 on disk)
"$clae" train exp.ini "${common[@]}" --set output.root=k1 >k1.out 2>k1.err &
pid=$!
wait_json k1 '"epochs_completed": 2' || bad "k1 never finished epoch 2"
run="$(ls -d "$work"/k1/*/ | head -n 1)"; run="${run%/}"
sleep "$into_epoch"
kill -KILL "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 137 ] && ok || bad "SIGKILL -> exit $rc"
[ "$(rows "$run/loss.csv")" -eq 2 ] && ok || bad "not killed inside epoch 3 (${into_epoch}s in): $(cat "$run/loss.csv")"
grep -q '"status": "running"' "$run/run.json" && grep -q "\"pid\": $pid," "$run/run.json" \
    && grep -q '"host": "' "$run/run.json" && ok || bad "run.json of a killed run: $(cat "$run/run.json")"
[ "$(u32 "$run/model.ckpt" 36)" -eq 2 ] && [ "$(u32 "$run/model.ckpt" 88)" -eq 0 ] \
    && ok || bad "model.ckpt should hold 2 whole epochs: epoch $(u32 "$run/model.ckpt" 36), step $(u32 "$run/model.ckpt" 88)"
# stale everywhere, with the command that continues it
out="$("$clae" compare k1 2>cmp.err)"; rc=$?
[ "$rc" -eq 0 ] && grep -q "stale" <<<"$out" && ! grep -q "running" <<<"$out" && ok || bad "compare of a killed run: $rc $out"
# (the folder as the root was given: k1/<run>)
grep -qF "is stale: run.json says running, but its process $pid on $(uname -n) is gone" cmp.err \
    && grep -qF "continue with: clae train --resume k1/$(basename "$run")" cmp.err && ok || bad "compare's note on a stale run: $(cat cmp.err)"
"$clae" report k1 >rep.out 2>&1 && grep -q "1 stale" rep.out && ok || bad "report of a killed run: $(cat rep.out)"
grep -q 'badge s-stale">stale<' "$run/index.html" && ! grep -q 'http-equiv="refresh"' "$run/index.html" \
    && grep -qF "continue with: clae train --resume k1/$(basename "$run")" "$run/index.html" && ok || bad "the run page of a killed run"
grep -Eq 's-stale"[^>]*>stale<' k1/index.html && ok || bad "the index of a root with a killed run"
# the resume goes on from epoch 3 to the losses of the run never stopped
"$clae" train --resume "$run" --quiet >res.out 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q '"status": "completed"' "$run/run.json" && grep -q '"resumes": 1' "$run/run.json" \
    && grep -q '"from_epoch": 2, "from_step": 0' "$run/run.json" && ok || bad "resume after SIGKILL: $rc $(cat res.out)"
[ "$(losses "$run/loss.csv")" = "$(losses "$ref/loss.csv")" ] && ok \
    || bad "SIGKILL + resume differs from the run never stopped: $(paste -d' ' "$run/loss.csv" "$ref/loss.csv")"

# ---- 2. SIGKILL while the checkpoint of epoch 2 is being written
# On a loaded machine the kill can land after the 1.2 MB write and its
# rename ("-1 bytes": the temporary file was gone): that run did not test
# what it is for, so it is tried again, up to three times.
for attempt in 1 2 3; do
    rm -rf k2
    mkdir -p k2
    "$clae" train exp.ini "${common[@]}" --set output.root=k2 >k2.out 2>k2.err &
    pid=$!
    "$killer" "$work/k2" model.ckpt.tmp. 2 "$pid" >kill.out 2>&1 || { bad "kill_at_file: $(cat kill.out)"; break; }
    wait "$pid"; rc=$?
    grep -q " had -1 bytes" kill.out || break
    echo "mid-checkpoint kill landed after the rename (attempt $attempt): $(cat kill.out); again"
done
ok
[ "$rc" -eq 137 ] && ok || bad "SIGKILL mid-checkpoint -> exit $rc ($(cat k2.err))"
run="$(ls -d "$work"/k2/*/ | head -n 1)"; run="${run%/}"
# killed before the rename: the new checkpoint never got the final name (how
# much of it was written depends on how fast the kill lands: kill.out says)
[ -f "$run/model.ckpt.tmp.$pid" ] && [ "$(stat -c %s "$run/model.ckpt.tmp.$pid")" -le "$(stat -c %s "$run/model.ckpt")" ] \
    && ok || bad "no half-written model.ckpt.tmp.$pid: $(ls -l "$run" | tr '\n' ' ') ($(cat kill.out))"
echo "mid-checkpoint kill: $(cat kill.out) (a whole one has $(stat -c %s "$run/model.ckpt") bytes)"
[ "$(u32 "$run/model.ckpt" 36)" -eq 1 ] && ok || bad "model.ckpt is not the whole epoch-1 checkpoint"
"$clae" train --resume "$run" --quiet >res2.out 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(losses "$run/loss.csv")" = "$(losses "$ref/loss.csv")" ] && ok \
    || bad "resume after a kill mid-checkpoint: $rc $(cat res2.out) $(paste -d' ' "$run/loss.csv" "$ref/loss.csv")"
! ls "$run" | grep -q '\.tmp\.' && ok || bad "the killed run's temporary files were left: $(ls "$run")"

# ---- 3. a time limit: SIGTERM in epoch 2, SIGKILL 30 s later if still there
"$clae" train exp.ini "${common[@]}" --set output.root=k3 >k3.out 2>k3.err &
pid=$!
wait_json k3 '"epochs_completed": 1' || bad "k3 never finished epoch 1"
sleep "$early"
kill -TERM "$pid"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null && bad "SIGTERM was not honoured within 30 s"
wait "$pid"; rc=$?
run="$(ls -d "$work"/k3/*/ | head -n 1)"; run="${run%/}"
[ "$rc" -eq 1 ] && grep -q '"status": "interrupted"' "$run/run.json" && grep -q "continue with: clae train --resume" k3.err \
    && ok || bad "SIGTERM -> $rc $(cat k3.err)"
[ "$(u32 "$run/model.ckpt" 36)" -eq 1 ] && [ "$(u32 "$run/model.ckpt" 88)" -gt 0 ] && ok \
    || bad "SIGTERM's checkpoint should be mid-epoch 2: epoch $(u32 "$run/model.ckpt" 36), step $(u32 "$run/model.ckpt" 88)"
"$clae" train --resume "$run" --quiet >res3.out 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(losses "$run/loss.csv")" = "$(losses "$ref/loss.csv")" ] && ok \
    || bad "resume after SIGTERM: $rc $(cat res3.out)"

# ---- 4. SIGKILL before any checkpoint: stale, and the way to start again
"$clae" train exp.ini "${common[@]}" --set output.checkpoint_every=0 --set output.root=k4 >/dev/null 2>&1 &
pid=$!
wait_json k4 '"status": "running"' || bad "k4 never started"
run="$(ls -d "$work"/k4/*/ | head -n 1)"; run="${run%/}"
# a second process may not resume a run that is still going
err="$("$clae" train --resume "$run" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] && grep -qF "the run is still going (process $pid on this host)" <<<"$err" \
    && ok || bad "--resume of a live run: $rc $err"
kill -KILL "$pid"; wait "$pid"
run="$(ls -d "$work"/k4/*/ | head -n 1)"; run="${run%/}"
"$clae" compare k4 >/dev/null 2>cmp4.err
grep -qF "before it wrote a checkpoint ([output] checkpoint_every); start it again with: clae train k4/$(basename "$run")/config.ini" cmp4.err \
    && ok || bad "stale run without a checkpoint: $(cat cmp4.err)"

# ---- 5. sweep --skip-done runs a stale job again, skips a completed one
tiny_config sw.ini "$work/sw"
printf '[sweep]\ntrain.learning_rate = 1e-3, 3e-3\n' >>sw.ini
"$clae" sweep sw.ini --quiet >sw1.out 2>&1 && [ "$(ls sw | grep -c _lr=)" -eq 2 ] && ok || bad "sweep: $(cat sw1.out)"
# job 1's run as a SIGKILL leaves it: running, by a process that is gone
( : ) & dead=$!; wait "$dead"
job1="$(ls -d sw/*_lr=3e-3)"
sed -i "s/\"status\": \"completed\"/\"status\": \"running\"/; s/\"pid\": [0-9]*/\"pid\": $dead/" "$job1/run.json"
"$clae" sweep sw.ini --skip-done --quiet >sw2.out 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "1 completed, 1 skipped" sw2.out && [ "$(ls sw | grep -c _lr=3e-3)" -eq 2 ] \
    && ok || bad "sweep --skip-done with a stale job: $rc $(cat sw2.out)"

test_end
