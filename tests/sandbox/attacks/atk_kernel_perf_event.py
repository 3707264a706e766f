# Aims at the kernel's perf subsystem (side channels, past privilege escalations): perf_event_open on
# ourselves and system-wide. ESCAPED when it returns a descriptor.
import ctypes
import os
import platform
import struct

NR = {"x86_64": 298, "aarch64": 241}.get(platform.machine(), 298)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for name, ptype, config, pid, cpu, flags in (
    ("software cpu-clock on self", 1, 0, 0, -1, 1 | (1 << 5) | (1 << 6)),
    ("hardware cycles on self", 0, 0, 0, -1, 1 | (1 << 5) | (1 << 6)),
    ("system-wide on cpu 0", 1, 0, -1, 0, 1),
    ("tracepoint-free kernel sampling", 1, 0, 0, -1, 1),
):
    attr = ctypes.create_string_buffer(struct.pack("<IIQQQQQ", ptype, 64, config, 0, 0, 0, flags), 128)
    fd = libc.syscall(
        ctypes.c_long(NR), attr, ctypes.c_long(pid), ctypes.c_long(cpu), ctypes.c_long(-1), ctypes.c_long(0)
    )
    if fd >= 0:
        print(f"ESCAPED: perf_event_open ({name}) returned a descriptor")
        os.close(int(fd))
    else:
        print(name, "refused, errno", ctypes.get_errno())
