#!/usr/bin/env bash
# export: `clae export` and `clae encode -o FILE.npy` on real MNIST runs, as
# a user runs them, checked with Debian's python3 and NumPy alone (no torch,
# no safetensors package: tests/cli/export_ref.py). Three tiny runs (the
# tiny config: a dense ae, a vae, and a conv ae conv:8:3:2,conv:16:3:2 with
# init = torch), each exported: the header's tensor names and shapes in
# PyTorch's state_dict order and layouts, the run's config in
# "__metadata__", the file's own encoder run in NumPy reproducing `clae
# encode`'s codes of the 10,000 MNIST test images within 1e-5 (1 + |z|);
# `--torch` code that parses as Python (stdout and -o the same), naming the
# same tensors; encode -o .npy equal to the CSV codes, --labels-out int64
# labels; --force; every refusal with exit code 2, one line and no file
# left, a full disk exit 1 (root only); and a version 2 checkpoint that
# still exports the same tensors.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start export "$1" "$2"

need_mnist
images="$mnist/t10k-images-idx3-ubyte.gz" labels="$mnist/t10k-labels-idx1-ubyte.gz"
# Debian's python3, which python3-numpy serves (a python3 earlier on PATH,
# a virtual environment's, may lack NumPy)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "FAIL: no NumPy for python3: apt-get install python3-numpy (scripts/setup.sh)"
    exit 1
fi
ref=("$py" "$src/tests/cli/export_ref.py")

# refuse CODE FRAGMENT FILE ARGS...: clae ARGS exits CODE with one line on
# stderr holding FRAGMENT and naming clae, and leaves neither FILE nor a
# temporary file of it.
refuse() {
    local code="$1" frag="$2" file="$3"; shift 3
    local err rc
    err="$("$clae" "$@" 2>&1 >/dev/null)"; rc=$?
    if [ "$rc" -ne "$code" ]; then bad "clae $* -> exit $rc, want $code ($err)"; return; fi
    if [ "$(wc -l <<<"$err")" -ne 1 ] || ! grep -q '^clae ' <<<"$err"; then
        bad "clae $*: not one line naming clae: $err"; return
    fi
    if ! grep -qF -- "$frag" <<<"$err"; then bad "clae $* -> '$err' lacks '$frag'"; return; fi
    if [ -e "$file" ] || compgen -G "$file.tmp.*" >/dev/null; then
        bad "clae $*: left $file or its temporary file"; return
    fi
    ok
}

# ---- three tiny runs ----
tiny_config base.ini r
declare -A run
for k in ae vae conv; do
    case $k in
    ae) set=() ;;
    vae) set=(--set model.kind=vae) ;;
    conv) set=(--set model.encoder=conv:8:3:2,conv:16:3:2 --set model.init=torch) ;;
    esac
    "$clae" train base.ini "${set[@]}" --quiet > "train-$k.txt" 2>&1; rc=$?
    run[$k]="$(tail -n 1 "train-$k.txt")"
    check '[ $rc = 0 ] && [ -f "${run[$k]}/model.ckpt" ]' "$k run: exit $rc: $(cat "train-$k.txt")"
done

# The tensors of each, in state_dict order: nn.Linear (out, in), nn.Conv2d
# (F, C, K, K), nn.ConvTranspose2d (C, F, K, K); activations and reshapes
# take indices too.
dense=(encoder.0.weight=64x784 encoder.0.bias=64 encoder.2.weight=2x64 encoder.2.bias=2
       decoder.0.weight=64x2 decoder.0.bias=64 decoder.2.weight=784x64 decoder.2.bias=784)
vae=(encoder.0.weight=64x784 encoder.0.bias=64 encoder.2.weight=4x64 encoder.2.bias=4
     decoder.0.weight=64x2 decoder.0.bias=64 decoder.2.weight=784x64 decoder.2.bias=784)
conv=(encoder.0.weight=8x1x3x3 encoder.0.bias=8 encoder.2.weight=16x8x3x3 encoder.2.bias=16
      encoder.5.weight=2x784 encoder.5.bias=2 decoder.0.weight=784x2 decoder.0.bias=784
      decoder.3.weight=16x8x3x3 decoder.3.bias=8 decoder.5.weight=8x1x3x3 decoder.5.bias=1)

