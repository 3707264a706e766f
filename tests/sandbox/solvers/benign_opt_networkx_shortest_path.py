# expect: ['A', 'C', 'B', 'D'] 4
import networkx as nx

G = nx.DiGraph()
G.add_weighted_edges_from([("A", "B", 4), ("A", "C", 1), ("C", "B", 2), ("B", "D", 1), ("C", "D", 5)])
print(nx.shortest_path(G, "A", "D", weight="weight"), nx.shortest_path_length(G, "A", "D", weight="weight"))
