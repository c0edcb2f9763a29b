#!/usr/bin/env bash
# setup.sh: install clae's Debian packages (those missing), configure and
# build into build/, and fetch MNIST into data/mnist when it is incomplete.
# Works as root, and through sudo otherwise. Extra arguments go to cmake's
# configure step (e.g. -DCLAE_SANITIZE=ON).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The last seven are for the tests only: the report test loads the HTML pages
# in headless Chromium, the slurm test starts a one-node Slurm cluster
# (slurm-wlm, munge), the parallel test runs GNU parallel, CI fuzzes the
# file readers with clang's libFuzzer (its runtime, libclang_rt.fuzzer, comes
# with clang), and the data test trains on Fashion-MNIST (configs/fashion.ini's
# data, in /usr/share/datasets/fashion-mnist) and on .npy files that NumPy
# writes.
packages=(build-essential cmake pkg-config clinfo ocl-icd-opencl-dev opencl-headers
          pocl-opencl-icd libclblast-dev libinih-dev zlib1g-dev libjansson-dev
          libcairo2-dev libpng-dev fonts-dejavu-core
          chromium slurm-wlm munge parallel clang dataset-fashion-mnist python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_type="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" -DCLAE_WERROR="${CLAE_WERROR:-ON}" "$@"
cmake --build build -j "$(nproc)"

# The tests use ../shared/data/mnist (or MNIST_DIR); data/mnist is for the
# quick start, so failing to get it is only a warning here.
need_mnist=0
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -e "data/mnist/$f.gz" ] || [ -e "data/mnist/$f" ] || need_mnist=1
done
if ((need_mnist)); then
    if [ -z "${MNIST_DIR:-}" ] && [ -d "$root/../shared/data/mnist" ]; then
        export MNIST_DIR="$root/../shared/data/mnist"
    fi
    scripts/get-mnist.sh || echo "setup: warning: MNIST not in data/mnist; run scripts/get-mnist.sh" \
        "(or MNIST_DIR=/path/to/mnist scripts/get-mnist.sh) before clae train configs/mnist-156.ini" >&2
fi
echo "setup: built $root/build/clae"
