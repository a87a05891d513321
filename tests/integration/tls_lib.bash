# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# tls_lib.bash - TLS and SMTP AUTH helpers for transport_tls*.bats
#
# Load it after lib.bash (bats: `load lib` then `load tls_lib`).
#
# Certificates: rr_tls_make_certs DIR, once per file from setup_file,
# makes a throwaway CA and server/client certificates with openssl, and
# a Cyrus sasldb with one user. The directory is exported as
# $RR_TLS_DIR (setup_file's exports reach every test); it is mode 0755
# so that the postfix and rrelay users can read what they need.
#
#   ca.pem ca.key          the trusted test CA (rrelay's tls_ca_file)
#   rogue.pem rogue.key    a CA that nobody trusts
#   server.key             the key of every server certificate
#   good.pem               DNS:localhost, IP:127.0.0.1, by the CA
#   wrong.pem              DNS:wrong.rrelay.test, IP:192.0.2.1, by the CA
#   untrusted.pem          DNS:localhost, IP:127.0.0.1, by the rogue CA
#   expired.pem            DNS:localhost, IP:127.0.0.1, by the CA, 2020-2021
#   mx.pem                 DNS:mx.rrelay.test only, by the CA
#   dnsonly.pem            DNS:localhost only (no IP SAN), by the CA
#   client.pem client.key  CN=rrelay-client, clientAuth, by the CA (key owned by rrelay)
#   client.fp              its SHA-256 fingerprint, AA:BB:... as Postfix prints it
#   sasl/smtpd.conf        Cyrus SASL config for smtpd (auxprop, sasldb); copied to up's etc/sasl
#   sasl/sasldb2           user $RR_TLS_USER@$RR_TLS_REALM, password $RR_TLS_PASS
#
# Upstream: rr_tls_up_init SINK writes a second Postfix instance "up"
# that relays everything to smtp-sink SINK, with smtpd TLS (cert good.pem
# by default), Cyrus SASL (AUTH PLAIN LOGIN, offered even without TLS),
# smtpd_tls_loglevel=1, and a Received: header that records TLS, the
# client certificate and the SASL user. It adds one smtpd service per
# case, each on its own port, logging as postfix/NAME/smtpd:
#
#   good wrong untrusted expired mx dnsonly   STARTTLS with that certificate
#   plain      no STARTTLS at all (AUTH still offered)
#   wrapper    implicit TLS (smtpd_tls_wrappermode=yes), good.pem
#   auth auth2 STARTTLS, good.pem, AUTH offered only after STARTTLS;
#              relaying needs a SASL login
#   plainonly  as auth, but AUTH PLAIN only (no LOGIN)
#   ccert      STARTTLS, good.pem, asks for a client certificate; relaying
#              needs the certificate of client.pem (check_ccert_access)
#   tls12      STARTTLS, good.pem, TLS 1.2 at most
#   sni        STARTTLS, wrong.pem, but good.pem for SNI "localhost"
#              (tls_server_sni_maps)
#
# rr_tls_port NAME gives a service's port, rr_tls_dest NAME its
# destination "[127.0.0.1]:PORT". rr_tls_up_start starts the instance
# and waits for every port. rr_tls_service, rr_tls_port and rr_tls_up_start
# act on the instance named by $RR_TLS_UP (default "up"), so another
# harness (bench/tls.bash) can add services to an instance of its own.

RR_TLS_REALM=rrelay.test
RR_TLS_USER=alice
RR_TLS_PASS='S3cret Pa55:word!' # the right password (a space: auth_file takes the rest of the line)
# shellcheck disable=SC2034 # used by the .bats files
RR_TLS_BADPASS='Wr0ng-Pa55.word' # a wrong one, for 535

# ---------------------------------------------------------------------------
# Certificates and the SASL database (once per file)

# rr_tls__openssl ARG...: run openssl quietly; show its output when it fails
rr_tls__openssl() {
    local out
    if ! out=$(openssl "$@" 2>&1); then
        rr_err "openssl $*: $out"
        return 1
    fi
}

# rr_tls__leaf DIR NAME SECTION CA: make DIR/NAME.pem for server.key, signed by CA (ca or rogue)
rr_tls__leaf() {
    local d=$1 name=$2 section=$3 ca=$4
    rr_tls__openssl req -new -key "$d/server.key" -subj "/CN=$name.rrelay.test" \
        -out "$d/$name.csr" || return 1
    rr_tls__openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 3650 -sha256 \
        -extfile "$d/openssl.cnf" -extensions "$section" -out "$d/$name.pem"
}

