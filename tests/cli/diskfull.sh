#!/usr/bin/env bash
# diskfull: a results root that fills up in the middle of a run. A tmpfs of
# a few MiB is mounted as the root (CI runs as root; elsewhere the test
# exits 77, skipped, and says why), a first run completes there, then runs
# are frozen (SIGSTOP) at a moment when they are not writing, the disk is
# filled to a chosen level, and they go on. What must hold: exit 1 with one
# line naming the file that could not be written and "No space left on
# device"; run.json "failed" when it can still be written (else it keeps
# "running" and reads as stale); no file that claims to be complete but is
# not: the earlier model.ckpt whole (the run resumes from it once there is
# room), loss.csv whole rows, runs.csv of the root not touched, no
# temporary file left; and `clae report` on the full root fails cleanly.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start diskfull "$1" "$2"
need_mnist

if [ "$(id -u)" -ne 0 ]; then
    echo "skip: diskfull mounts a tmpfs as the results root, which needs root (CI runs as root); this is uid $(id -u)"
    exit 77
fi
mkdir full
if ! mount -t tmpfs -o size=8m clae-diskfull "$work/full" 2>mount.err; then
    echo "skip: cannot mount a tmpfs on $work/full (a container without CAP_SYS_ADMIN?): $(cat mount.err)"
    exit 77
fi
trap 'umount "$work/full" 2>/dev/null; rm -rf "$work"' EXIT

tiny_config exp.ini "$work/full"
common=(--set output.checkpoint_every=1 --quiet)

# bytes free on the tmpfs
avail() { df --output=avail -B1 "$work/full" | tail -n 1 | tr -d ' '; }
# freezes process $1 at a moment when its run folder $2 has no temporary
# file (nothing half-written whose space would come back), fills the disk
# to leave $3 bytes free, and lets the process go on
fill_leaving() {
    local pid="$1" run="$2" leave="$3"
    for _ in $(seq 500); do
        kill -STOP "$pid" || return 1
        if ! ls "$run" | grep -q '\.tmp\.'; then
            local n=$(($(avail) - leave))
            [ "$n" -gt 0 ] && fallocate -l "$n" "$work/full/filler.$pid"
            kill -CONT "$pid"
            return 0
        fi
        kill -CONT "$pid"
        sleep 0.01
    done
    return 1
}
# starts a never-ending run in the background; sets pid and run once its
# first checkpoint is on disk
start_run() {
    "$clae" train exp.ini "${common[@]}" --set train.epochs=100000 --set "output.name=$1" >"$1.out" 2>"$1.err" &
    pid=$!
    for _ in $(seq 1200); do
        run="$(ls -d "$work"/full/*-"$1" 2>/dev/null | head -n 1)"
        [ -n "$run" ] && [ -f "$run/model.ckpt" ] && return 0
        sleep 0.05
    done
    bad "$1: no checkpoint within 60 s: $(cat "$1.err")"
    return 1
}
# waits up to 60 s for process $1 to end; its exit code in rc
finish() {
    for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null && bad "the run went on with a full disk for 60 s"
    wait "$1"; rc=$?
}
# the checks every run that hit the full disk must pass
whole_files() {
    local run="$1" what="$2"
    awk -F, 'NR > 1 && NF != 10 { bad = 1 } END { exit bad || NR < 2 }' "$run/loss.csv" \
        && [ "$(tail -c 1 "$run/loss.csv" | od -An -c | tr -d ' ')" = '\n' ] && ok \
        || bad "$what: loss.csv is not whole rows: $(cat "$run/loss.csv")"
    ! ls "$run" | grep -q '\.tmp\.' && ok || bad "$what: temporary files left: $(ls "$run")"
    cmp -s full/runs.csv runs.before && ok || bad "$what: runs.csv changed: $(cat full/runs.csv)"
}
# frees the disk, then resumes the run for one more epoch from its checkpoint
resume_one_more() {
    local run="$1" what="$2"
    rm -f "$work"/full/filler.*
    local e; e="$(od -An -tu4 -j36 -N4 "$run/model.ckpt" | tr -d ' ')"
    "$clae" train --resume "$run" --set train.epochs=$((e + 1)) --quiet >res.out 2>&1 \
        && grep -q '"status": "completed"' "$run/run.json" && grep -q "^$(basename "$run")," full/runs.csv \
        && ok || bad "$what: the checkpoint left by a full disk does not resume: $(cat res.out)"
    cp full/runs.csv runs.before # now with its row
}

# a completed run first: its runs.csv row must survive everything below
"$clae" train exp.ini --quiet --set output.name=first >first.out 2>&1 && [ -f full/runs.csv ] \
    && ok || bad "first run on the tmpfs: $(cat first.out)"
cp full/runs.csv runs.before

# ---- 1. room for the small files, not for the next checkpoint
start_run ckpt && fill_leaving "$pid" "$run" $((256 * 1024)) || bad "could not fill the disk"
finish "$pid"
err="$(cat ckpt.err)"
[ "$rc" -eq 1 ] && [ "$(wc -l <ckpt.err)" -eq 1 ] \
    && grep -qF "clae: $run/model.ckpt: write failed: No space left on device" ckpt.err \
    && ok || bad "checkpoint on a full disk: exit $rc, stderr: $err"
grep -q '"status": "failed"' "$run/run.json" && grep -qF "model.ckpt: write failed: No space left on device" "$run/run.json" \
    && ok || bad "run.json after a failed checkpoint: $(cat "$run/run.json")"
whole_files "$run" "failed checkpoint"
resume_one_more "$run" "failed checkpoint"

# ---- 2. no room at all: whatever it writes next fails, run.json too
start_run full && fill_leaving "$pid" "$run" 0 || bad "could not fill the disk"
finish "$pid"
err="$(cat full.err)"
[ "$rc" -eq 1 ] && [ "$(wc -l <full.err)" -eq 1 ] && grep -qF "clae: $run/" full.err \
    && grep -qF ": write failed: No space left on device" full.err \
    && ok || bad "a full disk: exit $rc, stderr: $err"
# run.json says failed, or (when even it could not be written) the run
# reads as stale: never running
st="$("$clae" compare full 2>/dev/null | awk -v id="$(basename "$run")" '$1 == id { print $2 }')"
[ "$st" = failed ] || [ "$st" = stale ] && ok || bad "a run stopped by a full disk shows as '$st'"
echo "full disk: $err; the run shows as $st"
whole_files "$run" "full disk"
# clae report on the full root: fails with one line, runs.csv untouched,
# no page half written
out="$("$clae" report full 2>&1)"; rc=$?
[ "$rc" -eq 1 ] && grep -q "No space left on device" <<<"$out" && ok || bad "report on a full disk: $rc $out"
cmp -s full/runs.csv runs.before && ok || bad "report on a full disk changed runs.csv"
for page in full/index.html full/*/index.html; do
    [ ! -e "$page" ] || tail -n 1 "$page" | grep -q '</html>' || bad "$page is cut short"
done
ok
resume_one_more "$run" "full disk"

test_end
