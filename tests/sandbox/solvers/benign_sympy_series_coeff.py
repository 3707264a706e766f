# expect: 1/120 1/24 [1, 1, 1/2, 1/6]
from sympy import exp, series, sin, symbols

x = symbols("x")
s = series(sin(x), x, 0, 8).removeO()
e = series(exp(x), x, 0, 5).removeO()
print(s.coeff(x, 5), e.coeff(x, 4), [e.coeff(x, k) for k in range(4)])
