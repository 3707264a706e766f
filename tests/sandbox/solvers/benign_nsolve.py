# expect: 2.0945514815
from sympy import nsolve, symbols

x = symbols("x")
root = nsolve(x**3 - 2 * x - 5, x, 2)
print(f"{float(root):.10f}")
