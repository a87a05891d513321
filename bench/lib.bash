# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/lib.bash - helpers for bench/run, on top of tests/integration/lib.bash
#
# Source tests/integration/lib.bash first, then this file. Everything lives
# in the harness's temp dir $RR_T (see lib.bash): the Postfix instance
# "mta", the upstreams, rrelay's state dir. Files this file adds:
#
#   $RR_T/bench/            work dir: results.tsv, messages, run logs
#   $RR_T/bench/bin/        drain, drain-libs, drain-ssl, smtp_timer (bench/tools/*.c)
#   $RR_T/up/<name>/        an upstream smtp-sink without dumps: port pid out
#
# CPU accounting: when the machine has cgroup v1 cpuacct or cgroup v2, groups
# are made under /<root>/rrelay-bench.PID/: pf, the Postfix instance with every
# process it starts (rrelay, pipe(8), smtp(8), qmgr...), up, the upstream
# servers, ctl, this script, and for the milter section mpf (its Postfix),
# milter, dns (dnsmasq) and client (the SMTP clients). CPU time of a group over a run is exact
# and does not include the other tenants of a shared machine; the root
# group's total minus ours is what the others used meanwhile (the noise).

BN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BN_CG=             # our cgroup dir ("" without CPU accounting)
BN_CG_KIND=        # v1 or v2
BN_CG_ROOT=        # the hierarchy's root (for the machine's total)
BN_CG_HOME=        # the cgroup this script was in, to go back to at exit

# ---------------------------------------------------------------------------
# Messages, time, numbers

# bn_log MSG...: progress line on stderr, with the seconds since the start
bn_log() {
    printf '[%6.1fs] %s\n' "$(bn_since "$BN_T0")" "$*" >&2
}

# bn_die MSG...: error message, then exit 1 (the EXIT trap cleans up)
bn_die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

# bn_now: wall clock in seconds with microseconds (no fork)
bn_now() {
    echo "$EPOCHREALTIME"
}

# bn_since T: seconds elapsed since bn_now printed T
bn_since() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

# bn_calc EXPR: print an awk expression's value (%.6g unless FMT is given as $2)
bn_calc() {
    awk "BEGIN { printf \"${2:-%.6g}\", $1 }"
}

# bn_stats: read numbers on stdin, print "median min max count" (empty input: "- - - 0")
bn_stats() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "- - - 0"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR
        }'
}

# bn_pct P: read numbers on stdin, print the P-th percentile (nearest rank)
bn_pct() {
    sort -g | awk -v p="$1" '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "-"; exit }
            r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
            print v[r]
        }'
}

# bn_at_least N CMD...: true if CMD prints a number >= N (for rr_wait)
bn_at_least() {
    local want=$1 got
    shift
    got=$("$@")
    ((${got:-0} >= want))
}

# bn_sig X: X with 3 significant digits (or "-" / text as is)
bn_sig() {
    awk -v x="$1" 'BEGIN {
        if (x !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) { print x; exit }
        a = (x < 0) ? -x : x
        if (a >= 100) printf "%.0f\n", x
        else if (a >= 10) printf "%.1f\n", x
        else if (a >= 1) printf "%.2f\n", x
        else printf "%.3f\n", x
    }'
}

# ---------------------------------------------------------------------------
# CPU accounting with cgroups

# bn_cg_init: create pf, up and ctl groups and move this script into ctl (no-op if impossible)
bn_cg_init() {
    local base name
    if [[ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]]; then
        BN_CG_KIND=v1
        BN_CG_ROOT=/sys/fs/cgroup/cpuacct
        BN_CG_HOME=$(awk -F: '$2 ~ /(^|,)cpuacct(,|$)/ { print $3 }' /proc/self/cgroup)
    elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
        BN_CG_KIND=v2
        BN_CG_ROOT=/sys/fs/cgroup
        BN_CG_HOME=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    else
        return 0
    fi
    base=$BN_CG_ROOT/rrelay-bench.$$
    mkdir "$base" 2>/dev/null || {
        BN_CG_KIND=
        return 0
    }
    BN_CG=$base
    for name in pf up ctl; do
        mkdir "$base/$name" 2>/dev/null || {
            bn_cg_cleanup
            return 0
        }
    done
    bn_cg_enter ctl || {
        bn_cg_cleanup
        return 0
    }
}

