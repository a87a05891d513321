#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_cache.bats - rrelay-cache: connection reuse, its limits, and every way it can fail

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
    CACHE=$RR_BUILD/rrelay-cache
    [[ -x $CACHE ]] || {
        rr_err "rrelay-cache not found at $CACHE (run make)"
        return 1
    }
    # The socket's directory: the rrelay user's alone, as the cache demands.
    SOCK=$RR_T/cache/cache.sock
    mkdir -m 700 "$RR_T/cache"
    : >"$RR_T/cache.log"
    chown "$RR_USER:" "$RR_T/cache" "$RR_T/cache.log"
}

teardown() {
    rr_teardown
}

SENT='relay=rrelay, .*status=sent'

# cache_signal SIG: send SIG to rrelay-cache
cache_signal() {
    kill "-$1" "$(cat "$RR_T/cache.pid")"
}

# cache_stop: SIGTERM; it must exit 0 (under SANITIZE=1: with no leak or error report)
cache_stop() {
    local rc=0
    cache_signal TERM
    wait "$(cat "$RR_T/cache.pid")" || rc=$?
    rr_eq "rrelay-cache exit status (output: $(cat "$RR_T/cache.out"))" 0 "$rc"
}

# send_one QUEUE_ID PORT [NAME=VALUE...]: one message to [127.0.0.1]:PORT with rrelay run directly
send_one() {
    local qid=$1 port=$2 opts=() o
    shift 2
    for o in "$@"; do
        opts+=(-o "$o")
    done
    printf 'Subject: %s\n\nbody of %s\n' "$qid" "$qid" |
        rr_rrelay -o "cache_socket=$SOCK" -o helo_name=relay.rrelay.test "${opts[@]}" \
            -q "$qid" -f sender@sender.test -n "[$RR_HOST]:$port" -- rcpt@example.org
}

# key PORT: the cache key of send_one's session with [127.0.0.1]:PORT
# (level may, the default: the key carries the rest of the TLS policy too)
key() {
    echo "[$RR_HOST]:$1 tls=1 helo=relay.rrelay.test level=1 match= ca=| cert=| proto=>=TLSv1.2"
}

# take_as USER... -- KEY: run cache_take as a given setpriv identity
take_as() {
    local args=()
    while [[ $1 != -- ]]; do
        args+=("$1")
        shift
    done
    shift
    setpriv "${args[@]}" "$RR_TOOLS/cache_take" "$SOCK" "$1"
}

@test "with the cache, the sinks see far fewer sessions than messages, and round robin stays exact" {
    rr_sink_start s1
    rr_sink_start s2
    rr_sink_start s3
    rr_cache_start connection_cache_time_limit=60s
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)" "$(rr_sink_port s3)")" \
        "cache_socket=$SOCK"
    rr_postconf rrelay_destination_concurrency_limit=2
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "sink s1" 10 "$(rr_sink_count s1)"
    rr_eq "sink s2" 10 "$(rr_sink_count s2)"
    rr_eq "sink s3" 10 "$(rr_sink_count s3)"
    rr_ge "deliveries on a reused connection" 15 "$(rr_log_count 'conn_use=[0-9]+, .*status=sent')"
    # Sessions end (and smtp-sink counts them) when the cache lets go.
    cache_stop
    rr_eq "cache's own stop line" 1 "$(grep -c 'rrelay-cache\[[0-9]*\]: stopping: closing' "$RR_T/cache.log")"
    [[ ! -e $SOCK ]] || { rr_err "socket left behind"; return 1; }
    local s n=0
    for s in s1 s2 s3; do
        rr_wait_ge 10 1 rr_sink_sessions "$s"
        n=$((n + $(rr_sink_sessions "$s")))
    done
    ((n <= 10)) || { rr_err "30 messages took $n sessions"; return 1; }
}

@test "an upstream that closes idle connections: fresh connection, no host down, nothing lost" {
    local d kid
    port=$(rr_free_port)
    # The upstream closes the first idle connection when told to (DIR/trigger), not on a timer.
    rr_fault_start f "$port" dot=250+close
    d=$RR_T/faults/f
    rr_cache_start connection_cache_time_limit=60s
    run -0 send_one Q1 "$port"
    touch "$d/trigger"
    rr_wait 10 test -e "$d/stale"
    rr_wait_eq 10 0 rr_fault_sessions f # it hung up on the cached connection
    run -0 send_one Q2 "$port"
    run -0 send_one Q3 "$port"
    # The upstream is gone and another is back on the same port: the cached socket is dead.
    kid=$(pgrep -P "$(cut -d' ' -f1 "$d/pid")")
    [[ -n $kid ]] || { rr_err "no session holds Q3's connection"; return 1; }
    rr_fault_stop f
    rr_wait 10 proc_dead "$kid"
    rr_sink_start_on s1b "$port"
    run -0 send_one Q4 "$port"
    rr_eq "delivered to the first upstream" 3 "$(find "$d" -name 'msg.*' | wc -l)"
    rr_eq "delivered to s1b" 1 "$(rr_sink_count s1b)"
    rr_eq "Q3 on Q2's connection" 1 "$(rr_log_count 'Q3: .*conn_use=2, .*status=sent')"
    rr_eq "connections found dead" 2 "$(rr_log_count 'debug: Q[24]: reused connection to .* failed before MAIL FROM was accepted')"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    rr_eq "deferred" 0 "$(rr_log_count 'status=deferred')"
    rr_eq "rrelay status" up "$(rr_host_state "$port")"
}

