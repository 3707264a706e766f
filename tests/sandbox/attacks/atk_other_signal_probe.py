# Aims at other sessions and the host: check which processes we could signal (kill with signal 0 and
# pidfd_send_signal, which deliver nothing). ESCAPED when a process of another uid, or a host process,
# would accept a signal from us.
import ctypes
import os
import platform

HOST_SIGNS = (b"process_api", b"systemd", b"sshd", b"bash", b"pytest", b"sandbox-boundary", b"tmux", b"start-tui")
NR = {"x86_64": (434, 424), "aarch64": (434, 424)}.get(platform.machine(), (434, 424))
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
me, my_uid = os.getpid(), os.getuid()
with open("/proc/self/cmdline", "rb") as f:
    own_cmd = f.read().replace(b"\0", b" ")  # processes forked from our own parent look like us
for d in sorted((d for d in os.listdir("/proc") if d.isdigit()), key=int):
    pid = int(d)
    if pid == me:
        continue
    try:
        with open(f"/proc/{d}/status") as f:
            uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
        with open(f"/proc/{d}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ")
    except (OSError, StopIteration):
        continue
    foreign = uid != my_uid or (cmd != own_cmd and any(s in cmd for s in HOST_SIGNS))
    try:
        os.kill(pid, 0)
        ok = True
    except OSError:
        ok = False
    pidfd = libc.syscall(NR[0], pid, 0)
    if pidfd >= 0:
        if libc.syscall(NR[1], ctypes.c_int(pidfd), 0, None, 0) == 0:
            ok = True
        os.close(int(pidfd))
    print(pid, "uid", uid, "signalable" if ok else "protected", cmd[:50])
    if ok and foreign:
        print(f"ESCAPED: could signal pid {pid} (uid {uid}, {cmd[:40]!r})")
