# expect: sqrt(pi) 1 pi/2
from sympy import exp, integrate, oo, symbols

x = symbols("x")
a = integrate(exp(-(x**2)), (x, -oo, oo))
b = integrate(exp(-x), (x, 0, oo))
c = integrate(1 / (1 + x**2), (x, 0, oo))
print(a, b, c)
