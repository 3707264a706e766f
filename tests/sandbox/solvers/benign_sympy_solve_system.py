# expect: {x: 2, y: 1} [(-1, -2), (2, 1)]
from sympy import Eq, solve, symbols

x, y = symbols("x y")
print(solve([Eq(x + y, 3), Eq(x - y, 1)], [x, y]), sorted(solve([x - y - 1, x * y - 2], [x, y])))
