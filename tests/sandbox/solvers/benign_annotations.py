# expect: 14 {1: [2, 3]} (2, 'b')
# ruff: noqa: UP006, UP035, UP045
from typing import Dict, List, Optional, Tuple

total: int = 0
graph: Dict[int, List[int]] = {}
best: Optional[Tuple[int, str]] = None


def add(a: int, b: int = 2) -> int:
    return a + b


for v in [2, 3]:
    graph.setdefault(1, []).append(v)
total += add(10) + add(1, 1)
pairs: list[tuple[int, str]] = [(1, "a"), (2, "b")]
best = max(pairs)
print(total, graph, best)
