# expect: 2.67 2.66 3 0.1 True
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

a = Decimal("2.665").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
b = Decimal("2.665").quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
with localcontext() as ctx:
    ctx.prec = 1
    c = Decimal(2) + Decimal("0.7")
print(a, b, c, Decimal("0.3") - Decimal("0.2"), Decimal("0.1") + Decimal("0.2") == Decimal("0.3"))
