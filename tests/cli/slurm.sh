#!/usr/bin/env bash
# slurm: `clae sweep --slurm` on a real one-node Slurm cluster (munged,
# slurmctld and slurmd started by tests/cli/slurm-node.sh), on real MNIST:
#  1. a 6-job sweep submitted with sbatch as a job array (1 CPU and 400 MB a
#     task, at most 2 at once, an extra #SBATCH line that gives the tasks a
#     kernel cache of their own): every task completes,
#     one completed run folder and one whole runs.csv row per job, each
#     task's log where the script's #SBATCH lines put it, ending with its run
#     folder, PoCL limited to the task's CPU, one kernel-cache slot per
#     concurrently running task, the losses of a job the same bit for bit as
#     outside Slurm, `clae compare` and `clae report` over them;
#  2. a sweep submitted with --skip-done, one task cancelled with scancel
#     while it trains: that run is `interrupted` with its checkpoint and no
#     runs.csv row, the others complete; the same script submitted again runs
#     only the missing job; `sbatch --array=1` of the script runs task 1 alone.
# Skips (77) only when the daemons cannot start here, saying why; .ci/run
# sets CLAE_NO_SKIP=1, so in CI that is a failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
test_start slurm "$1" "$2"
need_mnist

node="$work/node"
chmod 755 "$work"  # munged wants its socket folder reachable by everyone
# The cluster stops whatever happens: the exit trap here, and slurm-node.sh's
# watchdog if this shell is killed outright.
trap 'bash "$here/slurm-node.sh" stop "$node" > /dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 143' TERM INT HUP
t0=$(date +%s)
bash "$here/slurm-node.sh" start "$node" $$ 2> node.err; rc=$?
if [ $rc = 77 ]; then skip "$(cat node.err)"; fi
if [ $rc != 0 ]; then cat node.err; bad "slurm-node.sh start: exit $rc"; test_end; exit; fi
source "$node/env"
t_up=$(date +%s)

# Seconds since the test began, for the timing lines.
since() { echo $(($(date +%s) - $1)); }

# Waits (at most $2 s) until Slurm has no task of job $1 pending or running;
# meanwhile records the most tasks seen running at once in $max_running.
wait_job() {
    local job="$1" limit="$2" start n
    start=$(date +%s)
    max_running=0
    while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
        n="$(squeue -h -j "$job" -t R 2>/dev/null | wc -l)"
        [ "$n" -gt "$max_running" ] && max_running=$n
        if [ $(($(date +%s) - start)) -ge "$limit" ]; then
            bad "job $job still queued or running after $limit s: $(squeue -j "$job" 2>&1)"
            scancel "$job"
            return 1
        fi
        sleep 0.2
    done
}
# "TASK STATE EXITCODE" for each array task of job $1, sorted by task.
task_states() {
    scontrol -o show job "$1" |
        sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2 \3/p' |
        sort -n
}
# The log file of task $2 of array job $1, from the script's #SBATCH lines.
task_log() {
    local chdir out
    chdir="$(sed -n 's/^#SBATCH --chdir=//p' "$3" | tr -d '"')"
    out="$(sed -n 's/^#SBATCH --output=//p' "$3")"
    out="${out//%A/$1}"
    echo "$chdir/${out//%a/$2}"
}

# ---- 1. a 6-job sweep as a job array ----
# The tasks get their own kernel-cache folder (docs/clusters.md's recipe for a
# node-local cache), cold, so that the slots they took can be seen.
cache="$work/cache"
tiny_config base.ini rs
cat > sw.ini <<EOF
$(cat base.ini)
[sweep]
train.learning_rate = 1e-3, 3e-4, 1e-4
model.latent = 2, 3
EOF
out="$("$clae" sweep sw.ini --slurm --cpus-per-task 1 --mem 400M --max-running 2 --time 10 \
       --sbatch-line "--export=ALL,XDG_CACHE_HOME=$cache" --quiet -o sw.sbatch 2>&1)"; rc=$?
check '[ $rc = 0 ] && grep -q "^submit it with: sbatch sw.sbatch$" <<<"$out"' "--slurm: $rc $out"
for line in "--array=0-5%2" "--cpus-per-task=1" "--mem=400M" "--time=10" "--export=ALL,XDG_CACHE_HOME=$cache" \
            "--chdir=$work" "--job-name=clae-sw"; do
    check 'grep -qxF -- "#SBATCH $line" sw.sbatch' "sw.sbatch lacks '#SBATCH $line': $(cat sw.sbatch)"
