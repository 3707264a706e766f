# Aims at memory charged outside the session: F_SETPIPE_SZ (fcntl command 1031) grows a pipe's buffer,
# and pipe buffers are counted per uid (pipe-user-pages-soft), a uid user-namespace sessions share on
# the host. ESCAPED when a pipe could be made bigger than its 64 KiB default.
import fcntl
import os

F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
r, w = os.pipe()
before = fcntl.fcntl(w, F_GETPIPE_SZ)
for size in (1 << 20, 256 << 10, 128 << 10):
    try:
        got = fcntl.fcntl(w, F_SETPIPE_SZ, size)
    except OSError as e:
        print(f"F_SETPIPE_SZ {size} refused:", e.strerror)
        continue
    print("pipe size", before, "->", got)
    if got > before:
        print(f"ESCAPED: F_SETPIPE_SZ raised a pipe's buffer to {got} bytes")
    break
