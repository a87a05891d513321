#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# memscan.py PID TEXT: print how many times TEXT occurs in the writable memory of process PID (as root)
import re
import sys

pid, text = sys.argv[1], sys.argv[2].encode()
count = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if not m or m.group(3)[:2] != "rw":
            continue
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        try:
            mem.seek(start)
            count += mem.read(end - start).count(text)
        except (OSError, ValueError, OverflowError):
            continue
print(count)
