#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_tls.bats - TLS levels, certificates, implicit TLS, SMTP AUTH,
# client certificates, failover and STARTTLS injection, against a real
# Postfix upstream ("up", see tls_lib.bash) with TLS and Cyrus SASL.

bats_require_minimum_version 1.5.0
load lib
load tls_lib

setup_file() {
    rr_tls_setup_file
}

teardown_file() {
    rr_tls_teardown_file
}

setup() {
    rr_setup
    rr_require_rrelay
    rr_tls_require
}

teardown() {
    rr_teardown
}

# re STRING: STRING as an ERE matching itself
re() {
    printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# relay_re SERVICE: ERE for rrelay's relay= text of upstream service SERVICE
relay_re() {
    re "127.0.0.1[127.0.0.1]:$(rr_tls_port "$1")"
}

# TLS_RE: the tls= field of a delivery log line, without the verification word
TLS_RE='tls=TLSv1\.[23]/[A-Z0-9_-]+'

# expect_sent [TAG:]LEVEL SERVICE WORD [RRELAY-ARG...]: at LEVEL, rrelay delivers
# to SERVICE over TLS, logged as WORD (verified|untrusted). The recipient is
# TAG-SERVICE@example.org, the queue id QTAGSERVICE; TAG defaults to LEVEL.
expect_sent() {
    local level=${1##*:} tag=${1%%:*} svc=$2 word=$3 qid
    shift 3
    qid=Q$tag$svc
    run rr_tls_send "$qid" "$tag-$svc@example.org" "$(rr_tls_dest "$svc")" \
        -o "tls_security_level=$level" "$@"
    echo "$tag/$svc: $status $output"
    rr_eq "$tag/$svc: exit" 0 "$status"
    [[ $output == "delivered via 127.0.0.1[127.0.0.1]:$(rr_tls_port "$svc")" ]]
    rr_eq "$tag/$svc: logged sent with $word TLS" 1 "$(rr_tls_log_count "$qid" \
        "to=<$tag-$svc@example\.org>, relay=$(relay_re "$svc"), .*dsn=2\.0\.0, $TLS_RE $word, status=sent")"
    rr_eq "$tag/$svc: hosts down" 0 "$(rr_tls_log_count "$qid" 'status=down')"
    rr_eq "$tag/$svc: plaintext retries" 0 "$(rr_tls_log_count "$qid" 'without TLS')"
}

# expect_down [TAG:]LEVEL SERVICE REASON-ERE [RRELAY-ARG...]: at LEVEL, rrelay
# refuses SERVICE's certificate for REASON: exit 75, host down, no plaintext
expect_down() {
    local level=${1##*:} tag=${1%%:*} svc=$2 why=$3 qid
    shift 3
    qid=Q$tag$svc
    run rr_tls_send "$qid" "$tag-$svc@example.org" "$(rr_tls_dest "$svc")" \
        -o "tls_security_level=$level" "$@"
    echo "$tag/$svc: $status $output"
    rr_eq "$tag/$svc: exit" 75 "$status"
    [[ $output =~ ^4\.[0-9]+\.[0-9]+\ .*server\ certificate\ not\ trusted.*($why) ]]
    rr_eq "$tag/$svc: host down for the certificate" 1 "$(rr_tls_log_count "$qid" \
        "host=\[127\.0\.0\.1\]:$(rr_tls_port "$svc"), addr=127\.0\.0\.1:[0-9]+, status=down, .*server certificate not trusted.*($why)")"
    rr_eq "$tag/$svc: sent" 0 "$(rr_tls_log_count "$qid" 'status=sent')"
    rr_eq "$tag/$svc: plaintext retries" 0 "$(rr_tls_log_count "$qid" 'without TLS')"
}

# up_session_done SERVICE N: wait until up's SERVICE logged N ended sessions
up_session_done() {
    RR_PF=up rr_wait_maillog "$2" "postfix/$1/smtpd\[[0-9]+\]: disconnect from " 10
}

# check_arrivals LEVEL SERVICE... : wait for up to drain; each LEVEL-SERVICE
# message arrived once, over TLS ("with ESMTPS" in up's Received: header)
check_arrivals() {
    local level=$1 svc n=0 hdr
    shift
    n=$#
    rr_tls_wait_sink final "$n"
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" "$n" "$(rr_sink_count final)"
    for svc in "$@"; do
        rr_eq "$level-$svc arrived" 1 "$(rr_tls_arrived final "$level-$svc@example\.org")"
        hdr=$(rr_tls_received final "$level-$svc@example.org")
        echo "$hdr"
        [[ $hdr == *"(using TLSv1."*" with ESMTPS id "* ]]
    done
}

# check_refused SERVICE...: up's SERVICE saw STARTTLS but never a MAIL FROM
check_refused() {
    local svc
    for svc in "$@"; do
        up_session_done "$svc" 1
        rr_eq "$svc: STARTTLS sessions at up" 1 "$(rr_tls_up_maillog_count "postfix/$svc/smtpd\[[0-9]+\]: disconnect from .* starttls=1")"
        rr_eq "$svc: MAIL FROM at up" 0 "$(rr_tls_up_maillog_count "postfix/$svc/smtpd\[[0-9]+\]: (disconnect from .* mail=|[0-9A-F]+: client=)")"
    done
}

# Certificate names in OpenSSL's words (X509_verify_cert_error_string)
MISMATCH='(IP address|hostname) mismatch'
UNTRUSTED='unable to get local issuer certificate|self-signed certificate'
EXPIRED='certificate has expired'

@test "may: TLS with every certificate (matching, wrong name, untrusted CA, expired), never plaintext" {
    rr_tls_up_init final
    rr_tls_up_start
    expect_sent may good verified
    expect_sent may wrong untrusted
    expect_sent may untrusted untrusted
    expect_sent may expired untrusted
    check_arrivals may good wrong untrusted expired
    # the default level is may
    run -0 rr_tls_send Qdefault default@example.org "$(rr_tls_dest expired)"
    rr_eq "default level: sent over TLS" 1 "$(rr_tls_log_count Qdefault "$TLS_RE untrusted, status=sent")"
}

@test "encrypt: TLS with every certificate, verified or not" {
    rr_tls_up_init final
    rr_tls_up_start
    expect_sent encrypt good verified
    expect_sent encrypt wrong untrusted
    expect_sent encrypt untrusted untrusted
    expect_sent encrypt expired untrusted
    check_arrivals encrypt good wrong untrusted expired
}

@test "verify: only the trusted, valid certificate with the host's name; the others are host down" {
    rr_tls_up_init final
    rr_tls_up_start
    expect_sent verify good verified
    expect_down verify wrong "$MISMATCH"
    expect_down verify untrusted "$UNTRUSTED"
    expect_down verify expired "$EXPIRED"
    check_arrivals verify good
    rr_eq "refused messages at the final sink" 0 "$(rr_sink_grep final '^X-Rcpt-Args: <verify-(wrong|untrusted|expired)@')"
    check_refused wrong untrusted expired
    # a CA that is not the issuer: the good certificate is untrusted too
    expect_down rogueca:verify good "$UNTRUSTED" -o "tls_ca_file=$RR_TLS_DIR/rogue.pem"
    # the system store (no tls_ca_file) does not know the test CA
    expect_down systemca:verify good "$UNTRUSTED" -o tls_ca_file=
    # tls_ca_path: a hashed directory holding the test CA
    mkdir "$RR_T/capath"
    cp "$RR_TLS_DIR/ca.pem" "$RR_T/capath/"
    openssl rehash "$RR_T/capath"
    expect_sent capath:verify good verified -o tls_ca_file= -o "tls_ca_path=$RR_T/capath"
}

@test "secure: as verify, and the name must match the policy's match= names" {
    rr_tls_up_init final
    rr_tls_up_start
    expect_sent secure good verified
    expect_down secure wrong "$MISMATCH"
    expect_down secure untrusted "$UNTRUSTED"
    expect_down secure expired "$EXPIRED"
    check_arrivals secure good
    check_refused wrong untrusted expired
    # match= in tls_policy_file: mx.pem (DNS:mx.rrelay.test only) passes
    # for [127.0.0.1] only with match=mx.rrelay.test, and good.pem then fails
    policy=$(rr_tls_file policy 644 \
        "$(rr_tls_dest mx) secure match=other.rrelay.test:mx.rrelay.test" \
        "$(rr_tls_dest dnsonly) secure match=mx.rrelay.test")
    expect_sent policy:may mx verified -o "tls_policy_file=$policy"
    expect_down policy:may dnsonly 'hostname mismatch' -o "tls_policy_file=$policy"
    expect_down secure mx "$MISMATCH" # no match=: the host 127.0.0.1 must match
    rr_tls_wait_sink final 2
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "policy-mx arrived" 1 "$(rr_tls_arrived final 'policy-mx@example\.org')"
    rr_eq "messages at the final sink" 2 "$(rr_sink_count final)"
}

@test "verify: the name is the host as written, [localhost] or [127.0.0.1]; SNI is the host name" {
    rr_tls_up_init final
    rr_tls_up_start
    # dnsonly.pem has DNS:localhost and no IP SAN
    run -0 rr_tls_send Qdnsname dns-name@example.org "$(rr_tls_dest dnsonly localhost)" -o tls_security_level=verify
    rr_eq "[localhost] with DNS:localhost" 1 "$(rr_tls_log_count Qdnsname "relay=localhost\[127\.0\.0\.1\]:[0-9]+, .*$TLS_RE verified, status=sent")"
    expect_down verify dnsonly 'IP address mismatch'
    # good.pem has both
    run -0 rr_tls_send Qgoodname good-name@example.org "$(rr_tls_dest good localhost)" -o tls_security_level=verify
    # wrong.pem has neither
    run -75 rr_tls_send Qwrongname wrong-name@example.org "$(rr_tls_dest wrong localhost)" -o tls_security_level=verify
    [[ $output == *"server certificate not trusted for localhost: hostname mismatch"* ]]
    # SNI: service sni shows wrong.pem, or good.pem to a client that sends SNI localhost
    run -0 rr_tls_send Qsniname sni-name@example.org "$(rr_tls_dest sni localhost)" -o tls_security_level=verify
    rr_eq "[localhost] got the SNI certificate" 1 "$(rr_tls_log_count Qsniname "$TLS_RE verified, status=sent")"
    rr_eq "up: SNI localhost" 1 "$(rr_tls_up_maillog_count 'postfix/sni/smtpd\[[0-9]+\]: Anonymous TLS connection established from localhost\[127\.0\.0\.1\] to localhost: ')"
    # no SNI for an address: the default certificate, which has the wrong names
    expect_down verify sni 'IP address mismatch'
    up_session_done sni 2
    rr_eq "up: no SNI" 1 "$(rr_tls_up_maillog_count 'postfix/sni/smtpd\[[0-9]+\]: Anonymous TLS connection established from localhost\[127\.0\.0\.1\]: ')"
    rr_tls_wait_sink final 3
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 3 "$(rr_sink_count final)"
    for r in dns-name good-name sni-name; do
        rr_eq "$r arrived" 1 "$(rr_tls_arrived final "$r@example\.org")"
    done
}

@test "no STARTTLS offered: encrypt, verify and secure defer and send nothing; may sends in plaintext" {
    rr_sink_start nostarttls # smtp-sink never offers STARTTLS
    dest=$(rr_relayhost "$(rr_sink_port nostarttls)")
    for level in encrypt verify secure; do
        run -75 rr_tls_send "Qno$level" "no-$level@example.org" "$dest" -o "tls_security_level=$level"
        echo "$level: $output"
        [[ $output =~ ^4\.[0-9]+\.[0-9]+\ TLS\ is\ required,\ but\ was\ not\ offered ]]
        rr_eq "$level: host down" 1 "$(rr_tls_log_count "Qno$level" "host=$(re "$dest"), .*status=down, .*TLS is required, but was not offered")"
        rr_eq "$level: sent" 0 "$(rr_tls_log_count "Qno$level" 'status=sent')"
        # a fresh state per level, so that each one really connects
        rm -f "$RR_T"/state/rrelay-*.state
    done
    rr_wait 10 rr_tls_sessions_at_least nostarttls 3
    rr_eq "sessions at the sink" 3 "$(rr_sink_sessions nostarttls)"
    rr_eq "messages at the sink" 0 "$(rr_sink_count nostarttls)"
    run -0 rr_tls_send Qnomay no-may@example.org "$dest" -o tls_security_level=may
    rr_eq "may: sent without tls=" 1 "$(rr_tls_log_count Qnomay 'to=<no-may@example\.org>, relay=.*dsn=2\.0\.0, status=sent')"
    rr_eq "may: tls= logged" 0 "$(rr_tls_log_count Qnomay 'tls=')"
    rr_eq "messages at the sink" 1 "$(rr_sink_count nostarttls)"
    rr_eq "rrelay status tls" none "$(rr_tls_host_tls "$dest")"
}

@test "may: a failed handshake is retried once in plaintext; encrypt never falls back" {
    rr_tls_up_init final
    rr_tls_up_start
    # tls12 speaks TLS 1.2 at most; rrelay asks for 1.3 at least
    run -0 rr_tls_send Qmayretry may-retry@example.org "$(rr_tls_dest tls12)" \
        -o tls_security_level=may -o 'tls_protocols=>=TLSv1.3'
    rr_eq "may: plaintext retry logged" 1 "$(rr_tls_log_count Qmayretry "TLS handshake failed.*trying $(relay_re tls12) again without TLS")"
    rr_eq "may: sent without tls=" 1 "$(rr_tls_log_count Qmayretry 'to=<may-retry@example\.org>, .*dsn=2\.0\.0, status=sent')"
    rr_eq "may: tls= logged" 0 "$(rr_tls_log_count Qmayretry 'tls=')"
    run -75 rr_tls_send Qencretry enc-retry@example.org "$(rr_tls_dest tls12)" \
        -o tls_security_level=encrypt -o 'tls_protocols=>=TLSv1.3'
    [[ $output =~ ^4\.[0-9]+\.[0-9]+\ .*TLS\ handshake\ failed ]]
    rr_eq "encrypt: host down" 1 "$(rr_tls_log_count Qencretry "host=\[127\.0\.0\.1\]:$(rr_tls_port tls12), .*status=down, .*TLS handshake failed")"
    rr_eq "encrypt: plaintext retry" 0 "$(rr_tls_log_count Qencretry 'without TLS')"
    # the default minimum (TLS 1.2) works with it
    run -0 rr_tls_send Qtls12 tls12@example.org "$(rr_tls_dest tls12)" -o tls_security_level=encrypt
    rr_eq "TLS 1.2 logged" 1 "$(rr_tls_log_count Qtls12 'tls=TLSv1\.2/[A-Z0-9_-]+ verified, status=sent')"
    rr_tls_wait_sink final 2
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 2 "$(rr_sink_count final)"
    rr_eq "enc-retry arrived" 0 "$(rr_tls_arrived final 'enc-retry@example\.org')"
    [[ $(rr_tls_received final may-retry@example.org) == *" with ESMTP id "* ]]          # plaintext
    [[ $(rr_tls_received final tls12@example.org) == *"(using TLSv1.2 with"*" with ESMTPS id "* ]]
    # up: two handshakes failed (may, then encrypt), one plaintext session and one TLS session
    up_session_done tls12 4
    rr_eq "up: sessions with STARTTLS completed" 1 "$(rr_tls_up_maillog_count 'postfix/tls12/smtpd\[[0-9]+\]: disconnect from .* starttls=1 mail=1')"
    rr_eq "up: plaintext sessions with mail" 1 "$(rr_tls_up_maillog_count 'postfix/tls12/smtpd\[[0-9]+\]: disconnect from .* ehlo=1 mail=1')"
}

@test "implicit TLS with wrapper in tls_policy_file" {
    rr_tls_up_init final
    rr_tls_up_start
    policy=$(rr_tls_file policy 644 "# port 465 style" "$(rr_tls_dest wrapper) verify wrapper")
    run -0 rr_tls_send Qwrap wrap@example.org "$(rr_tls_dest wrapper)" -o "tls_policy_file=$policy"
    rr_eq "sent over verified TLS" 1 "$(rr_tls_log_count Qwrap "relay=$(relay_re wrapper), .*$TLS_RE verified, status=sent")"
    up_session_done wrapper 1
    # TLS from the first byte: one EHLO, no STARTTLS
    rr_eq "up: wrapper session" 1 "$(rr_tls_up_maillog_count 'postfix/wrapper/smtpd\[[0-9]+\]: disconnect from .* ehlo=1 mail=1 rcpt=1 data=1')"
    rr_eq "up: STARTTLS on the wrapper port" 0 "$(rr_tls_up_maillog_count 'postfix/wrapper/smtpd\[[0-9]+\]: disconnect from .* starttls=')"
    rr_tls_wait_sink final 1
    [[ $(rr_tls_received final wrap@example.org) == *"(using TLSv1."*" with ESMTPS id "* ]]
    # without wrapper, rrelay waits for a greeting that never comes: host down
    policy=$(rr_tls_file policy2 644 "$(rr_tls_dest wrapper) encrypt")
    run -75 rr_tls_send Qnowrap nowrap@example.org "$(rr_tls_dest wrapper)" \
        -o "tls_policy_file=$policy" -o command_timeout=2s
    rr_eq "no wrapper: host down" 1 "$(rr_tls_log_count Qnowrap 'status=down, .*(timed out|lost connection).*greeting')"
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 1 "$(rr_sink_count final)"
}

@test "tls_policy_file overrides tls_security_level per destination" {
    rr_tls_up_init final
    rr_tls_up_start
    policy=$(rr_tls_file policy 644 \
        "$(rr_tls_dest wrong) encrypt" \
        "$(rr_tls_dest good) none")
    # global verify; wrong is "encrypt" in the policy: accepted unverified
    expect_sent verify wrong untrusted -o "tls_policy_file=$policy"
    # expired is not in the policy: global verify applies
    expect_down verify expired "$EXPIRED" -o "tls_policy_file=$policy"
    # good is "none": plaintext although up offers STARTTLS
    run -0 rr_tls_send Qverifynone verify-none@example.org "$(rr_tls_dest good)" \
        -o tls_security_level=verify -o "tls_policy_file=$policy"
    rr_eq "none: no tls=" 0 "$(rr_tls_log_count Qverifynone 'tls=')"
    up_session_done good 1
    rr_eq "up: STARTTLS at level none" 0 "$(rr_tls_up_maillog_count 'postfix/good/smtpd\[[0-9]+\]: disconnect from .*starttls=')"
    rr_tls_wait_sink final 2
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 2 "$(rr_sink_count final)"
    [[ $(rr_tls_received final verify-none@example.org) == *" with ESMTP id "* ]]
    [[ $(rr_tls_received final verify-wrong@example.org) == *" with ESMTPS id "* ]]
}

# no_secrets TEXT FILE...: neither password, nor the base64 that AUTH PLAIN or
# LOGIN sends, is in TEXT (rrelay's output) or in any FILE
no_secrets() {
    local text=$1 pass f s
    shift
    for pass in "$RR_TLS_PASS" "$RR_TLS_BADPASS"; do
        for s in "$pass" "$(printf '%s' "$pass" | base64 -w0)" \
            "$(printf '\0%s\0%s' "$RR_TLS_USER" "$pass" | base64 -w0)"; do
            [[ $text != *"$s"* ]] || {
                rr_err "secret in rrelay's output: $s"
                return 1
            }
            for f in "$@"; do
                ! grep -qF -- "$s" "$f" || {
                    rr_err "secret in $f: $s"
                    return 1
                }
            done
        done
    done
}

@test "AUTH over STARTTLS: PLAIN and LOGIN log in; auth= in the log, sasl_username at the upstream" {
    rr_tls_up_init final
    rr_tls_up_start
    auth=$(rr_tls_file auth 600 "$(rr_tls_dest auth) $RR_TLS_USER $RR_TLS_PASS")
    run -0 rr_tls_send Qplain auth-plain@example.org "$(rr_tls_dest auth)" -o "auth_file=$auth"
    rr_eq "PLAIN: logged" 1 "$(rr_tls_log_count Qplain "relay=$(relay_re auth), .*$TLS_RE verified, auth=$RR_TLS_USER, status=sent")"
    run -0 rr_tls_send Qlogin auth-login@example.org "$(rr_tls_dest auth)" -o "auth_file=$auth" -o auth_mechanisms=login
    rr_eq "LOGIN: logged" 1 "$(rr_tls_log_count Qlogin "$TLS_RE verified, auth=$RR_TLS_USER, status=sent")"
    # auth_mechanisms is intersected with what the server offers
    auth2=$(rr_tls_file auth2 600 "$(rr_tls_dest plainonly) $RR_TLS_USER $RR_TLS_PASS")
    run -0 rr_tls_send Qpref auth-pref@example.org "$(rr_tls_dest plainonly)" -o "auth_file=$auth2" -o 'auth_mechanisms=login, plain'
    run -75 rr_tls_send Qnomech auth-nomech@example.org "$(rr_tls_dest plainonly)" -o "auth_file=$auth2" -o auth_mechanisms=login
    [[ $output == "4.7.8 SASL authentication not attempted: host "*" offers none of auth_mechanisms (it offers PLAIN)" ]]
    up_session_done plainonly 2
    rr_eq "up: plainonly PLAIN login" 1 "$(rr_tls_up_maillog_count "postfix/plainonly/smtpd\[[0-9]+\]: [0-9A-F]+: client=.*sasl_method=PLAIN, sasl_username=$RR_TLS_USER")"
    rr_eq "up: plainonly AUTH commands" 1 "$(rr_tls_up_maillog_count 'postfix/plainonly/smtpd\[[0-9]+\]: disconnect from .* auth=')"
    up_session_done auth 2
    rr_eq "up: PLAIN login" 1 "$(rr_tls_up_maillog_count "postfix/auth/smtpd\[[0-9]+\]: [0-9A-F]+: client=.*sasl_method=PLAIN, sasl_username=$RR_TLS_USER(@$RR_TLS_REALM)?\$")"
    rr_eq "up: LOGIN login" 1 "$(rr_tls_up_maillog_count "postfix/auth/smtpd\[[0-9]+\]: [0-9A-F]+: client=.*sasl_method=LOGIN, sasl_username=$RR_TLS_USER(@$RR_TLS_REALM)?\$")"
    # AUTH only after STARTTLS (smtpd_tls_auth_only): rrelay used the second EHLO's reply
    rr_eq "up: sessions" 2 "$(rr_tls_up_maillog_count 'postfix/auth/smtpd\[[0-9]+\]: disconnect from .* ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1')"
    rr_tls_wait_sink final 3
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 3 "$(rr_sink_count final)"
    for r in auth-plain auth-login auth-pref; do
        hdr=$(rr_tls_received final "$r@example.org")
        echo "$hdr"
        [[ $hdr == *"(Authenticated sender: $RR_TLS_USER"*" with ESMTPSA id "* ]]
    done
    no_secrets "$output" "$RR_T/rrelay.log"
}

@test "AUTH failure (535): host down, next host, then 4.7.8 defer; never a bounce, no password in the log" {
    rr_tls_up_init final
    rr_tls_up_start
    list="$(rr_tls_dest auth), $(rr_tls_dest auth2)"
    bad=$(rr_tls_file auth-bad 600 \
        "$(rr_tls_dest auth) $RR_TLS_USER $RR_TLS_BADPASS" \
        "$(rr_tls_dest auth2) $RR_TLS_USER $RR_TLS_BADPASS")
    run -75 rr_tls_send Qbadpw bad-pw@example.org "$list" -o "auth_file=$bad"
    echo "$output"
    [[ $output =~ ^4\.7\.8\ SASL\ authentication\ failed.*535 ]]
    for svc in auth auth2; do
        rr_eq "$svc down" 1 "$(rr_tls_log_count Qbadpw "host=\[127\.0\.0\.1\]:$(rr_tls_port "$svc"), .*status=down, .*SASL authentication failed.*535")"
        up_session_done "$svc" 1
        rr_eq "up: $svc failed login" 1 "$(rr_tls_up_maillog_count "postfix/$svc/smtpd\[[0-9]+\]: warning: .*SASL (PLAIN|LOGIN) authentication failed")"
    done
    rr_eq "deferred with 4.7.8" 1 "$(rr_tls_log_count Qbadpw 'to=<bad-pw@example\.org>, .*dsn=4\.7\.8, status=deferred')"
    rr_eq "bounced" 0 "$(rr_tls_log_count Qbadpw 'bounced')"
    no_secrets "$output" "$RR_T/rrelay.log"
    # a fresh state: auth has a wrong password, auth2 the right one
    mixed=$(rr_tls_file auth-mixed 600 \
        "$(rr_tls_dest auth) $RR_TLS_USER $RR_TLS_BADPASS" \
        "$(rr_tls_dest auth2) $RR_TLS_USER $RR_TLS_PASS")
    rm -f "$RR_T"/state/rrelay-*.state
    for i in 1 2; do # the round-robin start is random: one of the two tries auth first
        run -0 rr_tls_send "Qmixed$i" "mixed$i@example.org" "$list" -o "auth_file=$mixed"
        [[ $output == "delivered via 127.0.0.1[127.0.0.1]:$(rr_tls_port auth2)" ]]
    done
    rr_eq "auth down once" 1 "$(rr_log_count "Qmixed[12]: host=\[127\.0\.0\.1\]:$(rr_tls_port auth), .*status=down, .*SASL authentication failed")"
    rr_eq "sent via auth2" 2 "$(rr_log_count "to=<mixed[12]@example\.org>, relay=$(relay_re auth2), .*auth=$RR_TLS_USER, status=sent")"
    rr_tls_wait_sink final 2
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 2 "$(rr_sink_count final)"
    rr_eq "bad-pw arrived" 0 "$(rr_tls_arrived final 'bad-pw@example\.org')"
    no_secrets "$output" "$RR_T/rrelay.log"
}

@test "AUTH without TLS: credentials are not sent in plaintext at level may (4.7.8), but are at level none" {
    rr_tls_up_init final
    rr_tls_up_start
    auth=$(rr_tls_file auth 600 "$(rr_tls_dest plain) $RR_TLS_USER $RR_TLS_PASS")
    # plain offers AUTH but no STARTTLS
    run -75 rr_tls_send Qmay auth-may@example.org "$(rr_tls_dest plain)" -o "auth_file=$auth" -o tls_security_level=may
    echo "$output"
    [[ $output =~ ^4\.7\.8\ .*only\ over\ TLS ]]
    rr_eq "host down, why logged" 1 "$(rr_tls_log_count Qmay 'status=down, .*SASL authentication not attempted: .*offers no TLS.*only over TLS')"
    up_session_done plain 1
    rr_eq "up: AUTH commands" 0 "$(rr_tls_up_maillog_count 'postfix/plain/smtpd\[[0-9]+\]: disconnect from .* auth=')"
    rr_eq "up: MAIL commands" 0 "$(rr_tls_up_maillog_count 'postfix/plain/smtpd\[[0-9]+\]: disconnect from .* mail=')"
    # level none (from the policy): AUTH in plaintext is allowed
    policy=$(rr_tls_file policy 644 "$(rr_tls_dest plain) none")
    rm -f "$RR_T"/state/rrelay-*.state
    run -0 rr_tls_send Qnone auth-none@example.org "$(rr_tls_dest plain)" -o "auth_file=$auth" -o "tls_policy_file=$policy"
    rr_eq "none: auth= logged, no tls=" 1 "$(rr_tls_log_count Qnone "dsn=2\.0\.0, auth=$RR_TLS_USER, status=sent")"
    up_session_done plain 2
    rr_eq "up: plaintext login" 1 "$(rr_tls_up_maillog_count "postfix/plain/smtpd\[[0-9]+\]: [0-9A-F]+: client=.*sasl_username=$RR_TLS_USER")"
    rr_tls_wait_sink final 1
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 1 "$(rr_sink_count final)"
    [[ $(rr_tls_received final auth-none@example.org) == *" with ESMTPA id "* ]]
    no_secrets "$output" "$RR_T/rrelay.log"
}

@test "auth_file that others can read or write: 4.3.5 config error naming the file, no connection" {
    rr_sink_start s1
    dest=$(rr_relayhost "$(rr_sink_port s1)")
    for mode in 644 660 604 602; do
        auth=$(rr_tls_file "auth$mode" "$mode" "$dest $RR_TLS_USER $RR_TLS_PASS")
        run -75 rr_tls_send "Qmode$mode" "mode$mode@example.org" "$dest" -o "auth_file=$auth"
        echo "$mode: $output"
        [[ $output == "4.3.5 "*"$auth"* ]]
        [[ $output == *"mode 0$mode"* ]]
        no_secrets "$output" "$RR_T/rrelay.log"
    done
    sleep 0.5
    rr_eq "sessions at the sink" 0 "$(rr_sink_sessions s1)"
    # 0640 (group rrelay may read) and 0600 are accepted (the entry is for
    # another destination: smtp-sink offers AUTH without TLS, see above)
    for mode in 640 600; do
        auth=$(rr_tls_file "auth$mode" "$mode" "[192.0.2.1]:587 $RR_TLS_USER $RR_TLS_PASS")
        run -0 rr_tls_send "Qmode$mode" "mode$mode@example.org" "$dest" -o "auth_file=$auth"
    done
    rr_eq "messages at the sink" 2 "$(rr_sink_count s1)"
}

@test "client certificate: the upstream verifies it and relays only with it" {
    rr_tls_up_init final
    rr_tls_up_start
    # without a client certificate ccert refuses to relay (554 to RCPT)
    run -69 rr_tls_send Qnocert no-cert@example.org "$(rr_tls_dest ccert)" -o tls_security_level=verify
    [[ $output == "5.7.1 "*"Relay access denied"* ]] || [[ $output == "5.7.1 "*"Access denied"* ]]
    run -0 rr_tls_send Qcert cert@example.org "$(rr_tls_dest ccert)" -o tls_security_level=verify \
        -o "tls_cert_file=$RR_TLS_DIR/client.pem" -o "tls_key_file=$RR_TLS_DIR/client.key"
    rr_eq "sent, verified" 1 "$(rr_tls_log_count Qcert "$TLS_RE verified, status=sent")"
    # the key in the certificate file (tls_key_file unset)
    cat "$RR_TLS_DIR/client.key" "$RR_TLS_DIR/client.pem" >"$RR_T/combined.pem"
    chown "$RR_USER:" "$RR_T/combined.pem"
    chmod 600 "$RR_T/combined.pem"
    run -0 rr_tls_send Qcombined combined@example.org "$(rr_tls_dest ccert)" -o tls_security_level=verify \
        -o "tls_cert_file=$RR_T/combined.pem"
    # a client certificate file that OpenSSL can't use: rrelay's own trouble, 4.3.5, no host blamed
    printf 'not a certificate\n' >"$RR_T/broken.pem"
    run -75 rr_tls_send Qbroken broken@example.org "$(rr_tls_dest ccert)" -o tls_security_level=verify \
        -o "tls_cert_file=$RR_T/broken.pem"
    [[ $output == "4.3.5 "*"$RR_T/broken.pem"* ]]
    rr_eq "broken: host down" 0 "$(rr_tls_log_count Qbroken 'status=down')"
    up_session_done ccert 4
    rr_eq "up: trusted client certificates" 2 "$(rr_tls_up_maillog_count 'postfix/ccert/smtpd\[[0-9]+\]: Trusted TLS connection established from ')"
    rr_eq "up: no client certificate" 1 "$(rr_tls_up_maillog_count 'postfix/ccert/smtpd\[[0-9]+\]: Anonymous TLS connection established from ')"
    rr_tls_wait_sink final 2
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 2 "$(rr_sink_count final)"
    for r in cert combined; do
        hdr=$(rr_tls_received final "$r@example.org")
        echo "$hdr"
        [[ $hdr == *'(Client CN "rrelay-client", Issuer "rrelay ca test CA" (verified OK))'* ]]
    done
}

# only_authfail_deferred: the mta queue holds one message, user@authfail.example's, deferred
only_authfail_deferred() {
    local q
    q=$(postqueue -c "$(rr_pf_etc)" -j)
    [[ $(wc -l <<<"$q") == 1 && $q == *'"queue_name": "deferred"'*'"address": "user@authfail.example"'* ]]
}

@test "through Postfix: failover from a bad certificate to a good one; an AUTH failure defers (4.7.8)" {
    rr_tls_up_init final
    rr_tls_up_start
    auth=$(rr_tls_file auth 600 "$(rr_tls_dest auth) $RR_TLS_USER $RR_TLS_BADPASS")
    rr_postfix_init "$(rr_tls_dest wrong), $(rr_tls_dest good)" \
        tls_security_level=verify "tls_ca_file=$RR_TLS_DIR/ca.pem" "auth_file=$auth"
    rr_transport_add authfail.example "rrelay:$(rr_tls_dest auth)"
    rr_postfix_start
    rr_smtp_inject 6 sender@sender.test rcpt@example.org 1
    rr_smtp_inject 1 sender@sender.test user@authfail.example 1
    rr_wait_maillog 6 'to=<rcpt@example\.org>, relay=rrelay, .*status=sent' 60
    rr_wait_maillog 1 'to=<user@authfail\.example>, relay=rrelay, .*status=deferred' 60
    rr_eq "mta: rcpt@ deferred/bounced" 0 "$(rr_maillog_count 'to=<rcpt@example\.org>, .*status=(deferred|bounced)')"
    rr_eq "mta: AUTH failure deferred with 4.7.8" 1 "$(rr_maillog_count 'to=<user@authfail\.example>, relay=rrelay, .*dsn=4\.7\.8, status=deferred \(SASL authentication failed; .*535 ')"
    rr_eq "mta: bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_wait 30 only_authfail_deferred
    rr_ge "wrong down" 1 "$(rr_log_count "host=\[127\.0\.0\.1\]:$(rr_tls_port wrong), .*status=down, .*server certificate not trusted.*IP address mismatch")"
    rr_eq "sent via good" 6 "$(rr_log_count "to=<rcpt@example\.org>, relay=$(relay_re good), .*$TLS_RE verified, status=sent")"
    rr_eq "sent via wrong" 0 "$(rr_log_count "relay=$(relay_re wrong), .*status=sent")"
    rr_tls_wait_sink final 6
    RR_PF=up rr_wait_queue_empty 30
    rr_eq "messages at the final sink" 6 "$(rr_sink_count final)"
    rr_eq "up: messages through good" 6 "$(rr_tls_up_maillog_count 'postfix/good/smtpd\[[0-9]+\]: [0-9A-F]+: client=')"
    rr_eq "up: messages through wrong" 0 "$(rr_tls_up_maillog_count 'postfix/wrong/smtpd\[[0-9]+\]: [0-9A-F]+: client=')"
    run -0 rr_rrelay_status
    echo "$output"
    rr_eq "status of wrong" down "$(rr_host_state "$(rr_tls_port wrong)")"
    rr_eq "status of good" up "$(rr_host_state "$(rr_tls_port good)")"
    rr_eq "tls of good" verified "$(rr_tls_host_tls "$(rr_tls_dest good)")"
}

@test "rrelay status: tls is verified, untrusted or none after the last session" {
    rr_tls_up_init final
    rr_tls_up_start
    rr_sink_start notls
    run -0 rr_tls_send Qv v@example.org "$(rr_tls_dest good)" -o tls_security_level=verify
    run -0 rr_tls_send Qu u@example.org "$(rr_tls_dest wrong)" -o tls_security_level=encrypt
    run -0 rr_tls_send Qn n@example.org "$(rr_relayhost "$(rr_sink_port notls)")" -o tls_security_level=may
    run -0 rr_rrelay_status
    echo "$output"
    [[ $output == *" tls "* ]]
    rr_eq "good" verified "$(rr_tls_host_tls "$(rr_tls_dest good)")"
    rr_eq "wrong" untrusted "$(rr_tls_host_tls "$(rr_tls_dest wrong)")"
    rr_eq "smtp-sink" none "$(rr_tls_host_tls "$(rr_relayhost "$(rr_sink_port notls)")")"
    # the same host, now reached without verification: no longer "verified"
    run -0 rr_tls_send Qv2 v2@example.org "$(rr_tls_dest good)" -o tls_security_level=none
    rr_eq "good, plaintext" none "$(rr_tls_host_tls "$(rr_tls_dest good)")"
}

@test "STARTTLS injection: a reply sent before the handshake is refused, at every level" {
    for level in encrypt may; do
        rr_inject_start "inj$level"
        dest=$(rr_relayhost "$(rr_inject_port "inj$level")")
        run -75 rr_tls_send "Qinj$level" "inj-$level@example.org" "$dest" -o "tls_security_level=$level"
        echo "$level: $output"
        [[ $output =~ ^4\.[0-9]+\.[0-9]+\ .*sent\ data\ after\ its\ reply\ to\ STARTTLS ]]
        rr_eq "$level: host down" 1 "$(rr_tls_log_count "Qinj$level" "host=$(re "$dest"), .*status=down, .*sent data after its reply to STARTTLS, before the TLS handshake")"
        rr_eq "$level: sent" 0 "$(rr_tls_log_count "Qinj$level" 'status=sent')"
        rr_wait 10 grep -q '^close' "$RR_T/inject/inj$level/log"
        run rr_inject_log "inj$level"
        echo "$output"
        # the server injected; rrelay sent nothing more: no handshake, no MAIL, no reconnect
        [[ $output == *$'\nS: injected\nafter-starttls bytes=0\nclose'* ]]
        rr_eq "$level: connections" 1 "$(grep -c '^connect' "$RR_T/inject/inj$level/log")"
        rr_eq "$level: MAIL FROM" 0 "$(grep -c '^C: MAIL' "$RR_T/inject/inj$level/log")"
    done
}

# ld_loads QID DEST ARG...: deliver with the dynamic linker's trace on; print the libssl lines of the trace
ld_loads() {
    local qid=$1 dest=$2
    shift 2
    printf 'Subject: %s\n\nbody\n' "$qid" >"$RR_T/msg.$qid"
    mkdir -m 0777 "$RR_T/ld.$qid"
    rr_as_rrelay env LD_DEBUG=files "LD_DEBUG_OUTPUT=$RR_T/ld.$qid/trace" "$RRELAY" \
        -o "state_directory=$RR_T/state" -o "log=$RR_T/rrelay.log" \
        -o "tls_ca_file=$RR_TLS_DIR/ca.pem" "$@" \
        -q "$qid" -f s@sender.test -n "$dest" -- "$qid@example.org" <"$RR_T/msg.$qid" >"$RR_T/out.$qid" 2>&1 || {
        cat "$RR_T/out.$qid" >&2
        return 1
    }
    [[ -n $(cat "$RR_T/ld.$qid"/trace.* 2>/dev/null) ]] || {
        echo "no trace from the dynamic linker" >&2
        return 1
    }
    cat "$RR_T/ld.$qid"/trace.* | grep 'libssl\.so' || true
}

@test "OpenSSL is loaded only when a connection starts TLS, not for plaintext deliveries" {
    rr_sink_start nostarttls
    run -0 ld_loads Qldplain "$(rr_relayhost "$(rr_sink_port nostarttls)")" -o tls_security_level=may
    echo "plaintext: $output"
    [[ -z $output ]]
    rr_eq "plaintext: sent" 1 "$(rr_tls_log_count Qldplain 'status=sent')"
    rr_tls_up_init final
    rr_tls_up_start
    run -0 ld_loads Qldtls "$(rr_tls_dest good)" -o tls_security_level=verify
    echo "TLS: $output"
    [[ $output == *"file=libssl.so."*"dynamically loaded by"* ]]
    rr_eq "TLS: sent, verified" 1 "$(rr_tls_log_count Qldtls "$TLS_RE verified, status=sent")"
}

@test "rrelay's binary needs only libc at start-up (OpenSSL and libresolv are loaded on first use)" {
    run -0 readelf -d "$RRELAY"
    # (a SANITIZE=1 build also needs the sanitizers' runtimes)
    needed=$(grep '(NEEDED)' <<<"$output" | sed 's/.*\[\(.*\)\]/\1/' |
        grep -vE '^lib(asan|ubsan)\.so' | sort | tr '\n' ' ')
    echo "needed: $needed"
    rr_eq "shared libraries needed" "libc.so.6 " "$needed"
}

@test "STARTTLS with cache_socket set and no cache running: 100 runs, every log byte printable" {
    local port i rc fails=0
    port=$(rr_free_port)
    rr_fault_start f "$port" "cert=$RR_TLS_DIR/good.pem" "key=$RR_TLS_DIR/server.key"
    # Each rrelay finds no cache: rrelay-cache "declines" the TLS end with no reason to give.
    for ((i = 1; i <= 100; i++)); do
        rc=0
        rr_tls_send "Q$i" "q$i@example.org" "[$RR_HOST]:$port" -o "cache_socket=$RR_T/nocache/cache.sock" \
            -o tls_security_level=may >/dev/null 2>&1 || rc=$?
        ((rc == 0)) || fails=$((fails + 1))
    done
    rr_eq "runs not delivered" 0 "$fails"
    rr_eq "messages the upstream took" 100 "$(find "$RR_T/faults/f" -name 'msg.*' | wc -l)"
    # Only printable ASCII and spaces: no byte from an unwritten buffer.
    rr_eq "log lines with other bytes" 0 "$(LC_ALL=C grep -c '[^ -~]' "$RR_T/rrelay.log" || true)"
    rr_eq "log lines" 200 "$(wc -l <"$RR_T/rrelay.log")"
    rr_eq "declined lines" 0 "$(rr_log_count 'declined to be the TLS end')"
}
