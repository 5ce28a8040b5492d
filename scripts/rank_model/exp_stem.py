from rank import *
from index import build
import re
def acronym(t):
    # an all-caps word (2+ letters, digits allowed) is a name: lower-case it, don't stem it
    if sum(c.isupper() for c in t) >= 2 and not any(c.islower() for c in t):
        return t.lower()
    return stem(t.lower())
def sstem(t):
    w = t.lower()
    if len(w) > 3 and w.endswith('ies') and not w.endswith(('eies','aies')): return w[:-3]+'y'
    if len(w) > 3 and w.endswith('es') and not w.endswith(('aes','ees','oes')): return w[:-1]
    if len(w) > 3 and w.endswith('s') and not w.endswith(('us','ss')): return w[:-1]
    return w
def none(t): return t.lower()
for name, f in [('acronym', acronym), ('sstem', sstem), ('none', none)]:
    idx = build(f, name)
    print(name, run('train', idx=idx, stemf=f)[0], flush=True)
