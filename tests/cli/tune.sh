#!/usr/bin/env bash
# tune: `clae tune` on the real device (PoCL in CI) with a small budget and
# a tiny model, then what uses its file: clae devices, bench (--compare),
# train (run.json names it; losses within 1e-3 relative of the untuned run's),
# selftest with the tuning applied; and the bad inputs: a tuning file that is
# missing, malformed or for another device (exit 2, file and key named), a
# broken file that auto finds (a warning, CLBlast's own parameters), an
# unwritable output (refused before the search), and a device where nothing
# compiles (exit 1).
#   tune.sh CLAE SRC
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start tune "$1" "$2"
need_mnist

# The tuning cache lives under XDG_CACHE_HOME, which the test points at its
# own folder; PoCL's kernel cache stays one warm folder across runs of this
# test (every process here runs alone, so one folder is safe).
export XDG_CACHE_HOME="$work/xdg"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$HOME/.cache/clae/pocl/test-tune}"
mkdir -p "$POCL_CACHE_DIR"
unset CLAE_TUNING_DIR
tiny_config tiny.ini "$work/results"

# --- the search, into the device's cache file ------------------------------
shipped="$("$clae" devices | sed -n 's|^ *tuning: .*/\(pocl-cpu-[a-z0-9]*\.ini\) (shipped.*|\1|p' | head -n 1)"
out="$("$clae" tune tiny.ini --budget 12 2>tune.err)"; rc=$?
check '[ $rc -eq 0 ]' "clae tune exited $rc: $(tail -n 3 tune.err)"
file="$(sed -n 's/^wrote \(.*\) (hash \([0-9a-f]\{16\}\))$/\1/p' <<<"$out")"
hash="$(sed -n 's/^wrote .* (hash \([0-9a-f]\{16\}\))$/\1/p' <<<"$out")"
check '[ -n "$file" ] && [ -f "$file" ]' "no 'wrote FILE (hash H)' line: $out"
check '[[ "$file" == "$XDG_CACHE_HOME/clae/tuning/"*.ini ]]' "the file goes to the tuning cache: $file"
check 'grep -q "^tune: #[0-9]* seed" tune.err' "a progress line per candidate on stderr"
# What the device ran before (here its class's shipped file) is the first seed.
[ -z "$shipped" ] || check 'grep -q "^tune: #1 seed $shipped (shipped) \[seeds\]" tune.err' \
                          "the shipped $shipped tried first: $(grep -m 2 "^tune: #" tune.err)"
# The compile processes (one per core by default) build candidates in
# batches; the tuner says how many sets a minute that gave and how many
# processes built them, and evaluates each set once: one progress line per
# set tried or ruled out, after the baseline's.
check 'grep -q "^tune: [0-9]*\.[0-9] parameter sets a minute, [1-8] compile process" <<<"$out"' \
      "sets a minute and the compile processes in the summary: $out"
sets="$(sed -n 's/^tune: \([0-9]*\) parameter sets in .* \([0-9]*\) ruled out)$/\1 \2/p' <<<"$out")"
lines="$(grep -c "^tune: #[0-9]* .*\[" tune.err)"
check '[ -n "$sets" ] && [ $(( ${sets% *} + ${sets#* } + 1 )) -eq "$lines" ]' \
      "one progress line per set ($sets) and the baseline's: $lines"
check '! grep -q "compile process died\|no compile process" tune.err' "no compile process lost"
check 'grep -q "^GEMM time per step: .* ms default, .* ms tuned" <<<"$out"' "summary: $out"
# The file: every kernel section complete, the device named, comments.
for sec in GemmRoutine Xgemm XgemmDirect Copy Pad Transpose Padtranspose clae device; do
    check "grep -q '^\[$sec\]$' '$file'" "[$sec] in the file"
done
check '[ "$(sed -n "/^\[Xgemm\]/,/^$/p" "$file" | grep -c "^[A-Z]* = [0-9]*$")" -eq 16 ]' \
      "16 Xgemm parameters"
check 'grep -q "^; Per product, GFLOP/s" "$file"' "GFLOP/s per product in the comments"
# The routes step: the six products of the 2-wide latent layer, each timed by
# every route that can run it, its pick in [routes].
check '[ "$(grep -c "^  .* [NT][NT] .* -> \(clblast\|direct\|indirect\|gemv\)$" <<<"$out")" -eq 6 ]' \
      "a routes line per small product: $out"
check '[ "$(sed -n "/^\[routes\]/,/^$/p" "$file" | grep -c "^[NT][NT] [0-9]*x[0-9]*x[0-9]* = [a-z]*$")" -eq 6 ]' \
      "[routes] holds the six small products: $(sed -n '/^\[routes\]/,$p' "$file")"
