# expect: Eq(f(x), C1*exp(x))
from sympy import Function, dsolve, symbols

x = symbols("x")
f = Function("f")
print(dsolve(f(x).diff(x) - f(x), f(x)))
print(dsolve(f(x).diff(x, 2) + f(x), f(x)))
