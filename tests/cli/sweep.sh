#!/usr/bin/env bash
# sweep: many runs at once, on real MNIST, the way people start them: 8
# `clae train` processes in one root at the same moment, `clae sweep --jobs`,
# `--index` and Slurm array tasks, xargs -P over `--list` (docs/clusters.md's
# xargs recipe), --skip-done, the sbatch script and its cluster options
# (run by hand here; tests/slurm.sh submits it to Slurm), `clae train A B`,
# --dry-run, and every error that must stop a sweep before anything runs.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start sweep "$1" "$2"
need_mnist

# config.ini writes numbers in their shortest form (1e-3 -> 0.001)
has_lr() { awk -v want="$2" '$1 == "learning_rate" { found = ($3 + 0 == want + 0) } END { exit !found }' "$1/config.ini"; }

tiny_config base.ini r8

# ---- 8 runs started at the same moment in one root ----
for i in $(seq 8); do "$clae" train base.ini --quiet > "out.$i" 2> "err.$i" & done
wait
check '[ "$(ls -d r8/*/ | wc -l)" = 8 ]' "8 concurrent runs made $(ls -d r8/*/ | wc -l) folders"
check '[ "$(completed r8)" = 8 ]' "8 concurrent runs: $(completed r8) completed"
check '[ "$(cat out.* | sort -u | wc -l)" = 8 ]' "8 runs printed 8 distinct folders"
check '! grep -q . err.*' "concurrent runs printed errors: $(cat err.*)"
check_runs_csv r8 8

# ---- a sweep file: 3 x 2 jobs ----
cat > sw.ini <<EOF
$(sed 's/^root = r8/root = rs/' base.ini)
[sweep]
train.learning_rate = 1e-3, 3e-4, 1e-4
model.latent = 2, 3
EOF
check '[ "$("$clae" sweep sw.ini --count)" = 6 ]' "--count"
"$clae" sweep sw.ini --list > list.txt
check '[ "$(wc -l < list.txt)" = 6 ]' "--list gives 6 lines"
# documented order: the first key slowest
check '[ "$(sed -n 1p list.txt)" = "0	train.learning_rate=1e-3 model.latent=2" ]' "--list line 0: $(sed -n 1p list.txt)"
check '[ "$(sed -n 4p list.txt)" = "3	train.learning_rate=3e-4 model.latent=3" ]' "--list line 3: $(sed -n 4p list.txt)"
"$clae" sweep sw.ini --dry-run > dry.txt
check '[ ! -e rs ]' "--dry-run created the results root"
check '[ "$(grep -c "^# ==== job" dry.txt)" = 6 ]' "--dry-run prints 6 configs"
check 'grep -q "^name = sw_lr=1e-4_latent=3$" dry.txt' "--dry-run shows run names"

out="$("$clae" sweep sw.ini --jobs 2 2>&1)"; rc=$?
check '[ $rc = 0 ]' "sweep --jobs 2 exit $rc: $out"
check '[ "$(ls -d rs/*/ | wc -l)" = 6 ] && [ "$(completed rs)" = 6 ]' "--jobs 2: $(completed rs) of 6 completed"
check 'grep -q "summary: 6 runs: 6 completed" <<<"$out"' "--jobs summary: $out"
check_runs_csv rs 6
for i in 0 1 2 3 4 5; do
    ov="$(sed -n "$((i + 1))p" list.txt | cut -f2)"
    name="sw_$(sed 's/train.learning_rate/lr/; s/model\.//; s/ /_/g' <<<"$ov")"
    d="$(ls -d rs/*-"$name" 2>/dev/null)"
    check '[ -n "$d" ] && grep -q "\"index\": $i," "$d/run.json"' "job $i ($name): folder or run.json sweep index"
    lr="${ov#train.learning_rate=}"; lr="${lr%% *}"
    check 'has_lr "$d" "$lr" && grep -qx "latent = ${ov##*=}" "$d/config.ini"' \
        "job $i config.ini lacks its overrides $ov"
