#!/usr/bin/env bash
# bench-vs-pytorch.sh: a clae experiment's training step, clae against
# PyTorch on the CPU, measured in one run on this machine.
#
#   scripts/bench-vs-pytorch.sh [--config FILE.ini] [--set SECTION.KEY=VALUE]...
#                               [--batches 50,256] [--seconds S] [--steps N]
#                               [--train-epochs N] [--seed S] [--train-only]
#                               [--tuning FILE]
#                               [--clae PATH] [--data DIR] [--venv DIR]
#
# --config FILE.ini (default configs/mnist-156.ini, the seed experiment) is
# the experiment both sides run: scripts/bench_pytorch.py builds the same
# network in PyTorch (installed into a throwaway virtual environment; a
# benchmark dependency only, never clae's) from the file's [data], [model]
# and [train] keys, dense or convolutional. Each --set goes to both sides,
# after the file (--set model.init=torch --set train.learning_rate=1e-3).
#
# Speed, for each batch size of --batches (default 50,256): PyTorch trains
# the network for S seconds (default 10), then `clae bench FILE` runs --steps
# steps (default 200) right after it twice: with CLBlast's own parameters
# ([device] tuning = none) and with the device's tuning ([device] tuning =
# auto: the file `clae tune` wrote, else a shipped one; --tuning FILE: that
# file, such as one `clae tune FILE.ini -o` wrote for this network). Prints images/s and
# the ratios, then the GFLOP/s of every dense product of the step in all three.
#
# Accuracy, with --train-epochs N: PyTorch trains N epochs (bench_pytorch.py
# --train), then `clae train FILE --set train.epochs=N` does (into a temporary
# results root), both at the file's batch size and with seed S (default: the
# file's [train] seed); prints both test losses (mean squared error per pixel
# over the whole test set) after every epoch, their ratio and the seconds per
# epoch (and the median epoch: on a busy machine PyTorch's threads can slow
# down tenfold). --train-only skips the speed part.
#
# The data is --data DIR, else the file's [data] dir (idx only); the default
# dir, data/mnist, means $MNIST_DIR if set, else data/mnist in this tree.
# --venv DIR reuses (or creates) that environment instead of a temporary
# one; CLAE_TORCH_VENV does the same. Needs network access to PyPI (or the
# PyTorch CPU index) the first time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$root/configs/mnist-156.ini"
batches=50,256 seconds=10 steps=200 train_epochs="" seed="" train_only=0 tuned=auto
clae="$root/build/clae"
data=""
venv="${CLAE_TORCH_VENV:-}"
sets=()
usage_error() { echo "bench-vs-pytorch: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --train-only|-h|--help) ;;
    --*) [ $# -ge 2 ] || usage_error "$1 needs a value (see --help)" ;;
    esac
    case "$1" in
    --config) config="$2"; shift 2 ;;
    --set) sets+=("$2"); shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --train-epochs) train_epochs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --tuning) tuned="$2"; shift 2 ;;
    --train-only) train_only=1; shift ;;
    --clae) clae="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --venv) venv="$2"; shift 2 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) usage_error "unknown option '$1' (see --help)" ;;
    esac
done
[ -x "$clae" ] || usage_error "no clae at $clae (run scripts/setup.sh, or --clae PATH)"
[ -f "$config" ] || usage_error "--config $config: no such file"
config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"
[ -z "$train_epochs" ] || [[ "$train_epochs" =~ ^[1-9][0-9]*$ ]] ||
    usage_error "--train-epochs $train_epochs: expected a whole number >= 1"
[ -z "$seed" ] || [[ "$seed" =~ ^[0-9]+$ ]] || usage_error "--seed $seed: expected a whole number >= 0"
((train_only == 0)) || [ -n "$train_epochs" ] || usage_error "--train-only needs --train-epochs N"
for s in "${sets[@]+"${sets[@]}"}"; do
    [[ "$s" == *.*=* ]] || usage_error "--set $s: expected SECTION.KEY=VALUE (for example --set train.epochs=5)"
done

