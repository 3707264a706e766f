# expect: 2*x*y + 3 x**2 + 2*x
from sympy.parsing.sympy_parser import implicit_multiplication_application, parse_expr, standard_transformations

t = (*standard_transformations, implicit_multiplication_application)
print(parse_expr("2 x y + 3", transformations=t), parse_expr("x**2 + 2*x"))
