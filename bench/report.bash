# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/report.bash - turn bench/run's $RES into the tables and results file
#
# bn_report prints the whole results file (markdown); bn_report_console
# prints its tables for the terminal. Both read only $RES and the files it
# names, plus the variables bench/run set (QUICK, RUNS, W*_N, ...).

NCPU=$(nproc)

# rows KIND [FIELD=VALUE...]: the $RES lines of KIND whose fields match (2 = field 2, ...)
rows() {
    local kind=$1
    shift
    awk -F'\t' -v kind="$kind" -v conds="$*" '
        BEGIN { n = split(conds, c, " ") }
        $1 != kind { next }
        { for (i = 1; i <= n; i++) { split(c[i], kv, "="); if ($(kv[1]) != kv[2]) next } print }' "$RES"
}

# thr_stat W CFG: "median min max n capped" of the msg/s of one configuration's runs
thr_stat() {
    local capped
    capped=$(rows thr 2="$1" 3="$2" 9=capped | wc -l)
    echo "$(rows thr 2="$1" 3="$2" | cut -f5 | bn_stats) $capped"
}

# thr_cell W CFG: "median [min-max]" msg/s for a table, "< x" when the runs hit their cap
thr_cell() {
    local med min max n capped
    read -r med min max n capped <<<"$(thr_stat "$1" "$2")"
    if ((n == 0)); then
        echo "-"
    elif ((capped > 0)); then
        echo "< $(bn_sig "$max") (stopped at the cap after $(rows thr 2="$1" 3="$2" 9=capped | cut -f6 | bn_stats |
            awk '{ printf "%.0f", $1 }') s, delivered $(rows thr 2="$1" 3="$2" 9=capped | cut -f7 | paste -sd/ -) of $(num "$(rows thr 2="$1" 3="$2" | cut -f8 | head -n 1)"))"
    elif ((n == 1)); then
        bn_sig "$med"
    else
        echo "$(bn_sig "$med") [$(bn_sig "$min")-$(bn_sig "$max")]"
    fi
}

# thr_med W CFG: the median msg/s (or "-")
thr_med() {
    local med rest
    read -r med rest <<<"$(thr_stat "$1" "$2")"
    echo "$med"
}

# thr_capped W CFG: number of runs that stopped at the cap
thr_capped() {
    rows thr 2="$1" 3="$2" 9=capped | wc -l
}

# ratio X Y: X/Y with 2 decimals, or "-"
ratio() {
    [[ $1 != - && $2 != - ]] || {
        echo "-"
        return 0
    }
    awk -v x="$1" -v y="$2" 'BEGIN { if (y == 0) print "-"; else printf "%.2f\n", x / y }'
}

# ratio_cell W X Y: the ratio of the medians; "> r" when Y's runs hit their cap
ratio_cell() {
    local r
    r=$(ratio "$(thr_med "$1" "$2")" "$(thr_med "$1" "$3")")
    if [[ $r != - ]] && (($(thr_capped "$1" "$3") > 0)); then
        echo "> $r"
    elif [[ $r != - ]] && (($(thr_capped "$1" "$2") > 0)); then
        echo "< $r"
    else
        echo "$r"
    fi
}

# cpu_msg W CFG: median CPU ms per delivered message (Postfix + transport + upstreams), or "-"
cpu_msg() {
    [[ -n $BN_CG ]] || {
        echo "-"
        return 0
    }
    rows thr 2="$1" 3="$2" 9=ok | awk -F'\t' '$7 > 0 { print ($11 + $12) / $7 / 1e6 }' | bn_stats |
        awk '{ print (($4 == 0) ? "-" : $1) }'
}

# cpu_msg_pf W CFG: the same, the Postfix side only (smtpd aside: qmgr, pipe/smtp, the transport)
cpu_msg_pf() {
    [[ -n $BN_CG ]] || {
        echo "-"
        return 0
    }
    rows thr 2="$1" 3="$2" 9=ok | awk -F'\t' '$7 > 0 { print $11 / $7 / 1e6 }' | bn_stats |
        awk '{ print (($4 == 0) ? "-" : $1) }'
}

# others_pct: median share of the machine's CPU that other processes used during the relay runs
others_pct() {
    [[ -n $BN_CG ]] || {
        echo "-"
        return 0
    }
    rows thr | awk -F'\t' -v n="$NCPU" '$6 > 0 {
        o = $10 - $11 - $12 - $13; if (o < 0) o = 0
        print 100 * o / 1e9 / $6 / n }' | bn_stats | awk '{ printf "%.0f\n", $1 }'
}

# cost_field NAME COL: a field of the "cost" row of NAME (3 cpu, 4 wall mean, 5 p50, 6 p99)
cost_field() {
    rows cost 2="$1" | cut -f"$2"
}

# rss_kib M: peak RSS in KiB of the direct run with message M (m4k, m1m, m100m)
rss_kib() {
    rows rss 2="$1" | cut -f4
}

# milter_status: "ok" or the reason it was not measured
milter_status() {
    rows milter 2=status | cut -f3 | tail -n 1
}

# milter_thr MODE: median msg/s with rrelay-milter (on), without a milter (off), with null_milter (null)
milter_thr() {
    rows mthr 2="$1" | cut -f4 | bn_stats | awk '{ print $1 }'
}

