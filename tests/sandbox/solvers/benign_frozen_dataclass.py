# expect: 3 True P(x=1, y=2)
from dataclasses import dataclass


@dataclass(frozen=True)
class P:
    x: int
    y: int

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


a = P(1, 2)
print(a.norm1(), a == P(1, 2), a)
print(len({a, P(1, 2), P(2, 1)}))
