#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_failover.bats - round robin, dead/silent hosts, 4xx/5xx, defer and retry

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# SENT: a Postfix maillog line for a delivery through the rrelay pipe
SENT='relay=rrelay, .*status=sent'

# host_re PORT: ERE for the destination [127.0.0.1]:PORT in rrelay's log
host_re() {
    printf 'host=\\[127\\.0\\.0\\.1\\]:%s,' "$1"
}

@test "round robin: 30 messages over 3 live hosts arrive exactly 10/10/10" {
    rr_sink_start s1
    rr_sink_start s2
    rr_sink_start s3
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)" "$(rr_sink_port s3)")"
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "maillog status=sent" 30 "$(rr_maillog_count 'status=sent')"
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "sink s1" 10 "$(rr_sink_count s1)"
    rr_eq "sink s2" 10 "$(rr_sink_count s2)"
    rr_eq "sink s3" 10 "$(rr_sink_count s3)"
    rr_eq "rrelay log status=sent" 30 "$(rr_log_count ': to=<rcpt@example\.org>, relay=\[?127\.0\.0\.1.*status=sent')"
}

@test "a host refusing connections is marked down, the others take all mail" {
    rr_sink_start s1
    dead=$(rr_free_port) # nothing will listen there
    rr_sink_start s3
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$dead" "$(rr_sink_port s3)")"
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "sinks s1+s3" 30 "$(rr_sink_total s1 s3)"
    rr_ge "sink s1" 1 "$(rr_sink_count s1)"
    rr_ge "sink s3" 1 "$(rr_sink_count s3)"
    rr_ge "rrelay log: dead host down" 1 "$(rr_log_count "$(host_re "$dead") addr=127\.0\.0\.1:$dead, status=down, failures=[0-9]+, backoff=")"
    rr_eq "rrelay log: live host down" 0 "$(rr_log_count "$(host_re "$(rr_sink_port s1)").*status=down")"
    run -0 rr_rrelay_status
    echo "$output"
    rr_eq "rrelay status of the dead host" down "$(rr_host_state "$dead")"
    rr_eq "rrelay status of a live host" up "$(rr_host_state "$(rr_sink_port s1)")"
    # the same through the JSON schema, read by a real JSON parser
    rr_as_rrelay "$RRELAY" status --json -o "state_directory=$RR_T/state" >"$RR_T/status.json"
    run -0 python3 - "$RR_T/status.json" "[$RR_HOST]:$dead" "[$RR_HOST]:$(rr_sink_port s1)" \
        "[$RR_HOST]:$(rr_sink_port s3)" "$(rr_sink_total s1 s3)" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "rrelay-status" and doc["version"] == 2, doc
(hl,) = doc["host_lists"]
assert hl["status"] == "ok" and len(hl["hash"]) == 16, hl
hosts = {h["destination"]: h for h in hl["hosts"]}
dead, s1, s3 = (hosts[d] for d in sys.argv[2:5])
assert dead["state"] == "down" and dead["failures"] >= 1, dead
assert dead["down_until"] > doc["generated"] and dead["last_error"], dead
assert dead["sent"] == 0 and dead["tls"] == "none", dead
assert dead["deferred"] >= 1 and dead["down_count"] >= 1, dead
assert dead["state_since"] is not None and dead["state_since"] <= doc["generated"], dead
for h in (s1, s3):
    assert h["state"] == "up" and h["down_until"] is None and h["failures"] == 0, h
    assert h["deferred"] == 0 and h["bounced"] == 0 and h["down_count"] == 0, h
assert s1["sent"] + s3["sent"] == int(sys.argv[5]), (s1, s3)
print("status --json ok")
EOF
    # the metrics file, read by Prometheus' own parser
    rr_wait_prom
    run -0 /usr/bin/python3 - "$RR_T/state/rrelay.prom" "[$RR_HOST]:$dead" \
        "[$RR_HOST]:$(rr_sink_port s1)" "[$RR_HOST]:$(rr_sink_port s3)" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
m = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        key = (s.name, s.labels["host"], s.labels.get("result"))
        m[key] = s.value
dead, s1, s3 = sys.argv[2:5]
sent = lambda h: m[("rrelay_host_messages_total", h, "sent")]
assert sent(s1) + sent(s3) == 30 and sent(dead) == 0, m
assert m[("rrelay_host_messages_total", dead, "deferred")] >= 1, m
assert m[("rrelay_host_messages_total", s1, "deferred")] == 0, m
assert m[("rrelay_host_down_transitions_total", dead, None)] >= 1, m
assert m[("rrelay_host_up", dead, None)] == 0 and m[("rrelay_host_up", s1, None)] == 1, m
assert m[("rrelay_host_state_since_seconds", dead, None)] > 0, m
assert m[("rrelay_host_consecutive_failures", dead, None)] >= 1, m
print("rrelay.prom ok")
EOF
}