# The value of [SECTION] KEY in an INI file ('' if absent), as clae reads it:
# '#' and ';' start comment lines, " ;" a comment after a value.
ini_get() {
    awk -v want_s="$2" -v want_k="$3" '
        /^[ \t]*[#;]/ { next }
        /^[ \t]*\[/ { s = $0; gsub(/[][ \t\r]/, "", s); next }
        s == want_s && index($0, "=") {
            k = substr($0, 1, index($0, "=") - 1); v = substr($0, index($0, "=") + 1)
            gsub(/[ \t]/, "", k); sub(/[ \t]+;.*$/, "", v); gsub(/^[ \t]+|[ \t\r]+$/, "", v)
            if (k == want_k) { print v; exit }
        }' "$1"
}
# The value a key ends up with: the last --set of it, else the file's.
config_get() {
    local v="" s
    for s in "${sets[@]+"${sets[@]}"}"; do
        [[ "${s%%=*}" =~ ^[[:space:]]*$1\.$2[[:space:]]*$ ]] && v="$(echo "${s#*=}" | sed 's/^[ \t]*//; s/[ \t]*$//')"
    done
    if [ -n "$v" ]; then echo "$v"; else ini_get "$config" "$1" "$2"; fi
}
format="$(config_get data format)"
[ -z "$format" ] || [ "${format,,}" = idx ] ||
    usage_error "$config: [data] format = $format: only idx data is compared (bench_pytorch.py reads IDX files)"
if [ -z "$data" ]; then
    data="$(config_get data dir)"
    if [ -z "$data" ] || [ "$data" = data/mnist ]; then data="${MNIST_DIR:-$root/data/mnist}"; fi
fi
[ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ] ||
    usage_error "no IDX training images in $data (scripts/get-mnist.sh, or --data DIR)"
data="$(cd "$data" && pwd)"
# Both sides get the data folder, then the --set list.
clae_sets=(--set data.dir="$data")
torch_sets=()
for s in "${sets[@]+"${sets[@]}"}"; do clae_sets+=(--set "$s"); torch_sets+=(--set "$s"); done

tmp="$(mktemp -d /tmp/clae-bench-vs-pytorch-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
if [ -z "$venv" ]; then venv="$tmp/venv"; fi
if [ ! -x "$venv/bin/python" ]; then
    echo "== installing PyTorch (CPU) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    # The CPU-only wheels are much smaller; PyPI's default also runs on the CPU.
    "$venv/bin/pip" install -q --index-url https://download.pytorch.org/whl/cpu torch numpy 2>/dev/null ||
        "$venv/bin/pip" install -q torch numpy
fi
torch_py=("$venv/bin/python" "$root/scripts/bench_pytorch.py" --config "$config" --data "$data"
          "${torch_sets[@]+"${torch_sets[@]}"}")

echo "== machine"
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
     "AVX2: $(grep -q avx2 /proc/cpuinfo && echo yes || echo no)," \
     "AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
"$clae" --version
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())'
"$clae" devices | sed -n 's/^  device 0:0 .*name=\([^ ].*\)  compute_units.*/opencl device: \1/p'
"$clae" devices | sed -n '0,/tuning:/s/^ *\(tuning: .*\)/\1/p'
echo "experiment: $config${sets[*]+ (--set ${sets[*]})}; data: $data"

# Speed: PyTorch, then clae bench with tuning none and auto, per batch size.
speed() {
    local summary="$tmp/summary" gemms="$tmp/gemms" B tuning t_ips d_ips a_ips d a t list
    : >"$summary"
    : >"$gemms"
    IFS=, read -r -a list <<<"$batches"
    for B in "${list[@]}"; do
        echo "== batch $B: PyTorch"
        "${torch_py[@]}" --batch "$B" --seconds "$seconds" --gemm | tee "$tmp/torch-$B"
        for tuning in none "$tuned"; do
            echo "== batch $B: clae bench, [device] tuning = $tuning"
            "$clae" bench "$config" "${clae_sets[@]}" \
                --set train.batch_size="$B" --set device.tuning="$tuning" --steps "$steps" \
                | tee "$tmp/clae-$B-$(basename "$tuning")"
        done
        t_ips="$(sed -n 's/^pytorch batch=[0-9]* images_per_s=\([0-9]*\).*/\1/p' "$tmp/torch-$B")"
        d_ips="$(sed -n 's/^timed: .* in [0-9.]*s: \([0-9]*\) images\/s.*/\1/p' "$tmp/clae-$B-none")"
        a_ips="$(sed -n 's/^timed: .* in [0-9.]*s: \([0-9]*\) images\/s.*/\1/p' "$tmp/clae-$B-$(basename "$tuned")")"
        echo "$B $d_ips $a_ips $t_ips" >>"$summary"
        # Per product: clae's profile (GFLOP/s is the last column of sgemm rows)
        # against PyTorch's torch.mm on the same shape.
        for tuning in none "$tuned"; do
            awk -v B="$B" -v t="$([ "$tuning" = none ] && echo none || echo auto)" '$1 == "sgemm" && $NF ~ /^[0-9.]+$/ {
                print B, $2, $3, t, $NF }' "$tmp/clae-$B-$(basename "$tuning")" >>"$gemms"
        done
        awk -v B="$B" '$1 == "pytorch" && $2 == "gemm" {
            sub(/^gflops=/, "", $NF); print B, $4, $5, "torch", $NF }' \
            "$tmp/torch-$B" >>"$gemms"
    done

    echo
    echo "== training images/s (clae bench, then PyTorch, same data and network)"
    printf '%-6s %14s %14s %12s %16s %16s\n' batch clae-default clae-tuned pytorch tuned/pytorch default/pytorch
    while read -r B d a t; do
        awk -v B="$B" -v d="$d" -v a="$a" -v t="$t" 'BEGIN {
            printf "%-6s %14d %14d %12d %15.2fx %15.2fx\n", B, d, a, t, a / t, d / t }'
    done <"$summary"
    echo
    echo "== GFLOP/s per dense product of the step (clae: profiled in the step; PyTorch: torch.mm alone)"
    printf '%-6s %-4s %-10s %12s %12s %10s %14s\n' batch gemm layer clae-default clae-tuned pytorch tuned/pytorch
    awk '{ k = $1 " " $2 " " $3; v[k, $4] = $5; if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
         END { for (i = 0; i < n; i++) { k = order[i]; split(k, p, " ");
                 if ((k, "torch") in v && (k, "auto") in v)
                     printf "%-6s %-4s %-10s %12.1f %12.1f %10.1f %13.2fx\n", p[1], p[2], p[3],
                            v[k, "none"], v[k, "auto"], v[k, "torch"], v[k, "auto"] / v[k, "torch"] } }' \
        "$gemms"
}

