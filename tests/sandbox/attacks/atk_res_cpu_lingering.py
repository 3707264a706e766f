# Aims at the host's CPU after the call: children that keep burning CPU for 25 s after the code returns
# (not waited for). Contained when they die with the call.
import os
import time

end = time.monotonic() + 25
for _ in range(2):
    try:
        if os.fork() == 0:
            x = 0
            while time.monotonic() < end:
                for _ in range(100000):
                    x += 1
            os._exit(0)
    except OSError as e:
        print("fork refused:", e.strerror)
print("returning with busy children")
