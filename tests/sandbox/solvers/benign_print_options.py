# expect: 1, 2, 3!
import sys

print(*[1, 2, 3], sep=", ", end="!\n")
print("to stderr", file=sys.stderr)
print("a", "b", sep="")
print(f"{'left':<6}|{'right':>6}|{3.14159:.2f}", flush=True)
