# expect: answer=42
import sys

sys.stdout.write("answer=")
sys.stdout.write(str(6 * 7) + "\n")
sys.stdout.flush()
print("done", file=sys.stdout)
