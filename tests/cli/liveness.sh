#!/usr/bin/env bash
# liveness: a run on another host, whose process this host cannot ask
# about, judged by its heartbeat. The other host is a UTS namespace
# (`unshare --uts`) with another host name on the same file system, as a
# cluster node with a shared results root. What must hold, with
# [output] heartbeat = 1: while the run lives, `clae report`, `clae compare`
# and the run page never show it stale (checked for longer than the
# staleness delay), `clae sweep --skip-done` leaves it alone and
# `clae train --resume` refuses it; killed with SIGKILL, it shows as stale
# in all three once its heartbeat expires (not before: HEARTBEAT_MULTIPLE x
# 1 s + HEARTBEAT_SKEW, 3 + 10 s, after its last beat), with the reason;
# `--resume` then takes it, `sweep --skip-done` runs the job again, and a
# damaged heartbeat.json reads as stale with its reason, never completed.
# Real processes, real signals, real MNIST. Needs root (unshare); skips
# with the reason otherwise (a failure with CLAE_NO_SKIP=1).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start liveness "$1" "$2"
need_mnist

# heartbeat.h: a beat is stale after HEARTBEAT_MULTIPLE intervals plus
# HEARTBEAT_SKEW seconds
multiple="$(sed -n 's/^#define HEARTBEAT_MULTIPLE \([0-9]*\).*/\1/p' "$src/src/io/heartbeat.h")"
skew="$(sed -n 's/^#define HEARTBEAT_SKEW \([0-9]*\).*/\1/p' "$src/src/io/heartbeat.h")"
[ -n "$multiple" ] && [ -n "$skew" ] || { echo "FAIL: no HEARTBEAT_MULTIPLE or HEARTBEAT_SKEW"; exit 1; }
delay=$((multiple * 1 + skew)) # with a 1 s interval

other=node-b-$$
why="$(unshare --uts sh -c "echo $other >/proc/sys/kernel/hostname" 2>&1)" \
    || skip "unshare --uts is not permitted here (it needs root): $why"
[ "$other" != "$(uname -n)" ] || skip "this host is already called $other"
# runs `clae ARGS` as a process of host $other, in the background (&): $! is
# then clae's own pid (the subshell, unshare and sh exec it)
on_other() {
    exec unshare --uts sh -c 'echo "$0" >/proc/sys/kernel/hostname && exec "$@"' "$other" "$clae" "$@"
}

# one sweep job that outlives the checks however fast the machine (it is
# killed or interrupted, never run to its end: 60 epochs once ended inside
# the live window on a quiet machine)
cat >sw.ini <<EOF
[data]
dir = $mnist
digits = 1,5,6
train_limit = 12000
[model]
encoder = 64
[train]
epochs = 5000
batch_size = 50
learning_rate = 1e-3
[output]
root = $work/r
recon_every = 0
checkpoint_every = 1
heartbeat = 1
[sweep]
train.learning_rate = 1e-3
EOF
# the run.json under r/ that names host $1
run_of() { grep -l "\"host\": \"$1\"" r/*/run.json 2>/dev/null | head -n 1 | xargs -r dirname; }

on_other sweep sw.ini --index 0 --quiet >other.out 2>&1 &
pid=$!
for _ in $(seq 1200); do
    run="$(run_of "$other")"
    [ -n "$run" ] && grep -qs '"epochs_completed": [1-9]' "$run/run.json" && break
    sleep 0.05
done
[ -n "$run" ] && grep -q "\"pid\": $pid," "$run/run.json" && grep -q '"heartbeat": 1,' "$run/run.json" \
    && ok || { bad "the run on $other never got going: $(cat other.out)"; kill -KILL "$pid"; test_end; exit 1; }
[ -f "$run/heartbeat.json" ] && grep -q "\"host\": \"$other\"" "$run/heartbeat.json" \
    && ok || bad "no heartbeat.json of $other: $(cat "$run/heartbeat.json")"

# ---- alive: never stale, for longer than the staleness delay
polls=0 seen_stale=0
end=$((SECONDS + delay + 4))
while [ "$SECONDS" -lt "$end" ] && kill -0 "$pid" 2>/dev/null; do
    "$clae" report r >rep.out 2>&1 || bad "report: $(cat rep.out)"
    cmp="$("$clae" compare r 2>&1)"
    if grep -q stale rep.out || grep -q stale <<<"$cmp" || ! grep -q 'badge s-running">running<' "$run/index.html"; then
        seen_stale=$((seen_stale + 1)); echo "live run shown stale: $(cat rep.out) $cmp"
    fi
    polls=$((polls + 1))
    sleep 0.5
done
kill -0 "$pid" 2>/dev/null && ok || bad "the run on $other ended early: $(cat other.out)"
[ "$seen_stale" -eq 0 ] && [ "$polls" -ge 10 ] && ok || bad "a live run was shown stale $seen_stale times in $polls"
grep -q "1 run (1 running)" rep.out && ok || bad "report of a live run on $other: $(cat rep.out)"
echo "liveness: $polls reports and compares over $((delay + 4)) s of a live run on $other"
# --skip-done leaves the live job alone; --resume refuses it
out="$("$clae" sweep sw.ini --index 0 --skip-done --quiet 2>&1)"; rc=$?
[ "$rc" -eq 0 ] && grep -q "^job 0 (sw_lr=1e-3): skipped, still running in" <<<"$out" \
    && [ "$(ls -d r/*/ | wc -l)" -eq 1 ] && ok || bad "sweep --skip-done of a live job: $rc $out"
