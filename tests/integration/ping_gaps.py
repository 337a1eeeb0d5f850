#!/usr/bin/env python3
"""Reads ping's output on stdin and prints the longest run of replies
missing in a row (by icmp_seq, up to the number ping says it sent), how
many were sent and answered. Exits 1 when that run is longer than MAX
(argument, default 1) or nothing was answered."""
import re
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 1
text = sys.stdin.read()
seqs = sorted({int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+) ttl=", text)})
m = re.search(r"(\d+) packets transmitted", text)
sent = int(m.group(1)) if m else (seqs[-1] if seqs else 0)
worst, prev = 0, 0
for s in seqs + [sent + 1]:
    worst = max(worst, s - prev - 1)
    prev = s
print(f"{len(seqs)} of {sent} pings answered, longest run missed in a row: {worst}")
sys.exit(1 if worst > limit or not seqs else 0)
