#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# matrix.bats - every message accounted for, across a matrix of upstream faults
#
# One real Postfix relays through rrelay. Each fault of the table below runs
# on a fault_server of its own (tests/tools/fault_server.c), in two
# topologies, both routed by transport_maps:
#
#   one    the faulty host alone
#   three  the faulty host and two good smtp-sinks; three messages start
#          at once, so the exact round robin starts one of them at the
#          faulty host
#
# Every message has its own recipient and Message-ID. When each has its
# first result in the mail log, the test counts, per message, its copies at
# every upstream, whether Postfix still holds it, and whether it bounced
# (with a DSN at the sender's sink), and sorts it into delivered, deferred,
# bounced, lost-reply (delivered and still queued: the reply to the final
# dot was lost, the one duplicate RFC 5321 section 4.1.5 accepts), lost
# or duplicated. It prints the table and fails on any message lost or
# duplicated, and on any count that differs from the expected one.
#
# The matrix runs twice: as rrelay runs alone, and with rrelay-cache
# reusing connections (issue 13), where every count must be the same.

bats_require_minimum_version 1.5.0
load ../integration/lib

# fault expected-one expected-three [size]: "d/q/b/r" counts of delivered,
# deferred (queued), bounced and lost-reply messages out of 3, for messages
# of about 200 bytes, or of size bytes. A small message's final dot leaves
# in the same write as its body, so a host that stops during the body is,
# for rrelay, one that did not answer the dot: "the message may already be
# delivered", so it is deferred, never tried elsewhere. With 8 MB the
# writes outrun the socket buffers, rrelay sees the failure before the
# dot, and the message goes to the next host.
FAULTS=(
    "greet=421       0/3/0/0 3/0/0/0"
    "greet=close     0/3/0/0 3/0/0/0"
    "greet=silent    0/3/0/0 3/0/0/0"
    "greet=longline  0/3/0/0 3/0/0/0"
    "ehlo=421        0/3/0/0 3/0/0/0"
    "ehlo=endless    0/3/0/0 3/0/0/0"
    "mail=451        0/3/0/0 3/0/0/0"
    "mail=550        0/0/3/0 2/0/1/0"
    "mail=slow       3/0/0/0 3/0/0/0"
    "rcpt=451        0/3/0/0 3/0/0/0"
    "rcpt=550        0/0/3/0 2/0/1/0"
    "data=451        0/3/0/0 3/0/0/0"
    "data=554        0/0/3/0 2/0/1/0"
    "body=close      0/3/0/0 2/1/0/0"
    "body=silent     0/3/0/0 2/1/0/0"
    "body=close      0/3/0/0 3/0/0/0 8000000"
    "body=silent     0/3/0/0 3/0/0/0 8000000"
    "dot=451         0/3/0/0 3/0/0/0"
    "dot=554         0/0/3/0 2/0/1/0"
    "dot=close       *       2/0/0/1"
    "dot=silent      *       2/0/0/1"
    "quit=close      3/0/0/0 3/0/0/0"
)

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# copies RCPT: how many upstreams hold a message for RCPT
copies() {
    local n=0 f
    n=$(cat "$RR_T"/sinks/good[12]/dump/* 2>/dev/null | grep -ac "^X-Rcpt-Args: <$1>")
    for f in "$RR_T"/faults/*/msg.*; do
        [[ -e $f ]] && grep -aq "^X-Rcpt-To: <$1>" "$f" && n=$((n + 1))
    done
    echo "$n"
}

# classify RCPT: delivered, deferred, bounced, lostreply, lost or duplicated
classify() {
    local rcpt=$1 d q b
    d=$(copies "$rcpt")
    q=$(grep -c "\"address\": *\"$rcpt\"" "$RR_T/queue.json")
    b=$(rr_maillog_count "to=<$rcpt>, relay=rrelay, .*dsn=5\.[0-9]+\.[0-9]+, status=bounced")
    case "$d/$q/$b" in
    1/0/0) echo delivered ;;
    0/1/0) echo deferred ;;
    0/0/1) echo bounced ;;
    1/1/0) echo lostreply ;;
    0/0/0) echo lost ;;
    *) echo "duplicated($d/$q/$b)" ;;
    esac
}

# dsns_arrived: the sender's sink has a DSN for every bounce rrelay logged
dsns_arrived() {
    (($(rr_sink_count dsn) >= $(rr_maillog_count 'relay=rrelay, .*dsn=5\.[0-9]+\.[0-9]+, status=bounced')))
}

# all_settled: every message has had its first delivery attempt
all_settled() {
    local r
    while read -r r; do
        rr_maillog_count "to=<$r>, relay=rrelay, .*status=(sent|deferred|bounced)" |
            grep -qv '^0$' || return 1
    done <"$RR_T/rcpts"
}

