# bash completion for clae; installed as
# share/bash-completion/completions/clae (cmake --install), or load it by hand:
#   source scripts/clae-completion.bash
#
# Completes the commands (from `clae --help`), each command's options (from
# `clae COMMAND --help`), experiment files (*.ini) where a command takes a
# config, run folders where it takes a run, the keys --set takes (from
# `clae --keys`, completed to "section.key="), and the values of the few
# options with a fixed set. Everything is asked of the clae being completed,
# so the completion follows the binary's version.

_clae_commands() {
    "$1" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)[ ].*/\1/p'
}

_clae_options() {
    "$1" "$2" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_clae() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD - 1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local clae="${words[0]}"
    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "$(_clae_commands "$clae") --help --version --keys" -- "$cur"))
        return
    fi
    local cmd="${words[1]}"
    case "$prev" in
    --set)
        # section.key= for every key; no space after the '='
        COMPREPLY=($(compgen -W "$("$clae" --keys 2>/dev/null | sed 's/$/=/')" -- "$cur"))
        compopt -o nospace 2>/dev/null
        return ;;
    --device)
        COMPREPLY=($(compgen -W "gpu cpu accelerator any" -- "$cur"))
        return ;;
    --tuning)
        COMPREPLY=($(compgen -W "auto none" -- "$cur") $(compgen -f -X '!*.ini' -- "$cur"))
        return ;;
    --range)
        COMPREPLY=($(compgen -W "auto" -- "$cur"))
        return ;;
    --resume | --cl-dir | --import)
        COMPREPLY=($(compgen -d -- "$cur"))
        return ;;
    -o | --labels)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --by)
        COMPREPLY=($(compgen -W "$("$clae" --keys 2>/dev/null)" -- "$cur"))
        return ;;
    --steps | --warmup | --budget | --grid | --scale | --samples | --seed | --jobs | --index | \
        --partition | --time | --cpus-per-task | --mem | --gpus-per-job | --max-running | \
        --sbatch-line | --devices | --sweep)
        return ;; # a value only the user knows
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_clae_options "$clae" "$cmd")" -- "$cur"))
        return
    fi
    case "$cmd" in
    train | bench | tune | sweep)
        # experiment files, and folders to look into for them
        COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur"))
        compopt -o filenames 2>/dev/null ;;
    encode | decode | generate | compare | report | export)
        COMPREPLY=($(compgen -f -- "$cur"))
        compopt -o filenames 2>/dev/null ;;
    plot)
        # the run folder, then which picture
        if ((cword == 3)); then
            COMPREPLY=($(compgen -W "latent loss" -- "$cur"))
        else
            COMPREPLY=($(compgen -d -- "$cur"))
            compopt -o filenames 2>/dev/null
        fi ;;
    esac
}

complete -F _clae clae
