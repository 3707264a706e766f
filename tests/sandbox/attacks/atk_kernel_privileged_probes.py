# Aims at host privileges: system calls whose privilege check comes before any effect, called so that a
# privileged caller changes nothing -- iopl/ioperm, delete_module of a missing module, swapoff of a
# missing file, settimeofday(NULL, NULL), nice(-1). ESCAPED when one passes its privilege check.
import ctypes
import os
import platform

x86 = platform.machine() == "x86_64"
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def call(nr, *args):
    rc = libc.syscall(ctypes.c_long(nr), *args)
    return rc, ctypes.get_errno()


probes = []
if x86:
    probes += [
        ("iopl(3)", (172, ctypes.c_long(3)), (0,)),
        ("ioperm(0x80)", (173, ctypes.c_long(0x80), ctypes.c_long(1), ctypes.c_long(1)), (0,)),
    ]
nr = {"x86_64": (176, 168, 164), "aarch64": (106, 225, 170)}.get(platform.machine(), (176, 168, 164))
probes += [
    ("delete_module(missing)", (nr[0], b"start_tui_escape_marker", ctypes.c_long(os.O_NONBLOCK)), (0, 2)),
    ("swapoff(missing)", (nr[1], b"/start_tui_escape_marker"), (0, 2)),
    ("settimeofday(NULL, NULL)", (nr[2], None, None), (0,)),
]
for name, args, success in probes:
    rc, err = call(*args)
    passed = rc == 0 or (rc != 0 and err in success and err != 0)
    print(name, "->", rc, "errno", err)
    if passed:
        print(f"ESCAPED: {name} passed its privilege check")
try:
    before = os.nice(0)
    after = os.nice(-1)
    if after < before:
        print("ESCAPED: nice(-1) raised our priority (CAP_SYS_NICE)")
except OSError as e:
    print("nice(-1):", e.strerror)
