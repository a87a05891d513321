#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_timeouts.bats - no reply to the final dot, and the run's deadline

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# message - a small message on stdout
message() {
    printf 'Subject: timeouts\n\nbody\n'
}

@test "no reply to the final dot: defer, and no other host is tried" {
    # The stalling host waits 60s before answering the final dot; rrelay
    # gives it data_timeout=2s. The other host must never see the message:
    # the first may already have it.
    rr_sink_start stall -W .:60
    rr_sink_start good
    list="[127.0.0.1]:$(rr_sink_port stall), [127.0.0.1]:$(rr_sink_port good)"
    # A fresh list starts at a random host; the cursor then moves past the
    # host used, so within two messages one goes to the stalling host first.
    for q in FIRST SECOND; do
        run rr_rrelay -o data_timeout=2s -q "$q" -f a@sender.test -n "$list" \
            -- rcpt@example.org < <(message)
        echo "$q: status=$status output=$output"
        [ "$status" -eq 75 ] && break
        [ "$status" -eq 0 ]
    done
    [ "$status" -eq 75 ]
    [[ $output == "4.4.2 "*"timed out in reply to end of DATA command"* ]]
    # The good host got only the message that was not stalled, if any.
    rr_eq "good host transactions" "$([ "$q" = SECOND ] && echo 1 || echo 0)" \
        "$(rr_sink_count good)"
    rr_eq "deferred after the dot" 1 "$(rr_log_count "$q: to=<rcpt@example\.org>, .*dsn=4\.4\.2, status=deferred .*no other host is tried")"
    rr_eq "sent lines for the stalled message" 0 "$(rr_log_count "$q: to=.*status=sent")"
}

@test "the deadline defers the message before pipe(8)'s time limit, never bounces" {
    rr_silent_start mute
    port=$(cat "$RR_T/silent/mute/port")
    start=$SECONDS
    run rr_rrelay -o deadline=2s -o command_timeout=60s -q DEADLINE \
        -f a@sender.test -n "[127.0.0.1]:$port" -- rcpt@example.org < <(message)
    echo "status=$status output=$output elapsed=$((SECONDS - start))"
    [ "$status" -eq 75 ]
    [[ $output == 4.4.7\ * ]]
    [ $((SECONDS - start)) -lt 10 ]
    # Running out of time is not the host's fault: it is not marked down.
    rr_eq "host marked down" 0 "$(rr_log_count 'DEADLINE: host=.*status=down')"
    rr_eq "deferred with 4.4.7" 1 "$(rr_log_count 'DEADLINE: to=<rcpt@example\.org>, relay=none, .*dsn=4\.4\.7, status=deferred')"
}