for k in ae vae conv; do
    r="${run[$k]}"
    case $k in ae) want=("${dense[@]}") ;; vae) want=("${vae[@]}") ;; conv) want=("${conv[@]}") ;; esac
    out="$("$clae" export "$r" -o "$k.safetensors" 2>&1)"; rc=$?
    check '[ $rc = 0 ] && [ "$out" = "wrote $k.safetensors (${#want[@]} tensors, $(grep -o "[0-9]* parameters" <<<"$out"))" ]' \
        "$k: export: exit $rc: $out"
    check '"${ref[@]}" header "$k.safetensors" "$r" "${want[@]}"' "$k: the header's tensors and metadata"
    "$clae" encode "$r" "$images" --labels "$labels" -o "$k.npy" --labels-out "$k-labels.npy" 2>/dev/null
    "$clae" encode "$r" "$images" --labels "$labels" -o "$k.csv" 2>/dev/null
    check '"${ref[@]}" npy "$k.npy" "$k.csv" "$k-labels.npy" "$labels"' \
        "$k: encode -o .npy equals the CSV, --labels-out the labels"
    # the reproduction: the file's tensors through a NumPy encoder
    check '"${ref[@]}" codes "$k.safetensors" "$images" "$k.npy"' \
        "$k: NumPy's encoder of the exported tensors reproduces clae encode within 1e-5"
    # --torch: Python that parses, the same on stdout and into -o, naming
    # every exported tensor's module
    "$clae" export "$r" --torch > "$k-stdout.py" 2>torch.err; rc=$?
    out="$("$clae" export "$r" --torch -o "$k.py" 2>&1)"
    check '[ $rc = 0 ] && [ "$out" = "wrote $k.py" ] && cmp -s "$k.py" "$k-stdout.py"' \
        "$k: --torch: exit $rc $(cat torch.err); -o: $out"
    check '"$py" -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" "$k.py"' "$k: --torch is Python"
    check 'grep -q "^model = ClaeModel()$" "$k.py" && grep -q "^import torch$" "$k.py"' \
        "$k: --torch defines model and imports torch"
done
# the modules at the tensors' indices
check 'grep -qF "nn.Linear(784, 64),  # 0" ae.py && grep -qF "nn.Tanh(),  # 1" ae.py &&
       grep -qF "nn.Linear(64, 2),  # 2: the code" ae.py && grep -qF "nn.Linear(64, 784),  # 2" ae.py' \
    "ae.py: the layers at their indices: $(grep '# [0-9]' ae.py)"
check 'grep -qF "nn.Linear(64, 4),  # 2: the code, 2 means then 2 log-variances" vae.py &&
       grep -qF "def distribution(self, x):" vae.py && grep -qF "return self.encoder(x)[:, : self.latent]" vae.py' \
    "vae.py: the 2K latent layer, encode takes the means: $(grep '# [0-9]' vae.py)"
check 'grep -qF "nn.Conv2d(1, 8, 3, 2, 1),  # 0" conv.py && grep -qF "nn.Flatten(),  # 4" conv.py &&
       grep -qF "nn.Linear(784, 2),  # 5" conv.py && grep -qF "nn.Unflatten(1, (16, 7, 7)),  # 2" conv.py &&
       grep -qF "nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=(1, 1)),  # 3" conv.py &&
       grep -qF "nn.ConvTranspose2d(8, 1, 3, 2, 1, output_padding=(1, 1)),  # 5" conv.py' \
    "conv.py: the layers at their indices: $(grep '# [0-9]' conv.py)"

# ---- --force ----
r="${run[ae]}"
cp ae.safetensors before.safetensors
refuse 2 "ae.safetensors: exists; --force replaces it" nothing-else export "$r" -o ae.safetensors
check 'cmp -s ae.safetensors before.safetensors' "a refused export changed the existing file"
refuse 2 "ae.py: exists; --force replaces it" nothing-else export "$r" --torch -o ae.py
: > ae.safetensors
out="$("$clae" export "$r" -o ae.safetensors --force 2>&1)"; rc=$?
check '[ $rc = 0 ] && cmp -s ae.safetensors before.safetensors' \
    "--force replaces the file with the same bytes: exit $rc $out"

# ---- refusals: exit 2, one line, nothing written ----
refuse 2 "missing -o FILE.safetensors" x.safetensors export "$r"
refuse 2 "missing RUN_DIR" x.safetensors export -o x.safetensors
refuse 2 "-o x.py: a .safetensors file is binary; --torch writes the Python code" x.py export "$r" -o x.py
refuse 2 "unknown option '--grid'" x.safetensors export "$r" -o x.safetensors --grid 3
refuse 2 "--device '': expected P:D" x.safetensors export "$r" -o x.safetensors --device ""
refuse 2 "nowhere: no such run folder" x.safetensors export nowhere -o x.safetensors
mkdir noconfig nockpt
cp "$r/model.ckpt" noconfig/
cp "$r/config.ini" nockpt/
refuse 2 "noconfig: not a run folder: it has no config.ini" x.safetensors export noconfig -o x.safetensors
refuse 2 "nockpt/model.ckpt: no such file: the run has no checkpoint" x.safetensors \
    export nockpt -o x.safetensors