# The finals: the best sets by GEMM time and the one the device ran before
# train the same steps; the fastest step is what the file holds (its GEMM
# time is the summary's "tuned"), and the file's comments say so.
fin="$(sed -n '/^tune: finals/,/^tune: small products/p' <<<"$out" | grep "GEMMs .* ms  step .* ms")"
check '[ "$(wc -l <<<"$fin")" -ge 2 ] && [ "$(wc -l <<<"$fin")" -le 4 ]' "two to four finalists: $out"
[ -z "$shipped" ] || check 'head -n 1 <<<"$fin" | grep -q "^  seed $shipped (shipped) "' \
                          "what the device ran before is a finalist: $fin"
kept="$(grep -c " <- kept$" <<<"$fin")"
kept_ms="$(sed -n 's/^.* GEMMs *\([0-9.]*\) ms .* <- kept$/\1/p' <<<"$fin")"
check '[ "$kept" = 1 ] && grep -q "^GEMM time per step: .* ms default, $kept_ms ms tuned" <<<"$out"' \
      "one finalist kept, the one written: $fin / $(grep "^GEMM time" <<<"$out")"
fastest="$(sed -n 's/^.* step *\([0-9.]*\) ms.*$/\1/p' <<<"$fin" | sort -g | head -n 1)"
kstep="$(sed -n 's/^.* step *\([0-9.]*\) ms  <- kept$/\1/p' <<<"$fin")"
check '[ -n "$kstep" ] && [ "$kstep" = "$fastest" ] && grep -q "^; Finals, the training step itself (steps 1-[0-9]*, fastest of 3 rounds): kept .*, $kstep ms a step" "$file"' \
      "the fastest step kept, said in the file: $fin / $(grep '^; Finals' "$file")"
check 'grep -q "^; Search: [0-9]* parameter sets in [0-9]* s, [0-9.]* a minute with [1-8] compile process" "$file"' \
      "the file's comments say how fast the search went"
check 'grep -q "^clblast = " "$file" && grep -q "^device = " "$file"' "[device] identifies it"
cp "$file" tuned.ini

# --jobs 0: the one-at-a-time search in the tuner's own process, as before
# the compile processes; its file is as complete and as right.
out0="$("$clae" tune tiny.ini --budget 4 --jobs 0 -o serial.ini 2>serial.err)"; rc=$?
check '[ $rc -eq 0 ] && grep -q "parameter sets a minute, 0 compile processes" <<<"$out0"' \
      "tune --jobs 0 exited $rc: $out0 $(tail -n 2 serial.err)"
check '"$clae" selftest --tuning serial.ini >/dev/null 2>&1' "selftest passes with the --jobs 0 file"

# A compile process that dies (killed here, as a compiler crash would end
# it) costs the candidate it held, reported as failed with the signal; the
# search goes on with the other process and writes a file that works.
"$clae" tune tiny.ini --budget 15 --jobs 2 -o killed.ini >killed.out 2>killed.err & tpid=$!
for _ in $(seq 1 600); do grep -q "^tune: #1 seed" killed.err 2>/dev/null && break; sleep 0.1; done
victim="$(cat /proc/"$tpid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m 1 .)"
check '[ -n "$victim" ] && kill -KILL "$victim"' "no compile process to kill: $(cat killed.err)"
wait "$tpid"; rc=$?
check '[ $rc -eq 0 ] && [ -f killed.ini ]' "tune with a compile process killed exited $rc: $(tail -n 3 killed.err)"
check 'grep -q "^tune: #[0-9]* .*failed: the compile process died of signal 9 (Killed)" killed.err' \
      "the killed process's candidate failed, the signal named: $(grep -v '^tune: #.*ms/step' killed.err)"
check 'sed -n "/died of signal 9/,\$p" killed.err | grep -q "^tune: #[0-9]* .*: [0-9.]* ms/step"' \
      "sets measured after the death: $(tail -n 4 killed.err)"
check '"$clae" selftest --tuning killed.ini >/dev/null 2>&1' "selftest passes with the file"

# clae devices says which file matches.
check '"$clae" devices | grep -qF "tuning: $file"' "clae devices names the tuning file"

# --- using it ----------------------------------------------------------------
b="$("$clae" bench tiny.ini --steps 10 --warmup 1 2>&1)"
check 'grep -qF "tuning: $file (hash $hash): tuned on this device" <<<"$b"' "bench uses it (auto): $b"
b="$("$clae" bench tiny.ini --steps 10 --warmup 1 --compare 2>&1)"; rc=$?
check '[ $rc -eq 0 ] && grep -q "^side by side" <<<"$b" && grep -q "^training step: .* images/s" <<<"$b"' \
      "bench --compare: $b"
