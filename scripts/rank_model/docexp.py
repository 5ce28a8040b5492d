import numpy as np, scipy.sparse as sp, math, sys, pickle, os
from rank import *
from index import build
idx = build()
N = idx['N']; T, Bd = idx['title'], idx['body']
vocab = {}
rows, cols, vals = [], [], []
for d in range(N):
    c = Bd.tf[d] + T.tf[d]
    for w, f in c.items():
        j = vocab.setdefault(w, len(vocab))
        rows.append(d); cols.append(j); vals.append(f)
TF = sp.csr_matrix((vals, (rows, cols)), shape=(N, len(vocab)), dtype=np.float64)
TFc = TF.tocsc()
df = np.asarray((TF > 0).sum(0)).ravel()
idfv = np.log(1 + (N - df + .5) / (df + .5))
lens = np.asarray(TF.sum(1)).ravel()
def cosine(X):
    nrm = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel())
    return sp.diags(1 / np.maximum(nrm, 1e-9)) @ X
X = TF.copy(); X.data = 1 + np.log(X.data); X = cosine(X @ sp.diags(idfv))
S = (X @ X.T).toarray(); np.fill_diagonal(S, 0)
ORDER = np.argsort(-S, axis=1)[:, :20]
docs, queries, qrels = load()
QS = {s: [(qid, qterms(queries[qid])) for qid in qrels[s]] for s in ('train', 'test')}
CANDS = {s: {qid: first_stage(idx, q, P) for qid, q in QS[s]} for s in ('train', 'test')}

def experiment(k, alpha, credit, norm=True, split='train', p=P, minsim=0.0, S=S, ORDER=ORDER, ret=False):
    nb = ORDER[:, :k]
    def extra_tf(d, j):
        s = 0.0; z = 0.0
        for n in nb[d]:
            w = S[d, n]
            if w < minsim: continue
            z += w
            s += w * TFc[n, j] / lens[n]
        if norm: s = s / max(z, 1e-9)
        return alpha * s * lens[d]
    runs = {}
    for qid, q in QS[split]:
        terms = list(q.items())
        idfs = [idf(N, Bd.df.get(t, 0)) for t, _ in terms]
        js = [vocab.get(t) for t, _ in terms]
        total = sum(idfs) or 1e-6
        out = []
        for d, s1 in CANDS[split][qid]:
            score = 0; have = 0
            bn = 1 - p['b'] + p['b'] * Bd.len[d] / Bd.avg
            for (t, c), i, j in zip(terms, idfs, js):
                x = Bd.tf[d].get(t, 0) / bn
                x += 2 * T.tf[d].get(t, 0) / (1 - p['b_title'] + p['b_title'] * T.len[d] / T.avg)
                own = x > 0
                e = extra_tf(d, j) / bn if j is not None else 0
                x += e
                if x > 0:
                    score += c * i * x * (p['k1'] + 1) / (x + p['k1'])
                    have += i if own else i * credit(e)
            coord = (have / total) ** p['coord']
            pos = [Bd.pos[d].get(t, []) for t, _ in terms]
            final = score * coord + p['prox'] * proximity(terms, pos, p['window'], idfs)
            out.append((d, final))
        out.sort(key=lambda x: -x[1])
        runs[qid] = [idx['ids'][d] for d, _ in out]
    r = evaluate(runs, qrels[split])
    return (r, runs) if ret else r
