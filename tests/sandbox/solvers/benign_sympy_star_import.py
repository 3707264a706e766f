# expect: [-1, 1] 6 x**2*exp(x)
# ruff: noqa: F403, F405
from sympy import *

x = symbols("x")
print(sorted(solve(x**2 - 1, x)), factorial(3), simplify(diff(x**2 * exp(x), x) - 2 * x * exp(x)))
