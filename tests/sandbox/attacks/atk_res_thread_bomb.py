# Aims at the host's process table: start up to 4000 threads with small stacks that all wait on one
# event. ESCAPED when more than 1024 run at once. All threads end within 10 s.
import threading
import time

threading.stack_size(64 * 1024)
stop = threading.Event()
started = 0
t0 = time.monotonic()
threads = []
try:
    for _ in range(4000):
        if time.monotonic() - t0 > 6:
            break
        t = threading.Thread(target=stop.wait, args=(10,), daemon=True)
        t.start()
        threads.append(t)
        started += 1
except Exception as e:
    print("stopped:", type(e).__name__, e)
alive = sum(t.is_alive() for t in threads)
print("threads started:", started, "alive:", alive)
if alive > 1024:
    print(f"ESCAPED: {alive} threads ran at once")
stop.set()
for t in threads:
    t.join(timeout=0.01)
