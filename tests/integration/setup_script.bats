#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# setup_script.bats - postfix-config/rrelay-setup puts rrelay into a Postfix

bats_require_minimum_version 1.5.0
load lib

SETUP=$BATS_TEST_DIRNAME/../../postfix-config/rrelay-setup

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    # The user that the "creates" test makes, if it failed before --undo.
    if [[ -n ${TEST_USER:-} ]] && getent passwd "$TEST_USER" >/dev/null; then
        userdel "$TEST_USER"
    fi
    rr_teardown
}

# fingerprint FILE...: print each file's checksum, mode, owner and mtime
fingerprint() {
    local f
    for f in "$@"; do
        echo "$f $(sha256sum <"$f") $(stat -c '%a %U:%G %Y' "$f")"
    done
}

@test "rrelay-setup adds the service and relayhost with postconf, and mail flows" {
    rr_sink_start s1
    rr_sink_start s2
    list="[127.0.0.1]:$(rr_sink_port s1), [127.0.0.1]:$(rr_sink_port s2)"
    # An instance as a user has it before rrelay: no rrelay service, plain smtp.
    rr_postfix_init_plain
    etc=$(rr_pf_etc)
    [ -z "$(postconf -c "$etc" -M rrelay/unix 2>/dev/null)" ]

    # -n prints the commands and changes nothing.
    run -0 "$SETUP" -n -c "$etc" -b "$RRELAY" -s "$RR_T/state" \
        -o "log=$RR_T/rrelay.log" "$list"
    [[ $output == *"postconf -c $etc -M 'rrelay/unix=rrelay unix "* ]]
    [ -z "$(postconf -c "$etc" -M rrelay/unix 2>/dev/null)" ]

    # A -r file that is not there would defer every message: refused.
    run -1 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" \
        -o "log=$RR_T/rrelay.log" "$list"
    [[ $output == *"$RR_T/rrelay.conf does not exist"* ]]
    [ -z "$(postconf -c "$etc" -M rrelay/unix 2>/dev/null)" ]
    echo '# empty' >"$RR_T/rrelay.conf"
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" \
        -o "log=$RR_T/rrelay.log" "$list"
    [ "$(postconf -c "$etc" -h relayhost)" = "$list" ]
    [ "$(postconf -c "$etc" -h default_transport)" = rrelay ]
    [ "$(postconf -c "$etc" -h relay_transport)" = rrelay ]
    run -0 postconf -c "$etc" -M rrelay/unix
    [[ $output == *"pipe flags=q null_sender= user=rrelay argv=$RRELAY -o state_directory=$RR_T/state -c $RR_T/rrelay.conf -o log=$RR_T/rrelay.log -o helo_name=mta.rrelay.test -q \${queue_id} -f \${sender} -n \${nexthop} -- \${recipient}"* ]]
    [ "$(stat -c %U "$RR_T/state")" = rrelay ]

    rr_postfix_start
    rr_smtp_inject 4
    rr_wait_maillog 4 'relay=rrelay, .*status=sent'
    rr_eq "sink s1" 2 "$(rr_sink_count s1)"
    rr_eq "sink s2" 2 "$(rr_sink_count s2)"
}

@test "rrelay-setup passes helo_name from myhostname on argv unless set, never editing rrelay.conf; --cache installs the cache's unit" {
    rr_postfix_init "[127.0.0.1]:1"
    etc=$(rr_pf_etc)
    conf=$RR_T/etc-rrelay/rrelay.conf
    mkdir -p "$(dirname "$conf")"
    echo '# empty' >"$conf"
    run -0 "$SETUP" -n --cache -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    [[ $output == *" -o helo_name=mta.rrelay.test "* ]]
    [[ $output == *"sh -c 'sed '\''s,^ExecStart=[^ ]*,ExecStart=/usr/"*"/rrelay-cache,'\'' '\''"*"/rrelay-cache.service'\'' >/etc/systemd/system/rrelay-cache.service'"* ]]
    [[ $output == *"systemctl enable --now rrelay-cache"* ]]
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    # The instance logs to maillog_file: rrelay logs there too.
    [[ $(postconf -c "$etc" -M rrelay/unix) == *" -o helo_name=mta.rrelay.test -o log=postfix -q "* ]]
    rr_eq "rrelay.conf untouched" "# empty" "$(cat "$conf")"
    # Set in rrelay.conf: left to it.
    printf 'helo_name = mine.example\n' >"$conf"
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    rr_eq "rrelay.conf untouched" "helo_name = mine.example" "$(cat "$conf")"
    [[ $(postconf -c "$etc" -M rrelay/unix) != *"helo_name"* ]]
    # Or by -o.
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -o helo_name=other.example '[127.0.0.1]:25'
    [[ $(postconf -c "$etc" -M rrelay/unix) == *" -o helo_name=other.example -o log=postfix -q "* ]]
}

