# Builds per-field statistics for a tokenisation; cached by name.
import pickle, os, math
from collections import Counter, defaultdict
from proto import *

class Field:
    def __init__(self, toks_per_doc, positions=False):
        self.tf = [Counter(t) for t in toks_per_doc]
        self.len = [len(t) for t in toks_per_doc]
        self.avg = sum(self.len) / len(self.len)
        self.df = Counter()
        self.post = defaultdict(list)
        for i, c in enumerate(self.tf):
            for w, f in c.items():
                self.df[w] += 1; self.post[w].append((i, f))
        self.pos = None
        if positions:
            self.pos = []
            for t in toks_per_doc:
                p = defaultdict(list)
                for i, w in enumerate(t): p[w].append(i)
                self.pos.append(p)

def build(stemf=None, name='default'):
    pk = os.path.join(CACHE, f'index-{name}.pkl')
    if os.path.exists(pk): return pickle.load(open(pk, 'rb'))
    docs, queries, qrels = load()
    ids = [d['_id'] for d in docs]
    title = Field([analyze(d['title'], stemf) for d in docs])
    body = Field([analyze(d['text'], stemf) for d in docs], positions=True)
    idx = dict(ids=ids, title=title, body=body, N=len(docs))
    pickle.dump(idx, open(pk, 'wb'))
    return idx
