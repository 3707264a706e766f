# expect: 24 1170 {2: 3, 3: 2, 5: 1} 28
from sympy import divisor_count, divisor_sigma, divisors, factorint

n = 360
print(
    len(divisors(n)),
    divisor_sigma(n),
    factorint(n),
    next(k for k in range(2, 100) if divisor_sigma(k) == 2 * k and k > 6),
)
print(divisor_count(2**10))
