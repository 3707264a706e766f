# Aims at the host: flood stdout (print, sys.stdout.write and the raw fd) with up to 2 GiB for up to
# 8 s, to exhaust the host's memory or the reader. Contained when the reply stays bounded and valid.
import os
import sys
import time

chunk = "x" * (1 << 20)
deadline = time.monotonic() + 8
sent = 0
try:
    while time.monotonic() < deadline and sent < (2 << 30):
        print(chunk)
        sys.stdout.write(chunk)
        sent += 2 << 20
        try:
            os.write(1, chunk.encode())
            sent += 1 << 20
        except OSError:
            pass
except Exception as e:
    print("stopped:", type(e).__name__, e)
