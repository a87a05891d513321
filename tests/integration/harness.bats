#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# harness.bats - self-tests of lib.bash: no rrelay binary needed

bats_require_minimum_version 1.5.0
load lib

setup_file() {
    # Checksums of the system Postfix config, compared after every test.
    if [[ $(id -u) == 0 ]]; then
        find /etc/postfix -type f -exec md5sum {} + | sort >"$BATS_FILE_TMPDIR/etc-postfix.md5"
    fi
}

setup() {
    rr_setup
}

teardown() {
    rr_teardown
    if [[ -f $BATS_FILE_TMPDIR/etc-postfix.md5 ]]; then
        diff "$BATS_FILE_TMPDIR/etc-postfix.md5" \
            <(find /etc/postfix -type f -exec md5sum {} + | sort)
    fi
}

# use_postfix_smtp: make instance $RR_PF deliver with Postfix's own smtp(8)
use_postfix_smtp() {
    rr_postconf default_transport=smtp relay_transport=smtp
}

@test "harness: a throwaway instance with Postfix's smtp transport delivers to a sink" {
    rr_sink_start s1
    rr_postfix_init "[127.0.0.1]:$(rr_sink_port s1)"
    use_postfix_smtp
    rr_postfix_start
    rr_smtp_inject 5
    printf 'Subject: via sendmail\n\nhello\n' | rr_sendmail -i -f a@sender.test b@example.org
    rr_wait_maillog 6 'status=sent'
    rr_wait_queue_empty 10
    [ "$(rr_sink_count s1)" -eq 6 ]
    [ "$(rr_maillog_count "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$(rr_sink_port s1),.*status=sent")" -eq 6 ]
    [ "$(rr_sink_grep s1 '^X-Rcpt-Args: <b@example\.org>')" -eq 1 ]
    [ "$(rr_maillog_count 'status=(deferred|bounced)')" -eq 0 ]
}

@test "harness: the rrelay pipe entry passes the expected argv, environment and stdin" {
    # A stand-in for rrelay records what pipe(8) gives it, in a dir it owns.
    mkdir "$RR_T/fake"
    chown rrelay "$RR_T/fake"
    cat >"$RR_T/fake/rrelay" <<'EOF'
#!/bin/sh
out=$(dirname "$0")
{ id -un; for a in "$@"; do printf '<%s>\n' "$a"; done; env | sort; } >"$out/args"
cat >"$out/stdin"
exit 0
EOF
    chmod 755 "$RR_T/fake/rrelay"
    RRELAY=$RR_T/fake/rrelay rr_postfix_init "[127.0.0.1]:20001, [127.0.0.1]:20002" backoff=1s
    rr_postfix_start
    printf 'Subject: argv\n\n.line\n' | rr_sendmail -i -f "" x@example.org
    rr_wait_maillog 1 'relay=rrelay,.*status=sent'
    run cat "$RR_T/fake/args"
    [ "${lines[0]}" = rrelay ]
    [[ $output == *"<-o>"$'\n'"<state_directory=$RR_T/state>"* ]]
    [[ $output == *"<-o>"$'\n'"<log=$RR_T/rrelay.log>"* ]]
    [[ $output == *"<-o>"$'\n'"<backoff=1s>"* ]]
    [[ $output == *"<-f>"$'\n'"<>"$'\n'"<-n>"$'\n'"<[127.0.0.1]:20001, [127.0.0.1]:20002>"$'\n'"<-->"$'\n'"<x@example.org>"* ]]
    [[ $output == *"MAIL_CONFIG=$RR_T/mta/etc"* ]]
    grep -qx '\.line' "$RR_T/fake/stdin"
}

@test "harness: silent_server counts connections and never sends a byte" {
    rr_silent_start quiet
    port=$(rr_silent_port quiet)
    [ "$(rr_silent_count quiet)" -eq 0 ]
    exec 5<>"/dev/tcp/127.0.0.1/$port"
    run ! read -r -t 0.5 -u 5 line
    exec 6<>"/dev/tcp/127.0.0.1/$port"
    exec 5>&- 6>&-
    rr_wait_eq 5 2 rr_silent_count quiet
}

@test "harness: smtp-sink options make 4xx and 5xx upstreams, dumps count transactions" {
    rr_sink_start soft -r RCPT
    rr_sink_start hard -f RCPT
    rr_sink_start ok
    run smtp-source -f a@sender.test -t b@example.org "127.0.0.1:$(rr_sink_port soft)"
    [[ $output == *"450 4."* ]]
    run smtp-source -f a@sender.test -t b@example.org "127.0.0.1:$(rr_sink_port hard)"
    [[ $output == *"500 5."* ]]
    run -0 smtp-source -m 3 -f a@sender.test -t b@example.org "127.0.0.1:$(rr_sink_port ok)"
    rr_wait_eq 5 1 rr_sink_sessions soft
    rr_wait_eq 5 1 rr_sink_sessions hard
    [ "$(rr_sink_count soft)" -eq 0 ]
    [ "$(rr_sink_count hard)" -eq 0 ]
    [ "$(rr_sink_count ok)" -eq 3 ]
    rr_sink_stop ok
    run ! rr_listening "$(rr_sink_port ok)"
}

@test "harness: sendmail hand-back as user rrelay works only with alternate_config_directories" {
    rr_sink_start s1
    rr_postfix_init "[127.0.0.1]:$(rr_sink_port s1)"
    use_postfix_smtp
    rr_postfix_start
    # Without the entry postdrop refuses a non-default instance (and on a
    # machine with no /etc/postfix/main.cf at all, sendmail refuses first).
    run rr_as_rrelay /usr/sbin/sendmail -i -f a@sender.test b@example.org </dev/null
    echo "$output"
    [ "$status" -ne 0 ]
    [[ $output == *alternate_config_directories* ||
       $output == *"/etc/postfix/main.cf: No such file"* ]]
    rr_altconf_add "$(rr_pf_etc)"
    [[ $(postconf -h alternate_config_directories) == *"$(rr_pf_etc)"* ]]
    printf 'Subject: handed back\n\nbody\n' |
        rr_as_rrelay /usr/sbin/sendmail -i -f a@sender.test b@example.org
    rr_wait_maillog 1 'to=<b@example\.org>.*status=sent'
    [ "$(rr_sink_grep s1 '^Subject: handed back$')" -eq 1 ]
    rr_altconf_restore
    [[ $(postconf -h alternate_config_directories) != *"$RR_T"* ]]
}

@test "harness: port picking avoids listening ports and repeats" {
    rr_sink_start s1
    used=$(rr_sink_port s1)
    for _ in $(seq 50); do
        p=$(rr_free_port)
        [ "$p" != "$used" ]
        run ! rr_listening "$p"
    done
    [ "$(sort "$RR_T/ports" | uniq -d | wc -l)" -eq 0 ]
    [ "$(wc -l <"$RR_T/ports")" -eq 51 ]
}

@test "harness: teardown stops Postfix and every process, removes the temp dir" {
    rr_sink_start s1
    rr_silent_start quiet
    rr_postfix_init "[127.0.0.1]:$(rr_sink_port s1)"
    rr_postfix_start
    master=$(tr -d ' ' <"$(rr_pf_dir)/queue/pid/master.pid")
    t=$RR_T
    rr_teardown
    [ ! -e "$t" ]
    run ! proc_alive "$master"
    RR_T=$t run rr_strays
    [ -z "$output" ]
    rr_setup # so that teardown has something to do
}
