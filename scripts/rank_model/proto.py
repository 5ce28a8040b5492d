import gzip, json, math, os, pickle
from collections import Counter, defaultdict
import snowballstemmer
ST = snowballstemmer.stemmer('english')
# The BEIR SciFact folder, and where parsed data is cached between runs.
B = os.environ.get('SCIFACT', 'scifact')
CACHE = os.environ.get('RANK_MODEL_CACHE', '/tmp/rank_model')
os.makedirs(CACHE, exist_ok=True)
STOP = "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with".split()
_cache = {}
def stem(w):
    s = _cache.get(w)
    if s is None:
        s = _cache[w] = ST.stemWord(w)
    return s
def raw_tokens(s):
    out = []; cur = []
    for ch in s:
        if ch.isalnum(): cur.append(ch)
        else:
            if cur: out.append(''.join(cur)); cur = []
    if cur: out.append(''.join(cur))
    return [t for t in out if len(t.encode()) < 40]
def analyze(s, stemf=None):
    stemf = stemf or (lambda t: stem(t.lower()))
    return [stemf(t) for t in raw_tokens(s)]
STOPSTEM = set(analyze(' '.join(STOP)))

def load():
    pk = os.path.join(CACHE, 'data.pkl')
    if os.path.exists(pk): return pickle.load(open(pk, 'rb'))
    docs = [json.loads(l) for l in gzip.open(B + '/corpus.jsonl.gz', 'rt')]
    queries = {json.loads(l)['_id']: json.loads(l)['text'] for l in open(B + '/queries.jsonl')}
    qrels = {}
    for split in ['train', 'test']:
        q = defaultdict(dict)
        for l in list(open(f'{B}/qrels/{split}.tsv'))[1:]:
            a, d, s = l.split('\t'); q[a][d] = int(s)
        qrels[split] = dict(q)
    data = (docs, queries, qrels)
    pickle.dump(data, open(pk, 'wb'))
    return data

def ndcg10(ranked, rel):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0
def evaluate(runs, qrels):
    n = len(qrels); nd = 0; rc = 0
    for q, rel in qrels.items():
        r = runs.get(q, [])
        nd += ndcg10(r, rel)
        relv = {d for d, g in rel.items() if g > 0}
        rc += len([d for d in r[:100] if d in relv]) / len(rel)
    return nd / n, rc / n
