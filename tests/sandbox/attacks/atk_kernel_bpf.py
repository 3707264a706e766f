# Aims at the kernel's eBPF verifier and JIT (a frequent source of privilege escalations): create a BPF
# map and load a trivial socket-filter program. ESCAPED when either call returns a descriptor.
import ctypes
import os
import platform
import struct

NR = {"x86_64": 321, "aarch64": 280}.get(platform.machine(), 321)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

attr = ctypes.create_string_buffer(struct.pack("<IIII", 2, 4, 4, 1), 128)  # ARRAY map, 4-byte key/value, 1 entry
fd = libc.syscall(ctypes.c_long(NR), ctypes.c_long(0), attr, ctypes.c_long(128))
if fd >= 0:
    print("ESCAPED: bpf(BPF_MAP_CREATE) returned a map")
    os.close(int(fd))
else:
    print("BPF_MAP_CREATE refused, errno", ctypes.get_errno())

insns = ctypes.create_string_buffer(struct.pack("<BBhi", 0xB7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0))
lic = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(
    struct.pack("<IIQQIIQ", 1, 2, ctypes.addressof(insns), ctypes.addressof(lic), 0, 0, 0), 128
)
fd = libc.syscall(ctypes.c_long(NR), ctypes.c_long(5), attr, ctypes.c_long(128))
if fd >= 0:
    print("ESCAPED: bpf(BPF_PROG_LOAD) loaded a program")
    os.close(int(fd))
else:
    print("BPF_PROG_LOAD refused, errno", ctypes.get_errno())
