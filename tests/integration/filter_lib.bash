# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# filter_lib.bash - harness for rrelay-milter's integration tests
#
# Source it (bats: `load filter_lib`); call fl_setup from setup() and
# fl_teardown from teardown(). Each test gets:
#
#   $FL_T              a temp dir holding everything below
#   $FL_NS             a network namespace: lo up, 192.0.2.1/24 and
#                      2001:db8::1/64 on it, resolv.conf -> 127.0.0.1
#                      (/etc/netns/$FL_NS/resolv.conf, removed at teardown)
#   $FL_T/dns/         dnsmasq (the test zone below) and a SERVFAIL server
#   $FL_T/run/         the milter's socket (and pidfile); the milter makes
#                      this directory itself, owned by its user
#   $FL_T/milter.conf  $FL_T/milter.log
#   $FL_T/pf/          a throwaway Postfix: etc/ queue/ data/ maillog, smtpd
#                      on 192.0.2.1:25 and [2001:db8::1]:25, smtpd_milters
#                      pointing at the milter, every accepted message held
#
# Clients connect from the namespace's own documentation addresses, never
# from 127.x (libspf2 passes loopback unconditionally, and trusted_networks
# covers it by default). Every process started here is recorded in
# $FL_T/pids and stopped by pid at teardown, Postfix with `postfix stop`.
#
# Knobs: BUILD (build dir, default build; build/san for SANITIZE=1),
# RRELAY_MILTER (default $BUILD/rrelay-milter), FL_TOOLS ($BUILD/tools),
# KEEP_TMP=1 (keep $FL_T).

FL_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=proc.bash
. "$FL_REPO/tests/integration/proc.bash"
: "${RRELAY_MILTER:=$FL_REPO/${BUILD:-build}/rrelay-milter}"
: "${FL_TOOLS:=$FL_REPO/${BUILD:-build}/tools}"
FL_USER=postfix              # the milter's user: smtpd must reach its socket
FL_ID=mx.rrelay.test         # authserv_id
FL_V4=192.0.2.1              # the namespace's client and server address
FL_V6=2001:db8::1
FL_SERVFAIL=127.0.0.2        # where the SERVFAIL server listens, port 5300

# fl_err MSG...: a harness error message on stderr
fl_err() {
    printf 'filter: %s\n' "$*" >&2
}

# fl_wait TIMEOUT CMD...: poll CMD every 0.1s until it succeeds; 1 on timeout
fl_wait() {
    proc_wait fl_err "$@"
}

# fl_track PID: remember a pid and its start time for teardown
fl_track() {
    echo "$1 $(proc_start "$1" || echo -)" >>"$FL_T/pids"
}

# fl_kill PID [START]: TERM, wait up to 8s (libmilter notices a stop within 5s), KILL
fl_kill() {
    proc_kill "$1" "${2:-}" 8
}

# fl_ns CMD...: run CMD inside the test's network namespace
fl_ns() {
    ip netns exec "$FL_NS" "$@"
}

# fl_require: skip unless root with network namespaces and the tools
fl_require() {
    local t
    [[ $(id -u) == 0 ]] || skip "needs root (network namespace, Postfix instance)"
    for t in ip dnsmasq postfix postcat miltertest; do
        command -v "$t" >/dev/null || skip "needs $t (scripts/install-deps)"
    done
    [[ -x $RRELAY_MILTER ]] || {
        fl_err "no milter binary at $RRELAY_MILTER (run make)"
        return 1
    }
    [[ -x $FL_TOOLS/filter_dns_servfail ]] || {
        fl_err "no $FL_TOOLS/filter_dns_servfail (run make tests)"
        return 1
    }
}

