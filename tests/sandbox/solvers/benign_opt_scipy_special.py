# expect: 120.0 252.0 1.644934 0.8427
from scipy import special

print(special.gamma(6), special.comb(10, 5), f"{special.zeta(2):.6f}", f"{special.erf(1):.4f}")
