# expect: 252 6 60 31 3628800 True 3.0
import math

print(
    math.comb(10, 5),
    math.gcd(12, 18),
    math.lcm(12, 15, 20),
    math.isqrt(1000),
    math.prod(range(1, 11)),
    math.isclose(math.sin(math.pi), 0.0, abs_tol=1e-12),
    math.log10(1000),
)
print(math.floor(-2.5), math.ceil(2.1), math.perm(5, 2), math.factorial(10) // math.factorial(8), math.inf > 10**100)