# milter_thr_cell MODE: "median [min-max]"
milter_thr_cell() {
    local med min max n
    read -r med min max n <<<"$(rows mthr 2="$1" | cut -f4 | bn_stats)"
    if ((n > 1)); then echo "$(bn_sig "$med") [$(bn_sig "$min")-$(bn_sig "$max")]"; else bn_sig "$med"; fi
}

# milter_lat MODE P: the P-th percentile latency in ms over every timed message of MODE
milter_lat() {
    bn_milter_lat_ms "$1" | bn_pct "$2"
}

# verdict X OP LIMIT: "met" or "**missed**" for X OP LIMIT (OP: >= or <=); "not measured" if X is no number
verdict() {
    if [[ ! $1 =~ ^[-+]?[0-9]+(\.[0-9]+)?$ ]]; then
        echo "not measured"
    elif awk -v x="$1" -v y="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? x >= y : x <= y) }'; then
        echo "met"
    else
        echo "**missed**"
    fi
}

# stripop X: a cell like "> 2.10" or "< 0.5" as a plain number
stripop() {
    local x=${1#> }
    echo "${x#< }"
}

# num N: N with thousands separators
num() {
    sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"
}

# bn_targets_table: the targets beside the measured values
bn_targets_table() {
    local w1ac w1ab keep cpu rss_max mthr mlat99 m_on m_off p99_on p99_off
    w1ac=$(ratio_cell 1 a c)
    w1ab=$(ratio_cell 1 a b)
    keep=$(ratio "$(thr_med 4 a)" "$(thr_med 1 a)")
    (($(thr_capped 4 a) > 0)) && keep="< $keep"
    if wanted cost; then
        cpu=$(bn_calc "$(cost_field rrelay 3)" '%.2f')
        rss_max=$(for m in m4k m1m m100m; do rss_kib "$m"; done | sort -n | tail -n 1)
    fi
    echo "| target | measured | |"
    echo "|---|---|---|"
    echo "| workload 1: a/c >= 0.9 (rrelay vs the pipe(8) floor) | $w1ac$(floor_note_ac) | $(verdict "$(stripop "$w1ac")" ">=" 0.9) |"
    echo "| workload 1: a/b >= 0.75 (rrelay vs smtp(8)) | $w1ab | $(verdict "$(stripop "$w1ab")" ">=" 0.75) |"
    echo "| workload 4: (a) keeps >= 0.8 of its all-hosts-up rate (W4 a / W1 a) | $keep | $(verdict "$(stripop "$keep")" ">=" 0.8) |"
    bn_cache_targets
    bn_thin_targets
    bn_tls_targets
    echo "| workload 1 with a host_policy_file of weights only: aw/a >= 0.97 | $(ratio_cell 1 aw a) | $(verdict "$(stripop "$(ratio_cell 1 aw a)")" ">=" 0.97) |"
    bn_lim_targets
    if wanted cost; then
        echo "| rrelay CPU <= 1 ms per 4 KB message (user+sys, direct runs) | ${cpu:--} ms$(floor_note_cpu) | $(verdict "${cpu:--}" "<=" 1) |"
        echo "| peak RSS <= 16 MiB at any message size (4 KB, 1 MB, 100 MB) | $(bn_calc "${rss_max:-0} / 1024" '%.1f') MiB | $(verdict "${rss_max:--}" "<=" 16384) |"
    else
        echo "| rrelay CPU <= 1 ms per 4 KB message (user+sys, direct runs) | not run | not measured |"
        echo "| peak RSS <= 16 MiB at any message size (4 KB, 1 MB, 100 MB) | not run | not measured |"
    fi
    if [[ $(milter_status) == ok ]]; then
        m_on=$(milter_thr on)
        m_off=$(milter_thr off)
        mthr=$(ratio "$m_on" "$m_off")
        p99_on=$(milter_lat on 99)
        p99_off=$(milter_lat off 99)
        mlat99=$(bn_calc "$p99_on - $p99_off" '%+.2f')
        echo "| milter: throughput >= 0.85 of the run without it | $mthr$(milter_floor_note thr) | $(verdict "$mthr" ">=" 0.85) |"
        echo "| milter: p99 added latency <= 5 ms (warm DNS cache) | $mlat99 ms$(milter_floor_note lat) | $(verdict "$mlat99" "<=" 5) |"
    else
        echo "| milter: throughput >= 0.85 of the run without it | not measured: $(milter_status) | not measured |"
        echo "| milter: p99 added latency <= 5 ms (warm DNS cache) | not measured | not measured |"
    fi
}

# up_msg W CFG: median CPU ms per message of the upstream smtp-sinks, or "-"
up_msg() {
    local all pf
    all=$(cpu_msg "$1" "$2")
    pf=$(cpu_msg_pf "$1" "$2")
    [[ $all != - && $pf != - && -n $all && -n $pf ]] || {
        echo "-"
        return 0
    }
    bn_calc "$all - $pf" '%.3f'
}

# bn_cache_targets: the rows of issue 13's targets for (a2), rrelay with rrelay-cache
bn_cache_targets() {
    local a2c a2b upr w slower=""
    a2c=$(ratio_cell 1 a2 c)
    a2b=$(ratio_cell 1 a2 b)
    upr=$(ratio "$(up_msg 1 a2)" "$(up_msg 1 b)")
    for w in 1 2 3 4 5; do
        [[ $(ratio_cell "$w" a2 a) == - ]] && continue
        verdict "$(stripop "$(ratio_cell "$w" a2 a)")" ">=" 1 | grep -q met ||
            slower+="${slower:+, }$w ($(ratio_cell "$w" a2 a))"
    done
    echo "| workload 1 with the cache: a2/c >= 0.8 | $a2c | $(verdict "$(stripop "$a2c")" ">=" 0.8) |"
    echo "| workload 1 with the cache: a2/b >= 0.6 | $a2b | $(verdict "$(stripop "$a2b")" ">=" 0.6) |"
    echo "| workload 1: upstream CPU per message with the cache within 1.3x of smtp(8)'s | $upr ($(up_msg 1 a2) ms against $(up_msg 1 b) ms) | $(verdict "$upr" "<=" 1.3) |"
    echo "| no workload slower with the cache (a2/a >= 1) | ${slower:-none slower} | $(if [[ -z $slower ]]; then echo met; else echo "**missed**"; fi) |"
}

# mem_mib COL [W-ERE]: the largest daemon memory over the (a3) runs of workloads matching W-ERE
# (default: all), in MiB (COL 4 RSS, 5 PSS), or "-"
mem_mib() {
    local kib
    kib=$(rows mem | awk -F'\t' -v w="${2:-.}" '$2 ~ w' | cut -f"$1" | sort -n | tail -n 1)
    [[ -n $kib ]] || {
        echo "-"
        return 0
    }
    bn_calc "$kib / 1024" '%.1f'
}

# bn_thin_targets: the rows of issue 21's targets for (a3), rrelay as a thin client of the workers
bn_thin_targets() {
    local a3c a3b5 w slower="" procs
    a3c=$(ratio_cell 1 a3 c)
    a3b5=$(ratio_cell 5 a3 b)
    for w in 1 2 3 4 5; do
        [[ $(ratio_cell "$w" a3 a) == - ]] && continue
        verdict "$(stripop "$(ratio_cell "$w" a3 a)")" ">=" 1 | grep -q met ||
            slower+="${slower:+, }$w ($(ratio_cell "$w" a3 a))"
    done
    procs=$(rows mem | awk -F'\t' '$2 != 5' | cut -f6 | sort -n | tail -n 1)
    echo "| workload 1, thin client: a3/c >= 0.85 | $a3c | $(verdict "$(stripop "$a3c")" ">=" 0.85) |"
    echo "| workload 1: a/c >= 0.7 | $(ratio_cell 1 a c) | $(verdict "$(stripop "$(ratio_cell 1 a c)")" ">=" 0.7) |"
    echo "| workload 5 (TLS), thin client: a3/b >= 0.7 | $a3b5 | $(verdict "$(stripop "$a3b5")" ">=" 0.7) |"
    echo "| the daemon's resident memory with its workers <= 32 MiB (proportional share, PSS, workloads 1 to 3: the daemon and its 20 workers; RSS summed over its ${procs:-} processes: $(mem_mib 4 '^[1-3]$') MiB. With TLS, workload 5, its TLS ends as well: $(mem_mib 5 '^5$') MiB) | $(mem_mib 5 '^[1-3]$') MiB | $(verdict "$(mem_mib 5 '^[1-3]$')" "<=" 32) |"
    echo "| no workload slower with the thin client (a3/a >= 1) | ${slower:-none slower} | $(if [[ -z $slower ]]; then echo met; else echo "**missed**"; fi) |"
}

# floor_note_ac: " (0.9 leaves X ms ...; the upstream smtp-sinks alone use Y ms)", from the cgroups
floor_note_ac() {
    local a_all a_pf c_all
    [[ -n $BN_CG ]] || return 0
    a_all=$(cpu_msg 1 a)
    a_pf=$(cpu_msg_pf 1 a)
    c_all=$(cpu_msg 1 c)
    [[ $a_all != - && $c_all != - ]] || return 0
    echo " (0.9 leaves rrelay $(bn_calc "$c_all / 0.9 - $c_all" '%.2f') ms of CPU per message more than the floor's $(bn_sig "$c_all"), for its SMTP session and the upstream: the upstream smtp-sinks alone use $(bn_calc "$a_all - $a_pf" '%.2f') ms)"
}

# floor_note_cpu: " (drain, a process that only reads the message: X ms)"
floor_note_cpu() {
    local d
    d=$(cost_field drain 3)
    [[ -n $d ]] || return 0
    echo " (drain, a process that only reads the message, linked like rrelay: $(bn_calc "$d" '%.2f') ms)"
}

# milter_floor_note thr|lat: " (null_milter, the floor of a libmilter filter: X)", if it was measured
milter_floor_note() {
    local x
    [[ -n $(rows mthr 2=null) ]] || return 0
    if [[ $1 == thr ]]; then
        x=$(ratio "$(milter_thr null)" "$(milter_thr off)")
    else
        x="$(bn_calc "$(milter_lat null 99) - $(milter_lat off 99)" '%+.2f') ms"
    fi
    echo " (null_milter, a libmilter filter that does nothing: $x)"
}

# bn_throughput_table: workloads x configurations
bn_throughput_table() {
    local w desc
    echo "| workload | (a) rrelay | (a2) rrelay with rrelay-cache | (a3) rrelay, thin client | (b) smtp(8) | (c) pipe floor | a/b | a/c | a2/c | a3/a | a3/b | a3/c |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for w in 1 2 3 4; do
        case $w in
            1) desc="1: $(num "$W1_N") x 4 KB, 1 recipient" ;;
            2) desc="2: $(num "$W2_N") x 100 KB" ;;
            3) desc="3: $(num "$W3_N") x 4 KB, 10 recipients" ;;
            4) desc="4: $(num "$W4_N") x 4 KB, first of the 3 hosts silent" ;;
        esac
        if [[ $w == 4 ]]; then
            echo "| $desc | $(thr_cell 4 a) | $(thr_cell 4 a2) | $(thr_cell 4 a3) | $(thr_cell 4 b) | not run | $(ratio_cell 4 a b) | - | - | $(ratio_cell 4 a3 a) | $(ratio_cell 4 a3 b) | - |"
        else
            echo "| $desc | $(thr_cell "$w" a) | $(thr_cell "$w" a2) | $(thr_cell "$w" a3) | $(thr_cell "$w" b) | $(thr_cell "$w" c) | $(ratio_cell "$w" a b) | $(ratio_cell "$w" a c) | $(ratio_cell "$w" a2 c) | $(ratio_cell "$w" a3 a) | $(ratio_cell "$w" a3 b) | $(ratio_cell "$w" a3 c) |"
        fi
    done
}

