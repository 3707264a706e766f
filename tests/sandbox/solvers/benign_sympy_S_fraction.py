# expect: 1/2 7/12
from sympy import Rational, S

a = S("1/3") + S(1) / 6
b = Rational(1, 4) + S("1/3")
print(a, b)
