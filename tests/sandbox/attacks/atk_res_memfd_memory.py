# Aims at the host's memory outside the address-space limit: memory-backed files (memfd) hold pages
# without any mapping. Fill up to 400 memfds of 16 MiB (under the file-size limit) for up to 7 s.
# ESCAPED when more than 4 GiB was held at once; all are closed again.
import os
import time

CHUNK = b"\1" * (16 << 20)
fds, held = [], 0
deadline = time.monotonic() + 7
try:
    for i in range(400):
        if time.monotonic() > deadline:
            break
        fd = os.memfd_create(f"start_tui_fill{i}")
        fds.append(fd)
        os.write(fd, CHUNK)
        held += len(CHUNK)
except Exception as e:
    print("stopped:", type(e).__name__, e)
print("held", held >> 20, "MiB in", len(fds), "memfds")
if held > (4 << 30):
    print(f"ESCAPED: held {held >> 20} MiB in memory-backed files")
for fd in fds:
    os.close(fd)
