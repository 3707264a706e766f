# Aims at what the host and other sessions read: the page cache of the files shared read-only with the
# sandbox tells which pages someone has read. Probe it with preadv2(RWF_NOWAIT) (data only if cached),
# mincore on a mapping of the file, and look for other holders' locks with F_GETLK / F_OFD_GETLK.
# ESCAPED when any probe answers.
import ctypes
import fcntl
import os
import struct

fd = os.open(os.__file__, os.O_RDONLY)  # a file of the host's Python library, bound read-only
try:
    os.preadv(fd, [bytearray(4096)], 0, os.RWF_NOWAIT)
    print("ESCAPED: preadv2(RWF_NOWAIT) answered from the page cache")
except BlockingIOError:
    print("ESCAPED: preadv2(RWF_NOWAIT) told an uncached page (EAGAIN)")
except OSError as e:
    print("preadv2 refused:", e.strerror)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
page = libc.mmap(None, 4096, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
vec = (ctypes.c_ubyte * 1)()
if page is None or page == ctypes.c_void_p(-1).value:
    print("mmap refused:", os.strerror(ctypes.get_errno()))
elif libc.mincore(page, 4096, vec) == 0:
    print("ESCAPED: mincore told whether a shared page is cached:", vec[0] & 1)
else:
    print("mincore refused:", os.strerror(ctypes.get_errno()))
for name, cmd in (("F_GETLK", 5), ("F_OFD_GETLK", 36)):
    try:
        fcntl.fcntl(fd, cmd, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0) + b"\0" * 4)
        print(f"ESCAPED: {name} looked at the locks of a shared file")
    except OSError as e:
        print(name, "refused:", e.strerror)