done

# --skip-done: everything is there, nothing runs
before="$(wc -l < rs/runs.csv)"
out="$("$clae" sweep sw.ini --jobs 2 --skip-done 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(ls -d rs/*/ | wc -l)" = 6 ]' "--skip-done ran something (exit $rc): $out"
check '[ "$(grep -Ec "^ +[0-9]+  .*  skipped  " <<<"$out")" = 6 ]' "--skip-done: 6 skipped lines: $out"
check '[ "$(wc -l < rs/runs.csv)" = "$before" ]' "--skip-done appended to runs.csv"
# ... but a changed hyperparameter is a new experiment
"$clae" sweep sw.ini --index 0 --skip-done --set train.epochs=1 --quiet > /dev/null 2>&1
check '[ "$(ls -d rs/*/ | wc -l)" = 7 ]' "--skip-done skipped a job whose config differs"

# --index and SLURM_ARRAY_TASK_ID run the job --list names
"$clae" sweep sw.ini --index 4 --quiet --set output.root=ri > idx.txt 2>&1
d="$(tail -n1 idx.txt)"
check 'grep -q "\"index\": 4," "$d/run.json" && has_lr "$d" 1e-4 && grep -qx "latent = 2" "$d/config.ini"' \
    "--index 4 ran the wrong job: $(cat idx.txt)"
SLURM_ARRAY_TASK_ID=5 "$clae" sweep sw.ini --quiet --set output.root=ri > slurm.txt 2>&1
d="$(tail -n1 slurm.txt)"
check 'grep -q "\"index\": 5," "$d/run.json" && grep -qx "latent = 3" "$d/config.ini"' \
    "SLURM_ARRAY_TASK_ID=5 not honoured: $(cat slurm.txt)"
err="$(SLURM_ARRAY_TASK_ID=6 "$clae" sweep sw.ini 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "SLURM_ARRAY_TASK_ID 6 is out of range: sw.ini has 6 jobs (0..5)" <<<"$err"' "task 6: $rc $err"

# docs/clusters.md's xargs recipe (tests/parallel.sh runs the GNU parallel one)
"$clae" sweep sw.ini --list | cut -f1 |
    xargs -P 3 -I{} "$clae" sweep sw.ini --index {} --quiet --set output.root=rx > /dev/null 2>&1
check '[ "$(completed rx)" = 6 ]' "xargs -P 3 over --list: $(completed rx) of 6 completed"
check_runs_csv rx 6

# --devices spreads the processes over devices (this machine has one, so
# the same device twice); a device spec clae cannot read is refused first
out="$("$clae" sweep sw.ini --jobs 2 --devices 0:0,0:0 --set output.root=rd --set train.epochs=1 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ "$(grep -c "started on device 0:0" <<<"$out")" = 6 ] && [ "$(completed rd)" = 6 ]' "--devices: $rc $out"
err="$("$clae" sweep sw.ini --jobs 2 --devices 0:0,0:x 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "^clae sweep: --devices" <<<"$err"' "bad --devices: $rc $err"
err="$("$clae" sweep sw.ini --devices 0:0 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "devices needs --jobs" <<<"$err"' "--devices without --jobs: $rc $err"

# repeat: seeds seed, seed+1
cat > rep.ini <<EOF
$(sed 's/^root = r8/root = rr/' base.ini)
[sweep]
model.encoder = 64 | 32,16
repeat = 2
EOF
"$clae" sweep rep.ini --list > rep.txt
check '[ "$(cat rep.txt)" = "$(printf "0\tmodel.encoder=64 train.seed=1\n1\tmodel.encoder=64 train.seed=2\n2\tmodel.encoder=32,16 train.seed=1\n3\tmodel.encoder=32,16 train.seed=2")" ]' \
    "repeat/'|' list: $(cat rep.txt)"
check '"$clae" sweep rep.ini --dry-run --set train.seed=7 | grep -qx "name = rep_encoder=32-16_seed=8"' "repeat seeds follow --set train.seed"

