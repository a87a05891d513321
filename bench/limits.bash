# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/limits.bash - workload 6 of bench/run: upstreams with limits (issue 18)
#
# Three upstreams with rate=20/s, rate=20/s and rate=10/s in a
# host_policy_file: a configured capacity of 50 messages a second. W6_N
# held 4 KB messages are released at once, as in the other workloads.
# The upstreams are tests/tools/fault_server.c with no fault scripted: it
# appends the time of every MAIL FROM, to the microsecond, to
# DIR/mail_times, which gives each host's rate in any 1-second window
# (smtp-sink's dumps have no such time).
#
#   (a) rrelay with that host_policy_file and rate_wait=W6_RATE_WAIT
#       (120 s): with the whole queue released at once, a message may wait
#       for a slot longer than the default 10 s, and would then be
#       deferred; throughput_run stops the bench on any deferral.
#   (b) smtp(8) with smtp_destination_rate_delay = W6_B_DELAY (1s): one
#       delivery at a time to the relayhost list, which keeps every host
#       within the smallest limit, since Postfix cannot tell which host of
#       the list takes the next message. 1/10 s would do that, but
#       Postfix's time values are whole seconds (3.7 takes "100ms" without
#       a word and delivered one message in 15 s with it), so 1 s is the
#       smallest. It takes N s, so a run of (b) stops at W6_CAP_B (60 s)
#       and its rate is what it delivered by then over that time.
#
# Postfix must not be what limits (a): rrelay_destination_concurrency_limit
# is W6_CONCURRENCY (20, Postfix's default, set explicitly), in_flow_delay 0.
#
# Appends to $RES: the "thr" lines of throughput_run for workload 6; per
# run and host "lim CFG RUN HOST LIMIT MESSAGES MOST-IN-1S"; per run
# "limall CFG RUN MESSAGES FIRST LAST" (the first and last MAIL FROM over
# all hosts, for the steady rate).

BN_LIM_RATES=(20 20 10) # per second, the three upstreams in list order

# bn_lim_up_start: the three fault servers, the rate policy file; sets BN_LIM_HOSTS
bn_lim_up_start() {
    local i ports=()
    : >"$BN_W/limits.policy"
    for i in 1 2 3; do
        bn_fault_start "l$i" || bn_die "cannot start upstream l$i"
        ports+=("$(rr_fault_port "l$i")")
        printf '[%s]:%s rate=%s/s\n' "$RR_HOST" "${ports[i - 1]}" "${BN_LIM_RATES[i - 1]}" \
            >>"$BN_W/limits.policy"
    done
    chmod 0644 "$BN_W/limits.policy"
    BN_LIM_HOSTS=$(rr_relayhost "${ports[@]}")
}

# bn_lim_pf_init: the relaying instance for workload 6: rrelay with the limits, smtp(8) with its rate delay
bn_lim_pf_init() {
    pf_init "$BN_LIM_HOSTS" "host_policy_file=$BN_W/limits.policy" "rate_wait=$W6_RATE_WAIT"
    rr_postconf in_flow_delay=0 "rrelay_destination_concurrency_limit = $W6_CONCURRENCY" \
        "smtp_destination_rate_delay = $W6_B_DELAY" ||
        bn_die "postconf failed for workload 6"
}

# bn_lim_reset: empty the upstreams' MAIL FROM times and message files before a run
bn_lim_reset() {
    local i d
    for i in 1 2 3; do
        d=$RR_T/faults/l$i
        : >"$d/mail_times"
        find "$d" -maxdepth 1 -name 'msg.*' -delete
    done
}

# bn_lim_most_1s FILE: the most times of FILE (seconds, one a line) in any window of 1 second
bn_lim_most_1s() {
    sort -g "$1" | awk '{ t[NR] = $1 }
        END { j = 1; for (i = 1; i <= NR; i++) { while (t[i] - t[j] >= 1) j++; if (i - j + 1 > m) m = i - j + 1 }
              print m + 0 }'
}