@test "rrelay-setup refuses bad input" {
    run "$SETUP" -n -u root '[127.0.0.1]:25'
    [ "$status" -eq 2 ]
    run "$SETUP" -n
    [ "$status" -eq 2 ]
    run "$SETUP" -n "$(printf '[a]\nmydestination=evil')"
    [ "$status" -eq 2 ]
    run "$SETUP" -b /nonexistent/rrelay '[127.0.0.1]:25'
    [ "$status" -eq 1 ]
    [[ $output == *"make install"* ]]
}

@test "rrelay-setup checks the list with the transport's parser: a bad one exits 2 and changes nothing" {
    local bad
    rr_postfix_init_plain
    etc=$(rr_pf_etc)
    before=$(fingerprint "$etc/main.cf" "$etc/master.cf")
    for bad in '[bad' '[127.0.0.1]:99999' '' ' , '; do
        run "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" "$bad"
        echo "list '$bad': $output"
        [ "$status" -eq 2 ]
        [[ $output == *"rrelay: bad destinations: "* ]]
        [[ $output == *"nothing changed"* ]]
        [ "$(fingerprint "$etc/main.cf" "$etc/master.cf")" = "$before" ]
        [ ! -e "$etc/rrelay-setup.backup" ]
    done
}

@test "rrelay-setup -n prints commands that bash runs to the same main.cf and master.cf" {
    local list="[127.0.0.1]:2525, [127.0.0.1]:2526"
    RR_PF=real rr_postfix_init_plain
    RR_PF=dry rr_postfix_init_plain
    real=$(RR_PF=real rr_pf_etc)
    drydir=$(RR_PF=dry rr_pf_etc)
    # Differences that are the instances' own (paths, ports), taken out.
    norm() { sed -e "s,$RR_T/\\(real\\|dry\\),DIR,g" -e 's/\(real\|dry\)\.rrelay\.test/HOST/g' -e 's/[0-9]*\(\/inet\| *inet\)/PORT\1/' "$1"; }
    run -0 "$SETUP" -c "$real" -b "$RRELAY" -s "$RR_T/state" --milter -a tempfail "$list"
    run -0 "$SETUP" -n -c "$drydir" -b "$RRELAY" -s "$RR_T/state" --milter -a tempfail "$list"
    echo "$output" >"$RR_T/dry.sh"
    [ ! -e "$drydir/rrelay-setup.backup" ]
    run -0 bash -e "$RR_T/dry.sh"
    [ "$(postconf -c "$drydir" -h relayhost)" = "$list" ]
    [[ $(postconf -c "$drydir" -M rrelay/unix) == *' -q ${queue_id} -f ${sender} -n ${nexthop} -- ${recipient}' ]]
    diff <(norm "$real/main.cf") <(norm "$drydir/main.cf")
    diff <(norm "$real/master.cf") <(norm "$drydir/master.cf")
}

# milter_start SOCKDIR: the milter built here, on SOCKDIR/milter.sock (drops to rrelay)
milter_start() {
    "$RRELAY_MILTER" -f -o "socket=unix:$1/milter.sock" -o "log=$RR_T/milter.log" \
        -o authserv_id=mta.rrelay.test </dev/null >"$RR_T/milter.out" 2>&1 &
    echo $! >"$RR_T/milter.pid"
    rr_track_pid "$(cat "$RR_T/milter.pid")"
    rr_wait 10 test -S "$1/milter.sock"
}

# smtp_reply: the reply to MAIL FROM of a session with instance $RR_PF's smtpd
smtp_reply() {
    python3 - "$RR_HOST" "$(rr_smtpd_port)" <<'PY'
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=30)
s.ehlo("client.rrelay.test")
code, text = s.mail("a@sender.test")
print(code)
s.quit()
PY
}