# bn_weights_line: workload 1 with a host_policy_file of weights only, against (a)
bn_weights_line() {
    echo "Workload 1 with a host_policy_file of weights only, 3:2:1 on the three sinks (aw): $(thr_cell 1 aw) msg/s, CPU $(bn_sig "$(cpu_msg 1 aw)") ($(bn_sig "$(cpu_msg_pf 1 aw)")) ms/msg; aw/a = $(ratio_cell 1 aw a) (target >= 0.97)."
}

# bn_cpu_table: CPU per message, from the cgroups
bn_cpu_table() {
    local w
    local cfg row
    echo "| workload | (a) rrelay | (a2) rrelay with rrelay-cache | (a3) rrelay, thin client | (b) smtp(8) | (c) pipe floor | upstreams only: a / a2 / b |"
    echo "|---|---|---|---|---|---|---|"
    for w in 1 2 3 4; do
        row="| $w |"
        for cfg in a a2 a3 b c; do
            row+=" $(bn_sig "$(cpu_msg "$w" "$cfg")") ($(bn_sig "$(cpu_msg_pf "$w" "$cfg")")) |"
        done
        echo "$row $(up_msg "$w" a) / $(up_msg "$w" a2) / $(up_msg "$w" b) |"
    done
}

# bn_runs_table: every throughput run in the order it ran
bn_runs_table() {
    echo "| # | workload | config | msg/s | seconds | delivered | status | CPU ms/msg: Postfix side | upstreams | machine busy | others | first delivery s | longest stall s | connections to the silent host |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    rows thr | awk -F'\t' -v n="$NCPU" -v cg="${BN_CG:+1}" '{
        d = $7
        pf = up = busy = oth = "-"
        if (cg) {
            busy = sprintf("%.0f%%", 100 * $10 / 1e9 / $6 / n)
            o = $10 - $11 - $12 - $13; if (o < 0) o = 0
            oth = sprintf("%.0f%%", 100 * o / 1e9 / $6 / n)
        }
        if (cg && d > 0) { pf = sprintf("%.2f", $11 / d / 1e6); up = sprintf("%.2f", $12 / d / 1e6) }
        cfg = ($3 == "a") ? "a rrelay" : ($3 == "a2") ? "a2 rrelay+cache" : ($3 == "b") ? "b smtp(8)" : \
              ($3 == "a3") ? "a3 rrelay, thin client" : \
              ($3 == "aw") ? "aw rrelay, weights" : \
              ($3 == "b2") ? "b2 smtp(8)+tlsproxy" : ($3 == "a2p") ? "a2p rrelay+cache, no TLS" : \
              ($3 == "a2s") ? "a2s rrelay+cache, sessions only" : "c floor"
        # a run stopped at its cap: what it delivered by then
        printf "| %d | %s | %s | %.1f | %.2f | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            NR, $2, cfg, ($9 == "capped" && $6 > 0) ? $7 / $6 : $5, $6, $7, $8, $9, pf, up, busy, oth,
            (($2 == 4) ? $14 : "-"), (($2 == 4) ? $15 : "-"), (($2 == 4) ? $16 : "-") }'
}

