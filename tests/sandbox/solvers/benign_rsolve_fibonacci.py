# expect: 832040
from sympy import Function, rsolve, simplify, symbols

n = symbols("n", integer=True)
f = Function("f")
sol = rsolve(f(n + 2) - f(n + 1) - f(n), f(n), {f(0): 0, f(1): 1})
print(simplify(sol.subs(n, 30)))