@test "the cache killed with kill -9 mid-run: every message delivered exactly once" {
    rr_sink_start s1
    rr_sink_start s2
    rr_cache_start connection_cache_time_limit=60s
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)")" "cache_socket=$SOCK"
    rr_postfix_start
    rr_smtp_inject 40
    rr_wait_ge 30 5 rr_sink_total s1 s2
    cache_signal KILL
    rr_wait_maillog 40 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_eq "delivered" 40 "$(rr_sink_total s1 s2)"
    rr_eq "duplicate Message-IDs" "" "$(cat "$RR_T"/sinks/s*/dump/* | grep -i '^message-id:' | sort | uniq -d)"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    # With the cache's socket left behind and nobody listening, rrelay works as before.
    run -0 send_one Q1 "$(rr_sink_port s1)"
}

@test "another uid can't take a connection from the cache" {
    rr_sink_start s1
    port=$(rr_sink_port s1)
    rr_cache_start connection_cache_time_limit=60s
    run -0 send_one Q1 "$port"
    # nobody can't even reach the socket: the directory is closed to it.
    run take_as --reuid=65534 --regid=65534 --clear-groups -- "$(key "$port")"
    [[ $status -ne 0 && $output == *"Permission denied"* ]] || { rr_err "nobody reached the socket: $output"; return 1; }
    # With the right to pass the directory, the cache still refuses uid 65534.
    run -0 take_as --reuid=65534 --regid=65534 --clear-groups \
        --inh-caps=+dac_override,+dac_read_search --ambient-caps=+dac_override,+dac_read_search \
        -- "$(key "$port")"
    rr_eq "uid 65534 asks" refused "$output"
    rr_eq "cache log" 1 "$(grep -c 'warning: refused a client with uid 65534' "$RR_T/cache.log")"
    # The connection is still there for the rrelay user.
    run -0 take_as --reuid="$RR_USER" --regid="$RR_USER" --init-groups -- "$(key "$port")"
    rr_eq "rrelay asks" "hit 127.0.0.1[127.0.0.1]:$port use=1" "$output"
}

@test "a connection is never reused past its count or time limit" {
    rr_sink_start s1
    port=$(rr_sink_port s1)
    rr_cache_start connection_cache_time_limit=60s connection_reuse_count_limit=3
    for q in 1 2 3 4 5 6 7; do
        run -0 send_one "Q$q" "$port"
    done
    rr_eq "conn_use=2" 2 "$(rr_log_count 'conn_use=2, .*status=sent')"
    rr_eq "conn_use=3" 2 "$(rr_log_count 'conn_use=3, .*status=sent')"
    rr_eq "conn_use above 3" 0 "$(rr_log_count 'conn_use=([4-9]|[1-9][0-9]+),')"
    rr_wait_eq 10 2 rr_sink_sessions s1 # the two that reached 3 got QUIT
    cache_stop
    rr_wait_eq 10 3 rr_sink_sessions s1
    rr_eq "delivered" 7 "$(rr_sink_count s1)"
    # Time: idle past connection_cache_time_limit, the cache closes it.
    : >"$RR_T/rrelay.log"
    rr_cache_start connection_cache_time_limit=1s
    run -0 send_one Q8 "$port"
    rr_wait_eq 10 4 rr_sink_sessions s1
    run -0 send_one Q9 "$port"
    rr_eq "reused after the time limit" 0 "$(rr_log_count 'conn_use=')"
    rr_eq "delivered" 9 "$(rr_sink_count s1)"
}

@test "a cache that stops answering costs a delivery a second, nothing more" {
    rr_sink_start s1
    port=$(rr_sink_port s1)
    rr_cache_start connection_cache_time_limit=60s
    run -0 send_one Q1 "$port"
    cache_signal STOP
    run -0 send_one Q2 "$port"
    cache_signal CONT
    rr_eq "warning" 1 "$(rr_log_count 'warning: rrelay-cache did not answer')"
    rr_eq "delivered" 2 "$(rr_sink_count s1)"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
}