# bn_cost_table: the direct runs
bn_cost_table() {
    local t label
    if ! wanted cost; then
        echo "not run (WORKLOADS=\"$WORKLOADS\")"
        return 0
    fi
    echo "| program (4 KB message, $(num "$COST_N") runs) | CPU ms/msg (user+sys) | wall ms/msg (mean) | wall p50 | wall p99 |"
    echo "|---|---|---|---|---|"
    for t in rrelay rrelay-thin drain-ssl drain-libs drain; do
        [[ -n $(cost_field "$t" 3) ]] || continue
        case $t in
            rrelay) label="(a) rrelay, relaying to an smtp-sink" ;;
            rrelay-thin) label="(a3) rrelay as a thin client: its own process only (the worker's CPU is not counted here)" ;;
            drain-ssl) label="drain-ssl: reads stdin, linked with libssl, libcrypto and libresolv (as rrelay was before it loaded them on first use)" ;;
            drain-libs) label="drain-libs: reads stdin, linked with libresolv" ;;
            drain) label="drain: reads stdin, libc only, linked like rrelay (the process floor)" ;;
        esac
        echo "| $label | $(cost_field "$t" 3) | $(cost_field "$t" 4) | $(cost_field "$t" 5) | $(cost_field "$t" 6) |"
    done
}

