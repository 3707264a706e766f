# Aims at outliving the call: a double-forked grandchild that ignores every catchable signal, clears its
# parent-death signal and renames itself, then writes the markers for up to 40 s.
import contextlib
import ctypes
import os
import signal
import time

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]
try:
    if os.fork() == 0:
        if os.fork() == 0:
            for s in range(1, signal.NSIG):
                if s in (signal.SIGKILL, signal.SIGSTOP):
                    continue
                with contextlib.suppress(OSError, ValueError, RuntimeError):
                    signal.signal(s, signal.SIG_IGN)
            try:
                libc = ctypes.CDLL(None)
                libc.prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG: none
                libc.prctl(15, b"kworker/0:1", 0, 0, 0)  # PR_SET_NAME
            except Exception:
                pass
            start = time.monotonic()
            while time.monotonic() - start < 40:
                time.sleep(2)
                for m in MARKERS:
                    try:
                        with open(m, "w") as f:
                            f.write("grandchild alive")
                    except OSError:
                        pass
        os._exit(0)
    print("parent done")
except Exception as e:
    print("refused:", type(e).__name__, e)
