#!/bin/sh
# SPDX-License-Identifier: MIT
# rrelay - the administrative commands of the rrelay transport, on PATH.
#
# usage: rrelay status [--json] [-c FILE] [-o NAME=VALUE]...
#        rrelay check-destinations DESTINATIONS
#
# The transport itself stays where pipe(8) runs it (master.cf's argv=,
# the package's /usr/lib/rrelay/rrelay), off PATH; this front end runs
# only its administrative commands, so that "rrelay status" works as the
# README types it. make install and the package rewrite the next line.
transport=/usr/local/libexec/rrelay/rrelay

case ${1:-} in
    status | check-destinations) exec "$transport" "$@" ;;
    *)
        echo "usage: rrelay status [--json] [-c FILE] [-o NAME=VALUE]..." >&2
        echo "       rrelay check-destinations DESTINATIONS" >&2
        echo "(the transport itself is $transport, run by Postfix's pipe(8))" >&2
        exit 2 ;;
esac
