#!/usr/bin/env bash
# e2e_train: the real clae binary, run from another working directory, on the
# real MNIST in $MNIST_DIR (../shared/data/mnist in CI): 2 epochs of
# configs/mnist-156.ini, then the files a user would look at, then a re-run
# of the written config.ini, which must reproduce loss.csv's losses exactly.
set -uo pipefail
clae="$(realpath "$1")"  # the tests cd elsewhere
src="$2"
if [ ! -f "${MNIST_DIR:-}/train-images-idx3-ubyte.gz" ] && [ ! -f "${MNIST_DIR:-}/train-images-idx3-ubyte" ]; then
    echo "skip: MNIST not found in MNIST_DIR='${MNIST_DIR:-}' (CI has it in ../shared/data/mnist)"
    exit 0
fi
mnist="$(cd "$MNIST_DIR" && pwd -P)"  # physical, as realpath(3) gives
work="$(mktemp -d /tmp/clae-e2e-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"   # not the source tree: kernels and data must be found regardless
passed=0 failed=0
check() { # check "what" command...
    local what="$1"; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

# data.dir relative to this working directory: config.ini must record it
# absolute so that the run can be reproduced from anywhere.
rel="$(realpath --relative-to="$work" "$mnist")"
out="$("$clae" train "$src/configs/mnist-156.ini" --set train.epochs=2 --set "data.dir=$rel" \
       --set output.root=runs 2>"$work/stderr")"
rc=$?
echo "$out"
cat "$work/stderr"
check "exit code 0 (got $rc)" test "$rc" -eq 0
run="$(printf '%s\n' "$out" | tail -n 1)"
check "last line is the run folder under runs/: '$run'" test -d "$run"
check "folder name is runs/YYYYmmdd-HHMMSS-mnist-156" bash -c "[[ '$run' =~ ^runs/[0-9]{8}-[0-9]{6}-mnist-156$ ]]"
for f in config.ini loss.csv latent.csv run.json recon-epoch-001.png recon-epoch-002.png; do
    check "$f exists and is not empty" test -s "$run/$f"
done
check "no temporary files left" bash -c "! ls '$run' | grep -q tmp"

# loss.csv: header, 2 rows, finite positive losses, test loss decreasing
check "loss.csv header" test "$(head -n 1 "$run/loss.csv")" = "epoch,train_loss,test_loss,seconds,images_per_second,learning_rate,train_recon,train_kl,test_recon,test_kl"
check "loss.csv has 2 rows" test "$(tail -n +2 "$run/loss.csv" | wc -l)" -eq 2
check "losses finite, positive, test loss decreasing" awk -F, '
    NR == 1 { next }
    { if ($1 != NR - 1 || !($2 > 0) || !($3 > 0) || $2 ~ /nan|inf/ || $3 ~ /nan|inf/ || !($5 > 0)) bad = 1
      test[NR - 1] = $3 }
    END { exit !(bad == 0 && test[2] < test[1] && test[1] < 0.2) }' "$run/loss.csv"

# latent.csv: 2,985 test images of digits 1, 5, 6 with finite 2-D codes
check "latent.csv header" test "$(head -n 1 "$run/latent.csv")" = "index,label,z1,z2"
check "latent.csv has 2985 rows" test "$(tail -n +2 "$run/latent.csv" | wc -l)" -eq 2985
check "latent labels only 1, 5, 6, all three present, codes finite" awk -F, '
    NR == 1 { next }
    { if ($2 != 1 && $2 != 5 && $2 != 6) bad = 1
      if ($3 ~ /nan|inf/ || $4 ~ /nan|inf/ || NF != 4 || $1 != NR - 2) bad = 1
      seen[$2]++ }
    END { exit !(bad == 0 && seen[1] == 1135 && seen[5] == 892 && seen[6] == 958) }' "$run/latent.csv"

# run.json
check "run.json status completed" grep -q '"status": "completed"' "$run/run.json"
check "run.json names the device" grep -q '"platform": "' "$run/run.json"
check "run.json gives the device's P:D" grep -Eq '"index": "[0-9]+:[0-9]+"' "$run/run.json"
check "run.json records the kernel folder" grep -q "\"kernel_dir\": \"$src/cl\"" "$run/run.json"
check "run.json epochs_completed 2" grep -q '"epochs_completed": 2' "$run/run.json"

# the PNG signature, and the grid size: 10 images x2 with 2-pixel gaps = 582 x 118
check "recon PNG signature" test "$(head -c 8 "$run/recon-epoch-002.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a"
check "recon PNG is 582x118" test "$(od -An -tu1 -j16 -N8 "$run/recon-epoch-002.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 70 0 0 0 118"

# config.ini is complete and reproduces the run: same losses, bit for bit
check "config.ini has every section" bash -c "for s in device data model train output; do grep -q \"^\[\$s\]\" '$run/config.ini' || exit 1; done"
check "config.ini records the override" grep -Eq '^epochs *= *2' "$run/config.ini"
check "config.ini records data.dir as an absolute path" grep -Fqx "dir = $mnist" "$run/config.ini"
# re-run from inside the run folder (another working directory), into runs/
out2="$(cd "$run" && "$clae" train config.ini --quiet --set "output.root=$work/runs" 2>&1)"
rc2=$?
run2="$(printf '%s\n' "$out2" | tail -n 1)"
check "re-run of config.ini exits 0 (got $rc2: $out2)" test "$rc2" -eq 0
check "re-run goes to a new folder" test "$run2" != "$work/$run" -a -d "$run2"
check "re-run reproduces train and test losses exactly" \
    test "$(cut -d, -f1-3 "$run/loss.csv")" = "$(cut -d, -f1-3 "$run2/loss.csv" 2>/dev/null)"

echo "e2e_train: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
