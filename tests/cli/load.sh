#!/usr/bin/env bash
# load: one results root under load. 16 `clae train` processes, a
# `clae sweep --skip-done` and a `clae report` loop started at once, while
# /proc/locks is sampled. What must hold: every run completes; runs.csv has
# exactly one whole row per completed run; no two runs share a folder; every
# process used the kernel-cache slot whose lock it held, and no slot was
# held by two live processes; every report in the loop succeeded. Tiny runs
# (500 images, 2 epochs) on real MNIST, so it stays within a minute or so
# on 2 cores once the kernel caches are warm.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start load "$1" "$2"
need_mnist
unset POCL_CACHE_DIR # the slots are what is tested
N=16
root="$work/r"
tiny_config exp.ini "$root"
tiny_config sw.ini "$root"
printf '[sweep]\ntrain.learning_rate = 1e-3, 2e-3, 3e-3\n' >>sw.ini
# job 0 is done before the load: the sweep must skip it and run 1 and 2
"$clae" sweep sw.ini --index 0 --quiet >pre.out 2>&1 && ok || bad "sweep job 0: $(cat pre.out)"

sample_locks() {
    while [ ! -e stop ]; do
        { cat /proc/locks; echo --; } >>locks.txt
        sleep 0.05
    done
}
report_loop() {
    local n=0 fails=0
    while [ ! -e stop ]; do
        "$clae" report "$root" >/dev/null 2>>report.err || fails=$((fails + 1))
        n=$((n + 1))
        sleep 0.5 # as a watch(1) loop would
    done
    echo "$n $fails" >report.count
}
sample_locks & sampler=$!
report_loop & reporter=$!
pids=()
for i in $(seq "$N"); do
    "$clae" train exp.ini --quiet >"t$i.out" 2>"t$i.err" &
    pids+=($!)
done
"$clae" sweep sw.ini --skip-done --quiet >sweep.out 2>&1 &
spid=$!
for i in $(seq "$N"); do
    wait "${pids[$((i - 1))]}" || bad "train $i: exit $?: $(cat "t$i.err")"
done
wait "$spid" && grep -q "summary: 3 runs: 2 completed, 1 skipped" sweep.out && ok \
    || bad "sweep --skip-done under load: $(cat sweep.out)"
touch stop
wait "$sampler" "$reporter"
read -r reports report_fails <report.count
[ "$reports" -ge 1 ] && [ "$report_fails" -eq 0 ] && ok || bad "$report_fails of $reports reports failed: $(head -n 3 report.err)"
echo "load: $N trains + a sweep, $reports reports written meanwhile"

# every run completed, each in a folder of its own
total=$((N + 3))
folders="$(ls -d "$root"/*/ | sed 's:/$::' | sort)"
[ "$(wc -l <<<"$folders")" -eq "$total" ] && ok || bad "$total runs, folders: $(ls "$root")"
for f in $folders; do
    grep -q '"status": "completed"' "$f/run.json" || bad "$f: $(grep status "$f/run.json")"
done
printed="$(for i in $(seq "$N"); do tail -n 1 "t$i.out"; done | sort)"
[ "$(uniq <<<"$printed" | wc -l)" -eq "$N" ] && ok || bad "two trains printed the same folder: $printed"
for i in $(seq "$N"); do
    grep -q "\"pid\": ${pids[$((i - 1))]}," "$(tail -n 1 "t$i.out")/run.json" || bad "train $i's folder has another process's run.json"
done

# runs.csv: the header and exactly one whole row per completed run
awk -F, 'NR > 1 && NF != 15 { bad = 1 } END { exit bad }' "$root/runs.csv" && [ "$(tail -c 1 "$root/runs.csv" | od -An -c | tr -d ' ')" = '\n' ] \
    && ok || bad "runs.csv has a broken row: $(cat "$root/runs.csv")"
[ "$(($(wc -l <"$root/runs.csv") - 1))" -eq "$total" ] && ok || bad "runs.csv: $(wc -l <"$root/runs.csv") lines for $total runs"
[ "$(tail -n +2 "$root/runs.csv" | cut -d, -f1 | sort)" = "$(for f in $folders; do basename "$f"; done)" ] \
    && ok || bad "runs.csv rows are not one per folder: $(cut -d, -f1 "$root/runs.csv")"

# kernel-cache slots: each process recorded the slot whose lock it held
# (seen in /proc/locks), no slot lock was seen held by two processes in one
# sample, and the processes that ran together had different slots
slot_of() { sed -n 's/.*"kernel_cache": ".*\/\(slot-[0-9]*\)".*/\1/p' "$1/run.json"; }
pid_of() { sed -n 's/.*"pid": \([0-9]*\),.*/\1/p' "$1/run.json"; }
cache="$(sed -n 's/.*"kernel_cache": "\(.*\)\/slot-[0-9]*".*/\1/p' "$(head -n 1 <<<"$folders")/run.json")"
[ -n "$cache" ] && ok || bad "run.json records no kernel-cache slot"
declare -A slot_inode pid_slot
for lock in "$cache"/slot-*.lock; do slot_inode[$(stat -c %i "$lock")]="$(basename "$lock" .lock)"; done
for f in $folders; do pid_slot[$(pid_of "$f")]="$(slot_of "$f")"; done
# /proc/locks: "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF" (waiters have "->")
awk -v out=held.txt '
    $1 == "--" { sample++; next }
    $2 == "FLOCK" { split($6, d, ":"); print sample, $5, d[3] > out }' locks.txt
shared=0 checked=0 wrong=0
: > slot_held.txt
while read -r sample pid inode; do
    [ -n "$inode" ] || continue
    slot="${slot_inode[$inode]:-}"
    [ -z "$slot" ] && continue # not a slot lock (.runs.lock, anything else on the machine)
    echo "$sample $pid $inode" >> slot_held.txt
    [ -z "${pid_slot[$pid]:-}" ] && continue # a report or the sweep's job 0 before the load
    checked=$((checked + 1))
    [ "${pid_slot[$pid]}" = "$slot" ] || { wrong=$((wrong + 1)); echo "pid $pid held $slot but used ${pid_slot[$pid]}"; }
done <held.txt
[ "$checked" -gt 0 ] && [ "$wrong" -eq 0 ] && ok || bad "$wrong of $checked slot-lock sightings did not match run.json"
# (a sample can list one lock twice: /proc/locks is not read atomically)
# (only the kernel-cache slots count: other programs' shared locks may be held
# by several processes at once, rightly)
dups="$(sort -u slot_held.txt | awk '{ print $1, $3 }' | sort | uniq -d)"
[ -z "$dups" ] && ok || bad "a lock held by two processes at once: $(head -n 3 <<<"$dups")"
# the $N + 1 processes ran at the same time: $N + 1 different slots
[ "$(for p in "${pids[@]}" "$spid"; do echo "${pid_slot[$p]:-none$p}"; done | sort -u | wc -l)" -eq $((N + 1)) ] \
    && ok || bad "slots: $(for p in "${pids[@]}" "$spid"; do echo -n "${pid_slot[$p]:-?} "; done)"
echo "load: $checked sightings of slot locks in $(grep -c -- '^--' locks.txt) samples of /proc/locks"
test_end
