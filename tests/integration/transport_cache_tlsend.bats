#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_cache_tlsend.bats - rrelay-cache as the TLS end of rrelay's
# connections (tls_connection_reuse, the default): whole TLS connections
# reused across deliveries, against a real Postfix smtpd upstream with TLS
# ("up", see tls_lib.bash), and every fault of the TLS end deferred or
# recovered, never lost or bounced.

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
    rr_tls_up_init final
    # slow: STARTTLS as "good", and 3 s before each RCPT's reply, time for a fault mid-delivery
    rr_tls_service slow smtpd_recipient_restrictions=sleep,3,permit_mynetworks,reject
    rr_tls_up_start
}

teardown() {
    rr_teardown
}

# send QID LEVEL SERVICE [RRELAY-ARG...]: one message at LEVEL to upstream SERVICE, with the cache
send() {
    local qid=$1 level=$2 svc=$3
    shift 3
    rr_tls_send "$qid" "$qid@example.org" "$(rr_tls_dest "$svc")" -o "cache_socket=$SOCK" \
        -o "tls_security_level=$level" "$@"
}

# connects SERVICE: the TCP connections upstream SERVICE accepted
connects() {
    rr_tls_up_maillog_count "postfix/$1/smtpd\[[0-9]+\]: connect from"
}

# handshakes SERVICE: the TLS handshakes upstream SERVICE made
handshakes() {
    rr_tls_up_maillog_count "postfix/$1/smtpd\[[0-9]+\]: .*TLS connection established from"
}

# tls_ends: the cache's TLS end processes now running
# (the cache's delivery workers are its children too, named rrelay-worker)
tls_ends() {
    pgrep -P "$CACHE_PID" -x rrelay-cache | wc -l
}

# delivered N: the final sink got N messages (the upstream relays them after its 250: wait)
delivered() {
    [[ $1 == 0 ]] || rr_tls_wait_sink final "$1"
    rr_eq "messages at the final sink" "$1" "$(rr_sink_count final)"
}

# ends_are N: true when the cache runs N TLS ends
ends_are() {
    [[ $(tls_ends) == "$1" ]]
}

# quits_are N: true when upstream good logged N sessions that ended with QUIT
quits_are() {
    [[ $(rr_tls_up_maillog_count "postfix/good/smtpd.*disconnect from .* quit=1") == "$1" ]]
}

# no_cache_left: true when no rrelay-cache process (nor TLS end) of this test runs
no_cache_left() {
    ! pgrep -f "rrelay-cache -f -o cache_socket=$SOCK" >/dev/null
}

# use QID: QID's conn_use (1 when the line has none)
use() {
    local n
    n=$(rr_tls_log "$1" | sed -n 's/.*, conn_use=\([0-9]*\),.*/\1/p' | head -1)
    echo "${n:-1}"
}

@test "the cache is the TLS end: one connection and one handshake carry every delivery" {
    rr_cache_start connection_cache_time_limit=30s
    local i
    for i in 1 2 3 4 5 6 7 8; do
        run -0 send "Q$i" verify good
    done
    delivered 8
    rr_eq "upstream connections" 1 "$(connects good)"
    rr_eq "upstream handshakes" 1 "$(handshakes good)"
    rr_eq "verified deliveries" 8 "$(rr_log_count 'tls=TLSv1\.3/[A-Z0-9_]+ verified, status=sent')"
    rr_eq "Q1's conn_use" 1 "$(use Q1)"
    rr_eq "Q8's conn_use" 8 "$(use Q8)"
    rr_eq "TLS ends logged by the cache" 1 \
        "$(grep -c "Verified TLS connection established to 127.0.0.1\[127.0.0.1\]:$(rr_tls_port good): TLSv1.3 with cipher" "$RR_T/cache.log")"
    rr_eq "TLS ends running" 1 "$(tls_ends)"
    rr_eq "hosts down" 0 "$(rr_log_count 'status=down')"
    # SIGTERM: the idle connection gets QUIT through its TLS end, which then exits.
    local end rc=0
    end=$(pgrep -P "$CACHE_PID" -x rrelay-cache)
    kill -TERM "$CACHE_PID"
    wait "$CACHE_PID" || rc=$?
    rr_eq "rrelay-cache exit status (output: $(cat "$RR_T/cache.out"))" 0 "$rc"
    rr_wait 10 test ! -d "/proc/$end"
    rr_wait 10 quits_are 1
}

