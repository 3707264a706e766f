# expect: {'a': 1,
from pprint import pformat, pprint

data = {"a": 1, "b": list(range(30)), "c": {"nested": True, "values": [1.5, 2.5]}}
pprint(data, width=40)
print(pformat({"z": 1, "y": 2}))
