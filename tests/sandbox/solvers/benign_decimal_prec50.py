# expect: 1.4142135623730950488016887242096980785696718753769
from decimal import Decimal, getcontext

getcontext().prec = 50
print(Decimal(2).sqrt())
print(Decimal(1) / Decimal(7))
