#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_capacity.bats - upstreams with limits (host_policy_file): weights,
# backup hosts, rate, max_connections and quota, and replies that say a
# host is full (built in, and saturation_file). All through a real Postfix.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

SENT='relay=rrelay, .*status=sent'

# dest PORT: the destination [127.0.0.1]:PORT as the host list writes it
dest() {
    printf '[%s]:%s' "$RR_HOST" "$1"
}

# policy LINE...: write the host_policy_file $RR_T/hosts.policy
policy() {
    printf '%s\n' "$@" >"$RR_T/hosts.policy"
    chmod 0644 "$RR_T/hosts.policy"
}

# fault_msgs NAME: messages fault server NAME accepted
fault_msgs() {
    find "$RR_T/faults/$1" -name 'msg.*' | wc -l
}

# sent_ports: the port of each rrelay delivery in log order, one per line
sent_ports() {
    sed -nE 's/.*: to=<[^>]*>, relay=[^ ]*\]:([0-9]+),.*status=sent.*/\1/p' "$RR_T/rrelay.log"
}

# at_most WHAT MAX ACTUAL: fail with a readable message unless ACTUAL <= MAX
at_most() {
    (($3 <= $2)) || {
        echo "$1: expected at most $2, got '$3'" >&2
        return 1
    }
}

# max_run PORT: the longest run of PORT in sent_ports
max_run() {
    sent_ports | awk -v p="$1" '$1 == p { n++; if (n > m) m = n; next } { n = 0 } END { print m + 0 }'
}

@test "weights 3:1:1: 50 messages through Postfix arrive 30/10/10" {
    rr_sink_start a
    rr_sink_start b
    rr_sink_start c
    policy "$(dest "$(rr_sink_port a)") weight=3" "$(dest "$(rr_sink_port b)") weight=1"
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port a)" "$(rr_sink_port b)" "$(rr_sink_port c)")" \
        "host_policy_file=$RR_T/hosts.policy"
    rr_postfix_start
    rr_smtp_inject 50
    rr_wait_maillog 50 "$SENT" 120
    rr_wait_queue_empty 30
    rr_eq "deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "sink a (weight 3)" 30 "$(rr_sink_count a)"
    rr_eq "sink b (weight 1)" 10 "$(rr_sink_count b)"
    rr_eq "sink c (not listed: weight 1)" 10 "$(rr_sink_count c)"
}

@test "weights 3:1:1 interleave: one at a time, no host gets more than its weight in a row" {
    rr_sink_start a
    rr_sink_start b
    rr_sink_start c
    policy "$(dest "$(rr_sink_port a)") weight=3"
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port a)" "$(rr_sink_port b)" "$(rr_sink_port c)")" \
        "host_policy_file=$RR_T/hosts.policy"
    rr_postconf rrelay_destination_concurrency_limit=1
    rr_postfix_start
    rr_smtp_inject 15 sender@sender.test rcpt@example.org 1
    rr_wait_maillog 15 "$SENT" 90
    sent_ports >&3
    rr_eq "sink a" 9 "$(rr_sink_count a)"
    rr_eq "sink b" 3 "$(rr_sink_count b)"
    rr_eq "sink c" 3 "$(rr_sink_count c)"
    # smooth weighted round-robin gives a b a c a a b a c a ...: runs of 2 at most
    at_most "longest run of a (weight 3)" 3 "$(max_run "$(rr_sink_port a)")"
    at_most "longest run of a (smooth: a b a c a a b ...)" 2 "$(max_run "$(rr_sink_port a)")"
    rr_eq "longest run of b" 1 "$(max_run "$(rr_sink_port b)")"
    rr_eq "longest run of c" 1 "$(max_run "$(rr_sink_port c)")"
}

