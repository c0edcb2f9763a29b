#!/usr/bin/env bash
# get-mnist.sh [DEST]: put the four MNIST IDX files into DEST (default
# data/mnist in the checkout, which git ignores).
#
#   MNIST_DIR=/path/to/mnist scripts/get-mnist.sh   copy from a local folder
#                                                   (CI and offline machines)
#   scripts/get-mnist.sh                            download with curl and check
#                                                   the published SHA-256 sums
#
# Either way every file's IDX header is verified (magic, 28x28 images, as many
# labels as images) before it gets its final name; nothing half-copied or
# half-downloaded is ever left under a final name.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/data/mnist}"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# Mirrors of the original yann.lecun.com files (which now often refuses
# scripted downloads), tried in order.
mirrors=(https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist)
declare -A sha256=(
    [train-images-idx3-ubyte]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
    [train-labels-idx1-ubyte]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
    [t10k-images-idx3-ubyte]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
    [t10k-labels-idx1-ubyte]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)

die() { echo "get-mnist: $*" >&2; exit 1; }

# header FILE: the first 16 bytes as hex, gzip or plain alike.
header() {
    if [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = "1f8b" ]; then
        gzip -dc "$1" 2>/dev/null | head -c 16 | od -An -tx1 | tr -d ' \n' || true
    else
        head -c 16 "$1" | od -An -tx1 | tr -d ' \n'
    fi
}

# check_header FILE NAME SHOWN: magic 0x803 with 28x28 images, or 0x801;
# prints the count. Errors name SHOWN, where the file came from.
check_header() {
    local h; h="$(header "$1")"
    set -- "$3" "$2"
    [ "${#h}" -ge 16 ] || die "$1: too short or not readable as gzip/IDX (re-download it)"
    local magic="${h:0:8}" count=$((16#${h:8:8}))
    case "$2" in
    *images*)
        [ "$magic" = 00000803 ] || die "$1: not an IDX image file (magic 0x$magic, expected 0x00000803)"
        [ "${h:16:16}" = 0000001c0000001c ] || die "$1: images are not 28x28 (header $h)" ;;
    *)
        [ "$magic" = 00000801 ] || die "$1: not an IDX label file (magic 0x$magic, expected 0x00000801)" ;;
    esac
    echo "$count"
}

mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.get-mnist.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
counts=() names=()

for f in "${files[@]}"; do
    if [ -n "${MNIST_DIR:-}" ]; then
        if [ -f "$MNIST_DIR/$f.gz" ]; then name="$f.gz"; elif [ -f "$MNIST_DIR/$f" ]; then name="$f"
        else die "$MNIST_DIR has neither $f.gz nor $f (MNIST_DIR must hold the four standard IDX files)"; fi
        cp "$MNIST_DIR/$name" "$tmp/$name"
        from="$MNIST_DIR/$name"
    else
        command -v curl >/dev/null || die "curl is not installed (apt-get install curl), or set MNIST_DIR to a folder with MNIST"
        name="$f.gz"
        got=0
        for m in "${mirrors[@]}"; do
            echo "get-mnist: downloading $m/$name"
            if curl -fsSL --retry 2 -o "$tmp/$name" "$m/$name"; then got=1; from="$m/$name"; break; fi
        done
        [ "$got" -eq 1 ] || die "could not download $name from ${mirrors[*]}; download MNIST by hand and run MNIST_DIR=/that/folder $0"
        sum="$(sha256sum "$tmp/$name" | cut -d' ' -f1)"
        [ "$sum" = "${sha256[$f]}" ] || die "$name: SHA-256 $sum does not match the published ${sha256[$f]}"
    fi
    counts[${#counts[@]}]="$(check_header "$tmp/$name" "$f" "$from")"
    names[${#names[@]}]="$name"
done
[ "${counts[0]}" = "${counts[1]}" ] || die "training images (${counts[0]}) and labels (${counts[1]}) differ in number"
[ "${counts[2]}" = "${counts[3]}" ] || die "test images (${counts[2]}) and labels (${counts[3]}) differ in number"

# Every file checked: give them their final names (rename is atomic), and
# drop a stale copy of the other form (.gz vs plain) that clae would prefer.
for i in 0 1 2 3; do
    f="${files[$i]}"
    rm -f "$dest/$f" "$dest/$f.gz"
    chmod 644 "$tmp/${names[$i]}"
    mv "$tmp/${names[$i]}" "$dest/${names[$i]}"
done
echo "get-mnist: $dest has MNIST: ${counts[0]} training and ${counts[2]} test images"
