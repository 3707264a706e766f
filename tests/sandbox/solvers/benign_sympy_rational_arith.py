# expect: 1/6 184756 3 5/2 7
from sympy import Rational, binomial, ceiling, floor, sqrt

print(Rational(1, 2) - Rational(1, 3), binomial(20, 10), floor(sqrt(10)), Rational(5, 2), ceiling(Rational(13, 2)))