done
# submitted from another folder: --chdir puts the logs and the runs in $work
job="$(cd / && sbatch --parsable "$work/sw.sbatch" 2>&1)"
if ! [[ "$job" =~ ^[0-9]+$ ]]; then
    bad "sbatch sw.sbatch: $job"; test_end; exit
fi
check 'scontrol show job "$job" | grep -q "ArrayTaskThrottle=2"' "Slurm did not take %2: $(scontrol show job "$job")"
wait_job "$job" 300
t_sweep=$(date +%s)
states="$(task_states "$job")"
check '[ "$states" = "$(printf "%s COMPLETED 0:0\n" 0 1 2 3 4 5)" ]' "array tasks: $states"
check '[ "$max_running" -le 2 ]' "--max-running 2: $max_running tasks ran at once"
check '[ "$(ls -d rs/*/ | wc -l)" = 6 ] && [ "$(completed rs)" = 6 ]' \
    "6 tasks: $(ls -d rs/*/ | wc -l) folders, $(completed rs) completed"
check_runs_csv rs 6
"$clae" sweep sw.ini --list > list.txt
for i in 0 1 2 3 4 5; do
    log="$(task_log "$job" $i sw.sbatch)"
    if [ ! -f "$log" ]; then bad "task $i: no log at $log ($(ls))"; continue; fi
    run="$(tail -n 1 "$log")"
    check 'grep -q "\"index\": $i," "$run/run.json" && grep -q "\"status\": \"completed\"" "$run/run.json"' \
        "task $i: the log's last line is not its completed run: $(cat "$log")"
    check 'head -n 1 "$log" | grep -q "^clae: sweep job $i (Slurm job ${job}_$i) on $(hostname -s), PoCL threads: 1$"' \
        "task $i: first log line: $(head -n 1 "$log")"
    lat="$(sed -n "$((i + 1))p" list.txt)"
    check 'grep -qx "latent = ${lat##*=}" "$run/config.ini"' "task $i ran the wrong job ($lat): $run"
done
# the same job on this machine, outside Slurm and with every core, gives
# the same losses bit for bit
local0="$("$clae" sweep sw.ini --index 0 --set output.root=rl --quiet 2>&1 | tail -n 1)"
run0="$(tail -n 1 "$(task_log "$job" 0 sw.sbatch)")"
check '[ "$(wc -l < "$run0/loss.csv")" = 3 ] && cmp -s <(cut -d, -f1-3 "$run0/loss.csv") <(cut -d, -f1-3 "$local0/loss.csv")' \
    "job 0 under Slurm and here: $(paste -d' ' "$run0/loss.csv" "$local0/loss.csv" 2>&1)"
# PoCL took the limit the script set (the device then has one compute unit)
check 'POCL_MAX_PTHREAD_COUNT=1 "$clae" devices | grep -q "compute_units=1 "' \
    "POCL_MAX_PTHREAD_COUNT=1 does not limit PoCL: $(POCL_MAX_PTHREAD_COUNT=1 "$clae" devices)"
# one kernel-cache slot per task running at once: 2 at most, and the
# concurrent first two compiled into slots of their own
slots="$(cd "$cache/clae/pocl" 2>/dev/null && ls -d slot-*/ | tr -d / | sort | tr '\n' ' ')"
check '[ "$slots" = "slot-0 slot-1 " ]' "kernel-cache slots used by 2 concurrent tasks: '$slots'"
check '[ -z "$(find rs -name "*.tmp.*")" ]' "temporary files left in rs: $(find rs -name '*.tmp.*')"
out="$("$clae" compare rs --sweep sw 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(grep -c " completed " <<<"$out")" = 6 ]' "clae compare rs: $rc $out"
for d in rs/*/; do
    check 'grep -qF "$(basename "$d")" <<<"$out"' "clae compare lacks $d: $out"
done
check '"$clae" report rs > /dev/null 2>&1 && [ "$(grep -o "href=\"[^\"]*/index.html\"" rs/index.html | sort -u | wc -l)" = 6 ]' \
    "clae report rs: $(ls rs)"

