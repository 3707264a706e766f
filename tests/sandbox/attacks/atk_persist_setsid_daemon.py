# Aims at outliving the call: classic daemon (fork, setsid, fork), which after 3 s writes the escape
# markers every 2 s for up to 40 s. Contained when it dies with the call; the checker sees survivors.
import os
import time

MARKERS = [d + "/start_tui_escape_marker" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/run/shm")]
try:
    if os.fork() == 0:
        try:
            os.setsid()
        except OSError as e:
            os.write(1, f"setsid refused: {e.strerror}\n".encode())
        if os.fork() == 0:
            start = time.monotonic()
            time.sleep(3)
            while time.monotonic() - start < 40:
                for m in MARKERS:
                    try:
                        with open(m, "w") as f:
                            f.write("daemon alive")
                    except OSError:
                        pass
                time.sleep(2)
        os._exit(0)
    print("parent done")
except Exception as e:
    print("refused:", type(e).__name__, e)
