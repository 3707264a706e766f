# Aims at a channel between sessions (and to the host) through futexes: a futex without the private
# flag on a page of a shared file (a library's text, a read-only bind) is keyed by the file and offset,
# so a FUTEX_WAKE in one session wakes a FUTEX_WAIT on the same page in another.
# ESCAPED when a shared wait or wake on a page of a shared file is accepted.
import ctypes
import errno
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
FUTEX = 202 if platform.machine() == "x86_64" else 98
fd = os.open(os.path.realpath(os.__file__), os.O_RDONLY)
for name, flags in (("MAP_SHARED", 1), ("MAP_PRIVATE", 2)):
    addr = libc.mmap(None, 4096, 1, flags, fd, 0)
    word = ctypes.c_uint32.from_address(addr).value
    woke = libc.syscall(FUTEX, ctypes.c_void_p(addr), 1, 1, 0, 0, 0)  # FUTEX_WAKE, no private flag
    print(name, "wake:", woke if woke >= 0 else os.strerror(ctypes.get_errno()))
    if woke >= 0:
        print(f"ESCAPED: a shared FUTEX_WAKE on a {name} page of a shared file was accepted")

    class timespec(ctypes.Structure):
        _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]

    waited = libc.syscall(FUTEX, ctypes.c_void_p(addr), 0, word, ctypes.byref(timespec(0, 1000)), 0, 0)
    err = ctypes.get_errno()
    print(name, "wait:", waited, os.strerror(err) if waited < 0 else "")
    if waited == 0 or err == errno.ETIMEDOUT:
        print(f"ESCAPED: a shared FUTEX_WAIT on a {name} page of a shared file was accepted")
for nr, what in ((449, "futex_waitv"), (454, "futex_wake"), (455, "futex_wait")):
    r = libc.syscall(nr, 0, 0, 0, 0, 0, 0)
    if r >= 0 or ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS):
        print(f"ESCAPED: {what} answered ({r}, {os.strerror(ctypes.get_errno())})")
