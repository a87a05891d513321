#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_hostile.bats - broken replies from an upstream: clear error, host
# down, the message goes to the next host (or is deferred), never bounced

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# bad_start MODE: start tests/tools/bad_server on a free port; print the port
bad_start() {
    local bin port
    bin=$(rr_tool bad_server) || return 1
    port=$(rr_free_port) || return 1
    "$bin" "$port" "$1" "$RR_T/bad.$1.ready" </dev/null >"$RR_T/bad.$1.out" 2>&1 3>&- 4>&- &
    rr_track_pid $!
    rr_wait 10 test -e "$RR_T/bad.$1.ready" || return 1
    echo "$port"
}

# check_mode MODE ERE: the broken host alone defers with a reason matching
# ERE; with a good host after it, the message is delivered there
check_mode() {
    local mode=$1 why=$2 bad good
    bad=$(bad_start "$mode")
    rr_sink_start "good-$mode"
    good=$(rr_sink_port "good-$mode")
    printf 'Subject: %s\n\nbody\n' "$mode" >"$RR_T/msg"
    run rr_rrelay -o command_timeout=10s -q "ALONE$mode" -f s@sender.test \
        -n "[127.0.0.1]:$bad" -- r@example.org <"$RR_T/msg"
    echo "$mode alone: $status $output"
    [ "$status" -eq 75 ]
    [[ $output == 4.* ]]
    [[ $output =~ $why ]]
    rr_eq "$mode: host down" 1 "$(rr_log_count "ALONE$mode: host=\[127\.0\.0\.1\]:$bad, .*status=down")"
    # A new list (bad first, then good); the bad host's state is per list.
    run rr_rrelay -o command_timeout=10s -q "PAIR$mode" -f s@sender.test \
        -n "[127.0.0.1]:$bad [127.0.0.1]:$good" -- r@example.org <"$RR_T/msg"
    echo "$mode pair: $status $output"
    [ "$status" -eq 0 ]
    rr_eq "$mode: delivered to the good host" 1 "$(rr_sink_count "good-$mode")"
}

@test "a reply whose code changes between lines is a protocol error" {
    check_mode continuation 'protocol error .*reply code changed from 220 to 250'
}

@test "an endless multi-line reply is cut off" {
    check_mode endless 'protocol error .*reply longer than 100 lines'
}

@test "an over-long reply line is refused" {
    check_mode longline 'reply line .*too long'
}

@test "a multi-line greeting is read without uninitialized memory (valgrind)" {
    local bad
    command -v valgrind >/dev/null || skip "valgrind not installed"
    if [[ ${SANITIZE:-0} == 1 || $RRELAY == */san/* ]]; then
        skip "an AddressSanitizer build does not run under valgrind"
    fi
    bad=$(bad_start endless)
    printf 'Subject: greeting\n\nbody\n' >"$RR_T/msg"
    run rr_as_rrelay valgrind -q --error-exitcode=99 --log-file="$RR_T/state/valgrind.out" \
        "$RRELAY" -o "state_directory=$RR_T/state" -o "log=$RR_T/rrelay.log" \
        -o command_timeout=10s -q VGREET -f s@sender.test \
        -n "[127.0.0.1]:$bad" -- r@example.org <"$RR_T/msg"
    echo "under valgrind: $status $output"
    cat "$RR_T/state/valgrind.out"
    [ "$status" -eq 75 ]
    [[ $output =~ 'reply longer than 100 lines' ]]
    [ ! -s "$RR_T/state/valgrind.out" ]
}

@test "a greeting that is not an SMTP reply is a protocol error" {
    check_mode garbage 'protocol error .*malformed reply line "hello there"'
}
