# expect: -1/(x + 1) + 1/x
from sympy import apart, symbols, together

x = symbols("x")
print(apart(1 / (x * (x + 1))))
print(together(1 / x + 1 / (x + 1)))
