#!/usr/bin/env python3
"""Whole-process search latency, as a user runs it: each binary answers each query N times,
interleaved (binary by binary, query by query) so that a busy machine slows them alike.

usage: cli-latency.py LIBRARY BIN[,BIN...] ["query one,query two,..."] [N]
prints p50 and p90 per binary and query, and the p50 over all queries.
"""
import statistics, subprocess, sys, time

if len(sys.argv) < 3:
    sys.exit(__doc__)
library, bins = sys.argv[1], sys.argv[2].split(",")
queries = (sys.argv[3] if len(sys.argv) > 3 else "scaling laws,attention,kv cache,hallucination").split(",")
n = int(sys.argv[4]) if len(sys.argv) > 4 else 60
times = {(b, q): [] for b in bins for q in queries}
for _ in range(n):
    for q in queries:
        for b in bins:
            t = time.perf_counter()
            subprocess.run([b, "--index", library, *q.split()], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            times[(b, q)].append((time.perf_counter() - t) * 1000)
for q in queries:
    for b in bins:
        v = sorted(times[(b, q)])
        print(f"{b:28s} {q:24s} p50 {statistics.median(v):6.2f} ms  p90 {v[int(len(v) * .9)]:6.2f} ms")
for b in bins:
    allv = [t for q in queries for t in times[(b, q)]]
    print(f"{b:28s} {'all queries':24s} p50 {statistics.median(allv):6.2f} ms")