@test "rrelay-setup --milter wires the milter into smtpd (chrooted or not); --undo takes all of it out" {
    [[ -x $RRELAY_MILTER ]] || skip "rrelay-milter not built"
    rr_postfix_init_plain
    etc=$(rr_pf_etc)
    qdir=$(postconf -c "$etc" -h queue_directory)
    sock=$qdir/rrelay-milter/milter.sock
    postconf -c "$etc" -e 'smtpd_milters = inet:127.0.0.1:1' 'milter_default_action = accept'
    cp -p "$etc/main.cf" "$RR_T/main.cf.orig"
    # Not chrooted: the socket's own path; ours first, the other one kept.
    run -0 "$SETUP" -c "$etc" --milter -a tempfail
    [ "$(postconf -c "$etc" -h smtpd_milters)" = "unix:$sock, inet:127.0.0.1:1" ]
    [ "$(postconf -c "$etc" -h milter_default_action)" = tempfail ]
    [ -z "$(postconf -c "$etc" -n non_smtpd_milters)" ]
    [ "$(stat -c '%U:%G %a' "$qdir/rrelay-milter")" = "rrelay:postfix 2750" ]
    run -0 "$SETUP" -c "$etc" --milter -a tempfail
    [ "$(postconf -c "$etc" -h smtpd_milters)" = "unix:$sock, inet:127.0.0.1:1" ]
    run -0 "$SETUP" -c "$etc" --undo
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    [ ! -e "$qdir/rrelay-milter" ]
    # The default action is accept: a milter that is down never stops mail.
    run -0 "$SETUP" -n -c "$etc" --milter
    [[ $output == *"postconf -c $etc -e 'milter_default_action = accept'"* ]]

    # Chrooted smtpd, as Debian ships it: the path inside the chroot.
    postconf -c "$etc" -F "$RR_HOST:$(rr_smtpd_port)/inet/chroot = y"
    postconf -c "$etc" -X smtpd_milters milter_default_action
    cp -p "$etc/main.cf" "$RR_T/main.cf.orig"
    run -0 "$SETUP" -c "$etc" --milter -a tempfail -N
    [ "$(postconf -c "$etc" -h smtpd_milters)" = "unix:/rrelay-milter/milter.sock" ]
    [ "$(postconf -c "$etc" -h non_smtpd_milters)" = "unix:/rrelay-milter/milter.sock" ]
    milter_start "$qdir/rrelay-milter"
    [ "$(stat -c '%U:%G %a' "$sock")" = "rrelay:postfix 660" ]
    rr_postfix_start
    # Postfix reaches the milter: accepted while it runs, 451 once it is gone.
    rr_eq "MAIL FROM, milter up" 250 "$(smtp_reply)"
    rr_kill_pid "$(cat "$RR_T/milter.pid")"
    rr_eq "MAIL FROM, milter down" 451 "$(smtp_reply)"
    run -0 "$SETUP" -c "$etc" --undo
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    [ ! -e "$qdir/rrelay-milter" ]
    rr_postfix_reload
    rr_wait_eq 10 250 smtp_reply
    # A bare host name as authserv_id starts, with a warning (and ours had none);
    # a log file that cannot be opened starts too, logging to syslog and
    # stderr, and says so once.
    run ! grep -q 'not a fully qualified' "$RR_T/milter.log"
    "$RRELAY_MILTER" -f -o "socket=unix:$RR_T/m2.sock" -o "log=$RR_T/nonexistent/m2.log" \
        -o authserv_id=vm </dev/null >"$RR_T/m2.out" 2>&1 &
    m2=$!
    rr_track_pid "$m2"
    rr_wait 10 grep -q 'started:' "$RR_T/m2.out"
    rr_eq "fallback warnings" 1 "$(grep -c "rrelay-milter: warning: logging to syslog+stderr: log = $RR_T/nonexistent/m2.log: open log file" "$RR_T/m2.out")"
    grep -q 'warning: authserv_id "vm" is not a fully qualified name' "$RR_T/m2.out"
    rr_kill_pid "$m2"
}