@test "at may: a server without STARTTLS gets plaintext reuse, one with it TLS reuse" {
    rr_cache_start connection_cache_time_limit=30s
    run -0 send P1 may plain
    run -0 send P2 may plain
    run -0 send T1 may good
    run -0 send T2 may good
    rr_eq "plaintext reuse" 2 "$(use P2)"
    rr_eq "plaintext has no TLS" 0 "$(rr_tls_log_count P2 'tls=')"
    rr_eq "TLS reuse" 2 "$(use T2)"
    rr_eq "TLS at may (no CA check asked, but the CA is trusted)" 1 "$(rr_tls_log_count T2 'tls=TLSv1\.3/.* verified')"
    rr_eq "connections to plain" 1 "$(connects plain)"
    rr_eq "connections to good" 1 "$(connects good)"
    delivered 4
}

@test "verify fails through the TLS end: deferred 4.7.5, and nothing kept for reuse" {
    rr_cache_start connection_cache_time_limit=30s
    run -75 send Q1 verify untrusted
    [[ $output == 4.7.5* ]] || { rr_err "Q1: $output"; return 1; }
    run -75 send Q2 verify untrusted
    [[ $output == 4.7.5* ]] || { rr_err "Q2: $output"; return 1; }
    rr_eq "upstream connections" 2 "$(connects untrusted)"
    rr_eq "reused" 1 "$(use Q2)"
    rr_eq "the cache's view" 2 "$(grep -c 'Untrusted TLS connection established' "$RR_T/cache.log")"
    delivered 0
    # The same server at may takes the untrusted certificate, on its own connection.
    run -0 send Q3 may untrusted
    rr_eq "at may" 1 "$(rr_tls_log_count Q3 'tls=TLSv1\.3/.* untrusted, status=sent')"
    rr_wait 10 ends_are 1
}

@test "a failed handshake: encrypt defers, may goes on in plaintext" {
    rr_cache_start
    # tls12 speaks TLS 1.2 at most; rrelay asks for 1.3.
    run -75 send Q1 encrypt tls12 -o 'tls_protocols=>=TLSv1.3'
    [[ $output == 4.* ]] || { rr_err "Q1: $output"; return 1; }
    rr_ge "the reason" 1 "$(rr_tls_log_count Q1 'TLS handshake failed')"
    rr_eq "failed in the cache's TLS end" 1 "$(grep -c 'TLS end for .*: TLS handshake failed' "$RR_T/cache.log")"
    run -0 send Q2 may tls12 -o 'tls_protocols=>=TLSv1.3'
    rr_eq "plaintext after the failure" 1 "$(rr_tls_log_count Q2 'trying .* again without TLS')"
    rr_eq "Q2 not over TLS" 0 "$(rr_tls_log_count Q2 'tls=')"
    delivered 1
}

@test "a changed policy or CA file never reuses a TLS connection" {
    rr_cache_start connection_cache_time_limit=30s
    cp "$RR_TLS_DIR/ca.pem" "$RR_T/ca-copy.pem"
    chmod 644 "$RR_T/ca-copy.pem"
    run -0 send Q1 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    run -0 send Q2 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "same policy" 2 "$(use Q2)"
    run -0 send Q3 encrypt good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "another level" 1 "$(use Q3)"
    run -0 send Q4 verify good
    rr_eq "another CA file" 1 "$(use Q4)"
    cat "$RR_TLS_DIR/ca.pem" "$RR_TLS_DIR/rogue.pem" >"$RR_T/ca-copy.pem"
    touch -d '+1 minute' "$RR_T/ca-copy.pem"
    run -0 send Q5 verify good -o "tls_ca_file=$RR_T/ca-copy.pem"
    rr_eq "the CA file changed" 1 "$(use Q5)"
    rr_eq "connections" 4 "$(connects good)"
    delivered 5
}

