# expect: 7381/2520 355/113 3/4
from fractions import Fraction

h = sum(Fraction(1, k) for k in range(1, 11))
approx = Fraction(3.14159265358979).limit_denominator(1000)
print(h, approx, Fraction("0.75"), h.numerator % 7, float(Fraction(1, 8)))
