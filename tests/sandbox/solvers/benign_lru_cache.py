# expect: 280571172992510140037611932413038677189525
# ruff: noqa: UP033
import sys
from functools import lru_cache

sys.setrecursionlimit(10000)


@lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(fib(200))
print(fib.cache_info().hits > 0)
