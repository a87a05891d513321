#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""suite2txt - the RFC 7208 test suite as lines that a C test reads.

Usage: suite2txt.py SUITE.yml[.gz]

Reads the openspf.org RFC 7208 test suite (Debian's python3-spf ships it as
/usr/share/doc/python3-spf/rfc7208-tests.yml.gz) and writes, for each test
case, its zone data as the suite's own driver (pyspf's testspf.py) serves it:

  C <TAB> name <TAB> spec <TAB> host <TAB> hex(helo) <TAB> hex(mailfrom)
    <TAB> result[,result...] <TAB> hex(explanation) or "-"
  Z <TAB> hex(owner) <TAB> TYPE <TAB> data      one record of the case's zone
  E                                            end of the case

TYPE is A, AAAA, MX (data "PREF hex(host)"), PTR and CNAME (data hex(name)),
TXT (data: the record's strings, each hex, joined with ","; "-" when it has
none) or TIMEOUT (no data: a lookup of that owner fails temporarily unless a
record of the asked type stands before it). As in testspf.py, an "SPF"
record doubles as a TXT record when its owner has no TXT record of its own,
and "TXT: NONE" means no TXT record. Exits 2 with a message when the suite
can't be read.
"""
import gzip
import sys

try:
    import yaml
except ImportError:
    sys.exit("suite2txt: python3-yaml is not installed")


def hx(text):
    """Text as hex of its UTF-8 bytes, as testspf.py encodes it."""
    return text.encode('utf-8').hex()


def txt_data(strings):
    return ','.join(hx(s) for s in strings) if strings else '-'


def zone_lines(zonedata):
    """Yield (owner, TYPE, data) for one scenario's zone."""
    for owner, records in zonedata.items():
        own_txt = any(isinstance(r, dict) and 'TXT' in r for r in records)
        spf_as_txt = []
        for rec in records:
            if rec == 'TIMEOUT':
                yield owner, 'TIMEOUT', ''
                continue
            for rtype, value in rec.items():
                if rtype in ('TXT', 'SPF') and isinstance(value, str):
                    value = [value]
                if rtype == 'SPF':
                    if not own_txt:
                        spf_as_txt.append(value)
                elif rtype == 'TXT':
                    if value != ['NONE']:
                        yield owner, 'TXT', txt_data(value)
                elif rtype == 'MX':
                    yield owner, 'MX', '%d %s' % (value[0], hx(value[1]))
                elif rtype in ('PTR', 'CNAME'):
                    yield owner, rtype, hx(value)
                elif rtype in ('A', 'AAAA'):
                    yield owner, rtype, value
                else:
                    sys.exit('suite2txt: unknown record type %s' % rtype)
        for value in spf_as_txt:
            yield owner, 'TXT', txt_data(value)


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: suite2txt.py SUITE.yml[.gz]')
    path = sys.argv[1]
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rt', encoding='utf-8') as f:
            scenarios = list(yaml.safe_load_all(f))
    except OSError as e:
        print('suite2txt: cannot read the RFC 7208 suite: %s' % e,
              file=sys.stderr)
        sys.exit(2)
    out = sys.stdout
    for sc in scenarios:
        zone = list(zone_lines(sc.get('zonedata') or {}))
        for name, t in sc['tests'].items():
            res = t['result'] if isinstance(t['result'], list) else [t['result']]
            exp = hx(t['explanation']) if 'explanation' in t else '-'
            out.write('C\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' % (
                name, str(t.get('spec', '')).replace('\t', ' '), t['host'],
                hx(t.get('helo', '')), hx(t.get('mailfrom', '')),
                ','.join(res), exp))
            for owner, rtype, data in zone:
                out.write('Z\t%s\t%s\t%s\n' % (hx(owner), rtype, data))
            out.write('E\n')


main()