@test "a TLS connection is never reused past its count or time limit; a new TLS end resumes" {
    rr_cache_start connection_reuse_count_limit=3 connection_cache_time_limit=60s
    local i rc=0
    for i in 1 2 3 4 5 6 7; do
        run -0 send "Q$i" verify good
    done
    rr_eq "highest conn_use" 3 "$(for i in 1 2 3 4 5 6 7; do use "Q$i"; done | sort -n | tail -1)"
    rr_eq "connections (3 + 3 + 1)" 3 "$(connects good)"
    kill -TERM "$CACHE_PID"
    wait "$CACHE_PID" || rc=$?
    rr_eq "rrelay-cache exit status" 0 "$rc"
    rr_wait 10 no_cache_left
    # The time limit: the idle connection goes (its TLS end with it), and the next one
    # resumes the session that the last TLS end kept in the cache.
    rr_cache_start connection_cache_time_limit=2s
    run -0 send Q8 verify good
    rr_wait 30 ends_are 0
    run -0 send Q9 verify good
    rr_eq "after the time limit" 1 "$(use Q9)"
    rr_eq "resumed" 1 "$(rr_tls_log_count Q9 'verified resumed, status=sent')"
    rr_eq "connections" 5 "$(connects good)"
    delivered 9
}

@test "a TLS end killed while idle: the next delivery connects afresh, no host down" {
    rr_cache_start connection_cache_time_limit=30s
    run -0 send Q1 verify good
    rr_eq "TLS ends" 1 "$(tls_ends)"
    kill -KILL "$(pgrep -P "$CACHE_PID" -x rrelay-cache)"
    run -0 send Q2 verify good
    run -0 send Q3 verify good
    rr_eq "Q3 reuses the new one" 2 "$(use Q3)"
    rr_eq "hosts down" 0 "$(rr_log_count 'status=down')"
    delivered 3
}

@test "tls_proxy_limit reached, or tls_connection_reuse=no: rrelay makes the handshake itself" {
    rr_cache_start connection_cache_time_limit=30s tls_proxy_limit=1
    run -0 send Q1 verify good
    run -0 send Q2 verify tls12
    rr_eq "rrelay says why" 1 "$(rr_tls_log_count Q2 'declined to be the TLS end .*tls_proxy_limit reached')"
    rr_eq "the cache says why" 1 "$(grep -c 'declined: 1 TLS connections open, tls_proxy_limit is 1' "$RR_T/cache.log")"
    rr_eq "Q2 over TLS" 1 "$(rr_tls_log_count Q2 'tls=TLSv1\.2/.* verified, status=sent')"
    run -0 send Q3 verify good -o tls_connection_reuse=no
    rr_eq "no reuse asked" 1 "$(use Q3)"
    rr_eq "TLS ends" 1 "$(tls_ends)"
    delivered 3
}

@test "the cache killed with kill -9 mid-run over TLS: every message delivered exactly once" {
    rr_cache_start connection_cache_time_limit=60s
    rr_postfix_init "$(rr_tls_dest good)" "cache_socket=$SOCK" tls_security_level=verify \
        "tls_ca_file=$RR_TLS_DIR/ca.pem"
    rr_postfix_start
    rr_smtp_inject 40
    rr_wait_ge 30 5 rr_sink_count final
    kill -KILL "$CACHE_PID"
    rr_wait_maillog 40 'relay=rrelay, .*status=sent' 60
    rr_wait_queue_empty 30
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    delivered 40
    rr_eq "duplicate Message-IDs" "" "$(cat "$RR_T"/sinks/final/dump/* | grep -i '^message-id:' | sort | uniq -d)"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    rr_ge "TLS connections reused before the kill" 2 "$(rr_log_count 'conn_use=[0-9]+, .*tls=TLSv1\.3/.* verified')"
    # The TLS ends of a dead cache end with their connections.
    rr_wait 10 no_cache_left
}

@test "a TLS end killed mid-delivery: deferred with 4.x.x, no host marked down, then delivered" {
    rr_cache_start
    send Q1 verify slow >"$RR_T/q1.out" 2>&1 &
    local pid=$!
    # The TLS end logs its handshake after it answered TLS_DONE: from then on rrelay's session
    # runs through it (the upstream holds each RCPT's reply 3 s), whenever the kill lands.
    rr_wait 30 grep -q "TLS connection established to 127.0.0.1\[127.0.0.1\]:$(rr_tls_port slow)" "$RR_T/cache.log"
    kill -KILL "$(pgrep -P "$CACHE_PID" -x rrelay-cache)"
    local rc=0
    wait "$pid" || rc=$?
    rr_eq "exit status (output: $(cat "$RR_T/q1.out"))" 75 "$rc"
    [[ $(head -c 2 "$RR_T/q1.out") == 4. ]] || { rr_err "output: $(cat "$RR_T/q1.out")"; return 1; }
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    rr_eq "the reason" 1 "$(rr_tls_log_count Q1 "warning: Q1: rrelay-cache's TLS end for .* went away .*; the host is not blamed")"
    delivered 0
    # The host is not down: the next delivery, with the default backoff, makes a new TLS end.
    run -0 send Q2 verify slow
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    delivered 1
}

