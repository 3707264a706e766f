# Aims at outliving the call: become a child subreaper (prctl PR_SET_CHILD_SUBREAPER) in a forked child
# so that orphans stay with us rather than with the sandbox's init, then orphan a grandchild that writes
# the markers for up to 40 s.
import contextlib
import ctypes
import os
import time

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]
try:
    libc = ctypes.CDLL(None, use_errno=True)
    if os.fork() == 0:
        r = libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        os.write(1, f"subreaper: {r} errno {ctypes.get_errno()}\n".encode())
        libc.prctl(1, 0, 0, 0, 0)
        if os.fork() == 0:
            if os.fork() == 0:
                libc.prctl(1, 0, 0, 0, 0)
                start = time.monotonic()
                while time.monotonic() - start < 40:
                    time.sleep(2)
                    for m in MARKERS:
                        try:
                            with open(m, "w") as f:
                                f.write("orphan alive")
                        except OSError:
                            pass
            os._exit(0)
        start = time.monotonic()
        while time.monotonic() - start < 40:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(-1, os.WNOHANG)
            time.sleep(1)
        os._exit(0)
    print("parent done")
except Exception as e:
    print("refused:", type(e).__name__, e)
