#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# filter_milter.bats - rrelay-milter driven by miltertest, with exact macros
#
# Cases an MTA cannot easily produce: SASL macros, missing macros and
# callbacks, bytes Postfix would refuse (CR, LF), values longer than an
# SMTP line, thousands of header fields; and a run under valgrind.
# DNS is real (dnsmasq in a network namespace, see filter_lib.bash).

bats_require_minimum_version 1.5.0
load filter_lib

setup() {
    fl_setup
    fl_dns_start
}

teardown() {
    fl_teardown
}

# A Lua prelude: check() fails the script with a message.
PRELUDE='
local function check(ok, what) if not ok then error(what, 2) end end
local function open(ip)
    local c = mt.connect(SOCK, 20, 0.1)
    check(c, "connect")
    check(mt.conninfo(c, "client.test", ip or "192.0.2.1") == nil, "conninfo")
    return c
end
'

@test "milter: SASL-authenticated senders are skipped, unless skip_authenticated = no" {
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
local c = open()
check(mt.helo(c, "mx.pass.test") == nil, "helo")
check(mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice", "{auth_type}", "PLAIN") == nil, "macro")
check(mt.mailfrom(c, "<joe@fail.test>") == nil, "mail")
check(mt.getreply(c) == SMFIR_ACCEPT, "authenticated: accepted without a check")
-- the next message on the connection, not authenticated, is checked
check(mt.macro(c, SMFIC_MAIL, "{auth_authen}", "") == nil, "macro 2")
check(mt.mailfrom(c, "<joe@fail.test>") == nil, "mail 2")
check(mt.getreply(c) == SMFIR_REPLYCODE, "not authenticated: rejected")
mt.disconnect(c)
EOF
    fl_log_has "NOQUEUE: spf=skip client=client\.test\[192\.0\.2\.1\] helo=mx\.pass\.test from=<joe@fail\.test> action=accept \(authenticated\)$"
    fl_log_has "NOQUEUE: spf=fail .*action=reject$"
    kill -TERM "$(fl_milter_pid)"
    fl_wait 5 proc_dead "$(fl_milter_pid)"
    rm -f "$FL_T/milter.log"
    fl_milter_conf skip_authenticated=no
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
local c = open()
check(mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice") == nil, "macro")
check(mt.mailfrom(c, "<joe@fail.test>") == nil, "mail")
check(mt.getreply(c) == SMFIR_REPLYCODE, "skip_authenticated = no: checked and rejected")
mt.disconnect(c)
EOF
}

@test "milter: missing macros, HELO and client address do no harm" {
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
-- no queue id macro, no {mail_addr}, a bare address without angle
-- brackets (miltertest always sends a HELO: the unit tests cover none)
local c = open()
check(mt.helo(c, "[192.0.2.1]") == nil, "helo")
check(mt.mailfrom(c, "joe@pass.test") == nil, "mail")
check(mt.getreply(c) == SMFIR_CONTINUE, "pass")
check(mt.header(c, "Subject", "x") == nil, "header")
check(mt.eom(c) == nil, "eom")
check(mt.eom_check(c, MT_HDRINSERT, "Received-SPF"), "Received-SPF added")
local rspf = mt.getheader(c, "Received-SPF", 0)
check(string.find(rspf, 'helo="[192.0.2.1]";', 1, true), "address-literal HELO quoted: " .. rspf)
-- the null sender with an address-literal HELO: nothing to check, none
check(mt.mailfrom(c, "<>") == nil, "mail <>")
check(mt.getreply(c) == SMFIR_CONTINUE, "none is marked")
check(mt.eom(c) == nil, "eom 2")
check(string.find(mt.getheader(c, "Authentication-Results", 0), "spf=none smtp.helo=", 1, true), "none for <>")
mt.disconnect(c)
-- a client without an IP address (unspec): each message accepted unchecked
-- at MAIL FROM (connect is a no-reply step)
local u = mt.connect(SOCK, 20, 0.1)
check(mt.conninfo(u, "localhost", "unspec") == nil, "conninfo unspec")
check(mt.mailfrom(u, "<joe@fail.test>") == nil, "mail unspec")
check(mt.getreply(u) == SMFIR_ACCEPT, "no IP address: accepted")
check(mt.mailfrom(u, "<joe@fail.test>") == nil, "mail unspec 2")
check(mt.getreply(u) == SMFIR_ACCEPT, "no IP address: accepted again")
mt.disconnect(u)
EOF
    fl_log_has "NOQUEUE: spf=pass identity=mailfrom client=client\.test\[192\.0\.2\.1\] helo=\[192\.0\.2\.1\] from=<joe@pass\.test> action=mark$"
    fl_log_has "NOQUEUE: spf=none identity=helo .*from=<> action=mark \(the HELO name is not a domain name\)$"
    fl_log_has "spf=skip client=localhost\[unknown\] action=accept \(no client IP address\)$"
    [ "$(fl_log_count "spf=skip client=localhost")" -eq 1 ]     # once per connection
    [ "$(fl_log_count "fail\.test")" -eq 0 ]
    proc_alive "$(fl_milter_pid)"
}

@test "milter: connect, HELO and header fields get no reply; an MTA without that still gets answers" {
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
-- what the filter asks for: answers only at MAIL FROM and end of message
local c = mt.connect(SOCK, 20, 0.1)
check(mt.test_option(c, SMFIP_NR_CONN), "no reply to connect")
check(mt.test_option(c, SMFIP_NR_HELO), "no reply to HELO")
check(mt.test_option(c, SMFIP_NR_HDR), "no reply to header fields")
check(not mt.test_option(c, SMFIP_NR_MAIL), "a reply to MAIL FROM")
check(mt.test_option(c, SMFIP_NORCPT) and mt.test_option(c, SMFIP_NOBODY), "no RCPT, no body")
check(mt.conninfo(c, "client.test", "192.0.2.1") == nil, "conninfo")
check(mt.helo(c, "mx.pass.test") == nil, "helo")
check(mt.mailfrom(c, "<joe@fail.test>") == nil, "mail fail")
check(mt.getreply(c) == SMFIR_REPLYCODE, "fail: refused at MAIL FROM")
check(mt.mailfrom(c, "<joe@pass.test>") == nil, "mail")
check(mt.getreply(c) == SMFIR_CONTINUE, "pass")
check(mt.header(c, "Authentication-Results", "mx.rrelay.test; spf=pass") == nil, "forged")
check(mt.header(c, "Subject", "x") == nil, "subject")
check(mt.eom(c) == nil, "eom")
check(mt.getreply(c) == SMFIR_CONTINUE, "eom: accepted")
check(mt.eom_check(c, MT_HDRDELETE, "Authentication-Results"), "forged field removed")
check(mt.eom_check(c, MT_HDRINSERT, "Received-SPF"), "Received-SPF added")
mt.disconnect(c)
-- an MTA without the no-reply steps: libmilter answers "continue" for us
local steps = SMFIP_NOCONNECT + SMFIP_NOHELO + SMFIP_NOMAIL + SMFIP_NORCPT
    + SMFIP_NOBODY + SMFIP_NOHDRS + SMFIP_NOEOH + SMFIP_NOUNKNOWN + SMFIP_NODATA
    + SMFIP_SKIP
local d = mt.connect(SOCK, 20, 0.1)
check(mt.negotiate(d, 6, steps, nil) == nil, "negotiate without no-reply steps")
check(not mt.test_option(d, SMFIP_NR_CONN) and not mt.test_option(d, SMFIP_NR_HDR), "none granted")
check(mt.conninfo(d, "client.test", "192.0.2.1") == nil, "conninfo")
check(mt.getreply(d) == SMFIR_CONTINUE, "connect answered")
check(mt.helo(d, "mx.pass.test") == nil, "helo")
check(mt.getreply(d) == SMFIR_CONTINUE, "HELO answered")
check(mt.mailfrom(d, "<joe@pass.test>") == nil, "mail")
check(mt.getreply(d) == SMFIR_CONTINUE, "pass")
check(mt.header(d, "Authentication-Results", "mx.rrelay.test; spf=pass") == nil, "forged")
check(mt.getreply(d) == SMFIR_CONTINUE, "header answered")
check(mt.eom(d) == nil, "eom")
check(mt.getreply(d) == SMFIR_CONTINUE, "eom: accepted")
check(mt.eom_check(d, MT_HDRDELETE, "Authentication-Results"), "forged field removed")
check(mt.eom_check(d, MT_HDRINSERT, "Received-SPF"), "Received-SPF added")
mt.disconnect(d)
-- a trusted client: every message accepted at MAIL FROM, unchecked
local t = mt.connect(SOCK, 20, 0.1)
check(mt.conninfo(t, "localhost", "127.0.0.1") == nil, "conninfo trusted")
check(mt.helo(t, "localhost") == nil, "helo trusted")
for i = 1, 2 do
    check(mt.mailfrom(t, "<joe@fail.test>") == nil, "mail trusted")
    check(mt.getreply(t) == SMFIR_ACCEPT, "trusted: accepted")
end
mt.disconnect(t)
EOF
    fl_log_has "NOQUEUE: spf=fail identity=mailfrom client=client\.test\[192\.0\.2\.1\] .*action=reject$"
    [ "$(fl_log_count ": removed 1 forged Authentication-Results field$")" -eq 2 ]
    [ "$(fl_log_count "spf=pass identity=mailfrom client=client\.test")" -eq 2 ]
    fl_log_has "NOQUEUE: spf=skip client=localhost\[127\.0\.0\.1\] action=accept \(trusted network\)$"
    [ "$(fl_log_count "spf=skip")" -eq 1 ]       # once per connection
    [ "$(fl_log_count "spf=")" -eq 4 ]
    proc_alive "$(fl_milter_pid)"
}

@test "milter: CR, LF, quotes, 8-bit and over-long HELO/MAIL FROM cannot add a field" {
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
local function one_field(v, what)
    check(not string.find(v, "\r", 1, true), what .. ": CR in header")
    for nl in string.gmatch(v, "\n(.)") do
        check(nl == "\t", what .. ": a line break not followed by TAB")
    end
    check(not string.find(v, "[\128-\255]"), what .. ": 8-bit byte in header")
end
local c = open()
check(mt.helo(c, "a\r\nX-Evil: 1\r\n\t;b=\"c\"\195\169") == nil, "helo")
check(mt.mailfrom(c, "<x\r\nX-Evil: 2@pass.test>") == nil, "mail")
check(mt.getreply(c) == SMFIR_CONTINUE, "mail reply")
check(mt.eom(c) == nil, "eom")
one_field(mt.getheader(c, "Received-SPF", 0), "Received-SPF")
one_field(mt.getheader(c, "Authentication-Results", 0), "Authentication-Results")
check(not mt.eom_check(c, MT_HDRINSERT, "X-Evil"), "no X-Evil field")
-- past every length limit, as far as miltertest's own buffers allow
-- (longer ones go through Postfix in filter.bats)
local big = string.rep("a", 300)
check(mt.helo(c, big .. ".test") == nil, "big helo")
check(mt.mailfrom(c, "<" .. big .. "@" .. string.rep("b", 70) .. ".test>") == nil, "big mail")
check(mt.getreply(c) == SMFIR_CONTINUE, "big: none is marked")
check(mt.eom(c) == nil, "eom big")
local v = mt.getheader(c, "Received-SPF", 0)
one_field(v, "big Received-SPF")
check(#v < 2000, "big Received-SPF is bounded: " .. #v)
check(string.find(v, "^none "), "big: none")
mt.disconnect(c)
EOF
    proc_alive "$(fl_milter_pid)"
    # log lines stay single lines, control characters replaced
    [ "$(grep -ac 'X-Evil: 1$' "$FL_T/milter.log")" -eq 0 ]
    fl_log_has 'helo=a\?\?X-Evil: 1\?\?'
}

@test "milter: thousands of header fields; past 1000 forged A-R fields the message is refused" {
    fl_milter_start
    fl_mt <<EOF
$PRELUDE
local c = open()
check(mt.helo(c, "mx.pass.test") == nil, "helo")
check(mt.mailfrom(c, "<joe@pass.test>") == nil, "mail")
for i = 1, 3000 do
    check(mt.header(c, "X-Filler-" .. i, string.rep("v", 200)) == nil, "filler")
end
for i = 1, 1000 do
    check(mt.header(c, "Authentication-Results", "MX.rrelay.test; spf=pass") == nil, "forged")
end
check(mt.header(c, "Authentication-Results", "other.test; spf=pass") == nil, "other")
check(mt.eom(c) == nil, "eom")
check(mt.getreply(c) == SMFIR_CONTINUE, "1000 forged: accepted")
check(mt.eom_check(c, MT_HDRDELETE, "Authentication-Results"), "forged removed")
-- 1001 forged fields: refused (bounded memory)
check(mt.mailfrom(c, "<joe@pass.test>") == nil, "mail 2")
for i = 1, 1001 do
    check(mt.header(c, "Authentication-Results", "mx.rrelay.test; spf=pass") == nil, "forged 2")
end
check(mt.eom(c) == nil, "eom 2")
check(mt.getreply(c) == SMFIR_REPLYCODE, "1001 forged: refused")
check(mt.eom_check(c, MT_SMTPREPLY, "550 5.7.1 Too many forged Authentication-Results header fields"), "reply text")
mt.disconnect(c)
EOF
    fl_log_has ": removed 1000 forged Authentication-Results fields$"
    fl_log_has "more than 1000 forged Authentication-Results fields: rejected$"
}

@test "milter: clean under valgrind through checks, forged headers, reload and stop" {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    if [[ ${SANITIZE:-0} == 1 || $RRELAY_MILTER == */san/* ]]; then
        skip "an AddressSanitizer build does not run under valgrind"
    fi
    fl_milter_conf
    ip netns exec "$FL_NS" valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \
        --show-leak-kinds=definite --errors-for-leak-kinds=definite --log-file="$FL_T/valgrind.out" \
        "$RRELAY_MILTER" -c "$FL_T/milter.conf" -f </dev/null >"$FL_T/milter.out" 2>&1 &
    local pid=$!
    echo "$pid" >"$FL_T/milter.pid"
    fl_track "$pid"
    fl_wait 30 grep -q 'started:' "$FL_T/milter.log"
    fl_mt <<EOF
$PRELUDE
local function msg(c, from, want)
    check(mt.mailfrom(c, from) == nil, "mail " .. from)
    check(mt.getreply(c) == want, "reply for " .. from)
    if want == SMFIR_CONTINUE then
        check(mt.header(c, "Authentication-Results", "mx.rrelay.test; forged") == nil, "hdr")
        check(mt.eom(c) == nil, "eom " .. from)
    end
end
local c = open()
check(mt.helo(c, "helo.test") == nil, "helo")
msg(c, "<joe@pass.test>", SMFIR_CONTINUE)
msg(c, "<joe@fail.test>", SMFIR_REPLYCODE)
msg(c, "<joe@x.temp.test>", SMFIR_REPLYCODE)
msg(c, "<joe@two.test>", SMFIR_CONTINUE)
msg(c, "<joe@chain1.test>", SMFIR_CONTINUE)
msg(c, "<joe@exp.test>", SMFIR_REPLYCODE)
msg(c, "<>", SMFIR_CONTINUE)
check(mt.abort(c) == nil, "abort")
check(reload_wait(), "reload")
local d = open("2001:db8::1")
msg(d, "<joe@pass.test>", SMFIR_CONTINUE)
mt.disconnect(c)
mt.disconnect(d)
EOF
    fl_wait 10 fl_log_has "reloaded"
    local rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    cat "$FL_T/valgrind.out" >&2
    [ "$rc" -eq 0 ]
    [ ! -s "$FL_T/valgrind.out" ]
    fl_log_has "stopped$"
}

@test "milter: header = received-spf / authentication-results adds only that field" {
    fl_milter_conf header=received-spf
    fl_milter_start
    fl_mt <<EOF2
$PRELUDE
local function fields(rspf, ar)
    local c = open()
    check(mt.helo(c, "mx.pass.test") == nil, "helo")
    check(mt.mailfrom(c, "<joe@pass.test>") == nil, "mail")
    check(mt.eom(c) == nil, "eom")
    check(mt.eom_check(c, MT_HDRINSERT, "Received-SPF") == rspf, "Received-SPF")
    check(mt.eom_check(c, MT_HDRINSERT, "Authentication-Results") == ar, "A-R")
    mt.disconnect(c)
end
fields(true, false)
check(os.execute("printf 'header = authentication-results\\\\n' >> " .. CONF), "append")
check(reload_wait(), "reload")
fields(false, true)
EOF2
}