@test "a backup host takes nothing while a primary is up, everything while none is" {
    local pa pb before
    rr_sink_start a
    rr_sink_start b
    rr_sink_start spare
    pa=$(rr_sink_port a)
    pb=$(rr_sink_port b)
    policy "$(dest "$(rr_sink_port spare)") backup"
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port spare)" "$pa" "$pb")" \
        "host_policy_file=$RR_T/hosts.policy" backoff=1s max_backoff=1s connect_timeout=2s
    rr_postfix_start
    rr_smtp_inject 20
    rr_wait_maillog 20 "$SENT" 60
    rr_eq "backup while both primaries are up" 0 "$(rr_sink_count spare)"
    rr_eq "primaries" 20 "$(rr_sink_total a b)"
    rr_sink_stop a
    rr_sink_stop b
    rr_smtp_inject 10
    rr_wait_maillog 30 "$SENT" 60
    rr_eq "backup with both primaries stopped" 10 "$(rr_sink_count spare)"
    rr_ge "log: a message went to the backup, and why" 1 \
        "$(rr_log_count "host=\\[127\\.0\\.0\\.1\\]:$(rr_sink_port spare), status=backup \\(no primary host can take it: .*down")"
    before=$(rr_sink_count a)
    rr_sink_start_on a "$pa"
    sleep 2 # the primaries' 1s backoff ends
    # One message probes the primaries (while it does, a host on probation
    # is leased to it alone, and others may still go to the backup) ...
    rr_smtp_inject 1
    rr_wait_maillog 31 "$SENT" 60
    rr_eq "the probe found primary a" "$((before + 1))" "$(rr_sink_count a)"
    # ... then a is up again, and the backup gets nothing.
    rr_smtp_inject 10
    rr_wait_maillog 41 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "backup once a primary is back" 10 "$(rr_sink_count spare)"
    rr_eq "primary a once it is back" "$((before + 11))" "$(rr_sink_count a)"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
}

@test "rate=5/s on one host of three: never more than 5 MAIL FROMs a second there, all delivered" {
    local port pb pc
    port=$(rr_free_port)
    pb=$(rr_free_port)
    pc=$(rr_free_port)
    rr_fault_start limited "$port"
    rr_fault_start b "$pb"
    rr_fault_start c "$pc"
    # The other two at 10/s, so that the messages outrun all three and the
    # limited host works at its limit for seconds, between waits for slots.
    policy "$(dest "$port") rate=5/s" "$(dest "$pb") rate=10/s" "$(dest "$pc") rate=10/s"
    rr_postfix_init "$(rr_relayhost "$port" "$pb" "$pc")" "host_policy_file=$RR_T/hosts.policy"
    rr_postfix_start
    rr_smtp_inject 60
    rr_wait_maillog 60 "$SENT" 120
    rr_wait_queue_empty 30
    rr_eq "deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "all delivered" 60 "$(($(fault_msgs limited) + $(fault_msgs b) + $(fault_msgs c)))"
    rr_ge "the limited host worked at its limit" 8 "$(fault_msgs limited)"
    # the most MAIL FROMs in any 1-second window, allowing a window edge of 1
    run -0 python3 - "$RR_T/faults/limited/mail_times" 6 "$RR_T/faults/b/mail_times" 11 \
        "$RR_T/faults/c/mail_times" 11 <<'EOF'
import sys
args = sys.argv[1:]
for path, bound in zip(args[::2], args[1::2]):
    t = sorted(float(x) for x in open(path))
    most = max(sum(1 for u in t[i:] if u < s + 1.0) for i, s in enumerate(t))
    print(path.split("/")[-2], "most in one second:", most, "of", len(t))
    assert most <= int(bound), (path, most)
EOF
    echo "$output"
    rr_ge "messages waited for a slot" 1 "$(rr_log_count 'status=busy')"
    rr_ge "log: the limited host was busy" 1 "$(rr_log_count "host=\\[127\\.0\\.0\\.1\\]:$port, status=busy \\(at its rate limit, rate=5/s\\)")"
}

@test "rate on every host and rate_wait=1s: an overload defers with 4.4.5, then all is delivered" {
    rr_sink_start a
    rr_sink_start b
    policy "$(dest "$(rr_sink_port a)") rate=1/s" "$(dest "$(rr_sink_port b)") rate=1/s"
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port a)" "$(rr_sink_port b)")" \
        "host_policy_file=$RR_T/hosts.policy" rate_wait=1s
    rr_postconf queue_run_delay=2s minimal_backoff_time=2s maximal_backoff_time=4s
    rr_postfix_start
    rr_smtp_inject 16 sender@sender.test rcpt@example.org 8
    rr_wait_maillog 1 'relay=rrelay, .*dsn=4\.4\.5, status=deferred \(.*all 2 hosts are at their rate limit' 60
    rr_wait_maillog 16 "$SENT" 120
    rr_wait_queue_empty 60
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_eq "delivered" 16 "$(rr_sink_total a b)"
}

