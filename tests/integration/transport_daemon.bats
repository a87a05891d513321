#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_daemon.bats - rrelay as a thin client of rrelay-cache's delivery workers
#
# The rest of the transport suite also runs with the workers (tests/run's
# daemon pass, RR_DAEMON=1). These are the cases only the workers have: the
# daemon or a worker killed mid-run, a daemon that takes nothing, and an
# input the workers refuse. Each time, no message is lost and none is sent
# twice before the final dot.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
    DSOCK=$(RR_DAEMON=1 rr_daemon_sock) || return 1
    DPID=$(cat "$RR_T/daemon.pid")
}

teardown() {
    rr_teardown
}

SENT='relay=rrelay, .*status=sent'

# workers: the daemon's worker processes (its children named rrelay-worker)
workers() {
    pgrep -P "$DPID" -x rrelay-worker || true
}

# logged_by_workers ERE: how many lines of rrelay.log a worker wrote, matching rrelay[PID]ERE
logged_by_workers() {
    local pid n=0
    for pid in $(workers); do
        n=$((n + $(grep -cE "rrelay\[$pid\]$1" "$RR_T/rrelay.log" || true)))
    done
    echo "$n"
}

# worker_on PORT: the pid of the worker with a connection to PORT
worker_on() {
    ss -Htnp "dport = :$1" | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -n 1
}

# daemon_gone: neither the daemon nor any of its workers runs
daemon_gone() {
    [[ -z $(pgrep -f -- "rrelay-cache -f -o cache_socket=$RR_T/daemon/") ]]
}

# all_workers: the daemon runs its 20 workers (the default)
all_workers() {
    (( $(workers | wc -l) >= 20 ))
}

# no_duplicates SINK...: no Message-ID twice among the sinks' messages
no_duplicates() {
    rr_eq "duplicate Message-IDs" "" \
        "$(for s in "$@"; do cat "$RR_T/sinks/$s/dump/"*; done | grep -i '^message-id:' | sort | uniq -d)"
}

@test "deliveries go through the workers: round robin exact, the worker logs, rrelay only waits" {
    rr_sink_start s1
    rr_sink_start s2
    rr_sink_start s3
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)" "$(rr_sink_port s3)")" \
        "delivery_socket=$DSOCK"
    rr_postfix_start
    rr_smtp_inject 30
    rr_wait_maillog 30 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "s1" 10 "$(rr_sink_count s1)"
    rr_eq "s2" 10 "$(rr_sink_count s2)"
    rr_eq "s3" 10 "$(rr_sink_count s3)"
    # every result line was written by a worker, a child of the daemon
    rr_eq "results logged by workers" 30 "$(logged_by_workers ': .*result=sent')"
    rr_eq "deliveries done by rrelay itself" 0 "$(rr_log_count 'delivering here')"
}

@test "kill -9 of the daemon during a run of 40: each message delivered exactly once" {
    rr_sink_start s1
    rr_sink_start s2
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)")" \
        "delivery_socket=$DSOCK"
    rr_postfix_start
    rr_smtp_inject 40
    rr_wait_ge 30 10 rr_sink_total s1 s2
    kill -9 "$DPID"
    # its workers finish the deliveries in hand, then end (SIGTERM at its death)
    rr_wait 30 daemon_gone
    rr_flush
    rr_wait_maillog 40 "$SENT" 90
    rr_wait_queue_empty 30
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_eq "delivered" 40 "$(rr_sink_total s1 s2)"
    no_duplicates s1 s2
    rr_eq "hosts marked down" 0 "$(rr_log_count 'status=down')"
}

