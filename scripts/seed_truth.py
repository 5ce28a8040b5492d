#!/usr/bin/env python3
"""Main-text quality of a library against a truth file (not a test).

usage: seed_truth.py RL_SEARCH_BIN LIBRARY TRUTH_JSON SCORER_DIR

TRUTH_JSON maps URL -> {"text", "kind"} (the web replay's corpus-truth.json); SCORER_DIR holds
the article benchmark's score.py (its 4-word shingles). Papers' truth is their abstract only,
so only recall counts for them.
"""
import json, re, subprocess, sys

bin_, lib, truth_path, scorer = sys.argv[1:5]
sys.path.insert(0, scorer)
from score import shingles  # noqa: E402

truth = json.load(open(truth_path))
docs = {}
out = subprocess.run([bin_, "--index", lib, "export"], capture_output=True, text=True).stdout
for line in out.splitlines():
    d = json.loads(line)
    docs.setdefault(d["url"], []).append(d["text"])
key = lambda u: re.sub(r"^https?://(www\.)?", "", u).rstrip("/")
R = P = n = 0
for url, t in truth.items():
    if not t["text"]:
        continue
    ours = "\n".join(x for u, xs in docs.items() for x in xs if key(u) == key(url) or key(u).split("/")[-1] == key(url).split("/")[-1])
    a, b = shingles(t["text"]), shingles(ours)
    tp = sum((a & b).values())
    r, p = tp / max(1, sum(a.values())), tp / max(1, sum(b.values()))
    if t.get("kind") in ("arxiv-abs", "github-blob-pdf"):
        p = 1.0
    R, P, n = R + r, P + p, n + 1
    if r < 0.99 or p < 0.95:
        print(f"  recall {r:.3f} precision {p:.3f} {url}")
print(f"{n} pages: recall {R/n:.3f} precision {P/n:.3f}")
