# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/tls.bash - workload 5 of bench/run: relaying to upstreams that require STARTTLS
#
# What most real relays do: W5_N messages of 4 KB to 3 upstreams that
# require STARTTLS, with the client at level verify. The upstreams are one
# Postfix instance, "tup", with three smtpd services (smtpd_tls_security_level
# = encrypt, a certificate from a throwaway CA made by tls_lib.bash's
# rr_tls_make_certs). They discard what they accept (smtpd_data_restrictions
# DISCARD), so their cost is the SMTP session and TLS, not a queue. Nothing
# reaches their qmgr, which would refill the in-flow tokens, so in_flow_delay
# is 0 (with the default, every message waited 1 s once the tokens ran out).
# The instance runs in the "up" cgroup, beside the idle smtp-sinks.
#
# The configurations, all at level verify against the test CA:
#   (a)  rrelay: a full handshake per message
#   (a3) rrelay as a thin client of rrelay-cache's delivery workers
#   (a2) rrelay with rrelay-cache as the TLS end (tls_connection_reuse, the
#        default): whole TLS connections kept open and reused
#   (a2s) rrelay with rrelay-cache, tls_connection_reuse = no: rrelay makes
#        every handshake, resuming the TLS sessions kept in the cache
#   (b)  smtp(8) with its TLS session cache (smtp_tls_session_cache_database)
#   (b2) smtp(8) with smtp_tls_connection_reuse = yes: whole TLS connections
#        kept open through tlsproxy(8) and scache(8), Postfix's version of (a2)
#   (a2p) rrelay with rrelay-cache and no TLS, to three plaintext smtpd
#        services of the same instance: connections reused. The TLS end can
#        at best reach this (it adds a copy of every byte and the
#        encryption), so a2p is (a2)'s ceiling.
#
# Handshakes are counted on the server side, where every client looks the
# same: each "TLS connection established from" line of tup's smtpd
# (smtpd_tls_loglevel = 1) is a handshake; a full one also names the
# server's signature digest ("server-digest"), a resumed one doesn't (a
# resumed TLS 1.3 handshake has no CertificateVerify). For (a) and (a2s),
# rrelay's own log says "resumed" too, and the table shows both counts
# (for (a2) a delivery line tells how its connection's handshake went,
# once for all its deliveries, so it is not counted).
#
# Appends to $RES: the "thr" lines of throughput_run for workload 5, and
# "tls CFG RUN FULL RESUMED RRELAY-FULL" per run.

# bn_tls_up_start: make the certificates, write and start instance tup; sets BN_TLS_HOSTS, BN_PLAIN_HOSTS
bn_tls_up_start() {
    local d p ports=() plain=()
    export RR_TLS_UP=tup # tls_lib's service helpers act on instance tup
    RR_TLS_DIR=$RR_T/tls
    rr_tls_make_certs "$RR_TLS_DIR" || bn_die "cannot make the test certificates"
    d=$RR_TLS_DIR
    RR_PF=tup rr_postfix_init "[$RR_HOST]:1" || bn_die "cannot write the TLS upstream instance"
    RR_PF=tup rr_postconf smtpd_tls_security_level=encrypt \
        "smtpd_tls_cert_file=$d/good.pem" "smtpd_tls_key_file=$d/server.key" \
        smtpd_tls_loglevel=1 \
        "smtpd_data_restrictions=check_client_access static:DISCARD" in_flow_delay=0 ||
        bn_die "postconf failed for the TLS upstream"
    for p in 1 2 3; do
        rr_tls_service "u$p" smtpd_tls_security_level=encrypt || bn_die "no free port for upstream u$p"
        rr_tls_service "p$p" smtpd_tls_security_level=none || bn_die "no free port for upstream p$p"
        ports+=("$(rr_tls_port "u$p")")
        plain+=("$(rr_tls_port "p$p")")
    done
    (
        bn_cg_enter up
        rr_tls_up_start
    ) || bn_die "cannot start the TLS upstream instance (maillog: $(RR_PF=tup rr_maillog))"
    BN_TLS_HOSTS=$(rr_relayhost "${ports[@]}")
    BN_PLAIN_HOSTS=$(rr_relayhost "${plain[@]}")
}

