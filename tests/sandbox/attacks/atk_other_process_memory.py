# Aims at the sandbox machinery and other sessions: read (and open for writing, without writing) the
# memory of the parent and every other visible process through /proc/<pid>/mem and process_vm_readv.
# ESCAPED when another process's memory could be read or opened for writing.
import ctypes
import os
import platform

NR_READV = {"x86_64": 310, "aarch64": 270}.get(platform.machine(), 310)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class IoVec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))


def first_readable(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            addr, perms = line.split()[:2]
            if perms.startswith("r"):
                return int(addr.split("-")[0], 16)
    return None


me = os.getpid()
for pid in dict.fromkeys([os.getppid(), 1] + [int(d) for d in os.listdir("/proc") if d.isdigit()]):
    if pid in (me, 0):
        continue
    try:
        addr = first_readable(pid)
    except OSError as e:
        print("maps of", pid, "refused:", e.strerror)
        continue
    if addr is None:
        continue
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        data = os.pread(fd, 16, addr)
        os.close(fd)
        print(f"ESCAPED: read {len(data)} bytes of pid {pid}'s memory through /proc/{pid}/mem")
    except OSError as e:
        print("mem of", pid, "refused:", e.strerror)
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDWR)
        os.close(fd)
        print(f"ESCAPED: opened pid {pid}'s memory for writing")
    except OSError as e:
        print("mem of", pid, "not writable:", e.strerror)
    buf = ctypes.create_string_buffer(16)
    local, remote = IoVec(ctypes.addressof(buf), 16), IoVec(addr, 16)
    n = libc.syscall(NR_READV, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if n > 0:
        print(f"ESCAPED: process_vm_readv read {n} bytes of pid {pid}")
    else:
        print("process_vm_readv on", pid, "errno", ctypes.get_errno())
