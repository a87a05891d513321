#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# layout.bats - transport/'s folders are layers, and the code keeps to them.
#
# The layers, top first (README.md, "Layout"): a file may include headers
# of its own folder and of folders below its own, never above, and a file
# in a folder never includes one of transport/'s top-level headers.
# Also: no two modules include each other's headers, no C file is over
# 800 lines, no folder holds more than 20 C files.

bats_require_minimum_version 1.5.0

REPO=$BATS_TEST_DIRNAME/../..
LAYERS=(daemon top cache smtp tls ipc state conf msg net)

# rank NAME: the layer's position from the bottom (net is 1); 0 if unknown
rank() {
    local i n=${#LAYERS[@]}
    for ((i = 0; i < n; i++)); do
        [[ ${LAYERS[i]} == "$1" ]] && { echo $((n - i)); return; }
    done
    echo 0
}

# folder_of PATH: the layer a transport file is in ("top" for transport/*)
folder_of() {
    local rel=${1#"$REPO"/transport/}
    [[ $rel == */* ]] && echo "${rel%%/*}" || echo top
}

# layer_violations: one line per include that runs up or sideways
layer_violations() {
    local f from inc to
    while IFS= read -r f; do
        from=$(folder_of "$f")
        while IFS= read -r inc; do
            if [[ $inc == */* ]]; then
                to=${inc%%/*}
            elif [[ -e $REPO/transport/$inc ]]; then
                to=top
            else
                continue
            fi
            [[ $to == "$from" ]] && continue
            if (( $(rank "$to") == 0 || $(rank "$to") >= $(rank "$from") )); then
                echo "${f#"$REPO"/}: includes $inc ($to is not below $from)"
            fi
        done < <(sed -nE 's/^#include "([^"]+)".*/\1/p' "$f")
    done < <(find "$REPO/transport" -name '*.[ch]' | sort)
}

@test "every transport folder is a known layer" {
    local d unknown=""
    for d in "$REPO"/transport/*/; do
        d=${d%/}; d=${d##*/}
        (( $(rank "$d") > 0 )) || unknown+=" $d"
    done
    [ -z "$unknown" ] || { echo "folders not in LAYERS:$unknown" >&2; false; }
}

@test "no include in transport/ runs up or across its layers" {
    run -0 layer_violations
    [ -z "$output" ] || { echo "$output" >&2; false; }
}

@test "no two modules include each other's headers" {
    # A module is a .c file with its header; a header of its own (a
    # folder's shared declarations, like smtp_session.h) is not one.
    local f g inc mod pairs=""
    declare -A uses=()
    while IFS= read -r f; do
        mod=${f%.[ch]}
        [[ -e $mod.c ]] || continue
        mod=${mod##*/}
        while IFS= read -r inc; do
            inc=${inc##*/}; inc=${inc%.h}
            [[ $inc == "$mod" ]] || uses[$mod]+=" $inc "
        done < <(sed -nE 's/^#include "([^"]+)\.h".*/\1.h/p' "$f")
    done < <(find "$REPO/transport" "$REPO/common" "$REPO/filter" -name '*.[ch]')
    for f in "${!uses[@]}"; do
        for g in ${uses[$f]}; do
            [[ ${uses[$g]:-} == *" $f "* && $f < $g ]] && pairs+=" $f<->$g"
        done
    done
    [ -z "$pairs" ] || { echo "modules that include each other:$pairs" >&2; false; }
}

@test "no C file is over 800 lines and no folder holds over 20 C files" {
    local long crowded
    long=$(find "$REPO/transport" "$REPO/common" "$REPO/filter" -name '*.c' \
        -exec awk 'END { if (NR > 800) print FILENAME ": " NR " lines" }' {} \;)
    crowded=$(find "$REPO/transport" "$REPO/common" "$REPO/filter" -name '*.c' |
        xargs -n1 dirname | sort | uniq -c | awk '$1 > 20')
    [ -z "$long$crowded" ] || { echo "$long$crowded" >&2; false; }
}

@test "every source file names its licence (SPDX-License-Identifier: MIT)" {
    local f missing=""
    while IFS= read -r f; do
        head -n 5 "$REPO/$f" | grep -q 'SPDX-License-Identifier: MIT' || missing+=" $f"
    done < <(git -C "$REPO" ls-files '*.c' '*.h' '*.bash' '*.bats' '*.py' '*.sh' \
        'scripts/*' 'tests/run' 'tests/stress' 'bench/run' 'postfix-config/*' 'man/*' Makefile)
    [ -z "$missing" ] || { echo "no SPDX line:$missing" >&2; false; }
}
