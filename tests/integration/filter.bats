#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# filter.bats - rrelay-milter in front of a real Postfix, with real DNS
#
# Each test: a network namespace with dnsmasq serving the SPF zone, the
# milter, and a Postfix whose smtpd uses it and holds what it accepts.
# Clients connect from 192.0.2.1 / 2001:db8::1 (never 127.x).

bats_require_minimum_version 1.5.0
load filter_lib

setup_file() {
    fl_setup_file
}

setup() {
    fl_setup
    fl_dns_start
}

teardown() {
    fl_teardown
}

# count_hdr NAME: number of header fields NAME in $HDRS (any case)
count_hdr() {
    grep -ci "^$1:" <<<"$HDRS" || true
}

@test "filter: pass is marked with Received-SPF and Authentication-Results" {
    fl_start
    fl_send_ok mx.pass.test joe@pass.test
    grep -qx "Received-SPF: pass ($FL_ID: domain of joe@pass.test designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"joe@pass.test\"; helo=mx.pass.test; receiver=$FL_ID; identity=mailfrom;" <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=joe@pass.test" <<<"$HDRS"
    [ "$(count_hdr Received-SPF)" -eq 1 ]
    [ "$(count_hdr Authentication-Results)" -eq 1 ]
    fl_log_has "^.*: $QID: spf=pass identity=mailfrom client=unknown\[192\.0\.2\.1\] helo=mx\.pass\.test from=<joe@pass\.test> action=mark$"
    [ "$(fl_log_count "spf=")" -eq 1 ]
}

@test "filter: fail is rejected at MAIL FROM with 550 5.7.23" {
    fl_start
    run fl_smtp mx.pass.test joe@fail.test
    [[ $output == *"550 5.7.23 SPF fail: fail.test does not allow mail from 192.0.2.1"* ]]
    [[ $output != *"queued as"* ]]
    fl_log_has "NOQUEUE: spf=fail identity=mailfrom client=unknown\[192\.0\.2\.1\] helo=mx\.pass\.test from=<joe@fail\.test> action=reject$"
    grep -q "milter-reject: MAIL from unknown\[192.0.2.1\]: 550 5.7.23" "$FL_T/pf/maillog"
}

@test "filter: fail with an exp= explanation replies with it, % intact" {
    fl_start
    run fl_smtp mx.pass.test joe@exp.test
    [[ $output == *"550 5.7.23 joe@exp.test is not welcome from 192.0.2.1: 100% sure"* ]]
}

@test "filter: softfail, neutral and none are marked" {
    fl_start
    fl_send_ok mx.pass.test joe@softfail.test
    grep -q "^Received-SPF: softfail " <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=softfail smtp.mailfrom=joe@softfail.test" <<<"$HDRS"
    fl_send_ok mx.pass.test joe@neutral.test
    grep -qx "Authentication-Results: $FL_ID; spf=neutral smtp.mailfrom=joe@neutral.test" <<<"$HDRS"
    fl_send_ok mx.pass.test joe@nx.test
    grep -q "^Received-SPF: none " <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=none smtp.mailfrom=joe@nx.test" <<<"$HDRS"
    fl_send_ok mx.pass.test joe@other.test
    grep -qx "Authentication-Results: $FL_ID; spf=none smtp.mailfrom=joe@other.test" <<<"$HDRS"
    [ "$(fl_log_count "spf=(softfail|neutral|none) .*action=mark")" -eq 4 ]
}

@test "filter: temperror (SERVFAIL) is deferred with 451 4.7.24" {
    fl_start
    run fl_smtp mx.pass.test joe@x.temp.test
    [[ $output == *"451 4.7.24 SPF temperror checking x.temp.test: DNS lookup failure; try again later"* ]]
    fl_log_has "NOQUEUE: spf=temperror .*from=<joe@x\.temp\.test> action=defer \(DNS lookup failure\)$"
    grep -q "query\[TXT\] x.temp.test" "$FL_T/dns/dnsmasq.log" || true
}

@test "filter: a DNS server that never answers: temperror after dns_timeout" {
    fl_start dns_timeout=2s
    local t0 t1
    t0=$(date +%s%N)
    run fl_smtp mx.pass.test joe@x.slow.test
    t1=$(date +%s%N)
    [[ $output == *"451 4.7.24 "* ]]
    fl_log_has "spf=temperror .*action=defer \(DNS (time limit exceeded|lookup failure)\)$"
    # 2s budget, 1s granularity: well under the resolver's own 10s
    (((t1 - t0) / 1000000 < 4500))
}

