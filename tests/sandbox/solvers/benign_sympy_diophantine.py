# expect: (3, 2) {(t_0, 2 - t_0)}
from sympy import symbols
from sympy.solvers.diophantine import diophantine
from sympy.solvers.diophantine.diophantine import diop_DN

x, y = symbols("x y", integer=True)
print(diop_DN(2, 1)[0], diophantine(x + y - 2))
