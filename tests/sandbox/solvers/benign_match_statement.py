# expect: origin x-axis(3) point(1,2) pair circle r=2 other
from dataclasses import dataclass


@dataclass
class Circle:
    r: float


def describe(obj):
    match obj:
        case (0, 0):
            return "origin"
        case (x, 0):
            return f"x-axis({x})"
        case (x, y):
            return f"point({x},{y})"
        case {"kind": "pair", **rest} if rest:
            return "pair"
        case Circle(r=r):
            return f"circle r={r}"
        case _:
            return "other"


print(*(describe(o) for o in [(0, 0), (3, 0), (1, 2), {"kind": "pair", "v": 1}, Circle(2), "x"]))
