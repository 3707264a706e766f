# expect: (x - 3)*(x - 2)*(x + 1) {3: 1, 2: 1, -1: 1} 6
from sympy import Poly, expand, factor, roots, symbols

x = symbols("x")
p = expand((x - 3) * (x - 2) * (x + 1))
print(factor(p), roots(p), Poly(p, x).eval(0))
print(Poly(p, x).all_coeffs(), Poly(p, x).degree())