@test "rrelay-setup --undo restores main.cf and master.cf from its backup; a second --undo changes nothing" {
    rr_postfix_init "[127.0.0.1]:1"
    etc=$(rr_pf_etc)
    # Before: no rrelay service, relayhost set (empty), relay_transport unset.
    postconf -c "$etc" -MX rrelay/unix
    postconf -c "$etc" -e relayhost= default_transport=smtp
    postconf -c "$etc" -X relay_transport
    cp -p "$etc/main.cf" "$RR_T/main.cf.orig"
    cp -p "$etc/master.cf" "$RR_T/master.cf.orig"
    mode=$(stat -c '%a %U' "$RR_T/state")

    printf 'log = syslog\n' >"$RR_T/rrelay.conf"
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" '[127.0.0.1]:2525'
    [ -f "$etc/rrelay-setup.backup" ]
    # rrelay.conf chose its log: no -o log=postfix over it.
    [[ $(postconf -c "$etc" -M rrelay/unix) != *"log=postfix"* ]]
    [[ $(postconf -c "$etc" -M rrelay/unix) == *" -o helo_name=mta.rrelay.test -q "* ]]
    # A second run keeps the first backup: --undo goes back to before both.
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" '[127.0.0.1]:2526'
    [ "$(postconf -c "$etc" -h relayhost)" = "[127.0.0.1]:2526" ]
    [ "$(postconf -c "$etc" -h relay_transport)" = rrelay ]
    [ -n "$(postconf -c "$etc" -M rrelay/unix)" ]
    [ "$(stat -c '%a %U' "$RR_T/state")" = "751 rrelay" ]

    # -n prints the commands and changes nothing.
    before=$(fingerprint "$etc/main.cf" "$etc/master.cf" "$etc/rrelay-setup.backup")
    run -0 "$SETUP" -n -c "$etc" --undo
    [[ $output == *"postconf -c $etc -MX rrelay/unix"* ]]
    [ "$(fingerprint "$etc/main.cf" "$etc/master.cf" "$etc/rrelay-setup.backup")" = "$before" ]

    run -0 "$SETUP" -c "$etc" --undo
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    cmp "$RR_T/master.cf.orig" "$etc/master.cf"
    [ -z "$(postconf -c "$etc" -M rrelay/unix 2>/dev/null)" ]
    [ -z "$(postconf -c "$etc" -n relay_transport)" ]
    [ "$(stat -c '%a %U' "$RR_T/state")" = "$mode" ]
    [ ! -e "$etc/rrelay-setup.backup" ]
    rr_eq "rrelay.conf after --undo" "log = syslog" "$(cat "$RR_T/rrelay.conf")"

    before=$(fingerprint "$etc/main.cf" "$etc/master.cf" "$RR_T/state")
    run -0 "$SETUP" -c "$etc" --undo
    [[ $output == *"nothing to undo"* ]]
    [ "$(fingerprint "$etc/main.cf" "$etc/master.cf" "$RR_T/state")" = "$before" ]
    [ "$(ls -A "$etc" | sort)" = "$(printf '%s\n' main.cf master.cf transport)" ]
}

@test "rrelay-setup --undo removes the user and state directory that rrelay-setup created" {
    TEST_USER=rrsetup$$
    run ! getent passwd "$TEST_USER"
    rr_postfix_init "[127.0.0.1]:1"
    etc=$(rr_pf_etc)
    cp -p "$etc/main.cf" "$RR_T/main.cf.orig"
    services=$(postconf -c "$etc" -M)
    echo '# empty' >"$RR_T/rrelay.conf"
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -u "$TEST_USER" -s "$RR_T/new" -r "$RR_T/rrelay.conf" '[127.0.0.1]:2525'
    getent passwd "$TEST_USER"
    [ "$(stat -c '%a %U' "$RR_T/new")" = "751 $TEST_USER" ]
    [[ $(postconf -c "$etc" -M rrelay/unix) == *"user=$TEST_USER argv=$RRELAY -o state_directory=$RR_T/new "* ]]

    run -0 "$SETUP" -c "$etc" --undo
    run ! getent passwd "$TEST_USER"
    [ ! -e "$RR_T/new" ]
    # lib.bash's instance had its own rrelay service: it is back as it
    # was (postconf -M writes it on one line, where lib.bash folded it).
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    [ "$(postconf -c "$etc" -M)" = "$services" ]
}
