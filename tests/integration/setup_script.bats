#!/usr/bin/env bats
# setup_script.bats - postfix-config/rrelay-setup puts rrelay into a Postfix

bats_require_minimum_version 1.5.0
load lib

SETUP=$BATS_TEST_DIRNAME/../../postfix-config/rrelay-setup

setup() {
    rr_setup
    rr_require_rrelay
}

teardown() {
    rr_teardown
}

@test "rrelay-setup adds the service and relayhost with postconf, and mail flows" {
    rr_sink_start s1
    rr_sink_start s2
    list="[127.0.0.1]:$(rr_sink_port s1), [127.0.0.1]:$(rr_sink_port s2)"
    # An instance as a user has it before rrelay: no rrelay service, plain smtp.
    rr_postfix_init "[127.0.0.1]:1"
    etc=$(rr_pf_etc)
    postconf -c "$etc" -MX rrelay/unix
    postconf -c "$etc" -e relayhost= default_transport=smtp relay_transport=relay
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
    [[ $output == *"install -m 0644 "*"/rrelay-cache.service /etc/systemd/system/rrelay-cache.service"* ]]
    [[ $output == *"systemctl enable --now rrelay-cache"* ]]
    [[ ! -e $conf ]]
    run -0 "$SETUP" -c "$etc" -b "$RRELAY" -s "$RR_T/state" -r "$conf" '[127.0.0.1]:25'
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
