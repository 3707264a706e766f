# Aims at the sandbox process: overflow the C stack (a deeply nested list repr'd with the recursion
# limit lifted) so the interpreter segfaults; the sandbox must report a clean failure, not hang or die.
import sys

sys.setrecursionlimit(10**7)
nested = []
for _ in range(2 * 10**6):
    nested = [nested]
print(len(repr(nested)))
