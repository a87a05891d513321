#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_misc.bats - mixed recipient outcomes, corrupt state, a full disk, CR/LF injection

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    if [[ -n ${RR_T:-} ]] && mountpoint -q "$RR_T/state" 2>/dev/null; then
        # first what may still have a file open there (a delivery worker,
        # the metrics flusher), so that the tmpfs is not busy
        rr_kill_all
        umount "$RR_T/state" || umount -l "$RR_T/state"
    fi
    rr_teardown
}

SENT='relay=rrelay, .*status=sent'

@test "mixed outcomes: the accepted recipient is delivered once, the 5xx one bounces" {
    # smtp-sink cannot reject one recipient only: the upstream is a second
    # Postfix instance ("up") whose smtpd rejects bad@example.org with 550
    # 5.1.1 and relays everything else to sink "final".
    rr_sink_start final
    rr_sink_start dsn
    RR_PF=up rr_postfix_init "$(rr_relayhost "$(rr_sink_port final)")"
    up_etc=$(RR_PF=up rr_pf_etc)
    echo 'bad@example.org 550 5.1.1 <bad@example.org>: no such user' >"$up_etc/access"
    RR_PF=up rr_postconf default_transport=smtp relay_transport=smtp \
        "smtpd_recipient_restrictions = check_recipient_access texthash:$up_etc/access, permit_mynetworks, reject"
    RR_PF=up rr_postfix_start

    rr_postfix_init "$(rr_relayhost "$(RR_PF=up rr_smtpd_port)")"
    rr_transport_add sender.test "smtp:[127.0.0.1]:$(rr_sink_port dsn)" # DSNs
    rr_postfix_start
    rr_altconf_add "$(rr_pf_etc)" # rrelay's sendmail hand-back goes into "mta"

    printf 'Subject: mixed\nMessage-ID: <mixed@sender.test>\n\nbody\n' |
        rr_sendmail -i -f s@sender.test good@example.org bad@example.org
    rr_wait_maillog 1 'to=<bad@example\.org>, relay=rrelay, .*dsn=5\.[0-9]+\.[0-9]+, status=bounced' 60
    rr_wait_eq 30 1 rr_sink_count dsn
    rr_wait_queue_empty 30
    RR_PF=up rr_wait_queue_empty 30

    # the accepted recipient: delivered once, alone
    rr_eq "messages at the final sink" 1 "$(rr_sink_count final)"
    rr_eq "good@ at the final sink" 1 "$(rr_sink_grep final '^X-Rcpt-Args: <good@example\.org>')"
    rr_eq "bad@ at the final sink" 0 "$(rr_sink_grep final '^X-Rcpt-Args: <bad@example\.org>')"
    rr_eq "upstream relayed" 1 "$(RR_PF=up rr_maillog_count 'status=sent')"
    # the rejected recipient: handed back, bounced by Postfix, one DSN
    rr_eq "rrelay handed-back" 1 "$(rr_log_count 'to=<bad@example\.org>, .*status=handed-back')"
    rr_eq "rrelay sent good@" 1 "$(rr_log_count 'to=<good@example\.org>, relay=.*status=sent')"
    rr_eq "maillog bounced" 1 "$(rr_maillog_count 'status=bounced')"
    rr_eq "maillog deferred" 0 "$(rr_maillog_count 'status=deferred')"
    rr_eq "DSN notices" 1 "$(rr_maillog_count 'sender non-delivery notification')"
    rr_eq "DSN names bad@" 1 "$(rr_sink_grep dsn '^Final-Recipient: rfc822; ?bad@example\.org')"
    rr_eq "DSN status" 1 "$(rr_sink_grep dsn '^Status: 5\.[0-9]+\.[0-9]+')"
    rr_eq "DSN does not name good@" 0 "$(rr_sink_grep dsn '^Final-Recipient: rfc822; ?good@')"
    rr_eq "DSN to the sender" 1 "$(rr_sink_grep dsn '^X-Rcpt-Args: <s@sender\.test>')"
}

@test "a corrupt state file: delivery goes on, a warning is logged, status recovers" {
    rr_sink_start s1
    rr_sink_start s2
    rr_sink_start s3
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)" "$(rr_sink_port s2)" "$(rr_sink_port s3)")"
    rr_postfix_start
    rr_smtp_inject 9
    rr_wait_maillog 9 "$SENT" 60
    rr_wait_queue_empty 30
    mapfile -t files < <(find "$RR_T/state" -type f)
    rr_ge "state files" 1 "${#files[@]}"
    for f in "${files[@]}"; do
        printf 'GARBAGE \000\377 not a state file %.0s' {1..50} >"$f" # keeps owner and mode
    done
    rr_eq "warnings before" 0 "$(rr_log_count 'warning:')"
    rr_smtp_inject 9
    rr_wait_maillog 18 "$SENT" 60
    rr_wait_queue_empty 30
    rr_eq "sinks" 18 "$(rr_sink_total s1 s2 s3)"
    rr_eq "maillog deferred/bounced" 0 "$(rr_maillog_count 'status=(deferred|bounced)')"
    rr_ge "warnings after" 1 "$(rr_log_count 'warning:')"
    run -0 rr_rrelay_status
    echo "$output"
    for s in s1 s2 s3; do
        [[ $output == *"[127.0.0.1]:$(rr_sink_port "$s")"* ]]
    done
}

