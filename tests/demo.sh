#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh - show rrelay at work (the script behind `make demo`)
#
# Starts a throwaway Postfix instance that relays through rrelay to three
# smtp-sink upstreams on loopback, relays 30 messages and prints how many
# each host got, stops one host, relays 30 more, prints the counts and
# `rrelay status`. Everything it starts is stopped and removed on exit.
# Needs root. Exits non-zero if rrelay did not behave as expected.
# KEEP_TMP=1 keeps the temp dir (logs, dumps) for a look afterwards.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=integration/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/integration/lib.bash"

SENT='relay=rrelay, .*status=sent'

# on_exit: show the logs if the demo failed, then clean up everything
on_exit() {
    local rc=$?
    if ((rc != 0)) && [[ -n ${RR_T:-} ]]; then
        echo "demo FAILED (exit $rc); logs:" >&2
        rr_show_logs >&2
    fi
    rr_teardown
    exit "$rc"
}

# counts: print the number of messages each upstream has received
counts() {
    local s
    for s in a b c; do
        printf '  host %s [127.0.0.1]:%s  %3d messages\n' "$s" "$(rr_sink_port "$s")" "$(rr_sink_count "$s")"
    done
}

# check WHAT EXPECTED ACTUAL: report one expectation, remember failures
check() {
    if [[ $2 == "$3" ]]; then
        printf '  ok: %s = %s\n' "$1" "$3"
    else
        printf '  FAILED: %s: expected %s, got %s\n' "$1" "$2" "$3"
        failed=1
    fi
}

failed=0
rr_setup
trap on_exit EXIT
rr_require_rrelay

echo "== starting three smtp-sink upstreams and a throwaway Postfix instance"
rr_sink_start a
rr_sink_start b
rr_sink_start c
relayhost=$(rr_relayhost "$(rr_sink_port a)" "$(rr_sink_port b)" "$(rr_sink_port c)")
rr_postfix_init "$relayhost" connect_timeout=2s
rr_postfix_start
echo "  relayhost = $relayhost"
echo "  Postfix in $(rr_pf_dir), smtpd on 127.0.0.1:$(rr_smtpd_port)"

echo "== relaying 30 messages"
rr_smtp_inject 30
rr_wait_maillog 30 "$SENT" 60
rr_wait_queue_empty 30
counts
check "host a" 10 "$(rr_sink_count a)"
check "host b" 10 "$(rr_sink_count b)"
check "host c" 10 "$(rr_sink_count c)"

echo "== stopping host b, relaying 30 more"
rr_sink_stop b
rr_smtp_inject 30
rr_wait_maillog 60 "$SENT" 60
rr_wait_queue_empty 30
counts
check "host b (stopped)" 10 "$(rr_sink_count b)"
check "hosts a + c" 50 "$(rr_sink_total a c)"
check "deferred or bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"

echo "== rrelay status"
rr_rrelay_status | sed 's/^/  /'
check "host b in rrelay status" down "$(rr_host_state "$(rr_sink_port b)")"

echo "== rrelay log (host transitions)"
grep -E 'status=(down|up|skipped)' "$RR_T/rrelay.log" | head -n 5 | sed 's/^/  /' || true

if ((failed)); then
    exit 1
fi
echo "== demo OK"
