# expect: 1.2020569031595942854
from sympy import Sum, oo, symbols

k = symbols("k", integer=True, positive=True)
print(Sum(1 / k**3, (k, 1, oo)).evalf(20))
