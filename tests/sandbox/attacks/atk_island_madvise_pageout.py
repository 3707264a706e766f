# Aims at a channel between sessions through the page cache: madvise MADV_PAGEOUT (21) and MADV_COLD
# (20) on a mapping of a shared read-only file push its pages out (or to the front of reclaim).
# ESCAPED when either is accepted. MADV_WILLNEED (3, readahead through a mapping) is only reported.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
fd = os.open(os.__file__, os.O_RDONLY)  # a file of the host's Python library, bound read-only
size = 4096
addr = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
if addr is None or addr == ctypes.c_void_p(-1).value:
    print("mmap refused:", os.strerror(ctypes.get_errno()))
    raise SystemExit
ctypes.string_at(addr, 1)  # fault the page in
for name, advice in (("MADV_PAGEOUT", 21), ("MADV_COLD", 20), ("MADV_WILLNEED", 3)):
    if libc.madvise(addr, size, advice) == 0:
        print(f"{'ESCAPED: ' if advice != 3 else ''}madvise({name}) accepted on a shared file's mapping")
    else:
        print(f"madvise({name}) refused:", os.strerror(ctypes.get_errno()))
