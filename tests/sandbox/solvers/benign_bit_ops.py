# expect: 10 0b1010 0xff 3 1024 (3, 2) 6
n = 1023
print(n.bit_length(), bin(10), hex(255), bin(13).count("1"), 1 << 10, divmod(17, 5), 5 ^ 3)
subsets = [[i for i in range(3) if mask >> i & 1] for mask in range(1 << 3)]
print(len(subsets), subsets[-1], int("1010", 2), (n & (n - 1)) == 1022, -7 // 2, -7 % 2)
