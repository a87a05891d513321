# shellcheck shell=bash disable=SC2119 # filter_lib's functions take optional arguments
# SPDX-License-Identifier: MIT
#
# bench/milter.bash - the milter section of bench/run
#
# Uses tests/integration/filter_lib.bash, the milter's own test harness: a
# network namespace whose lo carries 192.0.2.1, dnsmasq answering the test
# zone there (pass.test: "v=spf1 ip4:192.0.2.1 ... -all"), rrelay-milter,
# and a Postfix whose smtpd listens on 192.0.2.1:25, uses the milter and
# holds what it accepts. Clients connect from 192.0.2.1, so every message
# gets a real SPF evaluation (libspf2 passes loopback clients unchecked).
#
# The instance gets two more smtpds: on 192.0.2.1:2525 with smtpd_milters
# empty, and on :2526 with bench/tools/null_milter, a libmilter filter that
# takes rrelay-milter's protocol steps and does no work (the floor of any
# libmilter filter, as drain is the floor of a pipe transport). So the same
# Postfix runs with rrelay-milter (mode "on"), without a milter ("off") and
# with the floor ("null"), side by side.
# Each part runs in a cgroup of its own (lib.bash): CPU per message for the
# Postfix instance, the milter, dnsmasq, the clients and the null milter.
#   throughput  smtp-source, 10 sessions, one message per connection,
#               MILTER_N messages of 4 KB from joe@pass.test, to port 25
#               (on), 2525 (off) and 2526 (null), in rotating order, RUNS
#               each; msg/s until the last one is accepted (and held)
#   latency     bench/tools/smtp_timer: 3 x MILTER_LAT_N messages one after
#               the other per round, going round the three ports, so all
#               are sampled in the same moments of a noisy machine;
#               connect to the reply to the final dot, per message
# The latency the milter adds is p50(on) - p50(off), likewise p99.
#
# Appends to $RES: "milter status TEXT", "mthr MODE RUN RATE" and the CPU ms
# per message of "POSTFIX MILTER DNS CLIENT NULL-MILTER", "mlat FILE" (lines
# "PORT USEC"), "mperf PREFIX" (PREFIX.dso .sym .children).

BN_MILTER_ON=0

# bn_milter_skip REASON: stands in for bats' skip, which filter_lib.bash calls; records the reason, fails
bn_milter_skip() {
    BN_MILTER_WHY=$*
    return 1
}

# bn_milter_not MSG: record that the milter was not measured, and why
bn_milter_not() {
    printf 'milter\tstatus\t%s\n' "$*" >>"$RES"
    bn_log "milter: not measured: $*"
}

# bn_milter_usable: true if the milter, its test harness and the tools are there; else say why
bn_milter_usable() {
    local t
    : "${RRELAY_MILTER:=$RR_BUILD/rrelay-milter}"
    : "${FL_TOOLS:=$RR_TOOLS}"
    export RRELAY_MILTER FL_TOOLS
    if [[ ${SKIP_MILTER:-0} == 1 ]]; then
        BN_MILTER_WHY="SKIP_MILTER=1"
        return 1
    fi
    [[ -x $RRELAY_MILTER ]] || {
        BN_MILTER_WHY="rrelay-milter not available ($RRELAY_MILTER not built)"
        return 1
    }
    [[ -f $BN_REPO/tests/integration/filter_lib.bash ]] || {
        BN_MILTER_WHY="rrelay-milter not available (no tests/integration/filter_lib.bash to run it with)"
        return 1
    }
    [[ -x $FL_TOOLS/filter_dns_servfail ]] || {
        BN_MILTER_WHY="$FL_TOOLS/filter_dns_servfail not built (make tests)"
        return 1
    }
    for t in ip dnsmasq postcat; do
        command -v "$t" >/dev/null || {
            BN_MILTER_WHY="$t not found (scripts/install-deps)"
            return 1
        }
    done
}

# bn_milter_keep: copy the harness's pid list and namespace name into $BN_W, so
# that teardown stops them even if $FL_T is gone
bn_milter_keep() {
    local pid start
    touch "$BN_W/milter.pids"
    while read -r pid start; do
        [[ -n $pid && $start != - ]] || continue # gone before it was tracked
        grep -qx "$pid $start" "$BN_W/milter.pids" || echo "$pid $start" >>"$BN_W/milter.pids"
    done <"$FL_T/pids"
    echo "${FL_NS:-}" >"$BN_W/milter.ns"
}

