# expect: [ 1.  2.  5. 10.]
import numpy as np
from sympy import lambdify, symbols

x = symbols("x")
f = lambdify(x, x**2 + 1, "numpy")
print(f(np.array([0.0, 1.0, 2.0, 3.0])))
