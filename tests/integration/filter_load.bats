#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# filter_load.bats - rrelay-milter under 200 concurrent SMTP sessions, with a SIGHUP
#
# smtp-source keeps 200 sessions open against a real Postfix whose smtpd
# uses the milter, with dnsmasq serving the SPF records, all in a network
# namespace; Postfix relays what it accepts to an smtp-sink. Half-way the
# milter gets SIGHUP (a reload). Every message must reach the sink, each
# with both SPF header fields; the milter must not crash, and its RSS at
# the end must be less than twice what it was after a warm-up. Under the
# AddressSanitizer build (SANITIZE=1) the milter runs with ASan's
# quarantine off, which otherwise holds up to 256 MB of freed memory on
# purpose: the bound then measures the milter, not the quarantine.
#
# LOAD_MESSAGES (default 6000, after 1000 of warm-up at the same concurrency) sets the run's size:
# about 45 seconds on a 2-core machine. 20,000 take about two and a half
# minutes, more than make check should spend on one test.

bats_require_minimum_version 1.5.0
load filter_lib

SINK_PORT=2525

setup_file() {
    fl_setup_file
}

setup() {
    fl_setup
    fl_dns_start
}

teardown() {
    fl_teardown
}

# sink_listening: the smtp-sink listens in the namespace
sink_listening() {
    [[ -n $(fl_ns ss -Hltn "src $FL_V4:$SINK_PORT" 2>/dev/null) ]]
}

# rss PID: resident set size in KiB
rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# sink_count: messages the sink has received
sink_count() {
    find "$FL_T/sink" -type f | wc -l
}

# sink_has N: the sink has received at least N messages
sink_has() {
    (($(sink_count) >= $1))
}

@test "load: 200 concurrent sessions and a SIGHUP; nothing lost, every message marked, flat RSS" {
    local n=${LOAD_MESSAGES:-6000} warm=1000 pid rss0 rss1 marked
    mkdir -p "$FL_T/sink"
    chown nobody "$FL_T/sink"
    ip netns exec "$FL_NS" smtp-sink -u nobody -d "$FL_T/sink/" "$FL_V4:$SINK_PORT" 256 \
        </dev/null >"$FL_T/sink.out" 2>&1 &
    fl_track $!
    fl_wait 5 sink_listening
    fl_milter_conf
    if [[ ${SANITIZE:-0} == 1 || $RRELAY_MILTER == */san/* ]]; then
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0 \
            fl_milter_start
    else
        fl_milter_start
    fi
    fl_postfix_start "smtpd_recipient_restrictions = permit_auth_destination, reject" \
        "relayhost = [$FL_V4]:$SINK_PORT" default_process_limit=250 \
        smtpd_client_connection_count_limit=0 smtpd_client_connection_rate_limit=0 \
        smtp_destination_concurrency_limit=50
    pid=$(fl_milter_pid)

    # warm-up, then the baseline RSS
    fl_ns smtp-source -s 200 -m "$warm" -l 1000 -M mx.pass.test -f joe@pass.test \
        -t rcpt@example.org "$FL_V4:25"
    fl_wait 60 sink_has "$warm"
    rss0=$(rss "$pid")

    # the load, with a reload half-way
    fl_ns smtp-source -s 200 -m "$n" -l 1000 -M mx.pass.test -f joe@pass.test \
        -t rcpt@example.org "$FL_V4:25" &
    local src=$!
    fl_wait 120 sink_has $((warm + n / 2))
    kill -HUP "$pid"
    wait "$src"
    fl_wait 120 sink_has $((warm + n))
    sleep 1
    rss1=$(rss "$pid")
    echo "# milter RSS: ${rss0} KiB after the warm-up, ${rss1} KiB after $n messages" >&3

    fl_log_has "reloaded"
    proc_alive "$pid"
    [ "$(sink_count)" -eq $((warm + n)) ]
    marked=$(grep -lE '^Authentication-Results: mx\.rrelay\.test; spf=pass smtp\.mailfrom=joe@pass\.test' \
        "$FL_T"/sink/* | xargs grep -l '^Received-SPF: pass ' | wc -l)
    echo "# messages at the sink: $(sink_count), with both SPF fields: $marked" >&3
    [ "$marked" -eq $((warm + n)) ]
    [ "$(grep -c 'milter-reject\|status=deferred\|status=bounced' "$FL_T/pf/maillog")" -eq 0 ]
    ((rss1 < 2 * rss0)) || {
        echo "milter RSS grew from $rss0 to $rss1 KiB" >&2
        return 1
    }
}
