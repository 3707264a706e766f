# expect: 45 (3, 4) True
import numpy as np

rng = np.random.default_rng(12345)
perm = rng.permutation(10)
m = rng.random((3, 4))
np.random.seed(0)
u = np.random.rand(5)
print(int(perm.sum()), m.shape, bool(((u >= 0) & (u < 1)).all()))
