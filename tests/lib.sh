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
#   test_end                     "NAME: N passed, N failed"; status 1 on any
#                                failure

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

need_mnist() {
    if [ ! -f "${MNIST_DIR:-}/train-images-idx3-ubyte.gz" ] ||
       [ ! -f "${MNIST_DIR:-}/t10k-images-idx3-ubyte.gz" ]; then
        echo "FAIL: MNIST_DIR (${MNIST_DIR:-unset}) has no MNIST; see README, Data"
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

test_end() {
    echo "$test_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
