#!/usr/bin/env bash
# bench-vs-pytorch.sh: the seed experiment's training step, clae against
# PyTorch on the CPU, measured in one run on this machine.
#
#   scripts/bench-vs-pytorch.sh [--batches 50,256] [--seconds S] [--steps N]
#                               [--clae PATH] [--data DIR] [--venv DIR]
#
# For each batch size: PyTorch (installed into a throwaway virtual
# environment; a benchmark dependency only, never clae's) trains the same
# network (784-500-300-2-300-500-784, tanh, Adam 1e-4, N(0, 0.1^2) weights)
# on the same images (MNIST digits 1, 5, 6) for S seconds, then
# `clae bench configs/mnist-156.ini` runs right after it twice: with CLBlast's
# own parameters ([device] tuning = none) and with the device's tuning
# ([device] tuning = auto: the file `clae tune` wrote, else a shipped one).
# Prints images/s and the ratios, then the GFLOP/s of every product of the
# step in all three.
#
# --venv DIR reuses (or creates) that environment instead of a temporary
# one; CLAE_TORCH_VENV does the same. Needs network access to PyPI (or the
# PyTorch CPU index) the first time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
batches=50,256 seconds=10 steps=200
clae="$root/build/clae"
data="${MNIST_DIR:-$root/data/mnist}"
venv="${CLAE_TORCH_VENV:-}"
while [ $# -gt 0 ]; do
    case "$1" in
    --batches) batches="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --clae) clae="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --venv) venv="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench-vs-pytorch: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$clae" ] || { echo "bench-vs-pytorch: no clae at $clae (run scripts/setup.sh, or --clae PATH)" >&2; exit 2; }
[ -f "$data/train-images-idx3-ubyte.gz" ] || [ -f "$data/train-images-idx3-ubyte" ] ||
    { echo "bench-vs-pytorch: no MNIST in $data (scripts/get-mnist.sh, or --data DIR)" >&2; exit 2; }
data="$(cd "$data" && pwd)"

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

echo "== machine"
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
     "AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
"$clae" --version
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())'
"$clae" devices | sed -n 's/^  device 0:0 .*name=\([^ ].*\)  compute_units.*/opencl device: \1/p'
"$clae" devices | sed -n '0,/tuning:/s/^ *\(tuning: .*\)/\1/p'

summary="$tmp/summary" gemms="$tmp/gemms"
: >"$summary"
: >"$gemms"
IFS=, read -r -a list <<<"$batches"
for B in "${list[@]}"; do
    echo "== batch $B: PyTorch"
    "$venv/bin/python" "$root/scripts/bench_pytorch.py" --data "$data" --batch "$B" \
        --seconds "$seconds" --gemm | tee "$tmp/torch-$B"
    for tuning in none auto; do
        echo "== batch $B: clae bench, [device] tuning = $tuning"
        "$clae" bench "$root/configs/mnist-156.ini" --set data.dir="$data" \
            --set train.batch_size="$B" --set device.tuning="$tuning" --steps "$steps" \
            | tee "$tmp/clae-$B-$tuning"
    done
    t_ips="$(sed -n 's/^pytorch batch=[0-9]* images_per_s=\([0-9]*\).*/\1/p' "$tmp/torch-$B")"
    d_ips="$(sed -n 's/^timed: .* in [0-9.]*s: \([0-9]*\) images\/s.*/\1/p' "$tmp/clae-$B-none")"
    a_ips="$(sed -n 's/^timed: .* in [0-9.]*s: \([0-9]*\) images\/s.*/\1/p' "$tmp/clae-$B-auto")"
    echo "$B $d_ips $a_ips $t_ips" >>"$summary"
    # Per product: clae's profile (GFLOP/s is the last column of sgemm rows)
    # against PyTorch's torch.mm on the same shape.
    for tuning in none auto; do
        awk -v B="$B" -v t="$tuning" '$1 == "sgemm" && $NF ~ /^[0-9.]+$/ {
            print B, $2, $3, t, $NF }' "$tmp/clae-$B-$tuning" >>"$gemms"
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
echo "== GFLOP/s per product of the step (clae: profiled in the step; PyTorch: torch.mm alone)"
printf '%-6s %-4s %-10s %12s %12s %10s %14s\n' batch gemm layer clae-default clae-tuned pytorch tuned/pytorch
awk '{ k = $1 " " $2 " " $3; v[k, $4] = $5; if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
     END { for (i = 0; i < n; i++) { k = order[i]; split(k, p, " ");
             if ((k, "torch") in v && (k, "auto") in v)
                 printf "%-6s %-4s %-10s %12.1f %12.1f %10.1f %13.2fx\n", p[1], p[2], p[3],
                        v[k, "none"], v[k, "auto"], v[k, "torch"], v[k, "auto"] / v[k, "torch"] } }' \
    "$gemms"
