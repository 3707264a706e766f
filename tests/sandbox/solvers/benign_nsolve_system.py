# expect: 0.7071067812 0.7071067812
from sympy import nsolve, symbols

x, y = symbols("x y")
sol = nsolve([x**2 + y**2 - 1, x - y], [x, y], [1, 0.5])
print(f"{float(sol[0]):.10f} {float(sol[1]):.10f}")
