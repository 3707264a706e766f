# expect: 1 3 ['x', 'y', 'z'] 2
from collections import ChainMap, OrderedDict

defaults = {"x": 1, "y": 2}
overrides = {"y": 3, "z": 4}
cm = ChainMap(overrides, defaults)
lru = OrderedDict()
for key in ["a", "b", "a", "c"]:
    lru[key] = lru.get(key, 0) + 1
    lru.move_to_end(key)
    if len(lru) > 2:
        lru.popitem(last=False)
print(cm["x"], cm["y"], sorted(cm), lru["a"])
