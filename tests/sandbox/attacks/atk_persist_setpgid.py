# Aims at outliving the call: leave the call's process group (setpgid, setpgrp) so that a kill of the
# group misses the child, which writes the markers for up to 40 s.
import contextlib
import os
import time

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]
try:
    pid = os.fork()
    if pid == 0:
        for how in (lambda: os.setpgid(0, 0), os.setpgrp):
            try:
                how()
                break
            except OSError as e:
                os.write(1, f"own process group refused: {e.strerror}\n".encode())
        start = time.monotonic()
        while time.monotonic() - start < 40:
            time.sleep(2)
            for m in MARKERS:
                try:
                    with open(m, "w") as f:
                        f.write("own group alive")
                except OSError:
                    pass
        os._exit(0)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    print("parent done")
except Exception as e:
    print("refused:", type(e).__name__, e)
