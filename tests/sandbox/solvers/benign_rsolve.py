# expect: 2**n - 1
from sympy import Function, rsolve, symbols

n = symbols("n", integer=True)
a = Function("a")
print(rsolve(a(n + 1) - 2 * a(n) - 1, a(n), {a(0): 0}))
