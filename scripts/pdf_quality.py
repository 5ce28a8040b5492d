#!/usr/bin/env python3
"""PDF text quality of rl-search on a folder of PDFs (not a test: needs pdftotext and pypdf).

usage: pdf_quality.py RL_SEARCH_BIN PDF_DIR

For each PDF: word agreement with pdftotext (multiset recall and precision of \\w+ words) and
the headings `extract --json` finds against the PDF's own bookmarks (its real section list),
counted in order.
"""
import collections, glob, json, re, subprocess, sys

import pypdf

bin_, pdf_dir = sys.argv[1], sys.argv[2]
words = lambda t: collections.Counter(w.lower() for w in re.findall(r"\w+", t))
norm = lambda s: re.sub(r"\W+", " ", s.lower()).strip()


def bookmarks(items, out):
    for it in items:
        if isinstance(it, list):
            bookmarks(it, out)
        else:
            out.append(it.title.strip())
    return out


recalls, precisions, found_total, truth_total = [], [], 0, 0
for f in sorted(glob.glob(f"{pdf_dir}/**/*.pdf", recursive=True)):
    ref = subprocess.run(["pdftotext", f, "-"], capture_output=True, text=True).stdout
    doc = json.loads(subprocess.run([bin_, "extract", "--json", f], capture_output=True, text=True).stdout)
    a, b = words(ref), words(doc["text"])
    common = sum((a & b).values())
    r, p = common / max(1, sum(a.values())), common / max(1, sum(b.values()))
    recalls.append(r)
    precisions.append(p)
    try:
        truth = [norm(re.sub(r"^[A-Z0-9]+(\.[0-9]+)*\.?\s+", "", t)) for t in bookmarks(pypdf.PdfReader(f).outline, [])]
    except Exception:
        truth = []
    ours = [norm(h["title"]) for h in doc["outline"]]
    found, pos = 0, 0
    for t in filter(None, truth):
        if t in ours[pos:]:
            pos = ours.index(t, pos) + 1
            found += 1
    found_total += found
    truth_total += len([t for t in truth if t])
    print(f"{f.split('/')[-1][:48]:48s} words recall {r:.3f} precision {p:.3f}  headings {len(ours):3d}, bookmarks found {found}/{len([t for t in truth if t])}")
n = max(1, len(recalls))
print(f"mean word recall {sum(recalls)/n:.3f} precision {sum(precisions)/n:.3f}; bookmarked sections found in order {found_total}/{truth_total}")