check 'grep -q "^tuning: none: \[device\] tuning = none" <<<"$b"' "--compare measures CLBlast's own first"

"$clae" train tiny.ini --quiet --set output.name=tuned --set device.tuning=tuned.ini >train1.out 2>&1
run_t="$(tail -n 1 train1.out)"
"$clae" train tiny.ini --quiet --set output.name=plain --set device.tuning=none >train2.out 2>&1
run_p="$(tail -n 1 train2.out)"
check 'grep -q "\"status\": \"completed\"" "$run_t/run.json"' "tuned run completed: $(cat train1.out)"
check "grep -qF '\"tuning\": {\"source\": \"file\", \"path\": \"$work/tuned.ini\", \"hash\": \"$hash\"' '$run_t/run.json'" \
      "run.json names the tuning: $(grep tuning "$run_t/run.json")"
check "grep -qF '\"tuning\": {\"source\": \"none\"' '$run_p/run.json'" "the untuned run says none"
check "grep -q '^tuning = $work/tuned.ini' '$run_t/config.ini'" "config.ini records the tuning path absolute"
# Same seed, same data: the tuned run's losses equal the untuned run's within
# 1e-3 relative (the products sum in another order; nothing else differs).
close="$(paste -d, <(tail -n +2 "$run_t/loss.csv") <(tail -n +2 "$run_p/loss.csv") | awk -F, '
    function rel(a, b) { d = a - b; if (d < 0) d = -d; return d / (b < 0 ? -b : b) }
    { h = NF / 2; if (rel($2, $(2 + h)) > 1e-3 || rel($3, $(3 + h)) > 1e-3) bad = 1; n++ }
    END { print (n == 2 && !bad) ? "yes" : "no" }')"
check '[ "$close" = yes ]' "tuned and untuned losses differ: $(cat "$run_t/loss.csv" "$run_p/loss.csv")"

# auto picks the cache file for training too.
"$clae" train tiny.ini --quiet --set output.name=auto --set train.epochs=1 >train3.out 2>&1
run_a="$(tail -n 1 train3.out)"
check "grep -qF '\"source\": \"cache\", \"path\": \"$file\"' '$run_a/run.json'" "auto uses the cache file"

# selftest with the tuning applied: kernels, SGEMM and gradients still right.
s="$("$clae" selftest --tuning tuned.ini 2>&1)"; rc=$?
check '[ $rc -eq 0 ] && grep -q " 0 failed" <<<"$s"' "selftest with the tuning: $(tail -n 3 <<<"$s")"
check 'grep -qF "tuning: $work/tuned.ini (hash $hash)" <<<"$s"' "selftest names the tuning"

# --- bad tuning files ----------------------------------------------------------
expect 2 "/nonexistent/t.ini" train tiny.ini --set device.tuning=/nonexistent/t.ini
sed 's/^VWM = .*/VWM = 3/' tuned.ini >bad-value.ini
line="$(grep -n '^VWM = 3' bad-value.ini | cut -d: -f1)"
expect 2 "bad-value.ini:$line: [Xgemm] VWM = 3" bench tiny.ini --set device.tuning=bad-value.ini
sed 's/^\[Xgemm\]/[Xgem]/' tuned.ini >bad-section.ini
expect 2 "unknown section [Xgem]" train tiny.ini --set device.tuning=bad-section.ini
sed '/^MWG = /d' tuned.ini >missing.ini
expect 2 "[Xgemm] misses parameter MWG" train tiny.ini --set device.tuning=missing.ini
sed 's/^device = .*/device = Some Other GPU/' tuned.ini >other-device.ini
expect 2 "[device] device = Some Other GPU" selftest --tuning other-device.ini
sed 's/^clblast = .*/clblast = 0.1.0/' tuned.ini >other-clblast.ini
expect 2 "the file is for CLBlast 0.1.0" train tiny.ini --set device.tuning=other-clblast.ini
sed 's/^VWN = .*/VWN = 7/' tuned.ini >"$file"
expect 0 "warning: $file" train tiny.ini --quiet --set output.name=broken --set train.epochs=1
run_b="$(ls -d "$work"/results/*-broken | head -n 1)"
check "grep -qF '\"tuning\": {\"source\": \"none\"' '$run_b/run.json'" "a broken auto file: CLBlast's own"
check '! ls "$work"/results/*-tuned*/ 2>/dev/null | grep -q "bad-"' "no run folder for rejected files"

