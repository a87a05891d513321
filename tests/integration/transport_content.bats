#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_content.bats - what rrelay sends: body bytes, long lines, null sender, 100 MB

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# one_sink_instance: start sink s1 and an instance relaying to it via rrelay
one_sink_instance() {
    rr_sink_start s1
    rr_postfix_init "$(rr_relayhost "$(rr_sink_port s1)")"
    rr_postfix_start
}

# deliver_file FILE [SENDER]: submit FILE with sendmail -i and wait until the sink has it
deliver_file() {
    rr_sendmail -i -f "${2-s@sender.test}" r@example.org <"$1"
    rr_wait_maillog 1 'relay=rrelay, .*status=sent' 30
    rr_wait_queue_empty 10
    rr_eq "sink s1" 1 "$(rr_sink_count s1)"
}

# repeat CHAR N: print CHAR N times
repeat() {
    local s
    printf -v s '%*s' "$2" ''
    printf '%s' "${s// /$1}"
}

# pattern_line N: print a line of N bytes of varying letters and digits (no spaces)
pattern_line() {
    local chunk=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789
    local s=""
    while ((${#s} < $1)); do s+=$chunk; done
    printf '%s' "${s:0:$1}"
}

@test "the body arrives byte for byte: dots, a lone dot, 8-bit bytes, a 998-byte line" {
    one_sink_instance
    {
        printf 'From: s@sender.test\nTo: r@example.org\nSubject: byte exact\n'
        printf 'Message-ID: <exact@sender.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\n'
        printf 'Content-Transfer-Encoding: 8bit\n\n'
        printf '.\n..\n...\n.leading dot\n..two leading dots\n . space then dot\n'
        printf 'trailing dot.\n.\n'
        printf '8-bit: \351t\351 \200\201\376\377 \303\251\n'
        printf '\tTAB line\n\n'
        pattern_line 998
        printf '\n.'
        pattern_line 997
        printf '\n\nlast line\n'
    } >"$RR_T/msg"
    deliver_file "$RR_T/msg"
    rr_msg_body "$RR_T/msg" >"$RR_T/sent.body"
    rr_dump_body "$(rr_sink_dumps s1)" >"$RR_T/got.body"
    cmp "$RR_T/sent.body" "$RR_T/got.body"
    [ "$(wc -c <"$RR_T/got.body")" -gt 1000 ]
}

@test "lines longer than 998 bytes arrive without losing a byte" {
    # Postfix's own smtp(8) breaks such lines by inserting CRLF SPACE
    # (smtp_line_length_limit = 998). Removing every inserted "\n " from the
    # dump must give back the original body. Lines above line_length_limit
    # (2048) are also stored in pieces by cleanup(8).
    one_sink_instance
    {
        printf 'Subject: long lines\n\nshort\n'
        for n in 999 1000 2047 2048 2049 5000 20000; do
            pattern_line "$n"
            printf '\n'
        done
        printf '.'
        pattern_line 3000
        printf '\nend\n'
    } >"$RR_T/msg"
    deliver_file "$RR_T/msg"
    rr_msg_body "$RR_T/msg" >"$RR_T/sent.body"
    rr_dump_body "$(rr_sink_dumps s1)" | perl -0777 -pe 's/\n //g' >"$RR_T/got.body"
    cmp "$RR_T/sent.body" "$RR_T/got.body"
    # What arrived, for the record (lengths of the received lines).
    rr_dump_body "$(rr_sink_dumps s1)" | awk '{ print length($0) }' | tr '\n' ' '
}

@test "the null sender reaches the upstream as MAIL FROM:<>" {
    one_sink_instance
    printf 'Subject: bounce-like\n\nbody\n' >"$RR_T/msg"
    deliver_file "$RR_T/msg" ""
    rr_eq "maillog from=<>" 1 "$(rr_maillog_count 'qmgr\[[0-9]+\]: [0-9A-F]+: from=<>,')"
    rr_eq "X-Mail-Args <>" 1 "$(rr_sink_grep s1 '^X-Mail-Args: <>( |$)')"
    rr_eq "X-Rcpt-Args" 1 "$(rr_sink_grep s1 '^X-Rcpt-Args: <r@example\.org>( |$)')"
}

@test "a 100 MB message is relayed with flat memory (max RSS < 16 MiB)" {
    rr_sink_start big
    {
        printf 'From: s@sender.test\nTo: r@example.org\nSubject: 100 MB\n\n'
        head -c 75000000 /dev/urandom | base64 -w 76
        printf '.\n..\n'
    } >"$RR_T/big.msg"
    rr_ge "message size" 100000000 "$(wc -c <"$RR_T/big.msg")"
    run -0 /usr/bin/time -f %M -o "$RR_T/rss" \
        setpriv --reuid=rrelay --regid=rrelay --init-groups \
        env -i PATH=/usr/bin:/bin "$RRELAY" \
        -o "state_directory=$RR_T/state" -o "log=$RR_T/rrelay.log" \
        -q BIG0001 -f s@sender.test -n "[127.0.0.1]:$(rr_sink_port big)" -- r@example.org \
        <"$RR_T/big.msg"
    rr_eq "sink big" 1 "$(rr_sink_count big)"
    rr_msg_body "$RR_T/big.msg" >"$RR_T/sent.body"
    rr_dump_body "$(rr_sink_dumps big)" >"$RR_T/got.body"
    rr_eq "body size at the sink" "$(wc -c <"$RR_T/sent.body")" "$(wc -c <"$RR_T/got.body")"
    cmp "$RR_T/sent.body" "$RR_T/got.body"
    rss=$(tail -n 1 "$RR_T/rss")
    echo "max RSS: $rss KiB"
    if [[ ${SANITIZE:-} == 1 ]]; then
        skip "delivered; RSS bound not checked under AddressSanitizer ($rss KiB)"
    fi
    [ "$rss" -lt 16384 ]
}
