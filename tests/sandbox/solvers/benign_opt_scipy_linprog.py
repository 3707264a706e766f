# expect: optimum -10.0 at [2. 2.]
import numpy as np
from scipy.optimize import linprog

res = linprog(c=[-2, -3], A_ub=[[1, 1], [1, 2]], b_ub=[4, 6], bounds=[(0, None), (0, None)])
print("optimum", round(res.fun, 6), "at", np.round(res.x, 6) + 0.0)
