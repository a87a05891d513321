#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# memscan.py PID TEXT: print how many times TEXT occurs in the writable memory of process PID (as root)
#
# Regions are read in chunks (with an overlap, so a match across two chunks
# counts once), and a region over 1 GiB is passed over: under the
# AddressSanitizer build those are its shadow memory, terabytes of
# reserved address space, never the heap the text would be in.
import re
import sys

CHUNK = 16 << 20
REGION_MAX = 1 << 30

pid, text = sys.argv[1], sys.argv[2].encode()
count = 0


def scan(mem, start, end):
    """How many times text occurs in [start, end) of mem."""
    found, pos, tail = 0, start, b""
    while pos < end:
        mem.seek(pos)
        data = tail + mem.read(min(CHUNK, end - pos))
        found += data.count(text)
        # the last len(text) - 1 bytes go on: a match across the seam
        # (too short to hold a whole one, so nothing counts twice)
        tail = data[-(len(text) - 1):] if len(text) > 1 else b""
        pos += CHUNK
    return found


with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if not m or m.group(3)[:2] != "rw":
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        if end - start > REGION_MAX:
            continue
        try:
            count += scan(mem, start, end)
        except (OSError, ValueError, OverflowError):
            continue
print(count)
