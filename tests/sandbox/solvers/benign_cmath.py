# expect: (-1+2j) (-1-2j) (-1+0j) 2.23606797749979
import cmath

a, b, c = 1, 2, 5
disc = cmath.sqrt(b * b - 4 * a * c)
r1, r2 = (-b + disc) / (2 * a), (-b - disc) / (2 * a)
e = cmath.exp(1j * cmath.pi)
print(r1, r2, complex(round(e.real), round(e.imag, 12)), abs(1 + 2j))
print(cmath.phase(1j), cmath.polar(1 + 1j)[0], (1 + 2j) * (3 - 1j))
