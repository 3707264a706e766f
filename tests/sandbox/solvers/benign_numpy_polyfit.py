# expect: [2. 3. 1.] [-2. -1.]
import numpy as np

xs = np.array([0.0, 1.0, 2.0, 3.0])
ys = 2 * xs**2 + 3 * xs + 1
coef = np.polyfit(xs, ys, 2)
roots = np.sort(np.roots([1.0, 3.0, 2.0]).real)
print(np.round(coef, 8) + 0.0, np.round(roots, 8) + 0.0, np.polyval([1, 0, -1], 3))
