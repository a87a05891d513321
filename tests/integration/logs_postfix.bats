#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# logs_postfix.bats - log = postfix puts rrelay's lines into Postfix's own
# maillog_file (through postlogd, no syslog daemon needed), and a log
# target that cannot be used never defers mail.
#
# The instance of lib.bash logs with maillog_file and a postlog service,
# as a Postfix without syslog does. The package makes the transport
# set-gid postdrop (public/ is open to that group only); here a copy of
# the binary under test gets the same bit. rrelay runs set-gid with the
# instance's MAIL_CONFIG, so the instance is listed in the system's
# alternate_config_directories (rr_altconf_add), as Postfix's own
# set-gid programs require.

bats_require_minimum_version 1.5.0
load lib

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

# sgid_copy: print the path of a set-gid postdrop copy of $RRELAY
sgid_copy() {
    install -o root -g postdrop -m 2755 "$RRELAY" "$RR_T/rrelay-sgid" &&
        echo "$RR_T/rrelay-sgid"
}

# one_queue_id: print the queue id of the one message the maillog shows sent by rrelay
one_queue_id() {
    grep -E 'relay=rrelay, .*status=sent' "$(rr_maillog)" |
        sed -E 's/.*: ([0-9A-F]+): to=.*/\1/' | head -1
}

@test "log = postfix: grep QUEUEID on maillog_file shows Postfix's lines and rrelay's" {
    local sgid qid
    rr_sink_start s1
    sgid=$(sgid_copy)
    RRELAY=$sgid rr_postfix_init "[$RR_HOST]:$(rr_sink_port s1)" log=postfix
    rr_altconf_add "$(rr_pf_etc)"
    rr_postfix_start
    rr_smtp_inject 1
    rr_wait_maillog 1 'relay=rrelay, .*status=sent'
    rr_wait_maillog 1 ' rrelay\[[0-9]+\]: [0-9A-F]+: result=sent'
    qid=$(one_queue_id)
    [ -n "$qid" ]
    grep -F "$qid" "$(rr_maillog)" | sed 's/^/# /' >&3
    # Postfix's own lines for it, and rrelay's, in Postfix's shape (short host name).
    grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} mta postfix/cleanup\[[0-9]+\]: $qid: message-id=" "$(rr_maillog)"
    grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} mta postfix/pipe\[[0-9]+\]: $qid: to=<rcpt@example.org>, relay=rrelay, .*status=sent" "$(rr_maillog)"
    grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} mta rrelay\[[0-9]+\]: $qid: to=<rcpt@example.org>, relay=$RR_HOST\[$RR_HOST\]:$(rr_sink_port s1), .*status=sent" "$(rr_maillog)"
    grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} mta rrelay\[[0-9]+\]: $qid: result=sent, exit=0" "$(rr_maillog)"
    # Nothing in the file that was rr_postfix_init's log setting, and no fallback.
    [ ! -s "$RR_T/rrelay.log" ]
    rr_eq "fallback warnings" 0 "$(rr_maillog_count 'syslog\+stderr')"
    rr_eq "sink s1" 1 "$(rr_sink_count s1)"
}

@test "log = postfix without the postdrop group: delivered, and one warning in Postfix's log" {
    rr_sink_start s1
    # The binary under test, not set-gid: public/postlog is out of its reach.
    rr_postfix_init "[$RR_HOST]:$(rr_sink_port s1)" log=postfix
    rr_postfix_start
    rr_smtp_inject 1
    rr_wait_maillog 1 'relay=rrelay, .*status=sent'
    rr_eq "warnings" 1 "$(rr_maillog_count 'status=sent \(delivered via rrelay service \(delivered via [^ ]* rrelay: warning: logging to syslog\+stderr: log = postfix')"
    rr_eq "sink s1" 1 "$(rr_sink_count s1)"
}

@test "a log file rrelay cannot open: delivered, and one warning in Postfix's log" {
    rr_sink_start s1
    mkdir -m 755 "$RR_T/logs"
    : >"$RR_T/logs/mail.log"
    chmod 644 "$RR_T/logs/mail.log" # root's, as /var/log/mail.log is
    rr_postfix_init "[$RR_HOST]:$(rr_sink_port s1)" "log=$RR_T/logs/mail.log"
    rr_postfix_start
    rr_smtp_inject 2
    rr_wait_maillog 2 'relay=rrelay, .*status=sent'
    rr_eq "deferrals" 0 "$(rr_maillog_count 'status=deferred')"
    # One warning per delivery (each is its own process), naming the file.
    rr_eq "warnings" 2 "$(rr_maillog_count 'status=sent \(delivered via rrelay service \(delivered via [^ ]* rrelay: warning: logging to syslog\+stderr: log = /')"
    rr_eq "warning lines" 2 "$(grep -o 'rrelay: warning: logging to syslog' "$(rr_maillog)" | wc -l)"
    [ ! -s "$RR_T/logs/mail.log" ]
    rr_eq "sink s1" 2 "$(rr_sink_count s1)"
    # The whole warning, once, right after the status text that pipe(8) reads.
    run -0 rr_rrelay -o "log=$RR_T/logs/mail.log" -q QID1 -f a@sender.test \
        -n "[$RR_HOST]:$(rr_sink_port s1)" -- b@example.org < <(printf 'Subject: x\n\nbody\n')
    [[ ${lines[0]} == "delivered via "* ]]
    rr_eq "warning" "rrelay: warning: logging to syslog+stderr: log = $RR_T/logs/mail.log: open log file $RR_T/logs/mail.log: Permission denied" "${lines[1]}"
    rr_eq "warnings" 1 "$(grep -c 'logging to syslog' <<<"$output")"
    # Every later line goes to the fallback too.
    [[ $output == *"rrelay: QID1: result=sent, exit=0"* ]]
}

@test "pipe(8)'s text for a deferral has no stray space at its end" {
    local dead
    dead=$(rr_free_port)
    rr_postfix_init "[$RR_HOST]:$dead" connect_timeout=1s
    rr_postfix_start
    rr_smtp_inject 1
    rr_wait_maillog 1 'relay=rrelay, .*status=deferred'
    grep -E 'relay=rrelay, .*status=deferred' "$(rr_maillog)" | sed 's/^/# /' >&3
    rr_eq "deferrals ending in ' )'" 0 "$(rr_maillog_count 'status=deferred .* \)$')"
    rr_eq "deferrals ending in ')'" 1 "$(rr_maillog_count 'relay=rrelay, .*status=deferred \(.*[^ ]\)$')"
}
