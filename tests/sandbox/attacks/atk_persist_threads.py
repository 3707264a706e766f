# Aims at later calls: threads (threading, _thread, a timer) that keep running after the code returns
# and write the markers for 15 s. Contained when they end with the call.
import _thread
import threading
import time

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]


def linger(tag):
    start = time.monotonic()
    time.sleep(1.5)
    while time.monotonic() - start < 15:
        for m in MARKERS:
            try:
                with open(m, "w") as f:
                    f.write(tag)
            except OSError:
                pass
        time.sleep(1)


for how, start in (
    ("threading", lambda: threading.Thread(target=linger, args=("thread",)).start()),
    ("daemon thread", lambda: threading.Thread(target=linger, args=("daemon",), daemon=True).start()),
    ("_thread", lambda: _thread.start_new_thread(linger, ("raw thread",))),
    ("Timer", lambda: threading.Timer(0.5, linger, args=("timer",)).start()),
):
    try:
        start()
        print("started", how)
    except Exception as e:
        print(how, "refused:", type(e).__name__, e)
print("returning while threads run")