@test "a server that closes mid-delivery through the TLS end is still blamed: host marked down" {
    local port
    port=$(rr_free_port)
    rr_fault_start f "$port" "cert=$RR_TLS_DIR/good.pem" "key=$RR_TLS_DIR/server.key" rcpt=close
    rr_cache_start
    run -75 rr_tls_send Q1 Q1@example.org "[$RR_HOST]:$port" -o "cache_socket=$SOCK" -o tls_security_level=verify
    [[ $output == 4.4.1* ]] || { rr_err "Q1: $output"; return 1; }
    rr_eq "the TLS end carried it" 1 "$(grep -c "TLS connection established to 127.0.0.1\[127.0.0.1\]:$port" "$RR_T/cache.log")"
    rr_eq "hosts marked down" 1 "$(rr_log_count "status=down, .*lost connection with .* in reply to RCPT TO command")"
    rr_eq "blamed on the TLS end" 0 "$(rr_log_count "TLS end for .* went away")"
    # The TLS end waited for rrelay's close, then ended.
    rr_wait 10 ends_are 0
}

@test "the cache killed mid-delivery: the TLS end finishes the delivery" {
    rr_cache_start
    send Q1 verify slow >"$RR_T/q1.out" 2>&1 &
    local pid=$!
    rr_wait 10 ends_are 1
    local end
    end=$(pgrep -P "$CACHE_PID" -x rrelay-cache)
    kill -KILL "$CACHE_PID"
    local rc=0
    wait "$pid" || rc=$?
    rr_eq "exit status (output: $(cat "$RR_T/q1.out"))" 0 "$rc"
    delivered 1
    rr_eq "over TLS, verified" 1 "$(rr_tls_log_count Q1 'tls=TLSv1\.3/.* verified, status=sent')"
    # Its cache gone, rrelay sent QUIT through the TLS end, which then ended.
    rr_wait 10 test ! -d "/proc/$end"
}

@test "a server silent after STARTTLS: the TLS end's handshake times out, deferred" {
    rr_cache_start
    rr_inject_start mute silent
    run -75 rr_tls_send Q1 Q1@example.org "[$RR_HOST]:$(rr_inject_port mute)" \
        -o "cache_socket=$SOCK" -o tls_security_level=encrypt -o command_timeout=2s
    [[ $output == 4.* ]] || { rr_err "output: $output"; return 1; }
    rr_ge "the reason" 1 "$(rr_tls_log_count Q1 'TLS handshake timed out')"
    rr_eq "the TLS end's view" 1 "$(grep -c 'TLS end for .*: TLS handshake timed out' "$RR_T/cache.log")"
    rr_eq "the server saw the handshake start" 1 "$(grep -c 'after-starttls bytes=[1-9][0-9]* first=0x16' "$RR_T/inject/mute/log")"
}

