#!/usr/bin/env bash
# fuzz.sh: runs every libFuzzer harness of a CLAE_FUZZ=ON build for a bounded
# time and fails on any crash, hang, out-of-memory or sanitizer report.
#
#   scripts/fuzz.sh BUILD_DIR [SECONDS_EACH] [READER...]
#
# Each harness (tests/fuzz/fuzz_<reader>.c; the list is CLAE_FUZZ_TARGETS in
# CMakeLists.txt) starts from a copy of its committed seed corpus and the
# inputs that once crashed it, with its dictionary when there is one, and
# runs SECONDS_EACH seconds (default $CLAE_FUZZ_SECONDS, else 30). The
# corpus it grows is thrown away: the committed seeds stay small. A crashing
# input is kept under BUILD_DIR/fuzz-artifacts/<reader>/; add it to
# tests/fuzz/regress/<reader>/ once the bug is fixed, so that every build
# replays it. Prints one line per harness with its executions.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "$1" && pwd)"
seconds="${2:-${CLAE_FUZZ_SECONDS:-30}}"
shift $(($# >= 2 ? 2 : $#))
readers=("$@")
if ((${#readers[@]} == 0)); then
    read -ra readers <<<"$(sed -n 's/^set(CLAE_FUZZ_TARGETS \(.*\))$/\1/p' "$root/CMakeLists.txt")"
fi
# The harnesses write their inputs to files: a RAM disk makes that cheap.
scratch_base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_base=/dev/shm
scratch="$(mktemp -d "$scratch_base/clae-fuzz-run-XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
failed=0
for r in "${readers[@]}"; do
    bin="$build/fuzz_$r"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is missing (configure with -DCLAE_FUZZ=ON and build it)" >&2
        exit 2
    fi
    corpus="$scratch/corpus-$r"
    mkdir -p "$corpus" "$build/fuzz-artifacts/$r"
    cp "$root/tests/fuzz/corpus/$r"/* "$corpus/"
    if [ -d "$root/tests/fuzz/regress/$r" ]; then cp "$root/tests/fuzz/regress/$r"/* "$corpus/"; fi
    opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
          -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$r/")
    [ -f "$root/tests/fuzz/$r.dict" ] && opts+=(-dict="$root/tests/fuzz/$r.dict")
    log="$build/fuzz-artifacts/$r.log"
    rc=0
    TMPDIR="$scratch" ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        "$bin" "${opts[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
    if [ "$rc" -ne 0 ]; then
        failed=1
        echo "fuzz_$r: FAILED (exit $rc) after ${execs:-?} executions; log $log; artifacts:"
        ls "$build/fuzz-artifacts/$r/" >&2
        grep -E "ERROR|broken promise|runtime error|SUMMARY" "$log" | head -n 5 >&2 || true
    else
        echo "fuzz_$r: ${execs:-?} executions in ${seconds}s, $cov, no crash"
    fi
done
exit "$failed"