# ---- 2. scancel one task while it trains, then resubmit with --skip-done ----
cat > sc.ini <<EOF
$(sed 's/^root = rs/root = rc/' base.ini)
[sweep]
train.epochs = 2, 40, 3
EOF
"$clae" sweep sc.ini --slurm --cpus-per-task 1 --mem 400M --skip-done --quiet -o sc.sbatch > /dev/null
check 'grep -q -- "--skip-done" sc.sbatch' "sc.sbatch does not pass --skip-done on: $(tail -n 1 sc.sbatch)"
job2="$(sbatch --parsable sc.sbatch 2>&1)"
if ! [[ "$job2" =~ ^[0-9]+$ ]]; then bad "sbatch sc.sbatch: $job2"; test_end; exit; fi
# the 40-epoch job, once it has finished an epoch (its signal handler is in
# place from the moment its folder exists)
long=""
for _ in $(seq 600); do
    long="$(ls -d rc/*-sc_epochs=40 2>/dev/null | head -n 1)"
    [ -n "$long" ] && [ "$(wc -l < "$long/loss.csv" 2>/dev/null || echo 0)" -ge 2 ] && break
    sleep 0.1
done
check '[ -n "$long" ] && [ "$(sed -n 2p "$long/loss.csv" | cut -d, -f1)" = 1 ]' "task 1 did not start training in 60 s: $(ls rc 2>&1)"
scancel "${job2}_1"
wait_job "$job2" 240
states="$(task_states "$job2")"
# exit code 1:0: clae caught the SIGTERM and exited 1 (interrupted), not killed by it
check '[ "$states" = "$(printf "0 COMPLETED 0:0\n1 CANCELLED 1:0\n2 COMPLETED 0:0")" ]' "after scancel: $states"
log1="$(task_log "$job2" 1 sc.sbatch)"
check 'grep -q "\"status\": \"interrupted\"" "$long/run.json" && [ -s "$long/model.ckpt" ]' \
    "the cancelled task's run: $(cat "$long/run.json" 2>&1)"
check 'grep -q "interrupted in epoch" "$log1"' "the cancelled task's log: $(cat "$log1")"
check '[ "$(completed rc)" = 2 ]' "cancel: $(completed rc) of 3 completed"
check_runs_csv rc 2
before="$(ls -d rc/*/ | sort)"
job3="$(sbatch --parsable sc.sbatch 2>&1)"
if ! [[ "$job3" =~ ^[0-9]+$ ]]; then bad "sbatch sc.sbatch again: $job3"; test_end; exit; fi
wait_job "$job3" 240
states="$(task_states "$job3")"
check '[ "$states" = "$(printf "%s COMPLETED 0:0\n" 0 1 2)" ]' "resubmitted: $states"
new="$(comm -13 <(echo "$before") <(ls -d rc/*/ | sort))"
check '[ "$(wc -l <<<"$new")" = 1 ] && [[ "$new" == *-sc_epochs=40/ ]]' "resubmission made the folders: $new"
check 'grep -q "\"status\": \"completed\"" "${new}run.json" 2>/dev/null' "the re-run job: $(cat "${new}run.json" 2>&1)"
for i in 0 2; do
    check 'grep -q "^job $i (sc_epochs=[23]): skipped, completed before in" "$(task_log "$job3" $i sc.sbatch)"' \
        "resubmitted task $i should skip: $(cat "$(task_log "$job3" $i sc.sbatch)")"
done
check 'grep -q "\"status\": \"interrupted\"" "$long/run.json"' "the interrupted run was changed"
check '[ "$(completed rc)" = 3 ]' "after resubmitting: $(completed rc) of 3 completed"
check_runs_csv rc 3
# one task only: sbatch's own --array overrides the script's
job4="$(sbatch --parsable --array=1 sc.sbatch 2>&1)"
wait_job "$job4" 120
check '[ "$(task_states "$job4")" = "1 COMPLETED 0:0" ]' "sbatch --array=1: $(task_states "$job4")"
check 'grep -q "^job 1 (sc_epochs=40): skipped, completed before in" "$(task_log "$job4" 1 sc.sbatch)"' \
    "sbatch --array=1 should run (and skip) job 1 only: $(cat "$(task_log "$job4" 1 sc.sbatch)" 2>&1)"
check '[ "$(ls -d rc/*/ | wc -l)" = 4 ]' "sbatch --array=1 made a folder: $(ls rc)"
t_cancel=$(date +%s)

echo "slurm: node up in $((t_up - t0)) s; 6-task array in $((t_sweep - t_up)) s;" \
     "cancel, resubmit and --array=1 in $((t_cancel - t_sweep)) s; $(since "$t0") s in all"
test_end
