# lib.sh: what the shell tests share; sourced, never run.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   test_start NAME CLAE [SRC]   clae, src: the absolute paths; a fresh $work
#                                (removed on exit) as the working directory
#   ok / bad MSG / check 'COND' MSG   count a pass or a failure (printed)
#   expect CODE FRAGMENT ARGS...      clae ARGS exits CODE and its stderr
#                                     holds FRAGMENT (and names clae when
#                                     CODE is not 0)
#   need_mnist                   mnist=<absolute $MNIST_DIR>, or fail: the
#                                real-data tests never pass without data
#   tiny_config FILE ROOT        the tiny real run (digits 1,5,6, 500 training
#                                images, encoder 64, 2 epochs, lr 1e-3) into
#                                FILE, results under ROOT; after need_mnist
#   check_runs_csv ROOT N        ROOT/runs.csv is whole: the header, then N
#                                rows, each with the header's field count
#   completed ROOT               how many run folders of ROOT say completed
#   skip MSG                     exit 77 (CTest: skipped) saying why; with
#                                CLAE_NO_SKIP=1 (.ci/run sets it) a failure
#                                instead: CI must run every test
#   test_end                     "NAME: N passed, N failed"; status 1 on any
#                                failure
#   $cli_dir                     this folder: PYTHONPATH="$cli_dir" gives
#                                Python pngread.read_png (a PNG's pixels by
#                                zlib and NumPy, every row filter undone)

# this folder, absolute (before test_start leaves it): pngread.py lives here
cli_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

test_start() {
    test_name="$1"
    clae="$(realpath "$2")"  # the tests cd elsewhere
    src="${3:+$(realpath "$3")}"
    work="$(mktemp -d "/tmp/clae-$test_name-XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    cd "$work" || exit 1
    passed=0 failed=0
}

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

expect() {
    local code="$1" frag="$2"; shift 2
    local err rc
    err="$("$clae" "$@" 2>&1 >/dev/null)"; rc=$?
    if [ "$rc" -ne "$code" ]; then bad "clae $* -> exit $rc, want $code ($err)"; return; fi
    if ! grep -qF -- "$frag" <<<"$err"; then bad "clae $* -> message '$err' lacks '$frag'"; return; fi
    if [ "$code" -ne 0 ] && ! grep -q 'clae' <<<"$err"; then
        bad "clae $*: the message should name clae ($err)"; return
    fi
    ok
}

# "W H" of a PNG from its IHDR (bytes 16-23, big-endian), or "not a png".
png_size() {
    local sig b
    sig="$(od -An -tx1 -N8 "$1" 2>/dev/null | tr -d ' \n')"
    if [ "$sig" != "89504e470d0a1a0a" ]; then echo "not a png"; return; fi
    read -r -a b <<<"$(od -An -tu1 -j16 -N8 "$1")"
    echo "$(( (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3] )) $(( (b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7] ))"
}

# interrupt_run PID ROOT: SIGINT to PID (a `clae train` started in the
# background by this shell) once a loss.csv under ROOT holds two epochs
# (60 s at most), then waits for it to end, SIGKILL after 30 s (SIGINT not
# honoured). Its exit status is left in $rc.
interrupt_run() {
    local pid=$1 root=$2
    for _ in $(seq 600); do
        [ "$(cat "$root"/*/loss.csv 2>/dev/null | wc -l)" -ge 3 ] && break
        sleep 0.1
    done
    kill -INT "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"; rc=$?
}

need_mnist() {
    if [ ! -f "${MNIST_DIR:-}/train-images-idx3-ubyte.gz" ] ||
       [ ! -f "${MNIST_DIR:-}/t10k-images-idx3-ubyte.gz" ]; then
        echo "FAIL: MNIST_DIR (${MNIST_DIR:-unset}) has no MNIST; see docs/models.md, Data"
        exit 1
    fi
    mnist="$(cd "$MNIST_DIR" && pwd)"
}

tiny_config() {
    cat > "$1" <<EOF
[data]
dir = $mnist
digits = 1,5,6
train_limit = 500
[model]
encoder = 64
[train]
epochs = 2
batch_size = 50
learning_rate = 1e-3
[output]
root = $2
recon_every = 0
EOF
}

# Fields of one CSV line, RFC 4180 quotes understood (mawk has no FPAT).
csv_fields() {
    awk '{ n = 1; q = 0
           for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
               if (c == "\"") q = !q; else if (c == "," && !q) n++ }
           print n }' <<<"$1"
}

check_runs_csv() {
    local root="$1" want="$2" head n rows=0 badrows=0
    head="$(head -n1 "$root/runs.csv")"
    n="$(csv_fields "$head")"
    [ "$head" = "run,name,status,start_time,end_time,epochs_completed,epochs,final_train_loss,final_test_loss,images_per_second,seconds,device,sweep,sweep_index,overrides" ] \
        && ok || bad "$root/runs.csv header: $head"
    while IFS= read -r line; do
        rows=$((rows + 1))
        [ "$(csv_fields "$line")" = "$n" ] || badrows=$((badrows + 1))
    done < <(tail -n +2 "$root/runs.csv")
    [ "$rows" = "$want" ] && ok || bad "$root/runs.csv has $rows rows, want $want"
    [ "$badrows" = 0 ] && ok || bad "$root/runs.csv: $badrows rows with a wrong field count"
}

completed() { grep -l '"status": "completed"' "$1"/*/run.json 2>/dev/null | wc -l; }

skip() {
    if [ "${CLAE_NO_SKIP:-0}" = 1 ]; then
        echo "FAIL: $test_name cannot run here, and CLAE_NO_SKIP=1 forbids skipping: $*"
        exit 1
    fi
    echo "SKIP: $test_name: $*"
    exit 77
}

test_end() {
    echo "$test_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