# bn_cg_enter NAME: move the calling (sub)shell into group NAME (made if new); what it starts stays there
bn_cg_enter() {
    [[ -n $BN_CG ]] || return 0
    [[ -d $BN_CG/$1 ]] || mkdir "$BN_CG/$1" 2>/dev/null || return 1
    echo "$BASHPID" >"$BN_CG/$1/cgroup.procs" 2>/dev/null
}

# bn_cg_usage NAME: print the CPU nanoseconds used so far by group NAME ("" = the whole machine)
bn_cg_usage() {
    local dir=$BN_CG/$1
    [[ -n $BN_CG && ( -z $1 || -d $dir ) ]] || {
        echo 0
        return 0
    }
    [[ -n $1 ]] || dir=$BN_CG_ROOT
    if [[ $BN_CG_KIND == v1 ]]; then
        cat "$dir/cpuacct.usage"
    else
        awk '$1 == "usage_usec" { print $2 * 1000 }' "$dir/cpu.stat"
    fi
}

# bn_cg_snapshot: print "machine pf up ctl" CPU nanoseconds
bn_cg_snapshot() {
    echo "$(bn_cg_usage "") $(bn_cg_usage pf) $(bn_cg_usage up) $(bn_cg_usage ctl)"
}

# bn_cg_cleanup: move this script back, remove the groups (after everything in them stopped)
bn_cg_cleanup() {
    local dir name pid
    [[ -n $BN_CG && -d $BN_CG ]] || return 0
    if [[ -n $BN_CG_HOME && -d $BN_CG_ROOT$BN_CG_HOME ]]; then
        echo "$$" >"$BN_CG_ROOT$BN_CG_HOME/cgroup.procs" 2>/dev/null || true
    fi
    for dir in "$BN_CG"/*/; do
        [[ -d $dir ]] || continue
        name=$(basename "$dir")
        # Anything still inside (should be nothing after rr_teardown): say so.
        # shellcheck disable=SC2013 # one pid a line
        for pid in $(cat "$BN_CG/$name/cgroup.procs" 2>/dev/null); do
            [[ $pid == "$$" ]] && continue
            printf 'bench: warning: pid %s (%s) still in cgroup %s\n' "$pid" \
                "$(ps -o comm= -p "$pid" 2>/dev/null)" "$name" >&2
        done
        rmdir "$BN_CG/$name" 2>/dev/null || true
    done
    rmdir "$BN_CG" 2>/dev/null ||
        printf 'bench: warning: could not remove cgroup %s\n' "$BN_CG" >&2
    BN_CG=
}

# ---------------------------------------------------------------------------
# Tools from bench/tools

# bn_build_tools: compile bench/tools/*.c into $RR_T/bench/bin (readable by user rrelay)
bn_build_tools() {
    local bin=$RR_T/bench/bin cc=${CC:-cc}
    mkdir -p "$bin"
    chmod 755 "$RR_T/bench" "$bin"
    if ! "$cc" -std=c99 -O2 -Wall -Wextra -Werror -o "$bin/drain" "$BN_LIB_DIR/tools/drain.c" ||
        ! "$cc" -std=c99 -O2 -Wall -Wextra -Werror -o "$bin/drain-libs" "$BN_LIB_DIR/tools/drain.c" \
            -Wl,--no-as-needed -lresolv -Wl,--as-needed ||
        ! "$cc" -std=c99 -O2 -Wall -Wextra -Werror -o "$bin/drain-ssl" "$BN_LIB_DIR/tools/drain.c" \
            -Wl,--no-as-needed -lssl -lcrypto -lresolv -Wl,--as-needed ||
        ! "$cc" -std=c99 -O2 -Wall -Wextra -Werror -o "$bin/smtp_timer" "$BN_LIB_DIR/tools/smtp_timer.c"; then
        bn_die "cannot compile bench/tools (needs cc and libssl-dev, as scripts/install-deps installs)"
    fi
    # shellcheck disable=SC2046 # pkg-config prints several words
    "$cc" -std=c99 -O2 -Wall -Wextra -Werror -I"$BN_LIB_DIR/../filter" -o "$bin/null_milter" \
        "$BN_LIB_DIR/tools/null_milter.c" \
        $(pkg-config --cflags --libs milter) -pthread ||
        bn_die "cannot compile bench/tools/null_milter.c (needs libmilter-dev, as scripts/install-deps installs)"
}

# ---------------------------------------------------------------------------
# Upstreams: smtp-sink without -d (no dump files: the sink stays cheap)

# bn_up_start NAME: start an smtp-sink on a free port, in the "up" cgroup
bn_up_start() {
    local name=$1 d port
    d=$RR_T/up/$name
    mkdir -p "$d"
    port=$(rr_free_port) || return 1
    echo "$port" >"$d/port"
    (
        bn_cg_enter up
        # -c: counters (sess= quit= mesg=) on stdout
        exec smtp-sink -c -u "$RR_SINK_USER" "$RR_HOST:$port" 256 \
            </dev/null >"$d/out" 2>&1 3>&- 4>&-
    ) &
    rr_track_pid "$!"
    tail -n 1 "$RR_T/pids" >"$d/pid"
    rr_wait_listen "$port" 10 || {
        rr_err "smtp-sink $name did not start: $(tr '\r' '\n' <"$d/out")"
        return 1
    }
}

# bn_up_port NAME: the port of upstream NAME
bn_up_port() {
    cat "$RR_T/up/$1/port"
}

# bn_up_mesg NAME: messages upstream NAME has accepted so far (its mesg= counter)
bn_up_mesg() {
    local last
    last=$(tr '\r' '\n' <"$RR_T/up/$1/out" | grep -o 'mesg=[0-9]*' | tail -n 1)
    last=${last#mesg=}
    echo "${last:-0}"
}

# bn_silent_start NAME: rr_silent_start, with the server in the "up" cgroup
bn_silent_start() {
    (
        bn_cg_enter up
        rr_silent_start "$1"
    )
}

# bn_fault_start NAME: rr_fault_start on a free port, with the server in the "up" cgroup
bn_fault_start() {
    local port
    port=$(rr_free_port) || return 1
    (
        bn_cg_enter up
        rr_fault_start "$1" "$port"
    )
}

# ---------------------------------------------------------------------------
# The Postfix instance

# bn_queue: the queue directory of instance $RR_PF
bn_queue() {
    echo "$(rr_pf_dir)/queue"
}

# bn_queue_busy: true while any message is queued (incoming, active, deferred, hold, maildrop)
bn_queue_busy() {
    local q
    q=$(bn_queue)
    [[ -n $(find "$q/incoming" "$q/active" "$q/deferred" "$q/hold" "$q/maildrop" \
        -type f -print -quit 2>/dev/null || true) ]]
}

# bn_queue_count [QUEUE...]: number of queue files (default: all queues)
bn_queue_count() {
    local q d dirs=()
    q=$(bn_queue)
    (($#)) || set -- incoming active deferred hold maildrop
    for d in "$@"; do
        dirs+=("$q/$d")
    done
    { find "${dirs[@]}" -type f 2>/dev/null || true; } | wc -l
}

# bn_pf_running: true if the instance's master runs
bn_pf_running() {
    local f pid
    f=$(bn_queue)/pid/master.pid
    [[ -s $f ]] || return 1
    pid=$(tr -d ' ' <"$f")
    [[ -n $pid ]] && proc_alive "$pid"
}

# bn_pf_start: start instance $RR_PF inside the "pf" cgroup (rr_postfix_start)
bn_pf_start() {
    (
        bn_cg_enter pf
        rr_postfix_start
    ) || bn_die "cannot start Postfix in $(rr_pf_dir) (see above; maillog: $(rr_maillog))"
}

# bn_pf_stop: stop instance $RR_PF and every process left working in its queue dir
bn_pf_stop() {
    local q pid left
    q=$(bn_queue)
    rr_postfix_stop || true
    # pipe(8) runs its command in a session of its own: an rrelay still
    # waiting for a silent host outlives master. Its cwd is the queue dir.
    for _ in 1 2 3; do
        left=$(bn_procs_in "$q")
        [[ -z $left ]] && return 0
        for pid in $left; do
            [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
            rr_kill_pid "$pid"
        done
    done
    left=$(bn_procs_in "$q")
    [[ -z $left ]] || bn_die "processes survive in $q: $left"
}

# bn_procs_in DIR: pids of the processes whose working directory is under DIR
bn_procs_in() {
    { find /proc/[0-9]*/cwd -maxdepth 0 -lname "$1*" 2>/dev/null || true; } | cut -d/ -f3 | sort -un
}