@test "a full disk: small messages still go out, a big one is deferred (4.3.1) and sent once there is room" {
    rr_sink_start s1
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)")"
    # the state directory on an 8 MB tmpfs of its own, filled up
    mount -t tmpfs -o "size=8m,mode=0700,uid=$(id -u "$RR_USER")" rrelay-test-full "$RR_T/state"
    dd if=/dev/zero of="$RR_T/state/fill" bs=64k 2>/dev/null || true
    rr_eq "free bytes" 0 "$(df --output=avail -B1 "$RR_T/state" | tail -n 1 | tr -d ' ')"
    rr_postfix_start
    rr_smtp_inject 3
    # larger than the memory spool (1 MB), so it needs the disk
    smtp-source -m 1 -l 3000000 -M client.rrelay.test -f sender@sender.test \
        -t big@example.org "$RR_HOST:$(rr_smtpd_port)"
    rr_wait_maillog 3 "$SENT" 60
    rr_wait_maillog 1 'to=<big@example\.org>, relay=rrelay, .*dsn=4\.3\.1, status=deferred \(write spool file in .*: No space left on device' 60
    rr_eq "logged with the queue id" 1 "$(rr_log_count 'rrelay\[[0-9]+\]: error: [0-9A-F]+: 4\.3\.1 write spool file in .*: No space left on device')"
    rr_eq "small messages at the sink" 3 "$(rr_sink_count s1)"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
    rr_ge "state file warnings" 1 "$(rr_log_count 'warning: state file .*No space left on device')"
    rm -f "$RR_T/state/fill"
    rr_flush
    rr_wait_maillog 1 'to=<big@example\.org>, relay=rrelay, .*status=sent' 60
    rr_wait_queue_empty 30
    rr_eq "messages at the sink" 4 "$(rr_sink_count s1)"
    rr_eq "bounced" 0 "$(rr_maillog_count 'status=bounced')"
}

@test "CR/LF in sender or recipients never reaches the upstream as a command" {
    rr_sink_start s1
    relay=$(rr_relayhost "$(rr_sink_port s1)")
    printf 'Subject: injection\n\nbody\n' >"$RR_T/msg"
    # every recipient bad: permanent failure, 5.1.3
    run -69 rr_rrelay -q INJ0001 -f s@sender.test -n "$relay" -- \
        $'r@example.org\r\nRCPT TO:<evil1@example.org>' \
        $'x@example.org\nRCPT TO:<evil2@example.org>' \
        $'y@example.org\rDATA' <"$RR_T/msg"
    [[ $output == "5.1.3 "* ]]
    # a bad sender: permanent failure as well, 5.1.7 (RFC 3463: bad sender's
    # mailbox address syntax), logged with that status
    run -69 rr_rrelay -q INJ0002 -f $'s@sender.test>\r\nRCPT TO:<evil3@example.org' \
        -n "$relay" -- r@example.org <"$RR_T/msg"
    [[ $output == "5.1.7 "* ]]
    grep -q 'INJ0002: to=<r@example.org>, relay=none, delay=0, dsn=5\.1\.7, status=bounced (bad sender address syntax' "$RR_T/rrelay.log"
    sleep 0.5
    rr_eq "messages at the sink" 0 "$(rr_sink_count s1)"
    run ! grep -a 'evil' "$RR_T/sinks/s1/out"
}

