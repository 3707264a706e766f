# expect: 5050 [ 1  3  6 10 15] int64 [0 1 1 2 3 5 8] 12586269025
import numpy as np

a = np.arange(1, 101, dtype=np.int64)
fib = np.zeros(7, dtype=np.int64)
fib[1] = 1
for i in range(2, 7):
    fib[i] = fib[i - 1] + fib[i - 2]
M = np.array([[1, 1], [1, 0]], dtype=np.int64)
P = np.linalg.matrix_power(M, 50)
print(int(a.sum()), np.cumsum(a[:5]), a.dtype, fib, int(P[0, 1]))
grid = np.zeros((3, 3), dtype=int)
grid[1, :] += 2
grid[:, 2] *= 5
print(grid.tolist(), int((a % 7 == 0).sum()), np.bincount([1, 1, 3]).tolist())
