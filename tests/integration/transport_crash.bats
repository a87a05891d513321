#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_crash.bats - rrelay killed at any point, and state files it can't use
#
# kill -9 of rrelay while it waits for the greeting, in the middle of DATA
# and after the final dot: pipe(8) defers the message (a command killed by
# a signal is 4.3.0), Postfix retries, and nothing is lost. Only the kill
# after the dot may leave a duplicate: the upstream already has the
# message (RFC 5321 section 4.1.5). State files that are foreign-owned or
# not writable never stop delivery.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# rrelay_pids: the rrelay processes of this test (their argv names $RR_T)
rrelay_pids() {
    pgrep -f -- "^$RRELAY .*state_directory=$RR_T/state" || true
}

# kill_rrelay_when CMD...: wait until CMD is true and one rrelay runs, then kill -9 it
kill_rrelay_when() {
    local pid
    rr_wait 30 "$@" || {
        rr_err "never reached: $*"
        return 1
    }
    rr_wait 30 test -n "$(rrelay_pids)" || return 1
    pid=$(rrelay_pids | head -n 1)
    kill -9 "$pid"
    echo "killed rrelay $pid" >&3
}

# stored: the stuck upstream has kept a message (its final dot arrived)
stored() {
    [[ -n $(find "$RR_T/faults/stuck" -name 'msg.*' 2>/dev/null) ]]
}

# one_running: a single rrelay is running (and has had a moment to get stuck)
one_running() {
    [[ $(rrelay_pids | wc -l) == 1 ]] && sleep 1
}

# crash_at STAGE=ACTION SIZE WAIT-CMD...: kill rrelay at that point, then let a good upstream take it
crash_at() {
    local fault=$1 size=$2 port
    shift 2
    port=$(rr_free_port)
    rr_fault_start stuck "$port" "$fault"
    rr_postfix_init "[$RR_HOST]:$port" command_timeout=60s data_timeout=60s
    rr_postconf message_size_limit=20000000
    rr_postfix_start
    {
        printf 'Subject: crash\nMessage-ID: <crash@sender.test>\n\nbody\n'
        yes 'a line of the body of a message that rrelay is killed on' | head -c "$size"
    } | rr_sendmail -i -f sender@sender.test rcpt@example.org
    kill_rrelay_when "$@"
    rr_wait_maillog 1 'to=<rcpt@example\.org>, relay=rrelay, .*status=deferred' 30
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    # The same host, now a good one: Postfix's retry delivers the message.
    rr_retry_on_good "$port" crash@sender.test
}

@test "kill -9 while waiting for the greeting: deferred, then delivered once" {
    crash_at greet=silent 0 one_running
    rr_eq "copies kept by the stuck upstream" 0 "$(find "$RR_T/faults/stuck" -name 'msg.*' | wc -l)"
}

@test "kill -9 in the middle of DATA: deferred, then delivered once" {
    # 8 MB: rrelay is blocked writing the body when it dies
    crash_at body=silent 8000000 one_running
    rr_eq "copies kept by the stuck upstream" 0 "$(find "$RR_T/faults/stuck" -name 'msg.*' | wc -l)"
}

@test "kill -9 after the final dot: deferred, then delivered again (the one allowed duplicate)" {
    crash_at dot=silent 0 stored
    rr_eq "copies kept by the stuck upstream" 1 "$(find "$RR_T/faults/stuck" -name 'msg.*' | wc -l)"
}

@test "kill -9 of rrelay three times in a row: each retry goes on, nothing is lost" {
    local port i
    port=$(rr_free_port)
    rr_fault_start stuck "$port" greet=silent
    rr_postfix_init "[$RR_HOST]:$port" command_timeout=60s
    rr_postfix_start
    printf 'Subject: crash\nMessage-ID: <again@sender.test>\n\nbody\n' |
        rr_sendmail -i -f sender@sender.test rcpt@example.org
    for i in 1 2 3; do
        kill_rrelay_when one_running
        rr_wait_maillog "$i" 'to=<rcpt@example\.org>, relay=rrelay, .*status=deferred' 30
        rr_flush
    done
    rr_fault_stop stuck
    rr_sink_start_on good "$port"
    rr_flush
    rr_wait_maillog 1 'to=<rcpt@example\.org>, relay=rrelay, .*status=sent' 60
    rr_wait_queue_empty 30
    rr_eq "copies at the good upstream" 1 "$(rr_sink_grep good '^Message-ID: <again@sender\.test>')"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
}

@test "a foreign-owned or read-only state file: delivery goes on from memory, with a warning" {
    local f
    rr_sink_start s1
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)")"
    rr_postfix_start
    rr_smtp_inject 2
    rr_wait_maillog 2 'relay=rrelay, .*status=sent' 60
    f=$(find "$RR_T/state" -name 'rrelay-*.state' | head -n 1)
    [[ -n $f ]]
    chown nobody "$f"                    # another user's file
    rr_smtp_inject 2
    rr_wait_maillog 4 'relay=rrelay, .*status=sent' 60
    rr_ge "warnings for the foreign file" 1 "$(rr_log_count 'cannot use state file: .*this delivery does not share state')"
    chown "$RR_USER" "$f"
    chmod 0400 "$f"                      # ours, but not writable
    rr_smtp_inject 2
    rr_wait_maillog 6 'relay=rrelay, .*status=sent' 60
    rr_ge "warnings for the read-only file" 2 "$(rr_log_count 'cannot use state file')"
    rr_wait_queue_empty 30
    rr_eq "messages at the sink" 6 "$(rr_sink_count s1)"
    rr_eq "deferred" 0 "$(rr_maillog_count 'status=deferred')"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
}
