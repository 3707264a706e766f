# expect: 42 3.142 abc-00007 ff 1.50e+03
n = 42
print("%d %.3f %s-%05d %x %.2e" % (n, 3.14159, "abc", 7, 255, 1500.0))  # noqa: UP031
print("%(a)s/%(b)s" % {"a": 1, "b": 2}, "%5.1f%%" % 12.345)  # noqa: UP031
