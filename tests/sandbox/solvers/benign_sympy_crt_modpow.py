# expect: 23 105 719476260 True
from sympy.ntheory.modular import crt

r, m = crt([3, 5, 7], [2, 3, 2])
print(r, m, pow(2, 10**18, 10**9 + 7), pow(3, -1, 7) == 5)
