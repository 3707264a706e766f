# Aims at the kernel's namespace code past a filter on unshare(): raw clone (syscall 56 on x86_64) and
# clone3 with CLONE_NEWUSER / CLONE_NEWPID / CLONE_NEWNS. The child exits at once. ESCAPED when a clone
# with a namespace flag created a child.
import ctypes
import os
import platform
import struct

NR = {"x86_64": (56, 435), "aarch64": (220, 435)}.get(platform.machine())
SIGCHLD = 17
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
if NR is None:
    print("unknown architecture")
else:
    for name, flags in (
        ("NEWUSER", 0x10000000),
        ("NEWUSER|NEWPID", 0x30000000),
        ("NEWNS", 0x20000),
        ("NEWNET", 0x40000000),
        ("NEWUSER|NEWNS|NEWPID|NEWNET", 0x70020000),
    ):
        # no new stack: the child runs on a copy of ours, like fork, and exits at once
        r = libc.syscall(
            ctypes.c_long(NR[0]),
            ctypes.c_long(flags | SIGCHLD),
            ctypes.c_long(0),
            ctypes.c_long(0),
            ctypes.c_long(0),
            ctypes.c_long(0),
        )
        if r == 0:
            os._exit(0)
        err = ctypes.get_errno()
        if r > 0:
            os.waitpid(int(r), 0)
            print(f"ESCAPED: clone(CLONE_{name}) created child {r}")
        else:
            print(f"clone(CLONE_{name}) refused, errno {err}")
        args = ctypes.create_string_buffer(struct.pack("<11Q", flags, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0))
        r = libc.syscall(ctypes.c_long(NR[1]), args, ctypes.c_long(88))
        if r == 0:
            os._exit(0)
        err = ctypes.get_errno()
        if r > 0:
            os.waitpid(int(r), 0)
            print(f"ESCAPED: clone3(CLONE_{name}) created child {r}")
        else:
            print(f"clone3(CLONE_{name}) refused, errno {err}")
