# expect: sin(2*x) cos(2*x) 1/2
from sympy import cos, pi, sin, symbols, trigsimp

x = symbols("x")
print(trigsimp(2 * sin(x) * cos(x)), trigsimp(cos(x) ** 2 - sin(x) ** 2), sin(pi / 6))
