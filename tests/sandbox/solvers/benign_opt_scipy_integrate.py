# expect: 1.772454 0.333333 2.718282
import math

from scipy import integrate

a, _ = integrate.quad(lambda t: math.exp(-t * t), -math.inf, math.inf)
b, _ = integrate.quad(lambda t: t * t, 0, 1)
sol = integrate.solve_ivp(lambda t, y: y, (0, 1), [1.0], rtol=1e-10, atol=1e-12)
print(f"{a:.6f} {b:.6f} {sol.y[0][-1]:.6f}")
