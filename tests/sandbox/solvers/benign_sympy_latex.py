# expect: \frac{x^{2}}{2}
from sympy import integrate, latex, symbols

x = symbols("x")
print(latex(integrate(x, x)))
print(latex(x**3 / 3 + 1))