# bn_milter_teardown: stop what the milter section started (called from the EXIT trap too)
bn_milter_teardown() {
    local pid start ns
    ((BN_MILTER_ON)) || return 0
    BN_MILTER_ON=0
    # shellcheck disable=SC2034 # read by fl_teardown: no log dump on success
    [[ ${BN_MILTER_FAILED:-0} == 1 ]] || BATS_TEST_COMPLETED=1
    if [[ -n ${FL_T:-} && -d $FL_T ]]; then
        bn_milter_keep
        bn_milter_pf_stop || true
        fl_teardown || true
    fi
    # whatever fl_teardown could not reach
    while read -r pid start; do
        [[ -n $pid ]] && rr_kill_pid "$pid" "$start"
    done < <(cat "$BN_W/milter.pids" 2>/dev/null || true)
    ns=$(cat "$BN_W/milter.ns" 2>/dev/null || true)
    if [[ -n $ns ]] && ip netns list 2>/dev/null | grep -qw "$ns"; then
        ip netns del "$ns" 2>/dev/null || true
        rm -rf "/etc/netns/$ns"
    fi
}

# bn_milter_pf_stop: stop the namespace's Postfix (postfix(1) must run inside the
# namespace: outside, it finds no interface for inet_interfaces and fails)
bn_milter_pf_stop() {
    local pidf=$FL_T/pf/queue/pid/master.pid pid
    [[ -s $pidf ]] || return 0
    pid=$(tr -d ' ' <"$pidf")
    proc_alive "$pid" || return 0
    fl_ns postfix -c "$FL_T/pf/etc" stop >/dev/null 2>&1 </dev/null 3>&- 4>&- || true
    fl_wait 10 proc_dead "$pid" 2>/dev/null || fl_kill "$pid"
}

# bn_milter_port MODE: the smtpd port with rrelay-milter (on), none (off) or null_milter (null)
bn_milter_port() {
    case $1 in
        on) echo 25 ;;
        off) echo 2525 ;;
        null) echo 2526 ;;
    esac
}

# bn_milter_null_start: start bench/tools/null_milter as the milter's user, next to its socket
bn_milter_null_start() {
    : >"$FL_T/null_milter.log"
    chown "$FL_USER" "$FL_T/null_milter.log"
    (
        bn_cg_enter nullm
        exec setpriv --reuid="$FL_USER" --regid="$FL_USER" --init-groups \
            "$BIN/null_milter" "unix:$FL_T/run/null.sock" "$FL_T/null_milter.log"
    ) </dev/null >"$FL_T/null_milter.out" 2>&1 &
    fl_track "$!"
    fl_wait 5 test -S "$FL_T/run/null.sock" || {
        fl_err "null_milter did not start: $(cat "$FL_T/null_milter.out")"
        return 1
    }
}

# bn_milter_null_count: messages null_milter has logged
bn_milter_null_count() {
    grep -c ': spf=none$' "$FL_T/null_milter.log" || true
}

# bn_milter_pf_start: the namespace's Postfix: smtpd on :25 with rrelay-milter, :2525
# without a milter, :2526 with null_milter
bn_milter_pf_start() {
    fl_postfix_start || return 1
    bn_milter_keep
    printf '%s\n' "$FL_V4:2525 inet n - n - - smtpd -o smtpd_milters=" \
        "$FL_V4:2526 inet n - n - - smtpd -o smtpd_milters=unix:$FL_T/run/null.sock" \
        >>"$FL_T/pf/etc/master.cf"
    fl_ns postfix -c "$FL_T/pf/etc" reload >/dev/null 2>&1 </dev/null 3>&- 4>&- || return 1
    fl_wait 10 bn_milter_listening 2525 && fl_wait 10 bn_milter_listening 2526
}

# bn_milter_listening PORT: something listens on 192.0.2.1:PORT in the namespace
bn_milter_listening() {
    [[ -n $(fl_ns ss -Hltn "src $FL_V4:$1" 2>/dev/null) ]]
}

# bn_milter_held: number of messages in the namespace Postfix's hold queue
bn_milter_held() {
    { find "$FL_T/pf/queue/hold" -type f 2>/dev/null || true; } | wc -l
}

# bn_milter_clear: delete every queued message of the namespace Postfix
bn_milter_clear() {
    fl_ns postsuper -c "$FL_T/pf/etc" -d ALL >/dev/null 2>&1 || bn_die "postsuper -d ALL failed for $FL_T/pf"
}

# bn_milter_cpu: print "mpf milter dns client nullm" CPU nanoseconds used so far (cgroups)
bn_milter_cpu() {
    echo "$(bn_cg_usage mpf) $(bn_cg_usage milter) $(bn_cg_usage dns) $(bn_cg_usage client)" \
        "$(bn_cg_usage nullm)"
}

