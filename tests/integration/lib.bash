# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# lib.bash - harness for rrelay's integration tests and for tests/demo.sh
#
# Source it (bats: `load lib`), call rr_setup first and rr_teardown last
# (bats: from setup() and teardown(); a script: from an EXIT trap).
# Everything a test starts lives under one temp dir, $RR_T:
#
#   $RR_T/pids             pids of the background processes started here
#   $RR_T/ports            TCP ports handed out by rr_free_port
#   $RR_T/state/           rrelay state_directory (owner rrelay)
#   $RR_T/rrelay.log       rrelay log (owner rrelay)
#   $RR_T/<inst>/          a throwaway Postfix instance (default inst: mta):
#        etc/ queue/ data/ maillog smtpd_port
#   $RR_T/sinks/<name>/    an smtp-sink: port pid out dump/
#   $RR_T/silent/<name>/   a silent_server: port pid out count
#   $RR_T/cache/cache.sock rrelay-cache's socket (rr_cache_start); its log
#                          $RR_T/cache.log, output cache.out, pid cache.pid
#
# State is kept in files, not shell variables, so helpers also work from
# subshells ($(...), bats `run`). The instance a helper acts on is named
# by $RR_PF (default "mta"): `RR_PF=up rr_postfix_start` acts on "up".
# Helpers return non-zero (with a message on stderr) when they fail, so
# bats fails the test; they work without bats as well (tests/demo.sh).
#
# Knobs (environment): BUILD (build dir, as the Makefile passes it;
# default build), RRELAY (binary under test, default $BUILD/rrelay),
# RR_TOOLS or RRELAY_TOOLS ($BUILD/tools), KEEP_TMP=1 (keep $RR_T after teardown),
# RR_TMPBASE (parent of the temp dirs, default /tmp; it must be
# traversable by the postfix and rrelay users).

