# Aims at a channel between sessions through the page cache: readahead() loads a shared read-only
# file's pages into the page cache without reading them (what another session can then time).
# ESCAPED when readahead on a shared file succeeds.
import ctypes
import os
import platform

NR = {"aarch64": 213}.get(platform.machine(), 187)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
fd = os.open(os.__file__, os.O_RDONLY)  # a file of the host's Python library, bound read-only
if libc.syscall(ctypes.c_long(NR), fd, ctypes.c_long(0), ctypes.c_size_t(1 << 16)) == 0:
    print("ESCAPED: readahead loaded a shared file's pages into the page cache")
else:
    print("readahead refused:", os.strerror(ctypes.get_errno()))
