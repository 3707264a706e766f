# expect: {0, pi, 2*pi}
from sympy import Interval, pi, sin, solveset, symbols

x = symbols("x")
print(solveset(sin(x), x, Interval(0, 2 * pi)))
