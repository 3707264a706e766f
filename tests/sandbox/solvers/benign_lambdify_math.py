# expect: 0.841471 1.000000
from sympy import cos, lambdify, sin, symbols

x, y = symbols("x y")
g = lambdify((x, y), sin(x) ** 2 + cos(y) ** 2, "math")
h = lambdify(x, sin(x), modules="mpmath")
print(f"{float(h(1)):.6f} {g(0.3, 0.3):.6f}")