# Accuracy: N epochs of PyTorch, then of clae train; the test losses side by side.
accuracy() {
    local seed_torch=() seed_clae=() run batch
    if [ -n "$seed" ]; then seed_torch=(--seed "$seed"); seed_clae=(--set train.seed="$seed"); fi
    echo
    echo "== training $train_epochs epochs: PyTorch"
    "${torch_py[@]}" --train --epochs "$train_epochs" "${seed_torch[@]+"${seed_torch[@]}"}" | tee "$tmp/torch-train"
    echo "== training $train_epochs epochs: clae train"
    "$clae" train "$config" "${clae_sets[@]}" --set train.epochs="$train_epochs" \
        "${seed_clae[@]+"${seed_clae[@]}"}" --set output.root="$tmp/results" | tee "$tmp/clae-train"
    # clae train prints the run folder last.
    run="$(tail -n 1 "$tmp/clae-train")"
    [ -f "$run/loss.csv" ] || { echo "bench-vs-pytorch: no loss.csv in '$run' (clae train's last line)" >&2; exit 1; }
    sed -n 's/^epoch=\([0-9]*\) .*test_loss=\([0-9.e+-]*\) seconds=\([0-9.]*\).*/\1 \2 \3/p' \
        "$tmp/torch-train" >"$tmp/torch-losses"
    echo
    batch="$(config_get train batch_size)"
    [ -n "$seed" ] || seed="$(config_get train seed)"
    echo "== test loss after each epoch (whole test set, per pixel): clae train, then PyTorch;" \
         "batch ${batch:-50}, seed ${seed:-1}"
    # loss.csv: epoch,train_loss,test_loss,seconds,...
    awk -F, 'NR == FNR { t[$1] = $2; ts[$1] = $3; next }
        FNR == 1 { printf "%-6s %12s %12s %13s %9s %9s\n", "epoch", "clae", "pytorch", "clae/pytorch",
                   "clae-s", "pytorch-s"; next }
        { e = $1 + 0
          if (e in t) printf "%-6d %12.6f %12.6f %12.3fx %9.2f %9.2f\n", e, $3, t[e], $3 / t[e], $4, ts[e]
          else printf "%-6d %12.6f %12s %13s %9.2f %9s\n", e, $3, "-", "-", $4, "-"
          c[++cn] = $4 }
        function median(a, n,    i, j, x) {  # sorts a[1..n] in place (mawk has no asort)
            for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        END { n = 0; for (e in ts) p[++n] = ts[e]
              if (cn && n) printf "median seconds per epoch: clae %.2f, pytorch %.2f\n", median(c, cn), median(p, n) }' \
        FS=' ' "$tmp/torch-losses" FS=, "$run/loss.csv"
}

# Not `((train_only)) || speed`: set -e does not reach into a function called from a || list.
if ((train_only == 0)); then speed; fi
if [ -n "$train_epochs" ]; then accuracy; fi
