# expect: n*(n + 1)/2 n*(n + 1)*(2*n + 1)/6 5050
from sympy import Sum, factor, symbols

k, n = symbols("k n", integer=True, positive=True)
s1 = factor(Sum(k, (k, 1, n)).doit())
s2 = factor(Sum(k**2, (k, 1, n)).doit())
print(s1, s2, s1.subs(n, 100))
