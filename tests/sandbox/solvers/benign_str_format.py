# expect: 3.1416 |   42| 007 1,234,567 0x1f 50.00% a-b
# ruff: noqa: UP032
x = 3.14159265
print("{:.4f} |{:>5}| {:03d} {:,} {:#x} {:.2%} {}-{}".format(x, 42, 7, 1234567, 31, 0.5, "a", "b"))
print("{0} {1} {0}".format("p", "q"), "{name}={value}".format(name="n", value=5))
print("{:e}".format(12345.678), "{:>8.3f}".format(2.5), f"{x:.2f}", format(255, "b"))
print("{a[0]} {b.real}".format_map({"a": [9], "b": 2}))