# bn_tls_pf_init: the relaying instance for workload 5: verify for rrelay and smtp(8); b2's, a2s's and a2p's services
bn_tls_pf_init() {
    local d=$RR_TLS_DIR argv
    pf_init "$BN_TLS_HOSTS" tls_security_level=verify "tls_ca_file=$d/ca.pem"
    # smtp(8) matches DNS names only; the certificate says DNS:localhost and
    # IP:127.0.0.1, which rrelay matches for [127.0.0.1].
    # shellcheck disable=SC2016 # ${data_directory} is Postfix's
    rr_postconf smtp_tls_security_level=verify "smtp_tls_CAfile=$d/ca.pem" \
        "smtp_tls_verify_cert_match=hostname, localhost" smtp_tls_loglevel=1 \
        'smtp_tls_session_cache_database=btree:${data_directory}/smtp_scache' ||
        bn_die "postconf failed for workload 5"
    printf '%s\n%s\n  %s\n' \
        'tlsproxy  unix  - - n -     0 tlsproxy' \
        'smtptls   unix  - - n -     - smtp' \
        '-o smtp_tls_connection_reuse=yes' >>"$(rr_pf_etc)/master.cf"
    # a2s: rrelay's own entry, making its own handshakes
    bn_pipe_service rrsess "$(bn_rrelay_argv tls_connection_reuse=no)"
    # a2p: rrelay's own entry, to the plaintext services, without TLS
    argv=$(bn_rrelay_argv tls_security_level=none)
    # shellcheck disable=SC2016 # the pipe(8) macro, replaced; argv splits at spaces
    argv=${argv/'${nexthop}'/${BN_PLAIN_HOSTS// /}}
    bn_pipe_service rrplain "$argv"
}

# bn_tls_count: print "full resumed": the handshakes tup's smtpd logged so far
bn_tls_count() {
    local log
    log=$(RR_PF=tup rr_maillog)
    awk '/postfix\/u[123]\/smtpd\[[0-9]+\]: .*TLS connection established from/ {
            if (/ server-digest /) f++; else r++ }
         END { printf "%d %d\n", f, r }' "$log" 2>/dev/null || echo "0 0"
}

# bn_tls_rrelay_full OFFSET: rrelay's delivery lines after byte OFFSET of its log without "resumed"
bn_tls_rrelay_full() {
    tail -c +"$(($1 + 1))" "$RR_T/rrelay.log" 2>/dev/null |
        grep -E ': to=<[^>]*>, .*, tls=[^,]*, status=sent' | grep -cv ' resumed, ' || true
}

# bn_tls_settled: true when tup's handshake count no longer moves (its log lags the clients' by a moment)
bn_tls_settled() {
    local before
    before=$(bn_tls_count)
    sleep 0.5
    [[ $(bn_tls_count) == "$before" ]]
}

# bn_tls_run CFG RUN: one timed run of workload 5, and its handshake counts
bn_tls_run() {
    local cfg=$1 run=$2 f0 r0 f1 r1 off
    read -r f0 r0 <<<"$(bn_tls_count)"
    off=$(stat -c %s "$RR_T/rrelay.log" 2>/dev/null || echo 0)
    throughput_run 5 "$cfg" "$run" "$W5_N" 4096 1 600
    rr_wait 10 bn_tls_settled 2>/dev/null || true
    read -r f1 r1 <<<"$(bn_tls_count)"
    printf 'tls\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$run" "$((f1 - f0))" "$((r1 - r0))" \
        "$(if [[ $cfg == a || $cfg == a2s ]]; then bn_tls_rrelay_full "$off"; else echo -; fi)" >>"$RES"
    bn_log "    full TLS handshakes: $((f1 - f0)), resumed: $((r1 - r0))"
}

# bn_tls_section: workload 5, RUNS rounds of a a2 a3 a2s b b2 a2p in rotating order
bn_tls_section() {
    local r i cfgs=(a a2 a3 a2s b b2 a2p) k=7
    bn_log "relay throughput: workload 5, $W5_N x 4 KB to 3 upstreams that require STARTTLS (verify)"
    bn_tls_up_start
    bn_tls_pf_init
    for ((r = 1; r <= RUNS; r++)); do
        for ((i = 0; i < k; i++)); do
            bn_tls_run "${cfgs[(r - 1 + i) % k]}" "$r"
        done
    done
    bn_pf_stop
    RR_PF=tup rr_postfix_stop
}

# ---------------------------------------------------------------------------
# Report (reads $RES through report.bash's helpers)

# tls_per_msg CFG FIELD: median over the runs of FIELD (4 full, 5 resumed, 6 rrelay's full) per message
tls_per_msg() {
    local n=$W5_N
    rows tls 2="$1" | awk -F'\t' -v f="$2" -v n="$n" '$f != "-" { printf "%.3f\n", $f / n }' |
        bn_stats | awk '{ print (($4 == 0) ? "-" : $1) }'
}

# bn_tls_table: workload 5's configurations side by side
bn_tls_table() {
    local cfg label
    echo "| configuration | msg/s | CPU ms/msg: all (Postfix side) | upstreams' CPU ms/msg | full TLS handshakes per message | resumed per message |"
    echo "|---|---|---|---|---|---|"
    for cfg in a a2 a3 a2s b b2 a2p; do
        case $cfg in
            a) label="(a) rrelay" ;;
            a3) label="(a3) rrelay as a thin client of the workers (the cache is their TLS end)" ;;
            a2) label="(a2) rrelay with rrelay-cache as the TLS end (connections reused)" ;;
            a2s) label="(a2s) rrelay with rrelay-cache, tls_connection_reuse = no (sessions resumed)" ;;
            b) label="(b) smtp(8) with its TLS session cache" ;;
            b2) label="(b2) smtp(8) with smtp_tls_connection_reuse (tlsproxy)" ;;
            a2p) label="(a2p) rrelay with rrelay-cache, no TLS, same upstreams (connections reused)" ;;
        esac
        echo "| $label | $(thr_cell 5 "$cfg") | $(bn_sig "$(cpu_msg 5 "$cfg")") ($(bn_sig "$(cpu_msg_pf 5 "$cfg")")) | $(up_msg 5 "$cfg") | $(tls_per_msg "$cfg" 4)$(tls_rrelay_note "$cfg") | $(tls_per_msg "$cfg" 5) |"
    done
    echo
    echo "Ratios of the medians: a3/a $(ratio_cell 5 a3 a), a3/b $(ratio_cell 5 a3 b), a3/a2 $(ratio_cell 5 a3 a2), a2/a $(ratio_cell 5 a2 a), a2/a2s $(ratio_cell 5 a2 a2s), a2/b $(ratio_cell 5 a2 b), a2/b2 $(ratio_cell 5 a2 b2), a2s/a $(ratio_cell 5 a2s a), a/b $(ratio_cell 5 a b), b2/b $(ratio_cell 5 b2 b), a2/a2p $(ratio_cell 5 a2 a2p)."
}

