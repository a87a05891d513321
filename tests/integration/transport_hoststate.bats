#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_hoststate.bats - what counts as a host going down, and for how long

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

@test "failures and backoff grow for a host that fails after EHLO" {
    # smtp-sink offers no STARTTLS, so at level encrypt the host fails after
    # a good EHLO. That must count as a consecutive failure, not as the host
    # coming back up and going down again.
    rr_sink_start nostls
    dest=$(rr_relayhost "$(rr_sink_port nostls)")
    printf 'Subject: x\n\nbody\n' >"$RR_T/msg"
    for i in 1 2 3; do
        run -75 rr_rrelay -o tls_security_level=encrypt -o backoff=1s \
            -q "Q$i" -f s@sender.test -n "$dest" -- "r$i@example.org" <"$RR_T/msg"
        [[ $output == 4.7.4\ * ]]
        sleep 2.2 # past the backoff so far (1s, then 2s)
    done
    cat "$RR_T/rrelay.log"
    rr_eq "status=up lines" 0 "$(rr_log_count 'status=up')"
    rr_eq "1st failure" 1 "$(rr_log_count 'Q1: host=.*status=down, failures=1, backoff=1s')"
    rr_eq "2nd failure" 1 "$(rr_log_count 'Q2: host=.*status=down, failures=2, backoff=2s')"
    rr_eq "3rd failure" 1 "$(rr_log_count 'Q3: host=.*status=down, failures=3, backoff=4s')"
}

@test "a host reached on its second address is not marked down" {
    # The name resolves to 127.0.0.1 (nothing listens) and then 127.0.0.2
    # (smtp-sink), from a private /etc/hosts in a mount namespace: /etc is
    # not touched.
    command -v unshare >/dev/null || skip "unshare is not installed"
    port=$(rr_free_port)
    mkdir -p "$RR_T/sink2/dump"
    chown nobody "$RR_T/sink2/dump"
    smtp-sink -c -u nobody -d "$RR_T/sink2/dump/" "127.0.0.2:$port" 64 \
        </dev/null >"$RR_T/sink2/out" 2>&1 3>&- 4>&- &
    rr_track_pid $!
    rr_wait_listen "$port"
    printf '127.0.0.1 localhost\n127.0.0.1 twoaddr.test\n127.0.0.2 twoaddr.test\n' >"$RR_T/hosts"
    printf 'Subject: x\n\nbody\n' >"$RR_T/msg"
    run -0 unshare -m sh -c "mount --bind $RR_T/hosts /etc/hosts && exec setpriv --reuid=rrelay --regid=rrelay --init-groups env -i PATH=/usr/bin:/bin $RRELAY -o state_directory=$RR_T/state -o log=$RR_T/rrelay.log -q QTWO -f s@sender.test -n '[twoaddr.test]:$port' -- r@example.org" <"$RR_T/msg"
    cat "$RR_T/rrelay.log"
    rr_eq "delivered" 1 "$(rr_log_count 'QTWO: to=<r@example\.org>, relay=twoaddr\.test\[127\.0\.0\.2\]:[0-9]+, .*status=sent')"
    rr_eq "host down after a delivery" 0 "$(rr_log_count 'QTWO: host=.*status=down')"
    rr_eq "rrelay status" up "$(rr_rrelay_status | awk -v d="[twoaddr.test]:$port" '$1 == d { print $3 }')"
}
