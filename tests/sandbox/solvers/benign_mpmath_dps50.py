# expect: 3.1415926535897932384626433832795028841971693993751
from mpmath import mp, mpf, sqrt

mp.dps = 50
print(mp.pi)
print(sqrt(mpf(2)))
