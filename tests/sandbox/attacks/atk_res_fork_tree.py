# Aims at the host's process table: a fork tree (each process forks two children, ten levels deep)
# instead of a loop, so a per-loop guard misses it. ESCAPED when more than 256 processes existed at
# once. Every process exits within 6 s.
import os
import time

deadline = time.monotonic() + 5
r, w = os.pipe()
root = os.getpid()
for _ in range(10):
    made = 0
    for _ in range(2):
        try:
            if os.fork() == 0:
                os.write(w, b"+")
                made = -1
                break
            made += 1
        except OSError:
            break
    if made != -1:
        break
if os.getpid() != root:
    while time.monotonic() < deadline:
        time.sleep(0.2)
    os._exit(0)
os.close(w)
time.sleep(2)
count = 0
os.set_blocking(r, False)
try:
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        count += len(chunk)
except BlockingIOError:
    pass
print("processes created:", count)
if count > 256:
    print(f"ESCAPED: {count} processes existed at once")
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
