# expect: x - x**3/6 + x**5/120 + O(x**6)
from sympy import cos, series, simplify, sin, symbols

x = symbols("x")
print(simplify(sin(x) ** 2 + cos(x) ** 2))
print(series(sin(x), x, 0, 6))