# bn_rss_table: peak RSS per message size
bn_rss_table() {
    local m
    wanted cost || return 0
    echo "| message | bytes | peak RSS |"
    echo "|---|---|---|"
    for m in m4k m1m m100m; do
        echo "| ${m#m} | $(num "$(rows rss 2="$m" | cut -f3)") | $(bn_calc "$(rss_kib "$m") / 1024" '%.1f') MiB ($(rss_kib "$m") KiB) |"
    done
}

# bn_milter_table: with and without the milter
bn_milter_table() {
    local st
    st=$(milter_status)
    if [[ $st != ok ]]; then
        echo "not measured: ${st:-rrelay-milter not available}"
        return 0
    fi
    echo "| | msg/s (median [min-max]) | latency p50 ms | latency p99 ms | CPU ms/msg: Postfix | milter | dnsmasq | clients |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| without a milter | $(milter_thr_cell off) | $(milter_lat off 50) | $(milter_lat off 99) | $(milter_cpu off 5) | - | $(milter_cpu off 7) | $(milter_cpu off 8) |"
    echo "| with rrelay-milter | $(milter_thr_cell on) | $(milter_lat on 50) | $(milter_lat on 99) | $(milter_cpu on 5) | $(milter_cpu on 6) | $(milter_cpu on 7) | $(milter_cpu on 8) |"
    echo "| ratio / added | $(ratio "$(milter_thr on)" "$(milter_thr off)") | $(milter_added on 50) | $(milter_added on 99) | | | | |"
    if [[ -n $(rows mthr 2=null) ]]; then
        echo "| with null_milter (the libmilter floor) | $(milter_thr_cell null) | $(milter_lat null 50) | $(milter_lat null 99) | $(milter_cpu null 5) | $(milter_cpu null 9) | $(milter_cpu null 7) | $(milter_cpu null 8) |"
        echo "| ratio / added | $(ratio "$(milter_thr null)" "$(milter_thr off)") | $(milter_added null 50) | $(milter_added null 99) | | | | |"
    fi
    echo
    echo "Latencies: $(num "$(bn_milter_lat_ms on | wc -l)") messages each way, one at a time, going round"
    echo "the smtpd ports. CPU: median over the throughput runs, from cgroup accounting."
    echo "null_milter (bench/tools/null_milter.c) takes rrelay-milter's protocol steps through"
    echo "libmilter and does no work: it adds two fixed header fields and logs a line."
}

# milter_added MODE P: the P-th percentile latency of MODE minus that without a milter, in ms
milter_added() {
    bn_calc "$(milter_lat "$1" "$2") - $(milter_lat off "$2")" '%+.2f'
}

# milter_cpu MODE FIELD: median CPU ms per message of one part (5 Postfix, 6 milter, 7 dnsmasq,
# 8 clients, 9 null_milter)
milter_cpu() {
    [[ -n $BN_CG ]] || {
        echo "-"
        return 0
    }
    bn_sig "$(rows mthr 2="$1" | cut -f"$2" | bn_stats | awk '{ print (($4 == 0) ? "-" : $1) }')"
}

# bn_where_perf: rrelay's profile, as shares of the samples taken in rrelay processes
bn_where_perf() {
    local total
    total=$(awk '{ t += $1 } END { print t }' "$BN_W/perf.dso")
    echo "perf over $(num "$PROFILE_N") direct runs (software clock, call graphs). Share of the"
    echo "samples taken in rrelay processes, by object:"
    echo
    echo '```'
    awk -v t="$total" '{ printf "%5.1f%%  %s\n", 100 * $1 / t, $3 }' "$BN_W/perf.dso" | sort -rn | head -n 8
    echo '```'
    echo
    echo "Inclusive shares of some entry points (they overlap: page faults happen in"
    echo "the dynamic linker, for instance):"
    echo
    echo "| where | share |"
    echo "|---|---|"
    awk -v t="$total" '
        BEGIN {
            n = split("_dl_start_user exc_page_fault __x64_sys_execve __x64_sys_openat vfs_tmpfile " \
                      "__do_sys_memfd_create __libc_connect __x64_sys_sendto __x64_sys_recvfrom " \
                      "__x64_sys_poll __x64_sys_flock do_exit", order, " ")
            d["_dl_start_user"] = "dynamic linking before main() (ld.so)"
            d["exc_page_fault"] = "page faults (all)"
            d["__x64_sys_execve"] = "execve"
            d["__x64_sys_openat"] = "opening files (kernel)"
            d["vfs_tmpfile"] = "of which: creating an O_TMPFILE spool file (messages over 1 MB)"
            d["__do_sys_memfd_create"] = "creating the memfd spool (messages up to 1 MB)"
            d["__x64_sys_recvfrom"] = "receiving on the socket (kernel)"
            d["__x64_sys_poll"] = "waiting for the upstream (poll)"
            d["__libc_connect"] = "connect() to the upstream"
            d["__x64_sys_sendto"] = "sending on the socket (kernel)"
            d["__x64_sys_flock"] = "flock() on the state file"
            d["do_exit"] = "process exit"
        }
        { s = $NF; if (!(s in v)) v[s] = $1 + 0 }
        END { for (i = 1; i <= n; i++) if (order[i] in v)
                  printf "| %s (%s) | %.1f%% |\n", d[order[i]], order[i], 100 * v[order[i]] / t }' "$BN_W/perf.children"
    awk -v t="$total" '$3 == "rrelay" { printf "| rrelay'"'"'s own code (self, in the rrelay binary) | %.1f%% |\n", 100 * $1 / t }' "$BN_W/perf.dso"
    echo
    echo "Hottest symbols (self):"
    echo
    echo '```'
    awk -v t="$total" '{ printf "%5.1f%%  %-22s %s %s\n", 100 * $1 / t, $3, $4, $5 }' "$BN_W/perf.sym" | head -n 12
    echo '```'
}

