#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_capability.bats - a host that can't take this message (no
# SMTPUTF8 for a UTF-8 address, a SIZE limit below the message) is skipped
# for it: the next host that can takes it, and it bounces only when none can.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# relay_to LIST RCPT: run rrelay on $RR_T/msg to RCPT over LIST, first host first
# (an empty host_policy_file: weighted round-robin, which starts at the first)
relay_to() {
    rr_rrelay -o host_policy_file=/dev/null -q "CAP$RANDOM" -f s@sender.test \
        -n "$1" -- "$2" <"$RR_T/msg"
}

@test "a UTF-8 recipient: a host without SMTPUTF8 first, the next host delivers it in the same run" {
    local plain utf8
    plain=$(rr_free_port)
    utf8=$(rr_free_port)
    rr_fault_start plain "$plain"
    rr_fault_start utf8 "$utf8" smtputf8=yes
    printf 'Subject: caf\303\251\n\nbody\n' >"$RR_T/msg"
    run -0 relay_to "[$RR_HOST]:$plain, [$RR_HOST]:$utf8" $'pel\303\251@example.org'
    echo "$output"
    rr_eq "taken by the SMTPUTF8 host" 1 "$(find "$RR_T/faults/utf8" -name 'msg.*' | wc -l)"
    rr_eq "nothing at the other" 0 "$(find "$RR_T/faults/plain" -name 'msg.*' | wc -l)"
    rr_eq "one skip line" 1 "$(rr_log_count "relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$plain, status=unable \\(SMTPUTF8 is required")"
    rr_eq "no host marked down" 0 "$(rr_log_count 'status=down')"
}

@test "a UTF-8 recipient with only a host without SMTPUTF8: bounced 5.6.7" {
    local plain
    plain=$(rr_free_port)
    rr_fault_start plain "$plain"
    printf 'Subject: x\n\nbody\n' >"$RR_T/msg"
    run -69 relay_to "[$RR_HOST]:$plain" $'pel\303\251@example.org'
    echo "$output"
    [[ $output == "5.6.7 "*"SMTPUTF8 is required"*"no host in the list could take it"* ]]
    rr_eq "bounce logged" 1 "$(rr_log_count 'relay=none, .*dsn=5\.6\.7, status=bounced')"
}

@test "a message over one host's SIZE: the next host delivers it; with only that host it bounces 5.3.4" {
    local small big
    small=$(rr_free_port)
    big=$(rr_free_port)
    rr_fault_start small "$small" size=1000
    rr_fault_start big "$big"
    { printf 'Subject: big\n\n'; yes 'a line of a message that is over a small SIZE' | head -c 5000; } >"$RR_T/msg"
    run -0 relay_to "[$RR_HOST]:$small, [$RR_HOST]:$big" r@example.org
    rr_eq "taken by the big host" 1 "$(find "$RR_T/faults/big" -name 'msg.*' | wc -l)"
    rr_eq "one skip line" 1 "$(rr_log_count "relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$small, status=unable \\(message size [0-9]+ exceeds size limit 1000")"
    run -69 relay_to "[$RR_HOST]:$small" r@example.org
    echo "$output"
    [[ $output == "5.3.4 "* ]]
    rr_eq "nothing at the small host" 0 "$(find "$RR_T/faults/small" -name 'msg.*' | wc -l)"
}
