# expect: (11-2j) 5.0 (3-4j) True
z = 3 + 4j
w = 1 - 2j
print(z * w + 0j, abs(z), z.conjugate(), (z**2).imag == 24.0)
print(complex("1+2j") + 1, z.real, divmod(17, 5))
