#!/usr/bin/env bash
# cli: what a user sees when something is wrong: exit codes (2 usage or
# config, 1 run failed), one clear message, and no results folder marked
# completed. Plus the commands that must simply work: --help, --version,
# devices, bench.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start cli "$1" "$2"

have_mnist=0
[ -f "${MNIST_DIR:-}/train-images-idx3-ubyte.gz" ] && have_mnist=1 && mnist="$(cd "$MNIST_DIR" && pwd)"

# usage
expect 2 "usage: clae COMMAND" 
expect 2 "unknown command 'frobnicate'" frobnicate
expect 2 "missing CONFIG" train
expect 2 "unknown option '--epochs'" train x.ini --epochs 3
expect 2 "--set needs" train x.ini --set
"$clae" --help | grep -q "selftest" && ok || bad "--help lists commands"
"$clae" train --help | grep -q -- "--set S.K=V" && ok || bad "train --help"
"$clae" --version | grep -Eq '^clae [0-9]+\.[0-9]+\.[0-9]+ \(CLBlast [0-9.]+\)$' && ok || bad "--version"

# config errors name the file, line, key, value and what is accepted
expect 2 "nope.ini: cannot open" train nope.ini
printf '[train]\nepochs = 2\nlearnig_rate = 0.1\n' > typo.ini
expect 2 "typo.ini:3" train typo.ini
expect 2 "did you mean 'learning_rate'" train typo.ini
printf '[trian]\nepochs = 2\n' > section.ini
expect 2 "section.ini:1" train section.ini
printf '[model]\nactivation = swish\n' > value.ini
expect 2 "swish" train value.ini
expect 2 "tanh" train value.ini
cp "$src/configs/mnist-156.ini" exp.ini
expect 2 "abc" train exp.ini --set train.epochs=abc
expect 2 "--set train.epochs=abc" train exp.ini --set train.epochs=abc
expect 2 "SECTION.KEY=VALUE" train exp.ini --set epochs
expect 2 "did you mean 'batch_size'" train exp.ini --set train.batchsize=5
expect 2 "bce" train exp.ini --set train.loss=bce
expect 2 "sigmoid" train exp.ini --set train.loss=bce
expect 2 "digits" train exp.ini --set data.digits=1,12
expect 2 "available:" selftest --device 7:7
expect 2 "available:" selftest --device no-such-device-name
err="$(CLAE_DEVICE=7:7 "$clae" selftest 2>&1 >/dev/null)"; rc=$?
[ "$rc" -eq 2 ] && grep -q "available:" <<<"$err" && ok || bad "CLAE_DEVICE=7:7 -> $rc $err"
expect 2 "--device" selftest --device ""

# data errors: clear message, non-zero, no folder at all
expect 1 "get-mnist.sh" train exp.ini --set data.dir=/nonexistent/mnist --set output.root=r0
[ ! -e r0 ] || [ -z "$(ls -A r0)" ] && ok || bad "a run that failed before starting left a folder"

"$clae" devices | grep -q "device 0:0" && ok || bad "devices lists device 0:0"