@test "rrelay-cache refuses to start on a socket directory others can enter, or a bad setting" {
    chmod 755 "$RR_T/cache"
    run -1 rr_as_rrelay "$CACHE" -f -o "cache_socket=$SOCK" -o log=stderr
    [[ $output == *"must be a directory owned by uid"*"mode 0755"* ]] || { rr_err "$output"; return 1; }
    chmod 700 "$RR_T/cache"
    run -1 rr_as_rrelay "$CACHE" -f -o "cache_socket=$SOCK" -o log=stderr -o connection_reuse_count_limit=0
    [[ $output == *"-o connection_reuse_count_limit=0"* ]] || { rr_err "$output"; return 1; }
    [[ ! -e $SOCK ]]
}

# line_waiting PORT: our end of a connection to PORT has bytes not yet read
line_waiting() {
    ss -Htn "dport = :$1" | awk '$2 > 0 { found = 1 } END { exit !found }'
}

# stale_line CODE: an upstream speaks out of turn (an unsolicited CODE line after its 250 to
# the final dot) while its connection idles in the cache; the next delivery must not read it
stale_line() {
    local port d
    port=$(rr_free_port)
    rr_fault_start f "$port" "dot=250+$1"
    d=$RR_T/faults/f
    rr_cache_start connection_cache_time_limit=60s
    run -0 send_one Q1 "$port"
    touch "$d/trigger"
    rr_wait 10 test -e "$d/stale"
    # the line has reached the idle connection (the cache's end of it), as
    # the test says: not merely been written by the upstream
    rr_wait 10 line_waiting "$port"
    run -0 send_one Q2 "$port"
    run -0 send_one Q3 "$port"
    rr_eq "messages the upstream took" 3 "$(find "$d" -name 'msg.*' | wc -l)"
    rr_eq "stale connection found" 1 \
        "$(rr_log_count 'debug: Q2: reused connection to .* failed before MAIL FROM was accepted \(input was waiting before RSET\)')"
    rr_eq "Q3 on Q2's connection" 1 "$(rr_log_count 'Q3: .*conn_use=2, .*status=sent')"
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
    rr_eq "deferred or bounced" 0 "$(rr_log_count 'status=(deferred|bounced)')"
    rr_eq "rrelay status" up "$(rr_host_state "$port")"
    # The stale connection was closed: only the one in the cache is left.
    rr_wait_eq 10 1 rr_fault_sessions f
}

@test "an unsolicited 550 after the 250 to the dot, while idle in the cache: the next message is delivered, no blame" {
    stale_line 550
}

@test "an unsolicited 250 after the 250 to the dot, while idle in the cache: no reply is shifted, no blame" {
    stale_line 250
}

@test "rrelay-cache started as root makes its directory for rrelay, drops to rrelay, and daemonizes with a pidfile" {
    local dir=$RR_T/croot pid
    : >"$RR_T/croot.log"
    chown "$RR_USER:" "$RR_T/croot.log"
    # A directory that a cache run as root made earlier: root's, 0700.
    mkdir -m 700 "$dir"
    run -0 "$CACHE" -o "cache_socket=$dir/cache.sock" -o "log=$RR_T/croot.log" \
        -o connection_cache_time_limit=300s
    [ -s "$dir/rrelay-cache.pid" ]
    pid=$(cat "$dir/rrelay-cache.pid")
    rr_track_pid "$pid"
    [ "$(stat -c '%U %a' "$dir")" = "$RR_USER 700" ]
    [ "$(stat -c '%U' "$dir/cache.sock")" = "$RR_USER" ]
    [ "$(ps -o user= -p "$pid")" = "$RR_USER" ]
    grep -q "started: uid=$(id -u "$RR_USER")," "$RR_T/croot.log"
    # rrelay (its uid) can use it: a delivery hands its connection over.
    rr_sink_start s1
    printf 'Subject: x\n\nbody\n' | rr_rrelay -o "cache_socket=$dir/cache.sock" -q Q1 \
        -f a@sender.test -n "[$RR_HOST]:$(rr_sink_port s1)" -- b@example.org
    kill -TERM "$pid"
    rr_wait 10 proc_dead "$pid"
    grep -q 'stopping: closing 1 idle connections' "$RR_T/croot.log"
    [ ! -e "$dir/rrelay-cache.pid" ]
    [ ! -e "$dir/cache.sock" ]
    # -u root is refused.
    run -1 "$CACHE" -f -u root -o "cache_socket=$dir/cache.sock" -o log=stderr
    [[ $output == *"will not run as root"* ]]
    # A log file it cannot open: it starts all the same, on syslog and
    # stderr, and says so once.
    rr_as_rrelay "$CACHE" -f -o "cache_socket=$dir/cache.sock" \
        -o "log=$RR_T/nonexistent/cache.log" </dev/null >"$RR_T/cfb.out" 2>&1 &
    pid=$!
    rr_track_pid "$pid"
    rr_wait 10 grep -q 'started:' "$RR_T/cfb.out"
    rr_eq "fallback warnings" 1 "$(grep -c "rrelay-cache: warning: logging to syslog+stderr: log = $RR_T/nonexistent/cache.log: open log file" "$RR_T/cfb.out")"
    rr_kill_pid "$pid"
}