# bn_where_cost: rrelay's CPU per message from the direct runs, and its profile
bn_where_cost() {
    local cpu dl d ds
    cpu=$(cost_field rrelay 3)
    dl=$(cost_field drain-libs 3)
    ds=$(cost_field drain-ssl 3)
    d=$(cost_field drain 3)
    echo "### rrelay's CPU per message"
    echo
    if ! wanted cost; then
        echo "The cost section did not run."
        return 0
    fi
    echo "rrelay used $cpu ms of CPU per 4 KB message. A process that only reads"
    echo "the message, linked like rrelay (libc only), costs $d ms (drain): that is"
    echo "the cost of starting a process here. rrelay's own work (configuration, state"
    echo "file, SMTP session with the sink, log) is about $(bn_calc "$cpu - $d" '%.2f') ms: mostly the"
    echo "kernel's TCP work on the loopback connection, see the profile below."
    if [[ -n $ds ]]; then
        echo "rrelay loads OpenSSL (transport/net/ossl.c) and libresolv (transport/smtp/resolve.c)"
        echo "only when a delivery needs them. Linked with them, as rrelay was before, the"
        echo "same reader costs $ds ms (drain-ssl; $dl ms with libresolv alone, drain-libs):"
        echo "$(bn_calc "$ds - $d" '%.2f') ms per message that plaintext deliveries to [bracketed] hosts"
        echo "no longer pay."
    fi
    echo
    if ((PERF_OK)); then
        bn_where_perf
    else
        echo "perf was not available here, so there is no profile."
    fi
}

# bn_where: where the time goes, for the targets missed (numbers from this run)
bn_where() {
    bn_where_cost
    echo
    bn_where_w1
    echo
    bn_tls_decision
    echo
    bn_where_w4
    echo
    bn_lim_where
}

# bn_where_w1: workload 1's CPU per message against the floor and smtp(8)
bn_where_w1() {
    local cpu d a_pf c_pf b_pf a_all b_all c_all
    cpu=$(cost_field rrelay 3)
    d=$(cost_field drain 3)
    a_all=$(cpu_msg 1 a)
    b_all=$(cpu_msg 1 b)
    c_all=$(cpu_msg 1 c)
    a_pf=$(cpu_msg_pf 1 a)
    b_pf=$(cpu_msg_pf 1 b)
    c_pf=$(cpu_msg_pf 1 c)
    echo "### Workload 1: rrelay against the floor and smtp(8)"
    echo
    if [[ -z $(rows thr 2=1) ]] || ! wanted cost; then
        echo "Needs workload 1 and the cost section in the same run."
    elif [[ -n $BN_CG ]]; then
        echo "CPU per message, everything Postfix ran (qmgr, pipe(8) or smtp(8), the transport,"
        echo "cleanup/bounce/postlogd) and, after +, the upstream smtp-sinks: (a) $(bn_sig "$a_pf") + $(bn_calc "$a_all - $a_pf" '%.2f') ms,"
        echo "(b) $(bn_sig "$b_pf") + $(bn_calc "$b_all - $b_pf" '%.2f') ms, (c) $(bn_sig "$c_pf") ms (nothing goes upstream)."
        echo "The Postfix side of (a) costs $(bn_calc "$a_pf - $c_pf" '%.2f') ms more than the floor per"
        echo "message; the direct runs put rrelay at $cpu ms and drain at $d ms, a difference of"
        echo "$(bn_calc "$cpu - $d" '%.2f') ms. On $NCPU cores, that CPU alone caps (a) at about"
        echo "$(bn_calc "$NCPU * 1000 / $a_all" '%.0f') msg/s and (c) at $(bn_calc "$NCPU * 1000 / $c_all" '%.0f') msg/s"
        echo "(measured: $(bn_sig "$(thr_med 1 a)") and $(bn_sig "$(thr_med 1 c)")): throughput here is"
        echo "CPU-bound, so a/c is about the ratio of CPU per message. smtp(8) keeps its"
        echo "connections and processes, and costs $(bn_sig "$b_all") ms per message in all."
    else
        echo "No cgroup CPU accounting on this machine: see the direct-run costs above."
    fi
}

