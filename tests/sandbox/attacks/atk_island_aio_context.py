# Aims at a host-wide kernel resource: Linux AIO contexts (io_setup) are counted against one host-wide
# limit (fs/aio-max-nr), not per session or user, so one session can use them all up for everyone.
# ESCAPED when io_setup returns a context; then also tries io_submit of one read and io_getevents.
import ctypes
import os
import platform
import struct

NR = {"aarch64": (0, 1, 2, 4)}.get(platform.machine(), (206, 207, 209, 208))  # setup destroy submit getevents
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ctx = ctypes.c_ulong(0)
if libc.syscall(ctypes.c_long(NR[0]), ctypes.c_long(128), ctypes.byref(ctx)) != 0:
    print("io_setup refused:", os.strerror(ctypes.get_errno()))
    raise SystemExit
print("ESCAPED: io_setup returned an AIO context (counted against the host-wide aio-max-nr)")
fd = os.open(os.__file__, os.O_RDONLY)
buf = ctypes.create_string_buffer(4096)
# struct iocb: data, key+rw_flags, opcode (IOCB_CMD_PREAD 0), reqprio, fildes, buf, nbytes, offset, ...
fields = (7, 0, 0, 0, 0, fd, ctypes.addressof(buf), 4096, 0, 0, 0, 0)
iocb = ctypes.create_string_buffer(struct.pack("QIiHhIQQqQII", *fields))
ptrs = (ctypes.c_void_p * 1)(ctypes.addressof(iocb))
n = libc.syscall(ctypes.c_long(NR[2]), ctx, ctypes.c_long(1), ptrs)
print("io_submit:", n if n >= 0 else os.strerror(ctypes.get_errno()))
if n == 1:
    events = ctypes.create_string_buffer(32)
    got = libc.syscall(ctypes.c_long(NR[3]), ctx, ctypes.c_long(1), ctypes.c_long(1), events, None)
    print("io_getevents:", got, "result", struct.unpack("QQqq", events.raw)[2] if got == 1 else None)
print("io_destroy:", libc.syscall(ctypes.c_long(NR[1]), ctx))
