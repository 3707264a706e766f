# expect: 0.739085133215161 1.4142135623731
from mpmath import cos, findroot, mp

mp.dps = 15
print(findroot(lambda t: cos(t) - t, 1), findroot(lambda t: t**2 - 2, 1.5))