# bn_where_w4: how long workload 4's silent host stalled (a) and (b)
bn_where_w4() {
    local w4first w4stall w4conns
    echo "### Workload 4: one silent host"
    echo
    if [[ -z $(rows thr 2=4) ]]; then
        echo "Not run."
        return 0
    fi
    w4first=$(rows thr 2=4 3=a | cut -f14 | bn_stats | awk '{ print $1 }')
    w4stall=$(rows thr 2=4 3=a | cut -f15 | bn_stats | awk '{ print $1 }')
    w4conns=$(rows thr 2=4 3=a | cut -f16 | bn_stats | awk '{ print $1 }')
    echo "With rrelay (a), the first deliveries came within $w4first s, and then the"
    echo "longest time without a single delivery was $w4stall s (medians of the runs,"
    echo "sampled once a second; rrelay's command_timeout here: ${W4_RRELAY_OPTS[*]:-60s, the default})."
    echo "The silent host got $w4conns connections per run (median)."
    echo "rrelay gives a host greeting_grace (1 s) to greet (transport/relay.c). A"
    echo "delivery that meets the silent host in that time marks it down and moves"
    echo "on to the next host, so the incident costs about one grace period of the"
    echo "pipe(8) slots that were waiting for it, rather than every slot for"
    echo "command_timeout, as before (0.23 of the W1 rate in the first full run)."
    echo "A fixed stall of s seconds predicts N / (s + N / W1 rate); with the longest"
    echo "stall measured here: $(num "$W4_N") / ($w4stall + $(num "$W4_N") / $(bn_sig "$(thr_med 1 a)"))"
    echo "= $(bn_sig "$(bn_calc "$W4_N / ($w4stall + $W4_N / $(thr_med 1 a))")") msg/s, $(bn_sig "$(thr_med 4 a)") measured."
    echo
    echo "smtp(8) (b) tries the list in order, so each delivery first waits for the silent"
    echo "first host's greeting (smtp_helo_timeout, ${W4_SMTP_HELO:-300s, the default}) before it moves to"
    echo "the second host; a run stops waiting at its cap (${W4_CAP_B} s) with what was"
    echo "delivered by then. With the silent host second or third in the list, smtp(8)"
    echo "never contacts it and runs as in workload 1."
}

# bn_where_milter: the milter's cost, from the cgroups and (when a target was missed) perf
bn_where_milter() {
    local p
    [[ $(milter_status) == ok ]] || return 0
    echo "### Milter"
    echo
    if [[ -n $BN_CG ]]; then
        echo "CPU per message with the milter, against without it: Postfix's processes"
        echo "(smtpd, cleanup, ...) $(milter_cpu on 5) ms against $(milter_cpu off 5) ms, the milter $(milter_cpu on 6) ms,"
        echo "dnsmasq $(milter_cpu on 7) ms against $(milter_cpu off 7) ms. smtpd sends the milter each stage"
        echo "it asks for over a unix socket (filter/callbacks.c: connect, HELO and each header"
        echo "field without a reply, MAIL FROM and the end of the message with one); the"
        echo "milter asks dnsmasq for the SPF records of the HELO name and the sender's domain."
        if [[ -n $(rows mthr 2=null) ]]; then
            echo
            echo "null_milter, which takes the same steps through libmilter and does no work,"
            echo "costs $(milter_cpu null 9) ms per message itself and Postfix $(milter_cpu null 5) ms, and keeps"
            echo "$(ratio "$(milter_thr null)" "$(milter_thr off)") of the throughput without a milter (rrelay-milter:"
            echo "$(ratio "$(milter_thr on)" "$(milter_thr off)"); against null_milter: $(ratio "$(milter_thr on)" "$(milter_thr null)")). That floor is what"
            echo "libmilter and Postfix's side of the milter protocol cost. What rrelay-milter adds to"
            echo "it, the SPF checks with their DNS queries, the policy and the header text, is"
            echo "the difference: $(bn_calc "$(milter_cpu on 6) - $(milter_cpu null 9)" '%.2f') ms of milter CPU and $(milter_cpu on 7) ms of dnsmasq per message."
        fi
    fi
    p=$(rows mperf | cut -f2 | tail -n 1)
    if [[ -z $p ]]; then
        echo
        if [[ $QUICK == 1 ]]; then
            echo "QUICK=1 takes no milter profile."
        else
            echo "No milter target was missed, so there is no profile."
        fi
        return 0
    fi
    echo
    echo "perf on the milter process during one more run with it, by object:"
    echo
    echo '```'
    sed 's/^ *//' "$p.dso"
    echo '```'
    echo
    echo "Hottest symbols (self):"
    echo
    echo '```'
    sed 's/^ *//' "$p.sym"
    echo '```'
    echo
    echo "Inclusive (children) shares, top entries. A key to the kernel symbols:"
    echo "finish_task_switch and schedule are context switches; poll, read and writev"
    echo "carry the milter protocol on the socket; clone3 is libmilter starting a thread"
    echo "for each SMTP connection; futex is locking between those threads."
    echo
    echo '```'
    sed 's/^ *//' "$p.children" | head -n 25
    echo '```'
}

