# expect: True True True 53 True
import sys

print(
    sys.maxsize >= 2**31 - 1,
    sys.float_info.epsilon < 1e-15,
    sys.int_info.bits_per_digit in (15, 30),
    sys.float_info.mant_dig,
    sys.version_info >= (3, 8),
)
