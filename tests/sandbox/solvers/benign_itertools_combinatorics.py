# expect: 120 720 56 36 (0, 1, 2) [('a', 1), ('a', 2)] 15
import itertools

print(
    len(list(itertools.combinations(range(10), 3))),
    len(list(itertools.permutations(range(6)))),
    len(list(itertools.combinations_with_replacement(range(6), 3))),
    len(list(itertools.product(range(6), repeat=2))),
    next(itertools.permutations(range(3))),
    list(itertools.islice(itertools.product("a", [1, 2, 3]), 2)),
    list(itertools.accumulate([1, 2, 3, 4, 5]))[-1],
)
print(list(itertools.chain.from_iterable([[1], [2, 3]])), [k for k, _ in itertools.groupby("aabbbc")])
