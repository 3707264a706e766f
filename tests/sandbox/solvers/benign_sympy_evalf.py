# expect: 3.14159265358979323846264338328 2.7182818284590452354
from sympy import E, N, pi, sqrt

print(N(pi, 30), E.evalf(20))
print(sqrt(2).evalf(50))
