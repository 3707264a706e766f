# expect: 517691607 354224848179261915075
MOD = 10**9 + 7


def mat_mul(a, b, mod=None):
    n = len(a)
    out = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                out[i][j] += a[i][k] * b[k][j]
            if mod:
                out[i][j] %= mod
    return out


def mat_pow(m, e, mod=None):
    result = [[1, 0], [0, 1]]
    while e:
        if e & 1:
            result = mat_mul(result, m, mod)
        m = mat_mul(m, m, mod)
        e >>= 1
    return result


print(mat_pow([[1, 1], [1, 0]], 1000, MOD)[0][1], mat_pow([[1, 1], [1, 0]], 100)[0][1])
