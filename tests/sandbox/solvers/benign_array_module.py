# expect: 55 array('i', [1, 4, 9]) 8
from array import array

a = array("i", range(1, 11))
sq = array("i", [v * v for v in a[:3]])
d = array("d", [0.5, 0.25])
print(sum(a), sq, d.itemsize)