@test "a host that never greets is tried once, then skipped while down" {
    rr_sink_start s1
    rr_silent_start quiet
    rr_sink_start s3
    q=$(rr_silent_port quiet)
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$q" "$(rr_sink_port s3)")" \
        command_timeout=2s backoff=60s
    rr_postfix_start
    # One message at a time until round robin has reached the silent host
    # (at most 3 messages), so that no two processes try it concurrently.
    for n in 1 2 3; do
        rr_smtp_inject 1
        rr_wait_maillog "$n" "$SENT" 30
        (($(rr_silent_count quiet) == 0)) || break
    done
    rr_eq "connections to the silent host" 1 "$(rr_silent_count quiet)"
    rr_eq "rrelay log: silent host down" 1 "$(rr_log_count "$(host_re "$q") addr=127\.0\.0\.1:$q, status=down, failures=1, backoff=60s")"
    # Now many at once: none may touch the silent host while it is down.
    rr_smtp_inject 12
    rr_wait_maillog $((n + 12)) "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "connections to the silent host" 1 "$(rr_silent_count quiet)"
    rr_eq "sinks s1+s3" $((n + 12)) "$(rr_sink_total s1 s3)"
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_ge "rrelay log: silent host skipped" 1 "$(rr_log_count "$(host_re "$q") status=skipped")"
    rr_eq "rrelay status of the silent host" down "$(rr_host_state "$q")"
}

@test "a silent host costs greeting_grace, not command_timeout, while other hosts are up" {
    rr_silent_start quiet
    rr_sink_start s2
    rr_sink_start s3
    q=$(rr_silent_port quiet)
    rr_postfix_init "$(rr_relayhost "$q" "$(rr_sink_port s2)" "$(rr_sink_port s3)")" \
        command_timeout=60s greeting_grace=5s
    rr_postfix_start
    rr_smtp_inject 30 sender@sender.test rcpt@example.org 10
    # Every message goes out long before anyone could have waited out
    # command_timeout (60s) for the silent host's greeting. The grace is
    # 5s, not 1s: a busy machine may keep a healthy sink's greeting
    # waiting for a second.
    rr_wait_maillog 30 "$SENT" 45
    rr_wait_queue_empty 30
    rr_eq "sinks s2+s3" 30 "$(rr_sink_total s2 s3)"
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_ge "connections to the silent host" 1 "$(rr_silent_count quiet)"
    # each delivery that met it gave up after the grace and marked it down
    rr_eq "down for the grace, once per connection" "$(rr_silent_count quiet)" \
        "$(rr_log_count "$(host_re "$q") addr=127\.0\.0\.1:$q, status=down, .*\(no greeting from 127\.0\.0\.1\[127\.0\.0\.1\]:$q after 5s \(greeting_grace\), and another host is up\)")"
    rr_eq "timed out" 0 "$(rr_log_count 'timed out')"
    # deliveries that met it at the same time count one failure, not one each
    rr_eq "failures counted" 1 "$(rr_log_count "$(host_re "$q") .*status=down, failures=1, backoff=60s \(")"
    rr_eq "failures counted by another delivery" "$(($(rr_silent_count quiet) - 1))" \
        "$(rr_log_count "$(host_re "$q") .*status=down, failures=1, backoff=[0-9]+s, counted by another delivery")"
    rr_eq "rrelay status of the silent host" down "$(rr_host_state "$q")"
}

@test "a silent host is waited for up to command_timeout when no other host is up" {
    rr_silent_start quiet
    q=$(rr_silent_port quiet)
    rr_postfix_init "$(rr_relayhost "$q")" \
        command_timeout=3s greeting_grace=1s
    rr_postfix_start
    rr_smtp_inject 1
    rr_wait_maillog 1 'relay=rrelay, .*status=deferred' 30
    rr_eq "waited out command_timeout" 1 "$(rr_log_count "$(host_re "$q") .*status=down, .*conversation with .* timed out while receiving the initial server greeting")"
    rr_eq "left after the grace" 0 "$(rr_log_count 'greeting_grace')"
}

@test "4xx to RCPT on one host: mail goes via the others, that host stays up" {
    rr_sink_start s1
    rr_sink_start soft -r RCPT
    rr_sink_start s3
    s=$(rr_sink_port soft)
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$s" "$(rr_sink_port s3)")"
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "sinks s1+s3" 30 "$(rr_sink_total s1 s3)"
    rr_eq "sink soft" 0 "$(rr_sink_count soft)"
    rr_ge "sessions with the 4xx host" 1 "$(rr_sink_sessions soft)"
    rr_eq "rrelay log: 4xx host down" 0 "$(rr_log_count "$(host_re "$s").*status=down")"
    rr_eq "rrelay status of the 4xx host" up "$(rr_host_state "$s")"
}

@test "5xx to RCPT on every host: the message bounces, no other host is tried" {
    rr_sink_start h1 -f RCPT
    rr_sink_start h2 -f RCPT
    rr_sink_start h3 -f RCPT
    rr_sink_start dsn # the sender's domain: Postfix's smtp delivers the DSN here
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port h1)" "$(rr_sink_port h2)" "$(rr_sink_port h3)")"
    rr_transport_add sender.test "smtp:[127.0.0.1]:$(rr_sink_port dsn)"
    rr_postfix_start
    printf 'Subject: to be rejected\n\nbody\n' | rr_sendmail -i -f s@sender.test r@example.org
    rr_wait_maillog 1 'to=<r@example\.org>, relay=rrelay, .*dsn=5\.[0-9]+\.[0-9]+, status=bounced' 30
    rr_wait_eq 30 1 rr_sink_count dsn
    rr_wait_queue_empty 30
    rr_eq "maillog deferred" 0 "$(rr_maillog_count 'status=deferred')"
    rr_eq "maillog bounced" 1 "$(rr_maillog_count 'status=bounced')"
    rr_eq "DSN for r@example.org" 1 "$(rr_sink_grep dsn '^Final-Recipient: rfc822; ?r@example\.org')"
    rr_eq "sessions over all three hosts" 1 \
        $(($(rr_sink_sessions h1) + $(rr_sink_sessions h2) + $(rr_sink_sessions h3)))
    rr_eq "rrelay log lines for r@example.org" 1 "$(rr_log_count 'to=<r@example\.org>')"
    rr_eq "rrelay log bounced" 1 "$(rr_log_count 'to=<r@example\.org>, relay=\[?127\.0\.0\.1.*status=bounced')"
    rr_eq "rrelay log: a 5xx host down" 0 "$(rr_log_count 'status=down')"
}