# kernel folder: a bad --cl-dir / CLAE_CL_DIR is named; a kernel that does
# not compile prints its path, the build options and the compiler's log
expect 1 "--cl-dir $work/nowhere: no act.cl there" selftest --cl-dir "$work/nowhere"
err="$(CLAE_CL_DIR="$work/nowhere" "$clae" selftest 2>&1 >/dev/null)"; rc=$?
[ "$rc" -eq 1 ] && grep -qF "CLAE_CL_DIR $work/nowhere" <<<"$err" && ok || bad "CLAE_CL_DIR=nowhere -> $rc $err"
mkdir broken && cp "$src"/cl/*.cl broken/ && printf '\n__kernel void oops(void) { undeclared_thing = 1; }\n' >> broken/data.cl
err="$("$clae" selftest --cl-dir broken 2>&1 >/dev/null)"; rc=$?
[ "$rc" -eq 1 ] && grep -qF "building broken/data.cl with options \"-cl-std=CL1.2 -DLEAKY_SLOPE=0.01f\" failed; build log:" <<<"$err" \
    && grep -q "undeclared_thing" <<<"$err" && grep -q "CL_BUILD_PROGRAM_FAILURE" <<<"$err" \
    && ok || bad "broken kernel -> $rc: $err"

# the installed layout finds its kernels next to the binary, from anywhere
build="$(dirname "$clae")"
if cmake --install "$build" --prefix "$work/prefix" >/dev/null 2>&1; then
    out="$(cd / && CLAE_CL_DIR= "$work/prefix/bin/clae" selftest 2>&1)"; rc=$?
    [ "$rc" -eq 0 ] && grep -qF "kernels: $work/prefix/share/clae/cl (installed)" <<<"$out" \
        && ok || bad "installed clae: $rc $(head -n 3 <<<"$out")"
else
    bad "cmake --install $build failed"
fi

if [ "$have_mnist" -eq 1 ]; then
    # scripts/get-mnist.sh from a local folder: a bad file is named and
    # nothing gets a final name; good files arrive whole
    mkdir swapped && cp "$mnist"/* swapped/ && chmod u+w swapped/*
    cp swapped/t10k-labels-idx1-ubyte.gz swapped/t10k-images-idx3-ubyte.gz
    err="$(MNIST_DIR="$work/swapped" "$src/scripts/get-mnist.sh" "$work/gm" 2>&1)"; rc=$?
    [ "$rc" -eq 1 ] && grep -qF "$work/swapped/t10k-images-idx3-ubyte.gz: not an IDX image file" <<<"$err" \
        && [ -z "$(ls "$work/gm")" ] && ok || bad "get-mnist with a swapped file -> $rc: $err; left: $(ls "$work/gm")"
    rm swapped/train-labels-idx1-ubyte.gz
    err="$(MNIST_DIR="$work/swapped" "$src/scripts/get-mnist.sh" "$work/gm" 2>&1)"; rc=$?
    [ "$rc" -eq 1 ] && grep -qF "has neither train-labels-idx1-ubyte.gz nor train-labels-idx1-ubyte" <<<"$err" \
        && ok || bad "get-mnist with a missing file -> $rc: $err"
    out="$(MNIST_DIR="$mnist" "$src/scripts/get-mnist.sh" "$work/gm" 2>&1)"; rc=$?
    [ "$rc" -eq 0 ] && grep -Eq "has MNIST: [0-9]+ training and [0-9]+ test images" <<<"$out" && [ "$(ls "$work/gm" | wc -l)" -eq 4 ] \
        && cmp -s "$work/gm/t10k-labels-idx1-ubyte.gz" "$mnist/t10k-labels-idx1-ubyte.gz" \
        && ok || bad "get-mnist from MNIST_DIR -> $rc: $out"

    common=(--set "data.dir=$mnist" --set data.train_limit=200 --set train.epochs=2 --quiet)
    # batch larger than the filtered data: config error before any work
    expect 2 "available:" train exp.ini "${common[@]}" --device 7:7 --set output.root=r1
    expect 2 "[train] batch_size = 500" train exp.ini "${common[@]}" --set train.batch_size=500 --set output.root=r1
    [ ! -e r1 ] && ok || bad "batch error created a results root"
    # divergence: exit 1, status diverged, never completed
    "$clae" train exp.ini "${common[@]}" --set train.optimizer=sgd --set train.learning_rate=1e12 \
        --set output.root=r2 >out.txt 2>err.txt
    rc=$?
    [ "$rc" -eq 1 ] && ok || bad "divergence exit code $rc"
    grep -q "diverged" err.txt && ok || bad "divergence message: $(cat err.txt)"
    run="$(tail -n 1 out.txt)"
    grep -q '"status": "diverged"' "$run/run.json" 2>/dev/null && ok || bad "run.json of a diverged run: $(cat "$run/run.json" 2>&1)"
    ! grep -rq '"status": "completed"' r2 && ok || bad "a diverged run was marked completed"
    # SIGINT mid-run: the step finishes, run.json says interrupted, exit 1,
    # and loss.csv holds only whole rows
    "$clae" train exp.ini "${common[@]}" --set train.epochs=100000 --set output.root=r4 >int.txt 2>interr.txt &
    interrupt_run $! r4
    run="$(tail -n 1 int.txt)"
    [ "$rc" -eq 1 ] && grep -q "interrupted in epoch" interr.txt && ok || bad "SIGINT -> exit $rc: $(cat interr.txt)"
    grep -q '"status": "interrupted"' "$run/run.json" 2>/dev/null && ok || bad "run.json after SIGINT: $(cat "$run/run.json" 2>&1)"
    awk -F, 'NR > 1 && NF != 10 { bad = 1 } END { exit bad || NR < 3 }' "$run/loss.csv" && ok || bad "loss.csv after SIGINT: $(cat "$run/loss.csv")"
    # ... and wrote model.ckpt, from which --resume goes on to the same
    # losses as a run that was never stopped
    [ -s "$run/model.ckpt" ] && ok || bad "no model.ckpt after SIGINT"
    grep -q "continue with: clae train --resume $run" interr.txt && ok || bad "SIGINT message lacks the resume command"
    done_epochs="$(sed -n 's/.*"epochs_completed": \([0-9]*\).*/\1/p' "$run/run.json")"
    k=$((done_epochs + 2))
    cp -r "$run" damaged && truncate -s 1000 damaged/model.ckpt
    err="$("$clae" train --resume damaged --set train.epochs=$k 2>&1)"; rc=$?
    [ $rc -eq 2 ] && grep -q "damaged/model.ckpt: truncated: expected" <<<"$err" && ok || bad "truncated checkpoint: $rc $err"
    printf 'XXXXXXXX' | dd of=damaged/model.ckpt conv=notrunc status=none
    err="$("$clae" train --resume damaged --set train.epochs=$k 2>&1)"; rc=$?
    [ $rc -eq 2 ] && grep -q "not a clae checkpoint" <<<"$err" && ok || bad "wrong magic: $rc $err"
    err="$("$clae" train --resume "$run" --set train.epochs=$k --set model.latent=3 2>&1)"; rc=$?
    [ $rc -eq 2 ] && grep -q "model.ckpt: layer sizes 784-500-300-2-300-500-784 differ from the config's 784-500-300-3-300-500-784" <<<"$err" && ok || bad "mismatched checkpoint: $rc $err"
    "$clae" train --resume "$run" --set train.epochs=$k --quiet >res.txt 2>&1; rc=$?
    [ $rc -eq 0 ] && [ "$(tail -n 1 res.txt)" = "$run" ] && ok || bad "resume after SIGINT: $rc $(cat res.txt)"
    grep -q '"status": "completed"' "$run/run.json" && grep -q '"resumes": 1' "$run/run.json" && ok || bad "run.json after resume: $(cat "$run/run.json")"
    "$clae" train exp.ini "${common[@]}" --set train.epochs=$k --set output.root=r5 --quiet >full.txt 2>&1
    full="$(tail -n 1 full.txt)"
    [ "$(cut -d, -f1-3 "$run/loss.csv")" = "$(cut -d, -f1-3 "$full/loss.csv")" ] && [ "$(wc -l < "$run/loss.csv")" -eq $((k + 1)) ] \
        && ok || bad "SIGINT + resume differs from an uninterrupted run: $(paste -d' ' "$run/loss.csv" "$full/loss.csv")"
    err="$("$clae" train --resume "$run" 2>&1)"; rc=$?
    [ $rc -eq 2 ] && grep -q "already has $k epochs" <<<"$err" && ok || bad "resume of a finished run: $rc $err"
    # a completed run trained further keeps one runs.csv row, now with more epochs
    "$clae" train --resume "$run" --set train.epochs=$((k + 1)) --quiet >/dev/null 2>&1
    [ "$(grep -c "^$(basename "$run")," r4/runs.csv)" -eq 1 ] && grep -q "^$(basename "$run"),.*,$((k + 1)),$((k + 1))," r4/runs.csv \
        && ok || bad "runs.csv after a second resume: $(cat r4/runs.csv)"
    # bench runs and reports (numbers are not judged here: timings are noisy)
    "$clae" bench exp.ini --set "data.dir=$mnist" --set data.train_limit=500 --steps 3 --warmup 1 >bench.txt 2>&1 \
        && grep -q "images/s" bench.txt && grep -q "CLBlast SGEMM:" bench.txt && ok || bad "bench: $(cat bench.txt)"
    # --breakdown: the parts add up to the step's wall time, and the latent layer's products
    # (exp.ini's latent is 2 wide) are counted as small
    "$clae" bench exp.ini --set "data.dir=$mnist" --set data.train_limit=500 --steps 3 --warmup 1 --breakdown >bd.txt 2>&1 \
        && awk '/^breakdown per step/ { w = $12; g = $16; k = $22; h = $29; n++ }
                /products with a dimension below 16:/ { s = $(NF-2) + 0; m++ }
                END { d = w - g - k - h; if (d < 0) d = -d;
                      exit !(n == 1 && m == 1 && w > 0 && g > 0 && k > 0 && s > 0 && s < g && (h == 0 || d < 0.005)) }' bd.txt \
        && ok || bad "bench --breakdown: $(cat bd.txt)"
    # two runs started together never share a folder
    "$clae" train exp.ini "${common[@]}" --set train.epochs=1 --set output.root=r3 >a.txt 2>&1 &
    "$clae" train exp.ini "${common[@]}" --set train.epochs=1 --set output.root=r3 >b.txt 2>&1 &
    wait
    [ "$(ls -d r3/*/ | wc -l)" -eq 2 ] && [ "$(tail -n 1 a.txt)" != "$(tail -n 1 b.txt)" ] && ok || bad "concurrent runs: $(ls r3)"
else
    echo "skip: data-dependent CLI checks (MNIST_DIR='${MNIST_DIR:-}' has no MNIST)"
fi

test_end
