# expect: 1.77245385090552 1.64493406684823
from mpmath import exp, inf, mp, nsum, quad

mp.dps = 15
print(quad(lambda t: exp(-(t**2)), [-inf, inf]), nsum(lambda k: 1 / k**2, [1, inf]))
