# expect: Point(x=1, y=5) {'x': 1, 'y': 2} ('x', 'y') 3
from collections import namedtuple
from typing import NamedTuple

Point = namedtuple("Point", ["x", "y"])
p = Point(1, 2)


class Edge(NamedTuple):
    u: int
    v: int
    w: int = 1


e = Edge(1, 2, 3)
print(p._replace(y=5), p._asdict(), Point._fields, e.w)
print(Point._make([7, 8]), e._replace(w=9), Edge._field_defaults)
