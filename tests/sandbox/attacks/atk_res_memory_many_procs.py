# Aims at the host's memory: a per-process memory limit does not cap a session that forks -- 12 children
# each touch 768 MiB and hold it for a few seconds. ESCAPED when more than 4 GiB (twice the session
# limit) was held at once. Children exit by themselves within 8 s.
import contextlib
import os
import select
import time

SIZE = 768 << 20
deadline = time.monotonic() + 7
r, w = os.pipe()
kids = []
for _ in range(12):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork refused:", e.strerror)
        break
    if pid == 0:
        try:
            os.close(r)
            block = bytearray(SIZE)
            block[::4096] = b"\1" * (SIZE // 4096)
            os.write(w, b"+")
            while time.monotonic() < deadline:
                time.sleep(0.2)
        except BaseException:
            pass
        os._exit(0)
    kids.append(pid)
os.close(w)
held = 0
while time.monotonic() < deadline - 1.5 and held < len(kids):
    ready, _, _ = select.select([r], [], [], 0.5)
    if ready:
        chunk = os.read(r, 64)
        if not chunk:
            break
        held += len(chunk)
total = held * SIZE
print("children holding 768 MiB each:", held, "of", len(kids))
if total > (4 << 30):
    print(f"ESCAPED: the session held {total >> 20} MiB at once")
for pid in kids:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
