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
    [[ $output == *"postconf -c $etc -M rrelay/unix="* ]]
    [ -z "$(postconf -c "$etc" -M rrelay/unix 2>/dev/null)" ]

    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" \
        -o "log=$RR_T/rrelay.log" "$list"
    [ "$(postconf -c "$etc" -h relayhost)" = "$list" ]
    [ "$(postconf -c "$etc" -h default_transport)" = rrelay ]
    [ "$(postconf -c "$etc" -h relay_transport)" = rrelay ]
    run -0 postconf -c "$etc" -M rrelay/unix
    [[ $output == *"pipe flags=q null_sender= user=rrelay argv=$RRELAY -o state_directory=$RR_T/state -c $RR_T/rrelay.conf -o log=$RR_T/rrelay.log -q \${queue_id} -f \${sender} -n \${nexthop} -- \${recipient}"* ]]
    [ "$(stat -c %U "$RR_T/state")" = rrelay ]

    rr_postfix_start
    rr_smtp_inject 4
    rr_wait_maillog 4 'relay=rrelay, .*status=sent'
    rr_eq "sink s1" 2 "$(rr_sink_count s1)"
    rr_eq "sink s2" 2 "$(rr_sink_count s2)"
}

@test "rrelay-setup writes helo_name from myhostname unless set; --cache installs the cache's unit" {
    rr_postfix_init "[127.0.0.1]:1"
    etc=$(rr_pf_etc)
    conf=$RR_T/etc-rrelay/rrelay.conf
    run -0 "$SETUP" -n --cache -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    [[ $output == *"helo_name = mta.rrelay.test"* ]]
    [[ $output == *"ExecStart=/usr/"*"/rrelay-cache,' '"*"/rrelay-cache.service' >/etc/systemd/system/rrelay-cache.service"* ]]
    [[ $output == *"systemctl enable --now rrelay-cache"* ]]
    [[ ! -e $conf ]]
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    # The instance logs to maillog_file: rrelay logs there too.
    [[ $(postconf -c "$etc" -M rrelay/unix) == *" -o log=postfix -q "* ]]
    rr_eq "helo_name lines" 1 "$(grep -c '^helo_name = mta\.rrelay\.test$' "$conf")"
    # Set already (here, by the first run): left alone.
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    rr_eq "helo_name lines after a second run" 1 "$(grep -c '^helo_name' "$conf")"
    printf 'helo_name = mine.example\n' >"$conf"
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
    rr_eq "helo_name kept" "helo_name = mine.example" "$(cat "$conf")"
    # rrelay reads what was written.
    run -0 "$RRELAY" status -c "$conf" -o "state_directory=$RR_T/state"
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
    grep -q '^helo_name = mta\.rrelay\.test$' "$RR_T/rrelay.conf"
    # rrelay.conf chose its log: no -o log=postfix over it.
    [[ $(postconf -c "$etc" -M rrelay/unix) != *"log=postfix"* ]]
    # A second run keeps the first backup: --undo goes back to before both.
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$RR_T/rrelay.conf" '[127.0.0.1]:2526'
    [ "$(postconf -c "$etc" -h relayhost)" = "[127.0.0.1]:2526" ]
    [ "$(postconf -c "$etc" -h relay_transport)" = rrelay ]
    [ -n "$(postconf -c "$etc" -M rrelay/unix)" ]
    [ "$(stat -c '%a %U' "$RR_T/state")" = "750 rrelay" ]

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
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -u "$TEST_USER" -s "$RR_T/new" -r "$RR_T/rrelay.conf" '[127.0.0.1]:2525'
    getent passwd "$TEST_USER"
    [ "$(stat -c '%a %U' "$RR_T/new")" = "750 $TEST_USER" ]
    [[ $(postconf -c "$etc" -M rrelay/unix) == *"user=$TEST_USER argv=$RRELAY -o state_directory=$RR_T/new "* ]]

    run -0 "$SETUP" -c "$etc" --undo
    run ! getent passwd "$TEST_USER"
    [ ! -e "$RR_T/new" ]
    # lib.bash's instance had its own rrelay service: it is back as it
    # was (postconf -M writes it on one line, where lib.bash folded it).
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    [ "$(postconf -c "$etc" -M)" = "$services" ]
}
