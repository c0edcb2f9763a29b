#!/usr/bin/env bash
# parallel: docs/clusters.md's GNU parallel recipe for real, on real MNIST: a
# 4-job sweep through `clae sweep --list | cut -f1 | parallel -j 2 --joblog`,
# one job killed (SIGTERM) while it trains, `--resume-failed` re-running only
# that job, and the results against the same sweep run with `clae sweep
# --jobs 2`: the same completed run names, the same config.ini for each
# (but the results root) and bit-identical losses (same seed, same device).
# Skips (77) only when GNU parallel is not installed; .ci/run sets
# CLAE_NO_SKIP=1, so in CI that is a failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start parallel "$1" "$2"
need_mnist
if ! parallel --version 2>/dev/null | grep -q '^GNU parallel'; then
    skip "GNU parallel is not installed (Debian package: parallel)"
fi

tiny_config base.ini rp
cat > pp.ini <<EOF
$(cat base.ini)
[sweep]
train.epochs = 2, 30
model.latent = 2, 3
EOF
# docs/clusters.md's recipe (--will-cite only silences GNU parallel's notice).
recipe() {
    "$clae" sweep pp.ini --list | cut -f1 |
        parallel --will-cite -j 2 --joblog jobs.log "$@" "$clae" sweep pp.ini --index {} --quiet
}
# "SEQ EXITVAL INDEX" of each row of the job log (INDEX: the command's --index).
joblog() {
    awk -F'\t' 'NR > 1 { n = split($9, w, " "); idx = "?"
                         for (i = 1; i < n; i++) if (w[i] == "--index") idx = w[i + 1]
                         print $1, $7, idx }' jobs.log
}
# The PID of this test's `clae sweep pp.ini --index $1` (its folder is the
# working directory), if it runs.
job_pid() {
    local p want="$clae sweep pp.ini --index $1 --quiet "
    for p in /proc/[0-9]*; do
        [ "$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)" = "$want" ] &&
            [ "$(readlink "$p/cwd")" = "$work" ] && { echo "${p#/proc/}"; return 0; }
    done
    return 1
}

# ---- round 1: job 2 (30 epochs) is killed after its first epoch ----
recipe > p1.out 2> p1.err &
runner=$!
long="" pid=""
for _ in $(seq 600); do
    long="$(ls -d rp/*-pp_epochs=30_latent=2 2>/dev/null | head -n 1)"
    if [ -n "$long" ] && [ "$(wc -l < "$long/loss.csv" 2>/dev/null || echo 0)" -ge 2 ] && pid="$(job_pid 2)"; then
        break
    fi
    sleep 0.1
done
check '[ -n "$pid" ]' "job 2 was not seen training within 60 s: $(ls rp 2>&1)"
[ -n "$pid" ] && kill -TERM "$pid"
wait "$runner"; rc=$?
check '[ $rc = 1 ]' "parallel with one job killed: exit $rc, want 1 (one failed job): $(cat p1.err)"
check '[ "$(joblog | wc -l)" = 4 ]' "job log after round 1: $(cat jobs.log)"
check '[ "$(joblog | awk "\$2 != 0")" = "3 1 2" ]' \
    "job log: only job 2 (seq 3) should have failed, with exit 1: $(cat jobs.log)"
check 'grep -q "\"status\": \"interrupted\"" "$long/run.json" && [ -s "$long/model.ckpt" ]' \
    "the killed job's run: $(cat "$long/run.json" 2>&1)"
check '[ "$(completed rp)" = 3 ]' "round 1: $(completed rp) of 4 completed"

# ---- round 2: --resume-failed runs job 2 again, and nothing else ----
recipe --resume-failed > p2.out 2> p2.err; rc=$?
check '[ $rc = 0 ]' "--resume-failed: exit $rc: $(cat p2.err)"
check '[ "$(joblog | wc -l)" = 5 ] && [ "$(joblog | tail -n 1)" = "3 0 2" ]' \
    "--resume-failed should add one row, job 2 with exit 0: $(cat jobs.log)"
check '[ "$(ls -d rp/*/ | wc -l)" = 5 ] && [ "$(completed rp)" = 4 ]' \
    "after --resume-failed: $(ls -d rp/*/ | wc -l) folders, $(completed rp) completed"
check_runs_csv rp 4

# ---- the same sweep with --jobs 2 ----
out="$("$clae" sweep pp.ini --jobs 2 --set output.root=rj 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(completed rj)" = 4 ]' "--jobs 2: exit $rc, $(completed rj) completed: $out"
# run name -> folder, completed runs only
names() {
    local d
    for d in "$1"/*/; do
        grep -q '"status": "completed"' "$d/run.json" 2>/dev/null && basename "$d" | cut -d- -f3-
    done | sort
}
check '[ "$(names rp)" = "$(names rj)" ] && [ "$(names rp | wc -l)" = 4 ]' \
    "run names: parallel $(names rp | tr '\n' ' '), --jobs $(names rj | tr '\n' ' ')"
for n in $(names rp); do
    p="$(grep -l '"status": "completed"' rp/*-"$n"/run.json | xargs dirname)"
    j="$(ls -d rj/*-"$n")"
    check '[ -s "$p/config.ini" ] && diff <(grep -v "^root = " "$p/config.ini") <(grep -v "^root = " "$j/config.ini") > /dev/null' \
        "$n: config.ini differs: $(diff "$p/config.ini" "$j/config.ini")"
    check '[ "$(wc -l < "$p/loss.csv")" -ge 3 ] && cmp -s <(cut -d, -f1-3 "$p/loss.csv") <(cut -d, -f1-3 "$j/loss.csv")' \
        "$n: losses differ between parallel and --jobs: $(paste -d' ' "$p/loss.csv" "$j/loss.csv")"
done

test_end
