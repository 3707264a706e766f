# Aims at the host: flood stderr (sys.stderr, the raw fd, warnings) with up to 2 GiB for up to 8 s.
# Contained when the host stays responsive and the reply valid.
import os
import sys
import time
import warnings

chunk = "e" * (1 << 20)
deadline = time.monotonic() + 8
sent = 0
try:
    while time.monotonic() < deadline and sent < (2 << 30):
        sys.stderr.write(chunk)
        sent += 1 << 20
        try:
            os.write(2, chunk.encode())
            sent += 1 << 20
        except OSError:
            pass
        warnings.warn(chunk[:1000], stacklevel=1)
except Exception as e:
    print("stopped:", type(e).__name__, e)
print("done")