# bn_rrelay_argv OPTION...: the argv= line of instance $RR_PF's rrelay entry, with -o OPTION for each
bn_rrelay_argv() {
    local argv o opts=""
    argv=$(grep -A2 '^rrelay ' "$(rr_pf_etc)/master.cf" | grep -m1 '^  argv=') ||
        bn_die "no rrelay entry in master.cf"
    for o in "$@"; do
        opts+=" -o $o"
    done
    echo "${argv/ -q /$opts -q }"
}

# bn_pipe_service NAME ARGV: add a pipe(8) entry NAME, as user rrelay like rrelay's, to master.cf
bn_pipe_service() {
    printf '%s\n  %s\n%s\n' "$(printf '%-9s unix  - n n -     - pipe' "$1")" \
        "flags=q null_sender= user=$RR_USER" "$2" >>"$(rr_pf_etc)/master.cf"
}

# bn_inject COUNT BYTES RCPTS: submit COUNT messages (BYTES body, RCPTS recipients) to the held queue
bn_inject() {
    local count=$1 bytes=$2 rcpts=$3 port sessions=10 n
    port=$(rr_smtpd_port)
    ((count < sessions)) && sessions=$count
    # -d: many messages per session. The instance puts each in the hold queue.
    timeout 600 smtp-source -d -s "$sessions" -m "$count" -l "$bytes" -r "$rcpts" \
        -M client.bench.test -f sender@sender.test -t rcpt@example.org \
        "$RR_HOST:$port" >"$RR_T/bench/inject.out" 2>&1 ||
        bn_die "smtp-source failed: $(tail -n 5 "$RR_T/bench/inject.out")"
    rr_wait 30 bn__held_is "$count" ||
        bn_die "expected $count held messages, found $(bn_queue_count hold) (hold queue) and $(bn_queue_count) in all"
    n=$(bn_queue_count incoming active deferred)
    ((n == 0)) || bn_die "$n messages were not held (check smtpd_recipient_restrictions = HOLD)"
}

# bn__held_is N: true when the hold queue holds exactly N messages
bn__held_is() {
    (($(bn_queue_count hold) == $1))
}

# bn_sent_since OFFSET RELAY_ERE: maillog "status=sent" lines after byte OFFSET whose relay= matches
bn_sent_since() {
    tail -c +"$(($1 + 1))" "$(rr_maillog)" 2>/dev/null |
        grep -cE "postfix/[a-z]+\[[0-9]+\]: [0-9A-F]+: to=<[^>]*>, relay=$2, .*status=sent" || true
}

# bn_failed_since OFFSET: maillog lines after OFFSET with status=deferred or bounced
bn_failed_since() {
    tail -c +"$(($1 + 1))" "$(rr_maillog)" 2>/dev/null |
        grep -cE ': to=<[^>]*>, .*status=(deferred|bounced)' || true
}

# bn_maillog_size: the maillog's size in bytes (an offset for the *_since helpers)
bn_maillog_size() {
    stat -c %s "$(rr_maillog)" 2>/dev/null || echo 0
}