# bn_lim_record CFG RUN: the per-host and overall lines of one run, from the upstreams' MAIL FROM times
bn_lim_record() {
    local cfg=$1 run=$2 i f n most
    for i in 1 2 3; do
        f=$BN_W/mail_times-$cfg-$run-l$i # kept with the run's other files
        cp "$RR_T/faults/l$i/mail_times" "$f"
        n=$(wc -l <"$f")
        most=$(bn_lim_most_1s "$f")
        printf 'lim\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$run" "$i" "${BN_LIM_RATES[i - 1]}" "$n" "$most" >>"$RES"
        bn_log "    host $i (rate=${BN_LIM_RATES[i - 1]}/s): $n messages, at most $most in one second"
    done
    sort -g "$BN_W/mail_times-$cfg-$run"-l[123] | awk -v cfg="$cfg" -v run="$run" '
        NR == 1 { first = $1 } { last = $1 }
        END { printf "limall\t%s\t%s\t%d\t%s\t%s\n", cfg, run, NR, first, last }' >>"$RES"
}

# bn_lim_section: workload 6, RUNS rounds of (a) and (b), the order alternating
bn_lim_section() {
    local r cfg order cap
    bn_log "relay throughput: workload 6, $W6_N x 4 KB to 3 upstreams with rate=20/s, 20/s, 10/s"
    bn_lim_up_start
    bn_lim_pf_init
    for ((r = 1; r <= RUNS; r++)); do
        if ((r % 2)); then order=(a b); else order=(b a); fi
        for cfg in "${order[@]}"; do
            if [[ $cfg == b ]]; then cap=$W6_CAP_B; else cap=600; fi
            bn_lim_reset
            throughput_run 6 "$cfg" "$r" "$W6_N" 4096 1 "$cap"
            bn_lim_record "$cfg" "$r"
        done
    done
    bn_pf_stop
}

# ---------------------------------------------------------------------------
# Report (reads $RES through report.bash's helpers)

# lim_rate CFG: median msg/s of CFG's runs, delivered over elapsed (a capped run counts what it delivered)
lim_rate() {
    rows thr 2=6 3="$1" | awk -F'\t' '$6 > 0 { print $7 / $6 }' | bn_stats | awk '{ print (($4 == 0) ? "-" : $1) }'
}

# lim_rate_cell CFG: "median [min-max]" of lim_rate's values
lim_rate_cell() {
    local med min max n
    read -r med min max n <<<"$(rows thr 2=6 3="$1" | awk -F'\t' '$6 > 0 { print $7 / $6 }' | bn_stats)"
    if ((n == 0)); then echo "-"; elif ((n == 1)); then bn_sig "$med"; else
        echo "$(bn_sig "$med") [$(bn_sig "$min")-$(bn_sig "$max")]"
    fi
}

# lim_steady CFG: median rate between the first and the last MAIL FROM over all hosts
lim_steady() {
    rows limall 2="$1" | awk -F'\t' '$4 > 1 && $6 > $5 { print ($4 - 1) / ($6 - $5) }' | bn_stats |
        awk '{ print (($4 == 0) ? "-" : $1) }'
}

# lim_capacity: the configured capacity, msg/s
lim_capacity() {
    local r s=0
    for r in "${BN_LIM_RATES[@]}"; do s=$((s + r)); done
    echo "$s"
}

# lim_most CFG HOST: the most MAIL FROMs at host HOST in any 1-second window, over all runs of CFG
lim_most() {
    rows lim 2="$1" 4="$2" | cut -f7 | sort -n | tail -n 1
}

# lim_msgs CFG HOST: median messages host HOST took per run of CFG
lim_msgs() {
    rows lim 2="$1" 4="$2" | cut -f6 | bn_stats | awk '{ print $1 }'
}

# lim_over CFG: the hosts of CFG's runs that passed their limit in some 1-second window ("" if none)
lim_over() {
    rows lim 2="$1" | awk -F'\t' '$7 > $5 { printf "%shost %s: %s in 1 s (rate=%s/s, run %s)", s, $4, $7, $5, $3; s = "; " }'
}

