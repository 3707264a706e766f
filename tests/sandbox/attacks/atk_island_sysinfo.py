# Aims at host-wide figures: sysinfo() reports the host's free and shared memory, process count and
# load, which leak the host's state and carry a channel between sessions (one writes files into its
# /tmp, another watches shared memory). ESCAPED when sysinfo answers.
import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
r = libc.syscall(99 if platform.machine() == "x86_64" else 179, buf)
if r == 0:
    print("ESCAPED: sysinfo answered with the host's figures")
else:
    print("sysinfo refused:", os.strerror(ctypes.get_errno()))
