# expect: 9 [[1, 1, 1], [1, 2, 3], [1, 3, 6]] 6
weights, values, cap = [1, 3, 4, 5], [1, 4, 5, 7], 7
dp = [[0] * (cap + 1) for _ in range(len(weights) + 1)]
for i in range(1, len(weights) + 1):
    for w in range(cap + 1):
        dp[i][w] = dp[i - 1][w]
        if weights[i - 1] <= w:
            dp[i][w] = max(dp[i][w], dp[i - 1][w - weights[i - 1]] + values[i - 1])
paths = [[1] * 3 for _ in range(3)]
for r in range(1, 3):
    for c in range(1, 3):
        paths[r][c] = 0
        paths[r][c] += paths[r - 1][c] + paths[r][c - 1]
memo = {}


def coin_ways(n, coins=(1, 2, 5)):
    if n == 0:
        return 1
    ways = [0] * (n + 1)
    ways[0] = 1
    for c in coins:
        for v in range(c, n + 1):
            ways[v] += ways[v - c]
    memo[n] = ways[n]
    return ways[n]


print(dp[-1][-1], paths, coin_ways(7))
