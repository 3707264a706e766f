# expect: [('a', 5), ('b', 2)] 3 [3, 1, 2] deque([2, 3, 4], maxlen=3)
from collections import Counter, OrderedDict, defaultdict, deque

c = Counter("abracadabra")
groups = defaultdict(list)
for w in ["ant", "bee", "ape", "bat", "cow"]:
    groups[w[0]].append(w)
counts = defaultdict(int)
for ch in "hello":
    counts[ch] += 1
dq = deque([1, 2])
dq.appendleft(3)
window = deque(maxlen=3)
for v in [1, 2, 3, 4]:
    window.append(v)
od = OrderedDict(a=1, b=2)
od.move_to_end("a")
print(c.most_common(2), len(groups), list(dq), window)
print(counts["l"], dict(groups), list(od), c["z"])
