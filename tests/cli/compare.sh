#!/usr/bin/env bash
# compare: `clae compare ROOT` on a hand-made results root (run folders with
# config.ini copied from configs/mnist-156.ini and run.json written as
# runfolder_write_json writes it; no training, no device): which columns
# appear, the order of the rows, --csv, --by's numbers, --sweep, and the
# messages and exit codes for bad input.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start compare "$1" "$2"
[ -f "$src/configs/mnist-156.ini" ] || { echo "FAIL: no $src/configs/mnist-156.ini"; exit 1; }

# mkini FOLDER LEARNING_RATE LATENT [DEVICE_TYPE [DATA_DIR]]: config.ini from
# the seed file, with [output] root and name different in every run
mkini() {
    mkdir -p "$1"
    sed -e "s/^learning_rate = .*/learning_rate = $2/" -e "s/^latent = .*/latent = $3/" \
        -e "s/^type = .*/type = ${4:-any}/" -e "s|^dir = .*|dir = ${5:-data/mnist}|" \
        -e "s|^root = .*|root = /somewhere/$RANDOM\nname = run-$RANDOM|" \
        "$src/configs/mnist-156.ini" > "$1/config.ini"
}

# mkrun FOLDER STATUS TRAIN TEST SWEEP_JSON [ERROR_JSON]: run.json as runfolder_write_json writes it
mkrun() {
    cat > "$1/run.json" <<EOF
{
  "status": "$2",
  "name": "$(basename "$1" | cut -d- -f3-)",
  "start_time": "2024-01-01T00:00:00+0000",
  "end_time": "2024-01-01T00:10:00+0000",
  "device": {"platform": "Portable Computing Language", "index": "0:0", "name": "cpu", "opencl_version": "OpenCL 3.0", "driver_version": "6.0"},
  "clblast_version": "1.6.3",
  "kernel_dir": "/src/cl",
  "kernel_dir_source": "source tree",
  "epochs_completed": 40,
  "epochs": 40,
  "train_images": 18000,
  "test_images": 3000,
  "final_train_loss": $3,
  "final_test_loss": $4,
  "seconds": 600.5,
  "images_per_second": 1234.6,
  "command_line": "clae train exp.ini",
  "overrides": "",
  "sweep": $5,
  "error": ${6:-null}
}
EOF
}

R=runs
# the grid sweep: learning rate x latent
mkini "$R/20240101-000001-a" 1e-3 2; mkrun "$R/20240101-000001-a" completed 0.031 0.03 '{"name": "grid", "index": 0, "count": 4}'
mkini "$R/20240101-000002-b" 1e-3 3; mkrun "$R/20240101-000002-b" completed 0.021 0.02 '{"name": "grid", "index": 1, "count": 4}'
mkini "$R/20240101-000003-c" 1e-4 2; mkrun "$R/20240101-000003-c" completed 0.051 0.05 '{"name": "grid", "index": 2, "count": 4}'
mkini "$R/20240101-000004-d" 1e-4 3; mkrun "$R/20240101-000004-d" completed 0.041 0.045 '{"name": "grid", "index": 3, "count": 4}'
# outside the sweep: the best run (on a GPU, data in a folder with a comma), a failed one, a running one
mkini "$R/20240101-000005-g" 1e-2 2 gpu data/mn,ist
mkrun "$R/20240101-000005-g" completed 0.011 0.01 null
mkini "$R/20240101-000006-e" 1e-2 2; mkrun "$R/20240101-000006-e" failed null null null '"out of memory"'
mkini "$R/20240101-000007-f" 1e-2 3; mkrun "$R/20240101-000007-f" running 0.5 null null
# not runs: a folder without run.json, one with garbage, a file, a hidden folder
mkdir -p "$R/zz-notes" "$R/zz-garbage" "$R/.cache"
printf '{"status": "completed", "name": ' > "$R/zz-garbage/run.json"
echo hello > "$R/notes.txt"

