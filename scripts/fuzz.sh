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
# replays it. Prints one line per harness with its executions. Runs
# CLAE_FUZZ_JOBS harnesses at a time (default: one per core). An input that
# takes over 25 s is a hang (the slowest legitimate one, a sweep file of
# 100,000 jobs, takes about 3 s there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "$1" && pwd)"
seconds="${2:-${CLAE_FUZZ_SECONDS:-30}}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz: seconds '$seconds' is not a whole number >= 1 (usage: fuzz.sh BUILD_DIR [SECONDS [READER...]])" >&2
    exit 2
fi
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
# one harness; its summary line goes to $scratch/$r.result
run_one() {
    local r="$1" bin="$build/fuzz_$1"
    local corpus="$scratch/corpus-$r" log="$build/fuzz-artifacts/$r.log"
    mkdir -p "$corpus" "$build/fuzz-artifacts/$r"
    cp "$root/tests/fuzz/corpus/$r"/* "$corpus/"
    if [ -d "$root/tests/fuzz/regress/$r" ]; then cp "$root/tests/fuzz/regress/$r"/* "$corpus/"; fi
    local opts=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=8192
                -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$r/")
    [ -f "$root/tests/fuzz/$r.dict" ] && opts+=(-dict="$root/tests/fuzz/$r.dict")
    local rc=0
    TMPDIR="$scratch" ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
        LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        "$bin" "${opts[@]}" "$corpus" >"$log" 2>&1 || rc=$?
    local execs cov
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
    if [ "$rc" -ne 0 ]; then
        { echo "fuzz_$r: FAILED (exit $rc) after ${execs:-?} executions; log $log; artifacts:" \
               "$(ls "$build/fuzz-artifacts/$r/")"
          grep -E "ERROR|broken promise|runtime error|SUMMARY" "$log" | head -n 5 || true; } >"$scratch/$r.result"
        return 1
    fi
    echo "fuzz_$r: ${execs:-?} executions in ${seconds}s, $cov, no crash" >"$scratch/$r.result"
}

for r in "${readers[@]}"; do
    if [ ! -x "$build/fuzz_$r" ]; then
        echo "fuzz: $build/fuzz_$r is missing (configure with -DCLAE_FUZZ=ON and build it)" >&2
        exit 2
    fi
done
# $jobs harnesses at a time (default: one per core)
jobs="${CLAE_FUZZ_JOBS:-$(nproc)}"
running=0
for r in "${readers[@]}"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    run_one "$r" &
    running=$((running + 1))
done
wait || true
failed=0
for r in "${readers[@]}"; do
    cat "$scratch/$r.result" 2>/dev/null || { echo "fuzz_$r: no result"; failed=1; }
    grep -q "FAILED" "$scratch/$r.result" 2>/dev/null && failed=1
done
exit "$failed"
