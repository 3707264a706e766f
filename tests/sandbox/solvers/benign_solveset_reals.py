# expect: Interval.open(-2, 2)
from sympy import S, solveset, symbols

x = symbols("x", real=True)
print(solveset(x**2 - 4 < 0, x, S.Reals))
