import math, sys
from collections import Counter, defaultdict
from proto import *
from index import build

def idf(N, df): return math.log(1 + (N - df + .5) / (df + .5))

P = dict(k1=3.0, b=.75, b_title=.75, rr_title=1.0, coord=.5, prox=.3, window=8, depth=100,
         w_title=.25, w_link=.25, fs_k1=1.2, fs_b=.75)

def qterms(text, stemf=None):
    ts = analyze(text, stemf)
    kept = [t for t in ts if t not in STOPSTEM] or ts
    return Counter(kept)

def first_stage(idx, q, p):
    N = idx['N']; sc = defaultdict(float)
    for f, w in (('title', p['w_title'] + p['w_link']), ('body', 1.0)):
        F = idx[f]
        for t, c in q.items():
            df = F.df.get(t, 0)
            if not df: continue
            i = idf(N, df)
            for d, tf in F.post[t]:
                norm = 1 - p['fs_b'] + p['fs_b'] * F.len[d] / F.avg
                sc[d] += c * w * i * tf * (p['fs_k1'] + 1) / (tf + p['fs_k1'] * norm)
    return sorted(sc.items(), key=lambda x: -x[1])[:p['depth']]

def proximity(terms, positions, window, idfs):
    allp = sorted((pp, t) for t, ps in enumerate(positions) for pp in ps)
    acc = defaultdict(float)
    for i, (pp, t) in enumerate(allp):
        for qq, u in allp[i + 1:]:
            d = qq - pp
            if d > window: break
            if u != t and d > 0:
                acc[(min(t, u), max(t, u))] += 1 / (d * d)
    return sum(min(idfs[a], idfs[b]) * s / (1 + s) for (a, b), s in acc.items())

def rerank(idx, q, cands, p, extra=None):
    N = idx['N']; T, Bd = idx['title'], idx['body']
    terms = list(q.items())
    idfs = [idf(N, Bd.df.get(t, 0)) for t, _ in terms]
    total = sum(idfs) or 1e-6
    out = []
    for d, s1 in cands:
        score = 0; have = 0
        for (t, c), i in zip(terms, idfs):
            x = Bd.tf[d].get(t, 0) / (1 - p['b'] + p['b'] * Bd.len[d] / Bd.avg)
            x += 2 * p['rr_title'] * T.tf[d].get(t, 0) / (1 - p['b_title'] + p['b_title'] * T.len[d] / T.avg)
            if x > 0:
                score += c * i * x * (p['k1'] + 1) / (x + p['k1'])
                have += i
        coord = (have / total) ** p['coord']
        pos = [Bd.pos[d].get(t, []) for t, _ in terms]
        prox = proximity(terms, pos, p['window'], idfs) if p['prox'] else 0
        final = score * coord + p['prox'] * prox
        if extra: final = extra(d, final, s1, q)
        out.append((d, final))
    out.sort(key=lambda x: -x[1])
    return out

def run(split='train', p=P, idx=None, stemf=None, extra=None, qfilter=None):
    docs, queries, qrels = load()
    idx = idx or build()
    runs = {}
    for qid in qrels[split]:
        q = qterms(queries[qid], stemf)
        if qfilter: q = qfilter(q, idx)
        c = first_stage(idx, q, p)
        r = rerank(idx, q, c, p, extra)
        runs[qid] = [idx['ids'][d] for d, _ in r]
    return evaluate(runs, qrels[split]), runs

if __name__ == '__main__':
    import time; t = time.time()
    print(run('train')[0], time.time() - t)