# sbatch
"$clae" sweep sw.ini --slurm --partition gpu --time 2:00:00 --gpus-per-job 1 -o job.sbatch > sb.txt
check 'bash -n job.sbatch' "job.sbatch is not valid bash"
check 'grep -qx "#SBATCH --array=0-5" job.sbatch && grep -q "%A_%a" job.sbatch' "job.sbatch array/log lines: $(cat job.sbatch)"
check 'grep -q -- "--index \"\$SLURM_ARRAY_TASK_ID\"" job.sbatch && grep -qx "#SBATCH --partition=gpu" job.sbatch' "job.sbatch command"
check 'grep -q "sbatch job.sbatch" sb.txt' "--slurm says how to submit"
# the script runs the same job as --index when Slurm sets the task id
sed -i "s|^exec .*|& --set output.root=$work/rb --quiet|" job.sbatch
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_JOB_ID=77 SLURMD_NODENAME=n1 SLURM_CPUS_PER_TASK=1 bash job.sbatch > sbrun.txt 2>&1
d="$(tail -n1 sbrun.txt)"
check 'grep -q "\"index\": 2," "$d/run.json"' "job.sbatch task 2: $(cat sbrun.txt)"
# the task's CPUs go to PoCL, and its first log line says so
check '[ "$(head -n1 sbrun.txt)" = "clae: sweep job 2 (Slurm job 77_2) on n1, PoCL threads: 1" ]' "job.sbatch first line: $(head -n1 sbrun.txt)"
out="$(bash job.sbatch 2>&1)"; rc=$?
check '[ $rc != 0 ] && grep -q "SLURM_ARRAY_TASK_ID: submit this script with sbatch" <<<"$out"' "job.sbatch without a task id: $rc $out"
# the cluster options: array throttle, CPUs, memory, extra lines in order
"$clae" sweep sw.ini --slurm --max-running 3 --cpus-per-task 2 --mem 1G --sbatch-line '--account=proj' \
    --sbatch-line '--constraint=a100|h100' -o opt.sbatch > sbo.txt
check 'bash -n opt.sbatch && grep -q "(--array=0-5%3)" sbo.txt' "--max-running: $(cat sbo.txt)"
check '[ "$(grep "^#SBATCH" opt.sbatch | sed -n "2p;5,\$p" | tr "\n" " ")" = "#SBATCH --array=0-5%3 #SBATCH --ntasks=1 #SBATCH --cpus-per-task=2 #SBATCH --mem=1G #SBATCH --account=proj #SBATCH --constraint=a100|h100 " ]' \
    "opt.sbatch #SBATCH lines: $(grep '^#SBATCH' opt.sbatch)"
check 'grep -qx "#SBATCH --chdir=$work" opt.sbatch' "opt.sbatch --chdir: $(grep chdir opt.sbatch)"
expect 2 "clae sweep: --mem '4X': expected a memory size such as 500M" sweep sw.ini --slurm --mem 4X
expect 2 "clae sweep: --sbatch-line 'account=proj': expected one sbatch option on one line" \
    sweep sw.ini --slurm --sbatch-line account=proj
expect 2 "expected one sbatch option on one line" sweep sw.ini --slurm --sbatch-line $'--a=1\n--b=2'
expect 2 "clae sweep: --max-running must be at least 1" sweep sw.ini --slurm --max-running 0
expect 2 "--max-running, --sbatch-line and -o need --slurm" sweep sw.ini --cpus-per-task 2
check '[ ! -e sweep.sbatch ]' "a refused --slurm wrote sweep.sbatch"
mkdir 'odd "dir"'
out="$(cd 'odd "dir"' && "$clae" sweep ../sw.ini --slurm 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "has a character that an #SBATCH line cannot hold" <<<"$out" && [ ! -e "odd \"dir\"/sweep.sbatch" ]' \
    "--slurm from a folder with a quote: $rc $out"
