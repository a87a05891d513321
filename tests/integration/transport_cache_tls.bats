#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_cache_tls.bats - TLS sessions kept in rrelay-cache: resumed for
# the same server and policy, never across a changed policy, against a real
# Postfix smtpd upstream with TLS ("up", see tls_lib.bash). rrelay makes
# its own handshakes here (tls_connection_reuse=no, as for AUTH and
# wrapper sessions); transport_cache_tlsend.bats tests the cache as the
# TLS end, which resumes the same sessions.

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
    rr_cache_start
    rr_tls_up_init final
    rr_tls_up_start
}

teardown() {
    rr_teardown
}

# send QID LEVEL SERVICE [RRELAY-ARG...]: one message at LEVEL to upstream SERVICE, with the
# cache, rrelay making the handshake
send() {
    local qid=$1 level=$2 svc=$3
    shift 3
    rr_tls_send "$qid" "$qid@example.org" "$(rr_tls_dest "$svc")" -o "cache_socket=$SOCK" \
        -o "tls_security_level=$level" -o tls_connection_reuse=no "$@"
}

# tls_word QID: the words after the cipher in QID's delivery line (verified, verified resumed, ...)
tls_word() {
    rr_tls_log "$1" | sed -n 's/.*, tls=TLSv1\.[23]\/[A-Z0-9_-]* \([a-z ]*\), status=.*/\1/p'
}

@test "a TLS session is resumed for the same server and policy, and only then" {
    run -0 send Q1 verify good
    rr_eq "first delivery" verified "$(tls_word Q1)"
    run -0 send Q2 verify good
    rr_eq "second delivery" "verified resumed" "$(tls_word Q2)"
    run -0 send Q3 verify good
    rr_eq "third delivery" "verified resumed" "$(tls_word Q3)"
    # Another level: another policy, a full handshake.
    run -0 send Q4 encrypt good
    rr_eq "at encrypt" verified "$(tls_word Q4)"
    # The same CA under another path, then the same path with other bytes.
    cp "$RR_TLS_DIR/ca.pem" "$RR_T/ca-copy.pem"
    chmod 644 "$RR_T/ca-copy.pem"
    run -0 send Q5 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "another CA file" verified "$(tls_word Q5)"
    run -0 send Q6 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "the same CA file again" "verified resumed" "$(tls_word Q6)"
    cat "$RR_TLS_DIR/ca.pem" "$RR_TLS_DIR/rogue.pem" >"$RR_T/ca-copy.pem"
    touch -d '+1 minute' "$RR_T/ca-copy.pem"
    run -0 send Q7 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "the CA file changed" verified "$(tls_word Q7)"
    # Another server (port; TLS 1.2 at most): nothing to resume, then its own session.
    run -0 send Q8 verify tls12
    rr_eq "another server" verified "$(tls_word Q8)"
    run -0 send Q9 verify tls12
    rr_eq "another server again" "verified resumed" "$(tls_word Q9)"
    rr_eq "TLS 1.2 resumed" 1 "$(rr_tls_log_count Q9 'tls=TLSv1\.2/')"
    rr_eq "hosts down" 0 "$(rr_log_count 'status=down')"
    rr_tls_wait_sink final 9
    rr_eq "delivered" 9 "$(rr_sink_count final)"
}

@test "a session from an unverified connection never lets verify pass" {
    run -0 send Q1 may untrusted
    rr_eq "at may" untrusted "$(tls_word Q1)"
    run -0 send Q2 may untrusted
    rr_eq "at may again" "untrusted resumed" "$(tls_word Q2)"
    run -75 send Q3 verify untrusted
    [[ $output == 4.7.5* ]] || { rr_err "at verify: $output"; return 1; }
    rr_eq "resumed at verify" 0 "$(rr_tls_log_count Q3 'resumed')"
}

@test "without the cache, every TLS delivery is a full handshake" {
    kill -KILL "$CACHE_PID"
    run -0 send Q1 verify good
    run -0 send Q2 verify good
    rr_eq "first" verified "$(tls_word Q1)"
    rr_eq "second" verified "$(tls_word Q2)"
}