# rr_tls_make_certs DIR: make the CA, certificates and sasldb described above in DIR
rr_tls_make_certs() {
    local d=$1 ca
    mkdir -p "$d/cadb/new" "$d/sasl" || return 1
    chmod 755 "$d" "$d/sasl"
    cat >"$d/openssl.cnf" <<EOF
[ca]
default_ca = testca
[testca]
dir = $d/cadb
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[srv_good]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[srv_wrong]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.rrelay.test, IP:192.0.2.1
[srv_mx]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.rrelay.test
[srv_dnsonly]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOF
    : >"$d/cadb/index.txt"
    echo 1000 >"$d/cadb/serial"
    for ca in ca rogue; do
        rr_tls__openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$d/$ca.key" -out "$d/$ca.pem" -days 3650 -sha256 \
            -subj "/CN=rrelay $ca test CA" -config "$d/openssl.cnf" \
            -extensions ca_ext || return 1
    done
    rr_tls__openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
        -out "$d/server.key" || return 1
    rr_tls__leaf "$d" good srv_good ca || return 1
    rr_tls__leaf "$d" wrong srv_wrong ca || return 1
    rr_tls__leaf "$d" untrusted srv_good rogue || return 1
    rr_tls__leaf "$d" mx srv_mx ca || return 1
    rr_tls__leaf "$d" dnsonly srv_dnsonly ca || return 1
    # expired: openssl x509 (3.0) can't set dates in the past; openssl ca can
    rr_tls__openssl req -new -key "$d/server.key" -subj "/CN=expired.rrelay.test" \
        -out "$d/expired.csr" || return 1
    rr_tls__openssl ca -batch -config "$d/openssl.cnf" -cert "$d/ca.pem" \
        -keyfile "$d/ca.key" -in "$d/expired.csr" -out "$d/expired.pem" -notext \
        -startdate 20200101000000Z -enddate 20210101000000Z \
        -extfile "$d/openssl.cnf" -extensions srv_good || return 1
    # the client certificate, for rrelay's tls_cert_file/tls_key_file
    rr_tls__openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/client.key" -subj "/CN=rrelay-client" -out "$d/client.csr" || return 1
    rr_tls__openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 3650 -sha256 \
        -extfile "$d/openssl.cnf" -extensions client -out "$d/client.pem" || return 1
    openssl x509 -in "$d/client.pem" -noout -fingerprint -sha256 | sed 's/^.*=//' >"$d/client.fp"
    chmod 644 "$d"/*.pem
    chmod 600 "$d"/*.key
    chown "$RR_USER:" "$d/client.key"
    # Cyrus SASL for the upstream smtpd: sasldb readable by group postfix only
    cat >"$d/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $d/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
    printf '%s' "$RR_TLS_PASS" |
        saslpasswd2 -p -f "$d/sasl/sasldb2" -c -u "$RR_TLS_REALM" "$RR_TLS_USER" || {
        rr_err "saslpasswd2 failed"
        return 1
    }
    chgrp postfix "$d/sasl/sasldb2"
    chmod 640 "$d/sasl/sasldb2"
}

# rr_tls_setup_file: bats setup_file: check tools, make $RR_TLS_DIR once for the whole file
rr_tls_setup_file() {
    [[ $(id -u) == 0 ]] || return 0 # the tests skip themselves
    rr_ensure_user || return 1
    local tool
    for tool in openssl saslpasswd2 smtp-sink; do
        command -v "$tool" >/dev/null || {
            rr_err "$tool not found (apt-get install openssl sasl2-bin postfix)"
            return 1
        }
    done
    RR_TLS_DIR=$(mktemp -d "$RR_TMPBASE/rrelay-tls.XXXXXX") || return 1
    export RR_TLS_DIR
    rr_tls_make_certs "$RR_TLS_DIR"
}

# rr_tls_teardown_file: bats teardown_file: remove $RR_TLS_DIR (kept with KEEP_TMP=1)
rr_tls_teardown_file() {
    [[ -n ${RR_TLS_DIR:-} && -d $RR_TLS_DIR ]] || return 0
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        echo "# KEEP_TMP=1: kept $RR_TLS_DIR" >&2
    else
        rm -rf "$RR_TLS_DIR"
    fi
}

# rr_tls_require: skip unless root; fail unless rr_tls_setup_file made the certificates
rr_tls_require() {
    rr_require_root
    [[ -n ${RR_TLS_DIR:-} && -s $RR_TLS_DIR/ca.pem && -s $RR_TLS_DIR/sasl/sasldb2 ]] || {
        rr_err "no test certificates: rr_tls_setup_file did not run or failed"
        return 1
    }
    command -v saslpasswd2 >/dev/null || {
        rr_err "saslpasswd2 not found (apt-get install sasl2-bin libsasl2-modules)"
        return 1
    }
}

# ---------------------------------------------------------------------------
# The upstream Postfix instance "up"

# rr_tls_service NAME [MAIN.CF-OVERRIDE...]: add an smtpd service NAME on a free port to instance $RR_TLS_UP
rr_tls_service() {
    local name=$1 up=${RR_TLS_UP:-up} port etc o
    shift
    port=$(rr_free_port) || return 1
    etc=$(RR_PF=$up rr_pf_etc)
    mkdir -p "$RR_T/$up/svc"
    echo "$port" >"$RR_T/$up/svc/$name"
    {
        echo "$RR_HOST:$port inet n - n - - smtpd"
        echo "  -o syslog_name=postfix/$name"
        for o in "$@"; do
            echo "  -o $o"
        done
    } >>"$etc/master.cf"
}

# rr_tls_port NAME: print the port of upstream service NAME
rr_tls_port() {
    cat "$RR_T/${RR_TLS_UP:-up}/svc/$1"
}

# rr_tls_dest NAME [HOST]: print the destination [HOST]:PORT of upstream service NAME (HOST 127.0.0.1)
rr_tls_dest() {
    echo "[${2:-$RR_HOST}]:$(rr_tls_port "$1")"
}

# rr_tls_up_init SINK: write instance up (TLS, SASL, one service per case) relaying to sink SINK
rr_tls_up_init() {
    local sink=$1 d=$RR_TLS_DIR etc relay fp
    rr_sink_start "$sink" || return 1
    RR_PF=up rr_postfix_init "$(rr_relayhost "$(rr_sink_port "$sink")")" || return 1
    etc=$(RR_PF=up rr_pf_etc)
    fp=$(cat "$d/client.fp")
    printf '%s OK\n' "$fp" >"$etc/ccert"
    # Debian's smtpd reads smtpd.conf from $config_directory/sasl, whatever
    # cyrus_sasl_config_path says (seen with strace on 3.7.11)
    mkdir -p "$etc/sasl"
    cp "$d/sasl/smtpd.conf" "$etc/sasl/smtpd.conf"
    sed 's/^mech_list:.*/mech_list: PLAIN/' "$d/sasl/smtpd.conf" >"$etc/sasl/plainonly.conf"
    RR_PF=up rr_postconf default_transport=smtp relay_transport=smtp \
        smtpd_tls_security_level=may \
        "smtpd_tls_cert_file=$d/good.pem" "smtpd_tls_key_file=$d/server.key" \
        "smtpd_tls_CAfile=$d/ca.pem" \
        smtpd_tls_loglevel=1 smtpd_tls_received_header=yes \
        smtpd_tls_fingerprint_digest=sha256 \
        smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
        "cyrus_sasl_config_path=$etc/sasl" "smtpd_sasl_local_domain=$RR_TLS_REALM" \
        smtpd_sasl_authenticated_header=yes smtpd_tls_auth_only=no || return 1
    local name
    for name in good wrong untrusted expired mx dnsonly; do
        rr_tls_service "$name" "smtpd_tls_cert_file=$d/$name.pem" || return 1
    done
    rr_tls_service plain smtpd_tls_security_level=none || return 1
    rr_tls_service wrapper smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt || return 1
    relay=smtpd_relay_restrictions=permit_sasl_authenticated,reject
    rr_tls_service auth "$relay" smtpd_tls_auth_only=yes || return 1
    rr_tls_service auth2 "$relay" smtpd_tls_auth_only=yes || return 1
    rr_tls_service plainonly "$relay" smtpd_sasl_path=plainonly || return 1
    rr_tls_service ccert smtpd_tls_ask_ccert=yes \
        "smtpd_relay_restrictions=check_ccert_access,texthash:$etc/ccert,reject" || return 1
    # TLS 1.2 at most: rrelay with tls_protocols=>=TLSv1.3 fails the handshake
    rr_tls_service tls12 'smtpd_tls_protocols=<=TLSv1.2' 'smtpd_tls_mandatory_protocols=<=TLSv1.2' || return 1
    # SNI: wrong.pem by default, good.pem to clients that send SNI "localhost"
    cat "$d/server.key" "$d/good.pem" >"$etc/sni-localhost.pem"
    printf 'localhost %s\n' "$etc/sni-localhost.pem" >"$etc/sni"
    postmap -c "$etc" -F "hash:$etc/sni" || return 1
    rr_tls_service sni "smtpd_tls_cert_file=$d/wrong.pem" "tls_server_sni_maps=hash:$etc/sni" || return 1
}

