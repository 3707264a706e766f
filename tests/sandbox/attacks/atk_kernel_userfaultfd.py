# Aims at the kernel: userfaultfd (the usual tool to win kernel races) through the system call and
# /dev/userfaultfd. ESCAPED when a userfaultfd descriptor is obtained.
import ctypes
import os
import platform

NR = {"x86_64": 323, "aarch64": 282}.get(platform.machine(), 323)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for name, flags in (("plain", os.O_CLOEXEC | os.O_NONBLOCK), ("user-mode-only", os.O_CLOEXEC | 1)):
    fd = libc.syscall(ctypes.c_long(NR), ctypes.c_long(flags))
    if fd >= 0:
        print(f"ESCAPED: userfaultfd ({name}) returned a descriptor")
        os.close(int(fd))
    else:
        print(name, "refused, errno", ctypes.get_errno())
try:
    fd = os.open("/dev/userfaultfd", os.O_RDWR)
    print("ESCAPED: opened /dev/userfaultfd")
    os.close(fd)
except OSError as e:
    print("/dev/userfaultfd:", e.strerror)
