# expect: 1 True n**2 None
from sympy import simplify, sqrt, symbols

n = symbols("n", integer=True, positive=True)
print(simplify((-1) ** (2 * n)), (n + 1).is_positive, simplify(sqrt(n**4)), (n - 5).is_positive)
