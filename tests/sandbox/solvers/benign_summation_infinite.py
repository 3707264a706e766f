# expect: pi**2/6 2 E
from sympy import factorial, oo, summation, symbols

n = symbols("n", integer=True, positive=True)
print(
    summation(1 / n**2, (n, 1, oo)),
    summation(1 / 2 ** (n - 1), (n, 1, oo)),
    summation(1 / factorial(n - 1), (n, 1, oo)),
)
