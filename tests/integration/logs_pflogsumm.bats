#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# logs_pflogsumm.bats - pflogsumm reads a mail log with rrelay in it correctly
#
# A real Postfix relays through rrelay: messages delivered by two hosts,
# deferred by a dead one, bounced by one that rejects the recipient. The
# test joins Postfix's maillog and rrelay's log (which rrelay writes in
# syslog's own line format: "Mon dd hh:mm:ss host rrelay[pid]: ...") as
# syslog joins them in /var/log/mail.log, runs Debian's pflogsumm over it,
# and checks its counts: each delivery once, as Postfix's pipe(8) line;
# rrelay's own lines neither counted again nor reported as unknown.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
    command -v pflogsumm >/dev/null || skip "pflogsumm is not installed (scripts/install-deps installs it)"
}

teardown() {
    rr_teardown
}

# summary_count LABEL: the number pflogsumm's Grand Totals give for LABEL
summary_count() {
    awk -v l="$1" '$2 == l { print $1; exit }' "$RR_T/summary"
}

@test "pflogsumm counts each delivery, deferral and bounce once; rrelay's lines add nothing" {
    local dead i
    rr_sink_start s1
    rr_sink_start s2
    rr_sink_start rejecting -f RCPT
    dead=$(rr_free_port)
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)")" connect_timeout=1s
    rr_transport_add dead.test "rrelay:[$RR_HOST]:$dead"
    rr_transport_add bounce.test "rrelay:[$RR_HOST]:$(rr_sink_port rejecting)"
    rr_postfix_start
    for i in 1 2 3 4 5 6; do
        printf 'Subject: %s\n\nbody\n' "$i" | rr_sendmail -i -f sender@sender.test "r$i@example.org"
    done
    for i in 1 2; do
        printf 'Subject: dead %s\n\nbody\n' "$i" | rr_sendmail -i -f sender@sender.test "d$i@dead.test"
    done
    printf 'Subject: bounce\n\nbody\n' | rr_sendmail -i -f sender@sender.test b1@bounce.test
    rr_wait_maillog 6 'relay=rrelay, .*status=sent' 60
    rr_wait_maillog 2 'to=<d[12]@dead\.test>, relay=rrelay, .*status=deferred' 60
    rr_wait_maillog 1 'to=<b1@bounce\.test>, relay=rrelay, .*status=bounced' 60
    # rrelay has its own detail lines for every one of them
    rr_wait_log 10 'result=(sent|deferred|bounced), exit=' 30
    rr_eq "rrelay's own delivery lines" 10 "$(rr_log_count ': to=<[^>]*>, relay=[^,]*, .*status=(sent|deferred|bounced)')"
    cat "$(rr_maillog)" "$RR_T/rrelay.log" >"$RR_T/mail.log"
    pflogsumm --problems-first --verbose-msg-detail "$RR_T/mail.log" >"$RR_T/summary" 2>"$RR_T/pflogsumm.err"
    sed 's/^/# /' "$RR_T/summary" | head -60 >&3
    rr_eq "received" 9 "$(summary_count received)"
    rr_eq "delivered (6, and the DSN of the bounce)" 7 "$(summary_count delivered)"
    rr_eq "deferred" 2 "$(summary_count deferred)"
    rr_eq "bounced" 1 "$(summary_count bounced)"
    rr_eq "rejected" 0 "$(summary_count rejected)"
    # rrelay's lines change nothing: the report is the same without them
    pflogsumm --problems-first --verbose-msg-detail "$(rr_maillog)" >"$RR_T/summary.postfix"
    diff "$RR_T/summary.postfix" "$RR_T/summary"
    # nothing unknown, no warnings
    run ! grep -qi 'unknown\|unprocessed' "$RR_T/summary"
    [ ! -s "$RR_T/pflogsumm.err" ]
    # the bounce is listed by relay (the pipe transport), naming the upstream
    grep -A3 'message bounce detail (by relay)' "$RR_T/summary" | grep -q '^  rrelay'
    grep -q "127\.0\.0\.1\[127\.0\.0\.1\]:$(rr_sink_port rejecting)" "$RR_T/summary"
    # and the deferrals name the dead host
    grep -A4 'message deferral detail' "$RR_T/summary" | grep -q "$dead"
    # the metrics file counts the same per host
    rr_wait_prom
    grep -qx "rrelay_host_messages_total{list=\"[0-9a-f]*\",host=\"\[$RR_HOST\]:$(rr_sink_port rejecting)\",result=\"bounced\"} 1" "$RR_T/state/rrelay.prom"
    grep -qx "rrelay_host_messages_total{list=\"[0-9a-f]*\",host=\"\[$RR_HOST\]:$dead\",result=\"deferred\"} 2" "$RR_T/state/rrelay.prom"
}
