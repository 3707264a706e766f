# expect: elapsed ok 1970
import time

t0 = time.time()
p0 = time.perf_counter()
total = sum(i * i for i in range(10000))
elapsed = time.perf_counter() - p0
print("elapsed ok" if elapsed >= 0 and time.time() >= t0 else "clock error", time.gmtime(0).tm_year)
print(time.strftime("%Y-%m-%d", time.gmtime(86400 * 365)), total)