# --- the default table ----------------------------------------------------------
out="$("$clae" compare "$R" 2>err.txt)"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "compare -> exit $rc ($(cat err.txt))"
[ ! -s err.txt ] && ok || bad "compare wrote to stderr: $(cat err.txt)"
header="$(head -n1 <<<"$out" | tr -s ' ')"
want="run status device.type data.dir model.latent train.learning_rate epochs train_loss test_loss img/s"
[ "$header" = "$want" ] && ok || bad "header '$header', want '$want'"
grep -q "output\.\|train\.epochs\|model\.encoder" <<<"$header" && bad "same-valued or name keys shown: $header" || ok
order="$(tail -n +2 <<<"$out" | awk '{print $1}' | tr '\n' ' ')"
want="20240101-000005-g 20240101-000002-b 20240101-000001-a 20240101-000004-d 20240101-000003-c 20240101-000006-e 20240101-000007-f zz-garbage zz-notes "
[ "$order" = "$want" ] && ok || bad "row order '$order', want '$want'"
[ "$(grep -c . <<<"$out")" -eq 10 ] && ok || bad "$(grep -c . <<<"$out") lines, want 10 (no file, no hidden folder)"
grep -Eq '^zz-notes +not a run$' <<<"$out" && ok || bad "not-a-run row: $(grep zz-notes <<<"$out")"
grep -Eq '^20240101-000006-e +failed +any +data/mnist +2 +0.01 +40 +1235$' <<<"$out" && ok \
    || bad "failed row: '$(grep 000006 <<<"$out")'"
grep -Eq '^20240101-000005-g +completed +gpu +data/mn,ist +2 +0.01 +40 +0.011 +0.01 +1235$' <<<"$out" && ok \
    || bad "best row: '$(grep 000005 <<<"$out")'"
# aligned: every full row is as long as the header, and each column starts in one place
lens="$(grep -v '^zz-\|-e \|-f ' <<<"$out" | awk '{print length($0)}' | sort -u | wc -l)"
[ "$lens" -eq 1 ] && ok || bad "rows of different lengths:"$'\n'"$out"
col="$(awk '{print index($0, "train.learning_rate")}' <<<"$(head -n1 <<<"$out")")"
vals="$(tail -n +2 <<<"$out" | grep -v '^zz-' | cut -c"$col"- | awk '{print $1}' | tr '\n' ' ')"
[ "$vals" = "0.01 0.001 0.001 0.0001 0.0001 0.01 0.01 " ] && ok || bad "learning_rate column: '$vals'"
grep -q ' $' <<<"$out" && bad "trailing spaces" || ok

# --- --csv ----------------------------------------------------------------------------
csv="$("$clae" compare "$R" --csv)"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "--csv -> exit $rc"
[ "$(head -n1 <<<"$csv")" = "run,status,device.type,data.dir,model.latent,train.learning_rate,epochs,train_loss,test_loss,img/s" ] \
    && ok || bad "csv header: $(head -n1 <<<"$csv")"
grep -qxF '20240101-000005-g,completed,gpu,"data/mn,ist",2,0.01,40,0.011,0.01,1234.6' <<<"$csv" && ok \
    || bad "csv quoting / full precision: $(grep 000005 <<<"$csv")"
grep -qxF 'zz-notes,not a run,,,,,,,,' <<<"$csv" && ok || bad "csv not-a-run: $(grep zz-notes <<<"$csv")"
grep -qxF '20240101-000007-f,running,any,data/mnist,3,0.01,40,0.5,,1234.6' <<<"$csv" && ok \
    || bad "csv running: $(grep 000007 <<<"$csv")"
# every record of the quoted-free rows has 10 fields
nf="$(grep -v 000005 <<<"$csv" | awk -F, '{print NF}' | sort -u | tr '\n' ' ')"
[ "$nf" = "10 " ] && ok || bad "csv field counts: $nf"

# --- --sweep ------------------------------------------------------------------------------
sw="$("$clae" compare "$R" --sweep grid --csv)"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "--sweep -> exit $rc"
[ "$(head -n1 <<<"$sw")" = "run,status,model.latent,train.learning_rate,epochs,train_loss,test_loss,img/s" ] \
    && ok || bad "sweep header (device and data keys are equal within it): $(head -n1 <<<"$sw")"
[ "$(tail -n +2 <<<"$sw" | cut -d, -f1 | tr '\n' ' ')" = "20240101-000002-b 20240101-000001-a 20240101-000004-d 20240101-000003-c " ] \
    && ok || bad "sweep rows: $sw"
expect 0 "no runs of sweep 'nope' in $R" compare "$R" --sweep nope
[ -z "$("$clae" compare "$R" --sweep nope 2>/dev/null)" ] && ok || bad "--sweep nope printed a table"

# --- --by ---------------------------------------------------------------------------------
by="$("$clae" compare "$R" --by train.learning_rate --csv)"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "--by -> exit $rc"
[ "$(head -n1 <<<"$by")" = "train.learning_rate,runs,mean_test_loss,std_test_loss,best_test_loss,best_run" ] \
    && ok || bad "--by header: $(head -n1 <<<"$by")"