@test "an unsolicited 550 after the dot, through an idle TLS end: the next message is delivered, no blame" {
    local port d
    port=$(rr_free_port)
    rr_fault_start f "$port" "cert=$RR_TLS_DIR/good.pem" "key=$RR_TLS_DIR/server.key" dot=250+550
    d=$RR_T/faults/f
    rr_cache_start connection_cache_time_limit=30s
    run -0 rr_tls_send Q1 Q1@example.org "[$RR_HOST]:$port" -o "cache_socket=$SOCK" -o tls_security_level=verify
    rr_eq "TLS ends" 1 "$(tls_ends)"
    touch "$d/trigger"
    rr_wait 10 test -e "$d/stale"
    run -0 rr_tls_send Q2 Q2@example.org "[$RR_HOST]:$port" -o "cache_socket=$SOCK" -o tls_security_level=verify
    run -0 rr_tls_send Q3 Q3@example.org "[$RR_HOST]:$port" -o "cache_socket=$SOCK" -o tls_security_level=verify
    rr_eq "messages the upstream took" 3 "$(find "$d" -name 'msg.*' | wc -l)"
    rr_eq "stale connection found" 1 \
        "$(rr_tls_log_count Q2 'debug: Q2: reused connection to .* failed before MAIL FROM was accepted')"
    rr_eq "verified deliveries" 3 "$(rr_log_count 'tls=TLSv1\.3/[A-Z0-9_]+ verified( resumed)?, status=sent')"
    rr_eq "Q3 on Q2's connection" 2 "$(use Q3)"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    rr_eq "deferred or bounced" 0 "$(rr_log_count 'status=(deferred|bounced)')"
    rr_wait_eq 10 1 rr_fault_sessions f
    rr_wait 10 ends_are 1
}

# fake_cache_as USER DIR: run fake_cache as USER at DIR/cache.sock, handing out DIR/evil.sock (pid in $FAKE_PID)
fake_cache_as() {
    rm -f "$2/cache.sock" "$2/questions"
    setpriv --reuid="$1" --regid="$1" --clear-groups \
        "$RR_TOOLS/fake_cache" "$2/cache.sock" "$2/evil.sock" "$2/questions" </dev/null >"$2/fake.out" 2>&1 &
    FAKE_PID=$!
    rr_track_pid "$FAKE_PID"
    rr_wait 10 test -S "$2/cache.sock"
}

@test "a fake cache run by another uid in a world-writable directory gets no mail; rrelay warns once, checks TLS itself" {
    local d=$RR_T/shared port q
    mkdir -m 1777 "$d"
    port=$(rr_free_port)
    rr_fault_start f "$port" "cert=$RR_TLS_DIR/good.pem" "key=$RR_TLS_DIR/server.key"
    # nobody's own SMTP responder, and its fake cache that hands it out as "verified TLS"
    mkdir -m 1777 "$d/evil"
    smtp-sink -u "$RR_SINK_USER" -d "$d/evil/%M." "unix:$d/evil.sock" 10 </dev/null >"$d/sink.out" 2>&1 &
    rr_track_pid "$!"
    rr_wait 10 test -S "$d/evil.sock"
    fake_cache_as 65534 "$d"
    for q in Q1 Q2; do
        run -0 rr_tls_send "$q" "$q@example.org" "[$RR_HOST]:$port" -o "cache_socket=$d/cache.sock" \
            -o tls_security_level=verify
    done
    rr_eq "questions the fake cache got" 0 "$(cat "$d/questions")"
    rr_eq "messages at nobody's responder" 0 "$(find "$d/evil" -type f | wc -l)"
    rr_eq "messages the real upstream took" 2 "$(find "$RR_T/faults/f" -name 'msg.*' | wc -l)"
    rr_eq "warnings, one per rrelay run" 2 \
        "$(rr_log_count "warning: not using the cache at $d/cache.sock: it runs as uid 65534, not as uid $(id -u "$RR_USER") or root")"
    rr_eq "TLS verified by rrelay itself" 2 "$(rr_log_count 'tls=TLSv1\.3/TLS_[A-Z0-9_]+ verified( resumed)?, status=sent')"
    # The same fake cache run by rrelay's own uid, in that open directory: still not trusted.
    rr_kill_pid "$FAKE_PID"
    fake_cache_as "$RR_USER" "$d"
    : >"$RR_T/rrelay.log"
    run -0 rr_tls_send Q3 Q3@example.org "[$RR_HOST]:$port" -o "cache_socket=$d/cache.sock" \
        -o tls_security_level=verify
    rr_eq "questions the fake cache got" 0 "$(cat "$d/questions")"
    rr_eq "directory warning" 1 "$(rr_log_count 'warning: not using the cache at .*: its directory .* is owned by uid 0, mode 1777')"
}

@test "a TLS end that exits while the cache is idle is reaped at once: no zombie" {
    rr_cache_start connection_cache_time_limit=60s
    run -0 send Q1 verify good
    local end
    end=$(pgrep -P "$CACHE_PID" -x rrelay-cache)
    [[ -n $end ]] || { rr_err "no TLS end"; return 1; }
    kill -KILL "$end"
    # The cache has nothing due for 60 s; only SIGCHLD can make it reap.
    rr_wait 5 test ! -e "/proc/$end"
    rr_eq "TLS ends" 0 "$(tls_ends)"
}

