# Aims at outliving the call: fork a lingering child only at interpreter shutdown (atexit, a finalizer,
# an object's __del__), after the reply has been sent. The child writes the markers for up to 40 s.
import atexit
import os
import time
import weakref

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]


def spawn_late(tag):
    try:
        if os.fork() == 0:
            start = time.monotonic()
            while time.monotonic() - start < 40:
                time.sleep(2)
                for m in MARKERS:
                    try:
                        with open(m, "w") as f:
                            f.write(tag)
                    except OSError:
                        pass
            os._exit(0)
    except Exception:
        pass


class Late:
    def __del__(self):
        spawn_late("__del__")


keep = Late()
try:
    atexit.register(spawn_late, "atexit")
    weakref.finalize(keep, spawn_late, "finalize")
    os.register_at_fork(after_in_parent=lambda: None)
    print("registered shutdown hooks")
except Exception as e:
    print("refused:", type(e).__name__, e)
