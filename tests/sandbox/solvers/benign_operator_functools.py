# expect: 3628800 [('b', 1), ('c', 2), ('a', 3)] 8 15
import operator
from functools import partial, reduce

pairs = [("a", 3), ("b", 1), ("c", 2)]
power_of_two = partial(pow, 2)
print(
    reduce(operator.mul, range(1, 11)),
    sorted(pairs, key=operator.itemgetter(1)),
    power_of_two(3),
    reduce(lambda acc, v: acc + v, [1, 2, 3, 4, 5], 0),
)
print(list(map(operator.neg, [1, 2])), operator.attrgetter("real")(3 + 4j))