@test "all hosts down: mail is deferred, then delivered once they come back" {
    p1=$(rr_free_port)
    p2=$(rr_free_port)
    p3=$(rr_free_port)
    rr_postfix_init "$(rr_relayhost "$p1" "$p2" "$p3")" backoff=1s connect_timeout=2s
    rr_postfix_start
    rr_smtp_inject 3
    rr_wait_maillog 3 'relay=rrelay, .*dsn=4\.[0-9]+\.[0-9]+, status=deferred' 30
    rr_eq "maillog bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_eq "maillog sent" 0 "$(rr_maillog_count 'status=sent')"
    run ! rr_queue_empty
    rr_ge "rrelay log: hosts down" 1 "$(rr_log_count 'status=down')"
    rr_sink_start_on s1 "$p1"
    rr_sink_start_on s2 "$p2"
    rr_sink_start_on s3 "$p3"
    # With every host down a message still probes the host whose backoff
    # ends first; wait out the 1s backoff anyway.
    sleep 1.5
    rr_flush
    rr_wait_maillog 3 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "sinks" 3 "$(rr_sink_total s1 s2 s3)"
    rr_eq "maillog bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_ge "rrelay log: a host up again" 1 "$(rr_log_count 'status=up')"
}

# relay_one QID DEST: one small message to r@example.org through DEST
relay_one() {
    printf 'Subject: %s\n\nbody\n' "$1" | rr_rrelay -q "$1" -f s@sender.test -n "$2" -- r@example.org
}

@test "421 at MAIL, RCPT, DATA or the dot: deferred with the server's enhanced code, and the text says 'command'" {
    local stage port where
    for stage in mail rcpt data dot; do
        port=$(rr_free_port)
        rr_fault_start "f$stage" "$port" "$stage=421"
        : >"$RR_T/rrelay.log"
        run -75 relay_one "Q$stage" "[$RR_HOST]:$port"
        case $stage in
        mail) where='MAIL FROM command' ;;
        rcpt) where='RCPT TO command' ;;
        data) where='DATA command' ;;
        dot) where='end of DATA command' ;;
        esac
        [[ $output == "4.0.0 "*"said: 421 4.0.0 fault at $stage (in reply to $where)"* ]] ||
            { rr_err "$stage: output: $output"; return 1; }
        rr_eq "$stage: recipient line" 1 \
            "$(rr_log_count "Q$stage: to=<r@example.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$port, .*dsn=4\.0\.0, status=deferred .*\(in reply to $where\)")"
        rr_eq "$stage: 'smtp_command' anywhere" 0 "$(rr_log_count 'smtp_command')"
    done
}
