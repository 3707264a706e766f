# expect: True 25 [2, 3, 5, 7] 40 7 3 -1
from sympy import isprime, legendre_symbol, mod_inverse, primepi, primerange, primitive_root, totient

print(
    isprime(2**31 - 1),
    primepi(100),
    list(primerange(1, 10)),
    totient(100),
    mod_inverse(3, 10),
    primitive_root(7),
    legendre_symbol(2, 11),
)
