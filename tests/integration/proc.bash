# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# proc.bash - process helpers shared by lib.bash (rrelay's harness) and
# filter_lib.bash (rrelay-milter's), which each source it
#
#   proc_wait ERRFN TIMEOUT CMD...   poll CMD every 0.1s until it succeeds;
#                                    on timeout, say so with ERRFN and fail
#   proc_alive PID, proc_dead PID    whether the process runs (a zombie does not)
#   proc_start PID                   its start time (field 22 of /proc/PID/stat):
#                                    with the pid, it names one process, even
#                                    after the pid is reused
#   proc_kill PID START SECONDS      TERM, up to SECONDS to go, then KILL; nothing
#                                    if START is given and the pid now names
#                                    another process

# proc_wait ERRFN TIMEOUT CMD...: poll CMD until it succeeds; 1 (and ERRFN's message) on timeout
proc_wait() {
    local errfn=$1 timeout=$2 deadline
    shift 2
    deadline=$(($(date +%s%N) + timeout * 1000000000))
    until "$@"; do
        if (($(date +%s%N) >= deadline)); then
            "$errfn" "timed out after ${timeout}s waiting for: $*"
            return 1
        fi
        sleep 0.1
    done
}

# proc_alive PID: true if the process exists and is not a zombie
proc_alive() {
    local stat
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ -n $stat && $stat != Z* ]]
}

# proc_dead PID: true if the process is gone (or a zombie)
proc_dead() {
    ! proc_alive "$1"
}

# proc_start PID: the process's start time, in clock ticks after boot; 1 if it is gone
proc_start() {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # Drop "pid (comm) ": comm may contain spaces. Field 3 is then index 0.
    read -ra fields <<<"${stat##*) }"
    echo "${fields[19]}"
}

# proc_kill PID START SECONDS: stop the process: TERM, wait up to SECONDS, KILL; reap it if ours
proc_kill() {
    local pid=$1 start=$2 i
    if [[ -n $start && $(proc_start "$pid") != "$start" ]]; then
        return 0 # gone, and the pid may belong to someone else now
    fi
    if proc_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < $3 * 10; i++)); do
            proc_alive "$pid" || break
            sleep 0.1
        done
        if proc_alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}