@test "filter: a change to resolv.conf takes effect without a restart" {
    fl_start
    local rc=/etc/netns/$FL_NS/resolv.conf
    fl_send_ok mx.pass.test joe@pass.test      # the milter has resolver states now
    grep -q '^Received-SPF: pass ' <<<"$HDRS"
    # in place, as an admin's editor would (the namespace bind-mounts the file)
    printf 'nameserver 127.0.0.9\noptions timeout:1 attempts:1\n' >"$rc"
    run fl_smtp mx.pass.test joe@pass.test
    [[ $output == *"451 4.7.24 SPF temperror checking pass.test: DNS lookup failure"* ]]
    echo "nameserver 127.0.0.1" >"$rc"
    fl_send_ok mx.pass.test joe@pass.test
    grep -q '^Received-SPF: pass ' <<<"$HDRS"
}

@test "filter: permerror (two SPF records) is marked, or rejected with 550 5.7.24" {
    fl_start
    fl_send_ok mx.pass.test joe@two.test
    grep -q "^Received-SPF: permerror ($FL_ID: permanent error in processing domain of joe@two.test: " <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=permerror smtp.mailfrom=joe@two.test" <<<"$HDRS"
    fl_send_ok mx.pass.test joe@chain1.test
    grep -qx "Authentication-Results: $FL_ID; spf=permerror smtp.mailfrom=joe@chain1.test" <<<"$HDRS"
    fl_log_has "spf=permerror .*from=<joe@chain1\.test> action=mark \(more than 10 DNS-querying terms\)$"
    fl_send_ok mx.pass.test joe@void.test
    fl_log_has "spf=permerror .*from=<joe@void\.test> action=mark \(more than 2 void DNS lookups\)$"
    fl_send_ok mx.pass.test joe@chain2.test       # 10 includes: within the limit
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=joe@chain2.test" <<<"$HDRS"
    fl_milter_conf on_permerror=reject
    kill -HUP "$(fl_milter_pid)"
    fl_wait 5 fl_log_has "reloaded"
    run fl_smtp mx.pass.test joe@two.test
    [[ $output == *"550 5.7.24 SPF permerror in the policy of two.test: "* ]]
}

@test "filter: the null sender is checked through the HELO identity" {
    fl_start
    fl_send_ok helo.test ""
    grep -q "^Received-SPF: pass ($FL_ID: domain of helo.test designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"\"; helo=helo.test; receiver=$FL_ID; identity=helo;" <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.helo=helo.test" <<<"$HDRS"
    fl_log_has "$QID: spf=pass identity=helo .*helo=helo\.test from=<> action=mark$"
    run fl_smtp helofail.test ""
    [[ $output == *"550 5.7.23 SPF fail: helofail.test does not allow mail from 192.0.2.1"* ]]
    # helo_check: a failing HELO rejects a sender whose own domain passes
    run fl_smtp helofail.test joe@pass.test
    [[ $output == *"550 5.7.23 "* ]]
    fl_log_has "spf=fail identity=helo .*from=<joe@pass\.test> action=reject$"
}

@test "filter: IPv6 clients are checked against ip6: mechanisms" {
    fl_start
    local out qid
    out=$(fl_smtp mx.pass.test joe@pass.test "" "$FL_V6")
    qid=$(fl_qid "$out")
    [[ -n $qid ]]
    HDRS=$(fl_held_headers "$qid")
    grep -q 'client-ip="2001:db8::1";' <<<"$HDRS"    # not a dot-atom: quoted
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=joe@pass.test" <<<"$HDRS"
    run fl_smtp mx.pass.test joe@fail.test "" "$FL_V6"
    [[ $output == *"550 5.7.23 SPF fail: fail.test does not allow mail from 2001:db8::1"* ]]
}

@test "filter: clients in trusted_networks are not checked and get no header" {
    fl_start "trusted_networks=127.0.0.0/8, 192.0.2.0/24"
    fl_send_ok mx.pass.test joe@fail.test
    [ "$(count_hdr Received-SPF)" -eq 0 ]
    [ "$(count_hdr Authentication-Results)" -eq 0 ]
    fl_log_has "NOQUEUE: spf=skip client=unknown\[192\.0\.2\.1\] .*action=accept \(trusted network\)$"
    run fl_smtp mx.pass.test joe@fail.test "" "$FL_V6"     # not trusted
    [[ $output == *"550 5.7.23 "* ]]
}

