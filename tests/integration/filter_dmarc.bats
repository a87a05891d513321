#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# filter_dmarc.bats - Debian's OpenDMARC behind rrelay-milter in a real
# Postfix: OpenDMARC trusts our Authentication-Results (TrustedAuthservIDs,
# SPFSelfValidate false) and decides DMARC on our SPF result alone, and a
# forged Authentication-Results claiming our authserv-id is deleted (the
# milter runs first), and OpenDMARC decides on our result for that message. The OpenDMARC configuration written here is
# the one the README's DMARC section gives.
#
# The namespace, dnsmasq, the milter and Postfix come from filter_lib.bash;
# dnsmasq adds DMARC records (p=reject) for pass.test and dmarc.test.

bats_require_minimum_version 1.5.0
load filter_lib

setup_file() {
    fl_setup_file
}

setup() {
    command -v opendmarc >/dev/null || skip "needs opendmarc (scripts/install-deps)"
    fl_setup
    fl_dns_start --txt-record=_dmarc.pass.test,"v=DMARC1; p=reject" \
        --txt-record=_dmarc.dmarc.test,"v=DMARC1; p=reject"
}

teardown() {
    fl_teardown
}

# dmarc_start: OpenDMARC in the namespace, in the foreground, on $FL_T/dmarc/dmarc.sock
dmarc_start() {
    mkdir -p "$FL_T/dmarc"
    chown "$FL_USER:" "$FL_T/dmarc"
    # No host is exempt (OpenDMARC's default exempts 127.0.0.1 only anyway).
    echo "127.0.0.1" >"$FL_T/dmarc/ignore"
    cat >"$FL_T/opendmarc.conf" <<EOF
# the README's configuration, with this test's paths
Socket local:$FL_T/dmarc/dmarc.sock
UserID $FL_USER
AuthservID $FL_ID
TrustedAuthservIDs $FL_ID
SPFSelfValidate false
SPFIgnoreResults false
IgnoreHosts $FL_T/dmarc/ignore
RejectFailures false
Syslog false
EOF
    ip netns exec "$FL_NS" opendmarc -f -c "$FL_T/opendmarc.conf" -P "$FL_T/dmarc/pid" \
        </dev/null >"$FL_T/opendmarc.out" 2>&1 &
    fl_track $!
    fl_wait 10 test -S "$FL_T/dmarc/dmarc.sock" || {
        fl_err "opendmarc did not start: $(cat "$FL_T/opendmarc.out")"
        return 1
    }
}

# start_both NAME=VALUE: rrelay-milter (with that setting) first, then OpenDMARC, in smtpd_milters
start_both() {
    fl_milter_conf "$1"
    fl_milter_start
    dmarc_start
    fl_postfix_start "smtpd_milters = unix:$FL_T/run/milter.sock, unix:$FL_T/dmarc/dmarc.sock"
}

@test "dmarc: aligned mail that passes SPF gets dmarc=pass from OpenDMARC on our result alone" {
    start_both header=both
    printf 'From: Joe <joe@pass.test>\nSubject: aligned\n\nhello\n' >"$FL_T/body"
    fl_send_ok mx.pass.test joe@pass.test
    grep -i '^Authentication-Results' <<<"$HDRS" | sed 's/^/# /' >&3
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=joe@pass.test" <<<"$HDRS"
    grep -qE "^Authentication-Results: $FL_ID; dmarc=pass \(p=reject dis=none\) header\.from=pass\.test$" <<<"$HDRS"
}

@test "dmarc: a forged Authentication-Results with our id is gone; OpenDMARC decides on our spf=none" {
    start_both header=both
    # dmarc.test has no SPF record (our result: none); the forgery claims an
    # spf=pass for the envelope's domain that would align with From:.
    printf '%s\n' "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=boss@dmarc.test" \
        'From: Boss <boss@dmarc.test>' 'Subject: forged' '' 'pay this' >"$FL_T/body"
    fl_send_ok mx.dmarc.test boss@dmarc.test
    grep -i '^Authentication-Results' <<<"$HDRS" | sed 's/^/# /' >&3
    run ! grep -q 'spf=pass' <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=none smtp.mailfrom=boss@dmarc.test" <<<"$HDRS"
    grep -qE "^Authentication-Results: $FL_ID; dmarc=fail \(p=reject dis=none\) header\.from=dmarc\.test$" <<<"$HDRS"
    [ "$(grep -ci '^Authentication-Results:' <<<"$HDRS")" -eq 2 ]
}