@test "a bad recipient next to a good one: the good one is delivered, rrelay bounces the other with its own DSN" {
    # sendmail can't take "r@example.org<CR><LF>RCPT TO:<evil4@...>" back
    # (it would read another address), so Postfix can't bounce it: rrelay
    # writes the DSN itself and hands that to the sender through Postfix.
    rr_sink_start final
    rr_sink_start dsn
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port final)")"
    rr_transport_add sender.test "smtp:[127.0.0.1]:$(rr_sink_port dsn)"
    rr_postfix_start
    rr_altconf_add "$(rr_pf_etc)" # rrelay's sendmail goes into "mta"
    relay=$(rr_relayhost "$(rr_sink_port final)")
    printf 'Subject: injection\nMessage-ID: <inj3@sender.test>\n\nbody\n' >"$RR_T/msg"
    run -0 rr_rrelay -q INJ0003 -f s@sender.test -n "$relay" -- \
        $'r@example.org\r\nRCPT TO:<evil4@example.org>' good@example.org <"$RR_T/msg"
    rr_wait_eq 30 1 rr_sink_count dsn
    rr_wait_queue_empty 30
    # the good one: delivered once, alone, with nothing injected
    rr_eq "messages at the final sink" 1 "$(rr_sink_count final)"
    rr_eq "good@ delivered" 1 "$(rr_sink_grep final '^X-Rcpt-Args: <good@example\.org>')"
    rr_eq "recipients at the final sink" 1 "$(grep -ac '^X-Rcpt-Args:' "$(rr_sink_dumps final)")"
    rr_eq "injected commands seen" 0 "$(rr_sink_grep final 'evil')"
    # the bad one: one DSN to the sender, from the null sender, naming it safely
    rr_eq "DSN to the sender" 1 "$(rr_sink_grep dsn '^X-Rcpt-Args: <s@sender\.test>')"
    rr_eq "DSN from <>" 1 "$(rr_sink_grep dsn '^X-Mail-Args: <>')"
    rr_eq "DSN names it" 1 "$(rr_sink_grep dsn '^Final-Recipient: rfc822; r@example\.org\+0D\+0ARCPT\+20TO:<evil4@example\.org>$')"
    rr_eq "DSN status" 1 "$(rr_sink_grep dsn '^Status: 5\.1\.3$')"
    rr_eq "DSN queue id" 1 "$(rr_sink_grep dsn '^X-Postfix-Queue-ID: INJ0003$')"
    rr_eq "no injected line" 0 "$(rr_sink_grep dsn '^RCPT TO')"
    rr_eq "rrelay logged it bounced" 1 "$(rr_log_count 'INJ0003: to=<r@example\.org.*relay=none, dsn=5\.1\.3, status=bounced .*delivery report sent to the sender by rrelay')"
    rr_eq "bounced in Postfix" 0 "$(rr_maillog_count 'status=bounced')"

    # the null sender: no report, as Postfix does for a bounce's bounce
    run -0 rr_rrelay -q INJ0004 -f "" -n "$relay" -- \
        $'x@example.org\nRCPT TO:<evil5@example.org>' good@example.org <"$RR_T/msg"
    rr_wait_eq 30 2 rr_sink_count final
    rr_eq "no second DSN" 1 "$(rr_sink_count dsn)"
    rr_eq "logged without a report" 1 "$(rr_log_count 'INJ0004: to=<x@example\.org.*status=bounced .*no delivery report: the sender is null')"

    # no way to send the report: the whole message is deferred, not lost
    run -75 rr_rrelay -o sendmail_path=/bin/false -q INJ0005 -f s@sender.test \
        -n "$relay" -- $'y@example.org\rDATA' good@example.org <"$RR_T/msg"
    [[ $output == "4.3.0 could not hand recipients back to Postfix: /bin/false failed"* ]]
}

# helo_as HOSTNAME ARG...: run rrelay ARG... as rr_rrelay does, on a host named
# HOSTNAME (a UTS namespace of its own) whose DNS answers nothing (resolv.conf
# bind-mounted to name 127.0.0.9, where nothing listens)
helo_as() {
    local name=$1
    shift
    printf 'nameserver 127.0.0.9\noptions attempts:1 timeout:1\n' >"$RR_T/resolv.conf"
    # shellcheck disable=SC2016 # expanded by the inner bash
    unshare --uts --mount bash -c 'hostname "$1" && mount --bind "$2" /etc/resolv.conf &&
        shift 2 && exec "$@"' _ "$name" "$RR_T/resolv.conf" \
        setpriv --reuid="$RR_USER" --regid="$RR_USER" --init-groups \
        env -i PATH=/usr/bin:/bin LANG=C "$RRELAY" -o "state_directory=$RR_T/state" \
        -o "log=$RR_T/rrelay.log" "$@"
}

@test "EHLO says helo_name, else the host's FQDN, else the address literal of the connection" {
    unshare --uts --mount true 2>/dev/null || skip "needs UTS and mount namespaces (unshare)"
    rr_sink_start s1
    relay=$(rr_relayhost "$(rr_sink_port s1)")
    printf 'Subject: hello\n\nbody\n' >"$RR_T/msg"
    run -0 helo_as nodots -q HELO0001 -f s@sender.test -n "$relay" -- a@example.org <"$RR_T/msg"
    run -0 helo_as relay.example.test -q HELO0002 -f s@sender.test -n "$relay" -- b@example.org <"$RR_T/msg"
    run -0 helo_as nodots -o helo_name=mx.example.net -q HELO0003 -f s@sender.test \
        -n "$relay" -- c@example.org <"$RR_T/msg"
    rr_wait_eq 5 3 rr_sink_count s1
    # no FQDN: RFC 5321 4.1.4's address literal, never the bare name
    rr_eq "literal" 1 "$(rr_sink_grep s1 '^X-Helo-Args: \[127\.0\.0\.1\]$')"
    rr_eq "bare name" 0 "$(rr_sink_grep s1 '^X-Helo-Args: nodots')"
    rr_eq "FQDN" 1 "$(rr_sink_grep s1 '^X-Helo-Args: relay\.example\.test$')"
    rr_eq "helo_name" 1 "$(rr_sink_grep s1 '^X-Helo-Args: mx\.example\.net$')"
}
