# Aims at the kernel: io_uring (its own path around seccomp for file and socket operations, many past
# bugs). ESCAPED when io_uring_setup returns a ring.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
fd = libc.syscall(ctypes.c_long(425), ctypes.c_long(8), params)
if fd >= 0:
    print("ESCAPED: io_uring_setup returned a ring")
    os.close(int(fd))
else:
    print("io_uring_setup refused, errno", ctypes.get_errno())
