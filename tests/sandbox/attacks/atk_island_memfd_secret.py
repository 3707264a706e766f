# Aims at memory no limit counts: memfd_secret pages are counted by neither RLIMIT_AS nor
# RLIMIT_MEMLOCK, and taken out of the kernel's direct map. ESCAPED when memfd_secret gives a file.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
fd = libc.syscall(447, 0)  # memfd_secret, the same number on x86_64 and aarch64
if fd >= 0:
    print("ESCAPED: memfd_secret gave a file of secret memory")
else:
    print("memfd_secret refused:", os.strerror(ctypes.get_errno()))