err="$("$clae" train --resume "$run" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] && grep -qF "the run is still going on host $other (process $pid; its heartbeat is" <<<"$err" \
    && ok || bad "--resume of a live run on $other: $rc $err"

# ---- killed: stale once the heartbeat expires, not before
kill -KILL "$pid"
wait "$pid"
killed=$(date +%s.%N)
stale_after=""
for _ in $(seq 300); do
    if "$clae" report r 2>&1 | grep -q "1 stale"; then
        stale_after=$(awk -v a="$killed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
        break
    fi
    sleep 0.2
done
echo "liveness: a run killed on $other shows as stale after ${stale_after:-never} s (heartbeat 1 s, documented at most $delay s after its last beat)"
# its last beat was at most about 1 s before the kill (a beat per second,
# at the sync points): stale no sooner than delay - 2 s, and no later than
# delay + 3 s for the polling and a loaded machine
[ -n "$stale_after" ] && awk -v t="$stale_after" -v d="$delay" 'BEGIN { exit !(t >= d - 2 && t <= d + 3) }' \
    && ok || bad "stale after ${stale_after:-never} s, want $((delay - 2))..$((delay + 3)) s"
out="$("$clae" compare r 2>cmp.err)"
grep -q stale <<<"$out" && grep -qF "is stale: run.json says running, but its process $pid on $other gives no sign of life: heartbeat.json is" cmp.err \
    && grep -qF "continue with: clae train --resume r/$(basename "$run")" cmp.err && ok || bad "compare of the killed run: $out $(cat cmp.err)"
grep -q 'badge s-stale">stale<' "$run/index.html" && ! grep -q 'http-equiv="refresh"' "$run/index.html" \
    && grep -qF "gives no sign of life" "$run/index.html" && ok || bad "the run page of the killed run"
grep -Eq 's-stale"[^>]*>stale<' r/index.html && ok || bad "the index with the killed run"

# a damaged heartbeat: stale with the reason, never completed
cp "$run/heartbeat.json" beat.keep
printf '{"time_ms": 17' >"$run/heartbeat.json"
"$clae" compare r >/dev/null 2>cmp2.err
grep -qF "gives no sign of life: heartbeat.json is damaged (heartbeat.json:1:" cmp2.err \
    && ok || bad "a damaged heartbeat: $(cat cmp2.err)"
"$clae" report r 2>&1 | grep -q "1 stale" && ok || bad "report of a damaged heartbeat"
cp beat.keep "$run/heartbeat.json"

# ---- --skip-done runs the stale job again (stopped once it is under way)
"$clae" sweep sw.ini --index 0 --skip-done --quiet >again.out 2>&1 &
spid=$!
for _ in $(seq 600); do
    again="$(run_of "$(uname -n)")"
    [ -n "$again" ] && grep -qs '"epochs_completed": [1-9]' "$again/run.json" && break
    sleep 0.05
done
kill -INT "$spid"; wait "$spid"; rc=$?
[ -n "$again" ] && [ "$again" != "$run" ] && ! grep -q skipped again.out && [ "$rc" -eq 1 ] \
    && grep -q '"status": "interrupted"' "$again/run.json" && ok || bad "sweep --skip-done of a stale job: $rc $(cat again.out)"
# and --resume takes the stale run over from this host
"$clae" train --resume "$run" --quiet >res.out 2>&1 &
rpid=$!
for _ in $(seq 600); do
    grep -qs "\"host\": \"$(uname -n)\"" "$run/run.json" && grep -qs '"resumes": 1' "$run/run.json" && break
    sleep 0.05
done
kill -INT "$rpid"; wait "$rpid"; rc=$?
[ "$rc" -eq 1 ] && grep -q '"status": "interrupted"' "$run/run.json" && grep -q '"resumes": 1' "$run/run.json" \
    && ok || bad "--resume of the stale run: $rc $(cat res.out)"
! ls "$run" | grep -q '\.tmp\.' && ok || bad "temporary files left: $(ls "$run")"

test_end
