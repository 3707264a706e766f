# Aims at the sandbox machinery: write garbage into every inherited socket and pipe -- a frame header
# announcing 4 GiB, truncated JSON, invalid UTF-8, a NUL flood -- to hang or crash the reader of this
# call's reply. Contained when the host still answers with valid JSON in time.
import contextlib
import os
import stat
import struct

junk = [
    struct.pack("!I", 0xFFFFFFFF) + b"{",
    b'{"ok": tru',
    b"\xff\xfe\xfa" * 1000,
    b"\0" * 65536,
    struct.pack("!I", 16) + b"not json at all!",
]
for fd in range(3, 1024):
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        continue
    if not (stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode)):
        continue
    os.set_blocking(fd, False)
    sent = 0
    for blob in junk:
        with contextlib.suppress(OSError):
            sent += os.write(fd, blob)
    print("sent", sent, "bytes of garbage to fd", fd)
print("done")