# conn_limit [CACHE]: max_connections=2 and 10 deliveries at once through Postfix
conn_limit() {
    local port extra=()
    port=$(rr_free_port)
    rr_fault_start limited "$port" mail=slow
    policy "$(dest "$port") max_connections=2"
    if [[ ${1:-} == cache ]]; then
        rr_cache_start
        extra=("cache_socket=$RR_T/cache/cache.sock")
    fi
    rr_postfix_init "[$RR_HOST]:$port" "host_policy_file=$RR_T/hosts.policy" rate_wait=60s \
        "${extra[@]}"
    rr_postfix_start
    rr_smtp_inject 10 sender@sender.test rcpt@example.org 10
    rr_wait_maillog 10 "$SENT" 120
    rr_wait_queue_empty 30
    rr_eq "delivered" 10 "$(fault_msgs limited)"
    rr_eq "the most sessions open at once" 2 "$(cat "$RR_T/faults/limited/max_sessions")"
    rr_ge "log: the host was busy" 1 "$(rr_log_count "status=busy \\(all max_connections=2 sessions in use\\)")"
}

@test "max_connections=2: 10 deliveries at once, never more than 2 sessions open" {
    conn_limit
}

@test "max_connections=2 with rrelay-cache running: never more than 2 sessions open" {
    conn_limit cache
}

@test "max_connections: a delivery killed with -9 in the middle leaks no slot" {
    local port pid
    port=$(rr_free_port)
    rr_fault_start limited "$port" mail=slow
    policy "$(dest "$port") max_connections=1"
    rr_postfix_init "[$RR_HOST]:$port" "host_policy_file=$RR_T/hosts.policy" rate_wait=60s
    rr_postconf queue_run_delay=2s minimal_backoff_time=2s maximal_backoff_time=2s
    rr_postfix_start
    rr_smtp_inject 1
    rr_wait 30 test -s "$RR_T/faults/limited/mail_times"
    pid=$(pgrep -f -- "^$RRELAY .*state_directory=$RR_T/state" | head -n 1)
    [ -n "$pid" ]
    kill -9 "$pid"
    rr_wait_maillog 1 'relay=rrelay, .*status=deferred' 30
    # the killed delivery's slot is free: the retry and 3 more get through one at a time
    rr_smtp_inject 3
    rr_wait_maillog 4 "$SENT" 90
    rr_wait_queue_empty 30
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    # (No bound on the server's count here: a session cut by kill -9 stays
    # open at the server until it reads the close, after the slot is free.)
    run -0 rr_rrelay_status
    echo "$output"
    [[ $output == *"sessions=0/1"* ]]
}

# saturate FAULT-ACTION: a host that says it is full after its 5th message, two that don't; 30 messages
saturate() {
    local port
    port=$(rr_free_port)
    rr_fault_start full "$port" "$@"
    rr_sink_start b
    rr_sink_start c
    rr_postfix_init "$(rr_relayhost "$port" "$(rr_sink_port b)" "$(rr_sink_port c)")" \
        ${SAT_FILE:+"saturation_file=$SAT_FILE"}
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 120
    rr_wait_queue_empty 30
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_eq "deferred" 0 "$(rr_maillog_count 'relay=rrelay, .*status=deferred')"
    rr_eq "the full host got" 5 "$(fault_msgs full)"
    rr_eq "the others took the rest" 25 "$(rr_sink_total b c)"
    rr_eq "log: saturated once" 1 "$(rr_log_count "host=\\[127\\.0\\.0\\.1\\]:$port, status=saturated")"
    rr_eq "log: the full host never marked down" 0 "$(rr_log_count "host=\\[127\\.0\\.0\\.1\\]:$port, .*status=down")"
}

@test "550 5.4.5 daily quota to RCPT after 5 messages: 0 bounced, the others take the rest" {
    saturate 'rcpt=5:550 5.4.5 Daily user sending quota exceeded.'
    rr_ge "log: class quota" 1 "$(rr_log_count 'status=saturated, class=quota')"
}

@test "454 Throttling failure at MAIL after 5 messages: 0 bounced, the others take the rest" {
    saturate 'mail=5:454 4.7.0 Throttling failure: Maximum sending rate exceeded.'
    rr_ge "log: class throttle" 1 "$(rr_log_count 'status=saturated, class=throttle')"
}

@test "451 4.7.652 at the greeting after 5 sessions: 0 bounced, the others take the rest" {
    saturate 'greet=5:451 4.7.652 The mail server [127.0.0.1] has exceeded the maximum number of connections.'
}

@test "a site pattern in saturation_file works the same" {
    SAT_FILE=$RR_T/saturation
    printf '# our relay provider\n550 5.7.1 relay credits (are )?spent quota\n' >"$SAT_FILE"
    chmod 0644 "$SAT_FILE"
    saturate 'rcpt=5:550 5.7.1 Your relay credits are spent for today'
}