[ "$(tail -n +2 <<<"$by" | cut -d, -f1,2,5,6 | tr '\n' ' ')" = "0.01,1,0.01,20240101-000005-g 0.001,2,0.02,20240101-000002-b 0.0001,2,0.045,20240101-000004-d " ] \
    && ok || bad "--by groups (lowest mean first, failed runs left out): $by"
# mean and sample std against awk, from the test losses written above
check_group() { # VALUE LOSS...
    local v="$1"; shift
    local want got
    want="$(printf '%s\n' "$@" | awk '{s += $1; q[NR] = $1} END {m = s / NR; for (i = 1; i <= NR; i++) d += (q[i] - m) ^ 2;
        if (NR > 1) printf "%.12g %.12g\n", m, sqrt(d / (NR - 1)); else printf "%.12g -\n", m}')"
    got="$(awk -F, -v v="$v" '$1 == v {printf "%.12g %s\n", $3, ($4 == "" ? "-" : sprintf("%.12g", $4))}' <<<"$by")"
    # 9 significant digits in the CSV: compare to 1e-8 relative
    if awk -v a="$want" -v b="$got" 'BEGIN {split(a, x, " "); split(b, y, " ");
            if (x[2] == "-" || y[2] == "-") { if (x[2] != y[2]) exit 1 } else if ((x[2] - y[2]) ^ 2 > (1e-8 * x[2]) ^ 2) exit 1;
            exit ((x[1] - y[1]) ^ 2 > (1e-8 * x[1]) ^ 2)}'; then ok; else bad "--by $v: got '$got', want '$want'"; fi
}
check_group 0.001 0.03 0.02
check_group 0.0001 0.05 0.045
check_group 0.01 0.01
byt="$("$clae" compare "$R" --by model.latent)"
grep -Eq '^model\.latent +runs +mean_test_loss +std_test_loss +best_test_loss +best_run$' <<<"$byt" && ok \
    || bad "--by text header: $(head -n1 <<<"$byt")"
grep -Eq '^2 +3 +0\.03 +0\.02 +0\.01 +20240101-000005-g$' <<<"$byt" && ok || bad "--by latent=2: $byt"
byone="$("$clae" compare "$R" --by train.learning_rate)"
grep -Eq '^0\.01 +1 +0\.01 +0\.01 +20240101-000005-g$' <<<"$byone" && ok || bad "one-run group has a std: $byone"
sweepby="$("$clae" compare "$R" --by model.latent --sweep grid --csv | cut -d, -f1,2 | tr '\n' ' ')"
[ "$sweepby" = "model.latent,runs 3,2 2,2 " ] && ok || bad "--by with --sweep: $sweepby"

# --- bad input --------------------------------------------------------------------------------
expect 2 "train.learnig_rate" compare "$R" --by train.learnig_rate
expect 2 "did you mean 'learning_rate'" compare "$R" --by train.learnig_rate
expect 2 "'bogus'" compare "$R" --by bogus
expect 2 "$work/nowhere" compare "$work/nowhere"
expect 2 "$R/notes.txt: not a folder" compare "$R/notes.txt"
expect 2 "missing ROOT" compare
expect 2 "unknown option '--sort'" compare "$R" --sort x
expect 2 "--by needs a value" compare "$R" --by
expect 2 "unexpected argument 'extra'" compare "$R" extra
mkdir empty
expect 0 "no runs in empty" compare empty
[ -z "$("$clae" compare empty 2>/dev/null)" ] && ok || bad "empty root printed a table"
expect 0 "it is a run folder itself" compare "$R/20240101-000001-a"
"$clae" compare --help | grep -q "usage: clae compare ROOT" && ok || bad "compare --help"
"$clae" --help | grep -q "compare ROOT" && ok || bad "clae --help lists compare"

# a run whose config.ini does not load: a warning naming it, its settings blank, the rest shown
cp -r "$R" broken
printf '[train]\nlearnig_rate = 1\n' > broken/20240101-000002-b/config.ini
out="$("$clae" compare broken 2>err.txt)"; rc=$?
[ "$rc" -eq 0 ] && grep -qF "broken/20240101-000002-b/config.ini:2" err.txt && ok \
    || bad "unreadable config.ini -> $rc '$(cat err.txt)'"
grep -Eq '^20240101-000002-b +completed +40 +0.021 +0.02 +1235$' <<<"$out" && ok \
    || bad "run with an unreadable config: '$(grep 000002 <<<"$out")'"
# only failed and running runs: --by has nothing to group
mkdir nodone && cp -r "$R/20240101-000006-e" "$R/20240101-000007-f" nodone/
expect 0 "no completed runs with a test loss in nodone" compare nodone --by train.learning_rate

test_end