@test "filter: several messages in one SMTP session: each checked and marked, or skipped, once" {
    command -v smtp-source >/dev/null || skip "needs smtp-source (postfix)"
    fl_start "trusted_networks=127.0.0.0/8, 2001:db8::/32"
    local qid n=0
    # untrusted 192.0.2.1: three messages over one connection (-d)
    fl_ns smtp-source -d -s 1 -m 3 -M mx.pass.test -f joe@pass.test -t rcpt@example.org "$FL_V4:25"
    # trusted 2001:db8::1: two messages over one connection
    fl_ns smtp-source -d -s 1 -m 2 -M mx.pass.test -f joe@fail.test -t rcpt@example.org "[$FL_V6]:25"
    fl_wait 10 bash -c "[ \$(find '$FL_T/pf/queue/hold' -type f | wc -l) -eq 5 ]"
    for qid in $(find "$FL_T/pf/queue/hold" -type f -printf '%f\n'); do
        HDRS=$(fl_held_headers "$qid")
        if grep -q '^Received-SPF: pass ' <<<"$HDRS"; then
            [ "$(count_hdr Received-SPF)" -eq 1 ]
            [ "$(count_hdr Authentication-Results)" -eq 1 ]
            n=$((n + 1))
        else
            [ "$(count_hdr Received-SPF)" -eq 0 ]
            [ "$(count_hdr Authentication-Results)" -eq 0 ]
        fi
    done
    [ "$n" -eq 3 ]
    [ "$(fl_log_count ": spf=pass identity=mailfrom client=unknown\[192\.0\.2\.1\] .*action=mark$")" -eq 3 ]
    [ "$(fl_log_count "NOQUEUE: spf=skip client=unknown\[2001:db8::1\] action=accept \(trusted network\)$")" -eq 1 ]
    [ "$(fl_log_count "spf=")" -eq 4 ]
}

@test "filter: forged Authentication-Results with our authserv-id are removed" {
    fl_start
    cat >"$FL_T/body" <<EOF
Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=ceo@bank.test
Authentication-Results:   MX.RRELAY.TEST ;
	dkim=pass header.d=bank.test
Authentication-Results: (forged) "$FL_ID"; dmarc=pass
Authentication-Results: other.test; spf=pass smtp.mailfrom=ceo@bank.test
Authentication-Results: $FL_ID.evil.test; spf=pass
Subject: forged

hello
EOF
    fl_send_ok mx.pass.test joe@pass.test
    [ "$(count_hdr Authentication-Results)" -eq 3 ]
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=joe@pass.test" <<<"$HDRS"
    grep -qx "Authentication-Results: other.test; spf=pass smtp.mailfrom=ceo@bank.test" <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID.evil.test; spf=pass" <<<"$HDRS"
    # ours is the only field left with our id, and it says nothing forged
    [ "$(grep -ci "^Authentication-Results: *\"\?$FL_ID\"\? *;" <<<"$HDRS")" -eq 1 ]
    [ "$(grep -ci 'dkim=pass\|dmarc=pass' <<<"$HDRS")" -eq 0 ]
    [ "$(grep -ci 'ceo@bank.test' <<<"$HDRS")" -eq 1 ]
    fl_log_has "$QID: removed 3 forged Authentication-Results fields$"
}

@test "filter: hostile HELO and MAIL FROM are quoted, add no field, do not crash" {
    fl_start
    # Postfix refuses invalid UTF-8 (500 5.5.2), so the 8-bit text is valid.
    fl_send_ok "evil\";x=y(z)'q'"$'\xc3\xa9'".test" '"a;b\"c"@pass.test'
    [ "$(count_hdr Received-SPF)" -eq 1 ]
    [ "$(count_hdr Authentication-Results)" -eq 1 ]
    [ "$(count_hdr x)" -eq 0 ]
    grep -q "helo=\"evil\\\\\";x=y(z)'q'??.test\";" <<<"$HDRS"
    fl_log_has "helo=evil\";x=y\(z\)'q'"$'\xc3\xa9'"\.test from="
    grep -q 'envelope-from="\\"a;b\\\\\\"c\\"@pass.test";' <<<"$HDRS"
    grep -qx "Authentication-Results: $FL_ID; spf=pass smtp.mailfrom=\"\\\\\"a;b\\\\\\\\\\\\\"c\\\\\"@pass.test\"" <<<"$HDRS"
    local long
    long=$(printf 'x%.0s' {1..600})
    fl_send_ok "$long.test" "$long@nx.test"
    grep -q "^Received-SPF: none " <<<"$HDRS"
    proc_alive "$(fl_milter_pid)"
}

