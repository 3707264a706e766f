# expect: {"a": [1, 2], "b": {"c": null}} True 3
import json

data = {"a": [1, 2], "b": {"c": None}}
text = json.dumps(data, sort_keys=True)
back = json.loads(text)
print(text, back == data, len(json.loads("[1, 2, 3]")))
print(json.dumps({"x": 1.5}, indent=2))
