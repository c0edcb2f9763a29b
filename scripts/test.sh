#!/usr/bin/env bash
# test.sh: build (configuring first if needed) and run the whole test suite.
# MNIST_DIR (default ../shared/data/mnist beside the checkout) holds the real
# data for the end-to-end tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCLAE_WERROR="${CLAE_WERROR:-ON}"
fi
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure "$@"