# rr_tls_up_start: start instance $RR_TLS_UP and wait until every service listens
rr_tls_up_start() {
    local up=${RR_TLS_UP:-up} f
    RR_PF=$up rr_postfix_start || return 1
    for f in "$RR_T/$up"/svc/*; do
        rr_wait_listen "$(cat "$f")" 10 || return 1
    done
}

# rr_tls_up_maillog_count ERE: print how many lines of up's maillog match ERE
rr_tls_up_maillog_count() {
    RR_PF=up rr_maillog_count "$1"
}

# ---------------------------------------------------------------------------
# Running rrelay directly

# rr_tls_send QID RCPT DESTINATIONS [RRELAY-ARG...]: relay a small message as user rrelay, trusting the test CA
rr_tls_send() {
    local qid=$1 rcpt=$2 dests=$3
    shift 3
    printf 'From: s@sender.test\nTo: %s\nSubject: %s\nMessage-ID: <%s@sender.test>\n\nbody of %s\n' \
        "$rcpt" "$qid" "$qid" "$qid" >"$RR_T/msg.$qid"
    rr_rrelay -o "tls_ca_file=$RR_TLS_DIR/ca.pem" "$@" \
        -q "$qid" -f s@sender.test -n "$dests" -- "$rcpt" <"$RR_T/msg.$qid"
}

# rr_tls_file NAME MODE LINE...: write $RR_T/NAME (one LINE per line), owner rrelay, mode MODE; print its path
rr_tls_file() {
    local f=$RR_T/$1 mode=$2
    shift 2
    printf '%s\n' "$@" >"$f"
    chown "$RR_USER:" "$f"
    chmod "$mode" "$f"
    echo "$f"
}

# rr_tls_log QID: print rrelay's log lines of queue id QID
rr_tls_log() {
    grep -F -- " $1: " "$RR_T/rrelay.log" || true
}

# rr_tls_log_count QID ERE: print how many rrelay log lines of QID match ERE
rr_tls_log_count() {
    rr_tls_log "$1" | grep -cE -- "$2" || true
}

# rr_tls_host_tls DEST: print the tls column (verified/untrusted/none) of `rrelay status` for DEST
rr_tls_host_tls() {
    rr_rrelay_status | awk -v d="$1" '
        $1 == d {
            for (i = 2; i <= NF; i++) if ($i == "up" || $i == "down") break
            # state, down_until ("-" or "DATE TIME"), failures, sent, tls
            j = ($(i + 1) == "-") ? i + 4 : i + 5
            print $j
            exit
        }'
}

# ---------------------------------------------------------------------------
# What arrived

# rr_tls_arrived SINK RCPT: print how many messages for RCPT sink SINK received
rr_tls_arrived() {
    rr_sink_grep "$1" "^X-Rcpt-Args: <$2>"
}

# rr_tls_sink_at_least SINK N: true if sink SINK received at least N messages
rr_tls_sink_at_least() {
    (($(rr_sink_count "$1") >= $2))
}

# rr_tls_wait_sink SINK N [TIMEOUT]: wait until sink SINK received at least N messages
rr_tls_wait_sink() {
    rr_wait "${3:-30}" rr_tls_sink_at_least "$1" "$2"
}

# rr_tls_sessions_at_least SINK N: true if sink SINK saw at least N sessions end
rr_tls_sessions_at_least() {
    (($(rr_sink_sessions "$1") >= $2))
}

# rr_tls_received SINK RCPT: print the Received: header that up added to the message for RCPT, unfolded
rr_tls_received() {
    local f
    f=$(grep -laF -- "X-Rcpt-Args: <$2>" "$RR_T/sinks/$1/dump"/* 2>/dev/null | head -n 1)
    [[ -n $f ]] || return 1
    # headers end at the first empty line; unfold them, keep the one "by up.rrelay.test"
    awk '/^$/ { exit } /^[ \t]/ { h = h " " $0; next } { if (h != "") print h; h = $0 }
         END { if (h != "") print h }' "$f" | grep -a '^Received: .*by up\.rrelay\.test' | head -n 1
}

# ---------------------------------------------------------------------------
# The STARTTLS injection server (tests/tools/starttls_inject.c)

# rr_inject_start NAME [silent]: start starttls_inject on a free port (silent: no injection, no handshake); its log is $RR_T/inject/NAME/log
rr_inject_start() {
    local name=$1 mode=${2:-} d bin port pid
    d=$RR_T/inject/$name
    mkdir -p "$d"
    bin=$(rr_tool starttls_inject) || return 1
    port=$(rr_free_port) || return 1
    echo "$port" >"$d/port"
    "$bin" "$port" "$d/log" ${mode:+"$mode"} </dev/null >"$d/out" 2>&1 3>&- 4>&- &
    pid=$!
    rr_track_pid "$pid"
    rr_wait 10 grep -q '^listening' "$d/log" || {
        rr_err "starttls_inject $name did not start: $(cat "$d/out")"
        return 1
    }
}

# rr_inject_port NAME: print the port of injection server NAME
rr_inject_port() {
    cat "$RR_T/inject/$1/port"
}

# rr_inject_log NAME: print the event log of injection server NAME
rr_inject_log() {
    cat "$RR_T/inject/$1/log"
}