# --- --import: the JSON files of CLBlast's own tuners ----------------------------
dev="$(sed -n 's/^device = //p' tuned.ini)"
mkdir imp other empty
cat > imp/clblast_xgemm_1_32.json <<EOF
{
  "kernel_family": "xgemm_1",
  "precision": "32",
  "best_kernel": "Xgemm",
  "device": "$dev",
  "results": [
    {"kernel": "Xgemm", "time": 3.5, "parameters": {"GEMMK": 0,"KREG": 1,"KWG": 32,"KWI": 2,"MDIMA": 8,"MDIMC": 8,"MWG": 32,"NDIMB": 8,"NDIMC": 8,"NWG": 32,"PRECISION": 32,"SA": 0,"SB": 0,"STRM": 0,"STRN": 0,"VWM": 4,"VWN": 4}},
    {"kernel": "Xgemm", "time": 1.25, "parameters": {"GEMMK": 0,"KREG": 1,"KWG": 32,"KWI": 2,"MDIMA": 8,"MDIMC": 8,"MWG": 64,"NDIMB": 8,"NDIMC": 8,"NWG": 64,"PRECISION": 32,"SA": 0,"SB": 0,"STRM": 0,"STRN": 0,"VWM": 8,"VWN": 8}}
  ]
}
EOF
printf '{"kernel_family": "gemm_routine", "precision": "32", "device": "%s", "best_parameters": "XGEMM_MIN_INDIRECT_SIZE=0 PRECISION=32"}\n' "$dev" > imp/clblast_gemm_routine_32.json
printf '{"kernel_family": "xgemm_1", "precision": "64", "device": "%s", "best_parameters": "GEMMK=1"}\n' "$dev" > imp/clblast_xgemm_1_64.json
out="$("$clae" tune tiny.ini --import imp -o imported.ini 2>imp.err)"; rc=$?
check '[ $rc -eq 0 ] && [ -f imported.ini ]' "tune --import exited $rc: $(tail -n 2 imp.err)"
check 'grep -q "^tune: imported \[GemmRoutine\] from clblast_gemm_routine_32.json; \[Xgemm\] from clblast_xgemm_1_32.json" <<<"$out"' \
      "import says what came from where: $out"
check '[ "$(sed -n "/^\[Xgemm\]/,/^$/s/^MWG = //p" imported.ini)" = 64 ] && grep -q "^XGEMM_MIN_INDIRECT_SIZE = 0" imported.ini' \
      "the fastest result imported, the routine's threshold too"
check '! grep -q "^\[XgemmDirect\]" imported.ini && grep -q "^layout = col" imported.ini' \
      "kernels no file tuned keep CLBlast's own; GEMMK 0 runs column-major"
check '"$clae" selftest --tuning imported.ini >/dev/null 2>&1' "selftest passes with the imported tuning"
sed "s/\"device\": \"$dev\"/\"device\": \"another device\"/" imp/clblast_xgemm_1_32.json > other/clblast_xgemm_1_32.json
expect 2 'tuned on "another device", not on this device' tune tiny.ini --import other -o x.ini
expect 2 "no single-precision file of CLBlast's tuners" tune tiny.ini --import empty -o x.ini
expect 2 "--import /nonexistent: cannot open" tune tiny.ini --import /nonexistent -o x.ini
printf '{"precision": "32", "results": [' > other/clblast_xgemm_1_32.json
expect 2 "other/clblast_xgemm_1_32.json: 1:" tune tiny.ini --import other -o x.ini
check '[ ! -e x.ini ]' "no file from a refused import"

# --- bad tune invocations ------------------------------------------------------
expect 2 "cannot write the tuning file" tune tiny.ini -o /proc/no/such/dir/t.ini --budget 5
check '! "$clae" tune tiny.ini -o /proc/x.ini --budget 5 2>&1 | grep -q "^tune: #"' \
      "an unwritable output is refused before the search"
expect 2 "--budget 'abc'" tune tiny.ini --budget abc
expect 2 "--budget '0'" tune tiny.ini --budget 0
expect 2 "--jobs" tune tiny.ini --jobs 9
expect 2 "missing CONFIG" tune
# Nothing compiles (a build option every OpenCL compiler refuses): exit 1,
# said so, no file.
err="$(CLBLAST_BUILD_OPTIONS=-fno-such-option "$clae" tune tiny.ini --budget 4 -o never.ini 2>&1 >/dev/null)"; rc=$?
check '[ $rc -eq 1 ] && grep -q "nothing compiled and ran correctly" <<<"$err"' \
      "nothing compiles: exit $rc, $(tail -n 1 <<<"$err")"
check '[ ! -e never.ini ]' "no tuning file when nothing compiled"

test_end
