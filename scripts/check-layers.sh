#!/usr/bin/env bash
# check-layers.sh: the folders of src/ are the layers, and arrows point down
# only (docs/architecture.md):
#
#   cli -> run -> engine, view -> io -> util
#
# Every #include "x.h" in src/<layer>/ must name a header of that layer or
# of one it may use; util, io and view (the host library) include no OpenCL
# or CLBlast header at all. CMake compiles each layer with only the include
# folders it may use, so a wrong include already fails the build; this
# reads the sources, so that the rule holds (and says which line breaks
# it) whatever the build does. Prints one line per offence; exit 1 if any.
#
#   scripts/check-layers.sh [SRC_DIR]       (default: the checkout's src/)
set -euo pipefail
src="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../src" && pwd)}"

# the layers each layer may include, itself first
declare -A may=(
    [util]="util"
    [io]="io util"
    [view]="view io util"
    [engine]="engine io util"
    [run]="run engine view io util"
    [cli]="cli run engine view io util"
)
host="util io view"

bad=0 files=0 includes=0
for layer in "${!may[@]}"; do
    [ -d "$src/$layer" ] || continue
    for f in "$src/$layer"/*.[ch]; do
        files=$((files + 1))
        while IFS=: read -r line text; do
            name="$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$text")"
            [ -n "$name" ] || continue
            includes=$((includes + 1))
            found=""
            for l in "${!may[@]}"; do
                [ -f "$src/$l/$name" ] && found="$l"
            done
            if [ -z "$found" ]; then
                echo "${f#"$src"/}:$line: includes \"$name\", which is in no layer of src/"
                bad=1
            elif [[ " ${may[$layer]} " != *" $found "* ]]; then
                echo "${f#"$src"/}:$line: $layer includes $found/$name; $layer may use ${may[$layer]// /, } only"
                bad=1
            fi
        done < <(grep -n '#[[:space:]]*include' "$f" || true)
        if [[ " $host " == *" $layer "* ]] &&
            grep -nE '#[[:space:]]*include[[:space:]]*<(CL/|OpenCL/|clblast)' "$f" >/dev/null; then
            grep -nE '#[[:space:]]*include[[:space:]]*<(CL/|OpenCL/|clblast)' "$f" |
                sed "s#^#${f#"$src"/}:#; s#\$#  (the host library includes no OpenCL)#"
            bad=1
        fi
    done
done
if [ "$files" -eq 0 ]; then
    echo "check-layers: no sources under $src/{util,io,view,engine,run,cli}" >&2
    exit 1
fi
[ "$bad" -eq 0 ] && echo "layers: $files files, $includes includes, every one downwards"
exit "$bad"
