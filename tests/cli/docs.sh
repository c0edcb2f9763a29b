#!/usr/bin/env bash
# docs: the manual as a user meets it.
# - Every relative link (and image) of README.md, configs/README.md and
#   docs/*.md resolves, fragments to a heading of the file they name
#   (scripts/check-links.py); a broken link is found (a made-up tree).
# - README.md is the front page: at most 250 lines, and it links every file
#   of the manual in docs/.
# - `man -l docs/clae.1` renders without a warning and names every command of
#   `clae --help`.
# - The bash completion loads in bash and completes `clae tr` to `train`,
#   `--set train.le` to `--set train.learning_rate=`, a command's options from
#   its --help, experiment files for train, and the --set keys in full.
# - `cmake --install` puts clae(1) in share/man/man1 and the completion in
#   share/bash-completion/completions/clae, where man and bash-completion look.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build="$(realpath "$3")" # before test_start moves to its folder
test_start docs "$1" "$2"

# ---- links ----
out="$(python3 "$src/scripts/check-links.py" "$src" 2>&1)"; rc=$?
check '[ $rc = 0 ] && grep -q "all resolve" <<<"$out"' "links: $out"
mkdir -p t/docs t/configs
printf '# T\n\n## A heading\n\n[ok](#a-heading) [bad](docs/x.md) [frag](#nope)\n' > t/README.md
printf '# C\n' > t/configs/README.md
printf '# X\n\n[back](../README.md#a-heading) [img](gone.png)\n' > t/docs/x.md
out="$(python3 "$src/scripts/check-links.py" t 2>&1)"; rc=$?
check '[ $rc = 1 ] && grep -q "README.md:5: #nope: README.md has no heading #nope" <<<"$out" && grep -q "docs/x.md:3: gone.png: no such file docs/gone.png" <<<"$out" && ! grep -q "x.md: no such" <<<"$out"' \
    "the checker finds broken links and only those: $out"

# ---- the front page ----
lines="$(wc -l < "$src/README.md")"
check '[ "$lines" -le 250 ]' "README.md has $lines lines, the front page at most 250"
for f in "$src"/docs/*.md; do
    check 'grep -qF "(docs/$(basename "$f"))" "$src/README.md"' "README.md does not link docs/$(basename "$f")"
done

# ---- the man page ----
man_err="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$src/docs/clae.1" 2>&1 >man.txt)"; rc=$?
check '[ $rc = 0 ] && [ -z "$man_err" ] && [ -s man.txt ]' "man -l docs/clae.1: exit $rc, warnings: $man_err"
for c in $("$clae" --help | sed -n 's/^  \([a-z][a-z]*\)[ ].*/\1/p'); do
    check 'grep -qE "^ +clae +$c( |$)" man.txt' "the man page's synopsis lacks clae $c"
done

# ---- the bash completion ----
# complete ARGS...: what the completion offers for the words given, the last
# one being completed
# (grep without -q below: -q would close the pipe at the first match, and
# under pipefail the completion's SIGPIPE would fail a check that passed)
complete_words() {
    bash --norc -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
                    _clae; printf "%s\n" "${COMPREPLY[@]}"' _ "$src/scripts/clae-completion.bash" "$clae" "$@" 2>&1
}
check '[ "$(complete_words tr)" = train ]' "clae tr: $(complete_words tr)"
check '[ "$(complete_words train --set train.le)" = "train.learning_rate=" ]' \
    "clae train --set train.le: $(complete_words train --set train.le)"
check '[ "$(complete_words train --set "" | wc -l)" = "$("$clae" --keys | wc -l)" ] && complete_words train --set "" | grep -x "model.encoder=" > /dev/null' \
    "--set offers every key: $(complete_words train --set '' | tr '\n' ' ')"
check 'complete_words bench --st | grep -x -- --steps > /dev/null && complete_words generate --pr | grep -x -- --prior > /dev/null' \
    "options from each command's --help: $(complete_words bench --st) $(complete_words generate --pr)"
mkdir -p exp && touch exp/a.ini exp/b.txt
check '[ "$(complete_words train exp/)" = exp/a.ini ]' "train completes experiment files: $(complete_words train exp/)"
check 'complete_words train --device "" | grep -x gpu > /dev/null' "--device values"
check '[ "$(complete_words plot results "" | tr "\n" " ")" = "latent loss " ]' "plot RUN completes the picture: $(complete_words plot results "")"
check 'bash --norc -c "source \"$src/scripts/clae-completion.bash\" && complete -p clae" | grep -q "_clae"' \
    "the completion registers itself for clae"

# ---- installed where man and bash-completion look ----
cmake --install "$build" --prefix "$work/prefix" > install.log 2>&1; rc=$?
check '[ $rc = 0 ] && [ -s prefix/share/man/man1/clae.1 ] && [ -s prefix/share/bash-completion/completions/clae ]' \
    "cmake --install: $rc; $(find prefix -name 'clae*' | tr '\n' ' ')"
check 'MANPATH="$work/prefix/share/man" man -w clae | grep -q "prefix/share/man/man1/clae.1"' \
    "man finds the installed page: $(MANPATH="$work/prefix/share/man" man -w clae 2>&1)"

test_end