# bn_lim_table: workload 6's configurations side by side
bn_lim_table() {
    local cfg label cap
    cap=$(lim_capacity)
    if [[ -z $(rows thr 2=6) ]]; then
        echo "not run"
        return 0
    fi
    echo "| configuration | msg/s (queue drained) | of the capacity ($cap/s) | msg/s first to last MAIL FROM | most MAIL FROMs in 1 s: host 1 / 2 / 3 (limits 20 / 20 / 10) | messages per host per run (median) | CPU ms/msg: all (Postfix side) |"
    echo "|---|---|---|---|---|---|---|"
    for cfg in a b; do
        case $cfg in
            a) label="(a) rrelay, host_policy_file with the rates, rate_wait=$W6_RATE_WAIT" ;;
            b) label="(b) smtp(8), smtp_destination_rate_delay = $W6_B_DELAY, stopped after ${W6_CAP_B} s" ;;
        esac
        echo "| $label | $(lim_rate_cell "$cfg") | $(ratio "$(lim_rate "$cfg")" "$cap") | $(bn_sig "$(lim_steady "$cfg")") | $(lim_most "$cfg" 1) / $(lim_most "$cfg" 2) / $(lim_most "$cfg" 3) | $(lim_msgs "$cfg" 1) / $(lim_msgs "$cfg" 2) / $(lim_msgs "$cfg" 3) | $(bn_sig "$(cpu_msg 6 "$cfg")") ($(bn_sig "$(cpu_msg_pf 6 "$cfg")")) |"
    done
    echo
    echo "a/b = $(ratio "$(lim_rate a)" "$(lim_rate b)") (msg/s, queue drained; for (b), what it delivered by the cap over the time)."
}

# bn_lim_targets: issue 18's rows of the targets table
bn_lim_targets() {
    local drain over
    drain=$(ratio "$(lim_rate a)" "$(lim_capacity)")
    over=$(lim_over a)
    echo "| workload 6: (a) drains at >= 0.95 of the configured capacity ($(lim_capacity)/s) | $drain ($(bn_sig "$(lim_rate a)") msg/s; first to last MAIL FROM: $(bn_sig "$(lim_steady a)")) | $(verdict "$drain" ">=" 0.95) |"
    if [[ -z $(rows lim 2=a) ]]; then
        echo "| workload 6: (a) no host above its rate in any 1-second window | not measured | not measured |"
    else
        echo "| workload 6: (a) no host above its rate in any 1-second window | ${over:-none (most: $(lim_most a 1) / $(lim_most a 2) / $(lim_most a 3) against 20 / 20 / 10)} | $(if [[ -z $over ]]; then echo met; else echo "**missed**"; fi) |"
    fi
    echo "| workload 6: a/b, reported | $(ratio "$(lim_rate a)" "$(lim_rate b)") | reported |"
}

# lim_edges CFG: median seconds of a run of CFG outside its MAIL FROMs: before the first, after the last
lim_edges() {
    paste <(rows thr 2=6 3="$1" | cut -f6) <(rows limall 2="$1" | cut -f5,6) |
        awk -F'\t' '$3 > $2 { print $1 - ($3 - $2) }' | bn_stats | awk '{ print (($4 == 0) ? "-" : $1) }'
}

# bn_lim_where: workload 6: where (a)'s time went
bn_lim_where() {
    echo "### Workload 6: upstreams with limits"
    echo
    if [[ -z $(rows thr 2=6 3=a) ]]; then
        echo "Not run."
        return 0
    fi
    echo "(a) drained the queue at $(bn_sig "$(lim_rate a)") msg/s, $(ratio "$(lim_rate a)" "$(lim_capacity)") of the configured $(lim_capacity)/s."
    echo "Between the first and the last MAIL FROM it ran at $(bn_sig "$(lim_steady a)") msg/s; the rest of"
    echo "a run, $(bn_sig "$(lim_edges a)") s (median), went before the first MAIL FROM (postqueue -f, qmgr,"
    echo "pipe(8) starting rrelay) and after the last (the rest of that session, the queue"
    echo "file's removal, the 50 ms poll). rrelay's rate limit is GCRA with no burst"
    echo "(transport/state/sched.c): a slot that no process claims when it comes is lost,"
    echo "so the steady rate is the capacity less the slots missed."
}