@test "under tls_ca_path, a CA replaced in place: nothing is reused as verified, the new store decides" {
    rr_cache_start connection_cache_time_limit=30s
    local cadir=$RR_T/cadir
    mkdir -m 755 "$cadir"
    cp "$RR_TLS_DIR/ca.pem" "$cadir/ca.pem"
    chmod 644 "$cadir/ca.pem"
    openssl rehash "$cadir"
    run -0 send Q1 verify good -o tls_ca_file= -o "tls_ca_path=$cadir"
    run -0 send Q2 verify good -o tls_ca_file= -o "tls_ca_path=$cadir"
    rr_eq "Q2 verified" 1 "$(rr_tls_log_count Q2 'verified( resumed)?, status=sent')"
    # In place: the same file name (and hash link) now holds another CA.
    cat "$RR_TLS_DIR/rogue.pem" >"$cadir/ca.pem"
    run -75 send Q3 verify good -o tls_ca_file= -o "tls_ca_path=$cadir"
    [[ $output == 4.7.5* ]] || { rr_err "Q3: $output"; return 1; }
    rr_eq "reused connections" 0 "$(rr_log_count 'conn_use=')"
    rr_eq "resumed sessions" 0 "$(rr_log_count 'verified resumed')"
    delivered 2
}

@test "a TLS end holds no other server's TLS session: the tables are wiped after the fork" {
    rr_cache_start connection_cache_time_limit=30s
    local a
    a=$(rr_tls_port tls12)
    # rrelay's own handshake with tls12 leaves its session in the cache.
    run -0 send Q1 verify tls12 -o tls_connection_reuse=no
    # A TLS end for another server, idle after its delivery.
    run -0 send Q2 verify good
    rr_eq "TLS ends" 1 "$(tls_ends)"
    rr_eq "tls12's session key in the cache" 1 \
        "$(($(python3 "$BATS_TEST_DIRNAME/memscan.py" "$CACHE_PID" "tls 127.0.0.1[127.0.0.1]:$a sni=") > 0))"
    rr_eq "tls12's session key in good's TLS end" 0 \
        "$(python3 "$BATS_TEST_DIRNAME/memscan.py" "$(pgrep -P "$CACHE_PID" -x rrelay-cache)" "tls 127.0.0.1[127.0.0.1]:$a sni=")"
}

# tls_start_as_rrelay KEY KIND WAIT_MS: a TLS_START with a blocking descriptor, as rrelay's uid (cache_take)
tls_start_as_rrelay() {
    setpriv --reuid="$RR_USER" --regid="$RR_USER" --init-groups \
        "$RR_TOOLS/cache_take" "$SOCK" "$1" tls-start "$2" "$3"
}

@test "a blocking descriptor sent to the TLS end: a TCP socket keeps the handshake's time limit, a unix socket is refused" {
    rr_cache_start
    rr_silent_start mute
    # A blocking TCP socket to a server that never answers the ClientHello: the handshake's
    # wait is 2 s, and the answer must come within it and a wide margin (not never).
    run -0 tls_start_as_rrelay "blocking tcp" "tcp:$(rr_silent_port mute)" 2000
    [[ ${lines[0]} == "fail TLS handshake timed out"* ]] || { rr_err "tcp: $output"; return 1; }
    local ms=${lines[1]#after }
    ms=${ms% ms}
    ((ms >= 1500 && ms < 15000)) || { rr_err "answered after $ms ms"; return 1; }
    rr_wait 10 ends_are 0
    # Not a TCP socket at all: declined at once, and no TLS end holds a tls_proxy_limit slot.
    run -0 tls_start_as_rrelay "blocking unix" unix 2000
    [[ ${lines[0]} == "decline "*"not a TCP stream socket"* ]] || { rr_err "unix: $output"; return 1; }
    rr_eq "TLS ends" 0 "$(tls_ends)"
    rr_eq "the cache's warning" 1 "$(grep -c 'TLS end for blocking declined: .*not a TCP stream socket' "$RR_T/cache.log")"
}
