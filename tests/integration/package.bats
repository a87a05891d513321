#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# package.bats - the Debian package end to end: make deb builds it (once,
# in a copy of the tree), lintian passes it, dpkg -i installs it,
# rrelay-setup puts the packaged transport into a throwaway Postfix, which
# relays mail through it to two smtp-sinks, and dpkg --purge leaves the
# machine as it found it: no files, no unit state, the rrelay account and
# group exactly as before. The harness (lib.bash) makes the rrelay user
# before this test runs, so here the package finds it and purge keeps it.

bats_require_minimum_version 1.5.0
load lib

# in_build_env CMD...: run CMD without what an outer make or the test run
# would pass into the package build (SANITIZE=1, BUILD, CC, MAKEFLAGS)
in_build_env() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u FUZZ -u BUILD \
        -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS "$@"
}

setup_file() {
    local src=$BATS_FILE_TMPDIR/src/rrelay
    mkdir -p "$src"
    # The tree as it is, untracked files too; without git, all but build/.
    if git -C "$RR_REPO" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$RR_REPO" && git ls-files -co --exclude-standard -z |
            tar --null -T - -cf -) | tar -xf - -C "$src" || return 1
    else
        tar -C "$RR_REPO" --exclude=./build -cf - . | tar -xf - -C "$src" || return 1
    fi
    if ! (cd "$src" && in_build_env make deb) >"$BATS_FILE_TMPDIR/build.log" 2>&1; then
        tail -n 40 "$BATS_FILE_TMPDIR/build.log" >&3
        return 1
    fi
}

setup() {
    DEB=$(echo "$BATS_FILE_TMPDIR"/src/rrelay_*.deb)
    rr_setup
}

teardown() {
    # A test that failed after installing the package purges it here.
    if [[ -n ${RR_T:-} && -e $RR_T/installed ]]; then
        pkg_dpkg --purge rrelay >&2 || true
    fi
    # They were not there before the test: a failed purge must not leave them.
    if [[ -n ${RR_T:-} && -e $RR_T/clean-before ]]; then
        rm -rf /etc/rrelay /var/lib/rrelay
    fi
    rr_teardown
}

# pkg_dpkg ARG...: dpkg ARG..., waiting up to 120s for the dpkg lock that
# another apt-get or dpkg on this machine may hold
pkg_dpkg() {
    local i out
    for ((i = 0; i < 120; i++)); do
        out=$(DEBIAN_FRONTEND=noninteractive dpkg "$@" 2>&1) && return 0
        [[ $out == *"lock"* ]] || {
            printf '%s\n' "$out" >&2
            return 1
        }
        sleep 1
    done
    printf '%s\n' "$out" >&2
    return 1
}

# machine_state: print what the package may touch, to compare before and after
machine_state() {
    echo "passwd: $(getent passwd rrelay)"
    echo "group: $(getent group rrelay)"
    echo "dpkg: $(dpkg-query -W -f='${Status}' rrelay 2>/dev/null)"
    echo "statoverride: $(dpkg-statoverride --list '*rrelay*' 2>/dev/null)"
    find /etc /lib/systemd /usr/lib/systemd /var/lib/systemd /usr/lib/rrelay \
        /usr/sbin /usr/share/man /usr/share/doc /var/lib/rrelay \
        -name '*rrelay*' 2>/dev/null | sort
}

