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

# smtp_data_reply: the reply code to the end of one message sent to instance $RR_PF's smtpd
smtp_data_reply() {
    python3 - "$RR_HOST" "$(rr_smtpd_port)" <<'PY'
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=30)
s.ehlo("client.rrelay.test")
for step in (lambda: s.mail("a@sender.test"), lambda: s.rcpt("b@example.org"),
             lambda: s.data(b"Subject: after purge\r\n\r\nbody\r\n")):
    code, text = step()
    if code >= 300 and code != 354:
        break
print(code)
s.quit()
PY
}

# machine_state: print what the package may touch, to compare before and after
machine_state() {
    echo "passwd: $(getent passwd rrelay)"
    echo "group: $(getent group rrelay)"
    echo "dpkg: $(dpkg-query -W -f='${Status}' rrelay 2>/dev/null)"
    echo "statoverride: $(dpkg-statoverride --list '*rrelay*' 2>/dev/null)"
    echo "postfix groups: $(id -nG postfix 2>/dev/null)"
    echo "spool: $(ls -d /var/spool/postfix/*rrelay* /run/*rrelay* 2>/dev/null)"
    # The package's daemons only: other tests run their own from build/.
    echo "processes: $(pgrep -a -f '^/usr/sbin/rrelay-(milter|cache)' 2>/dev/null)"
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
    [ "$(stat -c '%U:%G %a' /var/lib/rrelay)" = "rrelay:rrelay 751" ]
    [ "$(dpkg -L rrelay | grep -c '^/usr/share/man/man[58]/rrelay.*\.[58]\.gz$')" -eq 6 ]
    grep -qx 'ExecStart=/usr/sbin/rrelay-milter -f -c /etc/rrelay/rrelay-milter.conf' \
        /lib/systemd/system/rrelay-milter.service
    # Neither enabled nor started.
    [ -z "$(find /etc/systemd -name 'rrelay-milter*' 2>/dev/null)" ]
    run ! pgrep -x -f '/usr/sbin/rrelay-milter.*'

    [ -x /usr/sbin/rrelay-cache ]
    [ "$(head -1 /usr/lib/tmpfiles.d/rrelay.conf)" = "# SPDX-License-Identifier: MIT" ]
    if command -v systemd-tmpfiles >/dev/null; then
        # postinst ran tmpfiles.d: the milter's socket directory inside the chroot.
        [ "$(stat -c '%U:%G %a' /var/spool/postfix/rrelay-milter)" = "rrelay:postfix 2750" ]
    fi
    # The admin front end, on PATH; only the administrative commands.
    [ "$(command -v rrelay)" = /usr/sbin/rrelay ]
    run -2 rrelay -f a@b -n '[127.0.0.1]:25' -- c@d
    [[ $output == *"usage: rrelay status"* ]]

    # Debian's smtpd runs chrooted in the queue directory: so does this one's.
    rr_sink_start a
    rr_sink_start b
    list="[127.0.0.1]:$(rr_sink_port a),[127.0.0.1]:$(rr_sink_port b)"
    rr_postfix_init_plain
    etc=$(rr_pf_etc)
    qdir=$(postconf -c "$etc" -h queue_directory)
    postconf -c "$etc" -F "$RR_HOST:$(rr_smtpd_port)/inet/chroot = y"
    cp -p "$etc/main.cf" "$RR_T/main.cf.orig"
    cp -p "$etc/master.cf" "$RR_T/master.cf.orig"
    # rrelay-setup finds the packaged transport and the packaged state dir.
    run -0 /usr/sbin/rrelay-setup -c "$etc" -o "log=$RR_T/rrelay.log" "$list"
    [[ $(postconf -c "$etc" -M rrelay/unix) == *"user=rrelay argv=/usr/lib/rrelay/rrelay -o log=$RR_T/rrelay.log -o helo_name=mta.rrelay.test -q "* ]]
    # tempfail: while wired in, mail needs the milter; after --undo it must not.
    run -0 /usr/sbin/rrelay-setup -c "$etc" --milter -a tempfail
    [ "$(postconf -c "$etc" -h smtpd_milters)" = "unix:/rrelay-milter/milter.sock" ]
    # The packaged milter, as root (it drops to rrelay), a daemon with its
    # default pidfile, which prerm uses; every client checked.
    /usr/sbin/rrelay-milter -o "socket=unix:$qdir/rrelay-milter/milter.sock" \
        -o "log=$RR_T/milter.log" -o authserv_id=mta.rrelay.test \
        -o trusted_networks=192.0.2.0/24 -o on_temperror=mark -o dns_timeout=5s
    rr_track_pid "$(cat /run/rrelay-milter/rrelay-milter.pid)"
    rr_postfix_start
    rr_smtp_inject 2
    rr_wait_maillog 2 'relay=rrelay, .*status=sent'
    rr_eq "sink a" 1 "$(rr_sink_count a)"
    rr_eq "sink b" 1 "$(rr_sink_count b)"
    rr_eq "messages with our Authentication-Results" 2 \
        "$(cat "$RR_T"/sinks/*/dump/* | grep -c '^Authentication-Results: mta\.rrelay\.test; spf=')"
    rr_eq "messages with Received-SPF" 2 "$(cat "$RR_T"/sinks/*/dump/* | grep -c '^Received-SPF: ')"
    [ -n "$(find /var/lib/rrelay -name 'rrelay-*.state')" ]
    # The metrics file, written under pipe(8)'s umask, is readable by others,
    # by name: here user nobody, then node_exporter as README says (its
    # textfile directory holds a link to it), run as its own user.
    rr_wait_prom /var/lib/rrelay
    [ "$(stat -c '%U %a' /var/lib/rrelay/rrelay.prom)" = "rrelay 644" ]
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        grep -q '^rrelay_host_messages_total{' /var/lib/rrelay/rrelay.prom
    if command -v prometheus-node-exporter >/dev/null && getent passwd prometheus >/dev/null; then
        mkdir -m 755 "$RR_T/textfile"
        ln -s /var/lib/rrelay/rrelay.prom "$RR_T/textfile/rrelay.prom"
        port=$(rr_free_port)
        setpriv --reuid=prometheus --regid=prometheus --init-groups \
            prometheus-node-exporter --collector.disable-defaults --collector.textfile \
            --collector.textfile.directory="$RR_T/textfile" \
            --web.listen-address="127.0.0.1:$port" >"$RR_T/node_exporter.out" 2>&1 &
        nodex=$!
        rr_track_pid "$nodex"
        rr_wait_listen "$port" 10
        python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
            "http://127.0.0.1:$port/metrics" >"$RR_T/metrics"
        grep -q "^rrelay_host_messages_total{host=\"\[127.0.0.1\]:$(rr_sink_port a)\",list=\"[0-9a-f]*\",result=\"sent\"} 1" "$RR_T/metrics"
        grep -qx 'node_textfile_scrape_error 0' "$RR_T/metrics"
        rr_kill_pid "$nodex"
    fi
    # rrelay status, from PATH, as the README types it.
    run -0 rrelay status
    [[ $output == *"[127.0.0.1]:$(rr_sink_port a)"*up* ]]
    run -0 rrelay status --json
    [[ $output == *'"schema":"rrelay-status"'* ]]

    run -0 /usr/sbin/rrelay-setup -c "$etc" --undo
    cmp "$RR_T/main.cf.orig" "$etc/main.cf"
    cmp "$RR_T/master.cf.orig" "$etc/master.cf"
    [ -z "$(postconf -c "$etc" -M rrelay/unix)" ]
    [ ! -e "$qdir/rrelay-milter" ]
    rr_postfix_reload
    pkg_dpkg --purge rrelay
    rm -f "$RR_T/installed"
    run dpkg -L rrelay
    [ "$status" -ne 0 ]
    [ ! -e /etc/rrelay ]
    [ ! -e /var/lib/rrelay ]
    [ ! -e /usr/lib/rrelay ]
    [ ! -e /lib/systemd/system/rrelay-milter.service ]
    [ ! -e /var/spool/postfix/rrelay-milter ]
    # prerm stopped the milter it found by its pidfile.
    rr_wait 10 bash -c '! pgrep -f "^/usr/sbin/rrelay-milter" >/dev/null'
    # And Postfix still takes mail: no 451, no milter line left.
    rr_eq "reply to the end of DATA" 250 "$(smtp_data_reply)"
    rr_postfix_stop
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
        [ "$(stat -c "%U:%G %a" /var/lib/rrelay)" = "rrelay:rrelay 751" ]
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