refuse 2 "nockpt/model.ckpt: no such file" x.py export nockpt --torch -o x.py
# a checkpoint the config no longer describes: other sizes, the other kind,
# a damaged file
mkdir other kind cut
cp "$r/model.ckpt" other/ && sed 's/^encoder = 64$/encoder = 32/' "$r/config.ini" > other/config.ini
refuse 2 "other/model.ckpt: layer sizes 784-64-2-64-784 differ from the config's 784-32-2-32-784 (config.ini no longer describes this checkpoint)" \
    x.safetensors export other -o x.safetensors
cp "${run[vae]}/model.ckpt" kind/ && cp "$r/config.ini" kind/
refuse 2 "kind/model.ckpt: is a variational autoencoder ([model] kind = vae), the config says [model] kind = ae" \
    x.safetensors export kind -o x.safetensors
cp "$r/config.ini" cut/ && head -c 5000 "$r/model.ckpt" > cut/model.ckpt
refuse 2 "cut/model.ckpt:" x.safetensors export cut -o x.safetensors
# outputs that cannot be written: a missing folder, a folder
refuse 2 "nodir/x.safetensors: cannot write there: No such file or directory" nodir/x.safetensors \
    export "$r" -o nodir/x.safetensors
mkdir adir
refuse 2 "adir: is a folder; give a file name" adir/x export "$r" -o adir --force
refuse 2 "nodir/x.py: cannot write there" nodir/x.py export "$r" --torch -o nodir/x.py
check '[ -z "$(ls adir)" ] && ! compgen -G "*.tmp.*" >/dev/null' "refusals left temporary files: $(ls)"

# a full disk once writing has begun: exit 1, nothing left (a 256 KiB
# tmpfs, smaller than the file; mounting needs root, as the diskfull test)
mkdir full
if mount -t tmpfs -o size=256k tmpfs full 2>/dev/null; then
    trap 'umount "$work/full" 2>/dev/null; rm -rf "$work"' EXIT
    refuse 1 "full/x.safetensors: write failed: No space left on device" full/x.safetensors \
        export "$r" -o full/x.safetensors
    check '[ -z "$(ls -A full)" ]' "a full disk: left $(ls -A full)"
    umount full
else
    echo "export: no tmpfs (not root): the full-disk case is left out"
fi

# ---- encode's .npy outputs and their refusals ----
refuse 2 "--labels-out needs --labels" y.npy encode "$r" "$images" -o z.npy --labels-out y.npy
refuse 2 "--labels-out y.csv: expected a FILE.npy" y.csv encode "$r" "$images" --labels "$labels" --labels-out y.csv
refuse 2 "nodir/z.npy: cannot write there" nodir/z.npy encode "$r" "$images" -o nodir/z.npy
refuse 2 "nodir/y.npy: cannot write there" z.npy encode "$r" "$images" --labels "$labels" -o z.npy --labels-out nodir/y.npy
# an existing -o is replaced, as encode's CSV always was
echo old > z.npy
"$clae" encode "$r" "$images" -o z.npy 2>/dev/null; rc=$?
check '[ $rc = 0 ] && cmp -s z.npy ae.npy' "encode -o replaces an existing .npy: exit $rc"
check '"$clae" encode --help | grep -q -- "--labels-out FILE.npy" && "$clae" export --help | grep -q -- "--torch" &&
       "$clae" --help | grep -q "export RUN"' "--help of export and encode, clae --help lists export"

# ---- a version 2 checkpoint (clae before conv layers) still exports ----
mkdir v2
cp "$r/config.ini" v2/
"${ref[@]}" v2 "$r/model.ckpt" v2/model.ckpt >/dev/null
check '[ "$(od -An -tu4 -j8 -N4 --endian=little v2/model.ckpt | tr -d " ")" = 2 ]' "v2/model.ckpt is version 2"
out="$("$clae" export v2 -o v2.safetensors 2>&1)"; rc=$?
check '[ $rc = 0 ] && "${ref[@]}" same v2.safetensors ae.safetensors' \
    "a version 2 checkpoint exports the same tensors: exit $rc $out"
check '"$py" -c "
import json, struct, sys
b = open(sys.argv[1], \"rb\").read()
m = json.loads(b[8:8 + struct.unpack(\"<Q\", b[:8])[0]])[\"__metadata__\"]
sys.exit(not (m[\"checkpoint_version\"] == \"2\" and m[\"input_shape\"] == \"784\"))" v2.safetensors' \
    "the version 2 export's metadata says so"
"$clae" export v2 --torch -o v2.py >/dev/null 2>&1
check 'cmp -s <(grep -v "^# " v2.py) <(grep -v "^# " ae.py)' "a version 2 checkpoint's --torch is the same model"

test_end