@test "fault matrix: every message delivered once, deferred or bounced; never lost" {
    matrix
}

@test "fault matrix with rrelay-cache: the same counts, connections reused" {
    rr_cache_start
    matrix "cache_socket=$SOCK"
    rr_ge "deliveries on a reused connection" 1 "$(rr_log_count 'conn_use=[0-9]+, .*status=sent')"
}

# matrix [RRELAY-OPTION...]: the whole matrix through one Postfix
matrix() {
    local i fault one three size name ports r out n
    rr_sink_start good1
    rr_sink_start good2
    rr_sink_start dsn
    rr_postfix_init "[$RR_HOST]:1" connect_timeout=2s command_timeout=5s \
        data_timeout=5s greeting_grace=3s "$@"
    rr_postconf message_size_limit=20000000
    rr_transport_add sender.test "smtp:[$RR_HOST]:$(rr_sink_port dsn)"
    : >"$RR_T/rcpts"
    for i in "${!FAULTS[@]}"; do
        read -r fault one three size <<<"${FAULTS[$i]}"
        echo "${size:-0}" >"$RR_T/size.$i"
        rr_fault_start "f$i" "$(rr_free_port)" "$fault"
        ports="[$RR_HOST]:$(rr_fault_port "f$i")"
        rr_transport_add "one$i.test" "rrelay:$ports"
        rr_transport_add "three$i.test" "rrelay:$ports,[$RR_HOST]:$(rr_sink_port good1),[$RR_HOST]:$(rr_sink_port good2)"
    done
    rr_postfix_start
    for i in "${!FAULTS[@]}"; do
        for name in one three; do
            for n in 1 2 3; do
                r="m$n@$name$i.test"
                echo "$r" >>"$RR_T/rcpts"
                {
                    printf 'Subject: fault %s\nMessage-ID: <%s.%s.%s@sender.test>\n\nbody of %s\n' \
                        "$i" "$n" "$name" "$i" "$r"
                    yes 'a line of the body of a message of the fault matrix' |
                        head -c "$(cat "$RR_T/size.$i")"
                } | rr_sendmail -i -f sender@sender.test "$r"
            done
        done
    done
    rr_wait 90 all_settled || {
        rr_err "not every message was tried within 90s"
        return 1
    }
    # every bounce's DSN has reached the sender's sink
    rr_wait 60 dsns_arrived || rr_err "DSNs: $(rr_sink_count dsn) at the sink"
    postqueue -c "$(rr_pf_etc)" -j >"$RR_T/queue.json" 2>/dev/null || true
    out=$(printf '%-22s %-6s %-9s %-8s %-8s %-10s %-5s %-10s %s\n' fault hosts \
        delivered deferred bounced lost-reply lost duplicated expected)
    local fail=0 bounced_total=0
    for i in "${!FAULTS[@]}"; do
        read -r fault one three size <<<"${FAULTS[$i]}"
        [[ -n $size ]] && fault+=" (${size%000000} MB)"
        for name in one three; do
            declare -A c=([delivered]=0 [deferred]=0 [bounced]=0 [lostreply]=0 [lost]=0 [dup]=0)
            for n in 1 2 3; do
                r=$(classify "m$n@$name$i.test")
                case $r in
                duplicated*) c[dup]=$((c[dup] + 1)) ;;
                *) c[$r]=$((c[$r] + 1)) ;;
                esac
            done
            bounced_total=$((bounced_total + c[bounced]))
            local got="${c[delivered]}/${c[deferred]}/${c[bounced]}/${c[lostreply]}"
            local want=$one
            [[ $name == three ]] && want=$three
            out+=$(printf '\n%-22s %-6s %-9s %-8s %-8s %-10s %-5s %-10s %s' "$fault" "$name" \
                "${c[delivered]}" "${c[deferred]}" "${c[bounced]}" "${c[lostreply]}" \
                "${c[lost]}" "${c[dup]}" "$want")
            if ((c[lost] + c[dup] > 0)); then
                fail=1
                out+="  <- LOST OR DUPLICATED"
            elif [[ $want == '*' ]]; then
                # a lost reply: the first message is delivered and queued;
                # once the host is down, the others may wait in the queue
                if ((c[bounced] > 0 || c[delivered] > 0 || c[lostreply] < 1)); then
                    fail=1
                    out+="  <- WRONG"
                fi
            elif [[ $got != "$want" ]]; then
                fail=1
                out+="  <- WRONG"
            fi
            unset c
        done
    done
    echo "$out" | sed 's/^/# /' >&3
    rr_eq "DSNs at the sender's sink" "$bounced_total" "$(rr_sink_count dsn)"
    [[ $fail == 0 ]] || {
        echo "$out" >&2
        return 1
    }
}