mkdir 'sp ace'
(cd 'sp ace' && "$clae" sweep ../sw.ini --slurm > /dev/null 2>&1)
check 'grep -qxF "#SBATCH --chdir=\"$work/sp ace\"" "sp ace/sweep.sbatch"' "--chdir with a space: $(grep chdir "sp ace/sweep.sbatch" 2>&1)"

# ---- errors: one line, exit 2, nothing run ----
expect_err() {  # expect_err "fragment" sweep-file-body [args...]
    local frag="$1" body="$2"; shift 2
    printf '%s\n' "$(sed 's/^root = r8/root = rerr/' base.ini)" "[sweep]" "$body" > e.ini
    local err rc
    err="$("$clae" sweep e.ini "$@" 2>&1 >/dev/null)"; rc=$?
    if [ $rc != 2 ] || ! grep -qF -- "$frag" <<<"$err" || [ -e rerr ]; then
        bad "sweep [$body] $*: exit $rc, '$err', want '$frag'"
    else ok; fi
}
expect_err "e.ini:15: [sweep] key: 'train.learnig_rate': unknown key 'learnig_rate' in [train]; did you mean 'learning_rate'?" "train.learnig_rate = 1e-3, 1e-4"
expect_err "e.ini:15: [sweep] train.learning_rate: [train] learning_rate = '-1': expected a number > 0" "train.learning_rate = 1e-3, -1"
expect_err "e.ini:15: [sweep] model.latent = '2,,3': an empty value" "model.latent = 2,,3"
expect_err "e.ini:15: [sweep] repeat = '0': expected a whole number 1..10000" "repeat = 0"
expect_err "[sweep] has no keys" "; nothing"
expect_err "--set model.latent=4: model.latent is swept in e.ini:15" "model.latent = 2, 3" --set model.latent=4
expect_err "--index 2 is out of range: e.ini has 2 jobs (0..1)" "model.latent = 2, 3" --index 2
expect_err "[train] loss = bce needs [model] output = sigmoid" "train.loss = mse, bce"
expect_err "use one of --list, --count" "model.latent = 2, 3" --list --count
err="$("$clae" train sw.ini 2>&1)"; rc=$?
check '[ $rc = 2 ] && grep -q "run it with \`clae sweep sw.ini\`" <<<"$err"' "train on a sweep file: $rc $err"

# ---- clae train A B ----
sed 's/^root = r8/root = rt/' base.ini > a.ini
sed "s/^root = r8/root = rt/; s|^dir = .*|dir = $work/nodata|" base.ini > nodata.ini
sed 's/^root = r8/root = rt/; s/^epochs = 2/epochs = zero/' base.ini > broken.ini
out="$("$clae" train a.ini broken.ini --quiet 2>&1)"; rc=$?
check '[ $rc = 2 ] && [ ! -e rt ] && grep -q "broken.ini:8" <<<"$out" && grep -q "nothing was run" <<<"$out"' \
    "a config error in any file stops everything first: $rc $out"
out="$("$clae" train a.ini nodata.ini a.ini --quiet --dry-run 2>&1)"; rc=$?
check '[ $rc = 0 ] && [ ! -e rt ] && [ "$(grep -c "^# ==== " <<<"$out")" = 3 ]' "train --dry-run: $rc $out"
out="$("$clae" train nodata.ini a.ini --quiet 2>&1)"; rc=$?
check '[ $rc = 1 ] && [ "$(completed rt)" = 1 ]' "a failing run must not stop the next: $rc $out"
check 'grep -Eq "^ +1  nodata +failed +- +" <<<"$out" && grep -Eq "^ +2  a +completed +0\.[0-9]+ +rt/" <<<"$out"' \
    "train summary table: $out"
out="$("$clae" train nodata.ini a.ini --quiet --fail-fast 2>&1)"; rc=$?
check '[ $rc = 1 ] && [ "$(completed rt)" = 1 ] && grep -Eq "^ +2  a +not run" <<<"$out"' "--fail-fast: $rc $out"

test_end
