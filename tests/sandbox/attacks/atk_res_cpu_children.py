# Aims at the host's CPU past the call's CPU limit: four children burn CPU in parallel for 7 s while the
# parent watches their CPU time. ESCAPED when they used more than 10 CPU seconds within the call.
# The children stop by themselves after 8 s.
import contextlib
import os
import time

ticks = os.sysconf("SC_CLK_TCK")
end = time.monotonic() + 8
kids = []
for _ in range(4):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork refused:", e.strerror)
        break
    if pid == 0:
        x = 0
        while time.monotonic() < end:
            for _ in range(100000):
                x += 1
        os._exit(0)
    kids.append(pid)
time.sleep(7)
used = 0.0
for pid in kids:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        pass
print(f"children used {used:.1f} CPU seconds in 7 s")
if used > 10:
    print(f"ESCAPED: children used {used:.1f} CPU seconds, past the call's 10 s limit")
for pid in kids:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