# bn_machine: the machine table
bn_machine() {
    local cpu commit dirty
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    if grep -q '^flags.* hypervisor' /proc/cpuinfo; then cpu+=" (virtual machine)"; fi
    commit=$(git -C "$BN_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(git -C "$BN_REPO" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | ${cpu:-unknown} |"
    echo "| cores | $NCPU |"
    echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
    echo "| kernel | $(uname -r) |"
    echo "| system | $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") |"
    echo "| Postfix | $(postconf -d -h mail_version 2>/dev/null) |"
    echo "| rrelay | commit $commit${dirty:+ with uncommitted changes} ($RRELAY) |"
    echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| bench run time | $(printf '%.0f' "$BN_ELAPSED") s$([[ $QUICK == 1 ]] && echo ' (QUICK=1)') |"
    echo "| load average | $LOAD_START at the start, $LOAD_END at the end |"
    echo "| other processes | $(others_pct)% of the machine's CPU during the relay runs (median; from cgroup accounting) |"
}

# bn_report: the results file
bn_report() {
    echo "# rrelay benchmark results"
    echo
    echo "Written by \`bench/run\` (\`make bench\`); see [bench/README.md](../README.md) for the method."
    if [[ $QUICK == 1 ]]; then
        echo
        echo "**QUICK=1: a smoke run, not a measurement.** Small N ($W1_N/$W2_N/$W3_N/$W4_N/$W5_N), $RUNS run(s)"
        echo "per configuration, $COST_N direct runs, and workload 4 with scaled-down timeouts"
        echo "(rrelay command_timeout 5 s, smtp(8) smtp_helo_timeout 25 s, the 1:5 ratio of the defaults)."
    fi
    echo "The machine is shared and noisy: compare the ratios, which are taken in the same"
    echo "run, not the absolute numbers."
    echo
    echo "## Machine"
    echo
    bn_machine
    echo
    echo "## Targets"
    echo
    bn_targets_table
    echo
    echo "## Relay throughput (msg/s)"
    echo
    echo "Median of $RUNS run(s) per configuration, [min-max]; runs alternate between the"
    echo "configurations, in rotating order. Ratios are of the medians. A run releases N held"
    echo "messages (\`postsuper -H ALL\`, \`postqueue -f\`) and ends when the queue is empty;"
    echo "every message is checked in the maillog as sent through the expected transport."
    echo
    bn_throughput_table
    echo
    bn_weights_line
    echo
    echo "CPU ms per message, median: everything (in brackets: the Postfix side only, without"
    echo "the upstream smtp-sinks). From cgroup CPU accounting, so other tenants don't count."
    echo
    bn_cpu_table
    echo
    echo "## Workload 5: $(num "$W5_N") x 4 KB to 3 upstreams that require STARTTLS, level verify"
    echo
    echo "The upstreams are a Postfix instance's smtpd services with a throwaway CA's"
    echo "certificate (bench/tls.bash); they discard what they accept. Handshakes are"
    echo "counted in the upstream's log. Median of $RUNS run(s), [min-max]."
    echo
    bn_tls_table
    echo
    echo "## Workload 6: $(num "$W6_N") x 4 KB to 3 upstreams with limits (rate=20/s, 20/s, 10/s)"
    echo
    echo "The upstreams are tests/tools/fault_server.c, which logs the time of each MAIL FROM"
    echo "(bench/limits.bash). Target for (a): a drain rate >= 0.95 of the configured capacity"
    echo "of $(lim_capacity)/s, and no host above its rate in any 1-second window. (b) is smtp(8) with"
    echo "the relayhost list held to the smallest host's limit. Median of $RUNS run(s), [min-max]."
    echo
    bn_lim_table
    echo
    echo "<details><summary>Every run</summary>"
    echo
    bn_runs_table
    echo
    echo "\"machine busy\" is all CPU used on the machine during the run, as a share of"
    echo "$NCPU cores; \"others\" is the part not used by this benchmark."
    echo
    echo "</details>"
    echo
    echo "## Cost of one delivery"
    echo
    echo "Each program run $(num "$COST_N") times in a row as user rrelay, with pipe(8)'s environment;"
    echo "CPU from getrusage of the children (bash \`times\`), wall time per run from the clock."
    echo
    bn_cost_table
    echo
    bn_rss_table
    echo
    echo "## Milter"
    echo
    bn_milter_table
    echo
    echo "## Where the time goes"
    echo
    bn_where
    echo
    bn_where_milter
}

# bn_report_console: the tables, for the terminal
bn_report_console() {
    echo
    echo "== rrelay bench$([[ $QUICK == 1 ]] && echo ' (QUICK=1: small N, 1 run each, scaled timeouts; a smoke run)')"
    echo "   $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $NCPU cores, kernel $(uname -r); other processes used $(others_pct)% of the CPU"
    echo
    echo "== relay throughput, msg/s (median [min-max] of $RUNS)"
    bn_throughput_table
    bn_weights_line
    echo
    echo "== CPU ms per message (Postfix side in brackets)"
    bn_cpu_table
    echo
    echo "== workload 5: STARTTLS upstreams, level verify"
    bn_tls_table
    echo
    echo "== workload 6: upstreams with limits"
    bn_lim_table
    echo
    echo "== cost of one delivery"
    bn_cost_table
    bn_rss_table
    echo
    echo "== milter"
    bn_milter_table
    echo
    echo "== targets"
    bn_targets_table
}