@test "filter: SIGHUP reload: new connections get the new config, a bad one is refused" {
    fl_milter_conf
    fl_milter_start
    # A connection opened before the reload keeps the old configuration.
    fl_mt <<'EOF'
local function check(ok, what) if not ok then error(what, 2) end end
local old = mt.connect(SOCK, 20, 0.1)
check(old, "connect")
check(mt.conninfo(old, "client.test", "192.0.2.1") == nil, "conninfo")
check(mt.helo(old, "mx.pass.test") == nil, "helo")
-- connect and HELO get no reply: a MAIL FROM that does makes sure the milter
-- has taken the old connection's configuration before the reload
check(mt.mailfrom(old, "<joe@pass.test>") == nil, "mail 0")
check(mt.getreply(old) == SMFIR_CONTINUE, "old connection: pass goes on")
check(mt.abort(old) == nil, "abort")
check(os.execute("printf 'on_fail = mark\\n' >> " .. CONF), "append")
check(reload_wait(), "reload")
local new = mt.connect(SOCK, 20, 0.1)
check(mt.conninfo(new, "client.test", "192.0.2.1") == nil, "conninfo 2")
check(mt.helo(new, "mx.pass.test") == nil, "helo 2")
check(mt.mailfrom(new, "<joe@fail.test>") == nil, "mail 2")
check(mt.getreply(new) == SMFIR_CONTINUE, "new connection: fail is marked")
check(mt.mailfrom(old, "<joe@fail.test>") == nil, "mail 1")
check(mt.getreply(old) == SMFIR_REPLYCODE, "old connection: fail is still rejected")
mt.disconnect(old)
mt.disconnect(new)
EOF
    fl_log_has "reloaded $FL_T/milter.conf: new connections use it"
    # A broken configuration: logged, the one in use stays.
    echo "on_none = sometimes" >>"$FL_T/milter.conf"
    kill -HUP "$(fl_milter_pid)"
    fl_wait 5 fl_log_has "reload failed, keeping the configuration in use: $FL_T/milter.conf:[0-9]+: bad value \"sometimes\" for on_none"
    fl_mt <<'EOF'
local c = mt.connect(SOCK, 20, 0.1)
assert(mt.conninfo(c, "client.test", "192.0.2.1") == nil)
assert(mt.mailfrom(c, "<joe@fail.test>") == nil)
if mt.getreply(c) ~= SMFIR_CONTINUE then error("the last good config (on_fail = mark) is not in use") end
mt.disconnect(c)
EOF
    proc_alive "$(fl_milter_pid)"
}

@test "filter: daemon mode writes the pidfile, drops to user, SIGTERM removes socket and pidfile" {
    fl_milter_conf
    fl_ns "$RRELAY_MILTER" -c "$FL_T/milter.conf" </dev/null >"$FL_T/milter.out" 2>&1
    [ -s "$FL_T/run/milter.pid" ]
    local pid
    pid=$(cat "$FL_T/run/milter.pid")
    fl_track "$pid"
    proc_alive "$pid"
    [ "$(ps -o user= -p "$pid")" = "$FL_USER" ]
    [ "$(stat -c %U "$FL_T/run/milter.sock")" = "$FL_USER" ]
    grep -q "^Groups:[[:space:]]*$(id -g "$FL_USER")[[:space:]]*$" "/proc/$pid/status"
    # a second instance refuses to start
    run fl_ns "$RRELAY_MILTER" -c "$FL_T/milter.conf"
    [ "$status" -eq 71 ]
    [[ $output == *"already running with pid $pid"* ]]
    kill -TERM "$pid"
    fl_wait 8 proc_dead "$pid"
    [ ! -e "$FL_T/run/milter.sock" ]
    [ ! -e "$FL_T/run/milter.pid" ]
    fl_log_has "stopped$"
}

@test "filter: foreground SIGTERM exits 0 and removes the socket" {
    fl_milter_conf
    fl_milter_start
    local pid
    pid=$(fl_milter_pid)
    local rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ]
    [ ! -e "$FL_T/run/milter.sock" ]
    fl_log_has "stopped$"
}

@test "filter: configuration errors stop the start with file:line" {
    fl_milter_conf dns_timeout=0s
    run fl_ns "$RRELAY_MILTER" -c "$FL_T/milter.conf" -f
    [ "$status" -eq 78 ]
    [[ $output == *"$FL_T/milter.conf:8: value \"0s\" for dns_timeout is out of range"* ]]
    fl_milter_conf "trusted_networks=192.0.2.1/24"
    run fl_ns "$RRELAY_MILTER" -c "$FL_T/milter.conf" -f
    [ "$status" -eq 78 ]
    [[ $output == *"trusted_networks: \"192.0.2.1/24\" has host bits set"* ]]
    fl_milter_conf
    run fl_ns "$RRELAY_MILTER" -c "$FL_T/milter.conf" -f -o header=all
    [ "$status" -eq 78 ]
    [[ $output == *"-o header=all: bad value \"all\" for header"* ]]
    run fl_ns "$RRELAY_MILTER" -c "$FL_T/nonexistent.conf" -f
    [ "$status" -eq 78 ]
    run fl_ns "$RRELAY_MILTER" -x
    [ "$status" -eq 64 ]
    [ ! -e "$FL_T/run/milter.sock" ]
}