# bn_milter_thr MODE RUN: one throughput run; appends "mthr MODE RUN RATE" and
# the CPU ms per message of "POSTFIX MILTER DNS CLIENT NULL-MILTER"
bn_milter_thr() {
    local mode=$1 run=$2 t0 el held spf0 null0 i
    local -a c0 c1
    bn_milter_clear
    spf0=$(fl_log_count 'spf=pass')
    null0=$(bn_milter_null_count)
    read -ra c0 <<<"$(bn_milter_cpu)"
    t0=$EPOCHREALTIME
    (
        bn_cg_enter client
        exec timeout 300 ip netns exec "$FL_NS" smtp-source -s 10 -m "$MILTER_N" -l 4096 \
            -M mx.pass.test -f joe@pass.test -t rcpt@example.org "$FL_V4:$(bn_milter_port "$mode")"
    ) >"$BN_W/milter-src.out" 2>&1 || {
        BN_MILTER_FAILED=1
        bn_die "milter ($mode): smtp-source failed: $(tail -n 3 "$BN_W/milter-src.out")"
    }
    el=$(bn_since "$t0")
    read -ra c1 <<<"$(bn_milter_cpu)"
    held=$(bn_milter_held)
    ((held == MILTER_N)) || {
        BN_MILTER_FAILED=1
        bn_die "milter ($mode): $held of $MILTER_N messages held"
    }
    if [[ $mode == on ]]; then
        # every message was checked by the milter: one spf=pass log line each
        rr_wait 10 bn_at_least "$((spf0 + MILTER_N))" fl_log_count 'spf=pass' 2>/dev/null || {
            BN_MILTER_FAILED=1
            bn_die "milter: $(($(fl_log_count 'spf=pass') - spf0)) of $MILTER_N messages logged spf=pass"
        }
    elif [[ $mode == null ]]; then
        rr_wait 10 bn_at_least "$((null0 + MILTER_N))" bn_milter_null_count 2>/dev/null || {
            BN_MILTER_FAILED=1
            bn_die "null_milter: $(($(bn_milter_null_count) - null0)) of $MILTER_N messages logged"
        }
    fi
    [[ $run == profile ]] && return 0
    {
        printf 'mthr\t%s\t%s\t%s' "$mode" "$run" "$(bn_calc "$MILTER_N / $el")"
        for i in 0 1 2 3 4; do
            printf '\t%s' "$(bn_calc "(${c1[i]} - ${c0[i]}) / 1e6 / $MILTER_N" '%.3f')"
        done
        printf '\n'
    } >>"$RES"
    bn_log "  milter $mode run $run: $MILTER_N in ${el}s = $(bn_sig "$(bn_calc "$MILTER_N / $el")") msg/s"
}

# bn_milter_lat RUN: one latency run, going round the three ports; appends "mlat FILE"
bn_milter_lat() {
    local out=$BN_W/milter-lat-$1
    bn_milter_clear
    (
        bn_cg_enter client
        exec timeout 600 ip netns exec "$FL_NS" "$BIN/smtp_timer" "$FL_V4" \
            "$(bn_milter_port on),$(bn_milter_port off),$(bn_milter_port null)" "$((3 * MILTER_LAT_N))" \
            mx.pass.test joe@pass.test rcpt@example.org 4096 "$out"
    ) 2>"$out.err" || {
        BN_MILTER_FAILED=1
        bn_die "milter: smtp_timer failed: $(cat "$out.err")"
    }
    printf 'mlat\t%s\n' "$out" >>"$RES"
}

# bn_milter_lat_ms MODE: every timed latency of MODE (on/off/null), in ms, one a line
bn_milter_lat_ms() {
    local port f
    port=$(bn_milter_port "$1")
    # shellcheck disable=SC2013 # one file name a line, no spaces in $BN_W
    for f in $(awk -F'\t' '$1 == "mlat" { print $2 }' "$RES"); do
        awk -v p="$port" '$1 == p { print $2 / 1000 }' "$f"
    done
}

# bn_milter_missed: true if a milter target was missed in the runs so far
bn_milter_missed() {
    local on off p_on p_off
    on=$(awk -F'\t' '$1 == "mthr" && $2 == "on" { print $4 }' "$RES" | bn_stats | cut -d' ' -f1)
    off=$(awk -F'\t' '$1 == "mthr" && $2 == "off" { print $4 }' "$RES" | bn_stats | cut -d' ' -f1)
    p_on=$(bn_milter_lat_ms on | bn_pct 99)
    p_off=$(bn_milter_lat_ms off | bn_pct 99)
    awk -v a="$on" -v b="$off" -v p="$p_on" -v q="$p_off" \
        'BEGIN { exit !(a < 0.85 * b || p - q > 5) }'
}

