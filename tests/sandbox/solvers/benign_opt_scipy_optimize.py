# expect: min at 1.0000 1.0000 root 0.739085
import math

from scipy import optimize


def rosen(p):
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


res = optimize.minimize(rosen, [-1.0, 2.0], method="BFGS", tol=1e-10)
root = optimize.brentq(lambda t: math.cos(t) - t, 0, 1)
print(f"min at {res.x[0]:.4f} {res.x[1]:.4f} root {root:.6f}")
