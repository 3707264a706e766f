# expect: (x + 1)**2
import sympy

expr = sympy.sympify("x**2 + 2*x + 1")
print(sympy.factor(expr))
