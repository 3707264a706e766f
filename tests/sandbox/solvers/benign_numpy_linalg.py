# expect: [1. 2. 3.] -2.0 [1. 3.]
import numpy as np

A = np.array([[2.0, 1.0, -1.0], [-3.0, -1.0, 2.0], [-2.0, 1.0, 2.0]])
b = np.array([1.0, 1.0, 6.0])
x = np.linalg.solve(A, b)
print(
    np.round(x, 10) + 0.0,
    round(float(np.linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 10),
    np.round(np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]])), 10),
)
print(np.allclose(A @ x, b), np.linalg.matrix_rank(A), np.round(np.linalg.inv([[4.0, 7.0], [2.0, 6.0]]), 2))
