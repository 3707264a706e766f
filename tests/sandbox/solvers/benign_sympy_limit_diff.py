# expect: 1 E 2*x*cos(x**2) oo
from sympy import diff, limit, oo, sin, symbols

x, n = symbols("x n", positive=True)
print(limit(sin(x) / x, x, 0), limit((1 + 1 / n) ** n, n, oo), diff(sin(x**2), x), limit(x**2, x, oo))