# bn_milter_profile: perf on the milter process alone during one more run with it
bn_milter_profile() {
    local data=$BN_W/milter-perf.data pp
    command -v perf >/dev/null || return 0
    perf record -q -g -F 1999 -p "$(fl_milter_pid)" -o "$data" </dev/null >"$data.out" 2>&1 &
    pp=$!
    rr_track_pid "$pp"
    sleep 0.5
    bn_milter_thr on profile
    kill -INT "$pp" 2>/dev/null || true
    rr_wait 30 proc_dead "$pp" 2>/dev/null || rr_kill_pid "$pp"
    wait "$pp" 2>/dev/null || true
    perf report -i "$data" --no-children --sort dso --stdio -g none 2>/dev/null |
        awk '$1 ~ /%$/' | head -n 8 >"$BN_W/milter-perf.dso" || true
    perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
        awk '$1 ~ /%$/' | head -n 15 >"$BN_W/milter-perf.sym" || true
    perf report -i "$data" --children --sort sym --stdio -g none 2>/dev/null |
        awk '$1 ~ /%$/ && $2 ~ /%$/' | head -n 40 >"$BN_W/milter-perf.children" || true
    [[ -s $BN_W/milter-perf.dso ]] && printf 'mperf\t%s\n' "$BN_W/milter-perf" >>"$RES"
    rm -f "$data"
}

# bn_milter_section: run the milter measurements, or record why not
bn_milter_section() {
    local r i marked nulled qid
    local -a modes
    BN_MILTER_WHY=
    if ! bn_milter_usable; then
        bn_milter_not "$BN_MILTER_WHY"
        return 0
    fi
    # shellcheck source-path=SCRIPTDIR source=../tests/integration/filter_lib.bash
    . "$BN_REPO/tests/integration/filter_lib.bash"
    # filter_lib.bash calls skip when something is missing; outside bats
    # that is ours (only for this section: lib.bash's rr_skip looks for it).
    # shellcheck disable=SC2317 # called by filter_lib.bash
    skip() { bn_milter_skip "$@"; }
    bn_log "milter: $MILTER_N messages per throughput run, $MILTER_LAT_N timed one by one"
    BN_MILTER_ON=1
    if ! fl_setup; then
        unset -f skip
        bn_milter_teardown
        bn_milter_not "rrelay-milter not available: its harness could not start${BN_MILTER_WHY:+ ($BN_MILTER_WHY)}"
        return 0
    fi
    bn_milter_keep
    # Each part in a cgroup of its own, for CPU per message.
    if ! (bn_cg_enter dns && fl_dns_start) || ! fl_milter_conf ||
        ! (bn_cg_enter milter && fl_milter_start) || ! bn_milter_null_start ||
        ! (bn_cg_enter mpf && bn_milter_pf_start) || ! bn_milter_keep; then
        BN_MILTER_FAILED=1
        unset -f skip
        bn_milter_teardown
        bn_milter_not "rrelay-milter not available: it did not start (see the log above)"
        return 0
    fi
    # Warm up: DNS cache, milter threads, smtpd processes. Then check that
    # the milter really marks the mail.
    timeout 60 ip netns exec "$FL_NS" "$BIN/smtp_timer" "$FL_V4" 25,2525,2526 30 \
        mx.pass.test joe@pass.test rcpt@example.org 4096 "$BN_W/milter-warm" 2>"$BN_W/milter-warm.err" || {
        BN_MILTER_FAILED=1
        bn_die "milter warm-up failed: $(cat "$BN_W/milter-warm.err")"
    }
    # A third went through each port: those of port 25 have Received-SPF:
    # pass, those of port 2526 null_milter's field, the others neither.
    marked=0
    nulled=0
    for qid in $({ find "$FL_T/pf/queue/hold" -type f -printf '%f\n' || true; }); do
        case $(fl_held_headers "$qid" | grep '^Received-SPF: ') in
            'Received-SPF: pass'*) marked=$((marked + 1)) ;;
            'Received-SPF: none (null_milter'*) nulled=$((nulled + 1)) ;;
        esac
    done
    ((marked == 10 && nulled == 10)) || {
        BN_MILTER_FAILED=1
        bn_die "milter: of the 30 warm-up messages, $marked have Received-SPF: pass and" \
            "$nulled null_milter's field (expected 10 and 10: ports 25 and 2526)"
    }
    modes=(on off null)
    for ((r = 1; r <= RUNS; r++)); do
        for ((i = 0; i < 3; i++)); do
            bn_milter_thr "${modes[(r - 1 + i) % 3]}" "$r"
        done
        bn_milter_lat "$r"
    done
    if bn_milter_missed; then
        if [[ ${QUICK:-0} == 1 ]]; then
            bn_log "milter: a target was missed; QUICK=1 takes no profile"
        else
            bn_log "milter: a target was missed: perf on the milter during one more run"
            bn_milter_profile
        fi
    fi
    bn_milter_clear
    printf 'milter\tstatus\tok\n' >>"$RES"
    bn_milter_teardown
    unset -f skip
}
