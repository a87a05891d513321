#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# filter_rfc7208.bats - RFC 7208 cases that libspf2 alone got wrong, end to end
#
# The same set-up as filter.bats (a network namespace with dnsmasq serving
# the records, rrelay-milter, a real Postfix whose smtpd uses it; clients
# connect from 192.0.2.1 and 2001:db8::1), with records that the public
# RFC 7208 suite uses to catch a loose parser or evaluator. Each test
# checks the SMTP reply and both header forms (Received-SPF and
# Authentication-Results), as a downstream DMARC verifier reads them.
# With libspf2 evaluating (the filter before its own check_host()),
# every test here fails; the comments say what libspf2 gave, as measured.

bats_require_minimum_version 1.5.0
load filter_lib

setup_file() {
    fl_setup_file
}

setup() {
    fl_setup
    fl_dns_start \
        --txt-record=leadzero.test,"v=spf1 ip4:192.0.2.1/032 -all" \
        --txt-record=dupredir.test,"v=spf1 redirect=pass.test redirect=pass.test" \
        --txt-record=late.test,"v=spf1 ip4:192.0.2.1 redirect:pass.test" \
        --txt-record=badmacro.test,"v=spf1 exists:foo%.pass.test ip4:192.0.2.1" \
        --txt-record=zero4.test,"v=spf1 ip4:0.0.0.0/0 -all" \
        --txt-record=a0.test,"v=spf1 a/0 -all" \
        --host-record=a0.test,198.51.100.7 \
        --txt-record=avoid.test,"v=spf1 a:nonexistent.test -all" \
        --txt-record=avoid0.test,"v=spf1 a:nonexistent.test/0 -all" \
        --txt-record=mxvoid.test,"v=spf1 mx:nonexistent.test//0 ip4:192.0.2.1 -all" \
        --txt-record=redirfirst.test,"v=spf1 redirect=pass.test ip4:192.0.2.99" \
        --txt-record=redirunused.test,"v=spf1 redirect=fail.test ip4:192.0.2.1" \
        --txt-record=hmacro.test,"v=spf1 a:%{h}.hosts.test -all" \
        --host-record=good.hosts.test,192.0.2.1
}

teardown() {
    fl_teardown
}

# headers_say RESULT FROM: both header fields give RESULT for MAIL FROM
headers_say() {
    grep -q "^Received-SPF: $1 ($FL_ID: .*envelope-from=\"$2\"; .*identity=mailfrom;" <<<"$HDRS" || {
        echo "no Received-SPF: $1 for $2 in: $HDRS" >&2
        return 1
    }
    grep -qx "Authentication-Results: $FL_ID; spf=$1 smtp.mailfrom=$2" <<<"$HDRS" || {
        echo "no Authentication-Results spf=$1 for $2 in: $HDRS" >&2
        return 1
    }
}

@test "rfc7208: a syntax error anywhere in the record is permerror (marked, or 550 5.7.24)" {
    fl_start
    # libspf2: pass (it took /032 as /32)
    fl_send_ok mx.pass.test joe@leadzero.test
    headers_say permerror joe@leadzero.test
    # libspf2: pass (it took the first redirect=)
    fl_send_ok mx.pass.test joe@dupredir.test
    headers_say permerror joe@dupredir.test
    # libspf2: pass ("redirect:" is no modifier; ip4 matched before it)
    fl_send_ok mx.pass.test joe@late.test
    headers_say permerror joe@late.test
    # libspf2: pass (it took "foo%" literally, and ip4 matched)
    fl_send_ok mx.pass.test joe@badmacro.test
    headers_say permerror joe@badmacro.test
    fl_log_has "spf=permerror .*from=<joe@leadzero\.test> action=mark \(invalid SPF record"
    fl_milter_conf on_permerror=reject
    kill -HUP "$(fl_milter_pid)"
    fl_wait 5 fl_log_has "reloaded"
    run fl_smtp mx.pass.test joe@late.test
    [[ $output == *"550 5.7.24 SPF permerror in the policy of late.test: invalid SPF record"* ]]
    [[ $output != *"queued as"* ]]
}

@test "rfc7208: a /0 prefix is valid and matches every address of its family" {
    fl_start
    # libspf2: permerror for both (it refuses /0)
    fl_send_ok mx.pass.test joe@zero4.test
    headers_say pass joe@zero4.test
    fl_send_ok mx.pass.test joe@a0.test
    headers_say pass joe@a0.test
    # ip4 never matches an IPv6 client: -all decides
    run fl_smtp mx.pass.test joe@zero4.test "" "$FL_V6"
    [[ $output == *"550 5.7.23 SPF fail: zero4.test does not allow mail from 2001:db8::1"* ]]
}

@test "rfc7208: an a: or mx: name without records does not match; evaluation goes on" {
    fl_start
    run fl_smtp mx.pass.test joe@avoid.test
    [[ $output == *"550 5.7.23 SPF fail: avoid.test does not allow mail from 192.0.2.1"* ]]
    fl_log_has "spf=fail identity=mailfrom .*from=<joe@avoid\.test> action=reject$"
    # libspf2: permerror for these two (with a /0 or //0 prefix)
    run fl_smtp mx.pass.test joe@avoid0.test
    [[ $output == *"550 5.7.23 SPF fail: avoid0.test does not allow mail from 192.0.2.1"* ]]
    fl_send_ok mx.pass.test joe@mxvoid.test
    headers_say pass joe@mxvoid.test
}

@test "rfc7208: redirect= applies wherever it stands, only when nothing matched" {
    fl_start
    fl_send_ok mx.pass.test joe@redirfirst.test
    headers_say pass joe@redirfirst.test
    # ip4 matches: the redirect (to a domain that fails us) is unused.
    # libspf2: fail (it followed the redirect= all the same)
    fl_send_ok mx.pass.test joe@redirunused.test
    headers_say pass joe@redirunused.test
}

@test "rfc7208: %{h} is the HELO as given; an odd HELO is no error" {
    fl_start
    # libspf2: permerror, and the mail went through (it dropped the HELO
    # for %{h}: "Uninitialized variable")
    run fl_smtp "[192.0.2.1]" joe@hmacro.test
    [[ $output == *"550 5.7.23 SPF fail: hmacro.test does not allow mail from 192.0.2.1"* ]]
    fl_send_ok good joe@hmacro.test
    headers_say pass joe@hmacro.test
}
