# expect: [0, 1, 1, 2, 3, 5, 8, 13, 21, 34] [1, 2, 3, 4] 285 [2, 3, 5, 7, 11]
import itertools


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def flatten(xs):
    for x in xs:
        if isinstance(x, list):
            yield from flatten(x)
        else:
            yield x


def primes():
    n = 2
    while True:
        if all(n % p for p in range(2, int(n**0.5) + 1)):
            yield n
        n += 1


print(
    list(itertools.islice(fib(), 10)),
    list(flatten([1, [2, [3, 4]]])),
    sum(i * i for i in range(10)),
    list(itertools.islice(primes(), 5)),
)