@test "kill -9 of a worker in the middle of DATA: deferred, then delivered once" {
    local port pid
    port=$(rr_free_port)
    rr_fault_start stuck "$port" body=silent
    rr_postfix_init "[$RR_HOST]:$port" "delivery_socket=$DSOCK" command_timeout=60s data_timeout=60s
    rr_postconf message_size_limit=20000000
    rr_postfix_start
    {
        printf 'Subject: crash\nMessage-ID: <worker@sender.test>\n\nbody\n'
        yes 'a line of the body of a message whose worker is killed' | head -c 8000000
    } | rr_sendmail -i -f sender@sender.test rcpt@example.org
    # the worker is blocked writing the body to an upstream that stopped reading
    rr_wait 30 test -s "$RR_T/faults/stuck/mail_times"
    rr_wait 30 test -n "$(worker_on "$port")"
    pid=$(worker_on "$port")
    [[ " $(workers | tr '\n' ' ') " == *" $pid "* ]] || { rr_err "pid $pid is not a worker"; return 1; }
    sleep 1
    kill -9 "$pid"
    rr_wait_maillog 1 'to=<rcpt@example\.org>, relay=rrelay, .*dsn=4\.3\.0, status=deferred .*delivery worker ended' 30
    rr_wait 10 grep -q "delivery worker $pid was killed by signal 9; starting another" "$RR_T/daemon.log"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_retry_on_good "$port" worker@sender.test
    rr_eq "copies kept by the stuck upstream" 0 "$(find "$RR_T/faults/stuck" -name 'msg.*' | wc -l)"
    rr_wait 10 all_workers
}

@test "workers that take nothing cost a delivery a second; the stale request is never delivered" {
    local pid
    rr_sink_start s1
    for pid in $(workers); do kill -STOP "$pid"; done
    printf 'Subject: stopped\nMessage-ID: <stopped@sender.test>\n\nbody\n' |
        rr_rrelay -o "delivery_socket=$DSOCK" -q Q1 -f a@sender.test \
            -n "[$RR_HOST]:$(rr_sink_port s1)" -- b@example.org
    for pid in $(workers); do kill -CONT "$pid"; done
    rr_eq "delivered" 1 "$(rr_sink_count s1)"
    rr_eq "waited for a worker" 1 "$(rr_log_count 'Q1: delivering here, not through the daemon.s worker \(no answer within 1000ms\)')"
    # a resumed worker finds the request in its backlog, gets no GO, sends nothing
    sleep 2
    rr_eq "delivered after the workers resumed" 1 "$(rr_sink_count s1)"
    rr_eq "sent" 1 "$(rr_log_count 'Q1: .*status=sent')"
}

@test "a standard input that is not a pipe or a file is refused by the worker; rrelay delivers it" {
    rr_sink_start s1
    # stdin is one end of a socket pair holding the message
    rr_as_rrelay /usr/bin/python3 -c '
import os, socket, sys
a, b = socket.socketpair()
b.sendall(b"Subject: socket\n\nbody\n")
b.close()
os.dup2(a.fileno(), 0)
os.execv(sys.argv[1], sys.argv[1:])' "$RRELAY" -o "state_directory=$RR_T/state" \
        -o "log=$RR_T/rrelay.log" -o "delivery_socket=$DSOCK" -q Q1 -f a@sender.test \
        -n "[$RR_HOST]:$(rr_sink_port s1)" -- b@example.org
    rr_eq "refused" 1 "$(rr_log_count 'Q1: delivering here, not through the daemon.s worker \(refused: standard input is not a pipe or a regular file\)')"
    rr_eq "delivered" 1 "$(rr_sink_count s1)"
}

@test "handoff = no: rrelay delivers by itself with the workers running" {
    rr_sink_start s1
    printf 'Subject: x\n\nbody\n' |
        rr_rrelay -o "delivery_socket=$DSOCK" -o handoff=no -q Q1 -f a@sender.test \
            -n "[$RR_HOST]:$(rr_sink_port s1)" -- b@example.org
    rr_eq "delivered" 1 "$(rr_sink_count s1)"
    rr_eq "lines logged by workers" 0 "$(logged_by_workers ':')"
}

@test "a process of another uid can't hand a delivery to the workers" {
    # with the right to pass the daemon's directory, uid 65534 still reaches a worker
    # that closes without an answer, and says so in its log
    run -0 setpriv --reuid=65534 --regid=65534 --clear-groups \
        --inh-caps=+dac_override,+dac_read_search --ambient-caps=+dac_override,+dac_read_search \
        /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(5)
print("closed" if s.recv(4096) == b"" else "answered")' "$DSOCK"
    rr_eq "uid 65534 gets" closed "$output"
    # before a delivery's settings, a worker logs where the daemon does
    rr_wait 5 grep -qE 'warning: refused a delivery from uid 65534, pid [0-9]+: only uid [0-9]+ may hand over deliveries' "$RR_T/daemon.log"
    rr_eq "workers alive" 1 "$(all_workers && echo 1)"
}
