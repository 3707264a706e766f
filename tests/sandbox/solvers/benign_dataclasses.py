# expect: [Item(cost=1, name='b', tags=[]), Item(cost=3, name='a', tags=['x'])] {'cost': 3, 'name': 'a', 'tags': ['x']}
from dataclasses import asdict, dataclass, field, replace


@dataclass(order=True)
class Item:
    cost: int
    name: str = "?"
    tags: list = field(default_factory=list, compare=False)


items = [Item(3, "a", ["x"]), Item(1, "b")]
items.sort()
print(items, asdict(items[1]))
print(replace(items[0], cost=5))
