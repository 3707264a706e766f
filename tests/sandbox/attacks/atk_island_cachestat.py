# Aims at what the host and other sessions read: cachestat (syscall 451, Linux 6.5) counts a file's
# cached, dirty and evicted pages, the receiving half of a page-cache channel between sessions.
# ESCAPED when cachestat answers, for a shared read-only file or for a file of our own (the call is
# open; newer kernels refuse it on files we may not write, older ones answer for any file).
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rng = (ctypes.c_uint64 * 2)(0, 0)  # struct cachestat_range: offset, length (0: to the end)
out = (ctypes.c_uint64 * 5)()  # cache, dirty, writeback, evicted, recently_evicted
with open("own_file", "wb") as f:
    f.write(b"x" * 4096)
for name, path in (("a shared file", os.__file__), ("a file of our own", "own_file")):
    fd = os.open(path, os.O_RDONLY)
    if libc.syscall(ctypes.c_long(451), fd, rng, out, ctypes.c_uint(0)) == 0:
        print(f"ESCAPED: cachestat answered for {name}: cached pages", out[0], "evicted", out[3])
    else:
        print(f"cachestat on {name} refused:", os.strerror(ctypes.get_errno()))
    os.close(fd)
os.unlink("own_file")
