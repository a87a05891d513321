#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# transport_mx.bats - unbracketed destinations: MX lookup, then A fallback.
#
# A network namespace of our own, with dnsmasq as its DNS server on
# 127.0.0.1 (ip netns bind-mounts /etc/netns/NS/resolv.conf), holds the
# records; smtp-sink listens inside it. rrelay runs directly (not via
# Postfix) inside the namespace.

RRELAY=${RRELAY:-$BATS_TEST_DIRNAME/../../build/rrelay}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
    command -v dnsmasq >/dev/null || skip "dnsmasq is not installed"
    T=$(mktemp -d /tmp/rrelay-mx.XXXXXX)
    chmod 755 "$T"
    NS="rrmx$$"
    PIDS=()
    ip netns add "$NS" || skip "cannot create a network namespace"
    mkdir -p "/etc/netns/$NS"
    echo "nameserver 127.0.0.1" > "/etc/netns/$NS/resolv.conf"
    ip -n "$NS" link set lo up
    PORT=$(( 20000 + RANDOM % 20000 ))
    ip netns exec "$NS" dnsmasq -k --no-resolv --no-hosts --user=root \
        --listen-address=127.0.0.1 --bind-interfaces --local=/test/ \
        --mx-host=mx.test,mx1.mx.test,10 --mx-host=mx.test,mx2.mx.test,20 \
        --host-record=mx1.mx.test,127.0.0.3 --host-record=mx2.mx.test,127.0.0.2 \
        --host-record=plain.test,127.0.0.4 --pid-file= 2>"$T/dnsmasq.log" &
    PIDS+=($!)
    mkdir -p "$T/state" "$T/sink2" "$T/sink4"
    chmod 777 "$T/sink2" "$T/sink4"
    ip netns exec "$NS" smtp-sink -u nobody -d "$T/sink2/" "127.0.0.2:$PORT" 10 &
    PIDS+=($!)
    ip netns exec "$NS" smtp-sink -u nobody -d "$T/sink4/" "127.0.0.4:$PORT" 10 &
    PIDS+=($!)
    for _ in $(seq 50); do
        ip netns exec "$NS" ss -ltn | grep -q "127.0.0.4:$PORT" &&
            ip netns exec "$NS" ss -lun | grep -q '127.0.0.1:53' && break
        sleep 0.1
    done
}

teardown() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
    [ -n "${NS:-}" ] && rm -rf "/etc/netns/$NS"
    [ -n "${T:-}" ] && [ "${KEEP_TMP:-0}" != 1 ] && rm -rf "$T"
    true
}

# relay - run rrelay in the namespace to the given destination list
relay() {
    printf 'Subject: mx test\n\nbody\n' |
        ip netns exec "$NS" "$RRELAY" -o state_directory="$T/state" \
        -o log="$T/rrelay.log" -o connect_timeout=2s -q MXTEST \
        -f sender@example.org -n "$1" -- rcpt@example.net
}

@test "an MX destination uses the exchangers in preference order" {
    # mx1 (preference 10) has no listener: the next exchanger takes it.
    run relay "mx.test:$PORT"
    echo "$output"; cat "$T/rrelay.log"
    [ "$status" -eq 0 ]
    [ "$(ls "$T/sink2" | wc -l)" -eq 1 ]
    grep -q "relay=mx2.mx.test\[127.0.0.2\]:$PORT, .*status=sent" "$T/rrelay.log"
}

@test "a domain without MX records falls back to its address" {
    run relay "plain.test:$PORT"
    echo "$output"; cat "$T/rrelay.log"
    [ "$status" -eq 0 ]
    [ "$(ls "$T/sink4" | wc -l)" -eq 1 ]
    grep -q "relay=plain.test\[127.0.0.4\]:$PORT" "$T/rrelay.log"
}

@test "a domain that does not exist defers, it never bounces" {
    run relay "nowhere.test:$PORT"
    echo "$output"; cat "$T/rrelay.log"
    [ "$status" -eq 75 ]
    [[ "$output" == 4.4.1\ * ]]
    grep -q "host=nowhere.test:$PORT, .*status=down" "$T/rrelay.log"
}
