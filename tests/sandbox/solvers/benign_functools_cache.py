# expect: 190569292
from functools import cache


@cache
def partitions(n, k):
    """Partitions of n into parts of size at most k."""
    if n == 0:
        return 1
    if n < 0 or k == 0:
        return 0
    return partitions(n - k, k) + partitions(n, k - 1)


print(partitions(100, 100))