@test "make deb builds rrelay_*.deb, and lintian finds nothing to report" {
    [ -f "$DEB" ]
    [ "$(dpkg-deb -f "$DEB" Package)" = rrelay ]
    # root: lintian's warning about it goes to stderr, kept out of $output.
    # Its leftover temp files (mldbm-elf-*) go with $RR_T.
    run --separate-stderr env TMPDIR="$RR_T" lintian --fail-on error,warning,info,pedantic \
        -I --pedantic "$DEB"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "dpkg -i, rrelay-setup and a real Postfix relay mail; dpkg --purge leaves the machine as it was" {
    rr_require_rrelay
    if [[ -n $(dpkg-query -W -f='${Status}' rrelay 2>/dev/null) || -e /etc/rrelay ||
        -e /var/lib/rrelay ]]; then
        skip "rrelay is already installed here (/etc/rrelay, /var/lib/rrelay or the package)"
    fi
    : >"$RR_T/clean-before"
    machine_state >"$RR_T/before"
    : >"$RR_T/installed"
    pkg_dpkg -i "$DEB"

    # What the package installed.
    [ -x /usr/lib/rrelay/rrelay ]
    # set-gid postdrop for log = postfix (postlogd's socket), by statoverride.
    [ "$(stat -c '%U:%G %a' /usr/lib/rrelay/rrelay)" = "root:postdrop 2755" ]
    grep -q 'SupplementaryGroups=postdrop' /lib/systemd/system/rrelay-milter.service
    [ -x /usr/sbin/rrelay-milter ]
    [ -x /usr/sbin/rrelay-setup ]
    [ "$(dpkg-query -W -f='${Conffiles}' rrelay | awk '{print $1}' | sort | tr '\n' ' ')" = \
        "/etc/rrelay/rrelay-milter.conf /etc/rrelay/rrelay.conf " ]
    # Commented: every line is a comment or empty.
    run ! grep -Ev '^(#|$)' /etc/rrelay/rrelay.conf /etc/rrelay/rrelay-milter.conf
    [ "$(stat -c '%U:%G %a' /var/lib/rrelay)" = "rrelay:rrelay 750" ]
    [ "$(dpkg -L rrelay | grep -c '^/usr/share/man/man[58]/rrelay.*\.[58]\.gz$')" -eq 6 ]
    grep -qx 'ExecStart=/usr/sbin/rrelay-milter -f -c /etc/rrelay/rrelay-milter.conf' \
        /lib/systemd/system/rrelay-milter.service
    # Neither enabled nor started.
    [ -z "$(find /etc/systemd -name 'rrelay-milter*' 2>/dev/null)" ]
    run ! pgrep -x -f '/usr/sbin/rrelay-milter.*'

    # rrelay-setup finds the packaged transport and the packaged state dir.
    rr_sink_start a
    rr_sink_start b
    list="[127.0.0.1]:$(rr_sink_port a),[127.0.0.1]:$(rr_sink_port b)"
    rr_postfix_init_plain
    etc=$(rr_pf_etc)
    run -0 /usr/sbin/rrelay-setup -c "$etc" -o "log=$RR_T/rrelay.log" "$list"
    [[ $(postconf -c "$etc" -M rrelay/unix) == *"user=rrelay argv=/usr/lib/rrelay/rrelay -o log=$RR_T/rrelay.log -q "* ]]
    rr_postfix_start
    rr_smtp_inject 2
    rr_wait_maillog 2 'relay=rrelay, .*status=sent'
    rr_eq "sink a" 1 "$(rr_sink_count a)"
    rr_eq "sink b" 1 "$(rr_sink_count b)"
    [ -n "$(find /var/lib/rrelay -name 'rrelay-*.state')" ]

    run -0 /usr/sbin/rrelay-setup -c "$etc" --undo
    [ -z "$(postconf -c "$etc" -M rrelay/unix)" ]
    [ "$(postconf -c "$etc" -h default_transport)" = smtp ]
    rr_postfix_stop

    pkg_dpkg --purge rrelay
    rm -f "$RR_T/installed"
    run dpkg -L rrelay
    [ "$status" -ne 0 ]
    [ ! -e /etc/rrelay ]
    [ ! -e /var/lib/rrelay ]
    [ ! -e /usr/lib/rrelay ]
    [ ! -e /lib/systemd/system/rrelay-milter.service ]
    machine_state >"$RR_T/after"
    diff "$RR_T/before" "$RR_T/after"
}

@test "without an rrelay account, postinst creates it and purge removes it again (private /etc)" {
    command -v unshare >/dev/null || skip "needs unshare (util-linux)"
    # The package's own maintainer scripts, debhelper's parts included.
    dpkg-deb -e "$DEB" "$RR_T/ctl"
    # A copy of /etc without the rrelay account, and an empty /var/lib, seen
    # only inside a private mount namespace: the machine's accounts, which
    # other tests use, are never touched.
    cp -a /etc "$RR_T/etc"
    for f in passwd shadow group gshadow; do
        sed -i '/^rrelay:/d' "$RR_T/etc/$f"
    done
    mkdir -m 755 "$RR_T/varlib"
    # shellcheck disable=SC2016 # expanded by the inner bash
    run unshare -m bash -euc '
        # none CMD...: fail unless CMD fails (set -e ignores "! CMD")
        none() { if "$@"; then echo "unexpected: $*"; exit 1; fi; }
        mount --bind "$1/etc" /etc
        mount --bind "$1/varlib" /var/lib
        cp /etc/passwd /etc/group "$1/"
        none getent passwd rrelay
        "$1/ctl/postinst" configure
        getent passwd rrelay | grep -q ":/var/lib/rrelay:/usr/sbin/nologin\$"
        getent group rrelay
        [ "$(stat -c "%U:%G %a" /var/lib/rrelay)" = "rrelay:rrelay 750" ]
        [ -f /var/lib/rrelay/.account ]
        "$1/ctl/postrm" remove
        getent passwd rrelay
        "$1/ctl/postrm" purge
        none getent passwd rrelay
        none getent group rrelay
        [ ! -e /var/lib/rrelay ]
        cmp "$1/passwd" /etc/passwd
        cmp "$1/group" /etc/group
        echo namespace-checks-done
    ' bash "$RR_T"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *namespace-checks-done* ]]
}
