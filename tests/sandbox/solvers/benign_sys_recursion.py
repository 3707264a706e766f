# expect: depth 20000
import sys

sys.setrecursionlimit(50000)


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


print("depth", depth(20000))