# tls_rrelay_note CFG: " (rrelay's log: X)" for a and a2s
tls_rrelay_note() {
    [[ $1 == a || $1 == a2s ]] || return 0
    echo " (rrelay's log: $(tls_per_msg "$1" 6))"
}

# bn_tls_targets: issue 13's workload-5 rows of the targets table
bn_tls_targets() {
    local full
    full=$(tls_per_msg a2 4)
    echo "| workload 5 with the cache: <= 0.1 full TLS handshakes per message | $full (without the cache: $(tls_per_msg a 4); smtp(8): $(tls_per_msg b 4)) | $(verdict "$full" "<=" 0.1) |"
    echo "| workload 5 with the cache: a2/b, reported | $(ratio_cell 5 a2 b) (a/b $(ratio_cell 5 a b)) | reported |"
}

# bn_tls_decision: the figures behind rrelay-cache's TLS end
bn_tls_decision() {
    echo "### Keeping whole TLS connections (rrelay-cache as the TLS end)"
    echo
    echo "Issue 13 asked whether rrelay-cache should also keep TLS connections open by"
    echo "being the TLS end itself, as tlsproxy(8) does for smtp(8), and to build it if"
    echo "the measurement said it pays. It did (a2p/a2s 2.04 on 2026-12-04), and it is"
    echo "built: (a2) is rrelay with the cache as its TLS end, (a2s) the same cache with"
    echo "tls_connection_reuse = no, which only resumes TLS sessions."
    echo
    echo "- The TLS end against session resumption: a2/a2s = $(ratio_cell 5 a2 a2s) in throughput,"
    echo "  $(bn_sig "$(cpu_msg 5 a2)") against $(bn_sig "$(cpu_msg 5 a2s)") ms of CPU per message in all, the upstreams"
    echo "  $(up_msg 5 a2) against $(up_msg 5 a2s) ms."
    echo "- Against its ceiling, a reused plaintext connection to the same smtpd (a2p,"
    echo "  $(bn_sig "$(thr_med 5 a2p)") msg/s and $(bn_sig "$(cpu_msg 5 a2p)") ms): a2/a2p = $(ratio_cell 5 a2 a2p). The rest is the"
    echo "  encryption and the TLS end's copy of every byte."
    echo "- Postfix's own version: smtp(8) with tlsproxy connection reuse (b2) against"
    echo "  smtp(8) with session resumption only (b): b2/b = $(ratio_cell 5 b2 b); a2/b2 = $(ratio_cell 5 a2 b2)."
}
