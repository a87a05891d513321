#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# man.bats - the man pages in man/ lint clean with mandoc and match the code:
# every setting in a program's config table appears, with its default, in
# its section 5 page and in the commented config file that ships with it.

bats_require_minimum_version 1.5.0

REPO=$BATS_TEST_DIRNAME/../..

# table_settings FILE: print "name<TAB>default" for each cf_entry in FILE
table_settings() {
    sed -nE 's/^[[:space:]]*\{"([a-z_]+)", CF_[A-Z]+, "([^"]*)".*/\1\t\2/p' "$1"
}

# page_settings PAGE: print "name<TAB>default" for each ".It Cm NAME Pq default: X"
page_settings() {
    sed -nE 's/^\.It Cm ([a-z_]+) Pq default: (Pa )?(.*)$/\1\t\3/p' "$1" |
        sed 's/\tempty$/\t/'
}

# conf_settings FILE: print "name<TAB>default" for each "#NAME = X" line
conf_settings() {
    sed -nE 's/^#([a-z_]+) =( (.*))?$/\1\t\3/p' "$1"
}

# same_settings WHAT CODE OTHER: fail, showing the difference, unless both lists match
same_settings() {
    local diff
    diff=$(diff <(sort <<<"$2") <(sort <<<"$3")) && return 0
    echo "$1 differs from the code's table (< code, > $1):" >&2
    echo "$diff" >&2
    return 1
}

@test "every man page lints clean with mandoc -T lint" {
    local pages=("$REPO"/man/*.[1-9])
    [ "${#pages[@]}" -eq 6 ]
    run -0 mandoc -T lint -W warning "${pages[@]}"
    [ -z "$output" ]
}

@test "rrelay.conf(5) and rrelay.conf list every transport setting with its default" {
    local code
    code=$(table_settings "$REPO/transport/conf/rrconfig.c")
    [ "$(wc -l <<<"$code")" -ge 20 ]
    same_settings man/rrelay.conf.5 "$code" "$(page_settings "$REPO/man/rrelay.conf.5")"
    same_settings postfix-config/rrelay.conf "$code" \
        "$(conf_settings "$REPO/postfix-config/rrelay.conf")"
}

@test "rrelay-milter.conf(5) and rrelay-milter.conf list every milter setting with its default" {
    local code
    code=$(table_settings "$REPO/filter/milterconf.c")
    [ "$(wc -l <<<"$code")" -ge 15 ]
    same_settings man/rrelay-milter.conf.5 "$code" \
        "$(page_settings "$REPO/man/rrelay-milter.conf.5")"
    same_settings postfix-config/rrelay-milter.conf "$code" \
        "$(conf_settings "$REPO/postfix-config/rrelay-milter.conf")"
}

@test "rrelay(8) documents each exit status that transport/msg/outcome.h defines" {
    local codes s
    codes=$(sed -nE 's/^#define EXIT_[A-Z]+[[:space:]]+([0-9]+).*/\1/p' \
        "$REPO/transport/msg/outcome.h")
    [ "$(wc -w <<<"$codes")" -eq 3 ]
    for s in $codes; do
        sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$REPO/man/rrelay.8" | grep -qx "\.It $s" || {
            echo "exit status $s is not in rrelay(8)'s EXIT STATUS" >&2
            return 1
        }
    done
}
