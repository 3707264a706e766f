# expect: {'A': 0, 'B': 3, 'C': 1, 'D': 4, 'E': 7} [1, 2, 3]
import heapq

graph = {"A": [("B", 4), ("C", 1)], "B": [("D", 1)], "C": [("B", 2), ("D", 5)], "D": [("E", 3)], "E": []}
dist = {"A": 0}
pq = [(0, "A")]
while pq:
    d, u = heapq.heappop(pq)
    if d > dist.get(u, float("inf")):
        continue
    for v, w in graph[u]:
        nd = d + w
        if nd < dist.get(v, float("inf")):
            dist[v] = nd
            heapq.heappush(pq, (nd, v))
print(dict(sorted(dist.items())), heapq.nsmallest(3, [5, 1, 4, 2, 3]))