# fl_setup: temp dir and network namespace for one test
fl_setup() {
    fl_require || return 1
    FL_T=$(mktemp -d /tmp/rrelay-filter.XXXXXX) || return 1
    chmod 755 "$FL_T"
    export FL_T
    FL_NS=rrf-${FL_T##*.}
    export FL_NS
    : >"$FL_T/pids"
    if ! ip netns add "$FL_NS" 2>"$FL_T/netns.err"; then
        skip "cannot create a network namespace: $(cat "$FL_T/netns.err")"
    fi
    mkdir -p "/etc/netns/$FL_NS"
    echo "nameserver 127.0.0.1" >"/etc/netns/$FL_NS/resolv.conf"
    fl_ns ip link set lo up &&
        fl_ns ip addr add "$FL_V4/24" dev lo &&
        fl_ns ip addr add "$FL_V6/64" dev lo nodad
}

# fl_show_logs: print the logs of a failed test
fl_show_logs() {
    local f
    for f in "$FL_T/milter.log" "$FL_T/pf/maillog" "$FL_T"/*.out; do
        [[ -s $f ]] || continue
        echo "# ---- ${f#"$FL_T"/}"
        tail -n 30 "$f" | sed 's/^/# /'
    done
}

# fl_teardown: stop everything, delete the namespace and the temp dir
fl_teardown() {
    [[ -n ${FL_T:-} && -d $FL_T ]] || return 0
    local pid start
    if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
        fl_show_logs
    fi
    fl_postfix_stop || true
    # a daemon-mode milter is known by its pidfile, even if the test
    # stopped before tracking it (checked: its command line names $FL_T)
    if [[ -s $FL_T/run/milter.pid ]]; then
        pid=$(cat "$FL_T/run/milter.pid")
        if grep -qsF -- "$FL_T/" "/proc/$pid/cmdline"; then
            fl_track "$pid"
        fi
    fi
    if [[ -f $FL_T/pids ]]; then
        while read -r pid start; do
            [[ -n $pid ]] && fl_kill "$pid" "$start"
        done <"$FL_T/pids"
    fi
    if [[ -n ${FL_NS:-} ]]; then
        ip netns del "$FL_NS" 2>/dev/null || true
        rm -rf "/etc/netns/$FL_NS"
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        echo "# KEEP_TMP=1: kept $FL_T" >&2
    else
        rm -rf "$FL_T"
    fi
    FL_T=
}

# ---------------------------------------------------------------------------
# DNS: dnsmasq with the test zone, plus a server answering SERVFAIL

# fl_dns_start [DNSMASQ-OPTION...]: serve the test zone in the namespace
fl_dns_start() {
    local d=$FL_T/dns pid
    mkdir -p "$d"
    ip netns exec "$FL_NS" "$FL_TOOLS/filter_dns_servfail" "$FL_SERVFAIL" 5300 \
        </dev/null >"$d/servfail.out" 2>&1 &
    fl_track $!
    # --local=/test/: unknown names under test are NXDOMAIN ("none").
    # temp.test goes to the SERVFAIL server; slow.test to nobody (timeout).
    ip netns exec "$FL_NS" dnsmasq -k --no-resolv --no-hosts --bind-interfaces \
        --listen-address=127.0.0.1 --user=root --pid-file= \
        --log-facility="$d/dnsmasq.log" --local=/test/ \
        --server="/temp.test/$FL_SERVFAIL#5300" \
        --server=/slow.test/127.0.0.9 \
        --local=/in-addr.arpa/ --local=/ip6.arpa/ \
        --txt-record=pass.test,"v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all" \
        --txt-record=fail.test,"v=spf1 ip4:192.0.2.99 -all" \
        --txt-record=softfail.test,"v=spf1 ip4:192.0.2.99 ~all" \
        --txt-record=neutral.test,"v=spf1 ?all" \
        --txt-record=other.test,"not an spf record" \
        --txt-record=two.test,"v=spf1 -all" \
        --txt-record=two.test,"v=spf1 +all" \
        --txt-record=helo.test,"v=spf1 a -all" \
        --host-record=helo.test,192.0.2.1 \
        --txt-record=helofail.test,"v=spf1 -all" \
        --txt-record=exp.test,"v=spf1 -all exp=why.exp.test" \
        --txt-record=why.exp.test,"%{s} is not welcome from %{i}: 100%% sure" \
        --txt-record=chain1.test,"v=spf1 include:chain2.test -all" \
        --txt-record=chain2.test,"v=spf1 include:chain3.test -all" \
        --txt-record=chain3.test,"v=spf1 include:chain4.test -all" \
        --txt-record=chain4.test,"v=spf1 include:chain5.test -all" \
        --txt-record=chain5.test,"v=spf1 include:chain6.test -all" \
        --txt-record=chain6.test,"v=spf1 include:chain7.test -all" \
        --txt-record=chain7.test,"v=spf1 include:chain8.test -all" \
        --txt-record=chain8.test,"v=spf1 include:chain9.test -all" \
        --txt-record=chain9.test,"v=spf1 include:chain10.test -all" \
        --txt-record=chain10.test,"v=spf1 include:chain11.test -all" \
        --txt-record=chain11.test,"v=spf1 include:chain12.test -all" \
        --txt-record=chain12.test,"v=spf1 ip4:192.0.2.1 -all" \
        --txt-record=void.test,"v=spf1 a:nx1.test a:nx2.test a:nx3.test ip4:192.0.2.1 -all" \
        "$@" </dev/null >"$d/dnsmasq.out" 2>&1 &
    pid=$!
    fl_track "$pid"
    fl_wait 5 fl_ns_listening 127.0.0.1 53 || {
        fl_err "dnsmasq did not start: $(cat "$d/dnsmasq.out")"
        return 1
    }
    fl_wait 5 fl_ns_listening "$FL_SERVFAIL" 5300
}

# fl_ns_listening ADDR PORT: something listens on UDP ADDR:PORT in the namespace
fl_ns_listening() {
    [[ -n $(fl_ns ss -Hlun "src $1:$2" 2>/dev/null) ]]
}

# ---------------------------------------------------------------------------
# The milter

# fl_milter_conf [NAME=VALUE...]: write $FL_T/milter.conf; NAME=VALUE adds or replaces
# shellcheck disable=SC2120 # the arguments are optional
fl_milter_conf() {
    local kv
    {
        echo "# written by filter_lib.bash"
        echo "socket = unix:$FL_T/run/milter.sock"
        echo "pidfile = $FL_T/run/milter.pid"
        echo "user = $FL_USER"
        echo "authserv_id = $FL_ID"
        echo "log = $FL_T/milter.log"
        echo "dns_timeout = 5s"
        for kv in "$@"; do
            echo "${kv%%=*} = ${kv#*=}"
        done
    } >"$FL_T/milter.conf"
}

# fl_milter_start [MILTER-ARG...]: start the milter in the foreground (-f), wait for it
fl_milter_start() {
    [[ -f $FL_T/milter.conf ]] || fl_milter_conf
    # Not through fl_ns: $! must be the milter (ip netns exec execs it).
    ip netns exec "$FL_NS" "$RRELAY_MILTER" -c "$FL_T/milter.conf" -f "$@" \
        </dev/null >"$FL_T/milter.out" 2>&1 &
    echo $! >"$FL_T/milter.pid"
    fl_track "$(cat "$FL_T/milter.pid")"
    fl_wait 5 test -S "$FL_T/run/milter.sock" || {
        fl_err "milter did not start: $(cat "$FL_T/milter.out")"
        return 1
    }
    fl_wait 5 grep -q 'started:' "$FL_T/milter.log"
}

# fl_start [NAME=VALUE...]: the milter (with those settings), then Postfix
fl_start() {
    fl_milter_conf "$@"
    fl_milter_start
    fl_postfix_start
}

# fl_milter_pid: the pid of the milter started by fl_milter_start
fl_milter_pid() {
    cat "$FL_T/milter.pid"
}

# fl_log_count ERE: number of milter log lines matching ERE
fl_log_count() {
    LC_ALL=C grep -cE -- "$1" "$FL_T/milter.log" || true
}

# fl_log_has ERE: true if a milter log line matches ERE
fl_log_has() {
    LC_ALL=C grep -qE -- "$1" "$FL_T/milter.log"
}

# ---------------------------------------------------------------------------
# Postfix

# fl_master_cf ADDR...: a master.cf with smtpd on ADDR:25 (each), nothing chrooted
fl_master_cf() {
    local a
    echo "# throwaway instance written by filter_lib.bash"
    for a in "$@"; do
        echo "$a:25 inet n - n - - smtpd"
    done
    cat <<EOF
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# fl_setup_file: bats setup_file of the filter tests: the queue template, as root
fl_setup_file() {
    if [[ $(id -u) == 0 ]] && command -v postfix >/dev/null; then
        fl_postfix_template
    fi
}

# fl_postfix_template: make a Postfix queue directory once (bats setup_file)
# Creating one takes Postfix about two seconds; fl_postfix_start copies it.
fl_postfix_template() {
    local t=${BATS_FILE_TMPDIR:?}/pf-template
    mkdir -p "$t/etc" "$t/queue"
    cat >"$t/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $t/queue
data_directory = $t/data
maillog_file = $t/maillog
maillog_file_prefixes = $t
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
EOF
    fl_master_cf 127.0.0.1 >"$t/etc/master.cf"
    postfix -c "$t/etc" check >"$t/check.out" 2>&1 || {
        fl_err "postfix check (template): $(cat "$t/check.out")"
        return 1
    }
    export FL_PF_TEMPLATE=$t/queue
}

# fl_postfix_start [NAME=VALUE...]: a Postfix in the namespace using the milter
fl_postfix_start() {
    local base=$FL_T/pf etc=$FL_T/pf/etc
    mkdir -p "$etc"
    if [[ -n ${FL_PF_TEMPLATE:-} && -d $FL_PF_TEMPLATE ]]; then
        cp -a "$FL_PF_TEMPLATE" "$base/queue"
    else
        mkdir -p "$base/queue"
    fi
    cat >"$etc/main.cf" <<EOF
# throwaway instance written by filter_lib.bash
compatibility_level = 3.6
queue_directory = $base/queue
data_directory = $base/data
maillog_file = $base/maillog
maillog_file_prefixes = $base
myhostname = $FL_ID
mydomain = rrelay.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = example.org
inet_interfaces = $FL_V4, [$FL_V6]
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_client_access static:HOLD
smtpd_milters = unix:$FL_T/run/milter.sock
milter_default_action = tempfail
biff = no
EOF
    fl_master_cf "$FL_V4" "[$FL_V6]" >"$etc/master.cf"
    [[ $# -gt 0 ]] && postconf -c "$etc" -e "$@"
    if [[ -z ${FL_PF_TEMPLATE:-} ]]; then
        # `postfix check` creates the queue subdirectories with their owners.
        fl_ns postfix -c "$etc" check >"$FL_T/postfix-check.out" 2>&1 || {
            fl_err "postfix check: $(cat "$FL_T/postfix-check.out")"
            return 1
        }
    fi
    fl_ns postfix -c "$etc" start >"$FL_T/postfix-start.out" 2>&1 </dev/null 3>&- 4>&- || {
        fl_err "postfix start: $(cat "$FL_T/postfix-start.out")"
        return 1
    }
    fl_wait 10 test -s "$base/queue/pid/master.pid" || return 1
    fl_track "$(tr -d ' ' <"$base/queue/pid/master.pid")"
    fl_wait 10 fl_smtpd_listening
}

# fl_smtpd_listening: smtpd listens on port 25 in the namespace
fl_smtpd_listening() {
    [[ -n $(fl_ns ss -Hltn "src $FL_V4:25" 2>/dev/null) ]]
}

# fl_postfix_stop: stop the instance if it runs
fl_postfix_stop() {
    local base=$FL_T/pf pid=""
    [[ -s $base/queue/pid/master.pid ]] || return 0
    pid=$(tr -d ' ' <"$base/queue/pid/master.pid")
    proc_alive "$pid" || return 0
    fl_ns postfix -c "$base/etc" stop >/dev/null 2>&1 </dev/null 3>&- 4>&- || true
    fl_wait 10 proc_dead "$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
}

# fl_held_headers QID: the header of held message QID, one field per line
# (each fold, "\n" and the white space after it, becomes one space)
fl_held_headers() {
    fl_ns postcat -c "$FL_T/pf/etc" -hq "$1" 2>/dev/null |
        awk 'BEGIN { f = "" } /^[ \t]/ { sub(/^[ \t]+/, " "); f = f $0; next }
             { if (f != "") print f; f = $0 } END { if (f != "") print f }'
}

# ---------------------------------------------------------------------------
# An SMTP client (bash /dev/tcp), run inside the namespace

# fl_smtp_session HOST HELO FROM TO BODYFILE: one transaction, print the replies
fl_smtp_session() {
    local host=$1 helo=$2 from=$3 to=$4 body=$5 code
    reply() {
        local line
        while IFS= read -r -t 15 line <&3; do
            line=${line%$'\r'}
            printf '%s\n' "$line"
            code=${line:0:3}
            [[ ${line:3:1} == "-" ]] || return 0
        done
        echo "TIMEOUT"
        return 1
    }
    send() {
        printf '%s\r\n' "$1" >&3
    }
    exec 3<>"/dev/tcp/$host/25" || return 1
    reply || return 1
    send "EHLO $helo"
    reply || return 1
    send "MAIL FROM:<$from>"
    reply || return 1
    if [[ $code == 250 ]]; then
        send "RCPT TO:<$to>"
        reply || return 1
    fi
    if [[ $code == 250 ]]; then
        send "DATA"
        reply || return 1
    fi
    if [[ $code == 354 ]]; then
        sed -e 's/^\./../' -e 's/$/\r/' "$body" >&3
        send "."
        reply || return 1
    fi
    send "QUIT"
    reply
    exec 3>&-
}

# fl_smtp HELO FROM [BODYFILE] [HOST]: send one message from the namespace
# Prints the server's replies. The body defaults to $FL_T/body.
fl_smtp() {
    local helo=$1 from=$2 body=${3:-$FL_T/body} host=${4:-$FL_V4}
    [[ -f $body ]] || printf 'Subject: test\n\nhello\n' >"$body"
    fl_ns bash -c "$(declare -f fl_smtp_session); fl_smtp_session \"\$@\"" \
        fl_smtp "$host" "$helo" "$from" "rcpt@example.org" "$body"
}

# fl_send_ok HELO FROM [HOST]: send a message, expect it queued; set QID and HDRS
fl_send_ok() {
    local out
    out=$(fl_smtp "$1" "$2" "" "${3:-$FL_V4}")
    QID=$(fl_qid "$out")
    [[ -n $QID ]] || {
        echo "not queued: $out" >&2
        return 1
    }
    HDRS=$(fl_held_headers "$QID")
}

# fl_qid REPLIES: the queue id in a "250 2.0.0 Ok: queued as QID" reply
fl_qid() {
    sed -n 's/^250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\)$/\1/p' <<<"$1"
}

# fl_mt SCRIPT: run a miltertest Lua script against the milter socket
# The script sees SOCK (the socket spec) and MILTER_PID; it fails loudly.
fl_mt() {
    local script=$FL_T/mt-$RANDOM.lua
    # miltertest exits 1 on a Lua error without saying which: pcall does.
    {
        echo "SOCK = \"unix:$FL_T/run/milter.sock\""
        echo "MILTER_PID = \"$(cat "$FL_T/milter.pid" 2>/dev/null)\""
        echo "CONF = \"$FL_T/milter.conf\""
        echo "LOG = \"$FL_T/milter.log\""
        # reload_wait(): SIGHUP, then wait (30 s at most: a busy machine) for the milter's
        # word that it reloaded, instead of sleeping for a guessed time
        echo 'function reload_wait() local before = io.open(LOG):read("a"):len(); os.execute("kill -HUP " .. MILTER_PID); for _ = 1, 300 do local f = io.open(LOG); f:seek("set", before); local tail = f:read("a"); f:close(); if tail:find("reload") then return true end; os.execute("sleep 0.1") end; return false end'
        echo "local fl_ok, fl_err = pcall(function()"
        cat
        echo "end)"
        echo "if not fl_ok then print(\"miltertest script failed: \" .. tostring(fl_err)); os.exit(1) end"
    } >"$script"
    miltertest -s "$script"
}