@test "every host answers with a quota text: every message is deferred, none bounced" {
    local p1 p2 i
    p1=$(rr_free_port)
    p2=$(rr_free_port)
    rr_fault_start f1 "$p1" 'rcpt=550 5.4.5 Daily user sending quota exceeded.'
    rr_fault_start f2 "$p2" 'rcpt=550 5.7.1 Daily SMTP relay limit exceeded for customer.'
    rr_postfix_init "$(rr_relayhost "$p1" "$p2")"
    rr_postfix_start
    rr_smtp_inject 5
    rr_wait_maillog 5 'relay=rrelay, .*dsn=4\.[0-9]+\.[0-9]+, status=deferred' 60
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_eq "sent" 0 "$(rr_maillog_count 'status=sent')"
    rr_ge "the deferral quotes the reply" 1 "$(rr_maillog_count 'status=deferred .*(Daily user sending quota exceeded|Daily SMTP relay limit exceeded)')"
    for i in f1 f2; do
        rr_eq "messages kept by $i" 0 "$(fault_msgs "$i")"
    done
    run ! rr_queue_empty
}

@test "a 550 that matches no saturation pattern still bounces" {
    local port
    port=$(rr_free_port)
    rr_fault_start refuse "$port" 'rcpt=550 5.1.1 No such user here'
    rr_sink_start b
    rr_postfix_init "$(rr_relayhost "$port" "$(rr_sink_port b)")" "host_policy_file=/dev/null"
    rr_postconf rrelay_destination_concurrency_limit=1
    rr_postfix_start
    rr_smtp_inject 2 sender@sender.test rcpt@example.org 1
    rr_wait_maillog 2 'relay=rrelay, .*status=(sent|bounced)' 60
    rr_eq "bounced" 1 "$(rr_maillog_count 'to=<rcpt@example\.org>, relay=rrelay, .*dsn=5\.1\.1, status=bounced')"
    rr_eq "log: no saturation" 0 "$(rr_log_count 'status=saturated')"
}

@test "quota=10/h: the 11th recipient of the hour goes elsewhere, status shows 10/10" {
    local port
    port=$(rr_free_port)
    rr_fault_start q "$port"
    rr_sink_start b
    policy "$(dest "$port") quota=10/h"
    rr_postfix_init "$(rr_relayhost "$port" "$(rr_sink_port b)")" "host_policy_file=$RR_T/hosts.policy"
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 120
    rr_wait_queue_empty 30
    rr_eq "bounced/deferred" 0 "$(rr_maillog_count 'relay=rrelay, .*status=(bounced|deferred)')"
    rr_eq "the quota host got" 10 "$(fault_msgs q)"
    rr_eq "the other host got" 20 "$(rr_sink_count b)"
    rr_eq "log: quota used up, once" 1 "$(rr_log_count "host=\\[127\\.0\\.0\\.1\\]:$port, status=saturated, class=quota \\(quota=10/h used up")"
    run -0 rr_rrelay_status
    echo "$output"
    [[ $output == *"quota=10/10"* ]]
    rr_as_rrelay "$RRELAY" status --json -o "state_directory=$RR_T/state" \
        -o "host_policy_file=$RR_T/hosts.policy" >"$RR_T/status.json"
    run -0 python3 - "$RR_T/status.json" "$(dest "$port")" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 2, doc["version"]
hosts = {h["destination"]: h for h in doc["host_lists"][0]["hosts"]}
q = hosts[sys.argv[2]]
assert q["quota"] == {"limit": 10, "per": "h", "used": 10, "left": 0}, q
assert q["state"] == "saturated" and q["saturated_until"] > doc["generated"], q
assert q["weight"] == 1 and q["tier"] == "primary", q
print("status --json ok")
EOF
    echo "$output"
    [[ $output == *"status --json ok"* ]]
}

@test "a bad host_policy_file line defers with 4.3.5 and file:line" {
    rr_sink_start a
    policy "$(dest "$(rr_sink_port a)") weight=0"
    run rr_rrelay -o "host_policy_file=$RR_T/hosts.policy" -q CAP1 -f s@sender.test \
        -n "$(dest "$(rr_sink_port a)")" -- r@example.org <<<"Subject: x"$'\n\n'"body"
    echo "$output"
    [ "$status" -eq 75 ]
    [[ $output == 4.3.5\ *"$RR_T/hosts.policy:1:"*weight* ]]
    rr_eq "nothing sent" 0 "$(rr_sink_count a)"
}
