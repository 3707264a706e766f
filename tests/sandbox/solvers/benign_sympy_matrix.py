# expect: -2 Matrix([[-2, 1], [3/2, -1/2]]) {3: 1, -1: 1}
from sympy import Matrix

M = Matrix([[1, 2], [3, 4]])
N = Matrix([[1, 2], [2, 1]])
print(M.det(), M.inv(), N.eigenvals())
print(M * M, M.T, M.rank(), Matrix.eye(2) + M)
