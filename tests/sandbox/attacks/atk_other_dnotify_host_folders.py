# Aims at a side channel to the host and other sessions: watch the folders the sandbox shares read-only
# with the host (the interpreter's library, the allowed packages) for accesses and changes, with
# dnotify (fcntl F_NOTIFY) and inotify. ESCAPED when a watch is set on any of them.
import ctypes
import fcntl
import os
import signal
import sys

F_NOTIFY, DN_ACCESS, DN_MODIFY, DN_MULTISHOT = 1026, 0x1, 0x2, 0x80000000
folders = {os.path.dirname(os.__file__), sys.prefix, "/usr/lib", "/"}
for name in ("sympy", "numpy"):
    try:
        folders.add(os.path.dirname(__import__(name).__file__))
    except Exception as e:
        print(name, "not importable:", e)
signal.signal(signal.SIGIO, lambda *_: None)
for folder in sorted(folders):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as e:
        print(folder, e.strerror)
        continue
    try:
        fcntl.fcntl(fd, F_NOTIFY, DN_ACCESS | DN_MODIFY | DN_MULTISHOT)
        print(f"ESCAPED: dnotify watches {folder}")
    except OSError as e:
        print("F_NOTIFY on", folder, "refused:", e.strerror)
    os.close(fd)
libc = ctypes.CDLL(None, use_errno=True)
for call, args in (("inotify_init1", (0,)), ("inotify_init", ())):
    fd = getattr(libc, call)(*args)
    if fd >= 0:
        wd = libc.inotify_add_watch(fd, os.path.dirname(os.__file__).encode(), 0xFFF)
        print(f"ESCAPED: {call} gave fd {fd}" + (f" and a watch on the library ({wd})" if wd >= 0 else ""))
    else:
        print(call, "refused:", os.strerror(ctypes.get_errno()))