RR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=proc.bash
. "$RR_REPO/tests/integration/proc.bash"
RR_BUILD=${BUILD:-build}        # the Makefile passes BUILD (build/san for SANITIZE=1)
[[ $RR_BUILD == /* ]] || RR_BUILD=$RR_REPO/$RR_BUILD
: "${RRELAY:=$RR_BUILD/rrelay}"
: "${RR_TOOLS:=${RRELAY_TOOLS:-$RR_BUILD/tools}}"  # tests/run exports RRELAY_TOOLS
: "${RR_TMPBASE:=/tmp}"
: "${RR_PF:=mta}"
RR_USER=rrelay                  # pipe(8) user=; neither root nor postfix
RR_SINK_USER=nobody             # smtp-sink drops privileges to this user
RR_HOST=127.0.0.1               # all test traffic stays on loopback
RR_PORT_MIN=20000               # ports are picked below the kernel's
RR_PORT_MAX=32000               # ephemeral range (32768-60999)
RR_ALTCONF_FILE=/etc/postfix/main.cf    # read by postdrop for alternate_config_directories
RR_ALTCONF_LOCK=/run/lock/rrelay-tests-altconf.lock
export RRELAY RR_TOOLS

# ---------------------------------------------------------------------------
# Messages and generic helpers

# rr_err MSG...: print a harness error message on stderr
rr_err() {
    printf 'rr: %s\n' "$*" >&2
}

# rr_skip MSG: skip the current bats test, or exit 77 outside bats
rr_skip() {
    if declare -F skip >/dev/null; then
        skip "$1"
    fi
    rr_err "skipped: $1"
    exit 77
}

# rr_wait TIMEOUT CMD...: poll CMD every 0.1s until it succeeds; 1 on timeout
rr_wait() {
    proc_wait rr_err "$@"
}

# rr_eq WHAT EXPECTED ACTUAL: fail with a readable message unless ACTUAL equals EXPECTED
rr_eq() {
    [[ $2 == "$3" ]] && return 0
    rr_err "$1: expected '$2', got '$3'"
    return 1
}

# rr_ge WHAT MIN ACTUAL: fail with a readable message unless ACTUAL >= MIN (integers)
rr_ge() {
    ((${3:-0} >= $2)) && return 0
    rr_err "$1: expected at least $2, got '$3'"
    return 1
}

# rr_track_pid PID: remember a pid and its start time so rr_teardown kills it (and no reuse of the pid)
rr_track_pid() {
    echo "$1 $(proc_start "$1" || echo -)" >>"$RR_T/pids"
}

# ---------------------------------------------------------------------------
# Set-up and tear-down

# rr_require_root: skip (bats) or exit 77 unless running as root
rr_require_root() {
    if [[ $(id -u) != 0 ]]; then
        rr_skip "integration tests need root (Postfix instances, pipe user=, /etc/postfix/main.cf)"
    fi
}

# rr_ensure_user: create the system user rrelay (pipe user=) if missing
rr_ensure_user() {
    id -u "$RR_USER" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RR_USER" ||
        id -u "$RR_USER" >/dev/null 2>&1 # lost a race with a parallel test
}

# rr_require_rrelay: fail unless the binary under test ($RRELAY) is built
rr_require_rrelay() {
    if [[ ! -x $RRELAY ]]; then
        rr_err "rrelay binary not found at $RRELAY (run make)"
        return 1
    fi
}

# rr_setup: check root, create user rrelay and the per-test temp dir $RR_T
rr_setup() {
    rr_require_root
    rr_ensure_user || return 1
    command -v smtp-sink >/dev/null || {
        rr_err "smtp-sink not found (apt-get install postfix)"
        return 1
    }
    RR_T=$(mktemp -d "$RR_TMPBASE/rrelay-test.XXXXXX") || return 1
    export RR_T
    chmod 755 "$RR_T" # postfix and rrelay must traverse it
    : >"$RR_T/pids"
    : >"$RR_T/ports"
    mkdir -m 700 "$RR_T/state"
    : >"$RR_T/rrelay.log"
    chown "$RR_USER:" "$RR_T/state" "$RR_T/rrelay.log"
}

# rr_teardown: stop every instance and process of this test, remove $RR_T; 1 if anything survived
rr_teardown() {
    [[ -n ${RR_T:-} && -d $RR_T ]] || return 0
    local etc rc=0
    if [[ -n ${BATS_TEST_NAME:-} && -z ${BATS_TEST_COMPLETED:-} ]]; then
        rr_show_logs # the test failed: show what happened
    fi
    rr_altconf_restore || rc=1
    for etc in "$RR_T"/*/etc; do
        [[ -f $etc/main.cf ]] || continue
        RR_PF=$(basename "$(dirname "$etc")") rr_postfix_stop || true
    done
    rr_kill_all || rc=1
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        echo "# KEEP_TMP=1: kept $RR_T" >&2
    else
        rm -rf "$RR_T"
    fi
    RR_T=
    return "$rc"
}

# rr_kill_pid PID [START]: TERM, wait up to 3s, then KILL one process (if it started at START); reap it
rr_kill_pid() {
    proc_kill "$1" "${2:-}" 3
}

# rr_strays: list pids (not ours) whose cwd, argv or MAIL_CONFIG is under $RR_T
rr_strays() {
    local pid self ancestors=" "
    self=$BASHPID
    while [[ -n $self && $self != 0 && $self != 1 ]]; do
        ancestors+="$self "
        self=$(ps -o ppid= -p "$self" 2>/dev/null | tr -d ' ')
    done
    {
        find /proc/[0-9]*/cwd -maxdepth 0 -lname "$RR_T*" 2>/dev/null
        grep -lsaF -- "$RR_T" /proc/[0-9]*/cmdline
        grep -lsaF -- "MAIL_CONFIG=$RR_T/" /proc/[0-9]*/environ
    } | cut -d/ -f3 | sort -un | while read -r pid; do
        [[ $ancestors == *" $pid "* ]] && continue
        proc_alive "$pid" && echo "$pid"
    done
    return 0
}

# rr_kill_all: kill the tracked pids, then any stray process tied to $RR_T
rr_kill_all() {
    local pid start round
    if [[ -f $RR_T/pids ]]; then
        while read -r pid start; do
            [[ -n $pid ]] && rr_kill_pid "$pid" "$start"
        done <"$RR_T/pids"
    fi
    # Processes the harness did not start itself: Postfix daemons that
    # outlived master, or rrelay (pipe(8) runs it in its own session).
    for round in 1 2 3; do
        local strays
        strays=$(rr_strays)
        [[ -z $strays ]] && return 0
        [[ $round == 1 ]] || rr_err "killing leftover processes: $strays"
        for pid in $strays; do
            rr_kill_pid "$pid"
        done
    done
    strays=$(rr_strays)
    [[ -z $strays ]] || {
        rr_err "processes survive teardown: $strays"
        return 1
    }
}

# rr_show_logs: print the tails of this test's logs (for failed tests)
rr_show_logs() {
    local f
    for f in "$RR_T"/*/maillog "$RR_T/rrelay.log"; do
        [[ -s $f ]] || continue
        echo "# ---- tail of ${f#"$RR_T"/}"
        tail -n 40 "$f" | sed 's/^/# /'
    done
    return 0
}

# ---------------------------------------------------------------------------
# Ports

# rr_port_free PORT: true if nothing listens on PORT (TCP) and we did not hand it out
rr_port_free() {
    ! grep -qx "$1" "$RR_T/ports" 2>/dev/null &&
        [[ -z $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# rr_free_port: print a random free loopback TCP port and reserve it for this test
rr_free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((RR_PORT_MIN + (RANDOM * 32768 + RANDOM) % (RR_PORT_MAX - RR_PORT_MIN)))
        if rr_port_free "$port"; then
            echo "$port" >>"$RR_T/ports"
            echo "$port"
            return 0
        fi
    done
    rr_err "no free port found"
    return 1
}

# rr_relayhost PORT...: print a relayhost list "[127.0.0.1]:P1, [127.0.0.1]:P2, ..."
rr_relayhost() {
    local p out=""
    for p in "$@"; do
        out+="${out:+, }[$RR_HOST]:$p"
    done
    echo "$out"
}

# rr_listening PORT: true if something listens on 127.0.0.1:PORT
rr_listening() {
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# rr_wait_listen PORT [TIMEOUT]: wait until something listens on PORT
rr_wait_listen() {
    rr_wait "${2:-10}" rr_listening "$1"
}

# ---------------------------------------------------------------------------
# smtp-sink upstreams

# rr_sink_start NAME [SMTP-SINK-OPTION...]: start an smtp-sink on a free port
rr_sink_start() {
    local name=$1 port
    shift
    port=$(rr_free_port) || return 1
    rr_sink_start_on "$name" "$port" "$@"
}

# rr_sink_start_on NAME PORT [SMTP-SINK-OPTION...]: start an smtp-sink on PORT (-r/-f CMDS for 4xx/5xx)
rr_sink_start_on() {
    local name=$1 port=$2 d pid
    shift 2
    d=$RR_T/sinks/$name
    mkdir -p "$d/dump"
    chown "$RR_SINK_USER" "$d/dump"
    echo "$port" >"$d/port"
    grep -qx "$port" "$RR_T/ports" || echo "$port" >>"$RR_T/ports"
    # -c: session counters on stdout; -d DIR/: one dump file per transaction
    smtp-sink -c -u "$RR_SINK_USER" -d "$d/dump/" "$@" "$RR_HOST:$port" 64 \
        </dev/null >>"$d/out" 2>&1 3>&- 4>&- &
    pid=$!
    rr_track_pid "$pid"
    tail -n 1 "$RR_T/pids" >"$d/pid"
    rr_wait_listen "$port" 10 || {
        rr_err "smtp-sink $name did not start: $(tr '\r' '\n' <"$d/out")"
        return 1
    }
}

# rr_sink_port NAME: print the port of sink NAME
rr_sink_port() {
    cat "$RR_T/sinks/$1/port"
}

# rr_sink_stop NAME: stop sink NAME (its port then refuses connections)
rr_sink_stop() {
    local pid start
    read -r pid start <"$RR_T/sinks/$1/pid"
    rr_kill_pid "$pid" "$start"
}

# rr_sink_dumps NAME: list the dump files of sink NAME, one per delivered transaction
rr_sink_dumps() {
    find "$RR_T/sinks/$1/dump" -type f -size +0 | sort
}

# rr_sink_count NAME: print the number of transactions sink NAME received
rr_sink_count() {
    rr_sink_dumps "$1" | wc -l
}

# rr_sink_total NAME...: print the sum of rr_sink_count over the sinks named
rr_sink_total() {
    local n=0 s
    for s in "$@"; do
        n=$((n + $(rr_sink_count "$s")))
    done
    echo "$n"
}

# rr_sink_sessions NAME: print the number of SMTP sessions sink NAME saw end
rr_sink_sessions() {
    local last
    last=$(tr '\r' '\n' <"$RR_T/sinks/$1/out" | grep -o 'sess=[0-9]*' | tail -n 1)
    last=${last#sess=}
    echo "${last:-0}"
}

# rr_sink_grep NAME ERE: print the number of dump files of sink NAME with a line matching ERE
rr_sink_grep() {
    local f n=0
    while read -r f; do
        [[ -n $f ]] || continue
        LC_ALL=C grep -aqE "$2" "$f" && n=$((n + 1))
    done < <(rr_sink_dumps "$1")
    echo "$n"
}

# rr_dump_body FILE: print the message body in a sink dump (CRLF is LF there, dots unstuffed)
rr_dump_body() {
    local n
    n=$(LC_ALL=C grep -an -m 1 '^$' "$1" | cut -d: -f1)
    [[ -n $n ]] || return 1
    # smtp-sink appends one empty line after the message: drop it
    tail -n +"$((n + 1))" "$1" | head -c -1
}

# rr_msg_body FILE: print the body of a message file (everything after the first empty line)
rr_msg_body() {
    local n
    n=$(LC_ALL=C grep -an -m 1 '^$' "$1" | cut -d: -f1)
    [[ -n $n ]] || return 1
    tail -n +"$((n + 1))" "$1"
}

# ---------------------------------------------------------------------------
# silent upstream (tests/tools/silent_server.c)

# rr_tool NAME: print the path of test tool NAME, compiling tests/tools/NAME.c if not built
rr_tool() {
    local bin=$RR_TOOLS/$1 src=$RR_REPO/tests/tools/$1.c
    if [[ -x $bin && ! $src -nt $bin ]]; then
        echo "$bin"
        return 0
    fi
    bin=$RR_T/tools/$1
    if [[ ! -x $bin ]]; then
        mkdir -p "$RR_T/tools"
        "${CC:-cc}" -std=c99 -O2 -Wall -Wextra -Werror -o "$bin" "$src" -lssl -lcrypto || return 1
    fi
    echo "$bin"
}

# RR_DAEMON=1 (tests/run's second pass of the transport tests): rrelay hands
# each delivery to the delivery workers of an rrelay-cache that the test
# starts when it first sets rrelay up (rr_postfix_init, rr_rrelay), at
# $RR_T/daemon/deliver.sock, log $RR_T/daemon.log. Only delivery_socket
# points there: the workers use the cache_socket of rrelay's own settings,
# as rrelay would, so a test without a cache runs without one both ways.
: "${RR_DAEMON:=0}"

# rr_daemon_sock: start this test's delivery daemon once; print its delivery_socket
rr_daemon_sock() {
    local d=$RR_T/daemon pid
    if [[ ! -S $d/deliver.sock ]]; then
        mkdir -p -m 700 "$d" && : >>"$RR_T/daemon.log" &&
            chown "$RR_USER:" "$d" "$RR_T/daemon.log" || return 1
        setpriv --reuid="$RR_USER" --regid="$RR_USER" --init-groups \
            "$RR_BUILD/rrelay-cache" -f -o "cache_socket=$d/cache.sock" \
            -o "log=$RR_T/daemon.log" </dev/null >>"$RR_T/daemon.out" 2>&1 3>&- 4>&- &
        pid=$!
        echo "$pid" >"$RR_T/daemon.pid"
        rr_track_pid "$pid"
        rr_wait 10 test -S "$d/deliver.sock" || return 1
    fi
    echo "$d/deliver.sock"
}

# rr_daemon_opt ARG...: with RR_DAEMON=1 and no delivery_socket among ARG, print delivery_socket=... of rr_daemon_sock
rr_daemon_opt() {
    [[ $RR_DAEMON == 1 && " $* " != *delivery_socket=* ]] || return 0
    echo "delivery_socket=$(rr_daemon_sock)"
}

# rr_cache_start [NAME=VALUE...]: start rrelay-cache as user rrelay with these settings, in the
# foreground (its pid in $CACHE_PID and $RR_T/cache.pid, tracked); its socket is $RR_T/cache/cache.sock
# ($SOCK), in a directory only rrelay may enter, as the cache demands
rr_cache_start() {
    local opts=() o
    SOCK=$RR_T/cache/cache.sock
    [[ -x $RR_BUILD/rrelay-cache ]] || {
        rr_err "rrelay-cache not found at $RR_BUILD/rrelay-cache (run make)"
        return 1
    }
    if [[ ! -d $RR_T/cache ]]; then
        mkdir -m 700 "$RR_T/cache" && : >"$RR_T/cache.log" &&
            chown "$RR_USER:" "$RR_T/cache" "$RR_T/cache.log" || return 1
    fi
    for o in "$@"; do
        opts+=(-o "$o")
    done
    # Not through rr_as_rrelay: $! must be the cache itself, not a subshell.
    setpriv --reuid="$RR_USER" --regid="$RR_USER" --init-groups \
        "$RR_BUILD/rrelay-cache" -f -o "cache_socket=$SOCK" -o "log=$RR_T/cache.log" \
        "${opts[@]}" </dev/null >>"$RR_T/cache.out" 2>&1 &
    CACHE_PID=$!
    echo "$CACHE_PID" >"$RR_T/cache.pid"
    rr_track_pid "$CACHE_PID"
    rr_wait 10 test -S "$SOCK"
}

# rr__tool_bg DIR TOOL ARG...: run test tool TOOL in the background, output in DIR/out, its pid in DIR/pid
rr__tool_bg() {
    local d=$1 bin
    bin=$(rr_tool "$2") || return 1
    shift 2
    "$bin" "$@" </dev/null >"$d/out" 2>&1 3>&- 4>&- &
    rr_track_pid "$!"
    tail -n 1 "$RR_T/pids" >"$d/pid"
}

# rr_silent_start NAME: start a server on a free port that accepts TCP and never greets
rr_silent_start() {
    local name=$1 d port
    d=$RR_T/silent/$name
    mkdir -p "$d"
    port=$(rr_free_port) || return 1
    echo "$port" >"$d/port"
    rr__tool_bg "$d" silent_server "$port" "$d/count" || return 1
    rr_wait 10 test -s "$d/count" || {
        rr_err "silent_server $name did not start: $(cat "$d/out")"
        return 1
    }
}

# rr_silent_port NAME: print the port of silent server NAME
rr_silent_port() {
    cat "$RR_T/silent/$1/port"
}

# rr_silent_count NAME: print the number of connections silent server NAME accepted
rr_silent_count() {
    cat "$RR_T/silent/$1/count"
}

# ---------------------------------------------------------------------------
# scriptable fault upstreams (tests/tools/fault_server.c)

# rr_fault_start NAME PORT STAGE=ACTION...: a fault_server on PORT; its files in $RR_T/faults/NAME
rr_fault_start() {
    local name=$1 port=$2 d
    shift 2
    d=$RR_T/faults/$name
    mkdir -p "$d"
    chmod 0777 "$d"
    echo "$port" >"$d/port"
    rr__tool_bg "$d" fault_server "$port" "$d" "$@" || return 1
    rr_wait 10 test -e "$d/ready" || {
        rr_err "fault_server $name did not start: $(cat "$d/out")"
        return 1
    }
}

# rr_fault_port NAME: print the port of fault server NAME
rr_fault_port() {
    cat "$RR_T/faults/$1/port"
}

# rr_fault_stop NAME: stop fault server NAME (its children die with it)
rr_fault_stop() {
    local pid start
    read -r pid start <"$RR_T/faults/$1/pid"
    rr_kill_pid "$pid" "$start"
}

# rr_fault_sessions NAME: print how many connections fault server NAME serves now (its live children)
rr_fault_sessions() {
    local pid start
    read -r pid start <"$RR_T/faults/$1/pid"
    ps --ppid "$pid" -o stat= | grep -vc '^Z' || true
}

# ---------------------------------------------------------------------------
# Throwaway Postfix instances

# rr_pf_dir: print the directory of instance $RR_PF
rr_pf_dir() {
    echo "$RR_T/$RR_PF"
}

# rr_pf_etc: print the config directory of instance $RR_PF (its MAIL_CONFIG)
rr_pf_etc() {
    echo "$RR_T/$RR_PF/etc"
}

# rr_smtpd_port: print the smtpd port of instance $RR_PF
rr_smtpd_port() {
    cat "$RR_T/$RR_PF/smtpd_port"
}

# rr_postfix_init RELAYHOST [NAME=VALUE...]: write instance $RR_PF relaying via rrelay; NAME=VALUE are rrelay -o settings
rr_postfix_init() {
    local relayhost=$1 base etc port opt opts="" daemon
    shift
    daemon=$(rr_daemon_opt "$@") || return 1
    [[ -z $daemon ]] || set -- "$daemon" "$@"
    base=$RR_T/$RR_PF
    etc=$base/etc
    mkdir -p "$etc" "$base/queue" || return 1
    port=$(rr_free_port) || return 1
    echo "$port" >"$base/smtpd_port"
    for opt in "$@"; do
        [[ $opt == *=* && $opt != *[[:space:]]* ]] || {
            rr_err "bad rrelay option (NAME=VALUE, no spaces): $opt"
            return 1
        }
        opts+=" -o $opt"
    done
    : >"$etc/transport"
    cat >"$etc/main.cf" <<EOF
# throwaway instance written by tests/integration/lib.bash
compatibility_level = 3.6
queue_directory = $base/queue
data_directory = $base/data
maillog_file = $base/maillog
maillog_file_prefixes = $base
myhostname = $RR_PF.rrelay.test
mydomain = rrelay.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = $RR_HOST
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = $relayhost
default_transport = rrelay
relay_transport = rrelay
transport_maps = texthash:$etc/transport
smtp_connect_timeout = 5s
biff = no
EOF
    # No chroot anywhere: the instance lives outside the system queue dir.
    # shellcheck disable=SC2016 # ${queue_id} etc. are pipe(8) macros
    cat >"$etc/master.cf" <<EOF
# throwaway instance written by tests/integration/lib.bash
$RR_HOST:$port inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
proxywrite unix - - n -     1 proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
rrelay    unix  - n n -     - pipe
  flags=q null_sender= user=$RR_USER
  argv=$RRELAY -o state_directory=$RR_T/state -o log=$RR_T/rrelay.log$opts -q \${queue_id} -f \${sender} -n \${nexthop} -- \${recipient}
EOF
}

# rr_postfix_init_plain: write instance $RR_PF as a Postfix before rrelay-setup: no rrelay service, plain smtp
rr_postfix_init_plain() {
    rr_postfix_init "[$RR_HOST]:1" || return 1
    postconf -c "$(rr_pf_etc)" -MX rrelay/unix &&
        postconf -c "$(rr_pf_etc)" -e relayhost= default_transport=smtp relay_transport=relay
}

# rr_postconf NAME=VALUE...: set main.cf parameters of instance $RR_PF (before start, or reload)
rr_postconf() {
    postconf -c "$(rr_pf_etc)" -e "$@" && rr_pf_settle
}

# rr_pf_settle: date instance $RR_PF's configuration files 3 seconds back. Postfix reads
# a main.cf, master.cf or texthash: file changed within the last 2 seconds again and
# again, 300 ms apart, until it is older (dict_load_file: "pausing to let it cool
# down"): each test would wait up to 2 s for each Postfix command after an edit.
rr_pf_settle() {
    local when
    when=$(($(date +%s) - 3))
    find "$(rr_pf_etc)" -maxdepth 1 -type f ! -name '*.db' ! -name '*.lmdb' \
        -newermt "@$when" -exec touch -m -d "@$when" {} +
}

# rr_transport_add PATTERN NEXTHOP: add a transport_maps entry to instance $RR_PF (before start)
rr_transport_add() {
    printf '%s %s\n' "$1" "$2" >>"$(rr_pf_etc)/transport"
}

# rr_postfix_start: start instance $RR_PF and wait until its smtpd listens
rr_postfix_start() {
    local etc base
    etc=$(rr_pf_etc)
    base=$(rr_pf_dir)
    rr_pf_settle
    # `postfix check` creates the queue subdirectories with their owners.
    if ! postfix -c "$etc" check >"$base/check.out" 2>&1; then
        rr_err "postfix check failed for $etc: $(cat "$base/check.out")" \
            "(errors before the maillog opens go to syslog only: check" \
            "maillog_file vs maillog_file_prefixes, queue_directory, master.cf)"
        tail -n 20 "$base/maillog" >&2 2>/dev/null
        return 1
    fi
    : >"$base/queue/quick-start" # the same checks again: postfix start skips them
    if ! postfix -c "$etc" start >"$base/start.out" 2>&1 3>&- 4>&-; then
        rr_err "postfix start failed for $etc: $(cat "$base/start.out")"
        tail -n 20 "$base/maillog" >&2 2>/dev/null
        return 1
    fi
    rr_wait 10 test -s "$base/queue/pid/master.pid" || return 1
    rr_track_pid "$(tr -d ' ' <"$base/queue/pid/master.pid")"
    rr_wait_listen "$(rr_smtpd_port)" 10
}

# rr_postfix_reload: make instance $RR_PF reread main.cf and master.cf
rr_postfix_reload() {
    rr_pf_settle
    postfix -c "$(rr_pf_etc)" reload >/dev/null 2>&1 3>&- 4>&-
}

# rr_postfix_stop: stop instance $RR_PF (postfix stop, then kill master if it stays)
rr_postfix_stop() {
    local base pid=""
    base=$(rr_pf_dir)
    [[ -s $base/queue/pid/master.pid ]] && pid=$(tr -d ' ' <"$base/queue/pid/master.pid")
    [[ -n $pid ]] && proc_alive "$pid" || return 0
    postfix -c "$base/etc" stop >/dev/null 2>&1 3>&- 4>&- || true
    rr_wait 10 proc_dead "$pid" 2>/dev/null || rr_kill_pid "$pid"
}

# rr_queue_empty: true if instance $RR_PF has no mail queued (any queue but hold too)
rr_queue_empty() {
    postqueue -c "$(rr_pf_etc)" -p 2>/dev/null | grep -q '^Mail queue is empty'
}

# rr_wait_queue_empty [TIMEOUT]: wait until instance $RR_PF has drained its queue
rr_wait_queue_empty() {
    rr_wait "${1:-30}" rr_queue_empty || {
        postqueue -c "$(rr_pf_etc)" -p >&2
        return 1
    }
}

# rr_retry_on_good PORT MSGID: replace fault server "stuck" on PORT by a good sink "good",
# let Postfix retry, and check that the good sink got Message-ID <MSGID> exactly once
rr_retry_on_good() {
    rr_fault_stop stuck
    rr_sink_start_on good "$1"
    rr_flush
    rr_wait_maillog 1 'to=<rcpt@example\.org>, relay=rrelay, .*status=sent' 60
    rr_wait_queue_empty 30
    rr_eq "copies at the good upstream" 1 "$(rr_sink_grep good "^Message-ID: <${2//./\\.}>")"
}

# rr_flush: ask instance $RR_PF to retry deferred mail now
rr_flush() {
    postqueue -c "$(rr_pf_etc)" -f
}

# ---------------------------------------------------------------------------
# Mail injection

# rr_smtp_inject COUNT [FROM] [TO] [SESSIONS]: send COUNT messages to instance $RR_PF's smtpd with smtp-source
rr_smtp_inject() {
    local count=$1 from=${2:-sender@sender.test} to=${3:-rcpt@example.org}
    local sessions=${4:-5}
    smtp-source -s "$sessions" -m "$count" -l 200 -M client.rrelay.test \
        -f "$from" -t "$to" "$RR_HOST:$(rr_smtpd_port)"
}

# rr_sendmail SENDMAIL-ARG...: submit stdin to instance $RR_PF with Postfix's sendmail (MAIL_CONFIG)
rr_sendmail() {
    MAIL_CONFIG=$(rr_pf_etc) /usr/sbin/sendmail "$@"
}

# ---------------------------------------------------------------------------
# Logs

# rr_maillog: print the path of instance $RR_PF's maillog
rr_maillog() {
    echo "$(rr_pf_dir)/maillog"
}

# rr_maillog_count ERE: print how many maillog lines of instance $RR_PF match ERE
rr_maillog_count() {
    grep -cE -- "$1" "$(rr_maillog)" 2>/dev/null || true
}

# rr_wait_maillog N ERE [TIMEOUT]: wait until at least N maillog lines match ERE
rr_wait_maillog() {
    rr_wait "${3:-30}" rr__count_at_least "$1" rr_maillog_count "$2"
}

# rr_log_count ERE: print how many rrelay log lines match ERE
rr_log_count() {
    grep -cE -- "$1" "$RR_T/rrelay.log" 2>/dev/null || true
}

# rr_wait_log N ERE [TIMEOUT]: wait until at least N rrelay log lines match ERE
rr_wait_log() {
    rr_wait "${3:-30}" rr__count_at_least "$1" rr_log_count "$2"
}

# rr_wait_eq SECONDS WANT CMD...: wait until CMD (run afresh each try) prints WANT
rr_wait_eq() {
    local secs=$1
    shift
    rr_wait "$secs" rr__count_equal "$@"
}

# rr_wait_ge SECONDS WANT CMD...: wait until CMD (run afresh each try) prints >= WANT
rr_wait_ge() {
    local secs=$1
    shift
    rr_wait "$secs" rr__count_at_least "$@"
}

# rr__count_equal WANT CMD...: true when CMD prints exactly WANT
rr__count_equal() {
    local want=$1 got
    shift
    got=$("$@")
    ((got == want))
}

# rr__count_at_least N CMD...: true if CMD prints a number >= N
rr__count_at_least() {
    local want=$1 got
    shift
    got=$("$@")
    ((got >= want))
}

# ---------------------------------------------------------------------------
# Running rrelay directly

# rr_as_rrelay CMD...: run CMD as user rrelay with a clean environment like pipe(8)'s
rr_as_rrelay() {
    local envs=(PATH=/usr/bin:/bin LANG=C)
    if [[ -f $RR_T/$RR_PF/etc/main.cf ]]; then
        envs+=("MAIL_CONFIG=$RR_T/$RR_PF/etc")
    fi
    setpriv --reuid="$RR_USER" --regid="$RR_USER" --init-groups \
        env -i "${envs[@]}" "$@"
}

# rr_rrelay ARG...: run $RRELAY as user rrelay with this test's state dir and log
rr_rrelay() {
    local daemon
    daemon=$(rr_daemon_opt "$@") || return 1
    rr_as_rrelay "$RRELAY" -o "state_directory=$RR_T/state" -o "log=$RR_T/rrelay.log" \
        ${daemon:+-o "$daemon"} "$@"
}

# rr_rrelay_status: run `rrelay status` (as user rrelay) with this test's state dir and log
rr_rrelay_status() {
    rr_as_rrelay "$RRELAY" status -o "state_directory=$RR_T/state" -o "log=$RR_T/rrelay.log"
}

# rr_prom_settled [DIR]: the metrics file in state directory DIR (default
# this test's) is newer than every state file, so it holds them all: rrelay
# dates it when its snapshot began, and writes it again within a second when
# a state file is as new (transport/state/prom.c)
rr_prom_settled() {
    local dir=${1:-$RR_T/state} newest
    [[ -f $dir/rrelay.prom ]] || return 1
    newest=$(stat -c '%.9Y' "$dir"/rrelay-*.state 2>/dev/null | sort -n | tail -n 1)
    awk -v p="$(stat -c '%.9Y' "$dir/rrelay.prom")" -v s="${newest:-0}" \
        'BEGIN { exit !(p > s) }'
}

# rr_wait_prom [DIR]: wait until the metrics file has caught up with the state
rr_wait_prom() {
    rr_wait 10 rr_prom_settled "$@"
}

# rr_host_state PORT: print up or down as `rrelay status` shows destination [127.0.0.1]:PORT
rr_host_state() {
    rr_rrelay_status | awk -v d="[$RR_HOST]:$1" '
        $1 == d { for (i = 2; i <= NF; i++) if ($i == "up" || $i == "down") { print $i; exit } }'
}

# ---------------------------------------------------------------------------
# Hand-back into the instance: /etc/postfix/main.cf alternate_config_directories

# rr_altconf_add DIR: list DIR in alternate_config_directories of /etc/postfix/main.cf until rr_teardown
rr_altconf_add() {
    local dir=$1 cur
    if [[ ! -e $RR_T/altconf.saved ]]; then
        # One test at a time may edit the system main.cf.
        exec {RR_ALTCONF_FD}>"$RR_ALTCONF_LOCK" || return 1
        flock -w 120 "$RR_ALTCONF_FD" || {
            rr_err "cannot lock $RR_ALTCONF_LOCK"
            return 1
        }
        if [[ -e $RR_ALTCONF_FILE ]]; then
            cp -p "$RR_ALTCONF_FILE" "$RR_T/altconf.orig" || return 1
        else
            rm -f "$RR_T/altconf.orig"
        fi
        : >"$RR_T/altconf.saved"
        if grep -q '^# rrelay-test ' "$RR_ALTCONF_FILE" 2>/dev/null; then
            rr_err "warning: $RR_ALTCONF_FILE has lines left by an earlier test run (# rrelay-test)"
        fi
    fi
    # Without a system main.cf (Debian's "No configuration") postconf fails.
    cur=$(postconf -h alternate_config_directories 2>/dev/null) || cur=""
    # Append (last definition wins) so that restoring is a plain copy back.
    if [[ -s $RR_ALTCONF_FILE && $(tail -c 1 "$RR_ALTCONF_FILE") != "" ]]; then
        echo >>"$RR_ALTCONF_FILE"
    fi
    printf '# rrelay-test %s\nalternate_config_directories = %s%s\n' \
        "$RR_T" "${cur:+$cur, }" "$dir" >>"$RR_ALTCONF_FILE"
}

# rr_altconf_restore: put /etc/postfix/main.cf back exactly as rr_altconf_add found it
rr_altconf_restore() {
    [[ -e $RR_T/altconf.saved ]] || return 0
    if [[ -e $RR_T/altconf.orig ]]; then
        cat "$RR_T/altconf.orig" >"$RR_ALTCONF_FILE"
        touch -r "$RR_T/altconf.orig" "$RR_ALTCONF_FILE"
        cmp -s "$RR_T/altconf.orig" "$RR_ALTCONF_FILE" || {
            rr_err "could not restore $RR_ALTCONF_FILE; original in $RR_T/altconf.orig"
            KEEP_TMP=1
            return 1
        }
    else
        rm -f "$RR_ALTCONF_FILE"
    fi
    rm -f "$RR_T/altconf.saved"
    if [[ -n ${RR_ALTCONF_FD:-} ]]; then
        exec {RR_ALTCONF_FD}>&-
        RR_ALTCONF_FD=
    fi
}
